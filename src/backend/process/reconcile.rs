//! `reconcile`: makes the state directory and the running processes agree. Records whose
//! process is gone are removed; processes labelled for this state directory (see `labels`)
//! with no record are adopted when their deployment still exists and the replica slot is free,
//! and stopped otherwise (the deployment was removed, or another process holds the slot).
//! `ls`, `rm` and the console's listing run it, so no engine is left that nobody lists.

use std::collections::BTreeSet;

use super::state::{self, ReplicaRecord};
use super::{NAME, ProcessBackend, labels, os};
use crate::backend::{BackendError, lock, now_rfc3339};

/// What `reconcile` found.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Reconciled {
    /// `name/index` of replicas whose process still runs (recorded, or found by label and
    /// recorded now).
    pub adopted: Vec<String>,
    /// `name/index` of records whose process is gone; their files were removed.
    pub cleaned: Vec<String>,
    /// `name/index (pid N)` of labelled processes no deployment accounts for; they were stopped.
    pub stopped: Vec<String>,
}

impl ProcessBackend {
    /// Runs once per listing. A deployment another writer holds is skipped: its records are
    /// in flux and that writer accounts for them.
    pub async fn reconcile(&self) -> Result<Reconciled, BackendError> {
        let mut report = Reconciled::default();
        let labelled = labels::scan(&self.state_dir);
        let mut names: BTreeSet<String> =
            state::deployment_names(&self.state_dir)?.into_iter().collect();
        names.extend(labelled.iter().map(|l| l.deployment.clone()));
        for name in names {
            let Some(_lock) = lock::try_acquire(&self.state_dir, NAME, &name, "reconciled")? else {
                continue;
            };
            let mut live: Vec<ReplicaRecord> = Vec::new();
            for record in state::read_deployment(&self.state_dir, &name)? {
                let id = format!("{name}/{}", record.index);
                if os::is_ours(record.pid, record.start_ticks) {
                    report.adopted.push(id);
                    live.push(record);
                } else {
                    state::remove(&self.state_dir, &name, record.index)?;
                    report.cleaned.push(id);
                }
            }
            let spec = state::read_spec(&self.state_dir, &name)?
                .or_else(|| live.first().map(|r| r.spec.clone()));
            for process in labelled.iter().filter(|l| l.deployment == name) {
                if live.iter().any(|r| r.pid == process.pid) {
                    continue;
                }
                let id = format!("{name}/{}", process.index);
                let slot_taken = live.iter().any(|r| r.index == process.index);
                match &spec {
                    Some(spec) if !slot_taken => {
                        let record = ReplicaRecord {
                            index: process.index,
                            pid: process.pid,
                            start_ticks: Some(process.start_ticks),
                            port: spec.replica_port(process.index),
                            gpus: process.gpus.clone(),
                            started_at: now_rfc3339(),
                            log: state::log_path(&self.state_dir, &name, process.index),
                            spec: spec.clone(),
                        };
                        state::write(&self.state_dir, &record)?;
                        live.push(record);
                        report.adopted.push(id);
                    }
                    _ => {
                        os::stop(process.pid, Some(process.start_ticks), self.grace).await;
                        report.stopped.push(format!("{id} (pid {})", process.pid));
                    }
                }
            }
            state::remove_deployment_if_empty(&self.state_dir, &name)?;
        }
        Ok(report)
    }
}
