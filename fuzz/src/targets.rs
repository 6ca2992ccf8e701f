//! The targets: each feeds the fuzzer's bytes to one reader the way the console does.

use std::hint::black_box;
use std::path::Path;
use std::sync::OnceLock;

use aimdeck::engine::metrics::{parse as metrics_parse, snapshot, window::SampleWindow};
use aimdeck::engine::{openai, stream_chunk};
use aimdeck::hardware::{
    amd_smi, kfd, nvidia, nvidia_health, nvidia_mig, nvidia_topo, partitions, processes, rocm_smi,
    xid,
};
use aimdeck::model::gpu::Gpu;

type Target = fn(&[u8]);

const TARGETS: &[(&str, Target)] = &[
    ("recipe", recipe),
    ("metrics", metrics),
    ("nvidia_csv", nvidia_csv),
    ("nvidia_topo", nvidia_topo),
    ("amd_smi", amd_smi),
    ("rocm_smi", rocm_smi),
    ("kfd", kfd),
    ("sse", sse),
    ("hub", hub),
    ("docker", docker),
    ("kube_watch", kube_watch),
    ("config", config),
    ("journal", journal),
    ("gpu_health", gpu_health),
    ("partitions", partitions),
    ("processes", processes),
];

pub const NAMES: [&str; TARGETS.len()] = {
    let mut names = [""; TARGETS.len()];
    let mut i = 0;
    while i < TARGETS.len() {
        names[i] = TARGETS[i].0;
        i += 1;
    }
    names
};

pub fn by_name(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, run)| *run)
}

/// The readers take text (the console reads tool output and files as UTF-8).
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// The `n` NUL-separated parts of `data` (missing ones `None`), each as text.
fn parts<const N: usize>(data: &[u8]) -> [Option<&str>; N] {
    let mut out = [None; N];
    for (slot, part) in out.iter_mut().zip(data.split(|&b| b == 0)) {
        *slot = text(part);
    }
    out
}

/// GPUs to apply the health, MIG and process readers to, as the discovery has them then.
fn nvidia_gpus(query: &str) -> Vec<Gpu> {
    nvidia::parse_query_csv(query).0
}

fn h100() -> Vec<Gpu> {
    static GPUS: OnceLock<Vec<Gpu>> = OnceLock::new();
    GPUS.get_or_init(|| {
        nvidia_gpus(include_str!(
            "../../tests/fixtures/gpus/h100-sxm-8-faulty/nvidia-smi-query.csv"
        ))
    })
    .clone()
}

fn a100_mig() -> Vec<Gpu> {
    static GPUS: OnceLock<Vec<Gpu>> = OnceLock::new();
    GPUS.get_or_init(|| {
        nvidia_gpus(include_str!("../../tests/fixtures/gpus/a100-80g-mig/nvidia-smi-query.csv"))
    })
    .clone()
}

fn mi300x() -> Vec<Gpu> {
    static GPUS: OnceLock<Vec<Gpu>> = OnceLock::new();
    GPUS.get_or_init(|| {
        let static_info =
            include_str!("../../tests/fixtures/gpus/mi300x-8-amdsmi-bare/amd-smi-static.json");
        let outputs =
            amd_smi::AmdSmiOutputs { static_info: Some(static_info), ..Default::default() };
        amd_smi::parse(outputs).expect("the fixture reads").gpus
    })
    .clone()
}

fn recipe(data: &[u8]) {
    let Some(text) = text(data) else { return };
    black_box(aimdeck::recipes::parse::parse_recipe("fuzz.yaml", text).ok());
}

fn metrics(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let Ok(page) = metrics_parse::parse(text) else { return };
    black_box(snapshot::detect_engine(&page));
    // Two polls of the same page: the window differences the counters and histograms.
    let mut window = SampleWindow::new(60_000);
    black_box(window.push(0, snapshot::snapshot(&page)));
    black_box(window.push(1_000, snapshot::snapshot(&page)));
}

fn nvidia_csv(data: &[u8]) {
    let Some(text) = text(data) else { return };
    black_box(nvidia::parse_query_csv(text));
}

fn nvidia_topo(data: &[u8]) {
    let Some(text) = text(data) else { return };
    black_box(nvidia_topo::parse_topo_matrix(text));
}

/// `list -e`, `static`, `metric`, `topology`, in that order.
fn amd_smi(data: &[u8]) {
    let [list, static_info, metric, topology] = parts(data);
    black_box(amd_smi::parse(amd_smi::AmdSmiOutputs { list, static_info, metric, topology }).ok());
}

