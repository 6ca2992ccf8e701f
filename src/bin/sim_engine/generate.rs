//! One simulated request: wait for a free sequence slot, "prefill" for `--ttft-ms`, then emit
//! filler tokens at `--tokens-per-second`, counting everything the real engines count.
//! A client that goes away mid-stream makes the request finish as `abort`, as in vLLM.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::state::Sim;

const WORDS: &[&str] = &[
    "the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "GPUs", "hum",
    "softly", "in", "racks", "of", "light",
];

/// The sim's tokenizer: one token per whitespace-separated word (at least one per prompt), so a
/// client can send an exact number of prompt tokens.
pub fn count_tokens(text: &str) -> u64 {
    (text.split_whitespace().count() as u64).max(1)
}

pub struct GenRequest {
    pub prompt: String,
    pub prompt_tokens: u64,
    pub max_tokens: u64,
    /// Finish reason when `max_tokens` is reached: `length` when the client set a limit,
    /// `stop` when the sim chose the length (a model ending its answer on its own).
    pub finish_reason: &'static str,
}

pub enum GenEvent {
    Token(String),
    Done { finish_reason: &'static str, prompt_tokens: u64, completion_tokens: u64 },
}

pub fn start(sim: Arc<Sim>, request: GenRequest) -> mpsc::Receiver<GenEvent> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(run(sim, request, tx));
    rx
}

async fn run(sim: Arc<Sim>, request: GenRequest, tx: mpsc::Sender<GenEvent>) {
    let arrival = Instant::now();
    let index = sim.pick_rank();
    {
        let mut rank = sim.rank(index);
        rank.waiting += 1;
        rank.requests += 1;
    }
    let slots = sim.slots(index);
    let permit = slots.acquire_owned().await;
    let scheduled = Instant::now();
    {
        let mut rank = sim.rank(index);
        rank.waiting -= 1;
        rank.running += 1;
        rank.kv_tokens += request.prompt_tokens;
        rank.queue.observe(scheduled.duration_since(arrival).as_secs_f64());
    }
    tokio::time::sleep(sim.args.ttft).await;
    let hit = sim.prompt_seen_before(&request.prompt);
    {
        let mut rank = sim.rank(index);
        rank.prompt_tokens += request.prompt_tokens;
        rank.prefix_queries += request.prompt_tokens;
        if hit {
            rank.prefix_hits += request.prompt_tokens;
        }
        rank.prompt_len.observe(request.prompt_tokens as f64);
    }

    let step = Duration::from_secs_f64(1.0 / sim.args.tokens_per_second);
    let decode_start = Instant::now();
    let mut last = decode_start;
    let mut first_token = None;
    let mut generated = 0u64;
    let mut finish_reason = request.finish_reason;
    for k in 0..request.max_tokens {
        if k > 0 {
            tokio::time::sleep_until((decode_start + step.mul_f64(k as f64)).into()).await;
        }
        // A full KV cache preempts the sequence, as vLLM does: it gives back its blocks, waits,
        // and recomputes its prefill before it goes on.
        let full = {
            let mut rank = sim.rank(index);
            let full = rank.kv_tokens + 1 > sim.args.kv_cache_tokens && rank.running > 1;
            if full {
                rank.preemptions += 1;
                rank.running -= 1;
                rank.waiting += 1;
                rank.kv_tokens = rank.kv_tokens.saturating_sub(request.prompt_tokens + generated);
            }
            full
        };
        if full {
            tokio::time::sleep(sim.args.ttft * 2).await;
            let mut rank = sim.rank(index);
            rank.waiting -= 1;
            rank.running += 1;
            rank.kv_tokens += request.prompt_tokens + generated;
        }
        let now = Instant::now();
        {
            let mut rank = sim.rank(index);
            rank.generation_tokens += 1;
            rank.kv_tokens += 1;
            rank.recent_tokens.push(now);
            if k == 0 {
                rank.ttft.observe(now.duration_since(arrival).as_secs_f64());
                rank.prefill.observe(now.duration_since(scheduled).as_secs_f64());
                first_token = Some(now);
            } else {
                rank.itl.observe(now.duration_since(last).as_secs_f64());
            }
        }
        last = now;
        generated += 1;
        let word = WORDS[k as usize % WORDS.len()];
        let text = if k == 0 { word.to_string() } else { format!(" {word}") };
        if tx.send(GenEvent::Token(text)).await.is_err() {
            finish_reason = "abort";
            break;
        }
    }
    drop(permit);
    {
        let mut rank = sim.rank(index);
        rank.running -= 1;
        rank.kv_tokens = rank.kv_tokens.saturating_sub(request.prompt_tokens + generated);
        *rank.finished.entry(finish_reason).or_insert(0) += 1;
        if finish_reason == "abort" {
            rank.aborted += 1;
        }
        if let Some(first) = first_token {
            rank.decode.observe(last.duration_since(first).as_secs_f64());
        }
        rank.e2e.observe(arrival.elapsed().as_secs_f64());
        rank.generation_len.observe(generated as f64);
    }
    let _ = tx
        .send(GenEvent::Done {
            finish_reason,
            prompt_tokens: request.prompt_tokens,
            completion_tokens: generated,
        })
        .await;
}
