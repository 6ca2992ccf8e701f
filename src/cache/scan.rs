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

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::model::cache::{CacheReport, CachedFile, CachedRepo, CachedRevision, IncompleteFile, RepoType};

use super::dirfd;
use super::pyfmt::repr_dict_of_sets;
use super::shared_store::SharedStore;

/// OS helper files `huggingface_hub` skips (`FILES_TO_IGNORE`).
const FILES_TO_IGNORE: [&str; 3] = [".DS_Store", "Thumbs.db", "desktop.ini"];

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(
        "Cache directory not found: {0}. Please use `--cache-dir` or set the `HF_HUB_CACHE` environment variable."
    )]
    NotFound(PathBuf),
    #[error("Scan cache expects a directory but found a file: {0}. Please use `--cache-dir` or set `HF_HUB_CACHE`.")]
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
    fn of(meta: &fs::Metadata) -> BlobStat {
        BlobStat::from_parts(meta.size(), meta.atime(), meta.atime_nsec(), meta.mtime(), meta.mtime_nsec())
    }

    pub(crate) fn from_parts(size: u64, atime: i64, atime_nsec: i64, mtime: i64, mtime_nsec: i64) -> BlobStat {
        BlobStat { size, atime: python_time(atime, atime_nsec), mtime: python_time(mtime, mtime_nsec) }
    }
}

/// `os.stat_result.st_mtime` is `sec + nsec * 1e-9` in double precision (CPython's
/// `fill_time`); computing it the same way gives bit-identical floats.
fn python_time(sec: i64, nsec: i64) -> f64 {
    sec as f64 + nsec as f64 * 1e-9
}

/// Scans the cache at `root`. Errors only when the root itself is missing or unreadable;
/// everything below it that is damaged becomes a warning.
pub fn scan_cache_dir(root: &Path) -> Result<CacheReport, ScanError> {
    let root = match fs::canonicalize(root) {
        Ok(root) => root,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Err(ScanError::NotFound(root.to_path_buf())),
        Err(source) => return Err(ScanError::Unreadable { path: root.to_path_buf(), source }),
    };
    if !root.is_dir() {
        return Err(ScanError::NotADirectory(root));
    }
    let entries = fs::read_dir(&root).map_err(|source| ScanError::Unreadable { path: root.clone(), source })?;
    let store = SharedStore::open(&root);
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| ScanError::Unreadable { path: root.clone(), source })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if FILES_TO_IGNORE.contains(&name.as_str()) || name == ".locks" || name == "CACHEDIR.TAG" {
            continue;
        }
        if name == super::shared_store::DIR_NAME && store.is_some() {
            continue;
        }
        names.push(name);
    }
    names.sort_unstable();

    let results = scan_in_parallel(&root, &names);

    let mut repos = Vec::new();
    let mut warnings = Vec::new();
    let mut physical: HashMap<OsString, u64> = HashMap::new();
    for result in results {
        match result {
            Ok((repo, blob_sizes)) => {
                for (path, size) in blob_sizes {
                    if store.as_ref().is_some_and(|store| store.target_of(Path::new(&path)).is_some()) {
                        continue;
                    }
                    physical.insert(path, size);
                }
                repos.push(repo);
            }
            Err(warning) => warnings.push(warning),
        }
    }
    if let Some(store) = &store {
        for (path, size) in store.payloads() {
            physical.insert(path.into_os_string(), size);
        }
    }

    let incomplete = incomplete_files(&root);
    let incomplete_bytes = incomplete.values().flatten().map(|file| file.size_on_disk).sum();
    for repo in &mut repos {
        let folder = repo.repo_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if let Some(files) = incomplete.get(&folder) {
            repo.incomplete_bytes = files.iter().map(|f| f.size_on_disk).sum();
            repo.incomplete_files = files.clone();
        }
    }
    repos.sort_by(|a, b| (a.repo_type, &a.repo_id).cmp(&(b.repo_type, &b.repo_id)));
    warnings.sort();

    Ok(CacheReport { root, size_on_disk: physical.values().sum(), incomplete_bytes, repos, warnings })
}

