//! The operating-system side of a replica process: spawn it in its own session (so it outlives
//! the console and a closed terminal), check that a pid is still our process, and stop its whole
//! process group with SIGTERM, then SIGKILL after a grace period.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::backend::BackendError;
use crate::engine::LaunchCommand;

/// Starts `command` detached, stdout and stderr appended to `log`. Returns pid and start ticks.
pub fn spawn(
    command: &LaunchCommand,
    env: &BTreeMap<String, String>,
    log: &Path,
) -> Result<(u32, Option<u64>), BackendError> {
    let spawn_err =
        |detail: String| BackendError::Spawn { program: command.program.clone(), detail };
    let out = crate::paths::private_file()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| BackendError::state(log, e))?;
    let err = out.try_clone().map_err(|e| BackendError::state(log, e))?;
    let mut cmd = Command::new(&command.program);
    cmd.args(&command.args).envs(env).stdin(Stdio::null()).stdout(out).stderr(err);
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| spawn_err(e.to_string()))?;
    let pid = child.id();
    let ticks = start_ticks(pid);
    // Reap the child if it exits while this process lives, so it does not linger as a zombie.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok((pid, ticks))
}

/// What `/proc/<pid>/stat` says about a process.
pub struct Stat {
    pub state: char,
    /// The process group (a replica leads its own).
    pub group: u32,
    /// Start time in clock ticks since boot.
    pub start_ticks: u64,
}

pub fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses; the fields start after the last `)`.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let group = fields.get(2)?.parse().ok()?;
    let start_ticks = fields.get(19)?.parse().ok()?;
    Some(Stat { state, group, start_ticks })
}

pub fn start_ticks(pid: u32) -> Option<u64> {
    stat(pid).map(|s| s.start_ticks)
}

/// Whether `pid` is still the process we started (alive, not a zombie, same start time).
/// Pid 0 is an intent record's: nothing was spawned yet.
pub fn is_ours(pid: u32, expected_ticks: Option<u64>) -> bool {
    if pid == 0 {
        return false;
    }
    match stat(pid) {
        Some(Stat { state: 'Z' | 'X', .. }) | None => false,
        Some(stat) => expected_ticks.is_none_or(|want| want == stat.start_ticks),
    }
}

fn signal_group(pid: u32, signal: i32) {
    // The replica leads its own session and process group (setsid), so -pid reaches its
    // children too (vLLM's engine core and workers).
    unsafe {
        libc::kill(-(pid as i32), signal);
    }
}

/// SIGTERM to the group, then SIGKILL once `grace` passes. Returns whether SIGKILL was needed.
pub async fn stop(pid: u32, ticks: Option<u64>, grace: Duration) -> bool {
    if !is_ours(pid, ticks) {
        return false;
    }
    signal_group(pid, libc::SIGTERM);
    let started = Instant::now();
    while started.elapsed() < grace {
        if !is_ours(pid, ticks) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    signal_group(pid, libc::SIGKILL);
    for _ in 0..100 {
        if !is_ours(pid, ticks) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// The last non-empty line of a replica's log (read from its last 4 KiB), cut to 200
/// characters; `None` when the log is missing or empty.
pub fn last_log_line(log: &Path) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(log).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(4096))).ok()?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).ok()?;
    let text = String::from_utf8_lossy(&tail);
    let line = text.lines().rev().map(str::trim).find(|l| !l.is_empty())?;
    Some(line.chars().take(200).collect())
}
