//! Builds Hugging Face cache trees on disk for the cache tests and the benchmark, in the layout
//! `huggingface_hub` writes (`models--org--name/{blobs,snapshots,refs}`, relative symlinks).
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

/// A blob of `size` bytes. Sparse (no data written) so big trees cost no disk; sizes are what
/// the scanners read.
pub fn blob(repo: &Path, etag: &str, size: u64) -> PathBuf {
    let path = repo.join("blobs").join(etag);
    fs::create_dir_all(path.parent().expect("blobs dir")).expect("mkdir blobs");
    let file = fs::File::create(&path).expect("create blob");
    file.set_len(size).expect("size blob");
    path
}

/// A blob with real content (for tests that read files back).
pub fn blob_with(repo: &Path, etag: &str, content: &[u8]) -> PathBuf {
    let path = repo.join("blobs").join(etag);
    fs::create_dir_all(path.parent().expect("blobs dir")).expect("mkdir blobs");
    fs::write(&path, content).expect("write blob");
    path
}

/// `snapshots/<commit>/<file>` -> `../../blobs/<etag>` (one more `..` per folder in `file`).
pub fn link(repo: &Path, commit: &str, file: &str, etag: &str) {
    let pointer = repo.join("snapshots").join(commit).join(file);
    fs::create_dir_all(pointer.parent().expect("parent")).expect("mkdir snapshot");
    let depth = file.matches('/').count() + 2;
    let target = format!("{}blobs/{etag}", "../".repeat(depth));
    std::os::unix::fs::symlink(target, pointer).expect("symlink");
}

pub fn write_ref(repo: &Path, name: &str, commit: &str) {
    let path = repo.join("refs").join(name);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir refs");
    fs::write(path, commit).expect("write ref");
}

pub fn commit(n: u32) -> String {
    format!("{n:040x}")
}

pub fn etag(n: u32) -> String {
    format!("{n:064x}")
}

pub const LLAMA: &str = "models--acme--llama-mini";
pub const LLAMA_MAIN: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
pub const LLAMA_PR: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// The cache of the "done when": shared blobs across revisions, a nested ref
/// (`refs/pr/1`), an interrupted download, a broken symlink, a ref to a missing snapshot,
/// every repo type, and the entries `huggingface_hub` skips or warns about.
pub fn build_demo(root: &Path) {
    let llama = root.join(LLAMA);
    blob(&llama, "e1", 700);
    blob(&llama, "e2", 5_000_000);
    blob(&llama, "e3", 2_100);
    blob(&llama, "e4", 4_500_000);
    link(&llama, LLAMA_MAIN, "config.json", "e1");
    link(&llama, LLAMA_MAIN, "model.safetensors", "e2");
    link(&llama, LLAMA_MAIN, "tokenizer.json", "e3");
    link(&llama, LLAMA_PR, "config.json", "e1");
    link(&llama, LLAMA_PR, "model.safetensors", "e4");
    link(&llama, LLAMA_PR, "docs/nested/tokenizer.json", "e3");
    write_ref(&llama, "main", LLAMA_MAIN);
    write_ref(&llama, "refs/pr/1", LLAMA_PR);
    fs::write(llama.join("blobs").join("e5.incomplete"), vec![7u8; 1234]).expect("incomplete");

    let dataset = root.join("datasets--acme--eval-set");
    blob(&dataset, "d1", 123_456);
    blob(&dataset, "d2", 42);
    link(&dataset, &commit(1), "data/train.parquet", "d1");
    link(&dataset, &commit(1), "README.md", "d2");
    // A file copied into the snapshot instead of linked (Windows, no-symlink file systems).
    fs::write(dataset.join("snapshots").join(commit(1)).join("copied.txt"), vec![1u8; 333])
        .expect("copied");
    write_ref(&dataset, "main", &commit(1));

    let space = root.join("spaces--acme--demo");
    fs::create_dir_all(space.join("snapshots").join(commit(2))).expect("empty snapshot");
    write_ref(&space, "main", &commit(2));

    let broken = root.join("models--acme--broken");
    blob(&broken, "b1", 10);
    link(&broken, &commit(3), "ok.json", "b1");
    link(&broken, &commit(3), "model.bin", "missing-blob");
    write_ref(&broken, "main", &commit(3));

    let dangling = root.join("models--acme--dangling-ref");
    blob(&dangling, "g1", 99);
    link(&dangling, &commit(4), "config.json", "g1");
    write_ref(&dangling, "main", &commit(4));
    write_ref(&dangling, "refs/pr/7", &commit(5));
    fs::write(dangling.join("blobs").join("g2.incomplete"), vec![0u8; 4321]).expect("incomplete");

    // What the scanners skip or warn about.
    fs::create_dir_all(root.join(".locks").join(LLAMA)).expect("locks");
    fs::write(root.join("CACHEDIR.TAG"), "Signature: 8a477f597d28d172789f06886806bc55\n")
        .expect("tag");
    fs::write(root.join("version.txt"), "1").expect("version");
    fs::create_dir_all(root.join("not-a-repo")).expect("stray dir");
    fs::create_dir_all(root.join("buckets--acme--b").join("snapshots")).expect("unknown type");
    fs::create_dir_all(root.join("models--acme--no-snapshots").join("blobs"))
        .expect("no snapshots");
}

