//! Where a pull writes, in the standard cache layout that vLLM, SGLang and `hf` read:
//! `blobs/<etag>` (and `<etag>.incomplete` while downloading), `snapshots/<commit>/<file>` as a
//! relative symlink to the blob, `refs/<revision>` holding the commit hash.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

pub struct RepoLayout {
    pub repo_dir: PathBuf,
}

impl RepoLayout {
    pub fn blob(&self, etag: &str) -> PathBuf {
        self.repo_dir.join("blobs").join(etag)
    }

    pub fn incomplete(&self, etag: &str) -> PathBuf {
        self.repo_dir.join("blobs").join(format!("{etag}.incomplete"))
    }

    /// `None` when the Hub's file name would escape the snapshot folder.
    pub fn pointer(&self, commit: &str, file: &str) -> Option<PathBuf> {
        let relative = Path::new(file);
        let safe = relative.components().all(|c| matches!(c, Component::Normal(_)));
        safe.then(|| self.repo_dir.join("snapshots").join(commit).join(relative))
    }

    /// Points `snapshots/<commit>/<file>` at the blob with a relative link, as `_create_symlink`.
    pub fn link(&self, pointer: &Path, blob: &Path) -> io::Result<()> {
        let parent =
            pointer.parent().ok_or_else(|| io::Error::other("snapshot entry without a folder"))?;
        fs::create_dir_all(parent)?;
        let depth =
            parent.strip_prefix(&self.repo_dir).map_err(io::Error::other)?.components().count();
        let blob_name = blob.file_name().ok_or_else(|| io::Error::other("blob without a name"))?;
        let mut target = PathBuf::new();
        for _ in 0..depth {
            target.push("..");
        }
        target.push("blobs");
        target.push(blob_name);
        match fs::symlink_metadata(pointer) {
            Ok(_) => fs::remove_file(pointer)?,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
        std::os::unix::fs::symlink(target, pointer)
    }

    /// Writes `refs/<revision>` atomically when it is a branch or tag name, not the commit itself.
    pub fn write_ref(&self, revision: &str, commit: &str) -> io::Result<()> {
        if revision == commit {
            return Ok(());
        }
        let path = self.repo_dir.join("refs").join(revision);
        if !Path::new(revision).components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(io::Error::other(format!("unsafe revision name `{revision}`")));
        }
        if fs::read_to_string(&path).is_ok_and(|text| text == commit) {
            return Ok(());
        }
        let parent = path.parent().ok_or_else(|| io::Error::other("ref without a folder"))?;
        fs::create_dir_all(parent)?;
        let tmp = parent.join(format!(
            ".{}.{}.tmp",
            path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
            fastrand::u32(..)
        ));
        fs::write(&tmp, commit)?;
        fs::rename(tmp, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_files_link_back_to_the_blobs_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = RepoLayout { repo_dir: dir.path().join("models--o--n") };
        let blob = layout.blob("e1");
        fs::create_dir_all(blob.parent().expect("parent")).expect("mkdir");
        fs::write(&blob, b"x").expect("write");
        let pointer = layout.pointer("c0", "sub/dir/f.bin").expect("safe");
        layout.link(&pointer, &blob).expect("link");
        assert_eq!(
            fs::read_link(&pointer).expect("readlink"),
            PathBuf::from("../../../../blobs/e1")
        );
        assert_eq!(fs::read(&pointer).expect("read through link"), b"x");
        assert!(layout.pointer("c0", "../escape").is_none());
    }
}
