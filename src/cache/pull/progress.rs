//! Live progress of a pull, as plain snapshots a view can store and draw without I/O.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileState {
    Pending,
    Downloading,
    /// The blob was already in the cache (another revision, or an earlier pull).
    Cached,
    Done,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileProgress {
    /// Path in the repo (`model-00001-of-00004.safetensors`).
    pub path: String,
    pub state: FileState,
    pub done_bytes: u64,
    /// From `X-Linked-Size`/`Content-Length`; 0 until the file's metadata is known.
    pub total_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PullPhase {
    /// Asking the Hub for the revision's file list.
    Resolving,
    Downloading,
    Finished,
    Cancelled,
    Failed,
}

/// One snapshot of a pull; each event replaces the previous one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PullProgress {
    pub repo_id: String,
    pub revision: String,
    /// Known once the Hub answered.
    pub commit_hash: Option<String>,
    pub phase: PullPhase,
    pub files: Vec<FileProgress>,
    pub files_done: usize,
    pub files_total: usize,
    /// Bytes on disk for this revision so far, resumed and cached bytes included.
    pub done_bytes: u64,
    pub total_bytes: u64,
    /// Bytes received per second over the last few seconds.
    pub bytes_per_second: f64,
    /// Seconds left at the current rate; `None` while the rate is unknown.
    pub eta_seconds: Option<f64>,
}

impl PullProgress {
    pub fn fraction(&self) -> f64 {
        if self.total_bytes == 0 {
            0.0
        } else {
            (self.done_bytes as f64 / self.total_bytes as f64).min(1.0)
        }
    }
}

/// Transfer rate over a sliding window of recent samples of received bytes.
#[derive(Debug)]
pub(crate) struct RateMeter {
    window: Duration,
    samples: VecDeque<(Instant, u64)>,
}

impl RateMeter {
    pub fn new(window: Duration) -> RateMeter {
        RateMeter { window, samples: VecDeque::new() }
    }

    /// Records the running total of received bytes at `now` and returns bytes per second.
    pub fn sample(&mut self, now: Instant, received: u64) -> f64 {
        self.samples.push_back((now, received));
        while self.samples.len() > 2
            && self.samples.front().is_some_and(|(t, _)| now.duration_since(*t) > self.window)
        {
            self.samples.pop_front();
        }
        match (self.samples.front(), self.samples.back()) {
            (Some((t0, b0)), Some((t1, b1))) if t1 > t0 => {
                (b1 - b0) as f64 / t1.duration_since(*t0).as_secs_f64()
            }
            _ => 0.0,
        }
    }
}

pub(crate) fn eta(remaining: u64, rate: f64) -> Option<f64> {
    if remaining == 0 {
        Some(0.0)
    } else if rate > 0.0 {
        Some(remaining as f64 / rate)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_is_bytes_over_the_window() {
        let mut meter = RateMeter::new(Duration::from_secs(3));
        let t0 = Instant::now();
        assert_eq!(meter.sample(t0, 0), 0.0);
        assert_eq!(meter.sample(t0 + Duration::from_secs(1), 1000), 1000.0);
        assert_eq!(meter.sample(t0 + Duration::from_secs(2), 3000), 1500.0);
        // Old samples fall out of the window: only the last 3 seconds count.
        assert_eq!(meter.sample(t0 + Duration::from_secs(5), 3000), 0.0);
        assert_eq!(eta(3000, 1500.0), Some(2.0));
        assert_eq!(eta(10, 0.0), None);
    }
}
