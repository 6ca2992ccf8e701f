//! vLLM's `/metrics`: the V1 engine's names (one series per engine index) and the V0 names of
//! older releases (one merged series).

use super::families::{HistogramFamily, Scalar};
use super::{Labels, Page, kv_usage, merged, prefix_hit_rate, ranks};
use crate::state::Sim;

/// Time to first token, named and described alike in V0 and V1.
const TTFT: HistogramFamily =
    ("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", |r| {
        &r.ttft
    });

/// The V1 engine's histograms, in the order its `/metrics` lists them.
const HISTOGRAMS: [HistogramFamily; 8] = [
    ("vllm:request_prompt_tokens", "Number of prefill tokens processed.", |r| &r.prompt_len),
    ("vllm:request_generation_tokens", "Number of generation tokens processed.", |r| {
        &r.generation_len
    }),
    TTFT,
    ("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", |r| {
        &r.itl
    }),
    ("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", |r| {
        &r.e2e
    }),
    (
        "vllm:request_queue_time_seconds",
        "Histogram of time spent in WAITING phase for request.",
        |r| &r.queue,
    ),
    (
        "vllm:request_prefill_time_seconds",
        "Histogram of time spent in PREFILL phase for request.",
        |r| &r.prefill,
    ),
    (
        "vllm:request_decode_time_seconds",
        "Histogram of time spent in DECODE phase for request.",
        |r| &r.decode,
    ),
];

pub(super) fn current(sim: &Sim, page: &mut Page) {
    let model = sim.args.served_model_name.as_str();
    let mut ranks = ranks(sim);
    let labels = |i: usize| -> Labels<'_> {
        vec![("engine", i.to_string()), ("model_name", model.to_string())]
    };
    let per_rank: Vec<Labels<'_>> = (0..ranks.len()).map(labels).collect();
    page.per_rank(
        &[
            Scalar::gauge(
                "vllm:num_requests_running",
                "Number of requests in model execution batches.",
                |r| r.running as f64,
            ),
            Scalar::gauge(
                "vllm:num_requests_waiting",
                "Number of requests waiting to be processed.",
                |r| r.waiting as f64,
            ),
            Scalar::gauge(
                "vllm:kv_cache_usage_perc",
                "KV-cache usage. 1 means 100 percent usage.",
                move |r| kv_usage(sim, r),
            ),
            Scalar::counter(
                "vllm:prefix_cache_queries",
                "Prefix cache queries, in terms of number of queried tokens.",
                |r| r.prefix_queries as f64,
            ),
            Scalar::counter(
                "vllm:prefix_cache_hits",
                "Prefix cache hits, in terms of number of cached tokens.",
                |r| r.prefix_hits as f64,
            ),
        ],
        &per_rank,
        &mut ranks,
    );
    page.per_rank(&engine_counters(), &per_rank, &mut ranks);
    page.per_rank(
        &[Scalar::counter(
            "vllm:prompt_tokens_cached",
            "Number of cached prompt tokens (local prefix cache hits).",
            |r| r.prefix_hits as f64,
        )],
        &per_rank,
        &mut ranks,
    );
    let mut waiting = Vec::new();
    for (i, rank) in ranks.iter().enumerate() {
        // All waiting requests of the sim wait for capacity (a free sequence slot).
        for (reason, value) in [("capacity", rank.waiting as f64), ("deferred", 0.0)] {
            let mut l = labels(i);
            l.push(("reason", reason.to_string()));
            waiting.push((l, value));
        }
    }
    page.gauge(
        "vllm:num_requests_waiting_by_reason",
        "Number of waiting requests by reason.",
        &waiting,
    );
    let blocks = (sim.args.kv_cache_tokens / 16).to_string();
    let info: Vec<(Labels<'_>, f64)> = (0..ranks.len())
        .map(|i| {
            let l: Labels<'_> = vec![
                ("engine", i.to_string()),
                ("block_size", "16".into()),
                ("cache_dtype", "auto".into()),
                ("gpu_memory_utilization", "0.9".into()),
                ("num_gpu_blocks", blocks.clone()),
            ];
            (l, 1.0)
        })
        .collect();
    page.gauge("vllm:cache_config_info", "Information of the LLMEngine CacheConfig", &info);
    let mut finished = Vec::new();
    for (i, rank) in ranks.iter().enumerate() {
        // vLLM creates a child for every finish reason up front (FinishReason of the imitated
        // release: stop, length, abort, error, repetition), so all of them always appear.
        for reason in finish_reasons(sim) {
            let mut l = labels(i);
            l.push(("finished_reason", reason.to_string()));
            finished.push((l, rank.finished.get(reason.as_str()).copied().unwrap_or(0) as f64));
        }
    }
    page.counter("vllm:request_success", "Count of successfully processed requests.", &finished);
    page.histograms_per_rank(&HISTOGRAMS, &per_rank, &ranks);
}

