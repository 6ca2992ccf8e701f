//! The GPU library as the console uses it: discovery through a `ProbeConfig` pointing at
//! recorded tools, the telemetry poller, the holder join and recorded `topo -m` layouts.

use crate::common;

use std::path::PathBuf;
use std::time::Duration;

use aimdeck::hardware::nvidia_topo::parse_topo_matrix;
use aimdeck::hardware::{ProbeConfig, discover};
use aimdeck::model::gpu::{GpuClaim, GpuHolder, LinkKind, assign_holders};
use aimdeck::monitor::gpu_poller::{self, GpuPollerConfig};
use common::{fixture, kfd_tree};
use tokio_util::sync::CancellationToken;

fn probe(nvidia: Option<&str>, amd: Option<&str>) -> ProbeConfig {
    let tool = |machine: Option<&str>, name: &str| match machine {
        Some(machine) => fixture(machine).join("bin").join(name),
        // A bare name that is nowhere on PATH: the vendor is simply absent.
        None => PathBuf::from(format!("aimdeck-test-no-{name}")),
    };
    ProbeConfig {
        nvidia_smi: tool(nvidia, "nvidia-smi"),
        amd_smi: tool(amd, "amd-smi"),
        rocm_smi: tool(None, "rocm-smi"),
        kfd_root: PathBuf::from("/nonexistent/aimdeck-test-kfd"),
        pci_root: PathBuf::from("/nonexistent/aimdeck-test-pci"),
        tool_timeout: Duration::from_secs(5),
        use_nvml: false,
        kernel_log: PathBuf::from("/nonexistent/aimdeck-test-kmsg"),
        proc_root: PathBuf::from("/nonexistent/aimdeck-test-proc"),
    }
}

#[tokio::test]
async fn nvidia_and_amd_in_one_box_keep_distinct_indices() {
    let snapshot = discover(&probe(Some("a100-1"), Some("mi300x-8-amdsmi-gpu-data"))).await;
    assert_eq!(snapshot.sources, ["nvidia-smi", "amd-smi"]);
    assert_eq!(snapshot.gpus.len(), 9);
    assert_eq!(snapshot.gpus[0].name, "NVIDIA A100-SXM4-80GB");
    assert_eq!(snapshot.gpus[1].name, "AMD Instinct MI300X");
    assert_eq!(snapshot.gpus[1].index, 1, "AMD GPUs follow the NVIDIA ones");
    assert_eq!(snapshot.link(1, 8).map(|l| l.kind), Some(LinkKind::Xgmi));
    assert!(
        snapshot.warnings.iter().any(|w| w.contains("AMD GPUs are listed from index 1")),
        "{:?}",
        snapshot.warnings
    );
}

#[tokio::test]
async fn kfd_tree_without_xgmi_gives_single_gpu_islands() {
    let kfd = tempfile::tempdir().expect("tempdir");
    let gpus: Vec<_> = kfd_tree::mi300x_8().into_iter().take(2).collect();
    kfd_tree::write_tree(kfd.path(), 1, &gpus, false);
    let mut config = probe(None, None);
    config.kfd_root = kfd.path().to_path_buf();
    let snapshot = discover(&config).await;
    assert_eq!(snapshot.sources, ["kfd-sysfs"]);
    assert_eq!(snapshot.gpus.len(), 2);
    assert!(snapshot.links.is_empty());
    assert_eq!(snapshot.islands.len(), 2);
    assert_eq!(snapshot.gpus[1].render_node.as_deref(), Some("/dev/dri/renderD136"));
    assert_eq!(snapshot.gpus[1].numa_node, Some(0));
}

