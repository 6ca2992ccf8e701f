//! `aimdeck cache ls` against trees built like real Hugging Face caches, and against
//! `huggingface_hub.scan_cache_dir` itself on the same trees.

use crate::cache_tree;

use std::path::Path;
use std::process::Command;

use aimdeck::cache::scan_cache_dir;
use aimdeck::model::cache::RepoType;
use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

fn aimdeck_ls_json(root: &Path) -> Value {
    let output = Command::cargo_bin("aimdeck")
        .expect("binary")
        .args(["cache", "ls", "--json", "--cache-dir"])
        .arg(root)
        .output()
        .expect("run aimdeck");
    assert!(output.status.success(), "aimdeck failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("aimdeck prints JSON")
}

/// `huggingface_hub`'s view of `root`, or `None` (test skipped) when Python or the package is
/// missing, unless `AIMDECK_REQUIRE_HF_HUB=1`.
fn python_scan(root: &Path) -> Option<Value> {
    let python = std::env::var("AIMDECK_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cache/hf_scan_as_aimdeck_json.py");
    let required = std::env::var("AIMDECK_REQUIRE_HF_HUB").is_ok_and(|v| v == "1");
    let probe = Command::new(&python).args(["-c", "import huggingface_hub"]).output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        assert!(
            !required,
            "AIMDECK_REQUIRE_HF_HUB=1 but `{python} -c 'import huggingface_hub'` failed: {probe:?}"
        );
        eprintln!(
            "skipped: Python's huggingface_hub is not installed (pip install huggingface_hub)"
        );
        return None;
    }
    let output = Command::new(&python).arg(script).arg(root).output().expect("run python");
    assert!(output.status.success(), "python failed: {}", String::from_utf8_lossy(&output.stderr));
    Some(serde_json::from_slice(&output.stdout).expect("python prints JSON"))
}

fn assert_same_as_huggingface_hub(root: &Path) {
    let ours = aimdeck_ls_json(root);
    let Some(theirs) = python_scan(root) else { return };
    // Compared as JSON values (floats compared exactly), then as canonical text: byte for byte.
    assert_eq!(ours, theirs);
    assert_eq!(
        serde_json::to_string(&ours).expect("json"),
        serde_json::to_string(&theirs).expect("json")
    );
}

#[test]
fn ls_json_matches_huggingface_hub_on_a_damaged_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    cache_tree::build_demo(dir.path());
    assert_same_as_huggingface_hub(dir.path());
}

#[test]
fn ls_json_matches_huggingface_hub_on_a_generated_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    cache_tree::build_generated(dir.path(), 30, 20);
    assert_same_as_huggingface_hub(dir.path());
}

#[test]
fn ls_json_matches_huggingface_hub_with_a_shared_blob_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    cache_tree::build_shared_store(dir.path());
    let report = scan_cache_dir(dir.path()).expect("scan");
    // Each repo counts the shared payload; the cache total counts it once, plus the orphan.
    assert_eq!(report.repos.len(), 2, "the store is not a repo: {:?}", report.warnings);
    let sizes: Vec<u64> = report.repos.iter().map(|r| r.size_on_disk).collect();
    assert_eq!(sizes, vec![8_000_101, 8_000_102]);
    assert_eq!(report.size_on_disk, 8_000_000 + 3_000 + 101 + 102);
    assert_same_as_huggingface_hub(dir.path());
}

#[test]
fn ls_json_matches_huggingface_hub_with_unusual_links() {
    let dir = tempfile::tempdir().unwrap();
    cache_tree::build_unusual_links(dir.path());
    let report = aimdeck::cache::scan_cache_dir(dir.path()).unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let odd = report.repos.iter().find(|r| r.repo_id == "acme/odd-links").expect("listed");
    let revision = odd.revisions.iter().find(|r| r.refs == ["dev"]).expect("the odd revision");
    let names: Vec<&str> = revision.files.iter().map(|f| f.relative_path.as_str()).collect();
    assert_eq!(
        names,
        [
            "absolute.json",
            "foreign.parquet",
            "pipe",
            "sub/deeper/dot.json",
            "sub/one-deeper.json",
            "sub/round-trip.bin"
        ]
    );
    assert_same_as_huggingface_hub(dir.path());
}