/// `--showallinfo --json`, then `--showtopo --json`.
fn rocm_smi(data: &[u8]) {
    let [info, topo] = parts(data);
    let Some(info) = info else { return };
    black_box(rocm_smi::parse(info, topo).ok());
}

/// A KFD tree in `kfd::report_from_text`'s layout (partitions included).
fn kfd(data: &[u8]) {
    let Some(text) = text(data) else { return };
    black_box(kfd::report_from_text(text));
}

/// A streamed chat answer, read line by line as `openai::stream` does (it reads lossily).
fn sse(data: &[u8]) {
    let mut timeline = stream_chunk::Timeline::default();
    for (n, line) in data.split_inclusive(|&b| b == b'\n').enumerate() {
        let openai::SseLine::Event(event) = openai::sse_line(line) else { continue };
        let chunk = stream_chunk::read(&event);
        if chunk.content.is_some() || chunk.reasoning.is_some() {
            timeline.token(chunk.content.is_none(), n as f64 * 0.01);
        }
        if let Some(usage) = chunk.usage {
            black_box(timeline.tokens_per_s(usage.completion_tokens));
            black_box(timeline.tpot_s(usage.completion_tokens));
        }
    }
}

/// A revision answer, a tree page, the headers (`name: value` lines).
fn hub(data: &[u8]) {
    let mut split = data.splitn(3, |&b| b == 0);
    let revision = split.next().unwrap_or_default();
    let tree = split.next().unwrap_or_default();
    let headers = split.next().and_then(text).unwrap_or_default();
    black_box(aimdeck::fuzz_entry::hub_answers(revision, tree, headers));
}

/// `GET /containers/json`, then `GET /containers/{id}/json`.
fn docker(data: &[u8]) {
    let mut split = data.splitn(2, |&b| b == 0);
    let list = split.next().unwrap_or_default();
    let inspect = split.next().unwrap_or_default();
    black_box(aimdeck::fuzz_entry::docker_answers(list, inspect));
}

fn kube_watch(data: &[u8]) {
    let Some(text) = text(data) else { return };
    black_box(aimdeck::fuzz_entry::kube_watch_events(text));
}

fn config(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let path = Path::new("config.yaml");
    black_box(aimdeck::config::parse_yaml_file::<aimdeck::config::Config>(path, text).ok());
}

fn journal(data: &[u8]) {
    let Some(text) = text(data) else { return };
    black_box(aimdeck::backend::journal::parse(text, Path::new("journal.jsonl")));
}

/// The kernel log (Xid lines), the health CSV, the remapped-rows CSV, onto eight H100s.
fn gpu_health(data: &[u8]) {
    let [log, health, remapped] = parts(data);
    let mut gpus = h100();
    if let Some(log) = log {
        xid::apply(&mut gpus, &xid::parse(log));
    }
    if let Some(health) = health {
        for prefix in nvidia_health::REASON_PREFIXES {
            black_box(nvidia_health::apply_health_csv(&mut gpus, health, prefix));
        }
    }
    if let Some(remapped) = remapped {
        black_box(nvidia_health::apply_remapped_rows(&mut gpus, remapped));
    }
    black_box(gpus);
}

/// `nvidia-smi -L` (MIG devices) onto an A100 in MIG mode. KFD partitions are read in the
/// `kfd` target, amd-smi's partition fields in `amd_smi` (both end in `partitions::group`).
fn partitions(data: &[u8]) {
    let Some(listing) = text(data) else { return };
    let mut gpus = a100_mig();
    nvidia_mig::apply(&mut gpus, listing);
    partitions::group_partitions(&mut gpus);
    black_box(gpus);
}

/// `--query-compute-apps` CSV, `amd-smi process --json`, a `/proc/PID/cgroup` file.
fn processes(data: &[u8]) {
    let [nvidia_apps, amd_apps, cgroup] = parts(data);
    if let Some(csv) = nvidia_apps {
        let mut gpus = h100();
        black_box(processes::apply_nvidia(&mut gpus, csv));
    }
    if let Some(json) = amd_apps {
        let mut gpus = mi300x();
        black_box(processes::apply_amd(&mut gpus, json).ok());
    }
    if let Some(cgroup) = cgroup {
        black_box(processes::parse_cgroup(cgroup));
    }
}
