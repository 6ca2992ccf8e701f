//! What the allocator may place on, from a live GPU snapshot: failed GPUs never, degraded ones
//! only when asked (`--allow-degraded`), partitions only when asked (`--partitions`), and a GPU
//! that a process aimdeck did not start is using counts as held; a MIG-enabled GPU is placed on
//! only through its MIG devices, and only when asked (`--partitions`). The reasons travel on each
//! `AllocatableGpu` so the allocator's error names them.

use std::collections::HashMap;

use crate::hardware::islands::islands;
use crate::model::gpu::{GpuSnapshot, HealthState, Link, ProcessOwner, owners_of};
use crate::model::gpu_logical::{is_mig_parent, logical_gpus};

use super::Backend;
use super::allocator::AllocatableGpu;

/// What the caller allows beyond healthy, whole, free GPUs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PlacementPolicy {
    /// Place on `degraded` GPUs (throttling, correctable storm, slow link).
    pub allow_degraded: bool,
    /// Place on compute partitions (CPX/DPX/QPX logical devices) as if they were GPUs.
    pub partitions: bool,
}

/// Islands of partitions are numbered from here, above any topology island.
const PARTITION_ISLANDS: u32 = 1 << 16;

/// The allocator's inventory from a snapshot whose processes are already joined to owners.
/// With `policy.partitions`, a MIG-enabled GPU is its MIG devices (logical indices, see
/// `model::gpu_logical`); without, it is refused as a whole, like a CPX partition.
pub fn inventory(snapshot: &GpuSnapshot, policy: PlacementPolicy) -> Vec<AllocatableGpu> {
    let partition_islands = partition_islands(snapshot);
    let mut inventory = Vec::with_capacity(snapshot.gpus.len());
    for gpu in &snapshot.gpus {
        if is_mig_parent(gpu) && policy.partitions {
            inventory.extend(logical_gpus(std::slice::from_ref(gpu), true).iter().map(|device| {
                AllocatableGpu {
                    numa_node: device.numa_node,
                    refused: refusal(device, policy),
                    device_id: device.uuid.clone(),
                    single: true,
                    ..AllocatableGpu::plain(device.index)
                }
            }));
            continue;
        }
        let island = snapshot
            .islands
            .iter()
            .position(|i| i.gpus.len() > 1 && i.gpus.contains(&gpu.index))
            .map(|p| p as u32);
        let island = partition_islands.get(&gpu.index).copied().or(island);
        let render_minor = gpu
            .render_node
            .as_deref()
            .and_then(|node| node.rsplit('/').next()?.strip_prefix("renderD")?.parse().ok());
        inventory.push(AllocatableGpu {
            numa_node: gpu.numa_node,
            island,
            render_minor,
            refused: refusal(gpu, policy),
            ..AllocatableGpu::plain(gpu.index)
        });
    }
    inventory
}

/// The tightest groups of compute partitions, from the links the tools recorded between
/// them: the islands of the lowest-weight direct links among partitions. On an MI300X in CPX
/// the KFD links the partitions of one socket with weight 13 and other sockets' with 41
/// (`kfd_crat.c`, `kfd_fill_gpu_xgmi_link_to_gpu`), so these are the physical GPUs; where no
/// link between partitions was recorded, nothing is assumed.
fn partition_islands(snapshot: &GpuSnapshot) -> HashMap<u32, u32> {
    let split: Vec<u32> = snapshot
        .gpus
        .iter()
        .filter(|g| g.partition.as_ref().is_some_and(|p| p.is_split()))
        .map(|g| g.index)
        .collect();
    let is_split: std::collections::HashSet<u32> = split.iter().copied().collect();
    let between =
        |l: &&Link| l.kind.is_direct() && is_split.contains(&l.a) && is_split.contains(&l.b);
    let Some(tightest) = snapshot.links.iter().filter(between).filter_map(|l| l.weight).min()
    else {
        return HashMap::new();
    };
    let tight: Vec<Link> = snapshot
        .links
        .iter()
        .filter(between)
        .filter(|l| l.weight == Some(tightest))
        .cloned()
        .collect();
    islands(&split, &tight)
        .into_iter()
        .filter(|island| island.gpus.len() > 1)
        .flat_map(|island| {
            let id = PARTITION_ISLANDS + island.gpus[0];
            island.gpus.into_iter().map(move |gpu| (gpu, id))
        })
        .collect()
}

fn refusal(gpu: &crate::model::gpu::Gpu, policy: PlacementPolicy) -> Option<String> {
    let health = &gpu.health;
    match health.state {
        HealthState::Failed => return health.summary(),
        HealthState::Degraded if !policy.allow_degraded => {
            return health.summary().map(|s| format!("{s} (--allow-degraded places on it)"));
        }
        _ => {}
    }
    if let Some(process) = gpu.unmanaged().next() {
        return Some(process.describe());
    }
    // A pod's GPU is the cluster's: no local claim names it, but it is taken.
    if let Some(process) = gpu.processes.iter().find(|p| p.pod_uid.is_some()) {
        return Some(format!("is used by a Kubernetes pod: {}", process.describe()));
    }
    if let Some(partition) = gpu.partition.as_ref().filter(|p| p.is_split() && !policy.partitions) {
        let mode = partition.compute.as_deref().unwrap_or("a");
        let parent = partition.parent.map(|p| format!(" of GPU {p}")).unwrap_or_default();
        return Some(format!("is a {mode} partition{parent} (--partitions places on partitions)"));
    }
    if is_mig_parent(gpu) {
        return Some(match gpu.mig_devices.len() {
            0 => "has MIG enabled and no MIG device".to_string(),
            n => format!("has MIG enabled ({n} MIG devices; --partitions places on them)"),
        });
    }
    None
}

