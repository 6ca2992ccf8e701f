//! SGLang's `/metrics`: 0.5's tokenizer and per-rank scheduler metrics, and 0.4's.

use std::time::Instant;

use super::families::Scalar;
use super::{Labels, Page, kv_usage, merged, prefix_hit_rate, ranks};
use crate::state::{Rank, Sim};

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
    let labels: Vec<Labels<'_>> = (0..dp)
        .map(|d| {
            let mut labels = with(&[("tp_rank", "0"), ("pp_rank", "0"), ("moe_ep_rank", "0")]);
            if dp > 1 {
                labels.push(("dp_rank", d.to_string()));
            }
            labels
        })
        .collect();
    let mut ranks = ranks(sim);
    let slots = sim.args.max_num_seqs as f64;
    let capacity = sim.args.kv_cache_tokens as f64;
    let mut scheduler = load_families(sim, now);
    scheduler.extend([
        Scalar::gauge("sglang:utilization", "The utilization.", |r| {
            (r.running as f64 / slots).min(1.0)
        }),
        Scalar::gauge("sglang:num_retracted_reqs", "The number of retracted requests.", |_| 0.0),
        Scalar::counter(
            "sglang:num_retracted_requests",
            "Total number of retracted requests.",
            |r| r.preemptions as f64,
        ),
        Scalar::gauge(
            "sglang:max_total_num_tokens",
            "Maximum total number of tokens in the KV cache.",
            |_| capacity,
        ),
    ]);
    page.per_rank(&scheduler, &labels, &mut ranks);
    page.histograms_per_rank(
        &[("sglang:queue_time_seconds", "Histogram of queueing time in seconds.", |r| &r.queue)],
        &labels,
        &ranks,
    );
}

/// SGLang 0.4 (`srt/metrics/collector.py` of 0.4.6): no rank labels, no retraction metrics.
pub(super) fn legacy(sim: &Sim, page: &mut Page) {
    let model = sim.args.served_model_name.clone();
    let now = Instant::now();
    let total = merged(sim);
    let base = vec![("model_name", model.clone())];
    token_counters(page, &total, &base);
    latency_histograms(page, &total, &base, &base);
    page.summed(&load_families(sim, now), &base, &mut ranks(sim));
}

/// The scheduler's load gauges, named and described alike in both releases (0.4 sums them over
/// the ranks into one series).
fn load_families(sim: &Sim, now: Instant) -> Vec<Scalar<'_>> {
    vec![
        Scalar::gauge("sglang:num_running_reqs", "The number of running requests.", |r| {
            r.running as f64
        }),
        Scalar::gauge(
            "sglang:num_queue_reqs",
            "The number of requests in the waiting queue.",
            |r| r.waiting as f64,
        ),
        Scalar::gauge("sglang:num_used_tokens", "The number of used tokens.", |r| {
            r.kv_tokens as f64
        }),
        Scalar::gauge("sglang:token_usage", "The token usage.", move |r| kv_usage(sim, r)),
        Scalar::gauge("sglang:gen_throughput", "The generation throughput (token/s).", move |r| {
            r.gen_throughput(now)
        }),
        Scalar::gauge("sglang:cache_hit_rate", "The prefix cache hit rate.", |r| {
            prefix_hit_rate(r).unwrap_or(0.0)
        }),
    ]
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
