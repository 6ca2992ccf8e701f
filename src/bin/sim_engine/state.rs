//! What the sim counts: one `Rank` per data-parallel engine, with the gauges, counters and
//! histograms the real engines export. Requests are spread over the ranks round-robin.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::Semaphore;

use crate::args::SimArgs;

/// Upper bounds of the engines' histogram buckets (from vLLM `v1/metrics/loggers.py` and
/// SGLang `metrics/collector.py`); `+Inf` is implied.
pub mod buckets {
    pub const VLLM_TTFT: &[f64] = &[
        0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
        20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
    ];
    pub const VLLM_ITL: &[f64] = &[
        0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
        20.0, 40.0, 80.0,
    ];
    pub const VLLM_REQUEST: &[f64] = &[
        0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0,
        240.0, 480.0, 960.0, 1920.0, 7680.0,
    ];
    pub const SGLANG_TTFT: &[f64] = &[
        0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
        15.0, 20.0, 25.0, 30.0,
    ];
    pub const SGLANG_ITL: &[f64] = &[
        0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5,
        0.75, 1.0, 2.5,
    ];
    pub const SGLANG_E2E: &[f64] =
        &[0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0];
}

#[derive(Debug, Clone)]
pub struct Histogram {
    pub bounds: &'static [f64],
    /// Per-bucket (not cumulative) counts; the last entry is the `+Inf` bucket.
    pub counts: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Histogram { bounds, counts: vec![0; bounds.len() + 1], sum: 0.0, count: 0 }
    }

    pub fn observe(&mut self, value: f64) {
        let slot = self.bounds.iter().position(|&le| value <= le).unwrap_or(self.bounds.len());
        self.counts[slot] += 1;
        self.sum += value;
        self.count += 1;
    }
}

/// One data-parallel engine (vLLM `engine` label, SGLang `dp_rank`).
#[derive(Debug)]
pub struct Rank {
    pub running: u64,
    pub waiting: u64,
    /// Tokens held in the KV cache by running sequences.
    pub kv_tokens: u64,
    pub prompt_tokens: u64,
    pub generation_tokens: u64,
    pub prefix_queries: u64,
    pub prefix_hits: u64,
    pub preemptions: u64,
    pub requests: u64,
    pub finished: BTreeMap<&'static str, u64>,
    pub ttft: Histogram,
    pub itl: Histogram,
    pub e2e: Histogram,
    pub queue: Histogram,
    pub prompt_len: Histogram,
    pub generation_len: Histogram,
    /// vLLM's request_prefill_time_seconds / request_decode_time_seconds.
    pub prefill: Histogram,
    pub decode: Histogram,
    /// Requests that ended with `abort` (SGLang's num_aborted_requests_total).
    pub aborted: u64,
    /// Generation speed over the last second, SGLang's `gen_throughput` gauge.
    pub recent_tokens: Vec<Instant>,
}

const TOKEN_COUNT_BUCKETS: &[f64] =
    &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0];

/// The bucket bounds of `family` in the imitated release (its fixture, read from the wheel);
/// `fallback` for the older metric names, which have no fixture.
fn bounds(args: &SimArgs, family: &str, fallback: &'static [f64]) -> &'static [f64] {
    if args.metric_names != crate::args::MetricNames::Current {
        return fallback;
    }
    let engine = match args.flavor {
        crate::args::Flavor::Vllm => aimdeck::model::EngineKind::Vllm,
        crate::args::Flavor::Sglang => aimdeck::model::EngineKind::Sglang,
    };
    aimdeck::engine::facts::for_version(engine, args.engine_version)
        .and_then(|facts| facts.family(family))
        .and_then(|f| f.buckets.as_deref())
        .unwrap_or(fallback)
}

/// vLLM's token-count buckets: 1, 2, 5 x 10^n up to max_model_len (`build_1_2_5_buckets`).
fn one_two_five(max: u64) -> &'static [f64] {
    let mut out = Vec::new();
    let mut scale = 1u64;
    'outer: loop {
        for m in [1, 2, 5] {
            let Some(value) = scale.checked_mul(m).filter(|v| *v <= max) else {
                break 'outer;
            };
            out.push(value as f64);
        }
        scale = scale.saturating_mul(10);
    }
    // Built once per rank at start-up; the page renders from it for the process's life.
    Box::leak(out.into_boxed_slice())
}

impl Rank {
    fn new(args: &SimArgs) -> Self {
        use crate::args::Flavor;
        let (ttft, itl, e2e, queue) = match args.flavor {
            Flavor::Vllm => (
                bounds(args, "vllm:time_to_first_token_seconds", buckets::VLLM_TTFT),
                bounds(args, "vllm:inter_token_latency_seconds", buckets::VLLM_ITL),
                bounds(args, "vllm:e2e_request_latency_seconds", buckets::VLLM_REQUEST),
                bounds(args, "vllm:request_queue_time_seconds", buckets::VLLM_REQUEST),
            ),
            Flavor::Sglang => (
                bounds(args, "sglang:time_to_first_token_seconds", buckets::SGLANG_TTFT),
                bounds(args, "sglang:inter_token_latency_seconds", buckets::SGLANG_ITL),
                bounds(args, "sglang:e2e_request_latency_seconds", buckets::SGLANG_E2E),
                bounds(args, "sglang:queue_time_seconds", buckets::VLLM_REQUEST),
            ),
        };
        let tokens = if args.flavor == Flavor::Vllm
            && args.metric_names == crate::args::MetricNames::Current
        {
            one_two_five(args.max_model_len)
        } else {
            TOKEN_COUNT_BUCKETS
        };
        let phase = bounds(args, "vllm:request_prefill_time_seconds", buckets::VLLM_REQUEST);
        Rank::idle([ttft, itl, e2e, queue, tokens, tokens, phase, phase])
    }

