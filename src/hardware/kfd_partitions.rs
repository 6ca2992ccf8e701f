//! AMD partitions from the kernel alone, for hosts with the driver and no amd-smi. In a
//! non-SPX compute mode the KFD lists every compute partition (XCP) as its own GPU node; the
//! partitions of one physical GPU share its PCI bus and device, and the KFD puts the
//! partition's node id into `location_id`: in the function bits (`kfd_topology.c`,
//! `kfd_topology_add_device`: `location_id |= node_id` when `num_nodes > 1`), or in bits
//! 31:28 in the kernels that moved it there. Each node's memory bank is already the
//! partition's share (`amdgpu_amdkfd_xcp_memory_size`: the memory partition's size divided by
//! the XCPs sharing it). The modes themselves are the amdgpu driver's per-device files
//! `current_compute_partition` (`SPX`, `DPX`, `TPX`, `QPX`, `CPX`) and
//! `current_memory_partition` (`NPS1`, `NPS2`, `NPS4`, `NPS8`) in the PCI device directory,
//! the files rocm_smi_lib reads (`/sys/class/drm/cardN/device/...`).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::model::gpu::{Gpu, GpuPartition};

/// `location_id` with the partition's node id moved into the function bits, and that id when
/// the kernel put one in bits 31:28. `(location, None)` otherwise (the function bits are then
/// the id where there are several nodes per device).
pub fn location_with_partition(location: u64) -> (u64, Option<u32>) {
    let high = (location >> 28) & 0xf;
    if high == 0 {
        return (location, None);
    }
    ((location & 0xfff8) | (high & 0x7), Some(high as u32))
}

/// Sets `partition` on every KFD GPU that is one of several nodes of a PCI device, or whose
/// device directory under `pci_root` names a mode. `xcc` is each GPU's `num_xcc` (by index),
/// used only to name the mode when the sysfs files cannot be read.
pub fn apply(gpus: &mut [Gpu], xcc: &BTreeMap<u32, u64>, pci_root: Option<&Path>) {
    let mut devices: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (position, gpu) in gpus.iter().enumerate() {
        if let Some(bus) = gpu.pci_bus_id.as_deref() {
            devices.entry(physical_function(bus)).or_default().push(position);
        }
    }
    for (device, members) in devices {
        let dir = pci_root.map(|root| root.join(&device));
        let read = |name: &str| {
            let text = fs::read_to_string(dir.as_ref()?.join(name)).ok()?;
            Some(text.trim().to_ascii_uppercase()).filter(|mode| !mode.is_empty())
        };
        let compute = read("current_compute_partition");
        let memory = read("current_memory_partition");
        if members.len() == 1 && compute.is_none() && memory.is_none() {
            continue;
        }
        let one_xcc = members.iter().all(|&p| xcc.get(&gpus[p].index) == Some(&1));
        let compute = compute.or_else(|| inferred_mode(members.len(), one_xcc));
        for &position in &members {
            let gpu = &mut gpus[position];
            let id = gpu.pci_bus_id.as_deref().and_then(function_bits);
            gpu.partition = Some(GpuPartition {
                compute: compute.clone(),
                memory: memory.clone(),
                partition_id: Some(id.unwrap_or(0)),
                parent: None,
            });
        }
    }
}

/// The mode from the number of nodes a device shows, when the driver's file is unreadable:
/// one XCC per node is CPX whatever the count (an MI300X has 8, an MI300A 6).
fn inferred_mode(nodes: usize, one_xcc: bool) -> Option<String> {
    let mode = match nodes {
        1 => "SPX",
        _ if one_xcc => "CPX",
        2 => "DPX",
        3 => "TPX",
        4 => "QPX",
        _ => return None,
    };
    Some(mode.to_string())
}

/// `0000:0c:00.5` -> `0000:0c:00.0`: the PCI function the driver's files hang on.
fn physical_function(bus_id: &str) -> String {
    match bus_id.rsplit_once('.') {
        Some((device, _)) => format!("{device}.0"),
        None => bus_id.to_string(),
    }
}

fn function_bits(bus_id: &str) -> Option<u32> {
    u32::from_str_radix(bus_id.rsplit_once('.')?.1, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::GpuVendor;

    #[test]
    fn the_node_id_in_the_high_bits_becomes_the_function() {
        assert_eq!(location_with_partition(0x0c00), (0x0c00, None));
        assert_eq!(location_with_partition((5 << 28) | 0x2200), (0x2205, Some(5)));
    }

    #[test]
    fn without_the_drivers_files_the_mode_follows_the_nodes() {
        let mut gpus: Vec<Gpu> = (0..4)
            .map(|i| {
                let mut gpu = Gpu::new(i, GpuVendor::Amd, "AMD Instinct MI300X");
                gpu.pci_bus_id = Some(format!("0000:0c:00.{i}"));
                gpu
            })
            .collect();
        let xcc = (0..4).map(|i| (i, 2)).collect();
        apply(&mut gpus, &xcc, None);
        let partition = gpus[3].partition.as_ref().unwrap();
        assert_eq!(partition.compute.as_deref(), Some("QPX"));
        assert_eq!(partition.memory, None, "unknown, not guessed");
        assert_eq!(partition.partition_id, Some(3));
        let mut single = vec![Gpu::new(0, GpuVendor::Amd, "AMD Instinct MI300X")];
        single[0].pci_bus_id = Some("0000:0c:00.0".into());
        apply(&mut single, &BTreeMap::new(), None);
        assert_eq!(single[0].partition, None, "one node and no file: nothing to say");
    }
}