/// Every replica of the given backends, each list bounded so a dead engine costs seconds.
pub async fn owners(backends: &[&dyn Backend]) -> Vec<ProcessOwner> {
    let lists =
        backends.iter().map(|b| tokio::time::timeout(std::time::Duration::from_secs(5), b.list()));
    futures::future::join_all(lists)
        .await
        .into_iter()
        .filter_map(|r| r.ok().and_then(Result::ok))
        .flat_map(|deployments| owners_of(&deployments))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::{Gpu, GpuPartition, GpuProcess, GpuVendor};

    fn snapshot() -> GpuSnapshot {
        let mut gpus: Vec<Gpu> =
            (0..4).map(|i| Gpu::new(i, GpuVendor::Nvidia, "NVIDIA H100 80GB HBM3")).collect();
        for gpu in &mut gpus {
            gpu.health.counter("ecc.errors.uncorrected.volatile.total", "0");
            gpu.health.settle();
        }
        gpus[1].health.add(HealthState::Failed, "ecc_uncorrectable", "uncorrectable ECC errors: 2");
        gpus[2].health.add(
            HealthState::Degraded,
            "throttle_hw_slowdown",
            "throttling: HW slowdown",
        );
        gpus[3].processes.push(GpuProcess {
            pid: 4242,
            name: Some("python3".into()),
            used_memory_bytes: Some(1 << 30),
            container_id: None,
            pod_uid: None,
            holder: None,
            parent_pids: Vec::new(),
        });
        GpuSnapshot { gpus, ..Default::default() }
    }

    #[test]
    fn failed_never_degraded_only_when_asked_unmanaged_holds() {
        let strict = inventory(&snapshot(), PlacementPolicy::default());
        assert_eq!(strict[0].refused, None);
        assert_eq!(strict[1].refused.as_deref(), Some("failed: uncorrectable ECC errors: 2"));
        assert!(strict[2].refused.as_deref().is_some_and(|r| r.contains("--allow-degraded")));
        assert_eq!(strict[3].refused.as_deref(), Some("unmanaged: pid 4242 python3 (1.0 GiB)"));
        let lenient =
            inventory(&snapshot(), PlacementPolicy { allow_degraded: true, partitions: false });
        assert_eq!(lenient[2].refused, None);
        assert!(lenient[1].refused.is_some(), "failed stays refused");
    }

    #[test]
    fn partitions_only_when_asked_and_grouped_by_parent() {
        let mut snap = GpuSnapshot::default();
        for i in 0..16 {
            let mut gpu = Gpu::new(i, GpuVendor::Amd, "AMD Instinct MI300X");
            gpu.partition = Some(GpuPartition {
                compute: Some("CPX".into()),
                memory: Some("NPS4".into()),
                partition_id: Some(i % 8),
                parent: Some(i / 8 * 8),
            });
            snap.gpus.push(gpu);
        }
        // As the KFD links partitions: weight 13 within a socket, 41 across.
        for a in 0..16 {
            for b in a + 1..16 {
                snap.links.push(Link {
                    a,
                    b,
                    kind: crate::model::gpu::LinkKind::Xgmi,
                    detail: "XGMI".into(),
                    nvlink_count: None,
                    hops: Some(1),
                    weight: Some(if a / 8 == b / 8 { 13 } else { 41 }),
                });
            }
        }
        let strict = inventory(&snap, PlacementPolicy::default());
        assert!(
            strict[9].refused.as_deref().is_some_and(|r| r.contains("CPX partition of GPU 8")),
            "{:?}",
            strict[9].refused
        );
        let asked = inventory(&snap, PlacementPolicy { allow_degraded: false, partitions: true });
        assert!(asked.iter().all(|g| g.refused.is_none()));
        assert_eq!(asked[9].island, Some(PARTITION_ISLANDS + 8));
    }

    #[test]
    fn partitions_without_recorded_links_are_not_assumed_linked() {
        let mut snap = GpuSnapshot::default();
        for i in 0..2 {
            let mut gpu = Gpu::new(i, GpuVendor::Amd, "AMD Instinct MI300X");
            gpu.partition = Some(GpuPartition {
                compute: Some("DPX".into()),
                memory: Some("NPS1".into()),
                partition_id: Some(i),
                parent: Some(0),
            });
            snap.gpus.push(gpu);
        }
        let asked = inventory(&snap, PlacementPolicy { allow_degraded: false, partitions: true });
        assert_eq!(asked[0].island, None);
    }
}
