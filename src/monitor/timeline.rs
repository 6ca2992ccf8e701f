//! The numbers an endpoint's charts plot, kept for an hour in little memory: one fixed-size
//! point per poll (`f32` values, NaN for "not reported"; no strings, no maps, no heap per
//! sample) for the last `RECENT_POINTS` polls, and before that `BUCKET_MS` means.
//!
//! Two resolutions, by what the console draws of the endpoint:
//! - `Timeline::new` (charted): the charts show the last 5 minutes, every poll of them, so the
//!   newest 330 polls (5.5 minutes at 1 Hz: the window and 30 s of slack for late polls) stay
//!   at full rate, and the rest of the hour is 55 one-minute means: 385 points of 56 bytes,
//!   about 22 KB per endpoint.
//! - `Timeline::summary` (never charted: a deployment's replicas after the first, whose
//!   detail charts replica 0): the hour as 60 one-minute means beside the newest poll, 61
//!   points, about 3.4 KB. A fleet of 500 deployments x 4 replicas holds 500 charted and 1,500
//!   summary timelines.
//!
//! The finish-reason map, the counters and the end-to-end percentiles are not plotted; the
//! newest full sample (kept by `EndpointHistory`) carries them.

use super::Ring;
use crate::model::EndpointSample;

/// Polls kept at full rate by a charted timeline: 5.5 minutes at the default 1 s interval,
/// so a 5-minute chart is drawn from polls only.
pub const RECENT_POINTS: usize = 330;
/// Older polls are averaged over buckets of this many milliseconds of wall clock...
pub const BUCKET_MS: i64 = 60_000;
/// ...and a charted timeline keeps this many of them: 55 minutes, so it covers an hour.
pub const OLDER_POINTS: usize = 55;
/// The minute means a summary timeline keeps: the hour.
pub const SUMMARY_POINTS: usize = 60;

/// A number the views plot over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    RequestsRunning,
    RequestsWaiting,
    KvCacheUsage,
    PromptTokensPerS,
    GenerationTokensPerS,
    RequestsPerS,
    TtftP50,
    TtftP95,
    TtftP99,
    ItlP50,
    ItlP95,
    ItlP99,
}

const METRICS: usize = 12;

impl Metric {
    pub const ALL: [Metric; METRICS] = [
        Metric::RequestsRunning,
        Metric::RequestsWaiting,
        Metric::KvCacheUsage,
        Metric::PromptTokensPerS,
        Metric::GenerationTokensPerS,
        Metric::RequestsPerS,
        Metric::TtftP50,
        Metric::TtftP95,
        Metric::TtftP99,
        Metric::ItlP50,
        Metric::ItlP95,
        Metric::ItlP99,
    ];

    /// This metric's value in a full sample.
    pub fn of(self, sample: &EndpointSample) -> Option<f64> {
        match self {
            Metric::RequestsRunning => sample.requests_running,
            Metric::RequestsWaiting => sample.requests_waiting,
            Metric::KvCacheUsage => sample.kv_cache_usage,
            Metric::PromptTokensPerS => sample.prompt_tokens_per_s,
            Metric::GenerationTokensPerS => sample.generation_tokens_per_s,
            Metric::RequestsPerS => sample.requests_per_s,
            Metric::TtftP50 => sample.ttft.p50,
            Metric::TtftP95 => sample.ttft.p95,
            Metric::TtftP99 => sample.ttft.p99,
            Metric::ItlP50 => sample.itl.p50,
            Metric::ItlP95 => sample.itl.p95,
            Metric::ItlP99 => sample.itl.p99,
        }
    }
}

/// One poll (or one bucket's mean) of every plotted metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub at_unix_ms: i64,
    values: [f32; METRICS],
}

impl Point {
    pub fn from_sample(sample: &EndpointSample) -> Point {
        // f32 keeps 7 significant digits: far finer than a chart cell.
        let values = Metric::ALL.map(|metric| metric.of(sample).map_or(f32::NAN, |v| v as f32));
        Point { at_unix_ms: sample.at_unix_ms, values }
    }

    pub fn get(&self, metric: Metric) -> Option<f64> {
        let value = self.values[metric as usize];
        (!value.is_nan()).then_some(f64::from(value))
    }
}

/// The sums of the bucket being filled by polls leaving the recent ring.
#[derive(Debug, Clone)]
struct Bucket {
    id: i64,
    polls: i64,
    at_sum: i64,
    sums: [f64; METRICS],
    counts: [u32; METRICS],
}

impl Bucket {
    fn new(id: i64) -> Bucket {
        Bucket { id, polls: 0, at_sum: 0, sums: [0.0; METRICS], counts: [0; METRICS] }
    }