/// A repo, with the size of each blob it uses keyed by the blob's path. Keys are `OsString`
/// rather than `PathBuf`: `Path` hashes component by component, which showed in profiles, and
/// these paths are already normalized, so comparing bytes is the same comparison.
type RepoResult = Result<(CachedRepo, HashMap<OsString, u64>), String>;

/// Repos are independent, so they are scanned on all cores; results keep the input order.
fn scan_in_parallel(root: &Path, names: &[String]) -> Vec<RepoResult> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(names.len()).max(1);
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<RepoResult>>> = Mutex::new((0..names.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(name) = names.get(index) else { break };
                    let result = scan_repo(&root.join(name));
                    if let Ok(mut slots) = slots.lock() {
                        slots[index] = Some(result);
                    }
                }
            });
        }
    });
    slots.into_inner().unwrap_or_default().into_iter().flatten().collect()
}

/// `_scan_cached_repo`: one repo folder, or the warning that makes Python skip it.
pub(crate) fn scan_repo(repo_path: &Path) -> RepoResult {
    let shown = repo_path.display();
    if !repo_path.is_dir() {
        return Err(format!("Repo path is not a directory: {shown}"));
    }
    let name = repo_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let Some((prefix, rest)) = name.split_once("--") else {
        return Err(format!("Repo path is not a valid HuggingFace cache directory: {shown}"));
    };
    let repo_id = rest.replace("--", "/");
    let Some(repo_type) = RepoType::from_plural(prefix) else {
        return Err(format!(
            "Repo type must be one of ['datasets', 'kernels', 'models', 'spaces'], found `{prefix}` ({shown})."
        ));
    };

    let snapshots_path = repo_path.join("snapshots");
    let refs_path = repo_path.join("refs");
    if !snapshots_path.is_dir() {
        return Err(format!("Snapshots dir doesn't exist in cached repo: {}", snapshots_path.display()));
    }

    // Commit hash (the ref file's exact text) -> ref names, like Python's `refs_by_hash`.
    let mut refs_by_hash: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if refs_path.exists() {
        if refs_path.is_file() {
            return Err(format!("Refs directory cannot be a file: {}", refs_path.display()));
        }
        for entry in walk(&refs_path)? {
            if FILES_TO_IGNORE.contains(&entry.name()) {
                continue;
            }
            let text = fs::read_to_string(&entry.path)
                .map_err(|err| format!("Cannot read ref {}: {err}", entry.path.display()))?;
            // Python reads refs in text mode, which turns `\r\n` and `\r` into `\n`.
            let commit_hash = text.replace("\r\n", "\n").replace('\r', "\n");
            refs_by_hash.entry(commit_hash).or_default().push(entry.relative);
        }
    }

    let mut blob_stats: HashMap<OsString, BlobStat> = HashMap::new();
    let blob_listing = BlobListing::read(&repo_path.join("blobs"));
    let mut revisions = Vec::new();
    let snapshot_entries =
        fs::read_dir(&snapshots_path).map_err(|err| format!("Cannot read {}: {err}", snapshots_path.display()))?;
    for entry in snapshot_entries {
        let entry = entry.map_err(|err| format!("Cannot read {}: {err}", snapshots_path.display()))?;
        let commit_hash = entry.file_name().to_string_lossy().into_owned();
        if FILES_TO_IGNORE.contains(&commit_hash.as_str()) {
            continue;
        }
        let revision_path = entry.path();
        if revision_path.is_file() {
            return Err(format!("Snapshots folder corrupted. Found a file: {}", revision_path.display()));
        }
        let mut files = Vec::new();
        let mut revision_blobs: HashMap<&OsStr, u64> = HashMap::new();
        let walked = if revision_path.is_dir() { walk(&revision_path)? } else { Vec::new() };
        for file in walked {
            let (blob_path, stat) = match &file.link {
                None => (file.path.clone(), file.stat),
                Some(target) => {
                    let blob_path = resolve_link(file.path.parent().unwrap_or(repo_path), target);
                    let stat = match blob_stats.get(blob_path.as_os_str()) {
                        Some(stat) => *stat,
                        None => match blob_listing.stat(&blob_path) {
                            // `is_dir()` follows the link: a link to a folder is skipped.
                            Some(Target::Dir) => continue,
                            Some(Target::File(stat)) => {
                                blob_stats.insert(blob_path.as_os_str().to_os_string(), stat);
                                stat
                            }
                            None => return Err(format!("Blob missing (broken symlink): {}", blob_path.display())),
                        },
                    };
                    (blob_path, stat)
                }
            };
            if file.link.is_none() {
                blob_stats.entry(blob_path.as_os_str().to_os_string()).or_insert(stat);
            }
            files.push(CachedFile {
                file_name: file.name().to_string(),
                relative_path: file.relative,
                file_path: file.path,
                blob_path,
                size_on_disk: stat.size,
                blob_last_accessed: stat.atime,
                blob_last_modified: stat.mtime,
            });
        }
        for file in &files {
            revision_blobs.insert(file.blob_path.as_os_str(), file.size_on_disk);
        }
        let last_modified = if files.is_empty() {
            let meta = fs::metadata(&revision_path)
                .map_err(|err| format!("Cannot read {}: {err}", revision_path.display()))?;
            python_time(meta.mtime(), meta.mtime_nsec())
        } else {
            files.iter().map(|f| f.blob_last_modified).fold(f64::MIN, f64::max)
        };
        let size_on_disk = revision_blobs.values().sum();
        let mut refs = refs_by_hash.remove(&commit_hash).unwrap_or_default();
        refs.sort_unstable();
        files.sort_by(|a, b| a.relative_path.cmp(&b.relative_path));
        revisions.push(CachedRevision {
            commit_hash,
            refs,
            size_on_disk,
            nb_files: files.len() as u64,
            last_modified,
            snapshot_path: revision_path,
            files,
        });
    }

    if !refs_by_hash.is_empty() {
        let missing = repr_dict_of_sets(
            refs_by_hash.iter().map(|(hash, refs)| (hash.as_str(), refs.iter().map(String::as_str).collect())),
        );
        return Err(format!("Reference(s) refer to missing commit hashes: {missing} ({shown})."));
    }

    let (last_accessed, last_modified) = if blob_stats.is_empty() {
        let meta = fs::metadata(repo_path).map_err(|err| format!("Cannot read {shown}: {err}"))?;
        (python_time(meta.atime(), meta.atime_nsec()), python_time(meta.mtime(), meta.mtime_nsec()))
    } else {
        let atime = blob_stats.values().map(|s| s.atime).fold(f64::MIN, f64::max);
        let mtime = blob_stats.values().map(|s| s.mtime).fold(f64::MIN, f64::max);
        (atime, mtime)
    };
    revisions.sort_by(|a, b| {
        b.last_modified.total_cmp(&a.last_modified).then_with(|| a.commit_hash.cmp(&b.commit_hash))
    });
    let blob_sizes: HashMap<OsString, u64> = blob_stats.into_iter().map(|(path, stat)| (path, stat.size)).collect();
    let repo = CachedRepo {
        repo_id,
        repo_type,
        repo_path: repo_path.to_path_buf(),
        size_on_disk: blob_sizes.values().sum(),
        nb_files: blob_sizes.len() as u64,
        last_modified,
        last_accessed,
        incomplete_bytes: 0,
        revisions,
        incomplete_files: Vec::new(),
    };
    Ok((repo, blob_sizes))
}

