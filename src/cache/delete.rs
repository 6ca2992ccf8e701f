//! Safe delete of a cached revision or a whole repo, in two steps: `plan_delete` (the dry run:
//! what goes and how many bytes that frees) and `execute` (does exactly the plan).
//!
//! Rules, from `HFCacheInfo.delete_revisions` in `huggingface_hub`:
//! - deleting every revision of a repo deletes the repo folder (with its interrupted downloads);
//! - otherwise: the snapshot folders, the refs pointing at them, and only the blobs no remaining
//!   revision uses.
//!
//! Stricter than Python: a blob outside the repo's own folder (a symlink someone pointed
//! elsewhere, or a payload in the shared store) is never deleted nor counted as freed, and
//! a blob that is itself a symlink frees no bytes. So the dry run promises only bytes that the
//! delete really returns to the file system.

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::cache::{CacheReport, CachedRepo, RepoType};

/// A model a running deployment holds (the lead wires these from the backends).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelHold {
    /// Hugging Face repo id the deployment serves.
    pub model: String,
    /// Deployment name.
    pub deployment: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletePlan {
    pub repo_id: String,
    pub repo_type: RepoType,
    /// Full commit hashes of the revisions that go.
    pub revisions: Vec<String>,
    /// Set when no revision remains: the whole repo folder goes.
    pub repo_path: Option<PathBuf>,
    pub snapshots: Vec<PathBuf>,
    pub refs: Vec<PathBuf>,
    pub blobs: Vec<PathBuf>,
    /// Bytes the delete returns to the file system.
    pub bytes_freed: u64,
    /// Deployments serving this model: the caller must confirm a second time.
    pub held_by: Vec<String>,
}

