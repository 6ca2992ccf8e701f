//! Property tests (issue 9, item 2) for every reader of outside data: the recipe reader, the
//! `/metrics` parser, the nvidia-smi CSV and `topo -m`, amd-smi and rocm-smi JSON readers, the
//! KFD sysfs reader over generated trees, and the Hugging Face cache scanner over generated
//! trees. Each reader gets arbitrary text and mutations of the recorded fixtures under
//! `tests/fixtures/` (the seed corpus); it must not panic, must finish (inputs are bounded in
//! size, and each call is checked against a generous time limit), and must say what was wrong.
//!
//! `cargo fuzz` needs a nightly toolchain, which this project does not use; proptest runs on
//! stable within `cargo test`. Case counts are small so the whole file stays well under 60 s on
//! 2 cores in release mode; raise them with `PROPTEST_CASES=N` for a longer run.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::{Duration, Instant};

use aimdeck::hardware::amd_smi::{self, AmdSmiOutputs};
use aimdeck::hardware::{kfd, nvidia, nvidia_topo, rocm_smi};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// No reader may take this long on inputs of a few KB: a hang, not a slow machine.
const HANG: Duration = Duration::from_secs(5);

fn fixture(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn builtin_recipes() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes");
    let mut all: Vec<(String, String)> = fs::read_dir(&dir)
        .expect("recipes dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| (p.display().to_string(), fs::read_to_string(&p).expect("recipe")))
        .collect();
    all.sort();
    all
}

/// `cases` per test, or `PROPTEST_CASES` when set (for a longer run by hand). Failures are not
/// persisted to files: proptest prints the minimal failing input instead.
fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(cases);
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// One edit of a seed text: the kinds of damage files get (cut short, a byte range lost or
/// duplicated, a stray character, a line replaced with noise).
#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Delete(usize, usize),
    Insert(usize, String),
    Duplicate(usize, usize),
    ReplaceLine(usize, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let noise = prop_oneof![
        "[ -~]{0,12}",
        "[:{}\\[\\],\"#\t -]{1,4}",
        Just("\u{0}".to_string()),
        Just("é€\u{feff}".to_string()),
        Just("NaN".to_string()),
        Just("-1".to_string()),
        Just("99999999999999999999999".to_string()),
    ];
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..40).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), noise.clone()).prop_map(|(a, s)| Mutation::Insert(a, s)),
        (any::<usize>(), 1usize..80).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
        (any::<usize>(), noise).prop_map(|(a, s)| Mutation::ReplaceLine(a, s)),
    ]
}

/// Nearest char boundary at or below `i`.
fn floor(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut text = text.to_string();
    for m in mutations {
        let len = text.len().max(1);
        match m {
            Mutation::Truncate(a) => text.truncate(floor(&text, a % len)),
            Mutation::Delete(a, n) => {
                let start = floor(&text, a % len);
                let end = floor(&text, start + n);
                text.replace_range(start..end, "");
            }
            Mutation::Insert(a, s) => {
                let at = floor(&text, a % len);
                text.insert_str(at, s);
            }
            Mutation::Duplicate(a, n) => {
                let start = floor(&text, a % len);
                let end = floor(&text, start + n);
                let piece = text[start..end].to_string();
                text.insert_str(end, &piece);
            }
            Mutation::ReplaceLine(a, s) => {
                let mut lines: Vec<&str> = text.split('\n').collect();
                let i = a % lines.len();
                lines[i] = s;
                text = lines.join("\n");
            }
        }
    }
    text
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    assert!(start.elapsed() < HANG, "{what} took {:?}", start.elapsed());
    out
}

// ---------------------------------------------------------------- recipes