/// A cache of `repos` repos with `files_per_revision` files in each of two revisions; half the
/// files are shared between the revisions, so each repo has `files_per_revision * 1.5` blobs
/// and `2 * files_per_revision` snapshot entries. Every fourth repo's second revision is a
/// PR (`refs/pr/N`), every tenth has an interrupted download, and one in ten is a dataset.
pub fn build_generated(root: &Path, repos: u32, files_per_revision: u32) {
    for r in 0..repos {
        let kind = if r % 10 == 9 { "datasets" } else { "models" };
        let repo = root.join(format!("{kind}--org{}--repo-{r}", r % 7));
        let main = commit(r * 2 + 1);
        let old = commit(r * 2 + 2);
        for f in 0..files_per_revision {
            let shared = f % 2 == 0;
            let e_new = etag(r * 100_000 + f * 2 + 1);
            let size = 1_000 + u64::from((r * 7919 + f * 104_729) % 5_000_000);
            blob(&repo, &e_new, size);
            let name = if f % 5 == 0 {
                format!("shards/part-{f:05}.safetensors")
            } else {
                format!("file-{f:05}.json")
            };
            link(&repo, &main, &name, &e_new);
            if shared {
                link(&repo, &old, &name, &e_new);
            } else {
                let e_old = etag(r * 100_000 + f * 2 + 2);
                blob(&repo, &e_old, size / 2 + 17);
                link(&repo, &old, &name, &e_old);
            }
        }
        write_ref(&repo, "main", &main);
        if r % 4 == 0 {
            write_ref(&repo, &format!("refs/pr/{}", r + 1), &old);
        }
        if r % 10 == 3 {
            fs::write(
                repo.join("blobs").join(format!("{}.incomplete", etag(999_000 + r))),
                vec![3u8; 2048],
            )
            .expect("incomplete");
        }
    }
}

/// A cache with `huggingface_hub`'s cache-wide shared blob store (`<root>/blobs/`, marked by
/// `.huggingface-shared-blobs`): two repos whose blobs link to the same store payload, and a
/// payload no repo references any more.
pub fn build_shared_store(root: &Path) {
    let store = root.join("blobs");
    fs::create_dir_all(&store).expect("store");
    fs::write(store.join(".huggingface-shared-blobs"), "1\n").expect("marker");
    let shared = format!("ab{}", "1".repeat(62));
    let orphan = format!("cd{}", "2".repeat(62));
    for (hash, size) in [(&shared, 8_000_000u64), (&orphan, 3_000u64)] {
        let dir = store.join(&hash[..2]);
        fs::create_dir_all(&dir).expect("prefix dir");
        fs::File::create(dir.join(hash)).expect("payload").set_len(size).expect("size");
    }
    for (n, name) in [(1u32, "models--acme--xet-a"), (2, "models--acme--xet-b")] {
        let repo = root.join(name);
        fs::create_dir_all(repo.join("blobs")).expect("blobs");
        let etag = etag(500 + n);
        std::os::unix::fs::symlink(
            format!("../../blobs/ab/{shared}"),
            repo.join("blobs").join(&etag),
        )
        .expect("link");
        blob(&repo, "small", 100 + u64::from(n));
        link(&repo, &commit(600 + n), "model.safetensors", &etag);
        link(&repo, &commit(600 + n), "config.json", "small");
        write_ref(&repo, "main", &commit(600 + n));
    }
}

/// Snapshot entries off the usual `../../blobs/<etag>` path, each resolved as
/// `huggingface_hub` does (the first hop made absolute): a symlinked revision folder, a link to
/// a folder (skipped), an absolute link, a link into another repo's blobs, a link that climbs
/// out of the repo and back in, a `./` hop, a named pipe, and interrupted downloads that are a
/// folder and a dangling link.
pub fn build_unusual_links(root: &Path) {
    use std::os::unix::fs::symlink;
    let repo = root.join("models--acme--odd-links");
    let other = root.join("datasets--acme--other");
    blob(&repo, "o1", 700);
    blob(&repo, "o2", 5_000);
    blob(&repo, "o3", 2_100);
    blob(&other, "x1", 123_456);
    link(&other, &commit(20), "data.parquet", "x1");
    write_ref(&other, "main", &commit(20));
    link(&repo, &commit(10), "config.json", "o1");
    write_ref(&repo, "main", &commit(10));
    symlink(commit(10), repo.join("snapshots").join(commit(11))).expect("symlinked revision");
    let odd = repo.join("snapshots").join(commit(12));
    fs::create_dir_all(odd.join("sub/deeper")).expect("odd revision");
    symlink("../../../blobs", odd.join("sub/to-folder")).expect("link to a folder");
    symlink(repo.join("blobs/o1"), odd.join("absolute.json")).expect("absolute link");
    symlink("../../../datasets--acme--other/blobs/x1", odd.join("foreign.parquet"))
        .expect("foreign link");
    symlink("../../../../models--acme--odd-links/blobs/o2", odd.join("sub/round-trip.bin"))
        .expect("round trip");
    symlink("./../../../../blobs/o3", odd.join("sub/deeper/dot.json")).expect("dot hop");
    symlink("../../../blobs/o1", odd.join("sub/one-deeper.json")).expect("nested usual link");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        odd.join("pipe").as_path(),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .expect("fifo");
    write_ref(&repo, "dev", &commit(12));
    fs::create_dir_all(other.join("blobs").join("folder.incomplete"))
        .expect("folder named .incomplete");
    symlink("../../blobs/nothing", repo.join("blobs").join("dangling.incomplete"))
        .expect("dangling incomplete");
}
