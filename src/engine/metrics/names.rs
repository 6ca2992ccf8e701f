//! The metric names each engine exports for each signal the console shows, newest first.
//! The first name of each list is what the supported releases export (vLLM 0.33.0
//! `v1/metrics/loggers.py`, SGLang 0.5.23 `srt/observability/metrics_collector.py`; the
//! families are in `tests/fixtures/engines/`, and a test checks every first name against
//! them). A second name is kept only where an older release really exported it, named next
//! to it (read from the vLLM 0.6.6 `engine/metrics.py` and SGLang 0.4.6
//! `srt/metrics/collector.py` wheels); a page is read by the first name it has, never two.
//! Names no release exported (`sglang:total_retracted_reqs`) and per-request time per output
//! token (`*request_time_per_output_token*`, which is not inter-token latency) are not read.
//! Dropped as unverified: vLLM's `gpu_prefix_cache_{queries,hits}_total` (no wheel read here
//! exports them).

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
    /// Prompt tokens served from the prefix cache (vLLM >= 0.11 counter).
    PromptTokensCached,
    /// Requests ended by an abort (SGLang's counter; vLLM's is a finish reason).
    Aborted,
    /// SGLang's own decode-throughput gauge (tokens/s).
    GenThroughput,
    /// SGLang's scheduler utilization gauge (0..1).
    Utilization,
    /// KV cache capacity in tokens (SGLang `max_total_num_tokens`; vLLM from `cache_config_info`).
    KvCapacityTokens,
    /// vLLM's per-request prefill and decode phase histograms.
    PrefillTime,
    DecodeTime,
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
            // vLLM 0.6 (V0): gpu_cache_usage_perc.
            KvCacheUsage => &["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"],
            PromptTokens => &["vllm:prompt_tokens_total"],
            GenerationTokens => &["vllm:generation_tokens_total"],
            RequestsFinished => &["vllm:request_success_total"],
            Preemptions => &["vllm:num_preemptions_total"],
            PrefixCacheQueries => &["vllm:prefix_cache_queries_total"],
            PrefixCacheHits => &["vllm:prefix_cache_hits_total"],
            // vLLM 0.6 (V0) only: a hit-rate gauge instead of the counters.
            PrefixCacheHitRate => &["vllm:gpu_prefix_cache_hit_rate"],
            Ttft => &["vllm:time_to_first_token_seconds"],
            // vLLM 0.6 (V0): time_per_output_token_seconds observed every gap between tokens,
            // i.e. ITL under its old name (not request_time_per_output_token_seconds).
            Itl => &["vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"],
            E2e => &["vllm:e2e_request_latency_seconds"],
            QueueTime => &["vllm:request_queue_time_seconds"],
            PromptTokensCached => &["vllm:prompt_tokens_cached_total"],
            // vLLM counts aborts as `request_success_total{finished_reason="abort"}`.
            Aborted | GenThroughput | Utilization => &[],
            // From the labels of `vllm:cache_config_info` (num_gpu_blocks x block_size).
            KvCapacityTokens => &[],
            PrefillTime => &["vllm:request_prefill_time_seconds"],
            DecodeTime => &["vllm:request_decode_time_seconds"],
        },
        EngineKind::Sglang => match signal {
            Running => &["sglang:num_running_reqs"],
            Waiting => &["sglang:num_queue_reqs"],
            KvCacheUsage => &["sglang:token_usage"],
            PromptTokens => &["sglang:prompt_tokens_total"],
            GenerationTokens => &["sglang:generation_tokens_total"],
            RequestsFinished => &["sglang:num_requests_total"],
            // SGLang's retractions are vLLM's preemptions: the counter, not the
            // `sglang:num_retracted_reqs` gauge (retracted in the last scheduler step).
            Preemptions => &["sglang:num_retracted_requests_total"],
            // Cached prompt tokens over prompt tokens is the prefix-cache hit rate.
            PrefixCacheQueries => &["sglang:prompt_tokens_total"],
            PrefixCacheHits => &["sglang:cached_tokens_total"],
            PrefixCacheHitRate => &["sglang:cache_hit_rate"],
            Ttft => &["sglang:time_to_first_token_seconds"],
            // SGLang 0.4 before 0.4.6 (its production_metrics.md page, tests/fixtures/metrics/
            // sglang-0.4-docs.txt): time_per_output_token_seconds counted once per token, i.e.
            // ITL under its old name (0.4.6 already says inter_token_latency_seconds).
            Itl => &["sglang:inter_token_latency_seconds", "sglang:time_per_output_token_seconds"],
            E2e => &["sglang:e2e_request_latency_seconds"],
            QueueTime => &["sglang:queue_time_seconds"],
            // The same counter as PrefixCacheHits (one name feeds one signal; see snapshot).
            PromptTokensCached => &[],
            Aborted => &["sglang:num_aborted_requests_total"],
            GenThroughput => &["sglang:gen_throughput"],
            Utilization => &["sglang:utilization"],
            KvCapacityTokens => &["sglang:max_total_num_tokens"],
            PrefillTime | DecodeTime => &[],
        },
    }
}

pub fn combine(signal: Signal) -> Combine {
    match signal {
        Signal::KvCacheUsage | Signal::PrefixCacheHitRate | Signal::Utilization => Combine::Mean,
        _ => Combine::Sum,
    }
}

pub const SCALARS: [Signal; 15] = [
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
    Signal::PromptTokensCached,
    Signal::Aborted,
    Signal::GenThroughput,
    Signal::Utilization,
    Signal::KvCapacityTokens,
];

pub const HISTOGRAMS: [Signal; 6] = [
    Signal::Ttft,
    Signal::Itl,
    Signal::E2e,
    Signal::QueueTime,
    Signal::PrefillTime,
    Signal::DecodeTime,
];

/// Labels that tell tensor/pipeline/expert-parallel ranks of one engine apart: they report the
/// same batch, so their series are not added up (the largest is taken). SGLang 0.5 puts
/// `moe_ep_rank` on every scheduler metric.
pub const RANK_LABELS: [&str; 3] = ["tp_rank", "pp_rank", "moe_ep_rank"];

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::facts::newest;

    /// The first name of every signal is a family the supported release really exports.
    #[test]
    fn current_names_are_families_of_the_supported_releases() {
        for engine in EngineKind::ALL {
            let facts = newest(engine);
            for signal in SCALARS.iter().chain(HISTOGRAMS.iter()) {
                // vLLM 0.6's hit-rate gauge: read only when a page lacks the current counters.
                if (engine, *signal) == (EngineKind::Vllm, Signal::PrefixCacheHitRate) {
                    continue;
                }
                if let Some(name) = names(engine, *signal).first() {
                    assert!(
                        facts.family(name).is_some(),
                        "{engine} {}: {name} ({signal:?}) is not exported",
                        facts.version
                    );
                }
            }
        }
        for engine in EngineKind::ALL {
            for signal in SCALARS.iter().chain(HISTOGRAMS.iter()) {
                assert!(
                    !names(engine, *signal)
                        .iter()
                        .any(|n| n.contains("request_time_per_output_token"))
                );
            }
        }
    }
}
