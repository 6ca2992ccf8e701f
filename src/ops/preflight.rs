//! Checks made before anything is created. On a host: the GPUs the allocator will pick must
//! have the memory the engine reserves free right now (vLLM and SGLang refuse to start
//! otherwise, minutes into a pull). On a cluster: some node must have the GPUs at all.

use crate::backend::allocator::{self, AllocatableGpu, Holder};
use crate::backend::kubernetes::nodes::NodeGpuInventory;
use crate::model::gpu::Gpu;

use super::error::ResolveError;
use super::resolve::Resolution;
use super::target;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// `inventory`/`held`: what the backend's allocator sees (its own deployments' GPUs), so the
/// pick here is the one `create` makes. `live`: the last GPU sample, with `held_by` joined from
/// every backend, to name who has the memory.
pub fn host(
    resolution: &Resolution,
    inventory: &[AllocatableGpu],
    held: &[Holder],
    live: &[Gpu],
    force: bool,
) -> Result<(), ResolveError> {
    let spec = &resolution.spec;
    if spec.gpus_per_replica == 0 || force {
        return Ok(());
    }
    let sets = allocator::allocate(inventory, held, spec.replicas, spec.gpus_per_replica)
        .map_err(|err| ResolveError::Preflight(err.to_string()))?;
    let Some(fit) = &resolution.fit else { return Ok(()) };
    // The engine takes its fraction of the whole GPU at start-up and fails if that much is not free.
    let needs = fit.usable_bytes;
    for index in sets.iter().flatten() {
        let Some(gpu) = live.iter().find(|g| g.index == *index) else { continue };
        let (Some(total), Some(used)) = (gpu.memory_total_bytes, gpu.memory_used_bytes) else {
            continue;
        };
        let free = total.saturating_sub(used);
        if free < needs {
            let by = match &gpu.held_by {
                Some(holder) => format!("held by `{}`", holder.deployment),
                None => "used by something aimdeck did not start".to_string(),
            };
            return Err(ResolveError::Preflight(format!(
                "`{}` needs {:.1} GiB per GPU, GPU {index} has {:.1} GiB free: {by}",
                spec.name,
                needs as f64 / GIB,
                free as f64 / GIB
            )));
        }
    }
    Ok(())
}

/// A replica lives on one node: refuse when no node has the GPUs per replica (of the recipe's
/// product, when it names one), naming what the nodes have.
pub fn cluster(
    resolution: &Resolution,
    nodes: &[NodeGpuInventory],
    force: bool,
) -> Result<(), ResolveError> {
    let spec = &resolution.spec;
    if spec.gpus_per_replica == 0 || force || nodes.is_empty() {
        return Ok(());
    }
    let product_ok = |n: &NodeGpuInventory| match &spec.gpu_product {
        Some(product) => n.product.as_deref() == Some(product.as_str()),
        None => spec.gpu_vendor.is_none() || n.vendor == spec.gpu_vendor,
    };
    if nodes.iter().any(|n| product_ok(n) && n.allocatable >= spec.gpus_per_replica) {
        return Ok(());
    }
    let wanted = spec
        .gpu_product
        .clone()
        .or(spec.gpu_vendor.map(|v| v.as_str().to_string()))
        .unwrap_or_else(|| "GPU".into());
    Err(ResolveError::Preflight(format!(
        "no node has {} x {wanted} for one replica of `{}`; the nodes have: {}",
        spec.gpus_per_replica,
        spec.name,
        target::describe(&super::request::Target::Cluster { nodes: nodes.to_vec() })
    )))
}
