//! AMD GPUs from the older `rocm-smi --json`, used where `amd-smi` is missing or broken.
//! Every value is a string, keyed by `cardN`; pair facts sit under `system` with keys such as
//! `(Topology) Link type between DRM devices 0 and 1` (upper triangle only).

use serde_json::{Map, Value};

use crate::model::gpu::{Gpu, GpuVendor, Link, LinkKind};

use super::amd_values::parse_json;
use super::pci::normalize_bus_id;
use super::report::ProviderReport;

pub const SOURCE: &str = "rocm-smi";

/// Arguments for the per-GPU facts and readings.
pub const INFO_ARGS: [&str; 10] = [
    "--showproductname",
    "--showmeminfo",
    "vram",
    "--showuse",
    "--showpower",
    "--showtemp",
    "--showbus",
    "--showuniqueid",
    "--showmaxpower",
    "--json",
];
pub const TOPO_ARGS: [&str; 2] = ["--showtopo", "--json"];

pub fn parse(info: &str, topo: Option<&str>) -> Result<ProviderReport, String> {
    let doc = parse_json(info).map_err(|why| format!("rocm-smi --json: {why}"))?;
    let cards = doc.as_object().ok_or("rocm-smi --json: not an object")?;
    let mut report = ProviderReport { source: SOURCE.to_string(), ..Default::default() };
    for (key, fields) in cards {
        let (Some(index), Some(fields)) = (card_index(key), fields.as_object()) else { continue };
        report.gpus.push(gpu_from_card(index, fields));
    }
    report.gpus.sort_by_key(|gpu| gpu.index);
    if let Some(topo) = topo {
        match parse_json(topo) {
            Ok(doc) => apply_topology(&mut report, &doc),
            Err(why) => report.warnings.push(format!("rocm-smi --showtopo --json: {why}")),
        }
    }
    Ok(report)
}

fn card_index(key: &str) -> Option<u32> {
    key.strip_prefix("card")?.parse().ok()
}

fn field<'a>(fields: &'a Map<String, Value>, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|name| {
        let value = fields.get(*name)?.as_str()?.trim();
        (!value.is_empty() && !value.eq_ignore_ascii_case("n/a")).then_some(value)
    })
}

fn number(fields: &Map<String, Value>, names: &[&str]) -> Option<f64> {
    field(fields, names)?.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn gpu_from_card(index: u32, fields: &Map<String, Value>) -> Gpu {
    let name = field(fields, &["Card Series", "Card series", "Card Model", "Card model"])
        .unwrap_or("AMD GPU");
    let mut gpu = Gpu::new(index, GpuVendor::Amd, name);
    gpu.pci_bus_id = field(fields, &["PCI Bus"]).map(normalize_bus_id);
    gpu.uuid = field(fields, &["Unique ID"]).map(str::to_string);
    gpu.memory_total_bytes = number(fields, &["VRAM Total Memory (B)"]).map(|b| b as u64);
    gpu.memory_used_bytes = number(fields, &["VRAM Total Used Memory (B)"]).map(|b| b as u64);
    gpu.utilization_percent = number(fields, &["GPU use (%)"]);
    gpu.power_watts = number(
        fields,
        &["Current Socket Graphics Package Power (W)", "Average Graphics Package Power (W)"],
    );
    gpu.power_cap_watts = number(fields, &["Max Graphics Package Power (W)"]);
    gpu.temperature_c =
        number(fields, &["Temperature (Sensor junction) (C)", "Temperature (Sensor edge) (C)"]);
    gpu
}

fn apply_topology(report: &mut ProviderReport, doc: &Value) {
    let Some(root) = doc.as_object() else {
        return report.warnings.push("rocm-smi --showtopo --json: not an object".to_string());
    };
    for (key, fields) in root {
        let (Some(index), Some(fields)) = (card_index(key), fields.as_object()) else { continue };
        if let Some(gpu) = report.gpus.iter_mut().find(|gpu| gpu.index == index) {
            gpu.numa_node =
                number(fields, &["(Topology) Numa Node"]).filter(|n| *n >= 0.0).map(|n| n as u32);
        }
    }
    let Some(system) = root.get("system").and_then(Value::as_object) else { return };
    for (key, value) in system {
        let Some((a, b)) = pair(key, "(Topology) Link type between DRM devices ") else { continue };
        let kind = match value.as_str().map(str::to_ascii_uppercase).as_deref() {
            Some("XGMI") => LinkKind::Xgmi,
            Some("PCIE") => LinkKind::Pcie,
            _ => continue,
        };
        let pair_number = |prefix: &str| {
            system
                .get(&format!("{prefix}{a} and {b}"))
                .and_then(Value::as_str)
                .and_then(|text| text.trim().parse::<u32>().ok())
        };
        report.links.push(Link {
            a: a.min(b),
            b: a.max(b),
            kind,
            detail: if kind == LinkKind::Xgmi { "XGMI" } else { "PCIE" }.to_string(),
            nvlink_count: None,
            hops: pair_number("(Topology) Hops between DRM devices "),
            weight: pair_number("(Topology) Weight between DRM devices "),
        });
    }
    report.links.sort_by_key(|link| (link.a, link.b));
    report.links.dedup_by_key(|link| (link.a, link.b));
}

/// `"<prefix>0 and 1"` -> `(0, 1)`.
fn pair(key: &str, prefix: &str) -> Option<(u32, u32)> {
    let rest = key.strip_prefix(prefix)?;
    let (a, b) = rest.split_once(" and ")?;
    let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a != b).then_some((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_and_pairs() {
        let info = r#"{"card0": {"Card Series": "AMD Instinct MI300X", "VRAM Total Memory (B)": "206141652992", "VRAM Total Used Memory (B)": "N/A", "PCI Bus": "0000:0C:00.0"},
                       "card1": {"Card Series": "AMD Instinct MI300X", "GPU use (%)": "3"}}"#;
        let topo = r#"{"card0": {"(Topology) Numa Node": "0"}, "card1": {"(Topology) Numa Node": "1"},
                       "system": {"(Topology) Weight between DRM devices 0 and 1": "15", "(Topology) Hops between DRM devices 0 and 1": "1", "(Topology) Link type between DRM devices 0 and 1": "XGMI"}}"#;
        let report = parse(info, Some(topo)).expect("parses");
        assert_eq!(report.gpus.len(), 2);
        assert_eq!(report.gpus[0].memory_total_bytes, Some(206141652992));
        assert_eq!(report.gpus[0].memory_used_bytes, None);
        assert_eq!(report.gpus[0].pci_bus_id.as_deref(), Some("0000:0c:00.0"));
        assert_eq!(report.gpus[1].numa_node, Some(1));
        assert_eq!(report.links.len(), 1);
        assert_eq!((report.links[0].weight, report.links[0].hops), (Some(15), Some(1)));
    }
}
