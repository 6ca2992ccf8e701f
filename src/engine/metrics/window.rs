//! Turns successive snapshots of one endpoint into `EndpointSample`s: rates from counter deltas
//! over a 10 s window (`rates`; an engine restart resets its counters, the new value then is
//! the delta), percentiles from histogram bucket deltas over a sliding window.

use std::collections::VecDeque;

use super::histogram::Histogram;
use super::rates::{RATE_WINDOW_MS, RateWindow};
use super::snapshot::Snapshot;
use crate::model::{EndpointSample, Percentiles};

/// How far back latency percentiles look.
pub const DEFAULT_WINDOW_MS: i64 = 60_000;

struct Latencies {
    at_unix_ms: i64,
    ttft: Option<Histogram>,
    itl: Option<Histogram>,
    e2e: Option<Histogram>,
}

pub struct SampleWindow {
    window_ms: i64,
    /// Counter rates over their own (shorter) window: `rates::RATE_WINDOW_MS`.
    rates: RateWindow,
    latencies: VecDeque<Latencies>,
    /// True after a restart: the histograms count from zero, so they are their own delta.
    from_zero: bool,
}

impl Default for SampleWindow {
    fn default() -> Self {
        SampleWindow::new(DEFAULT_WINDOW_MS)
    }
}

fn percentiles(hist: Option<&Histogram>) -> Percentiles {
    match hist {
        Some(h) if h.count > 0.0 => {
            Percentiles { p50: h.quantile(0.5), p95: h.quantile(0.95), p99: h.quantile(0.99) }
        }
        _ => Percentiles::default(),
    }
}

impl SampleWindow {
    pub fn new(window_ms: i64) -> Self {
        SampleWindow {
            window_ms: window_ms.max(1),
            rates: RateWindow::new(RATE_WINDOW_MS),
            latencies: VecDeque::new(),
            from_zero: false,
        }
    }

    /// Forgets everything (the endpoint went away; its next counters are not deltas of these).
    pub fn reset(&mut self) {
        self.rates.reset();
        self.latencies.clear();
        self.from_zero = false;
    }

    pub fn push(&mut self, at_unix_ms: i64, snap: Snapshot) -> EndpointSample {
        let mut sample = EndpointSample {
            at_unix_ms,
            requests_running: snap.requests_running,
            requests_waiting: snap.requests_waiting,
            kv_cache_usage: snap.kv_cache_usage,
            prompt_tokens_total: snap.prompt_tokens,
            generation_tokens_total: snap.generation_tokens,
            requests_total: snap.requests_finished,
            preemptions_total: snap.preemptions,
            prefix_cache_hit_rate: snap.prefix_cache_hit_rate,
            ..EndpointSample::default()
        };

        let rates = self.rates.push(at_unix_ms, &snap);
        sample.prompt_tokens_per_s = rates.prompt_tokens_per_s;
        sample.generation_tokens_per_s = rates.generation_tokens_per_s;
        sample.requests_per_s = rates.requests_per_s;
        sample.preemptions_per_s = rates.preemptions_per_s;
        sample.requests_per_s_by_reason = rates.requests_per_s_by_reason;
        if rates.prefix_cache_hit_rate.is_some() {
            // Counted hits over queries win over SGLang's gauge when both are there.
            sample.prefix_cache_hit_rate = rates.prefix_cache_hit_rate;
        }

        self.slide(at_unix_ms, &snap);
        let newest = self.latencies.back();
        let oldest = self.latencies.front();
        let delta = |pick: fn(&Latencies) -> Option<&Histogram>| -> Option<Histogram> {
            let now = pick(newest?)?;
            if self.from_zero {
                return Some(now.clone());
            }
            if self.latencies.len() < 2 {
                return None;
            }
            now.since(pick(oldest?)?)
        };
        sample.ttft = percentiles(delta(|l| l.ttft.as_ref()).as_ref());
        sample.itl = percentiles(delta(|l| l.itl.as_ref()).as_ref());
        sample.e2e = percentiles(delta(|l| l.e2e.as_ref()).as_ref());

        sample
    }

    /// Adds this scrape's histograms and drops those older than the window, keeping the newest
    /// one at or before the window's start as the baseline.
    fn slide(&mut self, at_unix_ms: i64, snap: &Snapshot) {
        let restarted = self.latencies.back().is_some_and(|last| {
            [(&last.ttft, &snap.ttft), (&last.itl, &snap.itl), (&last.e2e, &snap.e2e)].iter().any(
                |(then, now)| matches!((then, now), (Some(t), Some(n)) if n.since(t).is_none()),
            )
        });
        if restarted {
            self.latencies.clear();
            self.from_zero = true;
        }
        self.latencies.push_back(Latencies {
            at_unix_ms,
            ttft: snap.ttft.clone(),
            itl: snap.itl.clone(),
            e2e: snap.e2e.clone(),
        });
        let start = at_unix_ms - self.window_ms;
        while self.latencies.len() > 1
            && self.latencies.get(1).is_some_and(|l| l.at_unix_ms <= start)
        {
            self.latencies.pop_front();
            // The baseline is now a real scrape, not the engine's start.
            self.from_zero = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(prompt: f64, ttft: &[(f64, f64)]) -> Snapshot {
        Snapshot {
            prompt_tokens: Some(prompt),
            ttft: Histogram::from_buckets(ttft.to_vec(), 0.0, None),
            ..Snapshot::default()
        }
    }

    #[test]
    fn rates_come_from_counter_deltas_and_survive_a_reset() {
        let mut window = SampleWindow::default();
        assert_eq!(window.push(0, snap(100.0, &[])).prompt_tokens_per_s, None);
        assert_eq!(window.push(2000, snap(300.0, &[])).prompt_tokens_per_s, Some(100.0));
        // The engine restarted and has processed 50 tokens since: 200 + 50 over the 3 s.
        let after = window.push(3000, snap(50.0, &[])).prompt_tokens_per_s;
        assert_eq!(after.map(|v| v.round()), Some(83.0));
    }

    #[test]
    fn percentiles_cover_only_the_window() {
        let mut window = SampleWindow::new(10_000);
        let inf = f64::INFINITY;
        window.push(0, snap(0.0, &[(0.1, 100.0), (1.0, 100.0), (inf, 100.0)]));
        // Ten slow requests after the start: the old fast ones must not dilute them.
        let s = window.push(5_000, snap(0.0, &[(0.1, 100.0), (1.0, 110.0), (inf, 110.0)]));
        assert!(s.ttft.p50.unwrap() > 0.1, "{:?}", s.ttft);
        // 20 s later the window holds only the last two scrapes: nothing new, no percentiles.
        window.push(20_000, snap(0.0, &[(0.1, 100.0), (1.0, 110.0), (inf, 110.0)]));
        let s = window.push(25_000, snap(0.0, &[(0.1, 100.0), (1.0, 110.0), (inf, 110.0)]));
        assert_eq!(s.ttft.p50, None);
    }

    #[test]
    fn after_a_restart_the_new_histogram_is_the_delta() {
        let mut window = SampleWindow::default();
        let inf = f64::INFINITY;
        window.push(0, snap(0.0, &[(0.1, 50.0), (inf, 50.0)]));
        let s = window.push(1_000, snap(0.0, &[(0.1, 0.0), (1.0, 0.0), (inf, 4.0)]));
        assert_eq!(s.ttft.p50, Some(1.0));
    }
}
