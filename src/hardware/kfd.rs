//! AMD GPUs straight from the kernel's KFD topology, for machines with the driver but no
//! ROCm tools. Layout (`/sys/class/kfd/kfd/topology/nodes/N/`): `properties` holds
//! `key value` lines (`gpu_id` is 0 for CPU nodes, `vendor_id` 4098 is AMD,
//! `drm_render_minor`, `gfx_target_version`, `location_id`, `domain`, `device_id`,
//! `unique_id`); `mem_banks/K/properties` holds `heap_type` and `size_in_bytes`;
//! `io_links/K/properties` holds `type` (2 = PCIe, 11 = XGMI), `node_from`, `node_to`, `weight`.
//! No live readings come from here: utilisation, power and temperature stay `null`.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::model::gpu::{Gpu, GpuVendor, Link, LinkKind};

use super::pci::bus_id_from_location;
use super::report::ProviderReport;

pub const SOURCE: &str = "kfd-sysfs";
const AMD_VENDOR_ID: u64 = 4098;
const IO_LINK_PCIE: u64 = 2;
const IO_LINK_XGMI: u64 = 11;
/// Frame-buffer heaps (public and private); system-memory banks are not VRAM.
const HEAP_FB_PUBLIC: u64 = 1;
const HEAP_FB_PRIVATE: u64 = 2;

type Properties = HashMap<String, u64>;

struct Node {
    id: u64,
    props: Properties,
    banks: Vec<Properties>,
    links: Vec<Properties>,
}

/// Reads the tree under `root` (the directory holding `nodes/`). `Ok(None)` when there is no
/// tree at all (no AMD driver), an error when the tree is there but unreadable.
pub fn read(root: &Path) -> Result<Option<ProviderReport>, String> {
    read_with_pci(root, None)
}

/// The last tree read, by where it was read and the kernel's `generation_id` then.
type Cached = (PathBuf, Option<PathBuf>, u64, ProviderReport);
static LAST_READ: Mutex<Option<Cached>> = Mutex::new(None);

/// `read`, with each GPU's compute and memory partition mode from the driver's files in its
/// PCI device directory under `pci_root` (`kfd_partitions`). The tree holds no live readings
/// and the kernel bumps `generation_id` whenever it changes (a partition switch rebuilds it;
/// libhsakmt watches the same file), so while that number stands the last report is reused:
/// an MI300X box in CPX is 64 nodes and some 4,000 files, too many to read on every poll.
pub fn read_with_pci(
    root: &Path,
    pci_root: Option<&Path>,
) -> Result<Option<ProviderReport>, String> {
    let generation = fs::read_to_string(root.join("generation_id"))
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok());
    let same_place = |c: &Cached| c.0 == root && c.1.as_deref() == pci_root;
    if let Some(generation) = generation {
        let cache = LAST_READ.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(hit) = cache.as_ref().filter(|c| same_place(c) && c.2 == generation) {
            return Ok(Some(hit.3.clone()));
        }
    }
    let report = read_tree(root, pci_root)?;
    if let (Some(generation), Some(report)) = (generation, report.as_ref()) {
        *LAST_READ.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) =
            Some((root.to_path_buf(), pci_root.map(Path::to_path_buf), generation, report.clone()));
    }
    Ok(report)
}

fn read_tree(root: &Path, pci_root: Option<&Path>) -> Result<Option<ProviderReport>, String> {
    let nodes_dir = root.join("nodes");
    let entries = match fs::read_dir(&nodes_dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(format!("{}: {err}", nodes_dir.display())),
    };
    let mut warnings = Vec::new();
    let mut nodes = Vec::new();
    for entry in entries.flatten() {
        let Some(id) = entry.file_name().to_str().and_then(|name| name.parse::<u64>().ok()) else {
            continue;
        };
        let dir = entry.path();
        match read_properties(&dir.join("properties")) {
            Ok(mut props) => {
                // `gpu_id` lives in its own file; keep it with the rest.
                if let Some(gpu_id) = fs::read_to_string(dir.join("gpu_id"))
                    .ok()
                    .and_then(|t| t.trim().parse::<u64>().ok())
                {
                    props.insert("gpu_id".to_string(), gpu_id);
                }
                nodes.push(Node {
                    id,
                    props,
                    banks: read_children(&dir.join("mem_banks"), &mut warnings),
                    links: read_children(&dir.join("io_links"), &mut warnings),
                })
            }
            Err(why) => warnings.push(why),
        }
    }
    Ok(Some(finish(nodes, warnings, pci_root)))
}

fn finish(mut nodes: Vec<Node>, warnings: Vec<String>, pci_root: Option<&Path>) -> ProviderReport {
    nodes.sort_by_key(|node| node.id);
    let mut xcc = BTreeMap::new();
    let mut report = build(&nodes, warnings, &mut xcc);
    super::kfd_partitions::apply(&mut report.gpus, &xcc, pci_root);
    // The KFD's banks are each partition's share already: parents only, no division.
    super::partitions::set_parents(&mut report.gpus);
    report
}

