//! `aimdeck gpus` end to end: the real binary with recorded vendor tools on `PATH` (and
//! written KFD trees), one test per machine in `tests/fixtures/gpus/`.

use crate::common;

use std::time::{Duration, Instant};

use common::{MIB, aimdeck_gpus, gpus_json, kfd_tree};
use serde_json::Value;

fn gpus(doc: &Value) -> &Vec<Value> {
    doc["gpus"].as_array().expect("gpus is a list")
}

fn links(doc: &Value) -> &Vec<Value> {
    doc["links"].as_array().expect("links is a list")
}

fn link(doc: &Value, a: u64, b: u64) -> &Value {
    links(doc)
        .iter()
        .find(|l| l["a"] == a && l["b"] == b)
        .unwrap_or_else(|| panic!("no link {a}-{b} in {}", doc["links"]))
}

fn strings(value: &Value) -> Vec<&str> {
    value.as_array().expect("a list").iter().map(|v| v.as_str().expect("a string")).collect()
}

fn assert_full_mesh(doc: &Value, kind: &str, detail: &str, count: u64) {
    assert_eq!(
        links(doc).len() as u64,
        count * (count - 1) / 2,
        "one link per pair: {}",
        doc["links"]
    );
    for l in links(doc) {
        assert_eq!(l["kind"], kind);
        assert_eq!(l["detail"], detail);
    }
    let islands = doc["islands"].as_array().expect("islands");
    assert_eq!(islands.len(), 1, "one island: {islands:?}");
    assert_eq!(islands[0]["gpus"].as_array().map(Vec::len), Some(count as usize));
}

#[test]
fn h100_sxm_8_nvlink_mesh() {
    let doc = gpus_json(&["h100-sxm-8"], None);
    assert_eq!(strings(&doc["sources"]), ["nvidia-smi"]);
    assert!(doc["warnings"].as_array().is_some_and(Vec::is_empty), "{}", doc["warnings"]);
    let list = gpus(&doc);
    assert_eq!(list.len(), 8);
    for (i, gpu) in list.iter().enumerate() {
        assert_eq!(gpu["index"], i as u64);
        assert_eq!(gpu["vendor"], "nvidia");
        assert_eq!(gpu["name"], "NVIDIA H100 80GB HBM3");
        assert_eq!(gpu["memory_total_bytes"], 81559 * MIB);
        assert_eq!(gpu["numa_node"], if i < 4 { 0 } else { 1 });
        assert!(gpu["uuid"].as_str().is_some_and(|u| u.starts_with("GPU-")));
    }
    assert_eq!(list[0]["pci_bus_id"], "0000:18:00.0");
    assert_eq!(list[7]["pci_bus_id"], "0000:db:00.0");
    assert_eq!(list[4]["memory_used_bytes"], 62114 * MIB);
    assert_eq!(list[4]["utilization_percent"], 97.0);
    assert_eq!(list[4]["power_watts"], 612.44);
    assert_eq!(list[4]["cpu_affinity"], "48-95,144-191");
    assert_full_mesh(&doc, "nvlink", "NV18", 8);
    assert_eq!(link(&doc, 2, 6)["nvlink_count"], 18);
}

#[test]
fn l40s_4_pcie_node_and_sys() {
    let doc = gpus_json(&["l40s-4-pcie"], None);
    assert_eq!(gpus(&doc).len(), 4, "the NIC rows are not GPUs");
    assert_eq!(gpus(&doc)[2]["name"], "NVIDIA L40S");
    assert_eq!(gpus(&doc)[2]["memory_total_bytes"], 46068 * MIB);
    assert_eq!(links(&doc).len(), 6);
    assert_eq!(
        (&link(&doc, 0, 1)["kind"], &link(&doc, 0, 1)["detail"]),
        (&"pcie".into(), &"NODE".into())
    );
    assert_eq!(link(&doc, 1, 2)["detail"], "SYS");
    assert_eq!(link(&doc, 2, 3)["detail"], "NODE");
    assert_eq!(gpus(&doc)[3]["numa_node"], 1);
    // No direct links: every GPU is an island of its own.
    assert_eq!(doc["islands"].as_array().map(Vec::len), Some(4));
}

