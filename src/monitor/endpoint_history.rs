//! What the console keeps of each watched endpoint: its state and when it entered it, its newest
//! sample in full, an hour of the plotted numbers (`Timeline`: compact, full rate for the
//! charts' minutes and minute means before them, or minute means only for an endpoint that is
//! never charted) and its recent errors. Plain data: views read it without I/O.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Ring;
use super::timeline::{Metric, Timeline};
use crate::model::{EndpointSample, EndpointState, EndpointUpdate, EngineKind};

pub const ERROR_CAPACITY: usize = 50;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecentError {
    pub at_unix_ms: i64,
    pub message: String,
    /// The same message again in a row counts here instead of filling the list.
    pub repeats: u32,
}

#[derive(Debug, Clone)]
pub struct EndpointHistory {
    pub id: String,
    pub state: EndpointState,
    pub state_since_unix_ms: i64,
    pub engine: Option<EngineKind>,
    pub models: Vec<String>,
    /// The newest sample with everything it carries (finish reasons, counters, e2e latency).
    latest: Option<EndpointSample>,
    /// The plotted numbers over the last hour.
    pub timeline: Timeline,
    pub errors: Ring<RecentError>,
    pub last_update_unix_ms: Option<i64>,
}

impl EndpointHistory {
    /// A charted endpoint's history (`Timeline::new`).
    pub fn new(id: impl Into<String>) -> Self {
        EndpointHistory::with_timeline(id, Timeline::new())
    }

    /// The history of an endpoint the console never charts (`Timeline::summary`).
    pub fn summary(id: impl Into<String>) -> Self {
        EndpointHistory::with_timeline(id, Timeline::summary())
    }

    fn with_timeline(id: impl Into<String>, timeline: Timeline) -> Self {
        EndpointHistory {
            id: id.into(),
            state: EndpointState::Starting,
            state_since_unix_ms: 0,
            engine: None,
            models: Vec::new(),
            latest: None,
            timeline,
            // Most endpoints have no error: 2 KB each reserved up front is 4 MB for a fleet.
            errors: Ring::growing(ERROR_CAPACITY),
            last_update_unix_ms: None,
        }
    }

    pub fn apply(&mut self, update: EndpointUpdate) {
        self.state = update.state;
        self.state_since_unix_ms = update.state_since_unix_ms;
        if update.engine.is_some() {
            self.engine = update.engine;
        }
        if !update.models.is_empty() {
            self.models = update.models;
        }
        let at = update
            .sample
            .as_ref()
            .map_or_else(|| jiff::Timestamp::now().as_millisecond(), |s| s.at_unix_ms);
        self.last_update_unix_ms = Some(at);
        if let Some(sample) = update.sample {
            self.timeline.push(&sample);
            self.latest = Some(sample);
        }
        if let Some(message) = update.error {
            match self.errors.latest_mut() {
                Some(last) if last.message == message => {
                    last.repeats += 1;
                    last.at_unix_ms = at;
                }
                _ => {
                    self.errors.push(RecentError { at_unix_ms: at, message, repeats: 0 });
                }
            }
        }
    }

    pub fn latest(&self) -> Option<&EndpointSample> {
        self.latest.as_ref()
    }

    /// One metric over the last hour, for a chart: (Unix ms, value) where it was reported.
    pub fn series(&self, metric: Metric) -> Vec<(i64, f64)> {
        self.timeline.series_since(metric, i64::MIN)
    }

    /// Seconds in the current state, as of `now_unix_ms`.
    pub fn seconds_in_state(&self, now_unix_ms: i64) -> f64 {
        ((now_unix_ms - self.state_since_unix_ms).max(0)) as f64 / 1000.0
    }
}

/// Every watched endpoint's history by id: apply each `EndpointUpdate` from the monitor here.
#[derive(Debug, Clone, Default)]
pub struct EndpointHistories {
    pub by_id: BTreeMap<String, EndpointHistory>,
    /// The ids whose charts can be drawn; the others keep summary timelines. Every id when
    /// unset.
    charted: Option<fn(&str) -> bool>,
}

impl EndpointHistories {
    /// Histories with full-rate timelines only for the ids `charted` accepts.
    pub fn charting(charted: fn(&str) -> bool) -> Self {
        EndpointHistories { by_id: BTreeMap::new(), charted: Some(charted) }
    }

    pub fn apply(&mut self, update: EndpointUpdate) {
        // Looked up before inserting: an owned key per poll would be a heap allocation per sample.
        match self.by_id.get_mut(&update.id) {
            Some(history) => history.apply(update),
            None => {
                let mut history = if self.charted.is_none_or(|charted| charted(&update.id)) {
                    EndpointHistory::new(update.id.clone())
                } else {
                    EndpointHistory::summary(update.id.clone())
                };
                let id = update.id.clone();
                history.apply(update);
                self.by_id.insert(id, history);
            }
        }
    }

    pub fn get(&self, id: &str) -> Option<&EndpointHistory> {
        self.by_id.get(id)
    }

    pub fn remove(&mut self, id: &str) {
        self.by_id.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(state: EndpointState, error: Option<&str>, at: i64) -> EndpointUpdate {
        EndpointUpdate {
            id: "a".into(),
            state,
            state_since_unix_ms: at,
            engine: None,
            models: vec![],
            sample: Some(EndpointSample {
                at_unix_ms: at,
                requests_running: Some(at as f64),
                ..Default::default()
            }),
            error: error.map(str::to_string),
            poll_ms: 1.0,
        }
    }

    #[test]
    fn keeps_an_hour_of_samples_and_folds_repeated_errors() {
        let mut book = EndpointHistories::default();
        for at in 0..4000 {
            book.apply(update(EndpointState::Ready, Some("GET /metrics answered 404"), at));
        }
        let history = book.get("a").unwrap();
        assert_eq!(history.timeline.recent().count(), crate::monitor::timeline::RECENT_POINTS);
        assert_eq!(history.latest().unwrap().requests_running, Some(3999.0));
        assert_eq!(history.errors.len(), 1);
        assert_eq!(history.errors.latest().unwrap().repeats, 3999);
        assert_eq!(history.errors.latest().unwrap().at_unix_ms, 3999);
        let running = history.series(Metric::RequestsRunning);
        assert_eq!(running.len(), history.timeline.len());
        assert_eq!(running.last(), Some(&(3999, 3999.0)));
    }

    #[test]
    fn only_the_ids_charted_keep_full_rate_timelines() {
        let mut book = EndpointHistories::charting(|id| !id.ends_with("/1"));
        for at in 0..3600 {
            for id in ["deploy:a", "deploy:a/1"] {
                book.apply(EndpointUpdate {
                    id: id.into(),
                    ..update(EndpointState::Ready, None, at)
                });
            }
        }
        let charted = book.get("deploy:a").unwrap();
        let summary = book.get("deploy:a/1").unwrap();
        assert_eq!(charted.timeline.recent().count(), crate::monitor::timeline::RECENT_POINTS);
        assert_eq!(summary.timeline.recent().count(), 1);
        assert!(summary.timeline.len() <= crate::monitor::timeline::SUMMARY_POINTS + 2);
        // Both keep the newest sample whole: the rows add up the replicas' newest numbers.
        assert_eq!(summary.latest().unwrap().requests_running, Some(3599.0));
        assert!(summary.errors.is_empty());
    }
}
