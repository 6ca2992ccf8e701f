//! Deployment backends: where replicas run. Each backend renders the same `DeploymentSpec`
//! (Docker: one container per replica; process: one child process per replica) and finds its
//! deployments again from labels, so aimdeck keeps no database.
//!
//! A new backend is one new module (implementing [`AsyncBackend`] and [`Lifecycle`]) plus one
//! arm in [`registry::open`].

pub mod allocator;
pub mod demo;
pub mod demo_traffic;
pub mod docker;
pub mod env;
pub mod error;
pub mod health;
pub mod host_gpus;
pub mod journal;
pub mod kubernetes;
pub mod lock;
pub mod placement;
pub mod ports;
pub mod process;
pub mod registry;
pub mod rollout;
pub mod secrets;
pub mod watch;

use std::future::Future;
use std::pin::Pin;

use futures::Stream;
use futures::future::BoxFuture;
use serde::Serialize;

use crate::model::{BackendEvent, BackendHealth, Capabilities, Deployment, DeploymentSpec};

pub use allocator::{AllocatableGpu, AllocationError};
pub use error::{BackendError, ErrorKind};
pub use registry::{BackendOptions, open};

pub type BoxStream<T> = Pin<Box<dyn Stream<Item = T> + Send + 'static>>;

/// Rollout progress goes here while `create` and `scale` work (pull, create, starting).
pub type ProgressTx = Option<tokio::sync::mpsc::UnboundedSender<BackendEvent>>;

/// One line of a replica's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    pub replica: u32,
    pub text: String,
}

/// What `Backend::image_presence` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ImagePresence {
    /// On the engine already; its size when the engine reports one.
    Present {
        size_bytes: Option<u64>,
    },
    /// Not on the engine: `create` pulls it.
    Missing,
    NotApplicable,
}

/// Which logs to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogOptions {
    /// Only this replica; every replica when unset.
    pub replica: Option<u32>,
    /// Keep the stream open and deliver new lines as they are written.
    pub follow: bool,
    /// Start with at most this many lines per replica from the end.
    pub tail: Option<usize>,
}

/// What every backend offers, as callers hold it: `Arc<dyn Backend>` (Docker plus several
/// Kubernetes contexts side by side, switched with `:ctx`). Methods return boxed futures so the
/// trait is object safe.
///
/// A backend does not implement this trait: it implements [`AsyncBackend`] and [`Lifecycle`]
/// with plain `async fn`s, and the blanket impl below boxes each future once for all of them.
///
/// `create` and `scale` return once the replicas are started; readiness is watched with
/// [`rollout::wait_ready`], which polls `get` (each replica's `/health`). A failed `create` or
/// `scale` removes the replicas it made before returning the error.
pub trait Backend: Send + Sync {
    /// Registry name: `docker`, `process`, ...
    fn name(&self) -> &str;
    fn capabilities(&self) -> Capabilities;
    fn health(&self) -> BoxFuture<'_, BackendHealth>;
    fn list(&self) -> BoxFuture<'_, Result<Vec<Deployment>, BackendError>>;
    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Deployment, BackendError>>;
    fn create<'a>(
        &'a self,
        spec: &'a DeploymentSpec,
        progress: ProgressTx,
    ) -> BoxFuture<'a, Result<Deployment, BackendError>>;
    fn scale<'a>(
        &'a self,
        name: &'a str,
        replicas: u32,
        progress: ProgressTx,
    ) -> BoxFuture<'a, Result<Deployment, BackendError>>;
    fn delete<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), BackendError>>;
    fn restart<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), BackendError>>;
    fn logs<'a>(
        &'a self,
        name: &'a str,
        options: LogOptions,
    ) -> BoxFuture<'a, Result<BoxStream<Result<LogLine, BackendError>>, BackendError>>;
    /// Changes to this backend's deployments (all of them when `name` is unset), as they happen.
    fn events<'a>(
        &'a self,
        name: Option<&'a str>,
    ) -> BoxFuture<'a, Result<BoxStream<BackendEvent>, BackendError>>;
    /// Replaces the GPUs new replicas may be placed on (the console's latest sample under the
    /// placement rules); backends that place no GPUs themselves ignore it.
    fn place_on(&self, _gpus: Vec<AllocatableGpu>) {}
    /// What `create` would make, for review screens and `aimdeck render`: the container
    /// configs or command lines, with secrets redacted.
    fn render(&self, spec: &DeploymentSpec) -> Result<serde_json::Value, BackendError>;
    /// Whether the engine already has `image`, for review screens ("present" or "will be
    /// pulled"). Backends that run no images answer `NotApplicable`.
    fn image_presence<'a>(
        &'a self,
        image: &'a str,
    ) -> BoxFuture<'a, Result<ImagePresence, BackendError>> {
        let _ = image;
        Box::pin(async { Ok(ImagePresence::NotApplicable) })
    }
}

