//! Renders `/metrics` the way the engines' Python `prometheus_client` does: `# HELP`/`# TYPE`
//! headers, labels sorted by name (both engines run the multiprocess collector, which sorts
//! them), values formatted like `floatToGoString`, cumulative `_bucket{le=...}` then `_sum`
//! and `_count` for histograms.

use std::fmt::Write;
use std::time::Instant;

use crate::args::{Flavor, MetricNames};
use crate::state::{Histogram, Rank, Sim};

pub fn render(sim: &Sim) -> String {
    let mut page = Page { out: String::with_capacity(32 * 1024) };
    match (sim.args.flavor, sim.args.metric_names) {
        (Flavor::Vllm, MetricNames::Current) => vllm_current(sim, &mut page),
        (Flavor::Vllm, MetricNames::Legacy) => vllm_legacy(sim, &mut page),
        (Flavor::Sglang, MetricNames::Current) => sglang(sim, &mut page, true),
        (Flavor::Sglang, MetricNames::Legacy) => sglang(sim, &mut page, false),
    }
    page.out
}

struct Page {
    out: String,
}

type Labels<'a> = Vec<(&'a str, String)>;

impl Page {
    fn header(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &Labels<'_>, value: f64) {
        let mut sorted: Vec<&(&str, String)> = labels.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        self.out.push_str(name);
        if !sorted.is_empty() {
            self.out.push('{');
            for (i, (key, val)) in sorted.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(
                    self.out,
                    "{key}=\"{}\"",
                    val.replace('\\', r"\\").replace('"', "\\\"").replace('\n', "\\n")
                );
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {}", go_float(value));
    }

    fn gauge(&mut self, name: &str, help: &str, series: &[(Labels<'_>, f64)]) {
        self.header(name, "gauge", help);
        for (labels, value) in series {
            self.sample(name, labels, *value);
        }
    }

    /// `name` without `_total`; prometheus_client adds it to the sample.
    fn counter(&mut self, name: &str, help: &str, series: &[(Labels<'_>, f64)]) {
        let total = format!("{name}_total");
        self.header(&total, "counter", help);
        for (labels, value) in series {
            self.sample(&total, labels, *value);
        }
    }

    fn histogram(&mut self, name: &str, help: &str, series: &[(Labels<'_>, Histogram)]) {
        self.header(name, "histogram", help);
        let bucket = format!("{name}_bucket");
        for (labels, hist) in series {
            self.sample(&format!("{name}_sum"), labels, hist.sum);
            let mut cumulative = 0u64;
            for (i, count) in hist.counts.iter().enumerate() {
                cumulative += count;
                let le = hist.bounds.get(i).map_or("+Inf".to_string(), |b| go_float(*b));
                let mut with_le = labels.clone();
                with_le.push(("le", le));
                self.sample(&bucket, &with_le, cumulative as f64);
            }
            self.sample(&format!("{name}_count"), labels, hist.count as f64);
        }
    }
}

/// Python `prometheus_client.utils.floatToGoString`: `repr(float)`, with Go's earlier switch to
/// exponent notation for values of 7 or more integer digits.
fn go_float(value: f64) -> String {
    if value == f64::INFINITY {
        return "+Inf".into();
    }
    if value == f64::NEG_INFINITY {
        return "-Inf".into();
    }
    if value.is_nan() {
        return "NaN".into();
    }
    let repr = format!("{value:?}");
    if let Some(dot) = repr.find('.') {
        if value > 0.0 && dot > 6 && !repr.contains('e') {
            let digits = format!("{}{}", &repr[1..dot], &repr[dot + 1..]);
            let mantissa = format!("{}.{}", &repr[..1], digits);
            let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
            return format!("{mantissa}e+0{}", dot - 1);
        }
    }
    // Python pads exponents to two digits: 7.71e-07.
    match repr.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => repr,
    }
}

fn ranks(sim: &Sim) -> Vec<std::sync::MutexGuard<'_, Rank>> {
    (0..sim.rank_count()).map(|i| sim.rank(i)).collect()
}

fn kv_usage(sim: &Sim, rank: &Rank) -> f64 {
    (rank.kv_tokens as f64 / sim.args.kv_cache_tokens as f64).min(1.0)
}

fn vllm_current(sim: &Sim, page: &mut Page) {
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

/// Sums every rank into one series: the old engines had no data-parallel labels.
fn merged(sim: &Sim) -> Rank {
    let ranks = ranks(sim);
    let mut total = Rank::empty_like(&ranks[0]);
    for r in ranks.iter() {
        total.absorb(r);
    }
    total
}

fn vllm_legacy(sim: &Sim, page: &mut Page) {
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

fn sglang(sim: &Sim, page: &mut Page, current: bool) {
    if current {
        return sglang_current(sim, page);
    }
    sglang_legacy(sim, page);
}

/// SGLang 0.5.23 (`srt/observability/metrics_collector.py`). Tokenizer metrics (one process
/// for every rank) carry `model_name` and `engine_type`, request counters and latencies also
/// `is_streaming`. Scheduler metrics carry `tp_rank`, `pp_rank`, `moe_ep_rank` (and `dp_rank`
/// with data parallelism) and come only from ranks with attn_tp_rank 0: one series per dp rank.
fn sglang_current(sim: &Sim, page: &mut Page) {
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
    let streaming = |v: f64| vec![(with(&[("is_streaming", "true")]), v)];
    page.counter(
        "sglang:prompt_tokens",
        "Number of prefill tokens processed.",
        &streaming(total.prompt_tokens as f64),
    );
    page.counter(
        "sglang:generation_tokens",
        "Number of generation tokens processed.",
        &streaming(total.generation_tokens as f64),
    );
    page.counter(
        "sglang:num_requests",
        "Number of requests processed.",
        &streaming(total.requests as f64),
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
    let stream_hist = |h: &Histogram| vec![(with(&[("is_streaming", "true")]), h.clone())];
    page.histogram(
        "sglang:time_to_first_token_seconds",
        "Histogram of time to first token in seconds.",
        &stream_hist(&total.ttft),
    );
    page.histogram(
        "sglang:e2e_request_latency_seconds",
        "Histogram of End-to-end request latency in seconds",
        &stream_hist(&total.e2e),
    );
    page.histogram(
        "sglang:inter_token_latency_seconds",
        "Histogram of inter-token latency in seconds.",
        &[(base.clone(), total.itl.clone())],
    );

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
fn sglang_legacy(sim: &Sim, page: &mut Page) {
    let model = sim.args.served_model_name.clone();
    let now = Instant::now();
    let total = merged(sim);
    let base = vec![("model_name", model.clone())];
    let one = |v: f64| vec![(base.clone(), v)];
    page.counter(
        "sglang:prompt_tokens",
        "Number of prefill tokens processed.",
        &one(total.prompt_tokens as f64),
    );
    page.counter(
        "sglang:generation_tokens",
        "Number of generation tokens processed.",
        &one(total.generation_tokens as f64),
    );
    let hist = |h: &Histogram| vec![(base.clone(), h.clone())];
    page.histogram(
        "sglang:time_to_first_token_seconds",
        "Histogram of time to first token in seconds.",
        &hist(&total.ttft),
    );
    page.histogram(
        "sglang:e2e_request_latency_seconds",
        "Histogram of End-to-end request latency in seconds",
        &hist(&total.e2e),
    );
    page.histogram(
        "sglang:inter_token_latency_seconds",
        "Histogram of inter-token latency in seconds.",
        &hist(&total.itl),
    );
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
