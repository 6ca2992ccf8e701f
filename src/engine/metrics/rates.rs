//! Counter rates over a sliding window. A rate from only the last two scrapes jumps with
//! every poll (`req/s 8.0` then `0.0` when requests finish in bursts), and a tokens/s chart
//! made of such rates peaks far above what a benchmark over the same traffic measures. Rates
//! here are the counters' increase over the last `RATE_WINDOW_MS` (or since the first scrape,
//! when the endpoint is younger) divided by that time: what `rate(x[10s])` gives in
//! Prometheus, and, for a benchmark longer than the window, the benchmark's own definition
//! (output tokens over wall time).

use std::collections::{BTreeMap, VecDeque};

use super::snapshot::Snapshot;

/// How far back rates look: stated in the Endpoints view's help and detail as "10 s".
pub const RATE_WINDOW_MS: i64 = 10_000;

/// The counters of one scrape.
#[derive(Debug, Clone)]
struct Counters {
    at_unix_ms: i64,
    prompt_tokens: Option<f64>,
    generation_tokens: Option<f64>,
    requests_finished: Option<f64>,
    preemptions: Option<f64>,
    by_reason: BTreeMap<String, f64>,
    prefix_queries: Option<f64>,
    prefix_hits: Option<f64>,
}

impl Counters {
    fn of(at_unix_ms: i64, snap: &Snapshot) -> Counters {
        Counters {
            at_unix_ms,
            prompt_tokens: snap.prompt_tokens,
            generation_tokens: snap.generation_tokens,
            requests_finished: snap.requests_finished,
            preemptions: snap.preemptions,
            by_reason: snap.requests_finished_by_reason.clone(),
            prefix_queries: snap.prefix_cache_queries,
            prefix_hits: snap.prefix_cache_hits,
        }
    }
}

/// What the window gives for the newest scrape; `None` where a counter is not exported or
/// there is no earlier scrape yet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rates {
    pub prompt_tokens_per_s: Option<f64>,
    pub generation_tokens_per_s: Option<f64>,
    pub requests_per_s: Option<f64>,
    pub preemptions_per_s: Option<f64>,
    pub requests_per_s_by_reason: BTreeMap<String, f64>,
    /// Prefix cache hits over queries in the window, 0..1.
    pub prefix_cache_hit_rate: Option<f64>,
}

/// Increase of a counter between two scrapes; after a reset (the value went down) the new
/// value is the increase, as the engine counted from zero since.
pub(super) fn increase(now: Option<f64>, then: Option<f64>) -> Option<f64> {
    let now = now?;
    let then = then?;
    Some(if now >= then { now - then } else { now })
}

pub struct RateWindow {
    window_ms: i64,
    /// Oldest first; the front is the newest scrape at or before the window's start (the
    /// baseline), so the window is covered whole once the endpoint is old enough.
    scrapes: VecDeque<Counters>,
}

impl RateWindow {
    pub fn new(window_ms: i64) -> RateWindow {
        RateWindow { window_ms: window_ms.max(1), scrapes: VecDeque::new() }
    }

    pub fn reset(&mut self) {
        self.scrapes.clear();
    }

    /// Adds a scrape and returns the rates over the window ending at it.
    pub fn push(&mut self, at_unix_ms: i64, snap: &Snapshot) -> Rates {
        if self.scrapes.back().is_some_and(|last| at_unix_ms <= last.at_unix_ms) {
            // A clock step backwards: start again rather than divide by a negative time.
            self.scrapes.clear();
        }
        self.scrapes.push_back(Counters::of(at_unix_ms, snap));
        let start = at_unix_ms - self.window_ms;
        while self.scrapes.len() > 2 && self.scrapes.get(1).is_some_and(|c| c.at_unix_ms <= start) {
            self.scrapes.pop_front();
        }
        self.rates()
    }

