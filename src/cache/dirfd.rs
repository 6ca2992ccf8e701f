//! Directory walking through open folder handles (`openat`, `readlinkat`, `fstatat`) rather than
//! full paths, with one reusable `getdents` buffer per worker. A scan is bound by the kernel:
//! one `readlink` per snapshot entry and one `stat` per blob are the minimum, so the code
//! around them must cost next to nothing: no path walk from `/` per entry (each lookup starts
//! from the folder already open), no allocation per directory entry, and one `getdents` that
//! returns a whole folder instead of several small ones.

use std::ffi::CStr;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::{AtFlags, FileType, Mode, OFlags, RawDir};

use super::scan::BlobStat;

const DIR_FLAGS: OFlags = OFlags::RDONLY.union(OFlags::DIRECTORY).union(OFlags::CLOEXEC);

/// Bytes of `getdents` buffer: a blob folder of 64-character names takes about 90 bytes per
/// entry, so this reads a few hundred entries per call (rustix's `Dir` starts at 768 bytes
/// and needed four calls for a 75-blob folder).
const LISTING_BUFFER: usize = 64 * 1024;

/// Opens the folder at `path`, following a symlink to it (as `Path.is_dir` and `glob` do).
pub(crate) fn open(path: &Path) -> io::Result<OwnedFd> {
    Ok(rustix::fs::open(path, DIR_FLAGS, Mode::empty())?)
}

/// Opens the subfolder `name` of `dir`; a symlink is followed only when `follow` is set.
pub(crate) fn open_at(dir: BorrowedFd<'_>, name: &CStr, follow: bool) -> io::Result<OwnedFd> {
    let flags = if follow { DIR_FLAGS } else { DIR_FLAGS | OFlags::NOFOLLOW };
    Ok(rustix::fs::openat(dir, name, flags, Mode::empty())?)
}

// The field types differ between architectures (`c_long` here, `i64` there).
#[allow(clippy::unnecessary_cast)]
pub(crate) fn stat_of(st: &rustix::fs::Stat) -> BlobStat {
    BlobStat::from_parts(
        st.st_size as u64,
        st.st_atime as i64,
        st.st_atime_nsec as i64,
        st.st_mtime as i64,
        st.st_mtime_nsec as i64,
    )
}

/// `lstat` of `name` in `dir`: its type and stat, the link itself when it is one.
pub(crate) fn lstat_at(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<(FileType, BlobStat)> {
    let st = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
    Ok((FileType::from_raw_mode(st.st_mode as _), stat_of(&st)))
}

/// `stat` of `name` in `dir`, following symlinks.
pub(crate) fn stat_at(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<(FileType, BlobStat)> {
    let st = rustix::fs::statat(dir, name, AtFlags::empty())?;
    Ok((FileType::from_raw_mode(st.st_mode as _), stat_of(&st)))
}

/// The per-worker buffers: the `getdents` buffer and a `readlink` buffer.
pub(crate) struct Lister {
    listing: Vec<MaybeUninit<u8>>,
    link: Vec<u8>,
}

impl Lister {
    pub(crate) fn new() -> Lister {
        Lister { listing: vec![MaybeUninit::uninit(); LISTING_BUFFER], link: vec![0; 4096] }
    }

    /// Calls `each(dir, name, type)` for every entry of the open folder `fd` but `.` and `..`,
    /// with `readlink` of the entry available through `link` when it is a symlink. The type
    /// is the one `getdents` reports, `Unknown` on file systems that do not fill it in.
    pub(crate) fn for_each(
        &mut self,
        fd: BorrowedFd<'_>,
        mut each: impl FnMut(&mut LinkReader<'_>, &CStr, FileType) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut reader = LinkReader { dir: fd, buf: &mut self.link };
        let mut dir = RawDir::new(fd, &mut self.listing);
        while let Some(entry) = dir.next() {
            let entry = entry?;
            let name = entry.file_name();
            if name == c"." || name == c".." {
                continue;
            }
            each(&mut reader, name, entry.file_type())?;
        }
        Ok(())
    }
}

/// Reads symlinks of one open folder into a reused buffer.
pub(crate) struct LinkReader<'a> {
    pub(crate) dir: BorrowedFd<'a>,
    buf: &'a mut Vec<u8>,
}

impl LinkReader<'_> {
    /// The target text of the symlink `name`, valid until the next call.
    pub(crate) fn read(&mut self, name: &CStr) -> io::Result<&[u8]> {
        let len = rustix::fs::readlinkat_raw(self.dir, name, &mut self.buf[..])?;
        if len < self.buf.len() {
            return Ok(&self.buf[..len]);
        }
        // The target may have been cut to the buffer: read it again, growing as needed.
        let target = rustix::fs::readlinkat(self.dir, name, Vec::new())?;
        *self.buf = target.into_bytes();
        let len = self.buf.len();
        // Keep room for the fast path next time.
        self.buf.resize(len.max(4096) + 1, 0);
        Ok(&self.buf[..len])
    }
}
