//! Content checks of blobs: an LFS file's ETag is the sha256 of its bytes (`X-Linked-Etag`,
//! `lfs.oid` in the tree), so a blob stored under that name must hash to it. Git files' ETags
//! are git blob ids, which `huggingface_hub` does not check either; they get the size check.

use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

/// Whether an ETag is a sha256 (64 lowercase hex digits, `REGEX_SHA256` of `file_download.py`).
pub fn is_sha256(etag: &str) -> bool {
    etag.len() == 64 && etag.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Feeds `hasher` with the first `len` bytes of `path` (the part an earlier attempt left).
pub fn hash_prefix(path: &Path, len: u64, hasher: &mut Sha256) -> io::Result<()> {
    let file = std::fs::File::open(path)?;
    let mut limited = file.take(len);
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = limited.read(&mut buffer)?;
        if n == 0 {
            return Ok(());
        }
        hasher.update(&buffer[..n]);
    }
}

/// The sha256 of a whole file, in hex. Blocking: call it from `spawn_blocking`.
pub fn sha256_of(path: &Path) -> io::Result<String> {
    let mut hasher = Sha256::new();
    hash_prefix(path, u64::MAX, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_the_known_digest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, b"abc").expect("write");
        // FIPS 180-2 test vector for "abc".
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_of(&path).expect("hash"), abc);
        assert!(is_sha256(abc));
        assert!(!is_sha256("a1b2c3-pointer") && !is_sha256(&abc.to_uppercase()));
        let mut hasher = Sha256::new();
        hash_prefix(&path, 2, &mut hasher).expect("prefix");
        hasher.update(b"c");
        assert_eq!(hex(&hasher.finalize()), abc);
    }
}
