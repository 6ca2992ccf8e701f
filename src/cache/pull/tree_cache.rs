//! `trees/<commit>.json`: the commit's file list, written as `huggingface_hub` 2.4.0 writes it
//! (`_tree_cache.py` `write_tree_cache`, called by `snapshot_download` right after it lists the
//! tree). The real client reads it (`_raise_if_incomplete_snapshot`) to refuse a snapshot folder
//! that lacks files when it cannot reach the Hub, so a pull stopped half way is seen as
//! incomplete rather than as a smaller model.
//!
//! The text is byte for byte `json.dump(data, f, indent=1)`: keys in insertion order, files
//! sorted by path, `ensure_ascii` escapes, no trailing newline. An entry whose Xet hash is not
//! 64 hex digits makes Python skip the write; so does this.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use super::hub::TreeFile;

/// `TREE_CACHE_FORMAT_VERSION`.
pub const FORMAT_VERSION: u64 = 1;

pub fn path(repo_dir: &Path, commit: &str) -> PathBuf {
    repo_dir.join("trees").join(format!("{commit}.json"))
}

fn is_valid_xet_hash(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A JSON string as Python's `json` writes it with `ensure_ascii=True`.
fn py_json_str(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(ch),
            other => {
                let mut units = [0u16; 2];
                for unit in other.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// The file's text, or `None` when Python would not write one (an invalid Xet hash).
pub fn render(files: &[TreeFile]) -> Option<String> {
    if files.iter().any(|f| f.xet_hash.as_deref().is_some_and(|h| !is_valid_xet_hash(h))) {
        return None;
    }
    let mut sorted: Vec<&TreeFile> = files.iter().collect();
    // Python's `sorted(str)` orders by code point, which is UTF-8 byte order.
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    sorted.dedup_by(|a, b| a.path == b.path);
    let mut out = format!("{{\n \"format_version\": {FORMAT_VERSION},\n \"files\": ");
    if sorted.is_empty() {
        out.push_str("{}");
    } else {
        out.push_str("{\n");
        for (i, file) in sorted.iter().enumerate() {
            out.push_str("  ");
            py_json_str(&mut out, &file.path);
            let _ = write!(out, ": {{\n   \"size\": {},\n   \"blob_id\": ", file.size);
            py_json_str(&mut out, &file.oid);
            if let Some(lfs) = &file.lfs {
                out.push_str(",\n   \"lfs_sha256\": ");
                py_json_str(&mut out, &lfs.sha256);
                let _ = write!(out, ",\n   \"lfs_size\": {}", lfs.size);
            }
            if let Some(xet) = &file.xet_hash {
                out.push_str(",\n   \"xet_hash\": ");
                py_json_str(&mut out, xet);
            }
            out.push_str("\n  }");
            out.push_str(if i + 1 < sorted.len() { ",\n" } else { "\n" });
        }
        out.push_str(" }");
    }
    out.push_str("\n}");
    Some(out)
}

/// Writes `trees/<commit>.json` atomically (a temporary file renamed into place) unless it
/// already holds the same text.
pub fn write(repo_dir: &Path, commit: &str, files: &[TreeFile]) -> io::Result<()> {
    let Some(text) = render(files) else { return Ok(()) };
    let path = path(repo_dir, commit);
    if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    let dir = path.parent().ok_or_else(|| io::Error::other("tree cache without a folder"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("tmp{:08x}.tmp", fastrand::u32(..)));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::pull::hub::TreeLfs;

    fn file(path: &str, lfs: bool) -> TreeFile {
        TreeFile {
            path: path.into(),
            size: 12,
            oid: "a".repeat(40),
            lfs: lfs.then(|| TreeLfs { sha256: "b".repeat(64), size: 12 }),
            xet_hash: None,
        }
    }

    #[test]
    fn renders_like_python_json_dump_with_indent_1() {
        let text =
            render(&[file("z.bin", true), file("caf\u{e9}/a\"b.json", false)]).expect("valid");
        let expected = format!(
            "{{\n \"format_version\": 1,\n \"files\": {{\n  \"caf\\u00e9/a\\\"b.json\": {{\n   \"size\": 12,\n   \"blob_id\": \"{a}\"\n  }},\n  \"z.bin\": {{\n   \"size\": 12,\n   \"blob_id\": \"{a}\",\n   \"lfs_sha256\": \"{b}\",\n   \"lfs_size\": 12\n  }}\n }}\n}}",
            a = "a".repeat(40),
            b = "b".repeat(64)
        );
        assert_eq!(text, expected);
        assert_eq!(render(&[]).expect("empty"), "{\n \"format_version\": 1,\n \"files\": {}\n}");
        let mut bad = file("x", true);
        bad.xet_hash = Some("short".into());
        assert_eq!(render(&[bad]), None);
    }
}