#[test]
fn scan_counts_shared_blobs_once_and_reports_damage() {
    let dir = tempfile::tempdir().expect("tempdir");
    cache_tree::build_demo(dir.path());
    let report = scan_cache_dir(dir.path()).expect("scan");

    let llama = report.repo(RepoType::Model, "acme/llama-mini").expect("llama listed");
    // e1 + e2 + e3 + e4: config and tokenizer are shared by both revisions, counted once.
    assert_eq!(llama.size_on_disk, 700 + 5_000_000 + 2_100 + 4_500_000);
    assert_eq!(llama.nb_files, 4);
    assert_eq!(llama.incomplete_bytes, 1234);
    let pr = llama.revision("refs/pr/1").expect("nested ref resolves");
    assert_eq!(pr.refs, vec!["refs/pr/1".to_string()]);
    assert_eq!(pr.size_on_disk, 700 + 4_500_000 + 2_100);
    assert_eq!(pr.nb_files, 3);
    assert_eq!(llama.refs(), vec!["main", "refs/pr/1"]);

    let dataset = report.repo(RepoType::Dataset, "acme/eval-set").expect("dataset listed");
    assert_eq!(dataset.size_on_disk, 123_456 + 42 + 333);
    assert!(report.repo(RepoType::Space, "acme/demo").is_some_and(|space| space.size_on_disk == 0));

    // Damaged repos are left out, with one warning each.
    assert!(report.repo(RepoType::Model, "acme/broken").is_none());
    assert!(report.repo(RepoType::Model, "acme/dangling-ref").is_none());
    let warnings = report.warnings.join("\n");
    assert_eq!(report.warnings.len(), 6, "{warnings}");
    assert!(warnings.contains("Blob missing (broken symlink): "), "{warnings}");
    assert!(warnings.contains("models--acme--broken/blobs/missing-blob"), "{warnings}");
    assert!(
        warnings.contains(&format!(
            "Reference(s) refer to missing commit hashes: {{'{}': {{'refs/pr/7'}}}}",
            cache_tree::commit(5)
        )),
        "{warnings}"
    );
    assert!(warnings.contains("Repo path is not a directory: "), "{warnings}");
    assert!(
        warnings.contains(
            "Repo type must be one of ['datasets', 'kernels', 'models', 'spaces'], found `buckets`"
        ),
        "{warnings}"
    );
    assert!(warnings.contains("Snapshots dir doesn't exist in cached repo: "), "{warnings}");

    // Total: each valid blob once, plus nothing from damaged repos; incomplete counts all repos.
    assert_eq!(report.size_on_disk, llama.size_on_disk + dataset.size_on_disk);
    assert_eq!(report.incomplete_bytes, 1234 + 4321);
}

#[test]
fn ls_table_lists_repos_and_totals() {
    let dir = tempfile::tempdir().expect("tempdir");
    cache_tree::build_demo(dir.path());
    let output = Command::cargo_bin("aimdeck")
        .expect("binary")
        .args(["cache", "ls", "--cache-dir"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let llama_row =
        stdout.lines().find(|l| l.starts_with("model/acme/llama-mini")).expect("llama row");
    assert!(llama_row.contains("9.5M") && llama_row.ends_with("main refs/pr/1"), "{llama_row}");
    assert!(
        stdout.contains("Found 3 repo(s) for a total of 4 revision(s) and 9.6M on disk."),
        "{stdout}"
    );
    assert!(stdout.contains("Interrupted downloads: 5.6K"), "{stdout}");
    assert!(stderr.contains("warning: Blob missing (broken symlink)"), "{stderr}");

    let revisions = Command::cargo_bin("aimdeck")
        .expect("binary")
        .args(["cache", "ls", "--revisions", "--cache-dir"])
        .arg(dir.path())
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&revisions.stdout);
    assert!(
        stdout.lines().any(|l| l.contains(cache_tree::LLAMA_PR) && l.ends_with("refs/pr/1")),
        "{stdout}"
    );
}

#[test]
fn ls_on_a_missing_cache_says_where_it_looked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nowhere");
    let output = Command::cargo_bin("aimdeck")
        .expect("binary")
        .args(["cache", "ls", "--cache-dir"])
        .arg(&missing)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("Cache directory not found: {}", missing.display())),
        "{stderr}"
    );
}
