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

/// The replica's group leader: a POSIX shell that runs the engine, stays until it exits (also
/// through a SIGTERM, so `stop` waiting on the leader waits on the engine), and writes the
/// engine's exit status to `$1`. The replica outlives the aimdeck that started it, so no
/// aimdeck can `wait` for it; this file is how a later `ls` says "exited with status 1".
/// `$1` is the exit file, the rest the engine's argv.
const SUPERVISOR: &str = r#"exit_file=$1; shift
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
while :; do
  wait "$child"; status=$?
  kill -0 "$child" 2>/dev/null || break
done
echo "$status" > "$exit_file"
exit "$status""#;

/// Starts `command` detached, stdout and stderr appended to `log`, its exit status written to
/// `exit_file` when it ends. Returns the leader's pid and start ticks.
pub fn spawn(
    command: &LaunchCommand,
    env: &BTreeMap<String, String>,
    log: &Path,
    exit_file: &Path,
) -> Result<(u32, Option<u64>), BackendError> {
    let spawn_err =
        |detail: String| BackendError::Spawn { program: command.program.clone(), detail };
    // The shell would start whatever it is given; a program that cannot run is refused here,
    // before anything is made, as `execvp` refuses it.
    let path_var = env.get("PATH").cloned().or_else(|| std::env::var("PATH").ok());
    let program = find_program(&command.program, path_var.as_deref()).map_err(spawn_err)?;
    let _ = std::fs::remove_file(exit_file);
    let out = crate::paths::private_file()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| BackendError::state(log, e))?;
    let err = out.try_clone().map_err(|e| BackendError::state(log, e))?;
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(SUPERVISOR).arg("aimdeck-replica").arg(exit_file).arg(&program);
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

/// The file `program` names: itself when it has a `/`, else the first of that name on `path`.
/// Errors read as the OS's own (`No such file or directory (os error 2)`).
fn find_program(program: &str, path: Option<&str>) -> Result<std::path::PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let runnable = |candidate: &Path| {
        std::fs::metadata(candidate)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    let os_error = |code| std::io::Error::from_raw_os_error(code).to_string();
    if program.contains('/') {
        let candidate = Path::new(program);
        return match std::fs::metadata(candidate) {
            Err(err) => Err(err.to_string()),
            Ok(_) if runnable(candidate) => Ok(candidate.to_path_buf()),
            Ok(_) => Err(os_error(libc::EACCES)),
        };
    }
    path.unwrap_or_default()
        .split(':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| Path::new(dir).join(program))
        .find(|candidate| runnable(candidate))
        .ok_or_else(|| os_error(libc::ENOENT))
}

/// How a replica ended, from the exit file its leader wrote (`None` when it wrote none: it
/// was killed, or started before exit files were kept). A shell reports death by signal N
/// as status 128+N.
pub fn exit_status(exit_file: &Path) -> Option<String> {
    let code: i32 = std::fs::read_to_string(exit_file).ok()?.trim().parse().ok()?;
    Some(match code {
        129..=192 => {
            let signal = code - 128;
            let name = match signal {
                libc::SIGKILL => " (SIGKILL)",
                libc::SIGTERM => " (SIGTERM)",
                libc::SIGSEGV => " (SIGSEGV)",
                libc::SIGABRT => " (SIGABRT)",
                libc::SIGBUS => " (SIGBUS)",
                libc::SIGINT => " (SIGINT)",
                _ => "",
            };
            format!("killed by signal {signal}{name}")
        }
        code => format!("exited with status {code}"),
    })
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
    crate::backend::last_output_line(&String::from_utf8_lossy(&tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_supervised(program: &str, args: &[&str]) -> (u32, Option<String>, String) {
        let dir = tempfile::tempdir().unwrap();
        let (log, exit_file) = (dir.path().join("r.log"), dir.path().join("r.exit"));
        let command = LaunchCommand {
            program: program.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
        };
        let (pid, _) = spawn(&command, &BTreeMap::new(), &log, &exit_file).unwrap();
        let started = Instant::now();
        while !exit_file.exists() && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        (pid, exit_status(&exit_file), std::fs::read_to_string(&log).unwrap_or_default())
    }

    /// The leader writes how the engine ended, whatever its parent: a status, or the signal
    /// that killed it; the engine's own output still goes to the log.
    #[test]
    fn the_leader_records_the_engines_exit_status_and_signal() {
        let (_, how, log) = run_supervised("sh", &["-c", "echo bye; exit 3"]);
        assert_eq!(how.as_deref(), Some("exited with status 3"));
        assert_eq!(log, "bye\n");
        let (_, how, _) = run_supervised("sh", &["-c", "kill -9 $$"]);
        assert_eq!(how.as_deref(), Some("killed by signal 9 (SIGKILL)"));
        let (_, how, _) = run_supervised("true", &[]);
        assert_eq!(how.as_deref(), Some("exited with status 0"));
    }

    /// `stop` signals the group and waits for the leader, and the leader stays until the
    /// engine is gone: an engine that takes its time over SIGTERM is still waited for.
    #[tokio::test]
    async fn stop_waits_for_an_engine_that_shuts_down_slowly() {
        let dir = tempfile::tempdir().unwrap();
        let (log, exit_file) = (dir.path().join("r.log"), dir.path().join("r.exit"));
        let marker = dir.path().join("engine-done");
        let script = format!(
            "trap 'sleep 0.4; touch {}; exit 0' TERM; echo up; while :; do sleep 0.05; done",
            marker.display()
        );
        let command = LaunchCommand { program: "sh".into(), args: vec!["-c".into(), script] };
        let (pid, ticks) = spawn(&command, &BTreeMap::new(), &log, &exit_file).unwrap();
        while std::fs::read_to_string(&log).unwrap_or_default().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let killed = stop(pid, ticks, Duration::from_secs(5)).await;
        assert!(!killed, "it ended on SIGTERM");
        assert!(marker.exists(), "stop returned before the engine finished shutting down");
    }

    #[test]
    fn a_program_that_cannot_run_is_refused_before_anything_starts() {
        assert!(find_program("sh", Some("/nonexistent:/bin:/usr/bin")).is_ok());
        assert_eq!(
            find_program("no-such-engine", Some("/bin:/usr/bin")).unwrap_err(),
            "No such file or directory (os error 2)"
        );
        assert_eq!(
            find_program("/nonexistent/vllm", None).unwrap_err(),
            "No such file or directory (os error 2)"
        );
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("not-executable");
        std::fs::write(&plain, "#!/bin/sh\n").unwrap();
        assert_eq!(
            find_program(plain.to_str().unwrap(), None).unwrap_err(),
            "Permission denied (os error 13)"
        );
    }
}
