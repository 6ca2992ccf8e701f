//! One GPU discovery pass on 8 GPUs, minus the tools' own run time: parsing the recorded
//! outputs and merging them (plus reading a KFD tree from disk). Target: < 50 ms of CPU per
//! pass. Single-threaded and CPU-bound, so wall time per pass is CPU time.
//!
//! Run: `cargo bench --bench gpus`

#[path = "../tests/common/kfd_tree.rs"]
mod kfd_tree;

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use aimdeck::hardware::amd_smi::{self, AmdSmiOutputs};
use aimdeck::hardware::{kfd, merge, nvidia, nvidia_health, processes, rocm_smi, xid};

fn read(machine: &str, file: &str) -> String {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gpus").join(machine).join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn measure(name: &str, iterations: u32, mut pass: impl FnMut()) {
    for _ in 0..iterations / 10 {
        pass();
    }
    let mut times: Vec<Duration> = (0..iterations)
        .map(|_| {
            let start = Instant::now();
            pass();
            start.elapsed()
        })
        .collect();
    times.sort_unstable();
    let mean = times.iter().sum::<Duration>() / iterations;
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p) as usize];
    println!(
        "| {name:<44} | {:>9.1} | {:>9.1} | {:>9.1} |",
        mean.as_secs_f64() * 1e6,
        pct(0.5).as_secs_f64() * 1e6,
        pct(0.99).as_secs_f64() * 1e6
    );
}

