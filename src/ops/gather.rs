//! The I/O a request needs before it can be resolved: this host's GPUs (one discovery pass,
//! with who holds each from the backends' labels) or a cluster's GPU nodes. Every call bounded.

use std::sync::Arc;
use std::time::Duration;

use crate::backend::allocator::Holder;
use crate::backend::{AllocatableGpu, Backend};
use crate::hardware::{self, ProbeConfig};
use crate::model::gpu::{GpuClaim, assign_holders};
use crate::recipes::gpus;

use super::backends::{BackendConfig, allocatable_from};
use super::error::ResolveError;
use super::request::Target;

/// How long a listing or a cluster's node inventory may take before it counts as unreachable.
const CALL_LIMIT: Duration = Duration::from_secs(5);

/// This host's GPUs as discovery sees them now, and as the allocator places them.
pub struct HostGpus {
    pub target: Target,
    pub inventory: Vec<AllocatableGpu>,
}

/// One discovery pass; `claims` (from [`claims`]) name who holds each GPU.
pub async fn host_gpus(claims: &[(String, GpuClaim)]) -> HostGpus {
    let claims: Vec<GpuClaim> = claims.iter().map(|(_, c)| c.clone()).collect();
    let snapshot = hardware::discover(&ProbeConfig::from_env()).await;
    let inventory = allocatable_from(&snapshot);
    let mut gpus = snapshot.gpus;
    assign_holders(&mut gpus, &claims);
    HostGpus { target: Target::Host { gpus }, inventory }
}

/// What each replica of each listed deployment holds, by backend name, over every backend
/// given; a backend that does not answer in time holds nothing here (its own allocator still
/// knows, and says so when it refuses).
pub async fn claims(backends: &[Arc<dyn Backend>]) -> Vec<(String, GpuClaim)> {
    let mut claims = Vec::new();
    for backend in backends {
        if let Ok(Ok(deployments)) = tokio::time::timeout(CALL_LIMIT, backend.list()).await {
            for deployment in deployments {
                for replica in deployment.replicas {
                    if !replica.gpus.is_empty() {
                        let claim = GpuClaim { deployment: deployment.name.clone(), replica: replica.index, gpus: replica.gpus };
                        claims.push((backend.name().to_string(), claim));
                    }
                }
            }
        }
    }
    claims
}

/// The GPUs `backend`'s own deployments hold, as its allocator counts them.
pub fn holders_on(backend: &str, claims: &[(String, GpuClaim)]) -> Vec<Holder> {
    claims
        .iter()
        .filter(|(b, _)| b == backend)
        .map(|(_, c)| Holder { deployment: c.deployment.clone(), gpus: c.gpus.clone() })
        .collect()
}

/// `--gpu TYPE --count N` as a target, checked against the catalog.
pub fn declared(gpu: Option<&str>, count: Option<u32>) -> Result<Option<Target>, ResolveError> {
    match (gpu, count) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(ResolveError::Invalid("--count needs --gpu: name the GPU model (MI300X, H100, ...)".into())),
        (Some(gpu), count) => {
            if gpus::normalize(gpu).is_none() {
                return Err(ResolveError::Invalid(format!("--gpu: unknown GPU `{gpu}`; known: {}", gpus::names().join(", "))));
            }
            Ok(Some(Target::Declared { gpu: gpu.to_string(), count: count.unwrap_or(1) }))
        }
    }
}

/// A cluster's GPU nodes, when a kubeconfig is at hand and the cluster answers in time.
/// `Err` carries why not, for a note: the caller then uses `--gpu/--count` or nothing.
pub async fn cluster_nodes(config: &BackendConfig) -> Result<Target, String> {
    if !crate::backend::registry::kubernetes_configured(config.kubeconfig.as_deref()) {
        return Err("no kubeconfig".into());
    }
    let mut target = config.kube_target();
    target.timeout = Some(CALL_LIMIT);
    let nodes = tokio::time::timeout(CALL_LIMIT * 2, async {
        let client = crate::backend::kubernetes::KubeBackend::connect(&target).await.map_err(|e| e.to_string())?;
        client.node_gpus().await.map_err(|e| e.to_string())
    })
    .await
    .map_err(|_| format!("the cluster did not answer within {} s", (CALL_LIMIT * 2).as_secs()))??;
    Ok(Target::Cluster { nodes })
}
