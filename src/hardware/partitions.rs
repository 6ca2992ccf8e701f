//! AMD partitions as logical devices. In a non-SPX compute mode amd-smi lists every partition
//! as its own GPU (ROCm/amdsmi CHANGELOG, "Fixed CPX not showing total number of logical
//! GPUs": an MI300X in CPX is 8 GPUs); the partitions of one physical GPU share its PCI bus and
//! device and differ in the function bits (where amd-smi puts the partition id). This groups
//! them under their first device and gives each the memory it can count on.

use std::collections::BTreeMap;

use crate::model::gpu::Gpu;

/// Sets `partition.parent` on every partitioned GPU and, where several compute partitions
/// share one memory partition (CPX on NPS1 or NPS4), divides the memory the tool reports for
/// the shared pool evenly between them, so a recipe's fit sees what one partition really gets.
pub fn group_partitions(gpus: &mut [Gpu]) {
    group(gpus, true)
}

/// Sets `partition.parent` only: for the KFD, whose memory banks are each partition's share.
pub fn set_parents(gpus: &mut [Gpu]) {
    group(gpus, false)
}

fn group(gpus: &mut [Gpu], share_memory: bool) {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (position, gpu) in gpus.iter().enumerate() {
        if gpu.partition.is_none() {
            continue;
        }
        let key = gpu
            .pci_bus_id
            .as_deref()
            .map(physical_device)
            .unwrap_or_else(|| format!("gpu{}", gpu.index));
        groups.entry(key).or_default().push(position);
    }
    for members in groups.values() {
        let parent = members.iter().map(|&p| gpus[p].index).min();
        let domains = gpus[members[0]]
            .partition
            .as_ref()
            .and_then(|p| p.memory.as_deref())
            .map(memory_domains)
            .unwrap_or(1);
        let sharing = (members.len() as u64 / domains).max(1);
        for &position in members {
            let gpu = &mut gpus[position];
            if let Some(partition) = gpu.partition.as_mut() {
                partition.parent = parent;
            }
            if share_memory && sharing > 1 {
                gpu.memory_total_bytes = gpu.memory_total_bytes.map(|total| total / sharing);
            }
        }
    }
}

/// `0000:0c:00.3` -> `0000:0c:00`: the physical device without the function (partition) bits.
fn physical_device(bus_id: &str) -> String {
    match bus_id.rsplit_once('.') {
        Some((device, _)) => device.to_string(),
        None => bus_id.to_string(),
    }
}

/// NPS1 is one memory pool, NPS2 two, NPS4 four, NPS8 eight.
fn memory_domains(mode: &str) -> u64 {
    mode.trim()
        .to_ascii_uppercase()
        .strip_prefix("NPS")
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::{GpuPartition, GpuVendor};

    fn partition(index: u32, bus: &str, compute: &str, memory: &str, mib: u64) -> Gpu {
        let mut gpu = Gpu::new(index, GpuVendor::Amd, "AMD Instinct MI300X");
        gpu.pci_bus_id = Some(bus.into());
        gpu.memory_total_bytes = Some(mib << 20);
        gpu.partition = Some(GpuPartition {
            compute: Some(compute.into()),
            memory: Some(memory.into()),
            partition_id: Some(index % 8),
            parent: None,
        });
        gpu
    }

    #[test]
    fn cpx_partitions_of_one_mi300x_share_a_parent_and_split_their_memory_domain() {
        // CPX on NPS4: eight partitions, four memory domains of 49148 MiB, two partitions each.
        let mut gpus: Vec<Gpu> = (0..16)
            .map(|i| {
                partition(
                    i,
                    &format!("0000:{:02x}:00.{}", if i < 8 { 0x0c } else { 0x22 }, i % 8),
                    "CPX",
                    "NPS4",
                    49148,
                )
            })
            .collect();
        group_partitions(&mut gpus);
        assert_eq!(gpus[7].partition.as_ref().unwrap().parent, Some(0));
        assert_eq!(gpus[8].partition.as_ref().unwrap().parent, Some(8));
        assert_eq!(gpus[3].memory_total_bytes, Some(24574 << 20));
    }

    #[test]
    fn spx_is_its_own_parent_and_keeps_its_memory() {
        let mut gpus = vec![partition(0, "0000:0c:00.0", "SPX", "NPS1", 196592)];
        group_partitions(&mut gpus);
        assert_eq!(gpus[0].partition.as_ref().unwrap().parent, Some(0));
        assert_eq!(gpus[0].memory_total_bytes, Some(196592 << 20));
    }
}
