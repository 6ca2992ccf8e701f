//! Scans a Hugging Face hub cache the way `huggingface_hub.scan_cache_dir()` does
//! (`huggingface_hub/utils/_cache_manager.py`), rule for rule, so totals, file counts, times
//! and warnings are the same as `hf cache ls` reports:
//! - a repo is `{models,datasets,spaces}--org--name` with a `snapshots/` dir;
//! - a snapshot entry's blob is its first symlink hop made absolute (not fully resolved);
//! - sizes count each blob path once per repo and once per revision;
//! - a damaged repo (broken symlink, ref to a missing snapshot, ...) is left out of `repos`
//!   and reported in `warnings` with `CorruptedCacheException`'s wording.
//!
//! Where Python would crash (an unreadable folder), aimdeck reports a warning and goes on.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustc_hash::FxBuildHasher;

use crate::model::cache::{CacheReport, CachedRepo, IncompleteFile};

use super::dirfd::Lister;
use super::scan_repo::{BlobListing, scan_repo};
use super::shared_store::SharedStore;

/// OS helper files `huggingface_hub` skips (`FILES_TO_IGNORE`).
pub(crate) const FILES_TO_IGNORE: [&str; 3] = [".DS_Store", "Thumbs.db", "desktop.ini"];

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(
        "Cache directory not found: {0}. Please use `--cache-dir` or set the `HF_HUB_CACHE` environment variable."
    )]
    NotFound(PathBuf),
    #[error(
        "Scan cache expects a directory but found a file: {0}. Please use `--cache-dir` or set `HF_HUB_CACHE`."
    )]
    NotADirectory(PathBuf),
    #[error("cannot read the cache directory {path}: {source}")]
    Unreadable { path: PathBuf, source: std::io::Error },
}

/// What `stat` says about a blob, with times as Python computes them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BlobStat {
    pub size: u64,
    pub atime: f64,
    pub mtime: f64,
}

impl BlobStat {
    pub(crate) fn of(meta: &fs::Metadata) -> BlobStat {
        BlobStat::from_parts(
            meta.size(),
            meta.atime(),
            meta.atime_nsec(),
            meta.mtime(),
            meta.mtime_nsec(),
        )
    }

    pub(crate) fn from_parts(
        size: u64,
        atime: i64,
        atime_nsec: i64,
        mtime: i64,
        mtime_nsec: i64,
    ) -> BlobStat {
        BlobStat {
            size,
            atime: python_time(atime, atime_nsec),
            mtime: python_time(mtime, mtime_nsec),
        }
    }
}

/// `os.stat_result.st_mtime` is `sec + nsec * 1e-9` in double precision (CPython's
/// `fill_time`); computing it the same way gives bit-identical floats.
pub(crate) fn python_time(sec: i64, nsec: i64) -> f64 {
    sec as f64 + nsec as f64 * 1e-9
}

/// Scans the cache at `root`. Errors only when the root itself is missing or unreadable;
/// everything below it that is damaged becomes a warning.
pub fn scan_cache_dir(root: &Path) -> Result<CacheReport, ScanError> {
    let root = match fs::canonicalize(root) {
        Ok(root) => root,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(ScanError::NotFound(root.to_path_buf()));
        }
        Err(source) => return Err(ScanError::Unreadable { path: root.to_path_buf(), source }),
    };
    if !root.is_dir() {
        return Err(ScanError::NotADirectory(root));
    }
    let entries = fs::read_dir(&root)
        .map_err(|source| ScanError::Unreadable { path: root.clone(), source })?;
    let store = SharedStore::open(&root);
    let mut folders = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| ScanError::Unreadable { path: root.clone(), source })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let skipped = FILES_TO_IGNORE.contains(&name.as_str())
            || name == ".locks"
            || name == "CACHEDIR.TAG"
            || (name == super::shared_store::DIR_NAME && store.is_some());
        folders.push(Folder { name, is_repo: !skipped });
    }
    folders.sort_unstable_by(|a, b| a.name.cmp(&b.name));

    let mut repos = Vec::new();
    let mut warnings = Vec::new();
    let mut incomplete_bytes = 0;
    for scanned in scan_in_parallel(&root, &folders) {
        incomplete_bytes += scanned.incomplete.iter().map(|file| file.size_on_disk).sum::<u64>();
        match scanned.repo {
            Some(Ok(mut repo)) => {
                repo.incomplete_bytes =
                    scanned.incomplete.iter().map(|file| file.size_on_disk).sum();
                repo.incomplete_files = scanned.incomplete;
                repos.push(repo);
            }
            Some(Err(warning)) => warnings.push(warning),
            None => {}
        }
    }
    let size_on_disk = physical_size(&repos, store.as_ref());
    repos.sort_by(|a, b| (a.repo_type, &a.repo_id).cmp(&(b.repo_type, &b.repo_id)));
    warnings.sort();

    Ok(CacheReport { root, size_on_disk, incomplete_bytes, repos, warnings })
}

/// A top-level entry of the cache root.
struct Folder {
    name: String,
    /// False for the entries `huggingface_hub` skips (`.locks`, the shared blob store, ...),
    /// which are still searched for interrupted downloads, as Python does.
    is_repo: bool,
}

/// One top-level folder: the repo or its warning (`None` when it is not a repo candidate),
/// and the interrupted downloads in its `blobs/`.
struct Scanned {
    repo: Option<Result<CachedRepo, String>>,
    incomplete: Vec<IncompleteFile>,
}