fn check_recipe(text: &str) {
    let result = timed("load_text", || aimdeck::recipes::load::load_text("prop.yaml", text));
    if let Err(problems) = result {
        assert!(!problems.is_empty(), "an error names at least one problem");
        // YAML breaks lines at `\r\n`, `\n` and a lone `\r` (as old Mac files do); +1 for "at
        // the end of input" after a final break.
        let lines = text.replace("\r\n", "\n").replace('\r', "\n").split('\n').count() as u64 + 1;
        for problem in &problems {
            assert_eq!(problem.file, "prop.yaml");
            assert!(!problem.message.trim().is_empty(), "problem without a message: {problem:?}");
            assert!(
                problem.line <= lines,
                "line {} past the end ({lines} lines): {problem}",
                problem.line
            );
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn recipe_reader_survives_arbitrary_text(text in "(?s).{0,600}") {
        check_recipe(&text);
    }

    #[test]
    fn recipe_reader_survives_yaml_shaped_noise(text in "([a-z_]{1,10}:( [-a-zA-Z0-9.\\[\\]{}\"']{0,12})?\n( {2,4})?){0,30}") {
        check_recipe(&text);
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn recipe_reader_survives_mutated_builtin_recipes(pick in any::<prop::sample::Index>(), edits in prop::collection::vec(mutation(), 1..5)) {
        let seeds = builtin_recipes();
        let (_, text) = &seeds[pick.index(seeds.len())];
        check_recipe(&apply(text, &edits));
    }
}

#[test]
fn every_builtin_recipe_seed_loads_unmutated() {
    // The seeds must be valid, or the mutation tests above would test only broken input.
    for (path, text) in builtin_recipes() {
        if let Err(problems) = aimdeck::recipes::load::load_text(&path, &text) {
            panic!("{path}: {problems:?}");
        }
    }
}

// ---------------------------------------------------------------- /metrics

const METRIC_SEEDS: [&str; 6] = [
    "metrics/sim-vllm-current-dp2.txt",
    "metrics/sim-sglang-current-tp2-dp2.txt",
    "metrics/vllm-0.10-shape-dp2.txt",
    "metrics/vllm-0.6-v0.txt",
    "metrics/sglang-0.4-docs.txt",
    "metrics/vllm-v1-design-doc.txt",
];

fn check_metrics(text: &str) {
    timed("metrics parse", || match aimdeck::engine::metrics::parse(text) {
        Ok(page) => {
            for sample in &page.samples {
                assert!(!sample.name.is_empty());
            }
            let _ = aimdeck::engine::metrics::snapshot(&page);
        }
        Err(err) => {
            let shown = err.to_string();
            assert!(shown.starts_with("not a Prometheus metrics page: line "), "{shown}");
        }
    });
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn metrics_parser_survives_arbitrary_text(text in "(?s).{0,800}") {
        check_metrics(&text);
    }

    #[test]
    fn metrics_parser_survives_mutated_recorded_pages(pick in 0..METRIC_SEEDS.len(), edits in prop::collection::vec(mutation(), 1..6)) {
        check_metrics(&apply(&fixture(METRIC_SEEDS[pick]), &edits));
    }

    /// Well-formed sample lines are all read back with their values, whatever noise lines sit
    /// between them.
    #[test]
    fn metrics_parser_reads_every_well_formed_sample(
        samples in prop::collection::vec(("[a-z_:][a-z0-9_:]{0,20}", "[a-z_]{1,8}", "[ -!#-\\[\\]-~]{0,10}", -1e9f64..1e9), 1..30),
        noise in prop::collection::vec("# [ -~]{0,20}", 0..5),
    ) {
        let mut text = noise.join("\n");
        text.push('\n');
        for (name, label, value, number) in &samples {
            text.push_str(&format!("{name}{{{label}=\"{value}\"}} {number}\n"));
        }
        let page = aimdeck::engine::metrics::parse(&text).expect("well-formed page");
        prop_assert_eq!(page.samples.len(), samples.len());
        for (sample, (name, label, value, number)) in page.samples.iter().zip(&samples) {
            prop_assert_eq!(sample.name, name.as_str());
            prop_assert_eq!(sample.label(label), Some(value.as_str()));
            prop_assert!((sample.value - number).abs() <= number.abs() * 1e-12);
        }
    }
}

// ---------------------------------------------------------------- GPU tools

const CSV_SEEDS: [&str; 4] = [
    "gpus/h100-sxm-8/nvidia-smi-query.csv",
    "gpus/a100-1/nvidia-smi-query.csv",
    "gpus/l40s-4-pcie/nvidia-smi-query.csv",
    "gpus/broken-nvidia-na/nvidia-smi-query.csv",
];
const TOPO_SEEDS: [&str; 4] = [
    "gpus/h100-sxm-8/nvidia-smi-topo.txt",
    "gpus/l40s-4-pcie/nvidia-smi-topo.txt",
    "gpus/topo-5gpu-phb-node-sys/nvidia-smi-topo.txt",
    "gpus/a100-1/nvidia-smi-topo.txt",
];
const AMD_DIRS: [&str; 2] = ["gpus/mi300x-8-amdsmi-bare", "gpus/mi300x-8-amdsmi-gpu-data"];

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn nvidia_smi_csv_reader_survives_mutations(pick in 0..CSV_SEEDS.len(), edits in prop::collection::vec(mutation(), 1..6)) {
        let seed = fixture(CSV_SEEDS[pick]);
        let text = apply(&seed, &edits);
        let (gpus, warnings) = timed("nvidia csv", || nvidia::parse_query_csv(&text));
        // Every non-empty line is either a GPU or a warning that says which line.
        let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
        prop_assert_eq!(gpus.len() + warnings.len(), lines, "{:?} {:?}", gpus, warnings);
        for warning in &warnings {
            prop_assert!(warning.starts_with("nvidia-smi --query-gpu: line "), "{}", warning);
        }
    }

    #[test]
    fn nvidia_smi_csv_reader_reads_generated_lines(rows in prop::collection::vec((0u64..200_000, 0u64..200_000, 0u32..101, 0u32..120), 1..16)) {
        let text: String = rows
            .iter()
            .enumerate()
            .map(|(i, (total, used, util, temp))| format!("{i}, GPU-{i:08x}, NVIDIA H100 80GB HBM3, {total}, {used}, {util}, {temp}, 70.5, 00000000:{i:02X}:00.0, 700.00\n"))
            .collect();
        let (gpus, warnings) = nvidia::parse_query_csv(&text);
        prop_assert!(warnings.is_empty(), "{warnings:?}");
        prop_assert_eq!(gpus.len(), rows.len());
        for (gpu, (total, used, util, _)) in gpus.iter().zip(&rows) {
            prop_assert_eq!(gpu.memory_total_bytes, Some(total * 1024 * 1024));
            prop_assert_eq!(gpu.memory_used_bytes, Some(used * 1024 * 1024));
            prop_assert_eq!(gpu.utilization_percent, Some(f64::from(*util)));
        }
    }

    #[test]
    fn nvidia_topo_reader_survives_mutations(pick in 0..TOPO_SEEDS.len(), edits in prop::collection::vec(mutation(), 1..6)) {
        let text = apply(&fixture(TOPO_SEEDS[pick]), &edits);
        let (matrix, warnings) = timed("topo -m", || nvidia_topo::parse_topo_matrix(&text));
        let _ = (matrix, warnings);
        // Through the same assembly the live path uses.
        let report = timed("assemble", || nvidia::assemble(&fixture(CSV_SEEDS[0]), Some(&text)));
        for link in &report.links {
            prop_assert!(link.a < link.b, "a link is stored once, low index first: {link:?}");
        }
    }

    #[test]
    fn amd_smi_reader_survives_mutations(dir in 0..AMD_DIRS.len(), which in 0usize..4, edits in prop::collection::vec(mutation(), 1..5)) {
        let names = ["amd-smi-list.json", "amd-smi-static.json", "amd-smi-metric.json", "amd-smi-topology.json"];
        let mut docs: Vec<String> = names.iter().map(|n| fixture(&format!("{}/{n}", AMD_DIRS[dir]))).collect();
        docs[which] = apply(&docs[which], &edits);
        let outputs = AmdSmiOutputs { list: Some(&docs[0]), static_info: Some(&docs[1]), metric: Some(&docs[2]), topology: Some(&docs[3]) };
        match timed("amd-smi", || amd_smi::parse(outputs)) {
            Ok(report) => prop_assert!(report.gpus.len() <= 8),
            Err(why) => prop_assert!(why.starts_with("amd-smi"), "the error names the tool: {why}"),
        }
    }

    #[test]
    fn amd_smi_reader_survives_values_of_the_wrong_type(which in 0usize..4, path_pick in any::<prop::sample::Index>(), value in prop_oneof![
        Just(serde_json::json!("N/A")), Just(serde_json::json!(null)), Just(serde_json::json!(-1)),
        Just(serde_json::json!({"value": "x", "unit": "MB"})), Just(serde_json::json!([])), Just(serde_json::json!(1e308)),
    ]) {
        let names = ["amd-smi-list.json", "amd-smi-static.json", "amd-smi-metric.json", "amd-smi-topology.json"];
        let mut docs: Vec<String> = names.iter().map(|n| fixture(&format!("{}/{n}", AMD_DIRS[1]))).collect();
        let mut doc: serde_json::Value = serde_json::from_str(&docs[which]).expect("fixture is JSON");
        let mut leaves = Vec::new();
        collect_pointers(&doc, String::new(), &mut leaves);
        let pointer = &leaves[path_pick.index(leaves.len())];
        if let Some(slot) = doc.pointer_mut(pointer) {
            *slot = value;
        }
        docs[which] = doc.to_string();
        let outputs = AmdSmiOutputs { list: Some(&docs[0]), static_info: Some(&docs[1]), metric: Some(&docs[2]), topology: Some(&docs[3]) };
        if let Err(why) = timed("amd-smi", || amd_smi::parse(outputs)) {
            prop_assert!(why.starts_with("amd-smi"), "{why}");
        }
    }

    #[test]
    fn rocm_smi_reader_survives_mutations(which in 0usize..2, edits in prop::collection::vec(mutation(), 1..5)) {
        let mut info = fixture("gpus/mi300x-8-rocm-smi/rocm-smi-info.json");
        let mut topo = fixture("gpus/mi300x-8-rocm-smi/rocm-smi-topo.json");
        if which == 0 { info = apply(&info, &edits) } else { topo = apply(&topo, &edits) }
        match timed("rocm-smi", || rocm_smi::parse(&info, Some(&topo))) {
            Ok(report) => prop_assert!(report.gpus.len() <= 8),
            Err(why) => prop_assert!(why.starts_with("rocm-smi"), "{why}"),
        }
    }
}

fn collect_pointers(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                collect_pointers(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------- KFD sysfs

#[derive(Debug, Clone)]
struct KfdNode {
    gpu: bool,
    /// Lines of noise added to its properties file.
    noise: Vec<String>,
    /// Replace the properties file by unreadable bytes.
    garbage: Option<Vec<u8>>,
}

fn kfd_node() -> impl Strategy<Value = KfdNode> {
    (
        any::<bool>(),
        prop::collection::vec("[ -~]{0,24}", 0..3),
        prop::option::weighted(0.15, prop::collection::vec(any::<u8>(), 0..64)),
    )
        .prop_map(|(gpu, noise, garbage)| KfdNode { gpu, noise, garbage })
}

/// Writes a KFD topology in the kernel's layout (see tests/fixtures/gpus/README.md): CPU nodes
/// first with `gpu_id` 0, then MI300X nodes, each GPU linked to every other GPU by XGMI.
fn write_kfd(root: &Path, nodes: &[KfdNode]) {
    let gpu_ids: Vec<usize> = (0..nodes.len()).filter(|&i| nodes[i].gpu).collect();
    fs::create_dir_all(root.join("nodes")).unwrap();
    for (i, node) in nodes.iter().enumerate() {
        let dir = root.join("nodes").join(i.to_string());
        fs::create_dir_all(dir.join("mem_banks/0")).unwrap();
        let mut props = if node.gpu {
            format!(
                "cpu_cores_count 0\nsimd_count 1216\nvendor_id 4098\ndevice_id 29857\nlocation_id {}\ndomain 0\ndrm_render_minor {}\ngfx_target_version 90402\n",
                (i as u64) << 8,
                128 + i
            )
        } else {
            "cpu_cores_count 48\nsimd_count 0\nvendor_id 0\n".to_string()
        };
        for line in &node.noise {
            props.push_str(line);
            props.push('\n');
        }
        match &node.garbage {
            Some(bytes) => fs::write(dir.join("properties"), bytes).unwrap(),
            None => fs::write(dir.join("properties"), props).unwrap(),
        }
        fs::write(
            dir.join("gpu_id"),
            if node.gpu { format!("{}\n", 1000 + i) } else { "0\n".to_string() },
        )
        .unwrap();
        fs::write(dir.join("mem_banks/0/properties"), "heap_type 1\nsize_in_bytes 206141652992\n")
            .unwrap();
        if node.gpu {
            for (k, &peer) in gpu_ids.iter().filter(|&&p| p != i).enumerate() {
                let link = dir.join("io_links").join(k.to_string());
                fs::create_dir_all(&link).unwrap();
                fs::write(
                    link.join("properties"),
                    format!("type 11\nnode_from {i}\nnode_to {peer}\nweight 15\n"),
                )
                .unwrap();
            }
        }
    }
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn kfd_reader_reads_generated_trees_and_survives_damaged_files(nodes in prop::collection::vec(kfd_node(), 0..10)) {
        let tmp = tempfile::tempdir().unwrap();
        write_kfd(tmp.path(), &nodes);
        let report = timed("kfd read", || kfd::read(tmp.path()));
        let report = report.expect("a readable tree is not an error").expect("nodes/ exists");
        // Noise lines never hide a GPU; a garbage properties file may, and must not panic.
        let intact_gpus = nodes.iter().filter(|n| n.gpu && n.garbage.is_none()).count();
        let all_gpus = nodes.iter().filter(|n| n.gpu).count();
        prop_assert!(report.gpus.len() >= intact_gpus && report.gpus.len() <= all_gpus, "{} GPUs, {intact_gpus}..={all_gpus} expected", report.gpus.len());
        if nodes.iter().all(|n| n.garbage.is_none()) {
            prop_assert_eq!(report.gpus.len(), all_gpus);
            prop_assert_eq!(report.links.len(), all_gpus * all_gpus.saturating_sub(1) / 2);
            for gpu in &report.gpus {
                prop_assert_eq!(gpu.memory_total_bytes, Some(206141652992));
                prop_assert!(gpu.render_node.as_deref().is_some_and(|r| r.starts_with("/dev/dri/renderD")));
            }
        }
    }
}

// ---------------------------------------------------------------- HF cache scanner

#[derive(Debug, Clone)]
struct GenRepo {
    /// Blob sizes (sparse files).
    blobs: Vec<u64>,
    /// Per revision: which blobs its snapshot links to.
    revisions: Vec<Vec<prop::sample::Index>>,
}

#[derive(Debug, Clone)]
enum Damage {
    None,
    DanglingLink,
    GarbageRef(String),
    FileForSnapshots,
    BadFolderName(String),
    EmptyRepo,
    IncompleteBlob(u64),
}

fn gen_repo() -> impl Strategy<Value = GenRepo> {
    (
        prop::collection::vec(0u64..5_000_000_000, 1..5),
        prop::collection::vec(prop::collection::vec(any::<prop::sample::Index>(), 1..4), 1..3),
    )
        .prop_map(|(blobs, revisions)| GenRepo { blobs, revisions })
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        4 => Just(Damage::None),
        1 => Just(Damage::DanglingLink),
        1 => "[ -~]{0,50}".prop_map(Damage::GarbageRef),
        1 => Just(Damage::FileForSnapshots),
        1 => "[a-z-]{1,12}".prop_map(Damage::BadFolderName),
        1 => Just(Damage::EmptyRepo),
        1 => (0u64..1_000_000).prop_map(Damage::IncompleteBlob),
    ]
}

/// Writes one repo in the standard layout; returns the bytes of its unique blobs.
fn write_repo(root: &Path, n: usize, repo: &GenRepo, damage: &Damage) -> u64 {
    let folder = match damage {
        Damage::BadFolderName(name) => name.clone(),
        _ => format!("models--org--model-{n}"),
    };
    let dir = root.join(&folder);
    fs::create_dir_all(dir.join("blobs")).unwrap();
    fs::create_dir_all(dir.join("refs")).unwrap();
    if matches!(damage, Damage::EmptyRepo) {
        return 0;
    }
    let etags: Vec<String> =
        (0..repo.blobs.len()).map(|b| format!("{:064x}", n * 1000 + b)).collect();
    for (etag, size) in etags.iter().zip(&repo.blobs) {
        fs::File::create(dir.join("blobs").join(etag)).unwrap().set_len(*size).unwrap();
    }
    if let Damage::IncompleteBlob(size) = damage {
        fs::File::create(dir.join("blobs").join(format!("{:064x}.incomplete", 7)))
            .unwrap()
            .set_len(*size)
            .unwrap();
    }
    if matches!(damage, Damage::FileForSnapshots) {
        fs::write(dir.join("snapshots"), b"not a folder").unwrap();
    }
    let mut used = std::collections::BTreeSet::new();
    for (r, files) in repo.revisions.iter().enumerate() {
        let commit = format!("{:040x}", n * 100 + r);
        if !matches!(damage, Damage::FileForSnapshots) {
            let snap = dir.join("snapshots").join(&commit);
            fs::create_dir_all(&snap).unwrap();
            for (f, pick) in files.iter().enumerate() {
                let b = pick.index(etags.len());
                used.insert(b);
                symlink(format!("../../blobs/{}", etags[b]), snap.join(format!("file-{f}.bin")))
                    .unwrap();
            }
            if matches!(damage, Damage::DanglingLink) && r == 0 {
                symlink("../../blobs/0000missing", snap.join("lost.bin")).unwrap();
            }
        }
        let reference = match damage {
            Damage::GarbageRef(text) if r == 0 => text.clone(),
            _ => commit,
        };
        fs::write(
            dir.join("refs").join(if r == 0 { "main".to_string() } else { format!("branch-{r}") }),
            reference,
        )
        .unwrap();
    }
    // A repo's size is its referenced blobs, as huggingface_hub counts it.
    used.iter().map(|&b| repo.blobs[b]).sum()
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn cache_scanner_totals_generated_trees_and_survives_damage(repos in prop::collection::vec((gen_repo(), damage()), 0..6)) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let mut clean_total = 0u64;
        let mut clean_repos = 0usize;
        for (n, (repo, damage)) in repos.iter().enumerate() {
            let bytes = write_repo(root, n, repo, damage);
            if matches!(damage, Damage::None | Damage::IncompleteBlob(_)) {
                clean_total += bytes;
                clean_repos += 1;
            }
        }
        fs::create_dir_all(root.join(".locks")).unwrap();
        fs::write(root.join("CACHEDIR.TAG"), "Signature: 8a477f597d28d172789f06886806bc55\n").unwrap();
        let report = timed("scan", || aimdeck::cache::scan_cache_dir(root)).expect("an existing folder scans");
        // Every intact repo is listed with all its blobs; every damaged one is either listed
        // or named in a warning, never silently dropped.
        prop_assert!(report.repos.len() >= clean_repos, "{} repos listed, {clean_repos} intact: {:?}", report.repos.len(), report.warnings);
        let listed_clean: u64 = report
            .repos
            .iter()
            .filter(|r| repos.iter().enumerate().any(|(n, (_, d))| matches!(d, Damage::None | Damage::IncompleteBlob(_)) && r.repo_id == format!("org/model-{n}")))
            .map(|r| r.size_on_disk)
            .sum();
        prop_assert_eq!(listed_clean, clean_total);
        let damaged = repos.iter().filter(|(_, d)| !matches!(d, Damage::None | Damage::IncompleteBlob(_))).count();
        prop_assert!(report.repos.len() + report.warnings.len() >= clean_repos + damaged,
            "damaged repos are reported: {:?}", report.warnings);
        for warning in &report.warnings {
            prop_assert!(!warning.trim().is_empty());
        }
    }
}

#[test]
fn cache_scanner_reports_a_missing_or_file_root_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let err = aimdeck::cache::scan_cache_dir(&missing).expect_err("missing root");
    assert!(
        err.to_string().contains("Cache directory not found") && err.to_string().contains("nope"),
        "{err}"
    );
    let file = tmp.path().join("file");
    fs::write(&file, "x").unwrap();
    let err = aimdeck::cache::scan_cache_dir(&file).expect_err("file root");
    assert!(err.to_string().contains("expects a directory"), "{err}");
}
