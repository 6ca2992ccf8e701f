//! The GPUs view on recorded machines: topology, health, holders, partitions.

use super::*;

/// Runs real discovery against a recorded machine's fake tools, twice (so history has two
/// samples), and hands both passes to the console as the poller would.
pub(crate) fn gpu_app(machine: &str) -> App {
    use aimdeck::hardware::{ProbeConfig, discover};
    use aimdeck::monitor::gpu_history::GpuHistory;
    use aimdeck::monitor::gpu_poller::GpuUpdate;
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gpus")
        .join(machine)
        .join("bin");
    // A tool the recording lacks is named by a bare name found on no PATH: "not installed",
    // which discovery treats as silently absent, as on a real machine.
    let tool = |name: &str| {
        let path = bin.join(name);
        if path.exists() {
            path
        } else {
            std::path::PathBuf::from(format!("aimdeck-test-absent-{name}"))
        }
    };
    let probe = ProbeConfig {
        nvidia_smi: tool("nvidia-smi"),
        amd_smi: tool("amd-smi"),
        rocm_smi: tool("rocm-smi"),
        kfd_root: "/nonexistent/kfd".into(),
        pci_root: "/nonexistent/pci".into(),
        // The machine's recorded kernel log, where it has one (XID lines).
        kernel_log: bin.join("../kmsg.txt"),
        proc_root: "/nonexistent/proc".into(),
        ..ProbeConfig::default()
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut app = app();
    let mut history = GpuHistory::new(120);
    for pass in 1..=2 {
        let snapshot = runtime.block_on(discover(&probe));
        history.record(&snapshot, pass * 2000);
        let update =
            GpuUpdate { pass, snapshot, history: history.clone(), took: std::time::Duration::ZERO };
        app.update(Event::Gpus(std::sync::Arc::new(update)));
    }
    app
}

#[test]
fn gpus_view_shows_recorded_h100_machine_and_topology() {
    let mut app = gpu_app("h100-sxm-8");
    assert_eq!(app.current().table.total(), 8);
    let wide = screen(&app, 160, 48);
    assert!(wide.contains("Topology"), "{wide}");
    assert!(wide.contains("NV18"), "{wide}");
    assert!(wide.contains("{0,1,2,3,4,5,6,7} nvlink"), "{wide}");
    snapshot("view_gpus_h100", &app);
    app.update(ch('t'));
    snapshot("view_gpus_h100_topology", &app);
}

#[test]
fn gpus_view_shows_recorded_mi300x_and_l40s_machines() {
    let app = gpu_app("mi300x-8-amdsmi-gpu-data");
    let screen_text = screen(&app, 160, 48);
    assert!(screen_text.contains("MI300X") && screen_text.contains("XGMI"), "{screen_text}");
    snapshot("view_gpus_mi300x", &app);
    let app = gpu_app("l40s-4-pcie");
    let screen_text = screen(&app, 160, 48);
    assert!(screen_text.contains("L40S") && screen_text.contains("SYS"), "{screen_text}");
    assert!(screen_text.contains("none: no direct GPU links"), "{screen_text}");
    snapshot("view_gpus_l40s", &app);
}

#[test]
fn gpus_view_shows_health_reasons_and_who_holds_each_gpu() {
    let mut app = gpu_app("h100-sxm-8-faulty");
    let text = screen(&app, 120, 40);
    for seen in
        ["HEALTH", "failed", "degraded", "unmanaged: pid 4242 python3 (71.2 GiB)", "GPU detail"]
    {
        assert!(text.contains(seen), "{seen}: {text}");
    }
    // The detail follows the selection: GPU 1's uncorrectable ECC with its raw counter.
    app.update(ch('j'));
    let text = screen(&app, 120, 40);
    assert!(text.contains("uncorrectable ECC errors since the driver loaded: 2"), "{text}");
    assert!(text.contains("ecc.errors.uncorrected.volatile.total=2"), "{text}");
    snapshot("view_gpus_h100_faulty", &app);
    assert_screen("view_gpus_h100_faulty_120x40", screen(&app, 120, 40));
    // GPU 6 fell off the bus: the XID and its meaning.
    for _ in 0..5 {
        app.update(ch('j'));
    }
    let text = screen(&app, 120, 40);
    assert!(text.contains("XID 79: GPU has fallen off the bus"), "{text}");
}

#[test]
fn gpus_view_draws_cpx_partitions_inside_their_mi300x() {
    let mut app = gpu_app("mi300x-8-cpx-nps4");
    assert_eq!(app.current().table.total(), 64);
    let text = screen(&app, 160, 48);
    assert!(text.contains("partition CPX/NPS4 #0 of GPU 0"), "{text}");
    app.update(ch('t'));
    let text = screen(&app, 160, 48);
    assert!(text.contains("GPU 0 [CPX/NPS4] |0|1|2|3|4|5|6|7| 24G each"), "{text}");
    assert_screen("view_gpus_cpx_topology_120x40", screen(&app, 120, 40));
}

#[test]
fn gpus_view_with_no_gpu_says_where_it_looked() {
    let app = gpu_app("no-gpu");
    let text = screen(&app, 80, 24);
    assert!(text.contains("No GPUs found on this machine."), "{text}");
    assert!(text.contains("nvidia-smi"), "{text}");
}

// ---- Recipes view ----------------------------------------------------------------------

/// Issue 20: `A` and `M` open degraded GPUs and partitions to the console's create and scale,
/// and every view's title says so while they are on; the message line says what is allowed.
#[test]
fn placement_toggles_show_in_the_title_and_the_message_line() {
    let mut app = gpu_app("h100-sxm-8-faulty");
    assert!(!screen(&app, 80, 24).contains("place on:"), "nothing toggled, nothing said");
    app.update(ch('A'));
    let text = screen(&app, 80, 24);
    assert!(text.contains("GPUs [8] place on: degraded"), "{text}");
    assert!(text.contains("create and scale place on: healthy whole GPUs, degraded"), "{text}");
    app.update(ch('M'));
    assert!(screen(&app, 160, 48).contains("place on: degraded, partitions"));
    app.update(ch('A'));
    app.update(ch('M'));
    assert!(!screen(&app, 160, 48).contains("GPUs [8] place on:"), "both off again");
}

#[test]
fn wide_screens_give_the_bars_and_the_history_the_spare_width() {
    let app = gpu_app("h100-sxm-8");
    // The UTIL bar is what comes before the percentage on the row.
    let bar_cells = |screen: &str| {
        screen
            .lines()
            .filter_map(|l| l.split_once("97%"))
            .map(|(before, _)| before.matches('█').count())
            .max()
    };
    // GPU 4 runs at 97 %: at 80 columns a 6-cell bar, at 200 a long one.
    let narrow = bar_cells(&screen(&app, 80, 24)).unwrap_or(0);
    let wide = bar_cells(&screen(&app, 200, 60)).unwrap_or(0);
    assert!(narrow <= 8 && wide >= 30, "bar cells: {narrow} at 80, {wide} at 200");
}