    /// A rank with no traffic whose histograms have these bounds, in field order: ttft, itl,
    /// e2e, queue, prompt_len, generation_len, prefill, decode.
    fn idle(bounds: [&'static [f64]; 8]) -> Rank {
        let [ttft, itl, e2e, queue, prompt_len, generation_len, prefill, decode] =
            bounds.map(Histogram::new);
        Rank {
            running: 0,
            waiting: 0,
            kv_tokens: 0,
            prompt_tokens: 0,
            generation_tokens: 0,
            prefix_queries: 0,
            prefix_hits: 0,
            preemptions: 0,
            requests: 0,
            finished: BTreeMap::new(),
            ttft,
            itl,
            e2e,
            queue,
            prompt_len,
            generation_len,
            prefill,
            decode,
            aborted: 0,
            recent_tokens: Vec::new(),
        }
    }

    pub fn gen_throughput(&mut self, now: Instant) -> f64 {
        self.recent_tokens.retain(|t| now.duration_since(*t) < Duration::from_secs(1));
        self.recent_tokens.len() as f64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// The engine died: /health 503, requests fail.
    Failed,
    /// /metrics and /health stall mid-response.
    Hung,
}

pub struct Sim {
    pub args: SimArgs,
    ranks: Vec<Mutex<Rank>>,
    slots: Vec<Arc<Semaphore>>,
    seen_prompts: Mutex<HashSet<u64>>,
    next_rank: AtomicUsize,
    fault: Mutex<Fault>,
    next_id: AtomicUsize,
}

impl Sim {
    pub fn new(args: SimArgs) -> Self {
        let ranks = (0..args.data_parallel).map(|_| Mutex::new(Rank::new(&args))).collect();
        let slots =
            (0..args.data_parallel).map(|_| Arc::new(Semaphore::new(args.max_num_seqs))).collect();
        Sim {
            ranks,
            slots,
            seen_prompts: Mutex::new(HashSet::new()),
            next_rank: AtomicUsize::new(0),
            fault: Mutex::new(Fault::None),
            next_id: AtomicUsize::new(0),
            args,
        }
    }

    pub fn rank_count(&self) -> usize {
        self.ranks.len()
    }

    pub fn rank(&self, index: usize) -> MutexGuard<'_, Rank> {
        // A poisoned lock only means a request task panicked; the counters are still valid.
        self.ranks[index].lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn fault(&self) -> Fault {
        *self.fault.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_fault(&self, fault: Fault) {
        *self.fault.lock().unwrap_or_else(|p| p.into_inner()) = fault;
    }

    pub fn request_id(&self) -> usize {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn pick_rank(&self) -> usize {
        self.next_rank.fetch_add(1, Ordering::Relaxed) % self.ranks.len()
    }

    pub fn slots(&self, rank: usize) -> Arc<Semaphore> {
        self.slots[rank].clone()
    }

    /// Whether this exact prompt was served before: the prefix cache would hold all of it.
    pub fn prompt_seen_before(&self, text: &str) -> bool {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut hasher);
        let mut seen = self.seen_prompts.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 100_000 {
            seen.clear();
        }
        !seen.insert(hasher.finish())
    }
}

pub fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

impl Rank {
    /// A rank with no traffic and the same histogram buckets, to sum ranks into.
    pub fn empty_like(other: &Rank) -> Rank {
        Rank::idle([
            other.ttft.bounds,
            other.itl.bounds,
            other.e2e.bounds,
            other.queue.bounds,
            other.prompt_len.bounds,
            other.generation_len.bounds,
            other.prefill.bounds,
            other.decode.bounds,
        ])
    }

    pub fn absorb(&mut self, other: &Rank) {
        self.running += other.running;
        self.waiting += other.waiting;
        self.kv_tokens += other.kv_tokens;
        self.prompt_tokens += other.prompt_tokens;
        self.generation_tokens += other.generation_tokens;
        self.prefix_queries += other.prefix_queries;
        self.prefix_hits += other.prefix_hits;
        self.preemptions += other.preemptions;
        self.requests += other.requests;
        self.aborted += other.aborted;
        for (reason, count) in &other.finished {
            *self.finished.entry(reason).or_insert(0) += count;
        }
        for (mine, theirs) in [
            (&mut self.ttft, &other.ttft),
            (&mut self.itl, &other.itl),
            (&mut self.e2e, &other.e2e),
            (&mut self.queue, &other.queue),
            (&mut self.prompt_len, &other.prompt_len),
            (&mut self.generation_len, &other.generation_len),
            (&mut self.prefill, &other.prefill),
            (&mut self.decode, &other.decode),
        ] {
            for (a, b) in mine.counts.iter_mut().zip(&theirs.counts) {
                *a += b;
            }
            mine.sum += theirs.sum;
            mine.count += theirs.count;
        }
    }
}
