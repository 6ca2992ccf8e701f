//! Joins what the providers found into one snapshot: the vendors' GPUs side by side, the
//! KFD tree filling what the AMD tools leave out (render node, NUMA node), and the islands.

use crate::model::gpu::{GpuSnapshot, GpuVendor};

use super::islands::islands;
use super::report::ProviderReport;

/// `reports` are the primary providers that answered (at most one per vendor); `kfd` is the
/// KFD tree when present and not already the AMD provider.
pub fn merge(
    reports: Vec<ProviderReport>,
    kfd: Option<&ProviderReport>,
    mut warnings: Vec<String>,
) -> GpuSnapshot {
    let mut snapshot = GpuSnapshot::default();
    let mut enriched = false;
    for mut report in reports {
        if let Some(kfd) = kfd {
            enriched |= enrich_from_kfd(&mut report, kfd);
        }
        snapshot.sources.push(report.source);
        warnings.append(&mut report.warnings);
        // Both vendors in one box: keep indices unique so links and holders stay unambiguous.
        let offset = if report.gpus.first().map(|g| g.vendor) == Some(GpuVendor::Amd)
            && !snapshot.gpus.is_empty()
        {
            let offset = snapshot.gpus.iter().map(|g| g.index + 1).max().unwrap_or(0);
            warnings.push(format!(
                "both NVIDIA and AMD GPUs found: AMD GPUs are listed from index {offset}"
            ));
            offset
        } else {
            0
        };
        for mut gpu in report.gpus {
            gpu.index += offset;
            if let Some(parent) = gpu.partition.as_mut().and_then(|p| p.parent.as_mut()) {
                *parent += offset;
            }
            snapshot.gpus.push(gpu);
        }
        for mut link in report.links {
            link.a += offset;
            link.b += offset;
            snapshot.links.push(link);
        }
    }
    if enriched {
        snapshot.sources.push(super::kfd::SOURCE.to_string());
    }
    snapshot.gpus.sort_by_key(|gpu| gpu.index);
    snapshot.links.sort_by_key(|link| (link.a, link.b));
    let indices: Vec<u32> = snapshot.gpus.iter().map(|gpu| gpu.index).collect();
    snapshot.islands = islands(&indices, &snapshot.links);
    snapshot.warnings = warnings;
    snapshot
}

/// Copies KFD facts onto the AMD tool's GPUs with the same PCI address. Returns whether
/// anything was filled in.
fn enrich_from_kfd(report: &mut ProviderReport, kfd: &ProviderReport) -> bool {
    let mut changed = false;
    for gpu in report.gpus.iter_mut().filter(|gpu| gpu.vendor == GpuVendor::Amd) {
        let Some(bus) = gpu.pci_bus_id.as_deref() else { continue };
        let Some(found) = kfd.gpus.iter().find(|k| k.pci_bus_id.as_deref() == Some(bus)) else {
            continue;
        };
        if gpu.render_node.is_none() && found.render_node.is_some() {
            gpu.render_node = found.render_node.clone();
            changed = true;
        }
        if gpu.numa_node.is_none() && found.numa_node.is_some() {
            gpu.numa_node = found.numa_node;
            changed = true;
        }
    }
    changed
}
