//! vLLM's `/metrics`: the V1 engine's names (one series per engine index) and the V0 names of
//! older releases (one merged series).

use super::{Labels, Page, kv_usage, merged, ranks};
use crate::state::{Histogram, Rank, Sim};

pub(super) fn current(sim: &Sim, page: &mut Page) {
    let model = sim.args.served_model_name.as_str();
    let ranks = ranks(sim);
    let labels = |i: usize| -> Labels<'_> {
        vec![("engine", i.to_string()), ("model_name", model.to_string())]
    };
    let each = |f: &dyn Fn(&Rank) -> f64| -> Vec<(Labels<'_>, f64)> {
        ranks.iter().enumerate().map(|(i, r)| (labels(i), f(r))).collect()
    };
    page.gauge(
        "vllm:num_requests_running",
        "Number of requests in model execution batches.",
        &each(&|r| r.running as f64),
    );
    page.gauge(
        "vllm:num_requests_waiting",
        "Number of requests waiting to be processed.",
        &each(&|r| r.waiting as f64),
    );
    page.gauge(
        "vllm:kv_cache_usage_perc",
        "KV-cache usage. 1 means 100 percent usage.",
        &each(&|r| kv_usage(sim, r)),
    );
    page.counter(
        "vllm:prefix_cache_queries",
        "Prefix cache queries, in terms of number of queried tokens.",
        &each(&|r| r.prefix_queries as f64),
    );
    page.counter(
        "vllm:prefix_cache_hits",
        "Prefix cache hits, in terms of number of cached tokens.",
        &each(&|r| r.prefix_hits as f64),
    );
    page.counter(
        "vllm:num_preemptions",
        "Cumulative number of preemption from the engine.",
        &each(&|r| r.preemptions as f64),
    );
    page.counter(
        "vllm:prompt_tokens",
        "Number of prefill tokens processed.",
        &each(&|r| r.prompt_tokens as f64),
    );
    page.counter(
        "vllm:generation_tokens",
        "Number of generation tokens processed.",
        &each(&|r| r.generation_tokens as f64),
    );
    page.counter(
        "vllm:prompt_tokens_cached",
        "Number of cached prompt tokens (local prefix cache hits).",
        &each(&|r| r.prefix_hits as f64),
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
    let hists = |f: &dyn Fn(&Rank) -> Histogram| -> Vec<(Labels<'_>, Histogram)> {
        ranks.iter().enumerate().map(|(i, r)| (labels(i), f(r))).collect()
    };
    page.histogram(
        "vllm:request_prompt_tokens",
        "Number of prefill tokens processed.",
        &hists(&|r| r.prompt_len.clone()),
    );
    page.histogram(
        "vllm:request_generation_tokens",
        "Number of generation tokens processed.",
        &hists(&|r| r.generation_len.clone()),
    );
    page.histogram(
        "vllm:time_to_first_token_seconds",
        "Histogram of time to first token in seconds.",
        &hists(&|r| r.ttft.clone()),
    );
    page.histogram(
        "vllm:inter_token_latency_seconds",
        "Histogram of inter-token latency in seconds.",
        &hists(&|r| r.itl.clone()),
    );
    page.histogram(
        "vllm:e2e_request_latency_seconds",
        "Histogram of e2e request latency in seconds.",
        &hists(&|r| r.e2e.clone()),
    );
    page.histogram(
        "vllm:request_queue_time_seconds",
        "Histogram of time spent in WAITING phase for request.",
        &hists(&|r| r.queue.clone()),
    );
    page.histogram(
        "vllm:request_prefill_time_seconds",
        "Histogram of time spent in PREFILL phase for request.",
        &hists(&|r| r.prefill.clone()),
    );
    page.histogram(
        "vllm:request_decode_time_seconds",
        "Histogram of time spent in DECODE phase for request.",
        &hists(&|r| r.decode.clone()),
    );
}

/// The imitated release's finish reasons (vLLM 0.33: stop, length, abort, error, repetition).
fn finish_reasons(sim: &Sim) -> Vec<String> {
    aimdeck::engine::facts::for_version(aimdeck::model::EngineKind::Vllm, sim.args.engine_version)
        .map(|facts| facts.registries.finish_reasons.values.clone())
        .unwrap_or_else(|| vec!["abort".into(), "length".into(), "stop".into()])
}

pub(super) fn legacy(sim: &Sim, page: &mut Page) {
    let model = vec![("model_name", sim.args.served_model_name.clone())];
    let r = merged(sim);
    let one = |v: f64| vec![(model.clone(), v)];
    page.gauge(
        "vllm:num_requests_running",
        "Number of requests currently running on GPU.",
        &one(r.running as f64),
    );
    page.gauge("vllm:num_requests_swapped", "Number of requests swapped to CPU.", &one(0.0));
    page.gauge(
        "vllm:num_requests_waiting",
        "Number of requests waiting to be processed.",
        &one(r.waiting as f64),
    );
    page.gauge(
        "vllm:gpu_cache_usage_perc",
        "GPU KV-cache usage. 1 means 100 percent usage.",
        &one(kv_usage(sim, &r)),
    );
    page.gauge(
        "vllm:cpu_cache_usage_perc",
        "CPU KV-cache usage. 1 means 100 percent usage.",
        &one(0.0),
    );
    let hit_rate =
        if r.prefix_queries > 0 { r.prefix_hits as f64 / r.prefix_queries as f64 } else { -1.0 };
    page.gauge(
        "vllm:gpu_prefix_cache_hit_rate",
        "GPU prefix cache block hit rate.",
        &one(hit_rate),
    );
    page.counter(
        "vllm:num_preemptions",
        "Cumulative number of preemption from the engine.",
        &one(r.preemptions as f64),
    );
    page.counter(
        "vllm:prompt_tokens",
        "Number of prefill tokens processed.",
        &one(r.prompt_tokens as f64),
    );
    page.counter(
        "vllm:generation_tokens",
        "Number of generation tokens processed.",
        &one(r.generation_tokens as f64),
    );
    let hist = |h: &Histogram| vec![(model.clone(), h.clone())];
    page.histogram(
        "vllm:time_to_first_token_seconds",
        "Histogram of time to first token in seconds.",
        &hist(&r.ttft),
    );
    page.histogram(
        "vllm:time_per_output_token_seconds",
        "Histogram of time per output token in seconds.",
        &hist(&r.itl),
    );
    page.histogram(
        "vllm:e2e_request_latency_seconds",
        "Histogram of end to end request latency in seconds.",
        &hist(&r.e2e),
    );
    let mut finished = Vec::new();
    for (reason, count) in &r.finished {
        let mut l = model.clone();
        l.push(("finished_reason", reason.to_string()));
        finished.push((l, *count as f64));
    }
    page.counter("vllm:request_success", "Count of successfully processed requests.", &finished);
}
