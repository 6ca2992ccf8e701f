//! How to ask each engine whether it is ready: the path and how long its answer may take.
//! One place for the Docker/process readiness probe (`backend::health`), the endpoint poller
//! (`monitor::endpoint_poller`) and the Kubernetes probes (`backend::kubernetes::render`).
//!
//! vLLM 0.33: `GET /health` asks the engine core whether it is alive and answers at once.
//! SGLang 0.5.23 (`srt/entrypoints/http_server.py`): `/health` is the same handler as
//! `/health_generate`. It submits a one-token generation and then checks, after each
//! `asyncio.sleep(1)`, whether the scheduler answered: never in under a second, and up to
//! `SGLANG_HEALTH_CHECK_TIMEOUT` (20 s) before it answers 503. `/ready` only asks the tokenizer
//! manager, and `SGLANG_ENABLE_HEALTH_ENDPOINT_GENERATION=0` turns `/health` into a bare 200:
//! both would call a server with a wedged scheduler ready. So aimdeck keeps `/health` and gives
//! SGLang a timeout that covers the one-second generation with room for a busy batch.

use std::time::Duration;

use crate::model::EngineKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthCheck {
    pub path: &'static str,
    /// How long one answer may take before the probe counts as "no answer".
    pub timeout: Duration,
}

impl HealthCheck {
    /// The timeout in whole seconds, rounded up (Kubernetes `timeoutSeconds`).
    pub fn timeout_secs(&self) -> i32 {
        self.timeout.as_secs_f64().ceil() as i32
    }
}

/// The readiness check for an engine; `None` (not known yet) gets the most patient one, so
/// an SGLang server is not taken for a hung one before its engine is known.
pub fn health_check(engine: Option<EngineKind>) -> HealthCheck {
    match engine {
        Some(EngineKind::Vllm) => HealthCheck { path: "/health", timeout: Duration::from_secs(2) },
        Some(EngineKind::Sglang) | None => {
            HealthCheck { path: "/health", timeout: Duration::from_secs(5) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sglang_gets_room_for_its_one_second_generation() {
        let sglang = health_check(Some(EngineKind::Sglang));
        assert!(sglang.timeout >= Duration::from_secs(2));
        assert_eq!(sglang.timeout_secs(), 5);
        assert_eq!(health_check(None), sglang);
        assert_eq!(health_check(Some(EngineKind::Vllm)).path, "/health");
    }
}
