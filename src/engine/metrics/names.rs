//! The metric names each engine exports for each signal the console shows, newest first.
//! Where an engine renamed a metric both names are listed: a page is read by the first name
//! it has, so a version that exports both (vLLM 0.10 keeps the deprecated ones) is not counted
//! twice. Sources: DESIGN.md section 3, vLLM `v1/metrics/loggers.py` and `engine/metrics.py`
//! (V0), SGLang `srt/metrics/collector.py`.

use crate::model::EngineKind;

/// A signal read from a metrics page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    Running,
    Waiting,
    KvCacheUsage,
    PromptTokens,
    GenerationTokens,
    /// Finished requests, by the `finished_reason` label where the engine has one.
    RequestsFinished,
    Preemptions,
    PrefixCacheQueries,
    PrefixCacheHits,
    /// A hit-rate gauge (vLLM V0, SGLang), used when the counters are missing.
    PrefixCacheHitRate,
    Ttft,
    Itl,
    E2e,
    QueueTime,
}

/// How a signal's series combine across data-parallel engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    Sum,
    Mean,
}

/// Prometheus sample names (counters with `_total`, histograms without their suffixes).
pub fn names(engine: EngineKind, signal: Signal) -> &'static [&'static str] {
    use Signal::*;
    match engine {
        EngineKind::Vllm => match signal {
            Running => &["vllm:num_requests_running"],
            Waiting => &["vllm:num_requests_waiting"],
            KvCacheUsage => &["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"],
            PromptTokens => &["vllm:prompt_tokens_total"],
            GenerationTokens => &["vllm:generation_tokens_total"],
            RequestsFinished => &["vllm:request_success_total"],
            Preemptions => &["vllm:num_preemptions_total"],
            PrefixCacheQueries => &["vllm:prefix_cache_queries_total", "vllm:gpu_prefix_cache_queries_total"],
            PrefixCacheHits => &["vllm:prefix_cache_hits_total", "vllm:gpu_prefix_cache_hits_total"],
            PrefixCacheHitRate => &["vllm:gpu_prefix_cache_hit_rate"],
            Ttft => &["vllm:time_to_first_token_seconds"],
            Itl => &["vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"],
            E2e => &["vllm:e2e_request_latency_seconds"],
            QueueTime => &["vllm:request_queue_time_seconds"],
        },
        EngineKind::Sglang => match signal {
            Running => &["sglang:num_running_reqs"],
            Waiting => &["sglang:num_queue_reqs"],
            KvCacheUsage => &["sglang:token_usage"],
            PromptTokens => &["sglang:prompt_tokens_total"],
            GenerationTokens => &["sglang:generation_tokens_total"],
            RequestsFinished => &["sglang:num_requests_total"],
            // A gauge that only grows: SGLang's retractions are vLLM's preemptions.
            Preemptions => &["sglang:total_retracted_reqs"],
            // Cached prompt tokens over prompt tokens is the prefix-cache hit rate.
            PrefixCacheQueries => &["sglang:prompt_tokens_total"],
            PrefixCacheHits => &["sglang:cached_tokens_total"],
            PrefixCacheHitRate => &["sglang:cache_hit_rate"],
            Ttft => &["sglang:time_to_first_token_seconds"],
            Itl => &["sglang:inter_token_latency_seconds", "sglang:time_per_output_token_seconds"],
            E2e => &["sglang:e2e_request_latency_seconds"],
            QueueTime => &["sglang:queue_time_seconds"],
        },
    }
}

pub fn combine(signal: Signal) -> Combine {
    match signal {
        Signal::KvCacheUsage | Signal::PrefixCacheHitRate => Combine::Mean,
        _ => Combine::Sum,
    }
}

pub const SCALARS: [Signal; 10] = [
    Signal::Running,
    Signal::Waiting,
    Signal::KvCacheUsage,
    Signal::PromptTokens,
    Signal::GenerationTokens,
    Signal::RequestsFinished,
    Signal::Preemptions,
    Signal::PrefixCacheQueries,
    Signal::PrefixCacheHits,
    Signal::PrefixCacheHitRate,
];

pub const HISTOGRAMS: [Signal; 4] = [Signal::Ttft, Signal::Itl, Signal::E2e, Signal::QueueTime];

/// Labels that tell tensor/pipeline-parallel ranks of one engine apart: they report the same
/// batch, so their series are not added up (the largest is taken).
pub const RANK_LABELS: [&str; 2] = ["tp_rank", "pp_rank"];

/// The engine a metric name belongs to, from its prefix.
pub fn engine_of(name: &str) -> Option<EngineKind> {
    if name.starts_with("vllm:") {
        Some(EngineKind::Vllm)
    } else if name.starts_with("sglang:") {
        Some(EngineKind::Sglang)
    } else {
        None
    }
}