#[tokio::test]
async fn poller_keeps_bounded_history_and_stops_on_cancel() {
    let cancel = CancellationToken::new();
    let config = GpuPollerConfig {
        probe: probe(Some("h100-sxm-8"), None),
        interval: Duration::from_millis(20),
        history_len: 3,
        adjust: None,
    };
    let (task, mut updates) = gpu_poller::spawn(config, cancel.clone());
    let mut last = None;
    for expected in 1..=5 {
        let update = tokio::time::timeout(Duration::from_secs(10), updates.recv())
            .await
            .expect("an update within 10 s")
            .expect("the poller is running");
        assert_eq!(update.pass, expected);
        last = Some(update);
    }
    let last = last.expect("five updates");
    assert_eq!(last.snapshot.gpus.len(), 8);
    assert_eq!(
        last.history.samples(4).map(|ring| ring.len()),
        Some(3),
        "three samples kept of five"
    );
    assert_eq!(last.history.utilization_sparkline(4, 80), vec![97, 97, 97]);
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops after cancel")
        .expect("no panic");
}

#[tokio::test]
async fn poller_reports_a_hanging_tool_and_keeps_going() {
    let cancel = CancellationToken::new();
    let mut probe = probe(Some("broken-hang"), Some("mi300x-8-amdsmi-gpu-data"));
    probe.tool_timeout = Duration::from_millis(200);
    let config = GpuPollerConfig {
        probe,
        interval: Duration::from_millis(50),
        history_len: 10,
        adjust: None,
    };
    let (task, mut updates) = gpu_poller::spawn(config, cancel.clone());
    for _ in 0..2 {
        let update = tokio::time::timeout(Duration::from_secs(10), updates.recv())
            .await
            .expect("the hang does not block updates")
            .expect("running");
        assert_eq!(update.snapshot.gpus.len(), 8, "the AMD GPUs are still reported");
        assert!(
            update.snapshot.warnings.iter().any(|w| w.contains("did not finish within 200ms")),
            "{:?}",
            update.snapshot.warnings
        );
    }
    drop(updates);
    // With the receiver gone the task ends on its own.
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops when nobody listens")
        .expect("no panic");
}

#[tokio::test]
async fn holders_join_onto_discovered_gpus() {
    let mut snapshot = discover(&probe(Some("l40s-4-pcie"), None)).await;
    let stale = assign_holders(
        &mut snapshot.gpus,
        &[GpuClaim { deployment: "llama-8b".into(), replica: 1, gpus: vec![2, 3, 9] }],
    );
    assert_eq!(stale, vec![9]);
    assert_eq!(
        snapshot.gpus[2].held_by,
        Some(GpuHolder { deployment: "llama-8b".into(), replica: 1 })
    );
    assert_eq!(snapshot.gpus[0].held_by, None);
    let json = serde_json::to_value(&snapshot).expect("serialises");
    assert_eq!(
        json["gpus"][3]["held_by"],
        serde_json::json!({"deployment": "llama-8b", "replica": 1})
    );
}

#[test]
fn recorded_five_gpu_pcie_matrix() {
    let text =
        std::fs::read_to_string(fixture("topo-5gpu-phb-node-sys").join("nvidia-smi-topo.txt"))
            .expect("fixture");
    let (matrix, warnings) = parse_topo_matrix(&text);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(matrix.links.len(), 10);
    let detail = |a: u32, b: u32| {
        matrix.links.iter().find(|l| l.a == a && l.b == b).map(|l| l.detail.as_str())
    };
    assert_eq!(detail(1, 2), Some("PHB"));
    assert_eq!(detail(1, 3), Some("NODE"));
    assert_eq!(detail(0, 4), Some("SYS"));
    assert_eq!(matrix.affinity[0].numa_node, Some(1));
    assert_eq!(matrix.affinity[0].cpu_affinity.as_deref(), Some("8-15,24-31"));
}

