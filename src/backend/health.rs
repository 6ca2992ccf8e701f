//! Readiness from the engine's own `/health`: 200 is ready, an error status is unhealthy (vLLM
//! answers 503 once its engine died; SGLang 503 while starting), no answer means still starting.
//! Path and timeout per engine come from `engine::readiness` (SGLang's `/health` generates a
//! token and takes over a second).

use std::time::Duration;

use crate::engine::readiness::health_check;
use crate::model::{EngineKind, ReplicaState};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Ready,
    Status(u16),
    NoAnswer(String),
}

impl Probe {
    /// The replica state for a running replica with this probe result.
    pub fn state(&self) -> (ReplicaState, Option<String>) {
        match self {
            Probe::Ready => (ReplicaState::Ready, None),
            Probe::Status(code) => {
                (ReplicaState::Unhealthy, Some(format!("/health answered {code}")))
            }
            Probe::NoAnswer(_) => (ReplicaState::Starting, None),
        }
    }
}

/// A client for health probes: short connect timeout (each probe sets its engine's answer timeout), no proxy (the engines are local), and no TLS
/// roots: probes are plain HTTP to 127.0.0.1, and loading the system's roots (every file under
/// `SSL_CERT_DIR` where that is set) cost each backend about 10 ms before the first frame and
/// 66 KB of heap for as long as the console runs.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(800))
        .connect_timeout(Duration::from_millis(300))
        .no_proxy()
        .tls_certs_only(std::iter::empty())
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

pub async fn probe(client: &reqwest::Client, port: u16, engine: EngineKind) -> Probe {
    let check = health_check(Some(engine));
    let url = format!("http://127.0.0.1:{port}{}", check.path);
    match client.get(url).timeout(check.timeout).send().await {
        Ok(response) if response.status().is_success() => Probe::Ready,
        Ok(response) => Probe::Status(response.status().as_u16()),
        Err(err) => Probe::NoAnswer(err.to_string()),
    }
}
