//! NVIDIA GPUs from `nvidia-smi --query-gpu=... --format=csv,noheader,nounits`: one line per GPU,
//! fields separated by `", "`, memory in MiB, `[N/A]` (or `[Not Supported]`) where the
//! driver has no reading.

use crate::model::gpu::{Gpu, GpuVendor};

use super::nvidia_topo::parse_topo_matrix;
use super::pci::normalize_bus_id;
use super::report::ProviderReport;

pub const SOURCE: &str = "nvidia-smi";

/// The fields asked for, in the order the parser reads them.
pub const QUERY_FIELDS: [&str; 10] = [
    "index",
    "uuid",
    "name",
    "memory.total",
    "memory.used",
    "utilization.gpu",
    "temperature.gpu",
    "power.draw",
    "pci.bus_id",
    "power.limit",
];

/// The `nvidia-smi` arguments for one telemetry read.
pub fn query_args() -> Vec<String> {
    vec![
        format!("--query-gpu={}", QUERY_FIELDS.join(",")),
        "--format=csv,noheader,nounits".to_string(),
    ]
}

/// The report from the query CSV and, when it ran, the `topo -m` matrix (links, CPU and NUMA
/// affinity).
pub fn assemble(query: &str, topo: Option<&str>) -> ProviderReport {
    let (gpus, warnings) = parse_query_csv(query);
    let mut report =
        ProviderReport { source: SOURCE.to_string(), gpus, links: Vec::new(), warnings };
    if let Some(topo) = topo {
        apply_topology(&mut report, topo);
    }
    report
}

/// Takes links, CPU affinity and NUMA node from a `topo -m` matrix (also used with NVML).
pub fn apply_topology(report: &mut ProviderReport, topo: &str) {
    let (matrix, mut warnings) = parse_topo_matrix(topo);
    report.warnings.append(&mut warnings);
    for affinity in matrix.affinity {
        if let Some(gpu) = report.gpus.iter_mut().find(|gpu| gpu.index == affinity.index) {
            gpu.numa_node = affinity.numa_node;
            gpu.cpu_affinity = affinity.cpu_affinity;
        }
    }
    report.links = matrix.links;
}

const MIB: u64 = 1024 * 1024;

/// Parses the CSV. Lines that do not fit (truncated output, a driver message) become warnings;
/// the GPUs on good lines are still returned.
pub fn parse_query_csv(text: &str) -> (Vec<Gpu>, Vec<String>) {
    let mut gpus = Vec::new();
    let mut warnings = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match parse_line(line) {
            Ok(gpu) => gpus.push(gpu),
            Err(why) => warnings.push(format!(
                "nvidia-smi --query-gpu: line {}: {why}: `{}`",
                number + 1,
                clip(line)
            )),
        }
    }
    (gpus, warnings)
}

fn parse_line(line: &str) -> Result<Gpu, String> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    if fields.len() != QUERY_FIELDS.len() {
        return Err(format!("expected {} fields, found {}", QUERY_FIELDS.len(), fields.len()));
    }
    let index =
        fields[0].parse::<u32>().map_err(|_| format!("index `{}` is not a number", fields[0]))?;
    let name = fields[2];
    if unavailable(name) {
        return Err("no product name".to_string());
    }
    let mut gpu = Gpu::new(index, GpuVendor::Nvidia, name);
    gpu.uuid = text(fields[1]);
    gpu.memory_total_bytes = number(fields[3]).map(|mib| (mib * MIB as f64) as u64);
    gpu.memory_used_bytes = number(fields[4]).map(|mib| (mib * MIB as f64) as u64);
    gpu.utilization_percent = number(fields[5]);
    gpu.temperature_c = number(fields[6]);
    gpu.power_watts = number(fields[7]);
    gpu.pci_bus_id = text(fields[8]).map(|id| normalize_bus_id(&id));
    gpu.power_cap_watts = number(fields[9]);
    Ok(gpu)
}

/// `[N/A]`, `[Not Supported]`, `N/A`, `[Unknown Error]`, `[Insufficient Permissions]`.
fn unavailable(field: &str) -> bool {
    field.is_empty() || field.starts_with('[') || field.eq_ignore_ascii_case("n/a")
}

fn text(field: &str) -> Option<String> {
    (!unavailable(field)).then(|| field.to_string())
}

fn number(field: &str) -> Option<f64> {
    if unavailable(field) {
        return None;
    }
    field.parse::<f64>().ok().filter(|value| value.is_finite())
}

fn clip(line: &str) -> &str {
    match line.char_indices().nth(80) {
        Some((at, _)) => &line[..at],
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_full_line() {
        let (gpus, warnings) = parse_query_csv(
            "0, GPU-5a5b5c5d-0000-1111-2222-333344445555, NVIDIA A100-SXM4-80GB, 81920, 1024, 37, 41, 88.12, 00000000:07:00.0, 400.00\n",
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        let gpu = &gpus[0];
        assert_eq!(gpu.name, "NVIDIA A100-SXM4-80GB");
        assert_eq!(gpu.memory_total_bytes, Some(81920 * MIB));
        assert_eq!(gpu.memory_used_bytes, Some(1024 * MIB));
        assert_eq!(gpu.pci_bus_id.as_deref(), Some("0000:07:00.0"));
        assert_eq!(gpu.power_cap_watts, Some(400.0));
    }

    #[test]
    fn not_available_fields_are_null_and_short_lines_warn() {
        let (gpus, warnings) = parse_query_csv(
            "0, GPU-1, NVIDIA L40S, 46068, 0, [N/A], 30, [Not Supported], 00000000:3B:00.0, [N/A]\n1, GPU-2, NVIDIA L4",
        );
        assert_eq!(gpus.len(), 1);
        assert_eq!(gpus[0].utilization_percent, None);
        assert_eq!(gpus[0].power_watts, None);
        assert_eq!(gpus[0].temperature_c, Some(30.0));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("line 2: expected 10 fields, found 3"), "{}", warnings[0]);
    }
}