/// Every recorded output cut at many points: the parsers return warnings or errors, never
/// panic, and never invent a GPU the cut-off text does not name.
#[test]
fn truncated_outputs_never_panic() {
    use aimdeck::hardware::amd_smi::{self, AmdSmiOutputs};
    use aimdeck::hardware::{nvidia, rocm_smi};
    let read = |machine: &str, file: &str| {
        std::fs::read_to_string(fixture(machine).join(file)).expect("fixture")
    };
    let cut = |text: &str, at: usize| -> String { text.chars().take(at).collect() };

    let query = read("h100-sxm-8", "nvidia-smi-query.csv");
    let topo = read("h100-sxm-8", "nvidia-smi-topo.txt");
    for at in (0..topo.len().max(query.len())).step_by(7) {
        let report = nvidia::assemble(&cut(&query, at), Some(&cut(&topo, at)));
        assert!(report.gpus.len() <= 8);
    }
    let docs = ["list", "static", "metric", "topology"]
        .map(|d| read("mi300x-8-amdsmi-gpu-data", &format!("amd-smi-{d}.json")));
    for at in (0..docs[2].len()).step_by(211) {
        let cuts = docs.clone().map(|d| cut(&d, at));
        let outputs = AmdSmiOutputs {
            list: Some(&cuts[0]),
            static_info: Some(&cuts[1]),
            metric: Some(&cuts[2]),
            topology: Some(&cuts[3]),
        };
        if let Ok(report) = amd_smi::parse(outputs) {
            assert!(report.gpus.len() <= 8);
        }
    }
    let info = read("mi300x-8-rocm-smi", "rocm-smi-info.json");
    let rtopo = read("mi300x-8-rocm-smi", "rocm-smi-topo.json");
    for at in (0..info.len()).step_by(53) {
        if let Ok(report) = rocm_smi::parse(&cut(&info, at), Some(&cut(&rtopo, at))) {
            assert!(report.gpus.len() <= 8);
        }
    }
}

mod placement_from_recordings {
    use super::*;
    use aimdeck::backend::allocator::allocate;
    use aimdeck::backend::placement::{PlacementPolicy, inventory};
    use aimdeck::recipes::{Hardware, SelectQuery, load_builtin, select};

    fn cpx() -> aimdeck::model::gpu::GpuSnapshot {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(discover(&probe(None, Some("mi300x-8-cpx-nps4"))))
    }

    #[test]
    fn tp2_goes_on_two_cpx_partitions_of_one_mi300x_only_when_asked() {
        let snapshot = cpx();
        assert_eq!(snapshot.gpus.len(), 64);
        let err = allocate(&inventory(&snapshot, PlacementPolicy::default()), &[], 1, 2)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("GPU 9 is a CPX partition of GPU 8 (--partitions places on partitions)"),
            "{err}"
        );
        let asked = PlacementPolicy { partitions: true, ..PlacementPolicy::default() };
        let sets = allocate(&inventory(&snapshot, asked), &[], 1, 2).unwrap();
        assert_eq!(sets, vec![vec![0, 1]]);
        let parents: Vec<_> = sets[0]
            .iter()
            .map(|&i| snapshot.gpu(i).unwrap().partition.as_ref().unwrap().parent)
            .collect();
        assert_eq!(parents, [Some(0), Some(0)], "both on one physical MI300X");
    }

    #[test]
    fn a_70b_bf16_recipe_does_not_fit_cpx_partitions_and_says_so() {
        let snapshot = cpx();
        let hardware = Hardware::from_inventory(
            snapshot.gpus.iter().map(|g| (g.name.as_str(), g.memory_total_bytes, false)),
        )
        .unwrap();
        assert_eq!(hardware.total, 64);
        assert!(
            hardware.memory_bytes.is_some_and(|m| m < 25 << 30),
            "a partition's share, not the whole GPU: {hardware:?}"
        );
        let query =
            SelectQuery { model: "meta-llama/Llama-3.1-70B-Instruct".into(), ..Default::default() };
        let selection = select(&load_builtin(), &query, Some(&hardware), None);
        for id in [
            "llama-3.1-70b-instruct-mi300x-x4-bf16-vllm",
            "llama-3.1-70b-instruct-mi300x-x1-fp8-vllm",
        ] {
            let candidate = selection
                .candidates
                .iter()
                .find(|c| c.id == id)
                .unwrap_or_else(|| panic!("{id} considered"));
            assert!(!candidate.accepted, "{id} accepted on 24 GiB partitions");
            assert!(
                candidate.rejections.iter().any(|r| r.contains("does not fit")),
                "{id}: {:?}",
                candidate.rejections
            );
        }
    }

    #[test]
    fn failed_gpus_and_unmanaged_processes_block_placement_and_are_named() {
        let mut config = probe(Some("h100-sxm-8-faulty"), None);
        config.kernel_log = fixture("h100-sxm-8-faulty").join("kmsg.txt");
        let snapshot = tokio::runtime::Runtime::new().unwrap().block_on(discover(&config));
        let strict = inventory(&snapshot, PlacementPolicy::default());
        // 0 is the only healthy, free GPU: 1/5/6 failed, 2/3/7 degraded, 4 held by pid 4242.
        assert_eq!(allocate(&strict, &[], 1, 1).unwrap(), vec![vec![0]]);
        let err = allocate(&strict, &[], 1, 2).unwrap_err().to_string();
        assert!(
            err.contains("GPU 1 failed: uncorrectable ECC errors since the driver loaded: 2"),
            "{err}"
        );
        assert!(err.contains("GPU 4 unmanaged: pid 4242 python3 (71.2 GiB)"), "{err}");
        assert!(err.contains("GPU 6 failed: XID 79"), "{err}");
        let lenient = inventory(
            &snapshot,
            PlacementPolicy { allow_degraded: true, ..PlacementPolicy::default() },
        );
        assert_eq!(allocate(&lenient, &[], 1, 4).unwrap(), vec![vec![0, 2, 3, 7]]);
        assert!(
            allocate(&lenient, &[], 1, 5).is_err(),
            "failed GPUs stay out even with --allow-degraded"
        );
    }
}

