//! AMD GPUs from `amd-smi`: `static` names them (product, bus, VRAM, NUMA, power cap),
//! `list -e` adds the UUID and render node, `metric` the live readings, `topology` the links.
//! The field names follow amd-smi's own JSON (ROCm 6.x and 7.x); see DESIGN.md section 3.

use serde_json::Value;

use crate::model::gpu::{Gpu, GpuVendor, Link, LinkKind};

use super::amd_values::{
    at, bytes, first_reading, gpu_entries, gpu_index, parse_json, reading, text,
};
use super::pci::normalize_bus_id;
use super::report::ProviderReport;

pub const SOURCE: &str = "amd-smi";

/// The raw outputs of one pass; `None` where the command failed (already reported).
#[derive(Debug, Clone, Copy, Default)]
pub struct AmdSmiOutputs<'a> {
    pub list: Option<&'a str>,
    pub static_info: Option<&'a str>,
    pub metric: Option<&'a str>,
    pub topology: Option<&'a str>,
}

/// Builds the report. Without a readable `static` document there is no GPU list to trust,
/// so the caller falls back to the next provider.
pub fn parse(outputs: AmdSmiOutputs<'_>) -> Result<ProviderReport, String> {
    let static_text = outputs.static_info.ok_or("amd-smi static gave no output")?;
    let static_doc =
        parse_json(static_text).map_err(|why| format!("amd-smi static --json: {why}"))?;
    let entries =
        gpu_entries(&static_doc).map_err(|why| format!("amd-smi static --json: {why}"))?;

    let mut report = ProviderReport { source: SOURCE.to_string(), ..Default::default() };
    for entry in entries {
        let Some(index) = gpu_index(entry) else {
            report.warnings.push("amd-smi static --json: an entry has no `gpu` index".to_string());
            continue;
        };
        let mut gpu = gpu_from_static(index, entry);
        super::amd_health::apply_static(&mut gpu, entry);
        report.gpus.push(gpu);
    }
    if let Some(list) = outputs.list {
        apply_document(&mut report, list, "amd-smi list --json", apply_list);
    }
    if let Some(metric) = outputs.metric {
        apply_document(&mut report, metric, "amd-smi metric --json", apply_metric);
    }
    if let Some(topology) = outputs.topology {
        match parse_json(topology).and_then(|doc| links_from_topology(&doc)) {
            Ok(links) => report.links = links,
            Err(why) => report.warnings.push(format!("amd-smi topology --json: {why}")),
        }
    }
    super::partitions::group_partitions(&mut report.gpus);
    Ok(report)
}

fn gpu_from_static(index: u32, entry: &Value) -> Gpu {
    let name = text(at(entry, &["asic", "market_name"]))
        .or_else(|| text(at(entry, &["board", "product_name"])))
        .unwrap_or_else(|| "AMD GPU".to_string());
    let mut gpu = Gpu::new(index, GpuVendor::Amd, name);
    gpu.pci_bus_id = text(at(entry, &["bus", "bdf"])).map(|id| normalize_bus_id(&id));
    gpu.memory_total_bytes = at(entry, &["vram", "size"]).and_then(bytes);
    gpu.numa_node =
        at(entry, &["numa", "node"]).and_then(reading).filter(|n| *n >= 0.0).map(|n| n as u32);
    gpu.power_cap_watts = first_reading(
        entry,
        &[
            &["limit", "ppt0", "socket_power_limit"],
            &["limit", "socket_power_limit"],
            &["limit", "max_power"],
        ],
    );
    gpu
}

fn apply_document(
    report: &mut ProviderReport,
    text: &str,
    what: &str,
    apply: fn(&mut Gpu, &Value),
) {
    let doc = match parse_json(text) {
        Ok(doc) => doc,
        Err(why) => return report.warnings.push(format!("{what}: {why}")),
    };
    let entries = match gpu_entries(&doc) {
        Ok(entries) => entries,
        Err(why) => return report.warnings.push(format!("{what}: {why}")),
    };
    for entry in entries {
        let Some(index) = gpu_index(entry) else { continue };
        if let Some(gpu) = report.gpus.iter_mut().find(|gpu| gpu.index == index) {
            apply(gpu, entry);
        }
    }
}

fn apply_list(gpu: &mut Gpu, entry: &Value) {
    gpu.uuid = text(entry.get("uuid")).or(gpu.uuid.take());
    if gpu.pci_bus_id.is_none() {
        gpu.pci_bus_id = text(entry.get("bdf")).map(|id| normalize_bus_id(&id));
    }
    // `list -e` prints `"render": "renderD128"`.
    if let Some(render) = text(entry.get("render")) {
        gpu.render_node = Some(format!("/dev/dri/{render}"));
    }
}

