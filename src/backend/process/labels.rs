//! The process backend's labels: every replica process carries its deployment, replica index,
//! GPUs and the state directory that owns it in its environment (`AIMDECK_*`), so `reconcile`
//! can find a replica whose record is missing (an aimdeck killed between spawning it and writing
//! the record) by reading `/proc/<pid>/environ`, the way Docker finds containers by label.

use std::collections::BTreeMap;
use std::path::Path;

pub const DEPLOYMENT: &str = "AIMDECK_DEPLOYMENT";
pub const REPLICA: &str = "AIMDECK_REPLICA";
pub const GPUS: &str = "AIMDECK_GPUS";
pub const STATE_DIR: &str = "AIMDECK_STATE_DIR";

/// The label variables for one replica.
pub fn env(
    state_dir: &Path,
    deployment: &str,
    index: u32,
    gpus: &[u32],
) -> BTreeMap<String, String> {
    let gpus: Vec<String> = gpus.iter().map(u32::to_string).collect();
    BTreeMap::from([
        (DEPLOYMENT.to_string(), deployment.to_string()),
        (REPLICA.to_string(), index.to_string()),
        (GPUS.to_string(), gpus.join(",")),
        (STATE_DIR.to_string(), state_dir.to_string_lossy().to_string()),
    ])
}

/// A running process group leader labelled as one of our replicas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labelled {
    pub pid: u32,
    pub start_ticks: u64,
    pub deployment: String,
    pub index: u32,
    pub gpus: Vec<u32>,
}

/// Every live process group leader labelled for `state_dir`. Children of a replica (vLLM's
/// workers) inherit the labels but are stopped with their group, so only leaders count.
pub fn scan(state_dir: &Path) -> Vec<Labelled> {
    let want = state_dir.to_string_lossy();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        // Other users' processes are unreadable: they are not ours anyway.
        let Ok(raw) = std::fs::read(format!("/proc/{pid}/environ")) else { continue };
        let vars: BTreeMap<&str, &str> = raw
            .split(|&b| b == 0)
            .filter_map(|kv| std::str::from_utf8(kv).ok())
            .filter_map(|kv| kv.split_once('='))
            .collect();
        if vars.get(STATE_DIR) != Some(&want.as_ref()) {
            continue;
        }
        let (Some(deployment), Some(index)) =
            (vars.get(DEPLOYMENT), vars.get(REPLICA).and_then(|i| i.parse().ok()))
        else {
            continue;
        };
        let Some(stat) = super::os::stat(pid) else { continue };
        if stat.group != pid || matches!(stat.state, 'Z' | 'X') {
            continue;
        }
        let gpus = vars
            .get(GPUS)
            .map(|g| g.split(',').filter_map(|x| x.parse().ok()).collect())
            .unwrap_or_default();
        found.push(Labelled {
            pid,
            start_ticks: stat.start_ticks,
            deployment: deployment.to_string(),
            index,
            gpus,
        });
    }
    found.sort_by(|a, b| (&a.deployment, a.index, a.pid).cmp(&(&b.deployment, b.index, b.pid)));
    found
}
