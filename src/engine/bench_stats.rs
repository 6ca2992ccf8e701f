//! The benchmark's statistics, defined as `vllm bench serve` defines them (vLLM 0.33.0,
//! `vllm/benchmarks/serve.py` `calculate_metrics`, `check_goodput_args`):
//! - percentiles as numpy's default (linear interpolation between closest ranks);
//! - TPOT per request = (latency - TTFT) / (output tokens - 1), for requests of 2+ tokens;
//!   for goodput a 1-token request counts as TPOT 0;
//! - goodput: requests meeting every SLO given (`metric <= slo`), per second of the run.

use serde::Serialize;

use super::openai::StreamSummary;

/// Statistics of one latency, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LatencyStats {
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

/// `numpy.percentile(values, 100 * q)` of sorted values (its default, linear method).
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let position = q.clamp(0.0, 1.0) * last as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    let (a, b) = (sorted[low.min(last)], sorted[high.min(last)]);
    Some(a + (b - a) * (position - low as f64))
}

pub fn stats(mut values: Vec<f64>) -> LatencyStats {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return LatencyStats::default();
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    LatencyStats {
        mean: Some(mean),
        p50: percentile(&values, 0.50),
        p90: percentile(&values, 0.90),
        p95: percentile(&values, 0.95),
        p99: percentile(&values, 0.99),
        max: values.last().copied(),
    }
}

/// Service-level objectives for goodput, in milliseconds (`--goodput ttft:MS tpot:MS e2el:MS`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Slos {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpot_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e2el_ms: Option<f64>,
}

impl Slos {
    pub fn is_empty(&self) -> bool {
        self.ttft_ms.is_none() && self.tpot_ms.is_none() && self.e2el_ms.is_none()
    }

    /// Parses `KEY:MS` pairs; keys are `ttft`, `tpot`, `e2el`, values non-negative numbers.
    pub fn parse<S: AsRef<str>>(pairs: &[S]) -> Result<Slos, String> {
        let mut slos = Slos::default();
        for pair in pairs {
            let pair = pair.as_ref();
            let (key, value) = pair.split_once(':').ok_or_else(|| {
                format!("--goodput: `{pair}` is not KEY:MS (e.g. ttft:500 tpot:50 e2el:2000)")
            })?;
            let ms: f64 =
                value.trim().parse().ok().filter(|v: &f64| v.is_finite()).ok_or_else(|| {
                    format!("--goodput: `{value}` in `{pair}` is not a number of milliseconds")
                })?;
            if ms < 0.0 {
                return Err(format!("--goodput: `{pair}`: the objective must be non-negative"));
            }
            let slot = match key.trim() {
                "ttft" => &mut slos.ttft_ms,
                "tpot" => &mut slos.tpot_ms,
                "e2el" => &mut slos.e2el_ms,
                other => {
                    return Err(format!(
                        "--goodput: unknown metric `{other}`, expected ttft, tpot or e2el"
                    ));
                }
            };
            *slot = Some(ms);
        }
        Ok(slos)
    }

    /// Whether one finished request meets every objective. A request without a token has no
    /// TTFT and never counts (vLLM counts it as failed).
    pub fn met_by(&self, request: &StreamSummary) -> bool {
        let Some(ttft) = request.ttft_s else { return false };
        let within =
            |slo_ms: Option<f64>, seconds: f64| slo_ms.is_none_or(|ms| seconds <= ms / 1000.0);
        within(self.ttft_ms, ttft)
            && within(self.tpot_ms, request.tpot_s.unwrap_or(0.0))
            && within(self.e2el_ms, request.e2e_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_like_numpy() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = stats(values);
        // numpy.percentile(range(1, 101), [50, 99]) == [50.5, 99.01]
        assert_eq!(s.p50, Some(50.5));
        assert!((s.p99.expect("p99") - 99.01).abs() < 1e-9);
        assert_eq!(s.max, Some(100.0));
        assert_eq!(s.mean, Some(50.5));
        assert_eq!(stats(vec![]).p50, None);
        assert_eq!(percentile(&[7.0], 0.9), Some(7.0));
    }

    fn request(ttft: f64, latency: f64, tokens: u64) -> StreamSummary {
        let tpot = (tokens > 1).then(|| (latency - ttft) / (tokens - 1) as f64);
        StreamSummary {
            ttft_s: Some(ttft),
            e2e_s: latency,
            completion_tokens: tokens,
            tpot_s: tpot,
            ..Default::default()
        }
    }

    #[test]
    fn goodput_counts_requests_meeting_every_objective() {
        let slos = Slos::parse(&["ttft:200", "tpot:50", "e2el:1000"]).expect("valid");
        assert_eq!(slos, Slos { ttft_ms: Some(200.0), tpot_ms: Some(50.0), e2el_ms: Some(1000.0) });
        // TPOT (0.6 - 0.1) / 10 = 50 ms: on the objective counts as met (vLLM: slo >= value).
        assert!(slos.met_by(&request(0.1, 0.6, 11)));
        assert!(!slos.met_by(&request(0.3, 0.6, 11)), "TTFT over");
        assert!(!slos.met_by(&request(0.1, 0.9, 11)), "TPOT 80 ms over");
        assert!(!slos.met_by(&request(0.1, 1.1, 101)), "E2E over");
        // One token: TPOT counts as 0.
        assert!(slos.met_by(&request(0.1, 0.1, 1)));
        assert!(!slos.met_by(&StreamSummary::default()), "no token, no TTFT");
        assert!(Slos::parse(&["ttft:200"]).expect("one").met_by(&request(0.2, 9.0, 3)));
    }

    #[test]
    fn bad_objectives_are_refused_with_the_reason() {
        assert!(Slos::parse(&["itl:5"]).unwrap_err().contains("unknown metric `itl`"));
        assert!(Slos::parse(&["ttft=5"]).unwrap_err().contains("is not KEY:MS"));
        assert!(Slos::parse(&["ttft:fast"]).unwrap_err().contains("not a number"));
        assert!(Slos::parse(&["tpot:-1"]).unwrap_err().contains("non-negative"));
        assert!(Slos::parse::<&str>(&[]).expect("none").is_empty());
    }
}
