//! Backends by name. Adding a backend is one module and one arm here.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::allocator::AllocatableGpu;
use super::docker::{DockerBackend, DockerOptions};
use super::kubernetes::{KubeTarget, KubernetesBackend};
use super::process::ProcessBackend;
use super::{Backend, BackendError};

/// Names `open` knows, for `--backend` help and the `:contexts` view.
pub const NAMES: [&str; 3] =
    [super::docker::NAME, super::process::NAME, super::kubernetes::adapter::NAME];

/// What backends need from the console: where state lives and which GPUs the host has.
#[derive(Debug, Clone)]
pub struct BackendOptions {
    /// `crate::paths::state_dir()` in the console; a temp dir in tests.
    pub state_dir: PathBuf,
    /// The host's GPUs, for single-host placement. Empty means CPU-only replicas only.
    pub gpus: Vec<AllocatableGpu>,
    /// `--docker-host`; `DOCKER_HOST` or the local socket when unset.
    pub docker_host: Option<String>,
    pub docker: DockerOptions,
    /// SIGTERM-to-SIGKILL grace for the process backend.
    pub process_grace: Duration,
    /// Kubernetes: `--kubeconfig`, `--context`, `-n`; kubectl's defaults when unset. The
    /// cluster is reached on first use, never by `open`.
    pub kubernetes: KubeTarget,
    /// Kubernetes `list` from watches instead of a list call each time (the console).
    pub kubernetes_watches: bool,
}

impl BackendOptions {
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        BackendOptions {
            state_dir: state_dir.into(),
            gpus: Vec::new(),
            docker_host: None,
            docker: DockerOptions::default(),
            process_grace: Duration::from_secs(10),
            kubernetes: KubeTarget::default(),
            kubernetes_watches: false,
        }
    }
}

/// Opens the backend called `name`. No I/O: a Docker engine that is down shows up in `health`
/// and in the first call's error.
pub fn open(name: &str, options: &BackendOptions) -> Result<Arc<dyn Backend>, BackendError> {
    match name {
        super::docker::NAME => Ok(Arc::new(
            DockerBackend::new(
                options.docker_host.as_deref(),
                options.gpus.clone(),
                options.docker.clone(),
            )
            .with_state_dir(&options.state_dir),
        )),
        super::process::NAME => Ok(Arc::new(
            ProcessBackend::new(&options.state_dir, options.gpus.clone())
                .with_grace(options.process_grace),
        )),
        super::kubernetes::adapter::NAME => Ok(open_kubernetes(options)),
        other => Err(BackendError::UnknownBackend(other.to_string())),
    }
}

/// The Kubernetes backend, typed: its cluster capability (node inventory, namespaces) is kept
/// beside its `Arc<dyn Backend>` in a [`Registry`] instead of being found by a downcast.
pub fn open_kubernetes(options: &BackendOptions) -> Arc<KubernetesBackend> {
    if options.kubernetes_watches {
        Arc::new(KubernetesBackend::watching(options.kubernetes.clone()))
    } else {
        Arc::new(KubernetesBackend::new(options.kubernetes.clone()))
    }
}

/// The backends a front end drives, by name, and the cluster capability of the Kubernetes
/// one kept beside its `Arc<dyn Backend>` (which may be a decorator, e.g. the journal's).
#[derive(Clone, Default)]
pub struct Registry {
    backends: Vec<Arc<dyn Backend>>,
    cluster: Option<Arc<KubernetesBackend>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("backends", &self.names())
            .field("cluster", &self.cluster.is_some())
            .finish()
    }
}

impl Registry {
    /// Single-host backends only (no cluster capability).
    pub fn new(backends: Vec<Arc<dyn Backend>>) -> Registry {
        Registry { backends, cluster: None }
    }

    /// Adds (or replaces, by name) `backend`, with `cluster` as its cluster capability.
    pub fn with_cluster(
        mut self,
        backend: Arc<dyn Backend>,
        cluster: Arc<KubernetesBackend>,
    ) -> Registry {
        self.set_cluster(backend, cluster);
        self
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Backend>> {
        self.backends.iter().find(|b| b.name() == name)
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<dyn Backend>> {
        self.backends.iter()
    }

    pub fn names(&self) -> Vec<String> {
        self.backends.iter().map(|b| b.name().to_string()).collect()
    }

    /// The cluster behind the Kubernetes backend, when one is open.
    pub fn cluster(&self) -> Option<&Arc<KubernetesBackend>> {
        self.cluster.as_ref()
    }

    /// Puts `backend` in place of the one of the same name, or adds it; `cluster` replaces the
    /// cluster capability.
    pub fn set_cluster(&mut self, backend: Arc<dyn Backend>, cluster: Arc<KubernetesBackend>) {
        match self.backends.iter().position(|b| b.name() == backend.name()) {
            Some(index) => self.backends[index] = backend,
            None => self.backends.push(backend),
        }
        self.cluster = Some(cluster);
    }
}

/// As [`open_all`], into a [`Registry`]; `wrap` decorates each backend (the journal's).
pub fn open_registry(
    options: &BackendOptions,
    with_kubernetes: bool,
    wrap: impl Fn(Arc<dyn Backend>) -> Arc<dyn Backend>,
) -> (Registry, Vec<String>) {
    let (backends, warnings) = open_all(options, false);
    let mut registry = Registry::new(backends.into_iter().map(&wrap).collect());
    if with_kubernetes {
        let cluster = open_kubernetes(options);
        registry.set_cluster(wrap(cluster.clone()), cluster);
    }
    (registry, warnings)
}

/// Whether a kubeconfig is at hand: the flag, `KUBECONFIG`, `~/.kube/config`, or in-cluster.
/// Kubernetes is opened only then, so a host without a cluster never waits on one.
pub fn kubernetes_configured(kubeconfig: Option<&std::path::Path>) -> bool {
    kubeconfig.is_some()
        || std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty())
        || std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
        || std::env::var_os("HOME")
            .is_some_and(|home| std::path::Path::new(&home).join(".kube/config").exists())
}

/// The backends' names, Kubernetes only `with_kubernetes`.
fn names_with(with_kubernetes: bool) -> impl Iterator<Item = &'static str> {
    NAMES.into_iter().filter(move |n| with_kubernetes || *n != super::kubernetes::adapter::NAME)
}

/// The backends a command asks: the one `named` (`--backend`), else every local one and
/// Kubernetes when it is configured, so a host without a cluster never waits on one.
pub fn names_to_ask(named: Option<&str>, kubeconfig: Option<&std::path::Path>) -> Vec<String> {
    match named {
        Some(one) => vec![one.to_string()],
        None => names_with(kubernetes_configured(kubeconfig)).map(str::to_string).collect(),
    }
}

/// Every backend this host can drive: Docker, processes, and Kubernetes when `with_kubernetes`.
/// A backend that cannot be opened becomes a warning.
pub fn open_all(
    options: &BackendOptions,
    with_kubernetes: bool,
) -> (Vec<Arc<dyn Backend>>, Vec<String>) {
    let mut backends = Vec::new();
    let mut warnings = Vec::new();
    for name in names_with(with_kubernetes) {
        match open(name, options) {
            Ok(backend) => backends.push(backend),
            Err(err) => warnings.push(format!("backend {name}: {err}")),
        }
    }
    (backends, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_are_found_by_name() {
        let options = BackendOptions::new("/nonexistent");
        for name in NAMES {
            assert_eq!(open(name, &options).unwrap().name(), name);
        }
        let err = open("nomad", &options).err().unwrap().to_string();
        assert_eq!(err, "unknown backend `nomad`, expected one of: docker, process, k8s");
    }
}
