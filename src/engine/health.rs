//! Health semantics shared by both engines (DESIGN.md section 3): connection refused while an
//! engine starts, `/health` 200 when ready, 503 when the engine died (SGLang also answers 503
//! while it warms up, so a 503 before the first 200 still means starting).

use std::time::Duration;

use crate::model::EndpointState;

/// What one `GET /health` got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthProbe {
    /// An HTTP answer with this status.
    Status(u16),
    /// Nothing listens on the port.
    Refused,
    /// No answer within the timeout (a hung server).
    TimedOut,
    /// The host cannot be reached, or the connection broke mid-answer.
    Unreachable(String),
}

impl HealthProbe {
    pub fn describe(&self) -> String {
        match self {
            HealthProbe::Status(code) => format!("/health answered {code}"),
            HealthProbe::Refused => "connection refused".into(),
            HealthProbe::TimedOut => "no answer in time".into(),
            HealthProbe::Unreachable(why) => why.clone(),
        }
    }

    /// Whether the server answered at all (a poller then reads its metrics too).
    pub fn answered(&self) -> bool {
        matches!(self, HealthProbe::Status(_))
    }
}

/// The state after a probe. `was_ready`: the endpoint answered 200 at some point before.
pub fn state_after(probe: &HealthProbe, was_ready: bool) -> EndpointState {
    match probe {
        HealthProbe::Status(200..=299) => EndpointState::Ready,
        HealthProbe::Status(_) if !was_ready => EndpointState::Starting,
        HealthProbe::Status(_) => EndpointState::Unhealthy,
        HealthProbe::Refused if !was_ready => EndpointState::Starting,
        HealthProbe::Refused => EndpointState::Down,
        HealthProbe::TimedOut => {
            if was_ready {
                EndpointState::Unhealthy
            } else {
                EndpointState::Starting
            }
        }
        HealthProbe::Unreachable(_) => EndpointState::Down,
    }
}

/// Sorts a reqwest error into a probe result.
pub fn classify(err: &reqwest::Error) -> HealthProbe {
    if err.is_timeout() {
        return HealthProbe::TimedOut;
    }
    if err.is_connect() {
        let text = error_chain(err);
        if text.contains("refused") {
            return HealthProbe::Refused;
        }
        return HealthProbe::Unreachable(text);
    }
    HealthProbe::Unreachable(error_chain(err))
}

/// The error and its causes in one line (reqwest's top-level message alone says little).
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// One `GET {base}/health` with the client's timeout.
pub async fn probe(client: &reqwest::Client, base_url: &str, timeout: Duration) -> HealthProbe {
    let url = format!("{}/health", base_url.trim_end_matches('/'));
    match client.get(url).timeout(timeout).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            // Read the (empty) body so a server stalled mid-answer counts as hung.
            match tokio::time::timeout(timeout, response.bytes()).await {
                Ok(Ok(_)) => HealthProbe::Status(status),
                Ok(Err(err)) => classify(&err),
                Err(_) => HealthProbe::TimedOut,
            }
        }
        Err(err) => classify(&err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engines_health_answers_map_to_states() {
        assert_eq!(state_after(&HealthProbe::Refused, false), EndpointState::Starting);
        assert_eq!(state_after(&HealthProbe::Status(200), false), EndpointState::Ready);
        assert_eq!(state_after(&HealthProbe::Status(503), true), EndpointState::Unhealthy);
        // SGLang answers 503 while it warms up.
        assert_eq!(state_after(&HealthProbe::Status(503), false), EndpointState::Starting);
        assert_eq!(state_after(&HealthProbe::Refused, true), EndpointState::Down);
        assert_eq!(state_after(&HealthProbe::TimedOut, true), EndpointState::Unhealthy);
        assert_eq!(
            state_after(&HealthProbe::Unreachable("no route".into()), false),
            EndpointState::Down
        );
    }
}
