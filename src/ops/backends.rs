//! Backends opened from one `BackendConfig`, the same way for the CLI and the console, each
//! wrapped in the journal so no caller can forget to record a change.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::backend::docker::{DockerOptions, NetworkMode};
use crate::backend::kubernetes::KubeTarget;
use crate::backend::placement::PlacementPolicy;
use crate::backend::registry::{self, BackendOptions};
use crate::backend::{AllocatableGpu, Backend, BackendError};

use super::journaled::Journaled;

/// Where backends live and how to reach them. Plain data; front ends fill it from their flags.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    pub state_dir: PathBuf,
    pub docker_host: Option<String>,
    pub network: NetworkMode,
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    /// Bound on each Kubernetes call (the console's 10 s); kube's defaults when unset.
    pub kube_timeout: Option<Duration>,
    /// Kubernetes `list` from watches (the console lists every 2 s).
    pub kube_watches: bool,
    /// The host's GPUs for single-host placement.
    pub gpus: Vec<AllocatableGpu>,
}

impl BackendConfig {
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        BackendConfig {
            state_dir: state_dir.into(),
            docker_host: None,
            network: NetworkMode::default(),
            kubeconfig: None,
            context: None,
            namespace: None,
            kube_timeout: None,
            kube_watches: false,
            gpus: Vec::new(),
        }
    }

    pub fn options(&self) -> BackendOptions {
        let mut options = BackendOptions::new(&self.state_dir);
        options.gpus = self.gpus.clone();
        options.docker_host = self.docker_host.clone();
        options.docker = DockerOptions { network: self.network, ..DockerOptions::default() };
        options.kubernetes_watches = self.kube_watches;
        options.kubernetes = KubeTarget {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            namespace: self.namespace.clone(),
            timeout: self.kube_timeout,
        };
        options
    }

    pub fn kube_target(&self) -> KubeTarget {
        self.options().kubernetes
    }

    /// The backend called `name`, journaled.
    pub fn open(&self, name: &str) -> Result<Arc<dyn Backend>, BackendError> {
        Ok(Journaled::wrap(registry::open(name, &self.options())?, &self.state_dir))
    }

    /// Docker, processes, and Kubernetes when `with_kubernetes`; failures become warnings.
    pub fn open_all(&self, with_kubernetes: bool) -> (Vec<Arc<dyn Backend>>, Vec<String>) {
        let (backends, warnings) = registry::open_all(&self.options(), with_kubernetes);
        (backends.into_iter().map(|b| Journaled::wrap(b, &self.state_dir)).collect(), warnings)
    }

    /// Every backend, journaled, with the cluster capability beside the Kubernetes one.
    pub fn open_registry(&self, with_kubernetes: bool) -> (registry::Registry, Vec<String>) {
        let state_dir = self.state_dir.clone();
        registry::open_registry(&self.options(), with_kubernetes, move |b| {
            Journaled::wrap(b, &state_dir)
        })
    }
}

/// The host's GPUs as the allocator needs them, from a discovery snapshot whose processes are
/// joined to their owners: the tools' indices (what `CUDA_VISIBLE_DEVICES`/`HIP_VISIBLE_DEVICES`
/// count), NUMA node, fully connected island, AMD's render node, and why `policy` refuses a
/// GPU (`placement::inventory`). Falls back to the sysfs/`nvidia-smi` reader when the snapshot
/// has no GPU.
pub fn allocatable_from(
    snapshot: &crate::model::gpu::GpuSnapshot,
    policy: PlacementPolicy,
) -> Vec<AllocatableGpu> {
    if snapshot.gpus.is_empty() {
        return crate::backend::host_gpus::detect();
    }
    crate::backend::placement::inventory(snapshot, policy)
}