impl DeletePlan {
    pub fn deletes_repo(&self) -> bool {
        self.repo_path.is_some()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    #[error("{repo_type} `{repo_id}` is not in the cache")]
    RepoNotFound { repo_type: RepoType, repo_id: String },
    #[error("revision `{revision}` of `{repo_id}` is not in the cache (cached: {cached})")]
    RevisionNotFound { repo_id: String, revision: String, cached: String },
    #[error("refusing to delete {path}: it is outside {repo_path}")]
    OutsideRepo { path: PathBuf, repo_path: PathBuf },
    #[error("cannot delete {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// The dry run. `revisions` empty means the whole repo; otherwise refs (`main`, `refs/pr/1`),
/// full or abbreviated (4+ characters) commit hashes.
pub fn plan_delete(
    report: &CacheReport,
    repo_type: RepoType,
    repo_id: &str,
    revisions: &[&str],
    holds: &[ModelHold],
) -> Result<DeletePlan, DeleteError> {
    let repo = report
        .repo(repo_type, repo_id)
        .ok_or_else(|| DeleteError::RepoNotFound { repo_type, repo_id: repo_id.to_string() })?;
    let mut chosen: BTreeSet<&str> = BTreeSet::new();
    for name in revisions {
        let revision = repo.revision(name).ok_or_else(|| DeleteError::RevisionNotFound {
            repo_id: repo_id.to_string(),
            revision: name.to_string(),
            cached: cached_names(repo),
        })?;
        chosen.insert(&revision.commit_hash);
    }
    let held_by: Vec<String> = holds
        .iter()
        .filter(|hold| hold.model.eq_ignore_ascii_case(repo_id))
        .map(|hold| hold.deployment.clone())
        .collect();
    let whole_repo = chosen.is_empty()
        || repo.revisions.iter().all(|rev| chosen.contains(rev.commit_hash.as_str()));
    let mut plan = DeletePlan {
        repo_id: repo.repo_id.clone(),
        repo_type,
        revisions: repo
            .revisions
            .iter()
            .filter(|rev| whole_repo || chosen.contains(rev.commit_hash.as_str()))
            .map(|rev| rev.commit_hash.clone())
            .collect(),
        repo_path: None,
        snapshots: Vec::new(),
        refs: Vec::new(),
        blobs: Vec::new(),
        bytes_freed: 0,
        held_by,
    };

    if whole_repo {
        let mut seen = HashSet::new();
        plan.bytes_freed = repo
            .revisions
            .iter()
            .flat_map(|rev| rev.files.iter())
            .filter(|file| {
                seen.insert(&file.blob_path) && frees_bytes(&file.blob_path, &repo.repo_path)
            })
            .map(|file| file.size_on_disk)
            .sum::<u64>()
            + repo.incomplete_bytes;
        plan.repo_path = Some(repo.repo_path.clone());
        return Ok(plan);
    }

    let kept_blobs: HashSet<&Path> = repo
        .revisions
        .iter()
        .filter(|rev| !chosen.contains(rev.commit_hash.as_str()))
        .flat_map(|rev| rev.files.iter().map(|file| file.blob_path.as_path()))
        .collect();
    let mut blobs = BTreeSet::new();
    let mut counted = HashSet::new();
    for revision in repo.revisions.iter().filter(|rev| chosen.contains(rev.commit_hash.as_str())) {
        plan.snapshots.push(revision.snapshot_path.clone());
        plan.refs.extend(revision.refs.iter().map(|name| repo.repo_path.join("refs").join(name)));
        for file in &revision.files {
            // A real file inside the snapshot goes with the snapshot folder.
            if file.blob_path.starts_with(&revision.snapshot_path) {
                if counted.insert(&file.blob_path) {
                    plan.bytes_freed += file.size_on_disk;
                }
                continue;
            }
            let own_blob = file.blob_path.starts_with(repo.repo_path.join("blobs"));
            if own_blob
                && !kept_blobs.contains(file.blob_path.as_path())
                && counted.insert(&file.blob_path)
            {
                if frees_bytes(&file.blob_path, &repo.repo_path) {
                    plan.bytes_freed += file.size_on_disk;
                }
                blobs.insert(file.blob_path.clone());
            }
        }
    }
    plan.blobs = blobs.into_iter().collect();
    Ok(plan)
}

/// A blob frees its bytes when it lives in the repo folder and is a file, not a symlink.
fn frees_bytes(blob_path: &Path, repo_path: &Path) -> bool {
    blob_path.starts_with(repo_path)
        && fs::symlink_metadata(blob_path).is_ok_and(|meta| meta.file_type().is_file())
}

fn cached_names(repo: &CachedRepo) -> String {
    let names: Vec<String> = repo
        .revisions
        .iter()
        .map(|rev| {
            let short = &rev.commit_hash[..rev.commit_hash.len().min(12)];
            if rev.refs.is_empty() {
                short.to_string()
            } else {
                format!("{short} ({})", rev.refs.join(", "))
            }
        })
        .collect();
    if names.is_empty() { "none".to_string() } else { names.join("; ") }
}

/// Does the plan. Order keeps the cache consistent if interrupted: refs first (no ref points to a
/// missing snapshot), then snapshots (no symlink points to a missing blob), then blobs.
/// Paths already gone are fine. Every path is checked to be inside the repo folder first.
pub fn execute(plan: &DeletePlan, root: &Path) -> Result<(), DeleteError> {
    let repo_path = root.join(plan.repo_type.folder_name(&plan.repo_id));
    let all = plan.repo_path.iter().chain(&plan.refs).chain(&plan.snapshots).chain(&plan.blobs);
    for path in all {
        if !path.starts_with(&repo_path)
            || path.components().any(|c| c == std::path::Component::ParentDir)
        {
            return Err(DeleteError::OutsideRepo { path: path.clone(), repo_path });
        }
    }
    if let Some(path) = &plan.repo_path {
        return remove(path);
    }
    for path in plan.refs.iter().chain(&plan.snapshots).chain(&plan.blobs) {
        remove(path)?;
    }
    Ok(())
}

fn remove(path: &Path) -> Result<(), DeleteError> {
    let result = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(DeleteError::Io { path: path.to_path_buf(), source }),
    }
}
