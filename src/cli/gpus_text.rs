//! The plain-text form of a GPU snapshot: a table of GPUs, the topology matrix in the
//! `nvidia-smi topo -m` style and the islands.

use std::fmt::Write;

use crate::model::gpu::{Gpu, GpuSnapshot};

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

pub fn render(snapshot: &GpuSnapshot) -> String {
    let mut out = String::new();
    if snapshot.gpus.is_empty() {
        out.push_str("No GPUs found.\n");
        return out;
    }
    let name_width = snapshot.gpus.iter().map(|g| g.name.len()).max().unwrap_or(4).clamp(4, 28);
    // The holder column only when a backend's claims were joined in.
    let held = snapshot.gpus.iter().any(|gpu| gpu.held_by.is_some());
    let header = format!(
        "{:<3}  {:<name_width$}  {:<8}  {:>17}  {:>5}  {:>5}  {:>13}  {:>4}  {:<12}  {}",
        "GPU",
        "NAME",
        "HEALTH",
        "MEMORY",
        "UTIL",
        "TEMP",
        "POWER",
        "NUMA",
        "BUS",
        if held { "HELD BY" } else { "" }
    );
    let _ = writeln!(out, "{}", header.trim_end());
    for gpu in &snapshot.gpus {
        let row = format!(
            "{:<3}  {:<name_width$}  {:<8}  {:>17}  {:>5}  {:>5}  {:>13}  {:>4}  {:<12}  {}",
            gpu.index,
            clip(&gpu.name, name_width),
            gpu.health.state.as_str(),
            memory(gpu),
            gpu.utilization_percent.map(|u| format!("{u:.0}%")).unwrap_or_else(|| "-".into()),
            gpu.temperature_c.map(|t| format!("{t:.0}C")).unwrap_or_else(|| "-".into()),
            power(gpu),
            gpu.numa_node.map(|n| n.to_string()).unwrap_or_else(|| "-".into()),
            gpu.pci_bus_id.as_deref().unwrap_or("-"),
            match (&gpu.held_by, held) {
                (Some(holder), _) => format!("{}/{}", holder.deployment, holder.replica),
                (None, true) => "-".to_string(),
                (None, false) => String::new(),
            },
        );
        let _ = writeln!(out, "{}", row.trim_end());
    }
    if snapshot.gpus.len() > 1 && !snapshot.links.is_empty() {
        out.push('\n');
        out.push_str("      ");
        for gpu in &snapshot.gpus {
            let _ = write!(out, "{:<6}", format!("GPU{}", gpu.index));
        }
        let trimmed = out.trim_end_matches(' ').len();
        out.truncate(trimmed);
        out.push('\n');
        for row in &snapshot.gpus {
            let _ = write!(out, "{:<6}", format!("GPU{}", row.index));
            for column in &snapshot.gpus {
                let cell = if row.index == column.index {
                    "X".to_string()
                } else {
                    snapshot
                        .link(row.index, column.index)
                        .map(|l| l.detail.clone())
                        .unwrap_or_else(|| "-".into())
                };
                let _ = write!(out, "{cell:<6}");
            }
            let trimmed = out.trim_end_matches(' ').len();
            out.truncate(trimmed);
            out.push('\n');
        }
    }
    render_findings(&mut out, snapshot);
    let islands: Vec<String> = snapshot
        .islands
        .iter()
        .filter(|island| island.gpus.len() > 1)
        .map(|island| {
            let gpus: Vec<String> = island.gpus.iter().map(u32::to_string).collect();
            format!("[{}] {}", gpus.join(","), island.kind.map(|k| k.as_str()).unwrap_or(""))
        })
        .collect();
    if !islands.is_empty() {
        let _ = writeln!(out, "\nIslands: {}", islands.join("  "));
    }
    let _ = writeln!(
        out,
        "Sources: {}",
        if snapshot.sources.is_empty() { "none".to_string() } else { snapshot.sources.join(", ") }
    );
    out
}

/// Why each GPU is not ok, who uses it, and how it is split, one line each.
fn render_findings(out: &mut String, snapshot: &GpuSnapshot) {
    let mut lines = Vec::new();
    for gpu in &snapshot.gpus {
        for reason in &gpu.health.reasons {
            lines.push(format!(
                "GPU {}: {}: {}",
                gpu.index,
                reason.severity.as_str(),
                reason.message
            ));
        }
        for process in &gpu.processes {
            lines.push(format!("GPU {}: {}", gpu.index, process.describe()));
        }
        if !gpu.mig_devices.is_empty() {
            let devices: Vec<String> =
                gpu.mig_devices.iter().map(|d| format!("{} {}", d.device, d.profile)).collect();
            lines.push(format!("GPU {}: MIG devices: {}", gpu.index, devices.join(", ")));
        }
    }
    let parents: std::collections::BTreeSet<(u32, String)> = snapshot
        .gpus
        .iter()
        .filter_map(|g| {
            let p = g.partition.as_ref().filter(|p| p.is_split())?;
            Some((
                p.parent?,
                format!(
                    "{}/{}",
                    p.compute.as_deref().unwrap_or("?"),
                    p.memory.as_deref().unwrap_or("?")
                ),
            ))
        })
        .collect();
    for (parent, mode) in parents {
        let members: Vec<String> = snapshot
            .gpus
            .iter()
            .filter(|g| g.partition.as_ref().and_then(|p| p.parent) == Some(parent))
            .map(|g| g.index.to_string())
            .collect();
        lines.push(format!("GPU {parent}: {mode} partitions {}", members.join(",")));
    }
    if !lines.is_empty() {
        out.push('\n');
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
    }
}

fn memory(gpu: &Gpu) -> String {
    match (gpu.memory_used_bytes, gpu.memory_total_bytes) {
        (Some(used), Some(total)) => {
            format!("{:.1}/{:.1} GiB", used as f64 / GIB, total as f64 / GIB)
        }
        (None, Some(total)) => format!("-/{:.1} GiB", total as f64 / GIB),
        _ => "-".to_string(),
    }
}

fn power(gpu: &Gpu) -> String {
    match (gpu.power_watts, gpu.power_cap_watts) {
        (Some(draw), Some(cap)) => format!("{draw:.0}/{cap:.0} W"),
        (Some(draw), None) => format!("{draw:.0} W"),
        (None, Some(cap)) => format!("-/{cap:.0} W"),
        _ => "-".to_string(),
    }
}

fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut clipped: String = text.chars().take(width.saturating_sub(1)).collect();
        clipped.push('~');
        clipped
    }
}