    fn rates(&self) -> Rates {
        let (Some(first), Some(last)) = (self.scrapes.front(), self.scrapes.back()) else {
            return Rates::default();
        };
        let seconds = (last.at_unix_ms - first.at_unix_ms) as f64 / 1000.0;
        if self.scrapes.len() < 2 || seconds <= 0.0 {
            return Rates::default();
        }
        // Each step's increase, so a reset inside the window is counted as the engine did.
        let total = |pick: fn(&Counters) -> Option<f64>| -> Option<f64> {
            let pairs = self.scrapes.iter().zip(self.scrapes.iter().skip(1));
            pairs.map(|(then, now)| increase(pick(now), pick(then))).sum()
        };
        let rate = |pick: fn(&Counters) -> Option<f64>| total(pick).map(|d| d / seconds);
        let mut by_reason = BTreeMap::new();
        for reason in last.by_reason.keys() {
            let pairs = self.scrapes.iter().zip(self.scrapes.iter().skip(1));
            let sum: f64 = pairs
                .filter_map(|(then, now)| {
                    let before = then.by_reason.get(reason).copied().unwrap_or(0.0);
                    increase(now.by_reason.get(reason).copied(), Some(before))
                })
                .sum();
            by_reason.insert(reason.clone(), sum / seconds);
        }
        let hit_rate = match (total(|c| c.prefix_queries), total(|c| c.prefix_hits)) {
            (Some(q), Some(h)) if q > 0.0 => Some((h / q).clamp(0.0, 1.0)),
            _ => None,
        };
        Rates {
            prompt_tokens_per_s: rate(|c| c.prompt_tokens),
            generation_tokens_per_s: rate(|c| c.generation_tokens),
            requests_per_s: rate(|c| c.requests_finished),
            preemptions_per_s: rate(|c| c.preemptions),
            requests_per_s_by_reason: by_reason,
            prefix_cache_hit_rate: hit_rate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(n: f64) -> Snapshot {
        Snapshot {
            requests_finished: Some(n),
            generation_tokens: Some(n * 100.0),
            ..Snapshot::default()
        }
    }

    #[test]
    fn a_burst_is_spread_over_the_window_instead_of_jumping_between_polls() {
        let mut window = RateWindow::new(RATE_WINDOW_MS);
        assert_eq!(window.push(0, &finished(0.0)).requests_per_s, None, "one scrape: no rate");
        // Eight requests finish in the second second, then nothing for eight seconds.
        window.push(1_000, &finished(0.0));
        assert_eq!(window.push(2_000, &finished(8.0)).requests_per_s, Some(4.0));
        let mut last = None;
        for s in 3..=10 {
            last = window.push(s * 1_000, &finished(8.0)).requests_per_s;
        }
        // Per-poll rates would read 0.0 here; over the last 10 s it is 8 requests / 10 s.
        assert_eq!(last, Some(0.8));
        // Once the burst is more than 10 s old, it is out of the window.
        let later = window.push(13_000, &finished(8.0));
        assert_eq!(later.requests_per_s, Some(0.0));
        assert_eq!(later.generation_tokens_per_s, Some(0.0));
    }

    #[test]
    fn a_reset_inside_the_window_counts_what_the_engine_did() {
        let mut window = RateWindow::new(RATE_WINDOW_MS);
        window.push(0, &finished(100.0));
        window.push(2_000, &finished(300.0));
        // The engine restarted and has finished 50 requests since: 200 + 50 over 3 s.
        let r = window.push(3_000, &finished(50.0));
        assert_eq!(r.requests_per_s.map(|v| (v * 1000.0).round() / 1000.0), Some(83.333));
    }

    #[test]
    fn a_counter_the_engine_does_not_export_has_no_rate() {
        let mut window = RateWindow::new(RATE_WINDOW_MS);
        window.push(0, &Snapshot::default());
        let r = window.push(1_000, &Snapshot::default());
        assert_eq!(r.requests_per_s, None);
        assert_eq!(r.prefix_cache_hit_rate, None);
    }

    #[test]
    fn prefix_hits_are_a_ratio_over_the_window() {
        let snap = |q: f64, h: f64| Snapshot {
            prefix_cache_queries: Some(q),
            prefix_cache_hits: Some(h),
            ..Snapshot::default()
        };
        let mut window = RateWindow::new(RATE_WINDOW_MS);
        window.push(0, &snap(0.0, 0.0));
        window.push(1_000, &snap(100.0, 90.0));
        let r = window.push(2_000, &snap(200.0, 100.0));
        assert_eq!(r.prefix_cache_hit_rate, Some(0.5));
    }
}
