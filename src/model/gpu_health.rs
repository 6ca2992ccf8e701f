//! What is wrong with a GPU, who really holds it, and how it is partitioned: plain data read
//! from the vendor tools, no I/O. A reading the tool did not give (`[N/A]`, `"N/A"`, missing)
//! never makes a GPU healthy or faulty: with no reading at all the state is `unknown`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::gpu::GpuHolder;

/// Whether a GPU may take new work. Ordered by severity so the worst reason wins.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum HealthState {
    /// No health reading was available (the tool or the field is missing).
    #[default]
    Unknown,
    Ok,
    /// Serving, but slower or less safe than it should be: throttling, a correctable error
    /// storm, a PCIe link below its maximum. New replicas only with `--allow-degraded`.
    Degraded,
    /// Must not take new work: uncorrectable memory errors, a failed row remap, a fatal XID.
    Failed,
}

impl HealthState {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Unknown => "unknown",
            HealthState::Ok => "ok",
            HealthState::Degraded => "degraded",
            HealthState::Failed => "failed",
        }
    }
}

/// One finding, with the raw reading that caused it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReason {
    /// `degraded` or `failed`.
    pub severity: HealthState,
    /// A stable short code for scripts: `ecc_uncorrectable`, `row_remap_failure`, `xid_79`,
    /// `throttle_hw_slowdown`, `pcie_width_below_max`, ...
    pub code: String,
    /// What an operator reads: the meaning and the counter, e.g.
    /// "uncorrectable ECC errors since the driver loaded: 2 (ecc.errors.uncorrected.volatile.total)".
    pub message: String,
}

/// The health of one GPU: the verdict, why, and every raw counter that was read (field name as
/// the tool spells it, value as it printed it), so the detail can show the evidence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuHealth {
    pub state: HealthState,
    #[serde(default)]
    pub reasons: Vec<HealthReason>,
    #[serde(default)]
    pub counters: BTreeMap<String, String>,
}

impl GpuHealth {
    /// Records a counter that was actually read; a later `ok()` needs at least one.
    pub fn counter(&mut self, name: &str, value: impl Into<String>) {
        self.counters.insert(name.to_string(), value.into());
    }

    pub fn add(
        &mut self,
        severity: HealthState,
        code: impl Into<String>,
        message: impl Into<String>,
    ) {
        let code = code.into();
        if self.reasons.iter().any(|r| r.code == code) {
            return;
        }
        self.reasons.push(HealthReason { severity, code, message: message.into() });
        self.settle();
    }

    /// The state from what was read: the worst reason, else `ok` when any counter was read,
    /// else `unknown`.
    pub fn settle(&mut self) {
        self.state = match self.reasons.iter().map(|r| r.severity).max() {
            Some(worst) => worst,
            None if self.counters.is_empty() => HealthState::Unknown,
            None => HealthState::Ok,
        };
    }

    /// Folds another source's findings in (the kernel log's XIDs into the tool's counters).
    pub fn absorb(&mut self, other: GpuHealth) {
        self.counters.extend(other.counters);
        for reason in other.reasons {
            self.add(reason.severity, reason.code, reason.message);
        }
        self.settle();
    }

    /// "failed: uncorrectable ECC ..." for one-line summaries; `None` when nothing is wrong.
    pub fn summary(&self) -> Option<String> {
        let worst = self.reasons.iter().max_by_key(|r| r.severity)?;
        let more = self.reasons.len() - 1;
        let tail = if more > 0 { format!(" (+{more} more)") } else { String::new() };
        Some(format!("{}: {}{tail}", self.state.as_str(), worst.message))
    }
}

/// One process using GPU memory, as `nvidia-smi --query-compute-apps` or `amd-smi process`
/// reports it, joined to whatever started it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuProcess {
    pub pid: u32,
    pub name: Option<String>,
    pub used_memory_bytes: Option<u64>,
    /// The Docker container (full id) the process runs in, from `/proc/PID/cgroup`.
    #[serde(default)]
    pub container_id: Option<String>,
    /// The Kubernetes pod UID the process runs in, from `/proc/PID/cgroup`.
    #[serde(default)]
    pub pod_uid: Option<String>,
    /// The aimdeck replica, when the container's labels or the process backend's records say
    /// so; `None` means aimdeck did not start it (it still holds the GPU).
    #[serde(default)]
    pub holder: Option<GpuHolder>,
    /// The process's parents, nearest first, from `/proc/PID/stat`: an engine's GPU workers
    /// are children of the process the backend started.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parent_pids: Vec<u32>,
}

/// One replica as a backend knows it, for joining GPU processes to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessOwner {
    pub holder: GpuHolder,
    /// The process backend's replica process.
    pub pid: Option<u32>,
    /// The Docker backend's container (full id).
    pub container_id: Option<String>,
    /// The Kubernetes backend's pod (`metadata.uid`).
    pub pod_uid: Option<String>,
}

/// The owners of every replica of `deployments`.
pub fn owners_of<'a>(
    deployments: impl IntoIterator<Item = &'a super::deployment::Deployment>,
) -> Vec<ProcessOwner> {
    deployments
        .into_iter()
        .flat_map(|d| {
            d.replicas.iter().map(|r| ProcessOwner {
                holder: GpuHolder { deployment: d.name.clone(), replica: r.index },
                pid: r.pid(),
                container_id: r.container_id().map(str::to_string),
                pod_uid: r.pod_uid().map(str::to_string),
            })
        })
        .collect()
}