/// Issue 20 follow-up: partitions from the kernel alone, MIG devices as placement targets, and
/// partition links taken from the recording.
mod partitions_and_mig {
    use super::*;
    use aimdeck::backend::allocator::{AllocatableGpu, allocate, device_ids};
    use aimdeck::backend::placement::{PlacementPolicy, inventory};
    use aimdeck::model::gpu::{Gpu, GpuSnapshot};

    fn run(config: &ProbeConfig) -> GpuSnapshot {
        tokio::runtime::Runtime::new().unwrap().block_on(discover(config))
    }

    /// What placement and the fit read of a logical device, from either provider.
    fn logical(gpu: &Gpu) -> impl PartialEq + std::fmt::Debug {
        (
            gpu.index,
            gpu.name.clone(),
            gpu.pci_bus_id.clone(),
            gpu.memory_total_bytes,
            gpu.partition.clone(),
            gpu.numa_node,
            gpu.render_node.clone(),
        )
    }

    #[test]
    fn a_kfd_tree_in_cpx_nps4_gives_the_logical_devices_amd_smi_gives() {
        let kfd = tempfile::tempdir().expect("tempdir");
        let pci = tempfile::tempdir().expect("tempdir");
        let nodes = kfd_tree::mi300x_8_cpx_nps4();
        kfd_tree::write_tree(kfd.path(), 2, &nodes, true);
        kfd_tree::write_partition_modes(pci.path(), &nodes, "CPX", "NPS4");
        let mut config = probe(None, None);
        config.kfd_root = kfd.path().to_path_buf();
        config.pci_root = pci.path().to_path_buf();
        let from_kfd = run(&config);
        assert_eq!(from_kfd.sources, ["kfd-sysfs"]);
        assert!(from_kfd.warnings.is_empty(), "{:?}", from_kfd.warnings);
        let from_tool = run(&probe(None, Some("mi300x-8-cpx-nps4")));
        assert_eq!(from_kfd.gpus.len(), 64);
        let kfd_devices: Vec<_> = from_kfd.gpus.iter().map(logical).collect();
        let tool_devices: Vec<_> = from_tool.gpus.iter().map(logical).collect();
        assert_eq!(kfd_devices, tool_devices);
        let weights = |s: &GpuSnapshot| -> Vec<_> {
            s.links.iter().map(|l| (l.a, l.b, l.kind, l.weight)).collect()
        };
        assert_eq!(weights(&from_kfd), weights(&from_tool), "the same links, from the kernel");
        assert_eq!(from_kfd.link(8, 15).and_then(|l| l.weight), Some(13));
        assert_eq!(from_kfd.link(8, 16).and_then(|l| l.weight), Some(41));
    }

