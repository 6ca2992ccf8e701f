//! What the console keeps of each watched endpoint: its state and when it entered it, the last
//! hour of samples at 1 Hz, and its recent errors. Plain data: views read it without I/O.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Ring;
use crate::model::{EndpointSample, EndpointState, EndpointUpdate, EngineKind};

/// One hour at one sample per second.
pub const HISTORY_CAPACITY: usize = 3600;
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
    pub samples: Ring<EndpointSample>,
    pub errors: Ring<RecentError>,
    pub last_update_unix_ms: Option<i64>,
}

impl EndpointHistory {
    pub fn new(id: impl Into<String>) -> Self {
        EndpointHistory {
            id: id.into(),
            state: EndpointState::Starting,
            state_since_unix_ms: 0,
            engine: None,
            models: Vec::new(),
            samples: Ring::new(HISTORY_CAPACITY),
            errors: Ring::new(ERROR_CAPACITY),
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
        let at = update.sample.as_ref().map_or_else(|| jiff::Timestamp::now().as_millisecond(), |s| s.at_unix_ms);
        self.last_update_unix_ms = Some(at);
        if let Some(sample) = update.sample {
            self.samples.push(sample);
        }
        if let Some(message) = update.error {
            match self.errors.latest() {
                Some(last) if last.message == message => {
                    let mut last = last.clone();
                    last.repeats += 1;
                    last.at_unix_ms = at;
                    // Ring has no mutable access to its newest item; replace it in place.
                    let mut rebuilt = Ring::new(ERROR_CAPACITY);
                    let n = self.errors.len();
                    for (i, e) in self.errors.iter().enumerate() {
                        rebuilt.push(if i + 1 == n { last.clone() } else { e.clone() });
                    }
                    self.errors = rebuilt;
                }
                _ => self.errors.push(RecentError { at_unix_ms: at, message, repeats: 0 }),
            }
        }
    }

    pub fn latest(&self) -> Option<&EndpointSample> {
        self.samples.latest()
    }

    /// One value over time, for a chart: (Unix ms, value) for the samples that have it.
    pub fn series(&self, value: impl Fn(&EndpointSample) -> Option<f64>) -> Vec<(i64, f64)> {
        self.samples.iter().filter_map(|s| value(s).map(|v| (s.at_unix_ms, v))).collect()
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
}

impl EndpointHistories {
    pub fn apply(&mut self, update: EndpointUpdate) {
        self.by_id.entry(update.id.clone()).or_insert_with(|| EndpointHistory::new(update.id.clone())).apply(update);
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
            sample: Some(EndpointSample { at_unix_ms: at, requests_running: Some(at as f64), ..Default::default() }),
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
        assert_eq!(history.samples.len(), HISTORY_CAPACITY);
        assert_eq!(history.latest().unwrap().requests_running, Some(3999.0));
        assert_eq!(history.errors.len(), 1);
        assert_eq!(history.errors.latest().unwrap().repeats, 3999);
        assert_eq!(history.series(|s| s.requests_running).len(), HISTORY_CAPACITY);
    }
}
