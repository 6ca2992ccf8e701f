//! One writer per deployment: create, scale, restart and delete of one deployment hold an
//! exclusive `flock` on `<state>/locks/<backend>-<name>.lock` for as long as they work. Other
//! aimdeck processes (a second shell, a console) see the lock; the kernel releases it when the
//! holder exits, even by `kill -9`, so a crashed writer never leaves a stale lock behind.
//!
//! The holder writes who it is (pid, action, since) into the file, so a second writer that gives
//! up can say "`qwen` is being scaled by pid 1234 since 12:01:03".

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::BackendError;

/// How long a second writer waits for the first before giving up.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// Held while a deployment is being changed; dropping it (or the process dying) releases it.
#[derive(Debug)]
pub struct DeploymentLock {
    file: File,
    path: PathBuf,
}

impl DeploymentLock {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DeploymentLock {
    fn drop(&mut self) {
        // Emptied so a reader never reports a holder that is gone; the kernel drops the lock
        // when the descriptor closes right after.
        let _ = self.file.set_len(0);
    }
}

pub fn lock_path(state_dir: &Path, backend: &str, name: &str) -> PathBuf {
    state_dir.join("locks").join(format!("{backend}-{name}.lock"))
}

/// Takes the lock of `backend`/`name` for `action` (a past participle: `created`, `scaled`,
/// `restarted`, `removed`), waiting up to `wait` for another writer to finish.
pub async fn acquire(
    state_dir: &Path,
    backend: &str,
    name: &str,
    action: &str,
    wait: Duration,
) -> Result<DeploymentLock, BackendError> {
    let started = Instant::now();
    loop {
        if let Some(lock) = try_acquire(state_dir, backend, name, action)? {
            return Ok(lock);
        }
        if started.elapsed() >= wait {
            let holder = read_holder(&lock_path(state_dir, backend, name));
            return Err(BackendError::Busy { name: name.to_string(), holder });
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The lock if nobody holds it, `None` if someone does. Never waits.
pub fn try_acquire(
    state_dir: &Path,
    backend: &str,
    name: &str,
    action: &str,
) -> Result<Option<DeploymentLock>, BackendError> {
    let path = lock_path(state_dir, backend, name);
    if let Some(dir) = path.parent() {
        crate::paths::create_private_dir(dir).map_err(|e| BackendError::state(dir, e))?;
    }
    let mut file = crate::paths::private_file()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| BackendError::state(&path, e))?;
    // SAFETY: flock on a descriptor we own; LOCK_NB never blocks the runtime thread.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Ok(None);
        }
        return Err(BackendError::state(&path, err));
    }
    let since = jiff::Zoned::now().strftime("%H:%M:%S").to_string();
    let note = format!("{action} by pid {} since {since}", std::process::id());
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(note.as_bytes()))
        .map_err(|e| BackendError::state(&path, e))?;
    Ok(Some(DeploymentLock { file, path }))
}

/// What the holder wrote, or a plain note when it has not written yet.
fn read_holder(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    let text = text.trim();
    if text.is_empty() {
        "changed by another aimdeck process".to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_writer_waits_then_names_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let held = acquire(dir.path(), "process", "qwen", "scaled", DEFAULT_WAIT).await.unwrap();
        let started = Instant::now();
        let err = acquire(dir.path(), "process", "qwen", "removed", Duration::from_millis(200))
            .await
            .unwrap_err()
            .to_string();
        assert!(started.elapsed() >= Duration::from_millis(200));
        let pid = std::process::id();
        assert!(err.starts_with(&format!("`qwen` is being scaled by pid {pid} since ")), "{err}");
        // Another deployment is not held up.
        acquire(dir.path(), "process", "other", "scaled", Duration::ZERO).await.unwrap();
        drop(held);
        acquire(dir.path(), "process", "qwen", "removed", Duration::ZERO).await.unwrap();
    }

    #[tokio::test]
    async fn a_writer_waiting_briefly_gets_the_lock_when_the_first_finishes() {
        let dir = tempfile::tempdir().unwrap();
        let held = acquire(dir.path(), "docker", "a", "created", DEFAULT_WAIT).await.unwrap();
        let release = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            drop(held);
        });
        acquire(dir.path(), "docker", "a", "scaled", Duration::from_secs(2)).await.unwrap();
        release.await.unwrap();
    }
}