/// What a backend implements, in two parts: this one (what it is and what it reads) and
/// [`Lifecycle`] (what changes a deployment). Both are [`Backend`]'s methods as `async fn`s;
/// each future must be `Send`, which the compiler checks at the impl. Every type with both is a
/// [`Backend`] through the blanket impl below, so it goes behind `Arc<dyn Backend>` as it is.
/// The methods mean what [`Backend`]'s do.
pub trait AsyncBackend: Send + Sync {
    fn name(&self) -> &str;
    fn capabilities(&self) -> Capabilities;
    fn health(&self) -> impl Future<Output = BackendHealth> + Send;
    fn list(&self) -> impl Future<Output = Result<Vec<Deployment>, BackendError>> + Send;
    fn get(&self, name: &str) -> impl Future<Output = Result<Deployment, BackendError>> + Send;
    fn logs(
        &self,
        name: &str,
        options: LogOptions,
    ) -> impl Future<Output = Result<BoxStream<Result<LogLine, BackendError>>, BackendError>> + Send;
    fn events(
        &self,
        name: Option<&str>,
    ) -> impl Future<Output = Result<BoxStream<BackendEvent>, BackendError>> + Send;
    fn place_on(&self, _gpus: Vec<AllocatableGpu>) {}
    fn render(&self, spec: &DeploymentSpec) -> Result<serde_json::Value, BackendError>;
    fn image_presence(
        &self,
        image: &str,
    ) -> impl Future<Output = Result<ImagePresence, BackendError>> + Send {
        let _ = image;
        async { Ok(ImagePresence::NotApplicable) }
    }
}

/// The other part of a backend: the calls that change a deployment (the ones the journal
/// records, see `ops::journaled`). Their meaning is [`Backend`]'s.
pub trait Lifecycle: Send + Sync {
    fn create(
        &self,
        spec: &DeploymentSpec,
        progress: ProgressTx,
    ) -> impl Future<Output = Result<Deployment, BackendError>> + Send;
    fn scale(
        &self,
        name: &str,
        replicas: u32,
        progress: ProgressTx,
    ) -> impl Future<Output = Result<Deployment, BackendError>> + Send;
    fn delete(&self, name: &str) -> impl Future<Output = Result<(), BackendError>> + Send;
    fn restart(&self, name: &str) -> impl Future<Output = Result<(), BackendError>> + Send;
}

