//! What the Hugging Face cache holds, as plain data. Field names follow `huggingface_hub`'s
//! `HFCacheInfo` / `CachedRepoInfo` / `CachedRevisionInfo` / `CachedFileInfo`, so the JSON of
//! `aimdeck cache ls --json` reads like what people know from `hf cache ls`.
//!
//! Times are seconds since the Unix epoch as `f64`, computed exactly as Python's `os.stat`
//! does (`sec + nsec * 1e-9`), so they compare equal to `huggingface_hub`'s values.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The kind of Hub repo a cache folder holds (`models--`, `datasets--`, `spaces--`, `kernels--`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RepoType {
    Model,
    Dataset,
    Space,
    /// Kernel repos (`kernels--org--name`), cached since `huggingface_hub` 1.x.
    Kernel,
}

impl RepoType {
    pub const ALL: [RepoType; 4] =
        [RepoType::Model, RepoType::Dataset, RepoType::Space, RepoType::Kernel];

    pub fn as_str(self) -> &'static str {
        match self {
            RepoType::Model => "model",
            RepoType::Dataset => "dataset",
            RepoType::Space => "space",
            RepoType::Kernel => "kernel",
        }
    }

    /// The plural used in cache folder names (`models--org--name`) and Hub API paths.
    pub fn plural(self) -> &'static str {
        match self {
            RepoType::Model => "models",
            RepoType::Dataset => "datasets",
            RepoType::Space => "spaces",
            RepoType::Kernel => "kernels",
        }
    }

    /// `models` -> `Model`, as `huggingface_hub.constants.REPO_TYPES_MAPPING`.
    pub fn from_plural(prefix: &str) -> Option<RepoType> {
        RepoType::ALL.into_iter().find(|kind| kind.plural() == prefix)
    }

    /// The cache folder name of a repo: `models--org--name`.
    pub fn folder_name(self, repo_id: &str) -> String {
        format!("{}--{}", self.plural(), repo_id.replace('/', "--"))
    }
}

impl fmt::Display for RepoType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One scan of a cache root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheReport {
    pub root: PathBuf,
    /// Physical bytes: every blob counted once (also blobs in the shared store that no repo
    /// references any more), as `HFCacheInfo.size_on_disk`.
    pub size_on_disk: u64,
    /// Bytes in interrupted downloads (`*/blobs/*.incomplete`), damaged repos included.
    pub incomplete_bytes: u64,
    /// Valid repos, sorted by type then id. Damaged repos are not here but in `warnings`.
    pub repos: Vec<CachedRepo>,
    /// One line per damaged entry, worded as `huggingface_hub`'s `CorruptedCacheException`.
    pub warnings: Vec<String>,
}

impl CacheReport {
    pub fn repo(&self, repo_type: RepoType, repo_id: &str) -> Option<&CachedRepo> {
        self.repos.iter().find(|repo| repo.repo_type == repo_type && repo.repo_id == repo_id)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedRepo {
    /// `org/name`.
    pub repo_id: String,
    pub repo_type: RepoType,
    pub repo_path: PathBuf,
    /// Sum of the unique blobs the repo's revisions point to.
    pub size_on_disk: u64,
    /// Number of unique blobs (as `huggingface_hub`, not the number of snapshot entries).
    pub nb_files: u64,
    /// Newest blob mtime, or the repo folder's when it has no blob.
    pub last_modified: f64,
    /// Newest blob atime, or the repo folder's when it has no blob.
    pub last_accessed: f64,
    /// Bytes in this repo's `blobs/*.incomplete` files.
    pub incomplete_bytes: u64,
    /// Sorted newest first (by `last_modified`), then by hash.
    pub revisions: Vec<CachedRevision>,
    /// Interrupted downloads of this repo.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete_files: Vec<IncompleteFile>,
}

impl CachedRepo {
    /// All refs of all revisions (`main`, `refs/pr/1`, ...).
    pub fn refs(&self) -> Vec<&str> {
        let mut refs: Vec<&str> =
            self.revisions.iter().flat_map(|rev| rev.refs.iter().map(String::as_str)).collect();
        refs.sort_unstable();
        refs
    }

    /// The revision a ref or a (possibly abbreviated) commit hash names.
    pub fn revision(&self, name: &str) -> Option<&CachedRevision> {
        self.revisions
            .iter()
            .find(|rev| rev.commit_hash == name || rev.refs.iter().any(|r| r == name))
            .or_else(|| {
                let mut matches = self
                    .revisions
                    .iter()
                    .filter(|rev| name.len() >= 4 && rev.commit_hash.starts_with(name));
                let first = matches.next();
                if matches.next().is_some() { None } else { first }
            })
    }

    /// The `n` largest files over all revisions, one entry per blob, biggest first.
    pub fn largest_files(&self, n: usize) -> Vec<&CachedFile> {
        let mut seen = std::collections::HashSet::new();
        let mut files: Vec<&CachedFile> = self
            .revisions
            .iter()
            .flat_map(|rev| rev.files.iter())
            .filter(|file| seen.insert(&file.blob_path))
            .collect();
        files.sort_by(|a, b| {
            b.size_on_disk.cmp(&a.size_on_disk).then_with(|| a.file_path.cmp(&b.file_path))
        });
        files.truncate(n);
        files
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedRevision {
    pub commit_hash: String,
    /// Refs pointing at this revision, sorted (`main`, `refs/pr/1`).
    pub refs: Vec<String>,
    /// Sum of the unique blobs of this revision (shared blobs count in each revision).
    pub size_on_disk: u64,
    /// Number of snapshot entries.
    pub nb_files: u64,
    /// Newest blob mtime, or the snapshot folder's when it is empty.
    pub last_modified: f64,
    pub snapshot_path: PathBuf,
    /// Snapshot entries, sorted by path. Left out of `cache ls --json` to keep it small.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<CachedFile>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedFile {
    /// Base name, as `CachedFileInfo.file_name`.
    pub file_name: String,
    /// Path inside the snapshot (`sub/dir/model.safetensors`).
    pub relative_path: String,
    pub file_path: PathBuf,
    /// Where the snapshot entry points (the first symlink hop, made absolute).
    pub blob_path: PathBuf,
    pub size_on_disk: u64,
    pub blob_last_accessed: f64,
    pub blob_last_modified: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncompleteFile {
    pub file_path: PathBuf,
    pub size_on_disk: u64,
}
