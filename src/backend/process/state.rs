//! The process backend's only record: one small JSON file per replica,
//! `<state>/process/<deployment>/replica-<i>.json`, next to its log `replica-<i>.log`.
//! A restarted console reads these files and checks each pid to adopt or clean up.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::backend::BackendError;
use crate::model::DeploymentSpec;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicaRecord {
    pub index: u32,
    /// 0 in the intent record written before the process is spawned; the real pid once it runs.
    pub pid: u32,
    /// The process's start time in clock ticks (`/proc/<pid>/stat` field 22), so a recycled pid
    /// is not mistaken for our replica.
    pub start_ticks: Option<u64>,
    pub port: u16,
    pub gpus: Vec<u32>,
    pub started_at: String,
    pub log: PathBuf,
    pub spec: DeploymentSpec,
}

pub fn root(state_dir: &Path) -> PathBuf {
    state_dir.join("process")
}

pub fn deployment_dir(state_dir: &Path, name: &str) -> PathBuf {
    root(state_dir).join(name)
}

pub fn record_path(state_dir: &Path, name: &str, index: u32) -> PathBuf {
    deployment_dir(state_dir, name).join(format!("replica-{index}.json"))
}

/// The deployment's own record: its spec, kept while it has no replica (scaled to 0) so
/// `scale NAME 1` brings it back. Written before any replica starts.
pub fn spec_path(state_dir: &Path, name: &str) -> PathBuf {
    deployment_dir(state_dir, name).join("deployment.json")
}

pub fn write_spec(state_dir: &Path, spec: &DeploymentSpec) -> Result<(), BackendError> {
    let path = spec_path(state_dir, &spec.name);
    let text = serde_json::to_string_pretty(spec).map_err(|e| BackendError::state(&path, e))?;
    write_atomically(&path, &text)
}

/// The deployment's spec, `None` when it has no record (never made, removed, or made by an
/// aimdeck from before the record existed).
pub fn read_spec(state_dir: &Path, name: &str) -> Result<Option<DeploymentSpec>, BackendError> {
    let path = spec_path(state_dir, name);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            serde_json::from_str(&text).map(Some).map_err(|e| BackendError::state(&path, e))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(BackendError::state(&path, err)),
    }
}

/// Removes a deployment's directory: records, spec and logs.
pub fn remove_deployment(state_dir: &Path, name: &str) -> Result<(), BackendError> {
    let dir = deployment_dir(state_dir, name);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(BackendError::state(&dir, err)),
    }
}

pub fn log_path(state_dir: &Path, name: &str, index: u32) -> PathBuf {
    deployment_dir(state_dir, name).join(format!("replica-{index}.log"))
}

/// Where a replica's leader writes the engine's exit status (`os::spawn`).
pub fn exit_path(log: &Path) -> PathBuf {
    log.with_extension("exit")
}

/// Writes a record atomically (temp file + rename), so a crash never leaves half a file.
pub fn write(state_dir: &Path, record: &ReplicaRecord) -> Result<(), BackendError> {
    let path = record_path(state_dir, &record.spec.name, record.index);
    let text = serde_json::to_string_pretty(record).map_err(|e| BackendError::state(&path, e))?;
    write_atomically(&path, &text)
}

fn write_atomically(path: &Path, text: &str) -> Result<(), BackendError> {
    if let Some(dir) = path.parent() {
        crate::paths::create_private_dir(dir).map_err(|e| BackendError::state(dir, e))?;
    }
    let tmp = path.with_extension("json.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut file = crate::paths::private_file()
        .create_new(true)
        .write(true)
        .open(&tmp)
        .map_err(|e| BackendError::state(&tmp, e))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .map_err(|e| BackendError::state(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| BackendError::state(path, e))
}

pub fn remove(state_dir: &Path, name: &str, index: u32) -> Result<(), BackendError> {
    let path = record_path(state_dir, name, index);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(BackendError::state(&path, err)),
    }
}

/// Records of one deployment, sorted by index. Unreadable files are errors naming the file.
pub fn read_deployment(state_dir: &Path, name: &str) -> Result<Vec<ReplicaRecord>, BackendError> {
    let dir = deployment_dir(state_dir, name);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(BackendError::state(&dir, err)),
    };
    let mut records = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let file_name = entry.file_name().to_string_lossy().to_string();
        if !(file_name.starts_with("replica-") && file_name.ends_with(".json")) {
            // Not a replica record: the spec, a log, a half-written temp file.
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| BackendError::state(&path, e))?;
        let record: ReplicaRecord =
            serde_json::from_str(&text).map_err(|e| BackendError::state(&path, e))?;
        records.push(record);
    }
    records.sort_by_key(|r| r.index);
    Ok(records)
}

/// Names of deployments with a state directory.
pub fn deployment_names(state_dir: &Path) -> Result<Vec<String>, BackendError> {
    let dir = root(state_dir);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(BackendError::state(&dir, err)),
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    Ok(names)
}

/// Removes a deployment's directory once it holds no replica record and no spec (a
/// deployment scaled to 0 keeps its spec, and so its directory).
pub fn remove_deployment_if_empty(state_dir: &Path, name: &str) -> Result<(), BackendError> {
    if read_deployment(state_dir, name)?.is_empty() && !spec_path(state_dir, name).exists() {
        let dir = deployment_dir(state_dir, name);
        if let Err(err) = std::fs::remove_dir_all(&dir)
            && err.kind() != std::io::ErrorKind::NotFound
        {
            return Err(BackendError::state(&dir, err));
        }
    }
    Ok(())
}
