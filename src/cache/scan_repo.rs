//! `_scan_cached_repo` of `huggingface_hub`, for one repo folder: its refs, its revisions with
//! their files, and the blobs they point to; or the warning that makes Python skip the repo.
//!
//! The kernel work (one `readlink` per snapshot entry, one `stat` per blob) is the floor, so
//! the rest is kept to a handful of allocations per file: blobs are stat'ed once through the
//! open `blobs/` folder and found again by name, the usual `../../blobs/<etag>` link is
//! resolved on bytes, and blob use per revision is a stamp in a table, not a hash set of paths.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{CStr, OsStr, OsString};
use std::fs;
use std::os::fd::AsFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rustc_hash::FxBuildHasher;
use rustix::fs::FileType;

use crate::model::cache::{CachedFile, CachedRepo, CachedRevision, IncompleteFile, RepoType};

use super::dirfd::{self, Lister};
use super::folder_walk::{Walk, join_bytes, unreadable, walk, walk_path};
use super::pyfmt::repr_dict_of_sets;
use super::scan::{BlobStat, FILES_TO_IGNORE, python_time, resolve_link};

/// A blob as the repo's revisions use it.
#[derive(Clone, Copy)]
struct Slot {
    stat: BlobStat,
    /// The last revision (numbered from 1) that counted this blob; 0 when none did yet.
    revision: u32,
}

/// The regular files of a repo's `blobs/` folder, stat'ed once through the open folder (most
/// snapshot links point there), and its interrupted downloads.
pub(crate) struct BlobListing {
    dir: PathBuf,
    by_name: HashMap<Box<[u8]>, u32, FxBuildHasher>,
    slots: Vec<Slot>,
    /// `*.incomplete` entries with their size, sorted by path (`huggingface_hub` looks for
    /// them in every top-level folder, damaged repos included).
    pub(crate) incomplete: Vec<IncompleteFile>,
}

impl BlobListing {
    /// Lists `folder/blobs`; empty when it cannot be read.
    pub(crate) fn read(folder: &Path, lister: &mut Lister) -> BlobListing {
        let dir = folder.join("blobs");
        let mut listing = BlobListing {
            dir,
            by_name: HashMap::default(),
            slots: Vec::new(),
            incomplete: Vec::new(),
        };
        let Ok(fd) = dirfd::open(&listing.dir) else { return listing };
        let _ = lister.for_each(fd.as_fd(), |_, name, kind| {
            let mut stat = None;
            if matches!(kind, FileType::RegularFile | FileType::Unknown)
                && let Ok((FileType::RegularFile, st)) = dirfd::lstat_at(fd.as_fd(), name)
            {
                listing.by_name.insert(name.to_bytes().into(), listing.slots.len() as u32);
                listing.slots.push(Slot { stat: st, revision: 0 });
                stat = Some(st);
            }
            if name.to_bytes().ends_with(b".incomplete") {
                let path = listing.dir.join(OsStr::from_bytes(name.to_bytes()));
                // Python's `stat()` follows links, and counts whatever it finds.
                let size = match stat {
                    Some(st) => Some(st.size),
                    None => fs::metadata(&path).ok().map(|meta| meta.size()),
                };
                if let Some(size_on_disk) = size {
                    listing.incomplete.push(IncompleteFile { file_path: path, size_on_disk });
                }
            }
            Ok(())
        });
        listing.incomplete.sort_by(|a, b| a.file_path.cmp(&b.file_path));
        listing
    }

    /// The slot of `blobs/<name>` when it is a regular file listed there.
    fn listed(&self, name: &[u8]) -> Option<u32> {
        self.by_name.get(name).copied()
    }
}

/// Where a snapshot entry's blob is, and its stat.
enum Blob {
    Slot(u32),
    /// The link points to a folder: `huggingface_hub` skips the entry.
    Folder,
}

