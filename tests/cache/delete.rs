//! Safe delete: the dry run's promise is what the delete frees, shared blobs survive, refs go
//! with their revision, the repo goes with its last revision, in-use models are flagged.

use crate::cache_tree;

use std::path::Path;
use std::process::{Command, Stdio};

use aimdeck::cache::{DeleteError, ModelHold, execute, plan_delete, scan_cache_dir};
use aimdeck::model::cache::RepoType;
use assert_cmd::cargo::CommandCargoExt;

/// Bytes the file system holds under `dir` (regular files, counted once per inode). Measured
/// on `blobs/`: refs (40-byte text files) are not data and `huggingface_hub` does not count them.
fn bytes_under(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("read_dir").flatten() {
            let meta = entry.path().symlink_metadata().expect("lstat");
            if meta.is_dir() {
                pending.push(entry.path());
            } else if meta.is_file() && seen.insert(meta.ino()) {
                total += meta.size();
            }
        }
    }
    total
}

#[test]
fn deleting_a_revision_frees_what_the_dry_run_promised_and_keeps_the_other() {
    let dir = tempfile::tempdir().expect("tempdir");
    cache_tree::build_demo(dir.path());
    let before = scan_cache_dir(dir.path()).expect("scan");
    let llama = dir.path().join(cache_tree::LLAMA);
    let bytes_before = bytes_under(&llama.join("blobs"));

    let plan = plan_delete(&before, RepoType::Model, "acme/llama-mini", &["refs/pr/1"], &[])
        .expect("plan");
    // Only e4 is the PR's own blob; e1 and e3 are shared with main.
    assert_eq!(plan.revisions, vec![cache_tree::LLAMA_PR.to_string()]);
    assert_eq!(plan.bytes_freed, 4_500_000);
    assert_eq!(plan.blobs, vec![llama.canonicalize().expect("canon").join("blobs/e4")]);
    assert!(!plan.deletes_repo());
    // The dry run changed nothing.
    assert_eq!(bytes_under(&llama.join("blobs")), bytes_before);

    execute(&plan, &before.root).expect("delete");
    assert_eq!(bytes_before - bytes_under(&llama.join("blobs")), plan.bytes_freed);
    assert!(!llama.join("refs/pr/1").exists(), "the PR ref goes with its revision");
    assert!(!llama.join("snapshots").join(cache_tree::LLAMA_PR).exists());

    let after = scan_cache_dir(dir.path()).expect("scan after");
    assert!(after.warnings.len() == before.warnings.len(), "no new damage: {:?}", after.warnings);
    let repo = after.repo(RepoType::Model, "acme/llama-mini").expect("repo stays");
    assert_eq!(repo.revisions.len(), 1);
    let main = repo.revision("main").expect("main stays");
    assert_eq!(main.nb_files, 3);
    for file in &main.files {
        std::fs::metadata(&file.file_path).expect("every main file still resolves");
    }
    assert_eq!(after.size_on_disk, before.size_on_disk - plan.bytes_freed);
}

#[test]
fn deleting_the_last_revision_removes_the_repo_with_its_interrupted_downloads() {
    let dir = tempfile::tempdir().expect("tempdir");
    cache_tree::build_demo(dir.path());
    let report = scan_cache_dir(dir.path()).expect("scan");
    let llama = dir.path().join(cache_tree::LLAMA);
    let bytes_before = bytes_under(&llama.join("blobs"));

    let plan = plan_delete(&report, RepoType::Model, "acme/llama-mini", &[], &[]).expect("plan");
    assert!(plan.deletes_repo());
    assert_eq!(plan.bytes_freed, bytes_before, "blobs once each plus the .incomplete file");
    execute(&plan, &report.root).expect("delete");
    assert!(!llama.exists());
    assert_eq!(
        scan_cache_dir(dir.path()).expect("rescan").size_on_disk,
        report.size_on_disk - (bytes_before - 1234)
    );

    // Both revisions named one by one is the whole repo too.
    let dataset =
        plan_delete(&report, RepoType::Dataset, "acme/eval-set", &["main"], &[]).expect("plan");
    assert!(dataset.deletes_repo());
    assert_eq!(dataset.bytes_freed, 123_456 + 42 + 333);
}

#[test]
fn unknown_targets_and_in_use_models_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    cache_tree::build_demo(dir.path());
    let report = scan_cache_dir(dir.path()).expect("scan");
    let err = plan_delete(&report, RepoType::Model, "acme/llama-mini", &["v9"], &[])
        .expect_err("no such revision");
    assert!(matches!(err, DeleteError::RevisionNotFound { .. }));
    assert!(err.to_string().contains("(main)") && err.to_string().contains("(refs/pr/1)"), "{err}");
    let err =
        plan_delete(&report, RepoType::Model, "acme/nothing", &[], &[]).expect_err("no such repo");
    assert_eq!(err.to_string(), "model `acme/nothing` is not in the cache");

    let holds = [
        ModelHold { model: "acme/llama-mini".into(), deployment: "chat-prod".into() },
        ModelHold { model: "other/model".into(), deployment: "other".into() },
    ];
    let plan = plan_delete(&report, RepoType::Model, "acme/llama-mini", &[], &holds).expect("plan");
    assert_eq!(plan.held_by, vec!["chat-prod".to_string()]);
}

fn aimdeck_rm(root: &Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("aimdeck")
        .expect("binary")
        .args(["cache", "rm"])
        .args(args)
        .arg("--cache-dir")
        .arg(root)
        .stdin(Stdio::null())
        .output()
        .expect("run")
}

#[test]
fn cli_rm_dry_run_changes_nothing_and_asks_before_deleting() {
    let dir = tempfile::tempdir().expect("tempdir");
    cache_tree::build_demo(dir.path());
    let llama = dir.path().join(cache_tree::LLAMA);
    let bytes_before = bytes_under(&llama.join("blobs"));

    let dry = aimdeck_rm(dir.path(), &["acme/llama-mini@refs/pr/1", "--dry-run"]);
    assert!(dry.status.success());
    let stdout = String::from_utf8_lossy(&dry.stdout);
    assert!(stdout.contains("Would delete 1 revision(s) of model acme/llama-mini"), "{stdout}");
    assert!(stdout.contains("frees 4.5M (4500000 bytes)"), "{stdout}");
    assert_eq!(bytes_under(&llama.join("blobs")), bytes_before);

    // No terminal to ask on, no --yes: refuse, delete nothing.
    let refused = aimdeck_rm(dir.path(), &["acme/llama-mini@refs/pr/1"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("pass --yes"));
    assert_eq!(bytes_under(&llama.join("blobs")), bytes_before);

    let readonly = aimdeck_rm(dir.path(), &["acme/llama-mini", "--yes", "--readonly"]);
    assert_eq!(readonly.status.code(), Some(1));
    assert!(llama.exists());

    let json = aimdeck_rm(dir.path(), &["acme/llama-mini@refs/pr/1", "--yes", "--json"]);
    assert!(json.status.success(), "{}", String::from_utf8_lossy(&json.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&json.stdout).expect("plan JSON");
    assert_eq!(plan["bytes_freed"], 4_500_000);
    assert_eq!(bytes_before - bytes_under(&llama.join("blobs")), 4_500_000);

    let bad = aimdeck_rm(dir.path(), &["acme/llama-mini@", "--dry-run"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("nothing after `@`"));
}
