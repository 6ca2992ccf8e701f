//! Directory walking through open folder handles (`openat`, `readlinkat`, `fstatat`) rather than
//! full paths: a scan makes one `readlink` per snapshot entry and one `stat` per blob, and
//! resolving each of them from the folder already open, instead of walking the whole path
//! again, is most of what makes the scan fast.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags};

use super::scan::BlobStat;

const DIR_FLAGS: OFlags = OFlags::RDONLY.union(OFlags::DIRECTORY).union(OFlags::CLOEXEC);

/// An entry of an open folder.
pub(crate) enum Entry {
    Dir(PathBuf, OwnedFd),
    /// The link's own target text, unresolved.
    Symlink(PathBuf, PathBuf),
    /// Anything else, with its own (not followed) stat.
    Other(PathBuf, BlobStat),
}

pub(crate) fn open(path: &Path) -> std::io::Result<OwnedFd> {
    Ok(rustix::fs::open(path, DIR_FLAGS, Mode::empty())?)
}

// The field types differ between architectures (`c_long` here, `i64` there).
#[allow(clippy::unnecessary_cast)]
fn stat_of(st: &rustix::fs::Stat) -> BlobStat {
    BlobStat::from_parts(st.st_size as u64, st.st_atime as i64, st.st_atime_nsec as i64, st.st_mtime as i64, st.st_mtime_nsec as i64)
}

/// The entries of the open folder `fd` at `path` (without `.` and `..`), each with what the
/// caller needs next; subfolders come back open, not followed when they are symlinks.
pub(crate) fn entries(fd: OwnedFd, path: &Path) -> std::io::Result<Vec<(OsString, Entry)>> {
    // `Dir::new` takes the handle over (no second `open` of "."); it is borrowed back for the
    // `*at` calls once the names are read.
    let mut dir = Dir::new(fd)?;
    let names: Vec<(CString, FileType)> = dir
        .by_ref()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name();
            (name != c"." && name != c"..").then(|| (name.to_owned(), entry.file_type()))
        })
        .collect();
    let fd = dir.fd()?;
    let mut out = Vec::with_capacity(names.len());
    for (name, mut kind) in names {
        let os_name = OsStr::from_bytes(name.to_bytes()).to_os_string();
        let child = path.join(&os_name);
        let mut own_stat = None;
        if kind == FileType::Unknown {
            // Some file systems do not fill d_type.
            let st = rustix::fs::statat(fd, name.as_c_str(), AtFlags::SYMLINK_NOFOLLOW)?;
            kind = FileType::from_raw_mode(st.st_mode as _);
            own_stat = Some(stat_of(&st));
        }
        let entry = match kind {
            FileType::Directory => Entry::Dir(child, rustix::fs::openat(fd, name.as_c_str(), DIR_FLAGS | OFlags::NOFOLLOW, Mode::empty())?),
            FileType::Symlink => {
                let target = rustix::fs::readlinkat(fd, name.as_c_str(), Vec::new())?;
                Entry::Symlink(child, PathBuf::from(OsString::from_vec(target.into_bytes())))
            }
            _ => {
                let stat = match own_stat {
                    Some(stat) => stat,
                    None => stat_of(&rustix::fs::statat(fd, name.as_c_str(), AtFlags::SYMLINK_NOFOLLOW)?),
                };
                Entry::Other(child, stat)
            }
        };
        out.push((os_name, entry));
    }
    Ok(out)
}

/// The regular files of the folder at `path` with their stats; empty when it cannot be read.
pub(crate) fn regular_files(path: &Path) -> Vec<(OsString, BlobStat)> {
    let Ok(fd) = open(path) else { return Vec::new() };
    let Ok(mut dir) = Dir::new(fd) else { return Vec::new() };
    let names: Vec<CString> = dir
        .by_ref()
        .filter_map(|entry| entry.ok())
        .filter(|entry| matches!(entry.file_type(), FileType::RegularFile | FileType::Unknown))
        .map(|entry| entry.file_name().to_owned())
        .collect();
    let Ok(fd) = dir.fd() else { return Vec::new() };
    names
        .iter()
        .filter_map(|name: &CString| {
            let st = rustix::fs::statat(fd, name.as_c_str() as &CStr, AtFlags::SYMLINK_NOFOLLOW).ok()?;
            (FileType::from_raw_mode(st.st_mode as _) == FileType::RegularFile)
                .then(|| (OsStr::from_bytes(name.to_bytes()).to_os_string(), stat_of(&st)))
        })
        .collect()
}
