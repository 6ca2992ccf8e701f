//! Renders `/metrics` the way the engines' Python `prometheus_client` does: `# HELP`/`# TYPE`
//! headers, labels sorted by name (both engines run the multiprocess collector, which sorts
//! them), values formatted like `floatToGoString`, cumulative `_bucket{le=...}` then `_sum`
//! and `_count` for histograms.

mod families;
mod sglang;
mod vllm;

use std::fmt::Write;

use crate::args::{Flavor, MetricNames};
use crate::state::{Histogram, Rank, Sim};

pub fn render(sim: &Sim) -> String {
    let mut page = Page { out: String::with_capacity(32 * 1024) };
    match (sim.args.flavor, sim.args.metric_names) {
        (Flavor::Vllm, MetricNames::Current) => vllm::current(sim, &mut page),
        (Flavor::Vllm, MetricNames::Legacy) => vllm::legacy(sim, &mut page),
        (Flavor::Sglang, MetricNames::Current) => sglang::current(sim, &mut page),
        (Flavor::Sglang, MetricNames::Legacy) => sglang::legacy(sim, &mut page),
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
    if let Some(dot) = repr.find('.')
        && value > 0.0
        && dot > 6
        && !repr.contains('e')
    {
        let digits = format!("{}{}", &repr[1..dot], &repr[dot + 1..]);
        let mantissa = format!("{}.{}", &repr[..1], digits);
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        return format!("{mantissa}e+0{}", dot - 1);
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

/// Prefix cache hits per queried token; none before the first query.
fn prefix_hit_rate(rank: &Rank) -> Option<f64> {
    (rank.prefix_queries > 0).then(|| rank.prefix_hits as f64 / rank.prefix_queries as f64)
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