/// A non-directory entry found by `walk`.
struct Walked {
    path: PathBuf,
    /// Relative to the walk's root, `/`-separated.
    relative: String,
    /// A symlink's target text (resolved by the caller, who skips links to folders).
    link: Option<PathBuf>,
    /// The entry's own stat (meaningful when it is not a symlink).
    stat: BlobStat,
}

impl Walked {
    fn name(&self) -> &str {
        self.relative.rsplit('/').next().unwrap_or(&self.relative)
    }
}

/// `Path.glob("**/*")` minus directories: every entry below `dir`, hidden ones included,
/// descending into real directories only (pathlib's `**` does not follow symlinks).
fn walk(dir: &Path) -> Result<Vec<Walked>, String> {
    let unreadable = |path: &Path, err: std::io::Error| format!("Cannot read {}: {err}", path.display());
    let mut out = Vec::new();
    let fd = dirfd::open(dir).map_err(|err| unreadable(dir, err))?;
    let mut pending = vec![(fd, dir.to_path_buf(), String::new())];
    while let Some((fd, current, prefix)) = pending.pop() {
        for (name, entry) in dirfd::entries(fd, &current).map_err(|err| unreadable(&current, err))? {
            let name = name.to_string_lossy();
            let relative = if prefix.is_empty() { name.into_owned() } else { format!("{prefix}/{name}") };
            match entry {
                dirfd::Entry::Dir(path, sub) => pending.push((sub, path, relative)),
                dirfd::Entry::Symlink(path, target) => {
                    out.push(Walked { path, relative, link: Some(target), stat: BlobStat::default() });
                }
                dirfd::Entry::Other(path, stat) => out.push(Walked { path, relative, link: None, stat }),
            }
        }
    }
    Ok(out)
}

