//! The GPU library as the console uses it: discovery through a `ProbeConfig` pointing at
//! recorded tools, the telemetry poller, the holder join and recorded `topo -m` layouts.

mod common;

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
    assert!(snapshot.warnings.iter().any(|w| w.contains("AMD GPUs are listed from index 1")), "{:?}", snapshot.warnings);
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
    let config = GpuPollerConfig { probe: probe(Some("h100-sxm-8"), None), interval: Duration::from_millis(20), history_len: 3 };
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
    assert_eq!(last.history.samples(4).map(|ring| ring.len()), Some(3), "three samples kept of five");
    assert_eq!(last.history.utilization_sparkline(4, 80), vec![97, 97, 97]);
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(5), task).await.expect("stops after cancel").expect("no panic");
}

#[tokio::test]
async fn poller_reports_a_hanging_tool_and_keeps_going() {
    let cancel = CancellationToken::new();
    let mut probe = probe(Some("broken-hang"), Some("mi300x-8-amdsmi-gpu-data"));
    probe.tool_timeout = Duration::from_millis(200);
    let config = GpuPollerConfig { probe, interval: Duration::from_millis(50), history_len: 10 };
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
    tokio::time::timeout(Duration::from_secs(5), task).await.expect("stops when nobody listens").expect("no panic");
}

#[tokio::test]
async fn holders_join_onto_discovered_gpus() {
    let mut snapshot = discover(&probe(Some("l40s-4-pcie"), None)).await;
    let stale = assign_holders(
        &mut snapshot.gpus,
        &[GpuClaim { deployment: "llama-8b".into(), replica: 1, gpus: vec![2, 3, 9] }],
    );
    assert_eq!(stale, vec![9]);
    assert_eq!(snapshot.gpus[2].held_by, Some(GpuHolder { deployment: "llama-8b".into(), replica: 1 }));
    assert_eq!(snapshot.gpus[0].held_by, None);
    let json = serde_json::to_value(&snapshot).expect("serialises");
    assert_eq!(json["gpus"][3]["held_by"], serde_json::json!({"deployment": "llama-8b", "replica": 1}));
}

#[test]
fn recorded_five_gpu_pcie_matrix() {
    let text = std::fs::read_to_string(fixture("topo-5gpu-phb-node-sys").join("nvidia-smi-topo.txt")).expect("fixture");
    let (matrix, warnings) = parse_topo_matrix(&text);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(matrix.links.len(), 10);
    let detail = |a: u32, b: u32| matrix.links.iter().find(|l| l.a == a && l.b == b).map(|l| l.detail.as_str());
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
    let read = |machine: &str, file: &str| std::fs::read_to_string(fixture(machine).join(file)).expect("fixture");
    let cut = |text: &str, at: usize| -> String { text.chars().take(at).collect() };

    let query = read("h100-sxm-8", "nvidia-smi-query.csv");
    let topo = read("h100-sxm-8", "nvidia-smi-topo.txt");
    for at in (0..topo.len().max(query.len())).step_by(7) {
        let report = nvidia::assemble(&cut(&query, at), Some(&cut(&topo, at)));
        assert!(report.gpus.len() <= 8);
    }
    let docs = ["list", "static", "metric", "topology"].map(|d| read("mi300x-8-amdsmi-gpu-data", &format!("amd-smi-{d}.json")));
    for at in (0..docs[2].len()).step_by(211) {
        let cuts = docs.clone().map(|d| cut(&d, at));
        let outputs = AmdSmiOutputs { list: Some(&cuts[0]), static_info: Some(&cuts[1]), metric: Some(&cuts[2]), topology: Some(&cuts[3]) };
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
