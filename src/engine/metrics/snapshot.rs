//! One metrics page reduced to the signals the console shows, every engine and rank behind the
//! endpoint combined:
//! - series that differ only by `tp_rank`/`pp_rank` are one engine seen from several ranks:
//!   the largest is taken (adding them would count the batch once per rank);
//! - the rest (vLLM's `engine`, SGLang's `dp_rank`, several models) are added up, or averaged
//!   for fractions (KV cache use, hit-rate gauges);
//! - a signal is read from its newest name present on the page, never from two names.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::histogram::Histogram;
use super::names::{self, Combine, HISTOGRAMS, RANK_LABELS, SCALARS, Signal, combine};
use super::parse::{Page, Sample};
use crate::model::EngineKind;

/// Cumulative values from one scrape (counters since the engine started).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Snapshot {
    pub engine: Option<EngineKind>,
    /// `model_name` labels seen on the engine's metrics.
    pub models: Vec<String>,
    pub requests_running: Option<f64>,
    pub requests_waiting: Option<f64>,
    pub kv_cache_usage: Option<f64>,
    pub prompt_tokens: Option<f64>,
    pub generation_tokens: Option<f64>,
    pub requests_finished: Option<f64>,
    pub requests_finished_by_reason: BTreeMap<String, f64>,
    pub preemptions: Option<f64>,
    pub prefix_cache_queries: Option<f64>,
    pub prefix_cache_hits: Option<f64>,
    pub prefix_cache_hit_rate: Option<f64>,
    pub ttft: Option<Histogram>,
    pub itl: Option<Histogram>,
    pub e2e: Option<Histogram>,
    pub queue_time: Option<Histogram>,
    pub prompt_tokens_cached: Option<f64>,
    /// Aborted requests (SGLang's counter, vLLM's `abort` finish reason).
    pub requests_aborted: Option<f64>,
    /// SGLang's decode throughput gauge, tokens/s summed over dp ranks.
    pub gen_throughput: Option<f64>,
    pub utilization: Option<f64>,
    /// KV cache capacity in tokens over every engine behind the endpoint.
    pub kv_capacity_tokens: Option<f64>,
    pub prefill_time: Option<Histogram>,
    pub decode_time: Option<Histogram>,
}

/// The engine a page comes from: the prefix most of its engine metrics carry.
pub fn detect_engine(page: &Page<'_>) -> Option<EngineKind> {
    let (mut vllm, mut sglang) = (0usize, 0usize);
    for sample in &page.samples {
        match names::engine_of(sample.name) {
            Some(EngineKind::Vllm) => vllm += 1,
            Some(EngineKind::Sglang) => sglang += 1,
            None => {}
        }
    }
    match (vllm, sglang) {
        (0, 0) => None,
        (v, s) if v >= s => Some(EngineKind::Vllm),
        _ => Some(EngineKind::Sglang),
    }
}

/// Series keys: a hash of the labels that tell engines apart, and one of those that tell ranks
/// apart. Order-independent (a sum of per-label hashes), and no allocation per sample: a 1 MB
/// page has ten thousand samples, read every second for every endpoint.
fn keys(sample: &Sample<'_>, skip: &[&str]) -> (u64, u64) {
    let mut group = 0u64;
    let mut rank = 0u64;
    for label in &sample.labels {
        let h = label_hash(label.name, &label.value);
        if RANK_LABELS.contains(&label.name) {
            rank = rank.wrapping_add(h);
        } else if !skip.contains(&label.name) {
            group = group.wrapping_add(h);
        }
    }
    (group, rank)
}

fn label_hash(name: &str, value: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut hasher);
    value.hash(&mut hasher);
    hasher.finish()
}

/// Values of one scalar signal: group key -> largest value over ranks.
#[derive(Default)]
struct Scalar {
    groups: HashMap<u64, f64>,
    /// For finished requests: group key (with the reason) -> reason.
    reasons: HashMap<u64, String>,
}