#[test]
fn a100_single_gpu() {
    let doc = gpus_json(&["a100-1"], None);
    let list = gpus(&doc);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "NVIDIA A100-SXM4-80GB");
    assert_eq!(list[0]["memory_total_bytes"], 81920 * MIB);
    assert_eq!(list[0]["memory_used_bytes"], 4 * MIB);
    assert_eq!(list[0]["power_cap_watts"], 400.0);
    assert!(links(&doc).is_empty());
}

fn assert_mi300x_8(doc: &Value) {
    let list = gpus(doc);
    assert_eq!(list.len(), 8);
    let buses = ["0c", "22", "38", "5c", "9f", "af", "bf", "df"];
    for (i, gpu) in list.iter().enumerate() {
        assert_eq!(gpu["index"], i as u64);
        assert_eq!(gpu["vendor"], "amd");
        assert!(gpu["name"].as_str().is_some_and(|n| n.contains("MI300X")), "{}", gpu["name"]);
        assert_eq!(gpu["pci_bus_id"], format!("0000:{}:00.0", buses[i]));
        assert_eq!(gpu["numa_node"], if i < 4 { 0 } else { 1 });
    }
    assert_full_mesh(doc, "xgmi", "XGMI", 8);
    assert_eq!(link(doc, 0, 7)["weight"], 15);
}

#[test]
fn mi300x_amd_smi_gpu_data_shape() {
    let doc = gpus_json(&["mi300x-8-amdsmi-gpu-data"], None);
    assert_eq!(strings(&doc["sources"]), ["amd-smi"]);
    assert!(doc["warnings"].as_array().is_some_and(Vec::is_empty), "{}", doc["warnings"]);
    assert_mi300x_8(&doc);
    let gpu = &gpus(&doc)[2];
    assert_eq!(gpu["name"], "AMD Instinct MI300X");
    assert_eq!(gpu["memory_total_bytes"], 196300 * MIB);
    assert_eq!(gpu["memory_used_bytes"], 283 * MIB);
    assert_eq!(gpu["power_watts"], 177.0);
    assert_eq!(gpu["power_cap_watts"], 750.0);
    assert_eq!(gpu["temperature_c"], 31.0);
    assert_eq!(gpu["utilization_percent"], 0.0);
    assert_eq!(gpu["render_node"], "/dev/dri/renderD144");
    assert!(gpu["uuid"].as_str().is_some());
    assert_eq!(link(&doc, 3, 5)["hops"], 1);
}

#[test]
fn mi300x_amd_smi_bare_list_shape_and_old_topology() {
    let doc = gpus_json(&["mi300x-8-amdsmi-bare"], None);
    assert_eq!(strings(&doc["sources"]), ["amd-smi"]);
    assert!(doc["warnings"].as_array().is_some_and(Vec::is_empty), "{}", doc["warnings"]);
    assert_mi300x_8(&doc);
    let gpu = &gpus(&doc)[6];
    assert_eq!(gpu["power_cap_watts"], 750.0, "legacy limit.max_power");
    assert_eq!(gpu["memory_used_bytes"], 283 * MIB);
    // This amd-smi has no `list -e`, and there is no KFD tree: unknown, so null.
    assert_eq!(gpu["render_node"], Value::Null);
}

#[test]
fn mi300x_amd_smi_with_kfd_tree_fills_the_render_node() {
    let kfd = tempfile::tempdir().expect("tempdir");
    kfd_tree::write_tree(kfd.path(), 2, &kfd_tree::mi300x_8(), true);
    let doc = gpus_json(&["mi300x-8-amdsmi-bare"], Some(kfd.path()));
    assert_eq!(strings(&doc["sources"]), ["amd-smi", "kfd-sysfs"]);
    assert_eq!(gpus(&doc)[6]["render_node"], "/dev/dri/renderD176");
    assert_eq!(gpus(&doc)[6]["memory_used_bytes"], 283 * MIB, "live readings still from amd-smi");
}

