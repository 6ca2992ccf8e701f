//! Scan speed on a generated cache of 200 repos and 20,000 snapshot entries (15,000 blobs),
//! side by side with `huggingface_hub.scan_cache_dir` (same process kind of measure: the scan
//! alone, import excluded) and with `hf cache ls` (whole commands) when Python has it.
//! Run: `cargo bench --bench cache`. Prints a table; the figures go in docs/performance.md.
//! Walls are shown as best of N (the run the busy machine disturbed least, for both programs)
//! and median; a "syscall floor" row shows what the kernel work alone costs.
//! Wall time depends on how busy the machine is; CPU time (user + system, all threads) is the
//! steadier measure of work, so both are shown.

#[path = "../tests/support/cache_tree.rs"]
mod cache_tree;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 10;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// CPU seconds (user + system) this process has used, from `/proc/self/stat` (100 Hz ticks).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<f64> =
        after_name.split_whitespace().map(|f| f.parse().unwrap_or(0.0)).collect();
    // Fields 14 and 15 of the file (utime, stime) are 12 and 13 after the name.
    (fields.get(11).copied().unwrap_or(0.0) + fields.get(12).copied().unwrap_or(0.0)) / 100.0
}

struct PythonScan {
    wall: f64,
    best: f64,
    cpu: f64,
    size_on_disk: u64,
    repos: usize,
    nb_files: u64,
}

fn python_scan(root: &Path) -> Option<PythonScan> {
    let script = format!(
        "import sys,time\nfrom huggingface_hub import scan_cache_dir\nscan_cache_dir(sys.argv[1])\nws=[]\nc0=time.process_time()\nfor _ in range({RUNS}):\n    t=time.perf_counter(); info=scan_cache_dir(sys.argv[1]); ws.append(time.perf_counter()-t)\ncpu=(time.process_time()-c0)/{RUNS}\nws.sort()\nprint(ws[len(ws)//2], ws[0], cpu, info.size_on_disk, len(info.repos), sum(r.nb_files for r in info.repos))"
    );
    let output = Command::new("python3").args(["-c", &script]).arg(root).output().ok()?;
    if !output.status.success() {
        eprintln!(
            "python: {}",
            String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or_default()
        );
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let parts: Vec<&str> = text.split_whitespace().collect();
    Some(PythonScan {
        wall: parts.first()?.parse().ok()?,
        best: parts.get(1)?.parse().ok()?,
        cpu: parts.get(2)?.parse().ok()?,
        size_on_disk: parts.get(3)?.parse().ok()?,
        repos: parts.get(4)?.parse().ok()?,
        nb_files: parts.get(5)?.parse().ok()?,
    })
}

/// The kernel work any scan must do, and nothing else: open every folder, list it, `readlink`
/// every symlink, `lstat` every other file, on one thread. What a scan costs above this is
/// its own overhead.
fn syscall_floor(dir: std::os::fd::OwnedFd, counts: &mut [u64; 3]) {
    use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags};
    let Ok(mut listing) = Dir::new(dir) else { return };
    let mut names = Vec::new();
    while let Some(Ok(entry)) = listing.read() {
        if entry.file_name() != c"." && entry.file_name() != c".." {
            names.push((entry.file_name().to_owned(), entry.file_type()));
        }
    }
    let Ok(fd) = listing.fd() else { return };
    for (name, kind) in names {
        match kind {
            FileType::Directory => {
                counts[0] += 1;
                let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
                if let Ok(sub) = rustix::fs::openat(fd, name.as_c_str(), flags, Mode::empty()) {
                    syscall_floor(sub, counts);
                }
            }
            FileType::Symlink => {
                counts[1] += 1;
                let _ = rustix::fs::readlinkat(fd, name.as_c_str(), Vec::new());
            }
            _ => {
                counts[2] += 1;
                let _ = rustix::fs::statat(fd, name.as_c_str(), AtFlags::SYMLINK_NOFOLLOW);
            }
        }
    }
}