    #[test]
    fn without_the_drivers_files_the_kfd_still_groups_cpx_partitions() {
        let kfd = tempfile::tempdir().expect("tempdir");
        kfd_tree::write_tree(kfd.path(), 2, &kfd_tree::mi300x_8_cpx_nps4(), true);
        let mut config = probe(None, None);
        config.kfd_root = kfd.path().to_path_buf();
        let snapshot = run(&config);
        let partition = snapshot.gpus[13].partition.as_ref().expect("a partition");
        assert_eq!(partition.compute.as_deref(), Some("CPX"), "one XCC per node");
        assert_eq!(partition.memory, None, "NPS unknown without the driver's file");
        assert_eq!((partition.partition_id, partition.parent), (Some(5), Some(8)));
        let strict = inventory(&snapshot, PlacementPolicy::default());
        assert!(strict[13].refused.as_deref().is_some_and(|r| r.contains("CPX partition")));
    }

    #[test]
    fn cpx_partition_groups_come_from_the_recorded_link_weights() {
        let mut snapshot = run(&probe(None, Some("mi300x-8-cpx-nps4")));
        let asked = PlacementPolicy { partitions: true, ..PlacementPolicy::default() };
        // GPU 0's partitions 0-5 are taken: a TP-4 goes to the next socket whole, not 6, 7, 8, 9.
        let held = [aimdeck::backend::allocator::Holder {
            deployment: "busy".into(),
            gpus: (0..6).collect(),
        }];
        let sets = allocate(&inventory(&snapshot, asked), &held, 1, 4).unwrap();
        assert_eq!(sets, vec![vec![8, 9, 10, 11]]);
        // A recording without links between partitions: nothing says which are close.
        snapshot.links.clear();
        let loose = inventory(&snapshot, asked);
        assert!(loose.iter().all(|g| g.island.is_none_or(|i| i < 1 << 16)), "no assumption");
    }

    fn mig() -> GpuSnapshot {
        run(&probe(Some("a100-80g-mig"), None))
    }

    #[test]
    fn a_mig_enabled_a100_is_never_placed_on_whole() {
        let err = allocate(&inventory(&mig(), PlacementPolicy::default()), &[], 1, 1)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("GPU 0 has MIG enabled (4 MIG devices; --partitions places on them)"),
            "{err}"
        );
    }

    #[test]
    fn with_partitions_replicas_go_on_mig_devices_by_uuid() {
        let snapshot = mig();
        let asked = PlacementPolicy { partitions: true, ..PlacementPolicy::default() };
        let inventory: Vec<AllocatableGpu> = inventory(&snapshot, asked);
        let indices: Vec<u32> = inventory.iter().map(|g| g.index).collect();
        assert_eq!(indices, [1000, 1001, 1002, 1003], "the parent itself is not there");
        let sets = allocate(&inventory, &[], 2, 1).unwrap();
        assert_eq!(sets, vec![vec![1000], vec![1001]]);
        assert_eq!(
            device_ids(&inventory, &sets[1]),
            ["MIG-7a3b2d4f-6c8e-5f9a-8b1c-2d3e4f5a6b71"],
            "the runtime gets the MIG UUID"
        );
        let err = allocate(&inventory, &[], 1, 2).unwrap_err().to_string();
        assert!(err.contains("GPU 1000 is a MIG device: a replica of 2 GPUs cannot span"), "{err}");
    }

    #[test]
    fn the_fit_uses_a_mig_devices_memory() {
        use aimdeck::model::gpu_logical::logical_gpus;
        use aimdeck::recipes::Hardware;
        let snapshot = mig();
        let whole = Hardware::from_inventory(
            snapshot.gpus.iter().map(|g| (g.name.as_str(), g.memory_total_bytes, false)),
        )
        .unwrap();
        assert_eq!(whole.memory_bytes, Some(81920 << 20));
        let devices = logical_gpus(&snapshot.gpus, true);
        let split = Hardware::from_inventory(
            devices.iter().map(|g| (g.name.as_str(), g.memory_total_bytes, false)),
        )
        .unwrap();
        assert_eq!(split.total, 4);
        assert!(split.memory_bytes.is_some_and(|m| m <= 40_000_000_000), "{split:?}");
    }
}
