//! The Hugging Face cache scanner over generated and damaged trees.

use super::*;

#[derive(Debug, Clone)]
struct GenRepo {
    /// Blob sizes (sparse files).
    blobs: Vec<u64>,
    /// Per revision: which blobs its snapshot links to.
    revisions: Vec<Vec<prop::sample::Index>>,
}

#[derive(Debug, Clone)]
enum Damage {
    None,
    DanglingLink,
    GarbageRef(String),
    FileForSnapshots,
    BadFolderName(String),
    EmptyRepo,
    IncompleteBlob(u64),
}

fn gen_repo() -> impl Strategy<Value = GenRepo> {
    (
        prop::collection::vec(0u64..5_000_000_000, 1..5),
        prop::collection::vec(prop::collection::vec(any::<prop::sample::Index>(), 1..4), 1..3),
    )
        .prop_map(|(blobs, revisions)| GenRepo { blobs, revisions })
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        4 => Just(Damage::None),
        1 => Just(Damage::DanglingLink),
        1 => "[ -~]{0,50}".prop_map(Damage::GarbageRef),
        1 => Just(Damage::FileForSnapshots),
        1 => "[a-z-]{1,12}".prop_map(Damage::BadFolderName),
        1 => Just(Damage::EmptyRepo),
        1 => (0u64..1_000_000).prop_map(Damage::IncompleteBlob),
    ]
}

/// Writes one repo in the standard layout; returns the bytes of its unique blobs.
fn write_repo(root: &Path, n: usize, repo: &GenRepo, damage: &Damage) -> u64 {
    let folder = match damage {
        Damage::BadFolderName(name) => name.clone(),
        _ => format!("models--org--model-{n}"),
    };
    let dir = root.join(&folder);
    fs::create_dir_all(dir.join("blobs")).unwrap();
    fs::create_dir_all(dir.join("refs")).unwrap();
    if matches!(damage, Damage::EmptyRepo) {
        return 0;
    }
    let etags: Vec<String> =
        (0..repo.blobs.len()).map(|b| format!("{:064x}", n * 1000 + b)).collect();
    for (etag, size) in etags.iter().zip(&repo.blobs) {
        fs::File::create(dir.join("blobs").join(etag)).unwrap().set_len(*size).unwrap();
    }
    if let Damage::IncompleteBlob(size) = damage {
        fs::File::create(dir.join("blobs").join(format!("{:064x}.incomplete", 7)))
            .unwrap()
            .set_len(*size)
            .unwrap();
    }
    if matches!(damage, Damage::FileForSnapshots) {
        fs::write(dir.join("snapshots"), b"not a folder").unwrap();
    }
    let mut used = std::collections::BTreeSet::new();
    for (r, files) in repo.revisions.iter().enumerate() {
        let commit = format!("{:040x}", n * 100 + r);
        if !matches!(damage, Damage::FileForSnapshots) {
            let snap = dir.join("snapshots").join(&commit);
            fs::create_dir_all(&snap).unwrap();
            for (f, pick) in files.iter().enumerate() {
                let b = pick.index(etags.len());
                used.insert(b);
                symlink(format!("../../blobs/{}", etags[b]), snap.join(format!("file-{f}.bin")))
                    .unwrap();
            }
            if matches!(damage, Damage::DanglingLink) && r == 0 {
                symlink("../../blobs/0000missing", snap.join("lost.bin")).unwrap();
            }
        }
        let reference = match damage {
            Damage::GarbageRef(text) if r == 0 => text.clone(),
            _ => commit,
        };
        fs::write(
            dir.join("refs").join(if r == 0 { "main".to_string() } else { format!("branch-{r}") }),
            reference,
        )
        .unwrap();
    }
    // A repo's size is its referenced blobs, as huggingface_hub counts it.
    used.iter().map(|&b| repo.blobs[b]).sum()
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn cache_scanner_totals_generated_trees_and_survives_damage(repos in prop::collection::vec((gen_repo(), damage()), 0..6)) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let mut clean_total = 0u64;
        let mut clean_repos = 0usize;
        for (n, (repo, damage)) in repos.iter().enumerate() {
            let bytes = write_repo(root, n, repo, damage);
            if matches!(damage, Damage::None | Damage::IncompleteBlob(_)) {
                clean_total += bytes;
                clean_repos += 1;
            }
        }
        fs::create_dir_all(root.join(".locks")).unwrap();
        fs::write(root.join("CACHEDIR.TAG"), "Signature: 8a477f597d28d172789f06886806bc55\n").unwrap();
        let report = timed("scan", || aimdeck::cache::scan_cache_dir(root)).expect("an existing folder scans");
        // Every intact repo is listed with all its blobs; every damaged one is either listed
        // or named in a warning, never silently dropped.
        prop_assert!(report.repos.len() >= clean_repos, "{} repos listed, {clean_repos} intact: {:?}", report.repos.len(), report.warnings);
        let listed_clean: u64 = report
            .repos
            .iter()
            .filter(|r| repos.iter().enumerate().any(|(n, (_, d))| matches!(d, Damage::None | Damage::IncompleteBlob(_)) && r.repo_id == format!("org/model-{n}")))
            .map(|r| r.size_on_disk)
            .sum();
        prop_assert_eq!(listed_clean, clean_total);
        let damaged = repos.iter().filter(|(_, d)| !matches!(d, Damage::None | Damage::IncompleteBlob(_))).count();
        prop_assert!(report.repos.len() + report.warnings.len() >= clean_repos + damaged,
            "damaged repos are reported: {:?}", report.warnings);
        for warning in &report.warnings {
            prop_assert!(!warning.trim().is_empty());
        }
    }
}

#[test]
fn cache_scanner_reports_a_missing_or_file_root_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let err = aimdeck::cache::scan_cache_dir(&missing).expect_err("missing root");
    assert!(
        err.to_string().contains("Cache directory not found") && err.to_string().contains("nope"),
        "{err}"
    );
    let file = tmp.path().join("file");
    fs::write(&file, "x").unwrap();
    let err = aimdeck::cache::scan_cache_dir(&file).expect_err("file root");
    assert!(err.to_string().contains("expects a directory"), "{err}");
}
