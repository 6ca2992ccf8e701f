//! GPU health, partitions and MIG from faulty and partitioned recordings, as `gpus --json` shows them.

use super::*;

fn health(gpu: &Value) -> (&str, Vec<&str>) {
    let state = gpu["health"]["state"].as_str().expect("health.state");
    let codes = gpu["health"]["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    (state, codes)
}

#[test]
fn healthy_recordings_stay_ok_and_unreadable_ones_unknown() {
    for machine in ["h100-sxm-8", "l40s-4-pcie", "a100-1", "mi300x-8-amdsmi-gpu-data"] {
        let doc = gpus_json(&[machine], None);
        assert!(
            doc["warnings"].as_array().is_some_and(Vec::is_empty),
            "{machine}: {}",
            doc["warnings"]
        );
        for gpu in gpus(&doc) {
            assert_eq!(
                health(gpu),
                ("ok", vec![]),
                "{machine} GPU {}: {}",
                gpu["index"],
                gpu["health"]
            );
            assert!(gpu["processes"].as_array().is_some_and(Vec::is_empty));
        }
    }
    // Idle H100s train their link down to Gen1 to save power: that is not a fault.
    let doc = gpus_json(&["h100-sxm-8"], None);
    assert_eq!(gpus(&doc)[0]["health"]["counters"]["pcie.link.gen.current"], "1");
    // Every health field `[N/A]`: no verdict either way.
    for gpu in gpus(&gpus_json(&["broken-nvidia-na"], None)) {
        assert_eq!(health(gpu), ("unknown", vec![]), "{}", gpu["health"]);
    }
    // rocm-smi gives no health fields at all.
    assert_eq!(gpus(&gpus_json(&["mi300x-8-rocm-smi"], None))[0]["health"]["state"], "unknown");
}

#[test]
fn faulty_h100_box_ecc_throttle_link_remap_xid_and_an_unmanaged_process() {
    let kmsg = common::fixture("h100-sxm-8-faulty").join("kmsg.txt");
    let output = aimdeck_gpus(&["h100-sxm-8-faulty"], None)
        .env("AIMDECK_KERNEL_LOG", &kmsg)
        .arg("--json")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(doc["warnings"].as_array().is_some_and(Vec::is_empty), "{}", doc["warnings"]);
    let list = gpus(&doc);
    assert_eq!(health(&list[0]), ("ok", vec![]));
    assert_eq!(health(&list[1]), ("failed", vec!["ecc_uncorrectable"]));
    assert!(
        list[1]["health"]["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2 (ecc.errors.uncorrected.volatile.total)")
    );
    assert_eq!(list[1]["health"]["counters"]["ecc.errors.corrected.aggregate.total"], "41");
    assert_eq!(
        health(&list[2]),
        ("degraded", vec!["throttle_hw_slowdown", "throttle_hw_thermal_slowdown"])
    );
    assert_eq!(health(&list[3]), ("degraded", vec!["pcie_width_below_max"]));
    assert_eq!(
        health(&list[4]),
        ("ok", vec![]),
        "XID 13 is the application's fault, not the GPU's"
    );
    assert_eq!(health(&list[5]), ("failed", vec!["row_remap_failure"]));
    assert_eq!(health(&list[6]), ("failed", vec!["xid_79"]));
    assert!(
        list[6]["health"]["reasons"][0]["message"].as_str().unwrap().contains("fallen off the bus")
    );
    assert_eq!(health(&list[7]), ("degraded", vec!["ecc_correctable_storm"]));
    let process = &list[4]["processes"][0];
    assert_eq!((process["pid"].as_u64(), process["name"].as_str()), (Some(4242), Some("python3")));
    assert_eq!(process["used_memory_bytes"], 72908 * MIB);
    assert_eq!(process["holder"], Value::Null, "aimdeck did not start it");
    // The text form says it too.
    let text = aimdeck_gpus(&["h100-sxm-8-faulty"], None)
        .env("AIMDECK_KERNEL_LOG", &kmsg)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("failed: uncorrectable ECC errors since the driver loaded: 2"), "{text}");
    assert!(text.contains("unmanaged: pid 4242 python3 (71.2 GiB)"), "{text}");
}

#[test]
fn faulty_mi300x_box_ecc_blocks_throttle_link_xgmi_and_processes() {
    let doc = gpus_json(&["mi300x-8-amdsmi-faulty"], None);
    assert!(doc["warnings"].as_array().is_some_and(Vec::is_empty), "{}", doc["warnings"]);
    let list = gpus(&doc);
    assert_eq!(health(&list[0]), ("ok", vec![]));
    assert_eq!(health(&list[1]), ("failed", vec!["ecc_uncorrectable"]));
    assert!(
        list[1]["health"]["reasons"][0]["message"].as_str().unwrap().contains("blocks: UMC 4"),
        "{}",
        list[1]["health"]
    );
    assert_eq!(list[1]["health"]["counters"]["ras.ecc_block_state.UMC"], "ENABLED");
    assert_eq!(health(&list[2]), ("degraded", vec!["throttle_socket_thermal"]));
    assert_eq!(health(&list[3]), ("degraded", vec!["pcie_width_below_max"]));
    assert_eq!(health(&list[5]), ("degraded", vec!["xgmi_errors"]));
    let process = &list[4]["processes"][0];
    assert_eq!((process["pid"].as_u64(), process["name"].as_str()), (Some(4343), Some("python3")));
    assert_eq!(process["used_memory_bytes"], 157514268672u64);
    assert!(
        list[0]["processes"].as_array().is_some_and(Vec::is_empty),
        "\"No running processes detected\" is no process"
    );
    assert_eq!(list[0]["partition"]["compute"], "SPX");
}

#[test]
fn mi300x_in_cpx_nps4_is_64_logical_gpus_under_8_parents() {
    let doc = gpus_json(&["mi300x-8-cpx-nps4"], None);
    assert!(doc["warnings"].as_array().is_some_and(Vec::is_empty), "{}", doc["warnings"]);
    let list = gpus(&doc);
    assert_eq!(list.len(), 64);
    let gpu = &list[13];
    assert_eq!(
        gpu["partition"],
        serde_json::json!({"compute": "CPX", "memory": "NPS4", "partition_id": 5, "parent": 8})
    );
    // 49075 MB per NPS4 domain, shared by two CPX partitions.
    assert_eq!(gpu["memory_total_bytes"], 49075 * MIB / 2);
    assert_eq!(gpu["pci_bus_id"], "0000:22:00.5");
    assert_eq!(link(&doc, 13, 40)["kind"], "xgmi", "each partition keeps its XGMI peers");
}

#[test]
fn mig_layout_on_an_older_driver() {
    let doc = gpus_json(&["a100-80g-mig"], None);
    assert!(doc["warnings"].as_array().is_some_and(Vec::is_empty), "{}", doc["warnings"]);
    let gpu = &gpus(&doc)[0];
    assert_eq!(gpu["mig_enabled"], true);
    let devices = gpu["mig_devices"].as_array().unwrap();
    let profiles: Vec<&str> = devices.iter().map(|d| d["profile"].as_str().unwrap()).collect();
    assert_eq!(profiles, ["3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb"]);
    assert_eq!(devices[0]["memory_bytes"], 40_000_000_000u64);
    assert!(devices[3]["uuid"].as_str().is_some_and(|u| u.starts_with("MIG-")));
    // The health query fell back to `clocks_throttle_reasons` and was read.
    assert_eq!(gpu["health"]["counters"]["clocks_throttle_reasons.hw_slowdown"], "Not Active");
    assert_eq!(gpu["health"]["state"], "ok");
}
