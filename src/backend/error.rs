//! Backend errors: each says what failed and why, in words a user can act on.

use super::allocator::AllocationError;
use super::kubernetes::K8sError;

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("invalid deployment: {0}")]
    InvalidSpec(String),
    #[error("deployment `{0}` not found")]
    NotFound(String),
    #[error("deployment `{0}` already exists; scale it or remove it first")]
    AlreadyExists(String),
    #[error("unknown backend `{0}`, expected one of: docker, process, k8s")]
    UnknownBackend(String),
    #[error("port {port} on 127.0.0.1 is already taken ({detail}); pick another with --port")]
    PortTaken { port: u16, detail: String },
    #[error(transparent)]
    Gpus(#[from] AllocationError),
    #[error("cannot reach the Docker engine at {host}: {detail}")]
    DockerUnreachable { host: String, detail: String },
    #[error("image `{image}` is not on this host and could not be pulled: {detail}")]
    ImageUnavailable { image: String, detail: String },
    #[error("Docker engine: {action}: {detail}")]
    Docker { action: String, detail: String },
    #[error("{action} failed: {cause}{}", rollback_note(.leftovers))]
    RolledBack { action: String, cause: Box<BackendError>, leftovers: Vec<String> },
    #[error("cannot start `{program}`: {detail}")]
    Spawn { program: String, detail: String },
    #[error("{path}: {detail}")]
    State { path: std::path::PathBuf, detail: String },
    /// Another aimdeck process (or task) holds the deployment's lock.
    #[error("`{name}` is being {holder}; try again when it is done")]
    Busy { name: String, holder: String },
    /// A call that got no answer within its bound.
    #[error("{backend}: no answer from {endpoint} in {} s", .after.as_secs())]
    NoAnswer { backend: String, endpoint: String, after: std::time::Duration },
    /// The Kubernetes API server's answer, classified (forbidden, invalid, conflict, not
    /// found, timeout, ...) so callers can match it; [`BackendError::kind`] sorts it.
    #[error("kubernetes: {0}")]
    Kubernetes(#[from] K8sError),
    #[error("{0}")]
    Other(String),
}

/// What sort of failure a [`BackendError`] is, whichever backend it came from, for callers that
/// act on it (retry a timeout, treat not-found as done) rather than only show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The deployment (or the object asked for) does not exist.
    NotFound,
    /// It exists already, someone else holds it, or another writer changed it first.
    Conflict,
    /// The cluster refused the call: the credentials lack a permission.
    Forbidden,
    /// No answer within the call's bound.
    Timeout,
    /// The request itself is wrong (a spec, a field) and would fail again as it is.
    Invalid,
    /// The engine or API server could not be reached or configured.
    Unreachable,
    /// Anything else (a failed rollout, a state file, a process that would not start).
    Other,
}

impl BackendError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            BackendError::NotFound(_) => ErrorKind::NotFound,
            BackendError::AlreadyExists(_) | BackendError::Busy { .. } => ErrorKind::Conflict,
            BackendError::InvalidSpec(_) | BackendError::UnknownBackend(_) => ErrorKind::Invalid,
            BackendError::NoAnswer { .. } => ErrorKind::Timeout,
            BackendError::DockerUnreachable { .. } => ErrorKind::Unreachable,
            BackendError::RolledBack { cause, .. } => cause.kind(),
            BackendError::Kubernetes(err) => match err {
                K8sError::NotFound(_) => ErrorKind::NotFound,
                K8sError::Conflict { .. } => ErrorKind::Conflict,
                K8sError::Forbidden { .. } => ErrorKind::Forbidden,
                K8sError::Timeout { .. } => ErrorKind::Timeout,
                K8sError::Invalid { .. } | K8sError::Render { .. } => ErrorKind::Invalid,
                K8sError::Config(_) | K8sError::Transport { .. } => ErrorKind::Unreachable,
                K8sError::Api { .. } => ErrorKind::Other,
            },
            BackendError::PortTaken { .. }
            | BackendError::Gpus(_)
            | BackendError::ImageUnavailable { .. }
            | BackendError::Docker { .. }
            | BackendError::Spawn { .. }
            | BackendError::State { .. }
            | BackendError::Other(_) => ErrorKind::Other,
        }
    }
}

fn rollback_note(leftovers: &[String]) -> String {
    if leftovers.is_empty() {
        "; everything it made was removed".to_string()
    } else {
        format!("; these could not be removed and need cleaning up: {}", leftovers.join(", "))
    }
}

impl BackendError {
    pub fn docker(action: impl Into<String>, err: impl std::fmt::Display) -> Self {
        BackendError::Docker { action: action.into(), detail: err.to_string() }
    }

    pub fn state(path: &std::path::Path, err: impl std::fmt::Display) -> Self {
        BackendError::State { path: path.to_path_buf(), detail: err.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn kubernetes_errors_keep_their_message_and_say_their_kind() {
        let forbidden = BackendError::from(K8sError::Forbidden {
            verb: "patch".into(),
            resource: "deployments.apps".into(),
            scope: "namespace `ml`".into(),
            message: "no".into(),
        });
        assert!(
            forbidden.to_string().starts_with("kubernetes: forbidden: aimdeck needs the `patch`")
        );
        let timeout =
            K8sError::Timeout { what: "list pods".into(), after: Duration::from_secs(10) };
        let cases = [
            (forbidden, ErrorKind::Forbidden),
            (BackendError::from(timeout), ErrorKind::Timeout),
            (K8sError::NotFound("get pods x".into()).into(), ErrorKind::NotFound),
            (
                K8sError::Conflict { what: "apply".into(), detail: "owned".into() }.into(),
                ErrorKind::Conflict,
            ),
            (
                K8sError::Invalid {
                    what: "patch deployments.apps qwen".into(),
                    field: "spec.replicas".into(),
                    reason: "must be >= 0".into(),
                    message: "invalid".into(),
                }
                .into(),
                ErrorKind::Invalid,
            ),
        ];
        for (err, kind) in cases {
            assert_eq!(err.kind(), kind, "{err}");
        }
        let rolled = BackendError::RolledBack {
            action: "create".into(),
            cause: Box::new(BackendError::NoAnswer {
                backend: "docker".into(),
                endpoint: "unix:///var/run/docker.sock".into(),
                after: Duration::from_secs(5),
            }),
            leftovers: Vec::new(),
        };
        assert_eq!(rolled.kind(), ErrorKind::Timeout, "a rollback is the kind of its cause");
    }
}
