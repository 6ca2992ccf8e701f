//! Property tests (issue 9, item 2) for every reader of outside data: the recipe reader, the
//! `/metrics` parser, the nvidia-smi CSV and `topo -m`, amd-smi and rocm-smi JSON readers, the
//! KFD sysfs reader over generated trees, and the Hugging Face cache scanner over generated
//! trees. Each reader gets arbitrary text and mutations of the recorded fixtures under
//! `tests/fixtures/` (the seed corpus); it must not panic, must finish (inputs are bounded in
//! size, and each call is checked against a generous time limit), and must say what was wrong.
//!
//! `cargo fuzz` needs a nightly toolchain, which this project does not use; proptest runs on
//! stable within `cargo test`. Case counts are small so the whole file stays well under 60 s on
//! 2 cores in release mode; raise them with `PROPTEST_CASES=N` for a longer run.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::{Duration, Instant};

use aimdeck::hardware::amd_smi::{self, AmdSmiOutputs};
use aimdeck::hardware::{kfd, nvidia, nvidia_topo, rocm_smi};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// No reader may take this long on inputs of a few KB: a hang, not a slow machine.
const HANG: Duration = Duration::from_secs(5);

fn fixture(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn builtin_recipes() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes");
    let mut all: Vec<(String, String)> = fs::read_dir(&dir)
        .expect("recipes dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| (p.display().to_string(), fs::read_to_string(&p).expect("recipe")))
        .collect();
    all.sort();
    all
}

/// `cases` per test, or `PROPTEST_CASES` when set (for a longer run by hand). Failures are not
/// persisted to files: proptest prints the minimal failing input instead.
fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(cases);
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// One edit of a seed text: the kinds of damage files get (cut short, a byte range lost or
/// duplicated, a stray character, a line replaced with noise).
#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Delete(usize, usize),
    Insert(usize, String),
    Duplicate(usize, usize),
    ReplaceLine(usize, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let noise = prop_oneof![
        "[ -~]{0,12}",
        "[:{}\\[\\],\"#\t -]{1,4}",
        Just("\u{0}".to_string()),
        Just("é€\u{feff}".to_string()),
        Just("NaN".to_string()),
        Just("-1".to_string()),
        Just("99999999999999999999999".to_string()),
    ];
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..40).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), noise.clone()).prop_map(|(a, s)| Mutation::Insert(a, s)),
        (any::<usize>(), 1usize..80).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
        (any::<usize>(), noise).prop_map(|(a, s)| Mutation::ReplaceLine(a, s)),
    ]
}

/// Nearest char boundary at or below `i`.
fn floor(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut text = text.to_string();
    for m in mutations {
        let len = text.len().max(1);
        match m {
            Mutation::Truncate(a) => text.truncate(floor(&text, a % len)),
            Mutation::Delete(a, n) => {
                let start = floor(&text, a % len);
                let end = floor(&text, start + n);
                text.replace_range(start..end, "");
            }
            Mutation::Insert(a, s) => {
                let at = floor(&text, a % len);
                text.insert_str(at, s);
            }
            Mutation::Duplicate(a, n) => {
                let start = floor(&text, a % len);
                let end = floor(&text, start + n);
                let piece = text[start..end].to_string();
                text.insert_str(end, &piece);
            }
            Mutation::ReplaceLine(a, s) => {
                let mut lines: Vec<&str> = text.split('\n').collect();
                let i = a % lines.len();
                lines[i] = s;
                text = lines.join("\n");
            }
        }
    }
    text
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    assert!(start.elapsed() < HANG, "{what} took {:?}", start.elapsed());
    out
}

mod gpu_tools;
mod hf_cache;
mod kfd_sysfs;
mod metrics;
mod recipes;
