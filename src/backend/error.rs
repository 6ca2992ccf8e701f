//! Backend errors: each says what failed and why, in words a user can act on.

use super::allocator::AllocationError;

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
    #[error("{0}")]
    Other(String),
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
