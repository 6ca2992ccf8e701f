//! Live endpoint data as the console shows it: plain values, no I/O. The monitor fills these
//! from `/health` and `/metrics`; views and `--json` output read them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::recipe::EngineKind;

/// Where an endpoint is in its life, from its health answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointState {
    /// Not answering yet (connection refused, or SGLang's 503 before it was ever ready).
    Starting,
    /// `/health` answers 200.
    Ready,
    /// It answers, but not 200 (503: engine dead), or it stopped answering in time.
    Unhealthy,
    /// It was up and now refuses connections or cannot be reached.
    Down,
}

impl EndpointState {
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointState::Starting => "starting",
            EndpointState::Ready => "ready",
            EndpointState::Unhealthy => "unhealthy",
            EndpointState::Down => "down",
        }
    }
}

impl std::fmt::Display for EndpointState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Latency percentiles in seconds; `None` when no request finished in the window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

/// One poll of one endpoint, all engines and ranks behind it combined.
/// Rates are per second over the time since the previous poll; `None` on the first poll or
/// when the engine does not export the metric.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointSample {
    /// When the metrics were read (Unix milliseconds).
    pub at_unix_ms: i64,
    pub requests_running: Option<f64>,
    pub requests_waiting: Option<f64>,
    /// KV cache in use, 0..1 (the mean over data-parallel engines).
    pub kv_cache_usage: Option<f64>,
    pub prompt_tokens_per_s: Option<f64>,
    pub generation_tokens_per_s: Option<f64>,
    /// Finished requests per second.
    pub requests_per_s: Option<f64>,
    /// Finished requests per second by finish reason (`stop`, `length`, `abort`...).
    pub requests_per_s_by_reason: BTreeMap<String, f64>,
    /// Time to first token over the sliding window.
    pub ttft: Percentiles,
    /// Inter-token latency (time per output token) over the sliding window.
    pub itl: Percentiles,
    /// End-to-end request latency over the sliding window.
    pub e2e: Percentiles,
    /// Prefix cache hits / queries over the last poll interval, 0..1 (SGLang: its gauge).
    pub prefix_cache_hit_rate: Option<f64>,
    pub preemptions_per_s: Option<f64>,
    /// Counters since the engine started (they restart with it).
    pub prompt_tokens_total: Option<f64>,
    pub generation_tokens_total: Option<f64>,
    pub requests_total: Option<f64>,
    pub preemptions_total: Option<f64>,
}

/// What a poller reports after each poll.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointUpdate {
    pub id: String,
    pub state: EndpointState,
    /// When the endpoint entered `state` (Unix milliseconds).
    pub state_since_unix_ms: i64,
    pub engine: Option<EngineKind>,
    /// Model ids from `/v1/models`.
    pub models: Vec<String>,
    /// Present when the metrics were read this poll.
    pub sample: Option<EndpointSample>,
    /// Why the poll failed, in words, when it did.
    pub error: Option<String>,
    /// How long the poll took (health, metrics and parsing), in milliseconds.
    pub poll_ms: f64,
}

/// Where a starting replica is, read from its health and its log (in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartupPhase {
    /// The backend is pulling the container image (reported by the backend, not the engine).
    PullingImage,
    DownloadingWeights,
    LoadingWeights,
    /// Memory profiling, KV cache allocation, torch.compile, CUDA/HIP graph capture.
    WarmingUp,
    Ready,
}

impl StartupPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            StartupPhase::PullingImage => "pulling image",
            StartupPhase::DownloadingWeights => "downloading weights",
            StartupPhase::LoadingWeights => "loading",
            StartupPhase::WarmingUp => "warming up",
            StartupPhase::Ready => "ready",
        }
    }
}
