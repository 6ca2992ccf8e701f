//! The I/O a request needs before it can be resolved: this host's GPUs (one discovery pass,
//! with who holds each from the backends' labels) or a cluster's GPU nodes. Every call bounded.

use std::sync::Arc;
use std::time::Duration;

use crate::backend::allocator::Holder;
use crate::backend::{AllocatableGpu, Backend};
use crate::hardware::{self, ProbeConfig};
use crate::model::gpu::{GpuClaim, ProcessOwner, assign_holders, assign_process_owners, owners_of};
use crate::model::gpu_logical::logical_gpus;
use crate::recipes::gpus;

use super::backends::{BackendConfig, allocatable_from};
use super::error::ResolveError;
use super::request::{PlacementPolicy, Target};

/// How long a listing or a cluster's node inventory may take before it counts as unreachable.
const CALL_LIMIT: Duration = Duration::from_secs(5);

/// This host's GPUs as discovery sees them now, and as the allocator places them.
pub struct HostGpus {
    pub target: Target,
    pub inventory: Vec<AllocatableGpu>,
}

/// One discovery pass joined to what `listed` says runs where: `held_by` from the claims, each
/// GPU process's owner from the replicas' pids and containers, and the allocator's inventory
/// under `policy` (failed GPUs never, degraded and partitions only when allowed, a GPU that a
/// process aimdeck did not start is using counts as held). The one placement rule for the
/// CLI's deploy and scale and the console's.
pub async fn host_gpus(listed: &Listed, policy: PlacementPolicy) -> HostGpus {
    let claims: Vec<GpuClaim> = listed.claims.iter().map(|(_, c)| c.clone()).collect();
    let mut snapshot = hardware::discover(&ProbeConfig::from_env()).await;
    assign_process_owners(&mut snapshot.gpus, &listed.owners);
    let inventory = allocatable_from(&snapshot, policy);
    // With `--partitions` a MIG-enabled GPU is its MIG devices, so the recipe's fit sees their
    // memory (AMD partitions are GPUs in the snapshot already).
    let mut gpus = logical_gpus(&snapshot.gpus, policy.partitions);
    assign_holders(&mut gpus, &claims);
    HostGpus { target: Target::Host { gpus }, inventory }
}

/// What the backends said runs where, from one listing of each.
#[derive(Debug, Clone, Default)]
pub struct Listed {
    /// What each replica holds, by backend name.
    pub claims: Vec<(String, GpuClaim)>,
    /// Each replica's pid or container, to tell its GPU processes from unmanaged ones.
    pub owners: Vec<ProcessOwner>,
}

/// Lists every backend given, each bounded; a backend that does not answer in time holds
/// nothing here (its own allocator still knows, and says so when it refuses).
pub async fn listed(backends: &[Arc<dyn Backend>]) -> Listed {
    let mut listed = Listed::default();
    for backend in backends {
        if let Ok(Ok(deployments)) = tokio::time::timeout(CALL_LIMIT, backend.list()).await {
            listed.owners.extend(owners_of(&deployments));
            for deployment in deployments {
                for replica in deployment.replicas {
                    if !replica.gpus.is_empty() {
                        let claim = GpuClaim {
                            deployment: deployment.name.clone(),
                            replica: replica.index,
                            gpus: replica.gpus,
                        };
                        listed.claims.push((backend.name().to_string(), claim));
                    }
                }
            }
        }
    }
    listed
}

/// The allocator's inventory for this host now under `policy`, for a backend about to place
/// replicas (`aimdeck scale`): every backend is listed so their processes count as managed.
pub async fn placement_inventory(
    backends: &[Arc<dyn Backend>],
    policy: PlacementPolicy,
) -> Vec<AllocatableGpu> {
    host_gpus(&listed(backends).await, policy).await.inventory
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
        (None, Some(_)) => Err(ResolveError::Invalid(
            "--count needs --gpu: name the GPU model (MI300X, H100, ...)".into(),
        )),
        (Some(gpu), count) => {
            if gpus::normalize(gpu).is_none() {
                return Err(ResolveError::Invalid(format!(
                    "--gpu: unknown GPU `{gpu}`; known: {}",
                    gpus::names().join(", ")
                )));
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
        let client = crate::backend::kubernetes::KubeBackend::connect(&target)
            .await
            .map_err(|e| e.to_string())?;
        client.node_gpus().await.map_err(|e| e.to_string())
    })
    .await
    .map_err(|_| format!("the cluster did not answer within {} s", (CALL_LIMIT * 2).as_secs()))??;
    Ok(Target::Cluster { nodes })
}
