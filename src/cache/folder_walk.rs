//! Everything below a snapshot or refs folder, as `Path.glob("**/*")` lists it minus the
//! folders: relative paths as bytes, symlink targets read once into one buffer.

use std::ffi::OsString;
use std::os::fd::AsFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use rustix::fs::FileType;

use super::dirfd::{self, Lister};
use super::scan::BlobStat;

/// An entry found by `walk`: anything but a folder.
pub(super) struct Walked {
    /// Relative to the walk's root, `/`-separated.
    pub(super) relative: Vec<u8>,
    /// Folders between the walk's root and the entry.
    pub(super) depth: usize,
    /// A symlink's target, as a range in `Walk::targets`; `None` for other entries.
    pub(super) link: Option<(usize, usize)>,
    /// The entry's own stat when it is not a symlink.
    pub(super) stat: BlobStat,
}

/// Everything below a folder, as `Path.glob("**/*")` minus folders.
pub(super) struct Walk {
    pub(super) entries: Vec<Walked>,
    pub(super) targets: Vec<u8>,
}

pub(super) fn unreadable(path: &Path, err: impl std::fmt::Display) -> String {
    format!("Cannot read {}: {err}", path.display())
}

pub(super) fn join_bytes(base: &Path, relative: &[u8]) -> PathBuf {
    let base = base.as_os_str().as_bytes();
    let mut bytes = Vec::with_capacity(base.len() + 1 + relative.len());
    bytes.extend_from_slice(base);
    if !relative.is_empty() {
        bytes.push(b'/');
        bytes.extend_from_slice(relative);
    }
    PathBuf::from(OsString::from_vec(bytes))
}

/// Every entry below the open folder `fd` (at `dir`), hidden ones included, descending into
/// real folders only (pathlib's `**` does not follow symlinks). Folders are walked last in,
/// first out, each one's entries in the order the file system lists them.
pub(super) fn walk(
    fd: std::os::fd::OwnedFd,
    dir: &Path,
    lister: &mut Lister,
) -> Result<Walk, String> {
    let mut walk = Walk { entries: Vec::new(), targets: Vec::new() };
    let mut pending = vec![(fd, Vec::<u8>::new(), 0usize)];
    while let Some((fd, prefix, depth)) = pending.pop() {
        let listed = lister.for_each(fd.as_fd(), |links, name, mut kind| {
            let mut relative = Vec::with_capacity(prefix.len() + 1 + name.to_bytes().len());
            if !prefix.is_empty() {
                relative.extend_from_slice(&prefix);
                relative.push(b'/');
            }
            relative.extend_from_slice(name.to_bytes());
            let mut stat = None;
            if kind == FileType::Unknown {
                // Some file systems do not fill in the type.
                let (own_kind, own_stat) = dirfd::lstat_at(links.dir, name)?;
                kind = own_kind;
                stat = Some(own_stat);
            }
            match kind {
                FileType::Directory => {
                    pending.push((dirfd::open_at(links.dir, name, false)?, relative, depth + 1))
                }
                FileType::Symlink => {
                    let target = links.read(name)?;
                    let start = walk.targets.len();
                    walk.targets.extend_from_slice(target);
                    walk.entries.push(Walked {
                        relative,
                        depth,
                        link: Some((start, walk.targets.len())),
                        stat: BlobStat::default(),
                    });
                }
                _ => {
                    let stat = match stat {
                        Some(stat) => stat,
                        None => dirfd::lstat_at(links.dir, name)?.1,
                    };
                    walk.entries.push(Walked { relative, depth, link: None, stat });
                }
            }
            Ok(())
        });
        listed.map_err(|err| unreadable(&join_bytes(dir, &prefix), err))?;
    }
    Ok(walk)
}

/// Opens and walks the folder at `path` (following a symlink to it).
pub(super) fn walk_path(path: &Path, lister: &mut Lister) -> Result<Walk, String> {
    let fd = dirfd::open(path).map_err(|err| unreadable(path, err))?;
    walk(fd, path, lister)
}
