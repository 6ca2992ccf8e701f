//! The smoke benchmark: N real streaming requests, C at a time, each with a prompt of I tokens
//! asking for exactly O tokens; TTFT, TPOT, inter-token and end-to-end percentiles, throughput
//! and goodput, measured at the client as `vllm bench serve` measures them (see `bench_stats`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub use super::bench_stats::{LatencyStats, Slos, percentile, stats};
use super::openai::{self, Api, PromptRequest};

#[derive(Debug, Clone)]
pub struct BenchConfig {
    pub base_url: String,
    /// Further servers of the same model (the other ready replicas of a deployment): request
    /// `i` goes to the `i mod n`-th of `base_url` and these, so every replica gets its share.
    pub spread_over: Vec<String>,
    /// The model to ask for; the server's first model when `None`.
    pub model: Option<String>,
    pub requests: u64,
    pub concurrency: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub request_timeout: Duration,
    /// `/v1/completions` (as `vllm bench serve`'s default) or `/v1/chat/completions`, where a
    /// reasoning model streams its thinking apart from the answer.
    pub api: Api,
    /// Objectives for goodput; none given, no goodput reported.
    pub slos: Slos,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct BenchProgress {
    pub done: u64,
    pub failed: u64,
    pub total: u64,
    /// Tokens received so far, over `elapsed_s`: the running output tokens/s.
    pub output_tokens: u64,
    /// Mean time to first token of the requests done so far.
    pub ttft_mean_s: Option<f64>,
    pub elapsed_s: f64,
}

impl BenchProgress {
    /// 0..1, for a gauge.
    pub fn ratio(&self) -> f64 {
        if self.total == 0 { 1.0 } else { (self.done + self.failed) as f64 / self.total as f64 }
    }

    /// The running output throughput, on the report's definition (tokens over wall time).
    pub fn output_tokens_per_s(&self) -> Option<f64> {
        (self.elapsed_s > 0.0).then(|| self.output_tokens as f64 / self.elapsed_s)
    }