/// Median wall time of a whole command, `runs` times.
fn time_command(program: &str, args: &[&str], runs: usize) -> Option<Duration> {
    let mut samples = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let status = Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        if !status.success() {
            return None;
        }
        samples.push(started.elapsed().as_secs_f64());
    }
    Some(Duration::from_secs_f64(median(samples)))
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    cache_tree::build_generated(dir.path(), 200, 50);
    println!(
        "generated 200 repos / 20,000 snapshot entries / 15,000 blobs in {:.1?}",
        started.elapsed()
    );
    if std::env::var_os("AIMDECK_BENCH_ONLY_GENERATE").is_some() {
        // Keep the tree, to time `aimdeck cache ls` and `hf cache ls` on it by hand.
        println!("kept at {}", dir.keep().display());
        return;
    }

    // Write the new tree out first, so disk write-back does not compete with the timed scans.
    let _ = Command::new("sync").status();
    // One untimed scan each first, so both run with the folders in the page cache (ext4 reads
    // each symlink's target from a disk block the first time).
    aimdeck::cache::scan_cache_dir(dir.path()).expect("warm-up scan");
    let mut walls = Vec::new();
    let mut report = None;
    let cpu0 = cpu_seconds();
    for _ in 0..RUNS {
        let t = Instant::now();
        report = Some(aimdeck::cache::scan_cache_dir(dir.path()).expect("scan"));
        walls.push(t.elapsed().as_secs_f64());
    }
    let cpu = (cpu_seconds() - cpu0) / RUNS as f64;
    let report = report.expect("scanned");
    let best = walls.iter().copied().fold(f64::INFINITY, f64::min);
    let wall = median(walls);
    let entries: u64 = report.repos.iter().flat_map(|r| &r.revisions).map(|r| r.nb_files).sum();
    let blobs: u64 = report.repos.iter().map(|r| r.nb_files).sum();
    assert_eq!(entries, 20_000, "the tree has 20,000 snapshot entries");

    println!();
    println!(
        "| scan of 200 repos / 20,000 entries | wall (best of {RUNS}) | wall (median) | CPU per scan | repos | blobs | size_on_disk |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!(
        "| aimdeck `scan_cache_dir` | {:.0} ms | {:.0} ms | {:.0} ms | {} | {} | {} |",
        best * 1e3,
        wall * 1e3,
        cpu * 1e3,
        report.repos.len(),
        blobs,
        report.size_on_disk
    );
    let open_root = || {
        rustix::fs::open(
            dir.path(),
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY,
            rustix::fs::Mode::empty(),
        )
        .expect("open root")
    };
    let mut counts = [0u64; 3];
    syscall_floor(open_root(), &mut counts);
    let (mut floor_walls, cpu0) = (Vec::new(), cpu_seconds());
    for _ in 0..RUNS {
        let t = Instant::now();
        syscall_floor(open_root(), &mut [0; 3]);
        floor_walls.push(t.elapsed().as_secs_f64());
    }
    let floor_cpu = (cpu_seconds() - cpu0) / RUNS as f64;
    let floor_best = floor_walls.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "| syscall floor, one thread ({} folders, {} readlink, {} lstat) | {:.0} ms | {:.0} ms | {:.0} ms | | | |",
        counts[0],
        counts[1],
        counts[2],
        floor_best * 1e3,
        median(floor_walls) * 1e3,
        floor_cpu * 1e3
    );
    let Some(py) = python_scan(dir.path()) else {
        println!(
            "\n(huggingface_hub not installed: `pip install huggingface_hub` for the side-by-side)"
        );
        return;
    };
    println!(
        "| huggingface_hub `scan_cache_dir` | {:.0} ms | {:.0} ms | {:.0} ms | {} | {} | {} |",
        py.best * 1e3,
        py.wall * 1e3,
        py.cpu * 1e3,
        py.repos,
        py.nb_files,
        py.size_on_disk
    );
    let same = py.size_on_disk == report.size_on_disk
        && py.repos == report.repos.len()
        && py.nb_files == blobs;
    println!();
    println!(
        "speed-up: {:.1}x wall (best of {RUNS}), {:.1}x wall (median), {:.1}x CPU; identical totals: {same}",
        py.best / best,
        py.wall / wall,
        py.cpu / cpu.max(1e-9)
    );
    assert!(same, "totals differ from huggingface_hub");

    let root = dir.path().to_string_lossy().into_owned();
    let ours =
        time_command(env!("CARGO_BIN_EXE_aimdeck"), &["cache", "ls", "--cache-dir", &root], 5);
    let theirs = time_command("hf", &["cache", "ls", "--cache-dir", &root], 3);
    if let (Some(ours), Some(theirs)) = (ours, theirs) {
        println!(
            "whole commands: `aimdeck cache ls` {:.0} ms, `hf cache ls` {:.0} ms: {:.1}x",
            ours.as_secs_f64() * 1e3,
            theirs.as_secs_f64() * 1e3,
            theirs.as_secs_f64() / ours.as_secs_f64()
        );
    }
}
