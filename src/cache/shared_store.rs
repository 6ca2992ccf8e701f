//! The cache-wide shared blob store of recent `huggingface_hub` (`<root>/blobs/`, marked by a
//! `.huggingface-shared-blobs` file holding `1\n`; `huggingface_hub/utils/_shared_blobs.py`).
//! Repo blobs may be symlinks to `<root>/blobs/<xx>/<xet hash>`; the cache total counts each
//! payload once, through the store, and also counts payloads no repo references any more.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::model::cache::RepoType;

pub const DIR_NAME: &str = "blobs";
const MARKER_NAME: &str = ".huggingface-shared-blobs";
const LAYOUT_VERSION: &str = "1\n";

pub struct SharedStore {
    root: PathBuf,
    dir: PathBuf,
}

fn is_xet_hash(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_regular_file(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_file())
}

impl SharedStore {
    /// The store of `root` if it exists and carries the supported marker.
    pub fn open(root: &Path) -> Option<SharedStore> {
        let dir = root.join(DIR_NAME);
        let is_dir = fs::symlink_metadata(&dir).is_ok_and(|meta| meta.file_type().is_dir());
        let marker = dir.join(MARKER_NAME);
        if !is_dir || !is_regular_file(&marker) {
            return None;
        }
        let text = fs::read_to_string(&marker).ok()?;
        (text == LAYOUT_VERSION).then(|| SharedStore { root: root.to_path_buf(), dir })
    }

    /// The store payload a repo blob (`<root>/<repo folder>/blobs/<name>`) links to, if it is
    /// a managed shared symlink to an existing payload (`shared_blob_target`).
    pub fn target_of(&self, blob_path: &Path) -> Option<PathBuf> {
        let relative = blob_path.strip_prefix(&self.root).ok()?;
        let parts: Vec<&str> = relative.iter().map(|p| p.to_str()).collect::<Option<_>>()?;
        let [folder, blobs, name] = parts.as_slice() else { return None };
        let (prefix, rest) = folder.split_once("--")?;
        if RepoType::from_plural(prefix).is_none()
            || rest.is_empty()
            || *blobs != "blobs"
            || name.is_empty()
        {
            return None;
        }
        if !fs::symlink_metadata(blob_path).ok()?.file_type().is_symlink() {
            return None;
        }
        let link = fs::read_link(blob_path).ok()?;
        let target = super::scan::normalize(&blob_path.parent()?.join(link));
        let inside: Vec<&str> = target
            .strip_prefix(&self.dir)
            .ok()?
            .iter()
            .map(|p| p.to_str())
            .collect::<Option<_>>()?;
        let [xx, hash] = inside.as_slice() else { return None };
        if !is_xet_hash(hash) || !hash.starts_with(xx) || xx.len() != 2 {
            return None;
        }
        let payload = self.dir.join(xx).join(hash);
        is_regular_file(&payload).then_some(payload)
    }

    /// Every valid payload in the store with its size (`shared_store_blob_paths`).
    pub fn payloads(&self) -> Vec<(PathBuf, u64)> {
        let mut out = Vec::new();
        let Ok(prefixes) = fs::read_dir(&self.dir) else { return out };
        for prefix in prefixes.flatten() {
            let prefix_name = prefix.file_name().to_string_lossy().into_owned();
            let hex2 = prefix_name.len() == 2
                && prefix_name.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
            if !hex2 || !prefix.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let Ok(entries) = fs::read_dir(prefix.path()) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if is_xet_hash(&name)
                    && name.starts_with(&prefix_name)
                    && entry.file_type().is_ok_and(|t| t.is_file())
                    && let Ok(meta) = fs::metadata(entry.path())
                {
                    out.push((entry.path(), meta.size()));
                }
            }
        }
        out
    }
}