    /// `37/100 done, 0 failed, TTFT 41.2 ms, 812.5 tok/s`: the running figures, on the final
    /// report's definitions (TTFT mean of the requests done; tokens over wall time), as the
    /// CLI prints them on stderr and the console's footer shows them.
    pub fn line(&self) -> String {
        let mut line = format!("{}/{} done, {} failed", self.done, self.total, self.failed);
        if let Some(ttft) = self.ttft_mean_s {
            line.push_str(&format!(", TTFT {:.1} ms", ttft * 1000.0));
        }
        if let Some(rate) = self.output_tokens_per_s() {
            line.push_str(&format!(", {rate:.1} tok/s"));
        }
        line
    }
}

/// One server's share of a run spread over several.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TargetShare {
    pub url: String,
    pub succeeded: u64,
    pub failed: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BenchReport {
    pub url: String,
    /// Every server the requests went to (`url` first), with its share.
    pub targets: Vec<TargetShare>,
    pub model: String,
    pub requests: u64,
    pub concurrency: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub duration_s: f64,
    pub requests_per_s: f64,
    pub output_tokens_per_s: f64,
    pub total_tokens_per_s: f64,
    pub prompt_tokens_sent: u64,
    pub completion_tokens_received: u64,
    /// Of `completion_tokens_received`, the thinking tokens the server counted.
    pub reasoning_tokens_received: u64,
    /// To the first token of any kind, thinking or answer.
    pub ttft_s: LatencyStats,
    /// Gaps between token chunks.
    pub itl_s: LatencyStats,
    /// Latency, to each request's last token.
    pub e2e_s: LatencyStats,
    pub api: Api,
    /// (latency - TTFT) / (tokens - 1) per request of 2+ tokens.
    pub tpot_s: LatencyStats,
    /// The objectives given with `--goodput`, in ms.
    pub slos: Slos,
    /// Requests meeting every objective; `None` without objectives.
    pub good_requests: Option<u64>,
    /// `good_requests` per second of the run (vLLM's `request_goodput`).
    pub goodput_requests_per_s: Option<f64>,
    /// The first few distinct errors, for the user to read.
    pub errors: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Models(#[from] super::detect::ModelsError),
    #[error("{url} serves no model")]
    NoModel { url: String },
    #[error("{field} must be at least 1")]
    Zero { field: &'static str },
}

/// A prompt of `tokens` words. Engines' tokenizers split differently, so the real prompt
/// length is near, not exactly, `tokens` (the report gives the count the server saw).
pub fn prompt_of(tokens: u64, salt: u64) -> String {
    const WORDS: [&str; 8] =
        ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
    let mut text = format!("{salt}");
    for i in 1..tokens.max(1) {
        text.push(' ');
        text.push_str(WORDS[(i as usize + salt as usize) % WORDS.len()]);
    }
    text
}

/// Runs the benchmark; `progress` follows it, `cancel` stops it (the report covers what ran).
pub async fn run(
    client: &reqwest::Client,
    config: &BenchConfig,
    progress: Option<watch::Sender<BenchProgress>>,
    cancel: CancellationToken,
) -> Result<BenchReport, BenchError> {
    if config.requests == 0 {
        return Err(BenchError::Zero { field: "--requests" });
    }
    if config.concurrency == 0 {
        return Err(BenchError::Zero { field: "--concurrency" });
    }
    let model = match &config.model {
        Some(model) => model.clone(),
        None => super::detect::fetch_models(client, &config.base_url)
            .await?
            .into_iter()
            .next()
            .map(|card| card.id)
            .ok_or_else(|| BenchError::NoModel { url: config.base_url.clone() })?,
    };
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let running = Arc::new(Running::default());
    let total = config.requests;
    let started = Instant::now();
    let report_progress = {
        let (done, failed, progress) = (done.clone(), failed.clone(), progress.clone());
        let running = running.clone();
        move || {
            if let Some(tx) = &progress {
                let done = done.load(Ordering::Relaxed);
                let ttft_count = running.ttft_count.load(Ordering::Relaxed);
                let _ = tx.send(BenchProgress {
                    done,
                    failed: failed.load(Ordering::Relaxed),
                    total,
                    output_tokens: running.output_tokens.load(Ordering::Relaxed),
                    ttft_mean_s: (ttft_count > 0).then(|| {
                        running.ttft_micros.load(Ordering::Relaxed) as f64 / 1e6 / ttft_count as f64
                    }),
                    elapsed_s: started.elapsed().as_secs_f64(),
                });
            }
        }
    };
    report_progress();
    let targets: Arc<Vec<String>> = Arc::new(
        std::iter::once(config.base_url.clone())
            .chain(config.spread_over.iter().cloned())
            .collect(),
    );
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..config.concurrency.min(config.requests) {
        let (client, next, done, failed, cancel) =
            (client.clone(), next.clone(), done.clone(), failed.clone(), cancel.clone());
        let (running, targets) = (running.clone(), targets.clone());
        let report_progress = report_progress.clone();
        let template = PromptRequest {
            base_url: config.base_url.clone(),
            model: model.clone(),
            prompt: String::new(),
            api: config.api,
            max_tokens: Some(config.output_tokens.max(1)),
            temperature: Some(0.0),
            ignore_eos: true,
        };
        let (input_tokens, timeout) = (config.input_tokens, config.request_timeout);
        workers.spawn(async move {
            let mut results = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= total || cancel.is_cancelled() {
                    break;
                }
                let target = (index % targets.len() as u64) as usize;
                let request = PromptRequest {
                    base_url: targets[target].clone(),
                    prompt: prompt_of(input_tokens, index),
                    ..template.clone()
                };
                let result = openai::stream(&client, &request, &cancel, timeout, |_, _| {}).await;
                match &result {
                    Ok(summary) if !summary.cancelled => {
                        running.record(summary);
                        done.fetch_add(1, Ordering::Relaxed)
                    }
                    Ok(_) => break,
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
                report_progress();
                results.push((target, result));
            }
            results
        });
    }
    let mut summaries = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    let mut shares: Vec<TargetShare> =
        targets.iter().map(|url| TargetShare { url: url.clone(), ..Default::default() }).collect();
    while let Some(joined) = workers.join_next().await {
        for (target, result) in joined.unwrap_or_default() {
            match result {
                Ok(summary) => {
                    shares[target].succeeded += 1;
                    summaries.push(summary)
                }
                Err(err) => {
                    shares[target].failed += 1;
                    let text = err.to_string();
                    if errors.len() < 5 && !errors.contains(&text) {
                        errors.push(text);
                    }
                }
            }
        }
    }
    let duration_s = started.elapsed().as_secs_f64();
    let completion: u64 = summaries.iter().map(|s| s.completion_tokens).sum();
    let prompt: u64 = summaries.iter().filter_map(|s| s.prompt_tokens).sum();
    let per_s = |n: f64| if duration_s > 0.0 { n / duration_s } else { 0.0 };
    let good_requests = (!config.slos.is_empty())
        .then(|| summaries.iter().filter(|s| config.slos.met_by(s)).count() as u64);
    Ok(BenchReport {
        url: config.base_url.clone(),
        targets: shares,
        model,
        requests: config.requests,
        concurrency: config.concurrency,
        input_tokens: config.input_tokens,
        output_tokens: config.output_tokens,
        succeeded: summaries.len() as u64,
        failed: failed.load(Ordering::Relaxed),
        duration_s,
        requests_per_s: per_s(summaries.len() as f64),
        output_tokens_per_s: per_s(completion as f64),
        total_tokens_per_s: per_s((completion + prompt) as f64),
        prompt_tokens_sent: prompt,
        completion_tokens_received: completion,
        ttft_s: stats(summaries.iter().filter_map(|s| s.ttft_s).collect()),
        itl_s: stats(summaries.iter().flat_map(|s| s.inter_token_s.iter().copied()).collect()),
        e2e_s: stats(summaries.iter().map(|s| s.e2e_s).collect()),
        reasoning_tokens_received: summaries.iter().filter_map(|s| s.reasoning_tokens).sum(),
        api: config.api,
        tpot_s: stats(summaries.iter().filter_map(|s| s.tpot_s).collect()),
        slos: config.slos,
        good_requests,
        goodput_requests_per_s: good_requests.map(|n| per_s(n as f64)),
        errors,
    })
}

/// What the progress line shows while the run goes on.
#[derive(Default)]
struct Running {
    output_tokens: AtomicU64,
    ttft_micros: AtomicU64,
    ttft_count: AtomicU64,
}

impl Running {
    fn record(&self, summary: &openai::StreamSummary) {
        self.output_tokens.fetch_add(summary.completion_tokens, Ordering::Relaxed);
        if let Some(ttft) = summary.ttft_s {
            self.ttft_micros.fetch_add((ttft * 1e6) as u64, Ordering::Relaxed);
            self.ttft_count.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_have_the_asked_word_count_and_differ() {
        assert_eq!(prompt_of(128, 3).split_whitespace().count(), 128);
        assert_ne!(prompt_of(8, 1), prompt_of(8, 2));
    }
}
