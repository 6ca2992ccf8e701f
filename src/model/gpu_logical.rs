//! NVIDIA MIG devices as logical GPUs for placement. A replica placed on a MIG device carries
//! a logical index in its `aimdeck.io/gpus` label: `1000 * (parent + 1) + device`, so GPU 0's
//! MIG device 2 is `1002` — above any real GPU index, and readable in a label. The runtime is
//! given the device's `MIG-` UUID (`CUDA_VISIBLE_DEVICES`, the NVIDIA container runtime's
//! `device_ids`), never the logical index.

use super::gpu::Gpu;
use super::gpu_health::MigDevice;

const MIG_INDEX_BASE: u32 = 1000;

/// The logical index of MIG device `device` of GPU `parent`.
pub fn mig_index(parent: u32, device: u32) -> u32 {
    MIG_INDEX_BASE * (parent + 1) + device
}

/// `(parent, device)` for a logical MIG index; `None` for a plain GPU index.
pub fn mig_parent(index: u32) -> Option<(u32, u32)> {
    (index >= MIG_INDEX_BASE).then(|| (index / MIG_INDEX_BASE - 1, index % MIG_INDEX_BASE))
}

/// Whether the GPU is in MIG mode: it is placed on only through its MIG devices.
pub fn is_mig_parent(gpu: &Gpu) -> bool {
    gpu.mig_enabled == Some(true)
}

/// The GPUs a recipe's fit and the placement see: with `partitions`, every MIG-enabled GPU is
/// replaced by its MIG devices, each with the parent's name and health and the profile's
/// memory; otherwise the list as discovered.
pub fn logical_gpus(gpus: &[Gpu], partitions: bool) -> Vec<Gpu> {
    let mut out = Vec::with_capacity(gpus.len());
    for gpu in gpus {
        if partitions && is_mig_parent(gpu) {
            out.extend(gpu.mig_devices.iter().map(|device| mig_as_gpu(gpu, device)));
        } else {
            out.push(gpu.clone());
        }
    }
    out
}

fn mig_as_gpu(parent: &Gpu, device: &MigDevice) -> Gpu {
    let mut gpu = Gpu::new(mig_index(parent.index, device.device), parent.vendor, &parent.name);
    gpu.uuid = device.uuid.clone();
    gpu.pci_bus_id = parent.pci_bus_id.clone();
    gpu.memory_total_bytes = device.memory_bytes;
    gpu.numa_node = parent.numa_node;
    gpu.cpu_affinity = parent.cpu_affinity.clone();
    gpu.health = parent.health.clone();
    // `nvidia-smi --query-compute-apps` names the parent GPU; its processes hold every device.
    gpu.processes = parent.processes.clone();
    gpu
}

/// "MIG 1g.10gb (GPU 0 device 2)" for a logical index found in `gpus`, for holders' labels.
pub fn describe_mig(gpus: &[Gpu], index: u32) -> Option<String> {
    let (parent, device) = mig_parent(index)?;
    let profile = gpus
        .iter()
        .find(|g| g.index == parent)
        .and_then(|g| g.mig_devices.iter().find(|d| d.device == device))
        .map(|d| format!("MIG {} ", d.profile))
        .unwrap_or_default();
    Some(format!("{profile}(GPU {parent} device {device})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::GpuVendor;
    use crate::model::gpu_health::mig_profile_memory;

    #[test]
    fn mig_indices_round_trip_and_stay_above_gpu_indices() {
        assert_eq!(mig_index(0, 2), 1002);
        assert_eq!(mig_parent(1002), Some((0, 2)));
        assert_eq!(mig_parent(mig_index(7, 13)), Some((7, 13)));
        assert_eq!(mig_parent(63), None);
    }

    #[test]
    fn only_asked_partitions_replace_a_mig_parent_by_its_devices() {
        let mut a100 = Gpu::new(0, GpuVendor::Nvidia, "NVIDIA A100-SXM4-80GB");
        a100.mig_enabled = Some(true);
        a100.mig_devices = ["3g.40gb", "1g.10gb"]
            .iter()
            .zip(0..)
            .map(|(profile, device)| MigDevice {
                device,
                profile: profile.to_string(),
                uuid: Some(format!("MIG-{device}")),
                memory_bytes: mig_profile_memory(profile),
            })
            .collect();
        let plain = Gpu::new(1, GpuVendor::Nvidia, "NVIDIA A100-SXM4-80GB");
        let gpus = vec![a100, plain];
        assert_eq!(logical_gpus(&gpus, false), gpus);
        let logical = logical_gpus(&gpus, true);
        let indices: Vec<u32> = logical.iter().map(|g| g.index).collect();
        assert_eq!(indices, [1000, 1001, 1]);
        assert_eq!(logical[1].memory_total_bytes, Some(10_000_000_000));
        assert_eq!(logical[1].uuid.as_deref(), Some("MIG-1"));
        assert_eq!(describe_mig(&gpus, 1001).as_deref(), Some("MIG 1g.10gb (GPU 0 device 1)"));
    }
}