#[test]
fn mi300x_rocm_smi_when_amd_smi_is_missing() {
    let doc = gpus_json(&["mi300x-8-rocm-smi"], None);
    assert_eq!(strings(&doc["sources"]), ["rocm-smi"]);
    assert!(doc["warnings"].as_array().is_some_and(Vec::is_empty), "{}", doc["warnings"]);
    assert_mi300x_8(&doc);
    let gpu = &gpus(&doc)[1];
    assert_eq!(gpu["memory_total_bytes"], 205822885888u64);
    assert_eq!(gpu["memory_used_bytes"], 283 * MIB);
    assert_eq!(gpu["power_watts"], 175.0);
    assert_eq!(link(&doc, 1, 4)["hops"], 1);
}

#[test]
fn mi300x_kfd_sysfs_when_no_tool_is_installed() {
    let kfd = tempfile::tempdir().expect("tempdir");
    kfd_tree::write_tree(kfd.path(), 2, &kfd_tree::mi300x_8(), true);
    let doc = gpus_json(&["no-gpu"], Some(kfd.path()));
    assert_eq!(strings(&doc["sources"]), ["kfd-sysfs"]);
    assert_mi300x_8(&doc);
    let gpu = &gpus(&doc)[0];
    assert_eq!(gpu["name"], "AMD Instinct MI300X");
    assert_eq!(gpu["render_node"], "/dev/dri/renderD128");
    assert_eq!(gpu["memory_total_bytes"], 206_141_652_992u64);
    // The kernel tree has no live readings: null, not zero.
    assert_eq!(gpu["utilization_percent"], Value::Null);
    assert_eq!(gpu["memory_used_bytes"], Value::Null);
}

#[test]
fn no_gpu_machine() {
    let doc = gpus_json(&["no-gpu"], None);
    assert_eq!(
        doc,
        serde_json::json!({"gpus": [], "links": [], "islands": [], "sources": [], "warnings": []})
    );
    aimdeck_gpus(&["no-gpu"], None).assert().success().stdout("No GPUs found.\n");
}

#[test]
fn na_fields_are_null_and_a_cut_line_is_a_warning() {
    let doc = gpus_json(&["broken-nvidia-na"], None);
    let list = gpus(&doc);
    assert_eq!(list.len(), 3, "the truncated 4th line is dropped");
    assert_eq!(list[0]["utilization_percent"], Value::Null);
    assert_eq!(list[0]["power_watts"], Value::Null);
    assert_eq!(list[0]["temperature_c"], 27.0);
    assert_eq!(list[1]["memory_used_bytes"], Value::Null);
    assert_eq!(list[1]["memory_total_bytes"], 46068 * MIB);
    let warnings = strings(&doc["warnings"]);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("line 4: expected 10 fields, found 5"), "{warnings:?}");
}

#[test]
fn tools_that_exit_with_an_error_are_warnings() {
    let output = aimdeck_gpus(&["broken-exit"], None).arg("--json").output().expect("runs");
    assert!(output.status.success());
    let doc: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(gpus(&doc).is_empty());
    let warnings = strings(&doc["warnings"]).join("\n");
    assert!(warnings.contains("exit status: 9: NVIDIA-SMI has failed"), "{warnings}");
    assert!(warnings.contains("amd-smi list --json` exited with exit status: 1: ERROR:root:Unable to detect any GPU devices"), "{warnings}");
    // The same failure of amd-smi's other subcommands is not repeated.
    assert_eq!(warnings.matches("Unable to detect any GPU devices").count(), 1, "{warnings}");
    assert_eq!(warnings.matches("NVIDIA-SMI has failed").count(), 1, "{warnings}");
}