/// The blobs a repo's revisions use: those listed in `blobs/`, and any other path a link
/// resolves to (or a plain file in a snapshot), stat'ed on first use.
struct Blobs {
    listing: BlobListing,
    others: HashMap<Vec<u8>, u32, FxBuildHasher>,
    /// The repo folder's path bytes followed by `/blobs/`.
    blobs_prefix: Vec<u8>,
}

impl Blobs {
    /// `path` (a blob path, absolute and normalized) as a slot, stat'ing it when it is new.
    fn by_path(&mut self, path: &[u8]) -> Result<Blob, String> {
        if let Some(name) = path.strip_prefix(self.blobs_prefix.as_slice())
            && !name.contains(&b'/')
            && let Some(slot) = self.listing.listed(name)
        {
            return Ok(Blob::Slot(slot));
        }
        if let Some(slot) = self.others.get(path) {
            return Ok(Blob::Slot(*slot));
        }
        let shown = Path::new(OsStr::from_bytes(path));
        match fs::metadata(shown) {
            // `is_dir()` follows the link: a link to a folder is skipped.
            Ok(meta) if meta.is_dir() => Ok(Blob::Folder),
            Ok(meta) => Ok(Blob::Slot(self.insert(path, BlobStat::of(&meta)))),
            Err(_) => Err(format!("Blob missing (broken symlink): {}", shown.display())),
        }
    }

    fn insert(&mut self, path: &[u8], stat: BlobStat) -> u32 {
        let slot = self.listing.slots.len() as u32;
        self.listing.slots.push(Slot { stat, revision: 0 });
        self.others.insert(path.to_vec(), slot);
        slot
    }

    fn stat(&self, slot: u32) -> BlobStat {
        self.listing.slots[slot as usize].stat
    }
}

/// `<depth + 2 times ../>blobs/<name>`: the link `huggingface_hub` writes, pointing from a
/// snapshot entry `depth` folders below its revision to the repo's `blobs/`. Its name.
fn usual_link_name(target: &[u8], depth: usize) -> Option<&[u8]> {
    let mut rest = target;
    for _ in 0..depth + 2 {
        rest = rest.strip_prefix(b"../")?;
    }
    let name = rest.strip_prefix(b"blobs/")?;
    (!name.is_empty() && name != b"." && name != b".." && !name.contains(&b'/')).then_some(name)
}