/// The engine's counters named and described alike in V0 and V1.
fn engine_counters() -> [Scalar<'static>; 3] {
    [
        Scalar::counter(
            "vllm:num_preemptions",
            "Cumulative number of preemption from the engine.",
            |r| r.preemptions as f64,
        ),
        Scalar::counter("vllm:prompt_tokens", "Number of prefill tokens processed.", |r| {
            r.prompt_tokens as f64
        }),
        Scalar::counter("vllm:generation_tokens", "Number of generation tokens processed.", |r| {
            r.generation_tokens as f64
        }),
    ]
}

/// The imitated release's finish reasons (vLLM 0.33: stop, length, abort, error, repetition).
fn finish_reasons(sim: &Sim) -> Vec<String> {
    aimdeck::engine::facts::for_version(aimdeck::model::EngineKind::Vllm, sim.args.engine_version)
        .map(|facts| facts.registries.finish_reasons.values.clone())
        .unwrap_or_else(|| vec!["abort".into(), "length".into(), "stop".into()])
}

/// The V0 engine's histograms: TPOT where V1 has inter-token latency.
const LEGACY_HISTOGRAMS: [HistogramFamily; 3] = [
    TTFT,
    ("vllm:time_per_output_token_seconds", "Histogram of time per output token in seconds.", |r| {
        &r.itl
    }),
    (
        "vllm:e2e_request_latency_seconds",
        "Histogram of end to end request latency in seconds.",
        |r| &r.e2e,
    ),
];

pub(super) fn legacy(sim: &Sim, page: &mut Page) {
    let model = vec![("model_name", sim.args.served_model_name.clone())];
    let mut r = merged(sim);
    page.per_rank(
        &[
            Scalar::gauge(
                "vllm:num_requests_running",
                "Number of requests currently running on GPU.",
                |r| r.running as f64,
            ),
            Scalar::gauge(
                "vllm:num_requests_swapped",
                "Number of requests swapped to CPU.",
                |_| 0.0,
            ),
            Scalar::gauge(
                "vllm:num_requests_waiting",
                "Number of requests waiting to be processed.",
                |r| r.waiting as f64,
            ),
            Scalar::gauge(
                "vllm:gpu_cache_usage_perc",
                "GPU KV-cache usage. 1 means 100 percent usage.",
                move |r| kv_usage(sim, r),
            ),
            Scalar::gauge(
                "vllm:cpu_cache_usage_perc",
                "CPU KV-cache usage. 1 means 100 percent usage.",
                |_| 0.0,
            ),
            // V0 answered -1 before its first prefix query.
            Scalar::gauge(
                "vllm:gpu_prefix_cache_hit_rate",
                "GPU prefix cache block hit rate.",
                |r| prefix_hit_rate(r).unwrap_or(-1.0),
            ),
        ],
        std::slice::from_ref(&model),
        &mut [&mut r],
    );
    page.per_rank(&engine_counters(), std::slice::from_ref(&model), &mut [&mut r]);
    page.histograms_per_rank(&LEGACY_HISTOGRAMS, std::slice::from_ref(&model), &[&r]);
    let mut finished = Vec::new();
    for (reason, count) in &r.finished {
        let mut l = model.clone();
        l.push(("finished_reason", reason.to_string()));
        finished.push((l, *count as f64));
    }
    page.counter("vllm:request_success", "Count of successfully processed requests.", &finished);
}