fn apply_metric(gpu: &mut Gpu, entry: &Value) {
    gpu.utilization_percent = first_reading(entry, &[&["usage", "gfx_activity"]]);
    gpu.clock_mhz = first_reading(entry, &[&["clock", "gfx_0", "clk"]]);
    gpu.power_watts = first_reading(
        entry,
        &[
            &["power", "socket_power"],
            &["power", "current_socket_power"],
            &["power", "average_socket_power"],
        ],
    );
    gpu.temperature_c =
        first_reading(entry, &[&["temperature", "hotspot"], &["temperature", "edge"]]);
    if let Some(total) = at(entry, &["mem_usage", "total_vram"]).and_then(bytes) {
        gpu.memory_total_bytes = Some(total);
    }
    gpu.memory_used_bytes = at(entry, &["mem_usage", "used_vram"]).and_then(bytes);
    super::amd_health::apply_metric(gpu, entry);
}

/// Both topology shapes: the current one (`links: [{gpu, link_type, weight, num_hops}]`) and
/// the one before ROCm 6.2 (`link_type: {"gpu_1": "XGMI"}`, `weight`, `hops` maps).
pub fn links_from_topology(doc: &Value) -> Result<Vec<Link>, String> {
    let entries = gpu_entries(doc)?;
    let mut links = Vec::new();
    for entry in entries {
        let Some(from) = gpu_index(entry) else { continue };
        if let Some(Value::Array(peers)) = entry.get("links") {
            for peer in peers {
                let Some(to) = gpu_index(peer) else { continue };
                let link_type = text(peer.get("link_type"));
                push_link(
                    &mut links,
                    from,
                    to,
                    link_type.as_deref(),
                    peer.get("num_hops"),
                    peer.get("weight"),
                );
            }
        } else if let Some(Value::Object(types)) = entry.get("link_type") {
            for (key, link_type) in types {
                let Some(to) = key.strip_prefix("gpu_").and_then(|n| n.parse::<u32>().ok()) else {
                    continue;
                };
                push_link(
                    &mut links,
                    from,
                    to,
                    link_type.as_str(),
                    at(entry, &["hops", key]),
                    at(entry, &["weight", key]),
                );
            }
        }
    }
    links.sort_by_key(|link| (link.a, link.b));
    links.dedup_by_key(|link| (link.a, link.b));
    Ok(links)
}

fn push_link(
    links: &mut Vec<Link>,
    from: u32,
    to: u32,
    link_type: Option<&str>,
    hops: Option<&Value>,
    weight: Option<&Value>,
) {
    // Both directions are listed; the first of a pair is kept after the (stable) sort.
    if from == to {
        return;
    }
    let kind = match link_type.map(str::to_ascii_uppercase).as_deref() {
        Some("XGMI") => LinkKind::Xgmi,
        Some("PCIE") => LinkKind::Pcie,
        _ => return,
    };
    links.push(Link {
        a: from.min(to),
        b: from.max(to),
        kind,
        detail: kind_detail(kind).to_string(),
        nvlink_count: None,
        hops: hops.and_then(reading).map(|n| n as u32),
        weight: weight.and_then(reading).map(|n| n as u32),
    });
}

fn kind_detail(kind: LinkKind) -> &'static str {
    match kind {
        LinkKind::Xgmi => "XGMI",
        LinkKind::Pcie => "PCIE",
        LinkKind::Nvlink => "NVLINK",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn old_topology_shape_is_read() {
        let doc = json!([
            {"gpu": 0, "link_type": {"gpu_0": "SELF", "gpu_1": "PCIE"}, "weight": {"gpu_0": 0, "gpu_1": 40}, "hops": {"gpu_0": 0, "gpu_1": 2}},
            {"gpu": 1, "link_type": {"gpu_0": "PCIE", "gpu_1": "SELF"}, "weight": {"gpu_0": 40, "gpu_1": 0}, "hops": {"gpu_0": 2, "gpu_1": 0}}
        ]);
        let links = links_from_topology(&doc).expect("old shape");
        assert_eq!(links.len(), 1);
        assert_eq!(
            (links[0].kind, links[0].weight, links[0].hops),
            (LinkKind::Pcie, Some(40), Some(2))
        );
    }

    #[test]
    fn missing_static_is_an_error_so_the_next_provider_runs() {
        assert!(parse(AmdSmiOutputs::default()).is_err());
        let err = parse(AmdSmiOutputs {
            static_info: Some("{\"gpu_data\": [{\"gpu\": 0,"),
            ..Default::default()
        })
        .expect_err("truncated");
        assert!(err.contains("EOF while parsing"), "{err}");
    }
}
