//! SGLang's `/metrics`: 0.5's tokenizer and per-rank scheduler metrics, and 0.4's.

use std::time::Instant;

use super::{Labels, Page, kv_usage, merged};
use crate::state::{Histogram, Rank, Sim};

/// SGLang 0.5.23 (`srt/observability/metrics_collector.py`). Tokenizer metrics (one process
/// for every rank) carry `model_name` and `engine_type`, request counters and latencies also
/// `is_streaming`. Scheduler metrics carry `tp_rank`, `pp_rank`, `moe_ep_rank` (and `dp_rank`
/// with data parallelism) and come only from ranks with attn_tp_rank 0: one series per dp rank.
pub(super) fn current(sim: &Sim, page: &mut Page) {
    let model = sim.args.served_model_name.clone();
    let now = Instant::now();
    let total = merged(sim);
    let base: Labels<'_> = vec![("engine_type", "unified".into()), ("model_name", model.clone())];
    let with = |extra: &[(&'static str, &str)]| -> Labels<'_> {
        let mut l = base.clone();
        l.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        l
    };
    // The sim does not tell streamed requests apart: all of them count as streamed.
    let streamed = with(&[("is_streaming", "true")]);
    token_counters(page, &total, &streamed);
    page.counter(
        "sglang:num_requests",
        "Number of requests processed.",
        &[(streamed.clone(), total.requests as f64)],
    );
    page.counter(
        "sglang:cached_tokens",
        "Number of cached prompt tokens.",
        &[(with(&[("cache_source", "device")]), total.prefix_hits as f64)],
    );
    page.counter(
        "sglang:num_aborted_requests",
        "Number of requests aborted.",
        &[(base.clone(), total.aborted as f64)],
    );
    latency_histograms(page, &total, &streamed, &base);

    let dp = sim.rank_count();
    let mut series: Vec<(Labels<'_>, usize)> = Vec::new();
    for d in 0..dp {
        let mut labels = with(&[("tp_rank", "0"), ("pp_rank", "0"), ("moe_ep_rank", "0")]);
        if dp > 1 {
            labels.push(("dp_rank", d.to_string()));
        }
        series.push((labels, d));
    }
    let each = |f: &dyn Fn(&mut Rank) -> f64| -> Vec<(Labels<'_>, f64)> {
        series.iter().map(|(l, d)| (l.clone(), f(&mut sim.rank(*d)))).collect()
    };
    let capacity = sim.args.kv_cache_tokens as f64;
    page.gauge(
        "sglang:num_running_reqs",
        "The number of running requests.",
        &each(&|r| r.running as f64),
    );
    page.gauge(
        "sglang:num_queue_reqs",
        "The number of requests in the waiting queue.",
        &each(&|r| r.waiting as f64),
    );
    page.gauge(
        "sglang:num_used_tokens",
        "The number of used tokens.",
        &each(&|r| r.kv_tokens as f64),
    );
    page.gauge(
        "sglang:token_usage",
        "The token usage.",
        &each(&|r| (r.kv_tokens as f64 / capacity).min(1.0)),
    );
    page.gauge(
        "sglang:gen_throughput",
        "The generation throughput (token/s).",
        &each(&|r| r.gen_throughput(now)),
    );
    page.gauge(
        "sglang:cache_hit_rate",
        "The prefix cache hit rate.",
        &each(&|r| {
            if r.prefix_queries > 0 { r.prefix_hits as f64 / r.prefix_queries as f64 } else { 0.0 }
        }),
    );
    let slots = sim.args.max_num_seqs as f64;
    page.gauge(
        "sglang:utilization",
        "The utilization.",
        &each(&|r| (r.running as f64 / slots).min(1.0)),
    );
    page.gauge("sglang:num_retracted_reqs", "The number of retracted requests.", &each(&|_| 0.0));
    page.counter(
        "sglang:num_retracted_requests",
        "Total number of retracted requests.",
        &each(&|r| r.preemptions as f64),
    );
    page.gauge(
        "sglang:max_total_num_tokens",
        "Maximum total number of tokens in the KV cache.",
        &each(&|_| capacity),
    );
    let queue: Vec<(Labels<'_>, Histogram)> =
        series.iter().map(|(l, d)| (l.clone(), sim.rank(*d).queue.clone())).collect();
    page.histogram("sglang:queue_time_seconds", "Histogram of queueing time in seconds.", &queue);
}

/// SGLang 0.4 (`srt/metrics/collector.py` of 0.4.6): no rank labels, no retraction metrics.
pub(super) fn legacy(sim: &Sim, page: &mut Page) {
    let model = sim.args.served_model_name.clone();
    let now = Instant::now();
    let total = merged(sim);
    let base = vec![("model_name", model.clone())];
    let one = |v: f64| vec![(base.clone(), v)];
    token_counters(page, &total, &base);
    latency_histograms(page, &total, &base, &base);
    let mut sum = [0.0; 6];
    for d in 0..sim.rank_count() {
        let mut rank = sim.rank(d);
        let values = [
            rank.running as f64,
            rank.waiting as f64,
            rank.kv_tokens as f64,
            kv_usage(sim, &rank),
            rank.gen_throughput(now),
            if rank.prefix_queries > 0 {
                rank.prefix_hits as f64 / rank.prefix_queries as f64
            } else {
                0.0
            },
        ];
        for (s, x) in sum.iter_mut().zip(values) {
            *s += x;
        }
    }
    page.gauge("sglang:num_running_reqs", "The number of running requests.", &one(sum[0]));
    page.gauge(
        "sglang:num_queue_reqs",
        "The number of requests in the waiting queue.",
        &one(sum[1]),
    );
    page.gauge("sglang:num_used_tokens", "The number of used tokens.", &one(sum[2]));
    page.gauge("sglang:token_usage", "The token usage.", &one(sum[3]));
    page.gauge("sglang:gen_throughput", "The generation throughput (token/s).", &one(sum[4]));
    page.gauge("sglang:cache_hit_rate", "The prefix cache hit rate.", &one(sum[5]));
}

/// The prompt and generation token counters, named and described alike in both releases.
fn token_counters(page: &mut Page, total: &Rank, labels: &Labels<'_>) {
    let series = |v: u64| [(labels.clone(), v as f64)];
    page.counter(
        "sglang:prompt_tokens",
        "Number of prefill tokens processed.",
        &series(total.prompt_tokens),
    );
    page.counter(
        "sglang:generation_tokens",
        "Number of generation tokens processed.",
        &series(total.generation_tokens),
    );
}

/// The latency histograms of both releases: TTFT and E2E with `labels`, ITL with `itl_labels`
/// (0.5 does not split inter-token latency by streaming).
fn latency_histograms(page: &mut Page, total: &Rank, labels: &Labels<'_>, itl: &Labels<'_>) {
    page.histogram(
        "sglang:time_to_first_token_seconds",
        "Histogram of time to first token in seconds.",
        &[(labels.clone(), total.ttft.clone())],
    );
    page.histogram(
        "sglang:e2e_request_latency_seconds",
        "Histogram of End-to-end request latency in seconds",
        &[(labels.clone(), total.e2e.clone())],
    );
    page.histogram(
        "sglang:inter_token_latency_seconds",
        "Histogram of inter-token latency in seconds.",
        &[(itl.clone(), total.itl.clone())],
    );
}