impl Scalar {
    fn add(&mut self, group: u64, value: f64) {
        if !value.is_finite() {
            return;
        }
        let slot = self.groups.entry(group).or_insert(f64::NEG_INFINITY);
        *slot = slot.max(value);
    }

    fn total(&self, how: Combine) -> Option<f64> {
        let values: Vec<f64> = self.groups.values().copied().filter(|v| *v >= 0.0).collect();
        if values.is_empty() {
            return None;
        }
        let sum: f64 = values.iter().sum();
        Some(match how {
            Combine::Sum => sum,
            Combine::Mean => sum / values.len() as f64,
        })
    }
}

/// Buckets of one histogram series being assembled.
#[derive(Default, Clone)]
struct Partial {
    buckets: Vec<(f64, f64)>,
    sum: f64,
    count: Option<f64>,
}

pub fn snapshot(page: &Page<'_>) -> Snapshot {
    let engine = detect_engine(page);
    let mut out = Snapshot { engine, ..Snapshot::default() };
    let Some(engine) = engine else { return out };

    // name -> (signal, rank of the name among the signal's names)
    let mut wanted: HashMap<&'static str, (Signal, usize)> = HashMap::new();
    for signal in SCALARS.iter().chain(HISTOGRAMS.iter()) {
        for (rank, name) in names::names(engine, *signal).iter().enumerate() {
            wanted.entry(name).or_insert((*signal, rank));
        }
    }
    // Prompt tokens double as SGLang's prefix-cache queries: one name, two signals.
    let queries_alias = (engine == EngineKind::Sglang).then_some("sglang:prompt_tokens_total");

    let mut scalars: HashMap<(Signal, usize), Scalar> = HashMap::new();
    let mut hists: HashMap<(Signal, usize), HashMap<(u64, u64), Partial>> = HashMap::new();
    let mut models: Vec<String> = Vec::new();

    for sample in &page.samples {
        if names::engine_of(sample.name).is_none() {
            continue;
        }
        if let Some(model) = sample.label("model_name")
            && !models.iter().any(|m| m == model)
        {
            models.push(model.to_string());
        }
        if sample.name == "vllm:cache_config_info" {
            // An info gauge: the cache's size is in its labels, one series per engine.
            let label = |name: &str| sample.label(name).and_then(|v| v.parse::<f64>().ok());
            if let (Some(blocks), Some(size)) = (label("num_gpu_blocks"), label("block_size")) {
                let (group, _) = keys(sample, &["num_gpu_blocks", "block_size"]);
                scalars.entry((Signal::KvCapacityTokens, 0)).or_default().add(group, blocks * size);
            }
            continue;
        }
        if let Some(&(signal, rank)) = wanted.get(sample.name) {
            let reason_label = (signal == Signal::RequestsFinished).then_some("finished_reason");
            let skip: &[&str] = if reason_label.is_some() { &["finished_reason"] } else { &[] };
            let (group, _rank) = keys(sample, skip);
            let entry = scalars.entry((signal, rank)).or_default();
            match sample.label("finished_reason").filter(|_| reason_label.is_some()) {
                Some(reason) => {
                    let key = group.wrapping_add(label_hash("finished_reason", reason));
                    entry.reasons.entry(key).or_insert_with(|| reason.to_string());
                    entry.add(key, sample.value);
                }
                None => entry.add(group, sample.value),
            }
            if Some(sample.name) == queries_alias {
                let (group, _) = keys(sample, &[]);
                scalars
                    .entry((Signal::PrefixCacheQueries, 0))
                    .or_default()
                    .add(group, sample.value);
            }
            continue;
        }
        let (base, part) = if let Some(base) = sample.name.strip_suffix("_bucket") {
            (base, 0)
        } else if let Some(base) = sample.name.strip_suffix("_sum") {
            (base, 1)
        } else if let Some(base) = sample.name.strip_suffix("_count") {
            (base, 2)
        } else {
            continue;
        };
        let Some(&(signal, rank)) = wanted.get(base) else { continue };
        if !HISTOGRAMS.contains(&signal) {
            continue;
        }
        let key = keys(sample, &["le"]);
        let partial = hists.entry((signal, rank)).or_default().entry(key).or_default();
        match part {
            0 => {
                let Some(le) = sample.label("le").and_then(parse_le) else { continue };
                partial.buckets.push((le, sample.value));
            }
            1 => partial.sum = sample.value,
            _ => partial.count = Some(sample.value),
        }
    }
    out.models = models;

    let pick_scalar = |signal: Signal| -> Option<&Scalar> {
        (0..4).find_map(|rank| scalars.get(&(signal, rank)).filter(|s| !s.groups.is_empty()))
    };
    let value = |signal: Signal| pick_scalar(signal).and_then(|s| s.total(combine(signal)));
    out.requests_running = value(Signal::Running);
    out.requests_waiting = value(Signal::Waiting);
    out.kv_cache_usage = value(Signal::KvCacheUsage);
    out.prompt_tokens = value(Signal::PromptTokens);
    out.generation_tokens = value(Signal::GenerationTokens);
    out.preemptions = value(Signal::Preemptions);
    out.prefix_cache_queries = value(Signal::PrefixCacheQueries);
    out.prefix_cache_hits = value(Signal::PrefixCacheHits);
    out.prefix_cache_hit_rate = value(Signal::PrefixCacheHitRate);
    out.prompt_tokens_cached = match engine {
        EngineKind::Vllm => value(Signal::PromptTokensCached),
        EngineKind::Sglang => out.prefix_cache_hits,
    };
    out.gen_throughput = value(Signal::GenThroughput);
    out.utilization = value(Signal::Utilization);
    out.kv_capacity_tokens = value(Signal::KvCapacityTokens);
    out.requests_aborted = value(Signal::Aborted);
    if let Some(finished) = pick_scalar(Signal::RequestsFinished) {
        out.requests_finished = finished.total(Combine::Sum);
        for (key, count) in &finished.groups {
            if let Some(reason) = finished.reasons.get(key) {
                *out.requests_finished_by_reason.entry(reason.clone()).or_insert(0.0) +=
                    count.max(0.0);
            }
        }
    }

    let pick_hist = |signal: Signal| -> Option<Histogram> {
        let series =
            (0..4).find_map(|rank| hists.get(&(signal, rank)).filter(|h| !h.is_empty()))?;
        // Per engine, the rank that saw the most requests; then engines added up.
        let mut per_group: HashMap<u64, Histogram> = HashMap::new();
        for ((group, _rank), partial) in series {
            let Some(hist) =
                Histogram::from_buckets(partial.buckets.clone(), partial.sum, partial.count)
            else {
                continue;
            };
            match per_group.get(group) {
                Some(best) if best.count >= hist.count => {}
                _ => {
                    per_group.insert(*group, hist);
                }
            }
        }
        let mut total: Option<Histogram> = None;
        for hist in per_group.into_values() {
            total = Some(match total {
                None => hist,
                Some(t) => t.merged(&hist),
            });
        }
        total
    };
    out.ttft = pick_hist(Signal::Ttft);
    out.itl = pick_hist(Signal::Itl);
    out.e2e = pick_hist(Signal::E2e);
    out.queue_time = pick_hist(Signal::QueueTime);
    out.prefill_time = pick_hist(Signal::PrefillTime);
    out.decode_time = pick_hist(Signal::DecodeTime);
    if out.requests_aborted.is_none() {
        out.requests_aborted = out.requests_finished_by_reason.get("abort").copied();
    }
    out
}

fn parse_le(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" | "inf" | "+inf" => Some(f64::INFINITY),
        _ => text.parse().ok().filter(|v: &f64| !v.is_nan()),
    }
}