/// The report for a tree written as one text, so the fuzzer (`fuzz/`) reaches the reader
/// without files: a `[node]` line starts the next node's `properties`, `[bank]` and `[link]`
/// lines start one of its `mem_banks`/`io_links` documents. Same code as `read` past the files.
#[doc(hidden)]
pub fn report_from_text(text: &str) -> ProviderReport {
    // (node id, kind, text); kind 0 = properties, 1 = a bank, 2 = a link. Text before the
    // first marker is node 0's properties.
    let mut docs: Vec<(u64, u8, String)> = vec![(0, 0, String::new())];
    let mut id = 0;
    for line in text.lines() {
        match line {
            "[node]" => {
                id += 1;
                docs.push((id, 0, String::new()));
            }
            "[bank]" => docs.push((id, 1, String::new())),
            "[link]" => docs.push((id, 2, String::new())),
            _ => {
                let Some((_, _, doc)) = docs.last_mut() else { continue };
                doc.push_str(line);
                doc.push('\n');
            }
        }
    }
    let mut nodes: Vec<Node> = Vec::new();
    for (id, kind, doc) in docs {
        let props = parse_properties(&doc);
        match (kind, nodes.last_mut()) {
            (1, Some(node)) => node.banks.push(props),
            (2, Some(node)) => node.links.push(props),
            _ => nodes.push(Node { id, props, banks: Vec::new(), links: Vec::new() }),
        }
    }
    finish(nodes, Vec::new(), None)
}

/// The GPUs and links of the tree; `xcc` gets each GPU's `num_xcc` by index.
fn build(nodes: &[Node], warnings: Vec<String>, xcc: &mut BTreeMap<u32, u64>) -> ProviderReport {
    // Without a `gpu_id` file, a node with SIMDs and no CPU cores is a GPU.
    let is_gpu = |node: &Node| match node.props.get("gpu_id") {
        Some(&id) => id != 0,
        None => {
            node.props.get("simd_count").copied().unwrap_or(0) > 0
                && node.props.get("cpu_cores_count").copied().unwrap_or(0) == 0
        }
    };
    // CPU nodes are numbered like the NUMA nodes they stand for.
    let cpu_ordinal: HashMap<u64, u32> =
        nodes.iter().filter(|node| !is_gpu(node)).zip(0..).map(|(node, n)| (node.id, n)).collect();
    let gpu_ordinal: HashMap<u64, u32> =
        nodes.iter().filter(|node| is_gpu(node)).zip(0..).map(|(node, n)| (node.id, n)).collect();

    let mut report = ProviderReport { source: SOURCE.to_string(), warnings, ..Default::default() };
    // Each link is listed from both ends; keep one.
    let mut seen: std::collections::HashSet<(u32, u32)> = std::collections::HashSet::new();
    for node in nodes.iter().filter(|node| is_gpu(node)) {
        if node.props.get("vendor_id").copied() != Some(AMD_VENDOR_ID) {
            continue;
        }
        let index = gpu_ordinal[&node.id];
        let mut gpu = Gpu::new(index, GpuVendor::Amd, product_name(&node.props));
        if let Some(&count) = node.props.get("num_xcc") {
            xcc.insert(index, count);
        }
        gpu.pci_bus_id = node.props.get("location_id").map(|&location| {
            let (location, _) = super::kfd_partitions::location_with_partition(location);
            bus_id_from_location(node.props.get("domain").copied().unwrap_or(0), location)
        });
        gpu.render_node =
            node.props.get("drm_render_minor").map(|minor| format!("/dev/dri/renderD{minor}"));
        gpu.uuid = node.props.get("unique_id").filter(|&&id| id != 0).map(|id| format!("0x{id:x}"));
        let vram: u64 = node
            .banks
            .iter()
            .filter(|bank| {
                matches!(bank.get("heap_type"), Some(&HEAP_FB_PUBLIC) | Some(&HEAP_FB_PRIVATE))
            })
            .filter_map(|bank| bank.get("size_in_bytes"))
            .sum();
        gpu.memory_total_bytes = (vram > 0).then_some(vram);
        for link in &node.links {
            let (Some(&kind), Some(&to)) = (link.get("type"), link.get("node_to")) else {
                continue;
            };
            if kind == IO_LINK_PCIE {
                if let Some(&numa) = cpu_ordinal.get(&to) {
                    gpu.numa_node = Some(numa);
                }
            } else if kind == IO_LINK_XGMI
                && let Some(&peer) = gpu_ordinal.get(&to)
                && peer != index
                && seen.insert((index.min(peer), index.max(peer)))
            {
                report.links.push(Link {
                    a: index.min(peer),
                    b: index.max(peer),
                    kind: LinkKind::Xgmi,
                    detail: "XGMI".to_string(),
                    nvlink_count: None,
                    // An io_link is a direct connection.
                    hops: Some(1),
                    weight: link.get("weight").and_then(|&w| u32::try_from(w).ok()),
                });
            }
        }
        report.gpus.push(gpu);
    }
    report.links.sort_by_key(|link| (link.a, link.b));
    report
}