    fn add(&mut self, point: &Point) {
        self.polls += 1;
        self.at_sum += point.at_unix_ms;
        for (i, value) in point.values.iter().enumerate() {
            if !value.is_nan() {
                self.sums[i] += f64::from(*value);
                self.counts[i] += 1;
            }
        }
    }

    /// The mean of the polls so far, at their mean time; a metric no poll reported stays NaN.
    fn mean(&self) -> Point {
        let mut values = [f32::NAN; METRICS];
        for (i, value) in values.iter_mut().enumerate() {
            if self.counts[i] > 0 {
                *value = (self.sums[i] / f64::from(self.counts[i])) as f32;
            }
        }
        Point { at_unix_ms: self.at_sum / self.polls.max(1), values }
    }
}

#[derive(Debug, Clone)]
pub struct Timeline {
    recent: Ring<Point>,
    older: Ring<Point>,
    filling: Option<Bucket>,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline::new()
    }
}

impl Timeline {
    /// A charted endpoint's timeline: full rate for the charts' minutes, minute means before.
    pub fn new() -> Timeline {
        Timeline { recent: Ring::new(RECENT_POINTS), older: Ring::new(OLDER_POINTS), filling: None }
    }

    /// An endpoint the console never charts: its newest poll and an hour of minute means.
    pub fn summary() -> Timeline {
        Timeline { recent: Ring::new(1), older: Ring::new(SUMMARY_POINTS), filling: None }
    }

    pub fn push(&mut self, sample: &EndpointSample) {
        if let Some(left) = self.recent.push(Point::from_sample(sample)) {
            self.fold(&left);
        }
    }

    fn fold(&mut self, point: &Point) {
        let id = point.at_unix_ms.div_euclid(BUCKET_MS);
        if self.filling.as_ref().is_some_and(|bucket| bucket.id != id)
            && let Some(done) = self.filling.take()
        {
            self.older.push(done.mean());
        }
        self.filling.get_or_insert_with(|| Bucket::new(id)).add(point);
    }