/// `_scan_cached_repo`: one repo folder with its blob listing, or the warning that makes
/// Python skip it.
pub(crate) fn scan_repo(
    repo_path: &Path,
    listing: BlobListing,
    lister: &mut Lister,
) -> Result<CachedRepo, String> {
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
        return Err(format!(
            "Snapshots dir doesn't exist in cached repo: {}",
            snapshots_path.display()
        ));
    }
    let mut refs_by_hash = read_refs(&refs_path, lister)?;

    let mut blobs_prefix = repo_path.as_os_str().as_bytes().to_vec();
    blobs_prefix.extend_from_slice(b"/blobs/");
    let mut blobs = Blobs { listing, others: HashMap::default(), blobs_prefix };
    let mut revisions = Vec::new();
    let snapshots = dirfd::open(&snapshots_path).map_err(|err| unreadable(&snapshots_path, err))?;
    let mut commits = Vec::new();
    lister
        .for_each(snapshots.as_fd(), |_, name, kind| {
            commits.push((name.to_owned(), kind));
            Ok(())
        })
        .map_err(|err| unreadable(&snapshots_path, err))?;
    for (number, (name, kind)) in commits.into_iter().enumerate() {
        let commit_hash = name.to_string_lossy().into_owned();
        if FILES_TO_IGNORE.contains(&commit_hash.as_str()) {
            continue;
        }
        let revision_path = join_bytes(&snapshots_path, name.to_bytes());
        let walked = match open_revision(snapshots.as_fd(), &name, kind) {
            Revision::File => {
                return Err(format!(
                    "Snapshots folder corrupted. Found a file: {}",
                    revision_path.display()
                ));
            }
            Revision::Dir(fd) => {
                walk(fd.map_err(|err| unreadable(&revision_path, err))?, &revision_path, lister)?
            }
            Revision::Neither => Walk { entries: Vec::new(), targets: Vec::new() },
        };
        let revision =
            scan_revision(&mut blobs, walked, revision_path, commit_hash, number as u32 + 1)?;
        revisions.push(revision);
    }
    for revision in &mut revisions {
        let mut refs = refs_by_hash.remove(&revision.commit_hash).unwrap_or_default();
        refs.sort_unstable();
        revision.refs = refs;
    }

    if !refs_by_hash.is_empty() {
        let missing = repr_dict_of_sets(
            refs_by_hash
                .iter()
                .map(|(hash, refs)| (hash.as_str(), refs.iter().map(String::as_str).collect())),
        );
        return Err(format!("Reference(s) refer to missing commit hashes: {missing} ({shown})."));
    }

    // Only the blobs some revision counted (the listing also holds unreferenced ones).
    let used = blobs.listing.slots.iter().filter(|slot| slot.revision > 0);
    let (mut size_on_disk, mut nb_files, mut last_accessed, mut last_modified) =
        (0, 0, f64::MIN, f64::MIN);
    for slot in used {
        size_on_disk += slot.stat.size;
        nb_files += 1;
        last_accessed = last_accessed.max(slot.stat.atime);
        last_modified = last_modified.max(slot.stat.mtime);
    }
    if nb_files == 0 {
        let meta = fs::metadata(repo_path).map_err(|err| format!("Cannot read {shown}: {err}"))?;
        (last_accessed, last_modified) = (
            python_time(meta.atime(), meta.atime_nsec()),
            python_time(meta.mtime(), meta.mtime_nsec()),
        );
    }
    revisions.sort_by(|a, b| {
        b.last_modified.total_cmp(&a.last_modified).then_with(|| a.commit_hash.cmp(&b.commit_hash))
    });
    Ok(CachedRepo {
        repo_id,
        repo_type,
        repo_path: repo_path.to_path_buf(),
        size_on_disk,
        nb_files,
        last_modified,
        last_accessed,
        incomplete_bytes: 0,
        revisions,
        incomplete_files: Vec::new(),
    })
}

/// Commit hash (the ref file's exact text) -> ref names, like Python's `refs_by_hash`.
fn read_refs(
    refs_path: &Path,
    lister: &mut Lister,
) -> Result<BTreeMap<String, Vec<String>>, String> {
    let mut refs_by_hash: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if !refs_path.exists() {
        return Ok(refs_by_hash);
    }
    if refs_path.is_file() {
        return Err(format!("Refs directory cannot be a file: {}", refs_path.display()));
    }
    for entry in walk_path(refs_path, lister)?.entries {
        let relative = String::from_utf8_lossy(&entry.relative).into_owned();
        if FILES_TO_IGNORE.contains(&relative.rsplit('/').next().unwrap_or_default()) {
            continue;
        }
        let path = join_bytes(refs_path, &entry.relative);
        let text = fs::read_to_string(&path)
            .map_err(|err| format!("Cannot read ref {}: {err}", path.display()))?;
        // Python reads refs in text mode, which turns `\r\n` and `\r` into `\n`.
        let commit_hash = text.replace("\r\n", "\n").replace('\r', "\n");
        refs_by_hash.entry(commit_hash).or_default().push(relative);
    }
    Ok(refs_by_hash)
}

/// A snapshot entry as `is_file()` / `is_dir()` (following links) see it.
enum Revision {
    File,
    Dir(std::io::Result<std::os::fd::OwnedFd>),
    Neither,
}

fn open_revision(snapshots: std::os::fd::BorrowedFd<'_>, name: &CStr, kind: FileType) -> Revision {
    let kind = match kind {
        FileType::Directory | FileType::RegularFile => kind,
        // A symlink (or an unknown type): what it leads to decides.
        _ => match dirfd::stat_at(snapshots, name) {
            Ok((kind, _)) => kind,
            Err(_) => return Revision::Neither,
        },
    };
    match kind {
        FileType::RegularFile => Revision::File,
        FileType::Directory => Revision::Dir(dirfd::open_at(snapshots, name, true)),
        _ => Revision::Neither,
    }
}