/// Sets each process's holder: the replica whose container or pod it runs in, or whose process
/// it is (or descends from). Processes no owner claims stay unmanaged.
pub fn assign_process_owners(gpus: &mut [super::gpu::Gpu], owners: &[ProcessOwner]) {
    for process in gpus.iter_mut().flat_map(|g| g.processes.iter_mut()) {
        process.holder = owners
            .iter()
            .find(|owner| {
                let in_container = matches!((&owner.container_id, &process.container_id), (Some(a), Some(b)) if a == b);
                let in_pod = matches!((&owner.pod_uid, &process.pod_uid), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b));
                let is_process = owner.pid.is_some_and(|pid| pid == process.pid || process.parent_pids.contains(&pid));
                in_container || in_pod || is_process
            })
            .map(|owner| owner.holder.clone());
    }
}

impl GpuProcess {
    /// "llama/0 (71.2 GiB)" or "unmanaged: pid 4242 python3 (71.2 GiB)".
    pub fn describe(&self) -> String {
        let memory = self
            .used_memory_bytes
            .map(|b| format!(" ({:.1} GiB)", b as f64 / (1u64 << 30) as f64))
            .unwrap_or_default();
        match &self.holder {
            Some(holder) => format!("{}/{}{memory}", holder.deployment, holder.replica),
            None => {
                let name = self.name.as_deref().map(|n| format!(" {n}")).unwrap_or_default();
                let place = match (&self.container_id, &self.pod_uid) {
                    (Some(id), _) => format!(" in container {}", &id[..id.len().min(12)]),
                    (None, Some(uid)) => format!(" in pod {uid}"),
                    _ => String::new(),
                };
                format!("unmanaged: pid {}{name}{place}{memory}", self.pid)
            }
        }
    }
}

/// How a physical GPU is split. AMD: compute partition `SPX`/`DPX`/`QPX`/`CPX` and memory
/// partition `NPS1`/`NPS4`, each logical device its own entry in `gpus` with this set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuPartition {
    pub compute: Option<String>,
    pub memory: Option<String>,
    /// The partition's number inside its physical GPU (`partition_id`), 0 for the first.
    pub partition_id: Option<u32>,
    /// The index of the first logical device of the same physical GPU: every partition of one
    /// MI300X names the same parent.
    pub parent: Option<u32>,
}

impl GpuPartition {
    /// A mode that splits the GPU (anything but SPX).
    pub fn is_split(&self) -> bool {
        self.compute.as_deref().is_some_and(|mode| !mode.eq_ignore_ascii_case("SPX"))
    }
}

/// One NVIDIA MIG device under its parent GPU, from `nvidia-smi -L`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigDevice {
    /// The MIG device number the tool prints (`Device  0`).
    pub device: u32,
    /// The profile, e.g. `3g.40gb`.
    pub profile: String,
    pub uuid: Option<String>,
    /// The memory the profile name gives (`40gb`), in bytes (decimal GB as NVIDIA names them).
    pub memory_bytes: Option<u64>,
}

/// The memory a MIG profile name promises: `1g.10gb` is 10 GB; `None` when the name has none.
pub fn mig_profile_memory(profile: &str) -> Option<u64> {
    let (size, _) = profile.split('.').nth(1)?.split_once("gb")?;
    let gb: f64 = size.parse().ok()?;
    Some((gb * 1e9) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_reading_is_unknown_and_the_worst_reason_wins() {
        let mut health = GpuHealth::default();
        health.settle();
        assert_eq!(health.state, HealthState::Unknown);
        health.counter("ecc.errors.uncorrected.volatile.total", "0");
        health.settle();
        assert_eq!(health.state, HealthState::Ok);
        health.add(HealthState::Degraded, "throttle_hw_slowdown", "HW slowdown");
        health.add(HealthState::Failed, "xid_79", "fell off the bus");
        health.add(HealthState::Degraded, "throttle_hw_slowdown", "again");
        assert_eq!(health.state, HealthState::Failed);
        assert_eq!(health.reasons.len(), 2);
        assert_eq!(health.summary().unwrap(), "failed: fell off the bus (+1 more)");
    }

    #[test]
    fn unmanaged_processes_say_so() {
        let process = GpuProcess {
            pid: 4242,
            name: Some("python3".into()),
            used_memory_bytes: Some(76_450_000_000),
            container_id: None,
            pod_uid: None,
            holder: None,
            parent_pids: vec![4200, 1],
        };
        assert_eq!(process.describe(), "unmanaged: pid 4242 python3 (71.2 GiB)");
        let mut gpu = super::super::gpu::Gpu::new(0, super::super::gpu::GpuVendor::Nvidia, "H100");
        gpu.processes.push(process);
        let holder = GpuHolder { deployment: "llama".into(), replica: 1 };
        let owner = ProcessOwner {
            holder: holder.clone(),
            pid: Some(4200),
            container_id: None,
            pod_uid: None,
        };
        assign_process_owners(std::slice::from_mut(&mut gpu), &[owner]);
        assert_eq!(gpu.processes[0].holder, Some(holder), "a worker child belongs to its replica");
    }

    #[test]
    fn mig_profiles_carry_their_memory() {
        assert_eq!(mig_profile_memory("3g.40gb"), Some(40_000_000_000));
        assert_eq!(mig_profile_memory("1g.10gb+me"), Some(10_000_000_000));
        assert_eq!(mig_profile_memory("7g"), None);
    }
}