/// The marketing name for the Instinct parts recipes are written for (PCI device ids from
/// the PCI ID repository); otherwise the gfx target the kernel reports, e.g. `gfx942`.
fn product_name(props: &Properties) -> String {
    let known = match props.get("device_id") {
        Some(0x74a1) => Some("AMD Instinct MI300X"),
        Some(0x74a5) => Some("AMD Instinct MI325X"),
        Some(0x740c) => Some("AMD Instinct MI250X / MI250"),
        Some(0x740f) => Some("AMD Instinct MI210"),
        Some(0x75a0) => Some("AMD Instinct MI350X"),
        _ => None,
    };
    if let Some(name) = known {
        return name.to_string();
    }
    match props.get("gfx_target_version") {
        // 90402 -> gfx942, 90010 -> gfx90a: major, minor and stepping, the last two in hex.
        Some(&version) => {
            format!("gfx{}{:x}{:x}", version / 10000, (version / 100) % 100, version % 100)
        }
        None => "AMD GPU".to_string(),
    }
}

fn read_properties(path: &Path) -> Result<Properties, String> {
    let text = fs::read_to_string(path).map_err(|err| format!("{}: {err}", path.display()))?;
    Ok(parse_properties(&text))
}

/// `key value` lines; lines without a number value are skipped.
fn parse_properties(text: &str) -> Properties {
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(char::is_whitespace)?;
            Some((key.to_string(), value.trim().parse::<u64>().ok()?))
        })
        .collect()
}

fn read_children(dir: &Path, warnings: &mut Vec<String>) -> Vec<Properties> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut children: Vec<(u64, Properties)> = Vec::new();
    for entry in entries.flatten() {
        let Some(id) = entry.file_name().to_str().and_then(|name| name.parse::<u64>().ok()) else {
            continue;
        };
        match read_properties(&entry.path().join("properties")) {
            Ok(props) => children.push((id, props)),
            Err(why) => warnings.push(why),
        }
    }
    children.sort_by_key(|(id, _)| *id);
    children.into_iter().map(|(_, props)| props).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gfx_names_follow_the_kernel_encoding() {
        let props: Properties = [("gfx_target_version".to_string(), 90010)].into();
        assert_eq!(product_name(&props), "gfx90a");
        let props: Properties = [("gfx_target_version".to_string(), 110000)].into();
        assert_eq!(product_name(&props), "gfx1100");
    }

    #[test]
    fn a_missing_tree_is_not_an_error() {
        assert_eq!(read(Path::new("/nonexistent/aimdeck-kfd")), Ok(None));
    }

    #[test]
    fn an_unchanged_generation_reuses_the_last_read() {
        let root = tempfile::tempdir().expect("tempdir");
        let node = root.path().join("nodes/1");
        fs::create_dir_all(&node).expect("mkdir");
        fs::write(node.join("gpu_id"), "45412\n").expect("write");
        let props = "cpu_cores_count 0\nsimd_count 1216\nvendor_id 4098\ndevice_id 29857\n";
        fs::write(node.join("properties"), props).expect("write");
        fs::write(root.path().join("generation_id"), "7\n").expect("write");
        let first = read_with_pci(root.path(), None).unwrap().unwrap();
        assert_eq!(first.gpus.len(), 1);
        // A second GPU appears without a new generation: the kernel would have bumped it.
        fs::create_dir_all(root.path().join("nodes/2")).expect("mkdir");
        fs::write(root.path().join("nodes/2/properties"), props).expect("write");
        fs::write(root.path().join("nodes/2/gpu_id"), "21281\n").expect("write");
        assert_eq!(read_with_pci(root.path(), None).unwrap().unwrap().gpus.len(), 1);
        fs::write(root.path().join("generation_id"), "8\n").expect("write");
        assert_eq!(read_with_pci(root.path(), None).unwrap().unwrap().gpus.len(), 2);
    }

    #[test]
    fn the_text_form_reads_like_the_tree() {
        let root = tempfile::tempdir().expect("tempdir");
        let gpu = "cpu_cores_count 0\nsimd_count 1216\nvendor_id 4098\nlocation_id 3072\n";
        let bank = "heap_type 1\nsize_in_bytes 1024\n";
        for (node, props) in [("0", "cpu_cores_count 96\nsimd_count 0\n"), ("1", gpu)] {
            fs::create_dir_all(root.path().join(format!("nodes/{node}"))).expect("mkdir");
            fs::write(root.path().join(format!("nodes/{node}/properties")), props).expect("write");
        }
        // Only the GPU has a memory bank (a bank folder without its file would be a warning).
        fs::create_dir_all(root.path().join("nodes/1/mem_banks/0")).expect("mkdir");
        fs::write(root.path().join("nodes/1/mem_banks/0/properties"), bank).expect("write");
        let from_tree = read_tree(root.path(), None).unwrap().unwrap();
        let text = format!("cpu_cores_count 96\nsimd_count 0\n[node]\n{gpu}[bank]\n{bank}");
        let from_text = report_from_text(&text);
        assert_eq!(from_text.gpus.len(), 1);
        assert_eq!(from_text.gpus[0].memory_total_bytes, Some(1024));
        assert_eq!(from_text, from_tree);
    }
}