/// One revision's files from its walk, each blob counted once in the revision's size.
fn scan_revision(
    blobs: &mut Blobs,
    walked: Walk,
    revision_path: PathBuf,
    commit_hash: String,
    number: u32,
) -> Result<CachedRevision, String> {
    let mut files = Vec::with_capacity(walked.entries.len());
    let mut size_on_disk = 0;
    let parent_is_plain =
        revision_path.is_absolute() && !revision_path.as_os_str().as_bytes().ends_with(b"/");
    for file in walked.entries {
        let file_path = join_bytes(&revision_path, &file.relative);
        let (blob_path, slot) = match file.link {
            None => {
                let path = file_path.as_os_str().as_bytes();
                let slot = match blobs.others.get(path) {
                    Some(slot) => *slot,
                    None => blobs.insert(path, file.stat),
                };
                (file_path.clone(), slot)
            }
            Some((start, end)) => {
                let target = &walked.targets[start..end];
                let usual = usual_link_name(target, file.depth).filter(|_| parent_is_plain);
                let listed =
                    usual.and_then(|name| blobs.listing.listed(name).map(|slot| (name, slot)));
                match listed {
                    Some((name, slot)) => {
                        let mut path = Vec::with_capacity(blobs.blobs_prefix.len() + name.len());
                        path.extend_from_slice(&blobs.blobs_prefix);
                        path.extend_from_slice(name);
                        (PathBuf::from(OsString::from_vec(path)), slot)
                    }
                    None => {
                        let parent = file_path.parent().unwrap_or(&revision_path);
                        let blob_path = resolve_link(parent, Path::new(OsStr::from_bytes(target)));
                        match blobs.by_path(blob_path.as_os_str().as_bytes())? {
                            Blob::Folder => continue,
                            Blob::Slot(slot) => (blob_path, slot),
                        }
                    }
                }
            }
        };
        let stat = blobs.stat(slot);
        let entry = &mut blobs.listing.slots[slot as usize];
        if entry.revision != number {
            entry.revision = number;
            size_on_disk += stat.size;
        }
        let relative_path = String::from_utf8(file.relative)
            .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned());
        files.push(CachedFile {
            file_name: relative_path.rsplit('/').next().unwrap_or(&relative_path).to_string(),
            relative_path,
            file_path,
            blob_path,
            size_on_disk: stat.size,
            blob_last_accessed: stat.atime,
            blob_last_modified: stat.mtime,
        });
    }
    let last_modified = if files.is_empty() {
        let meta = fs::metadata(&revision_path).map_err(|err| unreadable(&revision_path, err))?;
        python_time(meta.mtime(), meta.mtime_nsec())
    } else {
        files.iter().map(|f| f.blob_last_modified).fold(f64::MIN, f64::max)
    };
    files.sort_by(|a, b| a.relative_path.cmp(&b.relative_path));
    Ok(CachedRevision {
        commit_hash,
        refs: Vec::new(),
        size_on_disk,
        nb_files: files.len() as u64,
        last_modified,
        snapshot_path: revision_path,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_link_is_recognised_at_its_depth_only() {
        assert_eq!(usual_link_name(b"../../blobs/abc", 0), Some(&b"abc"[..]));
        assert_eq!(usual_link_name(b"../../../blobs/abc", 1), Some(&b"abc"[..]));
        assert_eq!(usual_link_name(b"../../../blobs/abc", 0), None, "one level too far up");
        assert_eq!(usual_link_name(b"../../blobs/a/b", 0), None);
        assert_eq!(usual_link_name(b"../../blobs/..", 0), None);
        assert_eq!(usual_link_name(b"/abs/blobs/abc", 0), None);
    }
}