#[test]
fn a_hanging_tool_is_killed_and_reported() {
    let started = Instant::now();
    let output = aimdeck_gpus(&["broken-hang", "a100-1"], None)
        .env("AIMDECK_GPU_TOOL_TIMEOUT_MS", "300")
        .arg("--json")
        .timeout(Duration::from_secs(20))
        .output()
        .expect("runs");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(output.status.success());
    let doc: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    // broken-hang's nvidia-smi comes first on PATH and never answers.
    assert!(gpus(&doc).is_empty());
    let warnings = strings(&doc["warnings"]).join("\n");
    assert!(warnings.contains("did not finish within 300ms and was killed"), "{warnings}");
}

#[test]
fn truncated_json_keeps_the_gpus_and_warns() {
    let doc = gpus_json(&["broken-truncated-json"], None);
    let list = gpus(&doc);
    assert_eq!(list.len(), 8, "static and list still name every GPU");
    assert_eq!(list[0]["utilization_percent"], Value::Null);
    assert_eq!(list[0]["memory_total_bytes"], 196592 * MIB, "static's VRAM size stands in");
    let warnings = strings(&doc["warnings"]).join("\n");
    assert!(
        warnings.contains("amd-smi metric --json: invalid JSON: EOF while parsing"),
        "{warnings}"
    );
    assert_full_mesh(&doc, "xgmi", "XGMI", 8);
}

#[test]
fn human_table_shows_the_topology_matrix_and_islands() {
    let output = aimdeck_gpus(&["h100-sxm-8"], None).output().expect("runs");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("GPU  NAME"), "{text}");
    assert!(
        lines[5].contains("60.7/79.6 GiB")
            && lines[5].contains("97%")
            && lines[5].contains("612/700 W"),
        "{text}"
    );
    let matrix_row = lines.iter().find(|l| l.starts_with("GPU3  ")).expect("matrix row GPU3");
    assert_eq!(
        matrix_row.split_whitespace().collect::<Vec<_>>(),
        ["GPU3", "NV18", "NV18", "NV18", "X", "NV18", "NV18", "NV18", "NV18"]
    );
    assert!(text.contains("Islands: [0,1,2,3,4,5,6,7] nvlink"), "{text}");
    assert!(text.ends_with("Sources: nvidia-smi\n"), "{text}");
}

#[test]
fn watch_prints_one_json_document_per_update() {
    let output = aimdeck_gpus(&["a100-1"], None)
        .args(["--json", "--watch", "--interval", "0.1", "--count", "3"])
        .timeout(Duration::from_secs(20))
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    let docs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON document per line"))
        .collect();
    assert_eq!(docs.len(), 3);
    assert!(docs.iter().all(|d| d["gpus"][0]["name"] == "NVIDIA A100-SXM4-80GB"));
}

#[test]
fn bad_interval_is_refused_with_the_reason() {
    aimdeck_gpus(&["no-gpu"], None)
        .args(["--watch", "--interval", "0"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("`0` is not a number of seconds between 0 and 3600"));
}

#[test]
fn amd_cpu_affinity_comes_from_the_pci_device_directory() {
    let pci = tempfile::tempdir().expect("tempdir");
    for (i, bus) in ["0c", "22", "38", "5c", "9f", "af", "bf", "df"].iter().enumerate() {
        let dir = pci.path().join(format!("0000:{bus}:00.0"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let cpus = if i < 4 { "0-47,96-143\n" } else { "48-95,144-191\n" };
        std::fs::write(dir.join("local_cpulist"), cpus).expect("write");
        std::fs::write(dir.join("numa_node"), if i < 4 { "0\n" } else { "1\n" }).expect("write");
    }
    let output = aimdeck_gpus(&["mi300x-8-amdsmi-gpu-data"], None)
        .env("AIMDECK_PCI_ROOT", pci.path())
        .arg("--json")
        .output()
        .expect("runs");
    let doc: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(gpus(&doc)[0]["cpu_affinity"], "0-47,96-143");
    assert_eq!(gpus(&doc)[5]["cpu_affinity"], "48-95,144-191");
}

mod health;