/// What a snapshot symlink points to, as `is_dir()` / `stat()` see it (following links).
enum Target {
    Dir,
    File(BlobStat),
}

/// The regular files of a repo's `blobs/` folder, stat'ed once through the open folder: most
/// snapshot links point there, and this saves a full-path `stat` per blob.
struct BlobListing {
    dir: PathBuf,
    files: HashMap<std::ffi::OsString, BlobStat>,
}

impl BlobListing {
    fn read(dir: &Path) -> BlobListing {
        BlobListing { dir: dir.to_path_buf(), files: dirfd::regular_files(dir).into_iter().collect() }
    }

    fn stat(&self, path: &Path) -> Option<Target> {
        use std::os::unix::ffi::OsStrExt;
        // Byte comparison: both sides are normalized, and `Path` equality walks components.
        let name = path.as_os_str().as_bytes().strip_prefix(self.dir.as_os_str().as_bytes()).and_then(|r| r.strip_prefix(b"/"));
        if let Some(name) = name
            && !name.contains(&b'/')
            && let Some(stat) = self.files.get(OsStr::from_bytes(name))
        {
            return Some(Target::File(*stat));
        }
        let meta = fs::metadata(path).ok()?;
        Some(if meta.is_dir() { Target::Dir } else { Target::File(BlobStat::of(&meta)) })
    }
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

/// `*/blobs/*.incomplete` below the root, grouped by the top-level folder they are in.
fn incomplete_files(root: &Path) -> HashMap<String, Vec<IncompleteFile>> {
    let mut found: HashMap<String, Vec<IncompleteFile>> = HashMap::new();
    let Ok(entries) = fs::read_dir(root) else { return found };
    for entry in entries.flatten() {
        let folder = entry.file_name().to_string_lossy().into_owned();
        let Ok(blobs) = fs::read_dir(entry.path().join("blobs")) else { continue };
        let mut files: Vec<IncompleteFile> = blobs
            .flatten()
            .filter(|blob| blob.file_name().to_string_lossy().ends_with(".incomplete"))
            .filter_map(|blob| {
                let meta = fs::metadata(blob.path()).ok()?;
                Some(IncompleteFile { file_path: blob.path(), size_on_disk: meta.size() })
            })
            .collect();
        if !files.is_empty() {
            files.sort_by(|a, b| a.file_path.cmp(&b.file_path));
            found.insert(folder, files);
        }
    }
    found
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
            assert_eq!(resolve_link(Path::new(parent), Path::new(target)), expected, "{parent} + {target}");
        }
    }

    #[test]
    fn normalize_is_lexical_like_abspath() {
        assert_eq!(normalize(Path::new("/c/m/snapshots/abc/../../blobs/x")), PathBuf::from("/c/m/blobs/x"));
        assert_eq!(normalize(Path::new("/c/./m//blobs/x")), PathBuf::from("/c/m/blobs/x"));
        assert_eq!(normalize(Path::new("/../x")), PathBuf::from("/x"));
    }

    #[test]
    fn python_time_keeps_nanoseconds_as_cpython_does() {
        assert_eq!(python_time(1_700_000_000, 123_456_789), 1_700_000_000f64 + 123_456_789f64 * 1e-9);
        assert_eq!(python_time(5, 0), 5.0);
    }
}