fn main() {
    let h100_query = read("h100-sxm-8", "nvidia-smi-query.csv");
    let h100_topo = read("h100-sxm-8", "nvidia-smi-topo.txt");
    let amd = ["list", "static", "metric", "topology"]
        .map(|doc| read("mi300x-8-amdsmi-gpu-data", &format!("amd-smi-{doc}.json")));
    let rocm_info = read("mi300x-8-rocm-smi", "rocm-smi-info.json");
    let rocm_topo = read("mi300x-8-rocm-smi", "rocm-smi-topo.json");
    let kfd_dir = tempfile::tempdir().expect("tempdir");
    kfd_tree::write_tree(kfd_dir.path(), 2, &kfd_tree::mi300x_8(), true);
    // Without `generation_id` (older kernels) every read is a full read: what these rows time.
    std::fs::remove_file(kfd_dir.path().join("generation_id")).expect("written");

    println!(
        "| pass (8 GPUs)                                |  mean µs  |  p50 µs   |  p99 µs   |"
    );
    println!(
        "|----------------------------------------------|-----------|-----------|-----------|"
    );
    measure("nvidia-smi CSV + topo -m, merge", 2000, || {
        let report = nvidia::assemble(black_box(&h100_query), Some(black_box(&h100_topo)));
        black_box(merge::merge(vec![report], None, Vec::new()));
    });
    // The poll with health (issue 20): the health query, remapped rows, compute apps and the
    // kernel log's XID lines on top of the plain pass. Target: < 5 ms beyond the tools.
    let faulty = [
        "nvidia-smi-query.csv",
        "nvidia-smi-topo.txt",
        "nvidia-smi-health.csv",
        "nvidia-smi-remapped-rows.csv",
        "nvidia-smi-compute-apps.csv",
        "kmsg.txt",
    ]
    .map(|file| read("h100-sxm-8-faulty", file));
    measure("nvidia-smi + health + remap + apps + XID", 2000, || {
        let mut report = nvidia::assemble(black_box(&faulty[0]), Some(black_box(&faulty[1])));
        nvidia_health::apply_health_csv(
            &mut report.gpus,
            black_box(&faulty[2]),
            nvidia_health::REASON_PREFIXES[0],
        );
        nvidia_health::apply_remapped_rows(&mut report.gpus, black_box(&faulty[3]));
        processes::apply_nvidia(&mut report.gpus, black_box(&faulty[4]));
        xid::apply(&mut report.gpus, &xid::parse(black_box(&faulty[5])));
        black_box(merge::merge(vec![report], None, Vec::new()));
    });
    // A full kernel ring buffer (1 MiB of ordinary records) with the XID lines at the end: what
    // reading /dev/kmsg on a long-running host costs each poll.
    let mut full_log = String::with_capacity(1 << 20);
    let mut seq = 0;
    while full_log.len() < (1 << 20) {
        seq += 1;
        full_log.push_str(&format!(
            "6,{seq},{},-;eth0: link up, 100Gbps, full duplex, flow control rx/tx ({seq})\n",
            seq * 1000
        ));
    }
    full_log.push_str(&faulty[5]);
    measure("XID scan of a 1 MiB kernel log", 200, || {
        black_box(xid::parse(black_box(&full_log)));
    });
    let amd_faulty = ["list", "static", "metric", "topology", "process"]
        .map(|doc| read("mi300x-8-amdsmi-faulty", &format!("amd-smi-{doc}.json")));
    measure("amd-smi with ECC/RAS/throttle + process", 500, || {
        let outputs = AmdSmiOutputs {
            list: Some(black_box(&amd_faulty[0])),
            static_info: Some(black_box(&amd_faulty[1])),
            metric: Some(black_box(&amd_faulty[2])),
            topology: Some(black_box(&amd_faulty[3])),
        };
        let mut report = amd_smi::parse(outputs).expect("parses");
        processes::apply_amd(&mut report.gpus, black_box(&amd_faulty[4])).expect("parses");
        black_box(merge::merge(vec![report], None, Vec::new()));
    });
    measure("amd-smi list+static+metric+topology, merge", 500, || {
        let outputs = AmdSmiOutputs {
            list: Some(black_box(&amd[0])),
            static_info: Some(black_box(&amd[1])),
            metric: Some(black_box(&amd[2])),
            topology: Some(black_box(&amd[3])),
        };
        let report = amd_smi::parse(outputs).expect("parses");
        black_box(merge::merge(vec![report], None, Vec::new()));
    });
    measure("rocm-smi info + showtopo, merge", 1000, || {
        let report =
            rocm_smi::parse(black_box(&rocm_info), Some(black_box(&rocm_topo))).expect("parses");
        black_box(merge::merge(vec![report], None, Vec::new()));
    });
    measure("KFD sysfs tree read from disk, merge", 500, || {
        let report = kfd::read(kfd_dir.path()).expect("readable").expect("present");
        black_box(merge::merge(vec![report], None, Vec::new()));
    });
    // No amd-smi on an MI300X box in CPX/NPS4: 64 KFD nodes, their io_links and the driver's
    // partition files are the whole AMD provider.
    let cpx_kfd = tempfile::tempdir().expect("tempdir");
    let cpx_pci = tempfile::tempdir().expect("tempdir");
    let cpx = kfd_tree::mi300x_8_cpx_nps4();
    kfd_tree::write_tree(cpx_kfd.path(), 2, &cpx, true);
    kfd_tree::write_partition_modes(cpx_pci.path(), &cpx, "CPX", "NPS4");
    let mut generation = 1u64;
    measure("KFD CPX/NPS4 64 partitions, first read, merge", 20, || {
        // A new `generation_id` each time: the whole tree is read again.
        generation += 1;
        std::fs::write(cpx_kfd.path().join("generation_id"), generation.to_string()).unwrap();
        let report = kfd::read_with_pci(cpx_kfd.path(), Some(cpx_pci.path()))
            .expect("readable")
            .expect("present");
        black_box(merge::merge(vec![report], None, Vec::new()));
    });
    measure("KFD CPX/NPS4 64 partitions, each poll, merge", 200, || {
        let report = kfd::read_with_pci(cpx_kfd.path(), Some(cpx_pci.path()))
            .expect("readable")
            .expect("present");
        black_box(merge::merge(vec![report], None, Vec::new()));
    });
    measure("amd-smi pass + KFD enrichment, merge", 300, || {
        let outputs = AmdSmiOutputs {
            list: Some(&amd[0]),
            static_info: Some(&amd[1]),
            metric: Some(&amd[2]),
            topology: Some(&amd[3]),
        };
        let report = amd_smi::parse(outputs).expect("parses");
        let kfd = kfd::read(kfd_dir.path()).expect("readable").expect("present");
        black_box(merge::merge(vec![report], Some(&kfd), Vec::new()));
    });

    // For scale: a whole `discover()` against the fake tools (shell scripts running `cat`),
    // i.e. including the process spawns that the 50 ms target excludes.
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gpus");
    let config = aimdeck::hardware::ProbeConfig {
        nvidia_smi: "aimdeck-bench-no-nvidia-smi".into(),
        amd_smi: fixtures.join("mi300x-8-amdsmi-gpu-data/bin/amd-smi"),
        rocm_smi: "aimdeck-bench-no-rocm-smi".into(),
        kfd_root: kfd_dir.path().to_path_buf(),
        proc_root: "/nonexistent/aimdeck-bench-proc".into(),
        ..Default::default()
    };
    measure("discover() with fake amd-smi (spawns incl.)", 50, || {
        black_box(runtime.block_on(aimdeck::hardware::discover(&config)));
    });
}