/// `HFCacheInfo.size_on_disk`: every blob path of every listed repo once (a blob linked into
/// the shared store counts through its payload), plus every payload in the store.
fn physical_size(repos: &[CachedRepo], store: Option<&SharedStore>) -> u64 {
    // Blob paths are already normalized, so comparing their bytes is comparing the paths.
    let files = repos.iter().flat_map(|repo| &repo.revisions).flat_map(|revision| &revision.files);
    let mut sizes: HashMap<&[u8], u64, FxBuildHasher> =
        HashMap::with_capacity_and_hasher(files.clone().count(), FxBuildHasher);
    for file in files {
        sizes.entry(file.blob_path.as_os_str().as_bytes()).or_insert(file.size_on_disk);
    }
    let mut total = 0;
    for (path, size) in &sizes {
        if store.is_some_and(|store| store.target_of(Path::new(OsStr::from_bytes(path))).is_some())
        {
            continue;
        }
        total += size;
    }
    if let Some(store) = store {
        for (path, size) in store.payloads() {
            // A snapshot link straight to a payload has counted it already.
            if !sizes.contains_key(path.as_os_str().as_bytes()) {
                total += size;
            }
        }
    }
    total
}

/// Repos are independent, so they are scanned on all cores (each worker with its own listing
/// buffers); results keep the input order.
fn scan_in_parallel(root: &Path, folders: &[Folder]) -> Vec<Scanned> {
    let workers =
        std::thread::available_parallelism().map_or(1, |n| n.get()).min(folders.len()).max(1);
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Scanned>>> = Mutex::new((0..folders.len()).map(|_| None).collect());
    let work = || {
        let mut lister = Lister::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(folder) = folders.get(index) else { break };
            let path = root.join(&folder.name);
            let mut listing = BlobListing::read(&path, &mut lister);
            let incomplete = std::mem::take(&mut listing.incomplete);
            let repo = folder.is_repo.then(|| scan_repo(&path, listing, &mut lister));
            if let Ok(mut slots) = slots.lock() {
                slots[index] = Some(Scanned { repo, incomplete });
            }
        }
    };
    if workers == 1 {
        work();
    } else {
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(work);
            }
        });
    }
    slots.into_inner().unwrap_or_default().into_iter().flatten().collect()
}

/// `os.path.abspath` on an absolute path: drops `.`, resolves `..` lexically, never touches
/// the file system (so a symlinked blob keeps its own path, as in Python).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    normalize_slow(path)
}

/// `normalize(parent.join(target))` for a snapshot link: the usual `../../blobs/<etag>` is
/// handled on bytes, anything unusual by the general rule.
pub(crate) fn resolve_link(parent: &Path, target: &Path) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let bytes = target.as_os_str().as_bytes();
    let mut rest = bytes;
    let mut ups = 0;
    while let Some(after) = rest.strip_prefix(b"../") {
        rest = after;
        ups += 1;
    }
    let simple = !rest.is_empty()
        && !target.is_absolute()
        && !rest.split(|b| *b == b'/').any(|part| part.is_empty() || part == b"." || part == b"..");
    let parent_ok = parent.is_absolute() && !parent.as_os_str().as_bytes().ends_with(b"/");
    if !simple || !parent_ok {
        return normalize_slow(&parent.join(target));
    }
    let mut base = parent.as_os_str().as_bytes();
    for _ in 0..ups {
        match base.iter().rposition(|b| *b == b'/') {
            Some(0) | None => base = b"/",
            Some(i) => base = &base[..i],
        }
    }
    let mut out = Vec::with_capacity(base.len() + 1 + rest.len());
    out.extend_from_slice(base);
    if !out.ends_with(b"/") {
        out.push(b'/');
    }
    out.extend_from_slice(rest);
    PathBuf::from(OsString::from(std::ffi::OsStr::from_bytes(&out)))
}

fn normalize_slow(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_resolution_matches_the_general_rule() {
        for (parent, target) in [
            ("/c/m/snapshots/abc", "../../blobs/x"),
            ("/c/m/snapshots/abc/sub", "../../../blobs/x"),
            ("/c/m/snapshots/abc", "/abs/blob"),
            ("/c/m/snapshots/abc", "./x"),
            ("/c/m/snapshots/abc", "../../../../../../../x"),
            ("/c/m/snapshots/abc", "a//b"),
            ("/c", "../../y"),
        ] {
            let expected = normalize_slow(&Path::new(parent).join(target));
            assert_eq!(
                resolve_link(Path::new(parent), Path::new(target)),
                expected,
                "{parent} + {target}"
            );
        }
    }

    #[test]
    fn normalize_is_lexical_like_abspath() {
        assert_eq!(
            normalize(Path::new("/c/m/snapshots/abc/../../blobs/x")),
            PathBuf::from("/c/m/blobs/x")
        );
        assert_eq!(normalize(Path::new("/c/./m//blobs/x")), PathBuf::from("/c/m/blobs/x"));
        assert_eq!(normalize(Path::new("/../x")), PathBuf::from("/x"));
    }

    #[test]
    fn python_time_keeps_nanoseconds_as_cpython_does() {
        assert_eq!(
            python_time(1_700_000_000, 123_456_789),
            1_700_000_000f64 + 123_456_789f64 * 1e-9
        );
        assert_eq!(python_time(5, 0), 5.0);
    }
}