/// The one place futures are boxed for `dyn Backend`.
impl<T: AsyncBackend + Lifecycle> Backend for T {
    fn name(&self) -> &str {
        AsyncBackend::name(self)
    }
    fn capabilities(&self) -> Capabilities {
        AsyncBackend::capabilities(self)
    }
    fn health(&self) -> BoxFuture<'_, BackendHealth> {
        Box::pin(AsyncBackend::health(self))
    }
    fn list(&self) -> BoxFuture<'_, Result<Vec<Deployment>, BackendError>> {
        Box::pin(AsyncBackend::list(self))
    }
    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Deployment, BackendError>> {
        Box::pin(AsyncBackend::get(self, name))
    }
    fn create<'a>(
        &'a self,
        spec: &'a DeploymentSpec,
        progress: ProgressTx,
    ) -> BoxFuture<'a, Result<Deployment, BackendError>> {
        Box::pin(Lifecycle::create(self, spec, progress))
    }
    fn scale<'a>(
        &'a self,
        name: &'a str,
        replicas: u32,
        progress: ProgressTx,
    ) -> BoxFuture<'a, Result<Deployment, BackendError>> {
        Box::pin(Lifecycle::scale(self, name, replicas, progress))
    }
    fn delete<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(Lifecycle::delete(self, name))
    }
    fn restart<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(Lifecycle::restart(self, name))
    }
    fn logs<'a>(
        &'a self,
        name: &'a str,
        options: LogOptions,
    ) -> BoxFuture<'a, Result<BoxStream<Result<LogLine, BackendError>>, BackendError>> {
        Box::pin(AsyncBackend::logs(self, name, options))
    }
    fn events<'a>(
        &'a self,
        name: Option<&'a str>,
    ) -> BoxFuture<'a, Result<BoxStream<BackendEvent>, BackendError>> {
        Box::pin(AsyncBackend::events(self, name))
    }
    fn place_on(&self, gpus: Vec<AllocatableGpu>) {
        AsyncBackend::place_on(self, gpus)
    }
    fn render(&self, spec: &DeploymentSpec) -> Result<serde_json::Value, BackendError> {
        AsyncBackend::render(self, spec)
    }
    fn image_presence<'a>(
        &'a self,
        image: &'a str,
    ) -> BoxFuture<'a, Result<ImagePresence, BackendError>> {
        Box::pin(AsyncBackend::image_presence(self, image))
    }
}

/// Checks a deployment name before anything is made: it becomes part of container names, label
/// values and file names, so it must be a DNS label.
pub fn validate_name(name: &str) -> Result<(), BackendError> {
    let ok = !name.is_empty()
        && name.len() <= 48
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(BackendError::InvalidSpec(format!(
            "deployment name `{name}`: expected 1-48 lowercase letters, digits and `-`, not starting or ending with `-`"
        )))
    }
}

/// The most replicas one deployment may have, on every path (the create form, `s`, `scale`,
/// `deploy`): each is an engine with its own port and GPUs, and past this a typo (1000 for 10)
/// is far likelier than intent.
pub const MAX_REPLICAS: u32 = 64;

/// Checks a replica count against [`MAX_REPLICAS`], saying why.
pub fn validate_replicas(replicas: u32) -> Result<(), BackendError> {
    if replicas > MAX_REPLICAS {
        return Err(BackendError::InvalidSpec(format!(
            "replicas: at most {MAX_REPLICAS} per deployment (each is an engine with its own port and GPUs), got {replicas}"
        )));
    }
    Ok(())
}

/// Checks the parts of a spec every backend relies on.
pub fn validate_spec(spec: &DeploymentSpec) -> Result<(), BackendError> {
    validate_name(&spec.name)?;
    validate_replicas(spec.replicas)?;
    if spec.model.trim().is_empty() {
        return Err(BackendError::InvalidSpec(
            "model: expected a Hugging Face repo id or a path, got nothing".into(),
        ));
    }
    if spec.port == 0 {
        return Err(BackendError::InvalidSpec("port: expected 1-65535, got 0".into()));
    }
    let last = u32::from(spec.port) + spec.replicas.saturating_sub(1);
    if last > u32::from(u16::MAX) {
        return Err(BackendError::InvalidSpec(format!(
            "port: {} replicas from port {} would need port {last}, past 65535",
            spec.replicas, spec.port
        )));
    }
    Ok(())
}

/// Now as RFC 3339, for events and the journal.
/// The last non-empty line of what a replica wrote, trimmed and cut to 200 characters: the
/// line that usually says why it stopped (process and Docker backends alike).
pub fn last_output_line(text: &str) -> Option<String> {
    let line = text.lines().rev().map(str::trim).find(|l| !l.is_empty())?;
    Some(line.chars().take(200).collect())
}

pub fn now_rfc3339() -> String {
    jiff::Timestamp::now().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_be_dns_labels() {
        assert!(validate_name("qwen-0-5b").is_ok());
        for bad in ["", "Qwen", "a_b", "-a", "a-", "a/b", &"x".repeat(49)] {
            let err = validate_name(bad).unwrap_err().to_string();
            assert!(err.contains("lowercase letters"), "{bad}: {err}");
        }
    }
}