    /// Every point, oldest first: the bucket means, the bucket being filled, the recent polls.
    pub fn points(&self) -> impl Iterator<Item = Point> + '_ {
        self.older
            .iter()
            .copied()
            .chain(self.filling.as_ref().map(Bucket::mean))
            .chain(self.recent.iter().copied())
    }

    /// The recent polls at full rate, oldest first.
    pub fn recent(&self) -> impl Iterator<Item = &Point> {
        self.recent.iter()
    }

    pub fn len(&self) -> usize {
        self.older.len() + usize::from(self.filling.is_some()) + self.recent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.recent.is_empty()
    }

    /// `metric` from `since_unix_ms` on, as (Unix ms, value) for the points that have it.
    pub fn series_since(&self, metric: Metric, since_unix_ms: i64) -> Vec<(i64, f64)> {
        // The recent ring alone answers a chart of the last minutes without touching the rest.
        let recent_covers =
            self.recent.iter().next().is_some_and(|p| p.at_unix_ms <= since_unix_ms);
        let pick = |p: &Point| {
            (p.at_unix_ms >= since_unix_ms)
                .then(|| p.get(metric).map(|v| (p.at_unix_ms, v)))
                .flatten()
        };
        if recent_covers {
            self.recent.iter().filter_map(pick).collect()
        } else {
            self.points().filter_map(|p| pick(&p)).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_unix_ms: i64, running: Option<f64>) -> EndpointSample {
        EndpointSample {
            at_unix_ms,
            requests_running: running,
            generation_tokens_per_s: Some(at_unix_ms as f64 / 1000.0),
            ..Default::default()
        }
    }

    #[test]
    fn an_hour_at_one_hertz_is_the_charts_minutes_at_full_rate_and_minute_means_before() {
        let mut timeline = Timeline::new();
        for second in 0..3600 {
            timeline.push(&sample(second * 1000, Some(1.0)));
        }
        let points: Vec<Point> = timeline.points().collect();
        assert_eq!(timeline.recent().count(), RECENT_POINTS);
        // 3,270 polls left the recent ring: 54 full minutes and the one being filled.
        assert_eq!(points.len(), 54 + 1 + RECENT_POINTS);
        assert_eq!(points.len(), timeline.len());
        assert!(
            points.windows(2).all(|w| w[0].at_unix_ms < w[1].at_unix_ms),
            "oldest first, no overlap"
        );
        // The first bucket holds seconds 0..59: its mean time is 29.5 s and its mean rate 29.5.
        assert_eq!(points[0].at_unix_ms, 29_500);
        assert_eq!(points[0].get(Metric::GenerationTokensPerS), Some(29.5));
        assert_eq!(points.last().unwrap().at_unix_ms, 3_599_000);
        assert!(points.iter().all(|p| p.get(Metric::RequestsRunning) == Some(1.0)));
    }

    #[test]
    fn memory_stays_flat_after_the_hour() {
        let mut timeline = Timeline::new();
        for second in 0..4 * 3600 {
            timeline.push(&sample(second * 1000, None));
        }
        assert_eq!(timeline.len(), OLDER_POINTS + 1 + RECENT_POINTS);
        let oldest = timeline.points().next().unwrap().at_unix_ms;
        // The oldest mean is about an hour before the newest poll.
        let newest = (4 * 3600 - 1) * 1000;
        assert!((newest - oldest - 3_600_000).abs() < 60_000, "oldest point {oldest}");
    }

    /// What a chart draws (the last 5 minutes) is every poll of those minutes, unchanged,
    /// however long the endpoint has been watched and however irregular its polls.
    #[test]
    fn the_charts_five_minutes_are_every_poll_as_it_came() {
        let mut timeline = Timeline::new();
        let mut sent = Vec::new();
        let mut at = 0i64;
        for poll in 0..2 * 3600i64 {
            // 1 s polls that finish 0-90 ms late, and a 20 s outage every 10 minutes.
            at += 1000 + (poll * 37) % 91 + if poll % 600 == 599 { 20_000 } else { 0 };
            let running = (poll % 17) as f64 + 0.25;
            timeline.push(&sample(at, Some(running)));
            sent.push((at, running));
            let since = at - 300_000;
            if poll % 97 == 0 || poll > 2 * 3600 - 5 {
                let drawn = timeline.series_since(Metric::RequestsRunning, since);
                let polls: Vec<(i64, f64)> =
                    sent.iter().copied().filter(|(t, _)| *t >= since).collect();
                assert_eq!(drawn, polls, "poll {poll}");
            }
        }
    }

    #[test]
    fn a_summary_keeps_an_hour_of_minute_means_and_the_newest_poll() {
        let mut timeline = Timeline::summary();
        for second in 0..2 * 3600 {
            timeline.push(&sample(second * 1000, Some((second % 60) as f64)));
        }
        let points: Vec<Point> = timeline.points().collect();
        // 60 minute means, the minute being filled, the newest poll.
        assert_eq!(points.len(), SUMMARY_POINTS + 2);
        assert_eq!(timeline.recent().count(), 1);
        let newest = 2 * 3600 * 1000 - 1000;
        assert_eq!(points.last().unwrap().at_unix_ms, newest);
        assert!((newest - points[0].at_unix_ms - 3_600_000).abs() < 60_000);
        // Each full minute's mean of 0..59 is 29.5, at the middle of its minute.
        for mean in &points[..SUMMARY_POINTS] {
            assert_eq!(mean.get(Metric::RequestsRunning), Some(29.5));
            assert_eq!(mean.at_unix_ms % 60_000, 29_500);
        }
        // A chart of it (were one drawn) gets the means of its window and the newest poll.
        assert_eq!(timeline.series_since(Metric::RequestsRunning, newest - 300_000).len(), 6);
    }

    #[test]
    fn missing_values_stay_missing_and_do_not_drag_means_down() {
        let mut timeline = Timeline::new();
        // Polls alternate between a reading and none for `requests_running`.
        for second in 0..(RECENT_POINTS as i64 + 20) {
            timeline.push(&sample(second * 1000, (second % 2 == 0).then_some(8.0)));
        }
        let first = timeline.points().next().unwrap();
        assert_eq!(first.get(Metric::RequestsRunning), Some(8.0));
        let recent: Vec<Option<f64>> =
            timeline.recent().take(2).map(|p| p.get(Metric::RequestsRunning)).collect();
        assert_eq!(recent, vec![Some(8.0), None]);
        assert_eq!(timeline.points().next().unwrap().get(Metric::TtftP95), None);
    }

    #[test]
    fn series_since_reads_only_what_is_asked() {
        let mut timeline = Timeline::new();
        for second in 0..3600 {
            timeline.push(&sample(second * 1000, Some(second as f64)));
        }
        let last_five_minutes = timeline.series_since(Metric::RequestsRunning, 3_300_000);
        assert_eq!(last_five_minutes.len(), 300);
        assert_eq!(last_five_minutes[0], (3_300_000, 3300.0));
        let all = timeline.series_since(Metric::RequestsRunning, i64::MIN);
        assert_eq!(all.len(), timeline.len());
        assert_eq!(all[0], (29_500, 29.5));
    }
}
