//! Create, scale, restart and delete of process deployments. Each holds the deployment's lock
//! (`backend::lock`) for as long as it works, so two aimdeck processes never change one
//! deployment at once; every replica is recorded before it is spawned (`start_one`).

use super::state::{self, ReplicaRecord};
use super::{NAME, ProcessBackend, labels, os, process_env, send};
use crate::backend::allocator;
use crate::backend::lock::{self, DeploymentLock};
use crate::backend::{
    AsyncBackend, BackendError, Lifecycle, ProgressTx, now_rfc3339, ports, secrets, validate_spec,
};
use crate::engine::launch_command;
use crate::model::{Deployment, DeploymentSpec, ReplicaState};

impl ProcessBackend {
    pub(super) async fn lock(
        &self,
        name: &str,
        action: &str,
    ) -> Result<DeploymentLock, BackendError> {
        lock::acquire(&self.state_dir, NAME, name, action, self.lock_wait).await
    }

    /// Drops records of replicas whose process is gone, so their ports and GPUs are free again.
    pub(super) fn clean_dead(&self, name: &str) -> Result<Vec<ReplicaRecord>, BackendError> {
        let mut live = Vec::new();
        for record in state::read_deployment(&self.state_dir, name)? {
            if os::is_ours(record.pid, record.start_ticks) {
                live.push(record);
            } else {
                state::remove(&self.state_dir, name, record.index)?;
            }
        }
        Ok(live)
    }

    /// Starts replicas `indices` with the given GPU sets; on any failure, stops those it started.
    async fn start_replicas(
        &self,
        spec: &DeploymentSpec,
        indices: &[u32],
        gpu_sets: Vec<Vec<u32>>,
        progress: &ProgressTx,
    ) -> Result<(), BackendError> {
        let token = secrets::hf_token();
        let mut started: Vec<ReplicaRecord> = Vec::new();
        for (&index, gpus) in indices.iter().zip(gpu_sets) {
            match self.start_one(spec, index, gpus, token.as_deref()) {
                Ok(record) => {
                    send(
                        progress,
                        spec,
                        Some(index),
                        ReplicaState::Starting,
                        format!("{}-{index} started, pid {}", spec.name, record.pid),
                    );
                    started.push(record);
                }
                Err(cause) => {
                    let mut leftovers = Vec::new();
                    for record in started.iter().rev() {
                        os::stop(record.pid, record.start_ticks, self.grace).await;
                        if state::remove(&self.state_dir, &spec.name, record.index).is_err() {
                            leftovers.push(format!(
                                "{}-{} (pid {})",
                                spec.name, record.index, record.pid
                            ));
                        }
                    }
                    return Err(BackendError::RolledBack {
                        action: format!("starting `{}`", spec.name),
                        cause: Box::new(cause),
                        leftovers,
                    });
                }
            }
        }
        Ok(())
    }

    /// Starts one replica: the intent record (pid 0) first, so an aimdeck killed mid-start
    /// leaves a trace, then the process with its labels, then the confirmed record.
    pub(super) fn start_one(
        &self,
        spec: &DeploymentSpec,
        index: u32,
        gpus: Vec<u32>,
        token: Option<&str>,
    ) -> Result<ReplicaRecord, BackendError> {
        let command = launch_command(spec, index);
        let mut env = process_env(spec, &gpus, &self.inventory(), token);
        env.extend(labels::env(&self.state_dir, &spec.name, index, &gpus));
        let log = state::log_path(&self.state_dir, &spec.name, index);
        let mut record = ReplicaRecord {
            index,
            pid: 0,
            start_ticks: None,
            port: spec.replica_port(index),
            gpus,
            started_at: now_rfc3339(),
            log: log.clone(),
            spec: spec.clone(),
        };
        state::write(&self.state_dir, &record)?;
        let (pid, start_ticks) = match os::spawn(&command, &env, &log, &state::exit_path(&log)) {
            Ok(started) => started,
            Err(err) => {
                let _ = state::remove(&self.state_dir, &spec.name, index);
                return Err(err);
            }
        };
        record.pid = pid;
        record.start_ticks = start_ticks;
        if let Err(err) = state::write(&self.state_dir, &record) {
            let grace = self.grace;
            // Reconcile could find it by its labels, but a state directory that cannot be
            // written is no place to keep it running: stop it now.
            tokio::spawn(async move { os::stop(pid, start_ticks, grace).await });
            return Err(err);
        }
        Ok(record)
    }

    pub(super) async fn stop_replica(&self, record: &ReplicaRecord) -> Result<(), BackendError> {
        os::stop(record.pid, record.start_ticks, self.grace).await;
        state::remove(&self.state_dir, &record.spec.name, record.index)
    }
}

impl Lifecycle for ProcessBackend {
    async fn create(
        &self,
        spec: &DeploymentSpec,
        progress: ProgressTx,
    ) -> Result<Deployment, BackendError> {
        validate_spec(spec)?;
        let _lock = self.lock(&spec.name, "created").await?;
        if !self.clean_dead(&spec.name)?.is_empty()
            || state::read_spec(&self.state_dir, &spec.name)?.is_some()
        {
            return Err(BackendError::AlreadyExists(spec.name.clone()));
        }
        // GPUs and every port are checked before anything starts.
        let gpu_sets = allocator::allocate(
            &self.inventory(),
            &self.holders()?,
            spec.replicas,
            spec.gpus_per_replica,
        )?;
        ports::ensure_free((0..spec.replicas).map(|i| spec.replica_port(i)))?;
        state::write_spec(&self.state_dir, spec)?;
        let indices: Vec<u32> = (0..spec.replicas).collect();
        if let Err(err) = self.start_replicas(spec, &indices, gpu_sets, &progress).await {
            // A failed create leaves no deployment behind.
            let _ = std::fs::remove_file(state::spec_path(&self.state_dir, &spec.name));
            let _ = state::remove_deployment_if_empty(&self.state_dir, &spec.name);
            return Err(err);
        }
        AsyncBackend::get(self, &spec.name).await
    }

    /// To 0 the spec stays, so the deployment is listed as stopped and can be scaled up again.
    async fn scale(
        &self,
        name: &str,
        replicas: u32,
        progress: ProgressTx,
    ) -> Result<Deployment, BackendError> {
        let _lock = self.lock(name, "scaled").await?;
        let live = self.clean_dead(name)?;
        let spec = match state::read_spec(&self.state_dir, name)? {
            Some(spec) => spec,
            None => live
                .first()
                .map(|r| r.spec.clone())
                .ok_or_else(|| BackendError::NotFound(name.to_string()))?,
        };
        let mut spec = spec;
        let current = live.len() as u32;
        if replicas > current {
            spec.replicas = replicas;
            validate_spec(&spec)?;
            let used: Vec<u32> = live.iter().map(|r| r.index).collect();
            let indices: Vec<u32> =
                (0..).filter(|i| !used.contains(i)).take((replicas - current) as usize).collect();
            // The whole scale's GPUs and ports are checked before any replica starts.
            let gpu_sets = allocator::allocate(
                &self.inventory(),
                &self.holders()?,
                replicas - current,
                spec.gpus_per_replica,
            )?;
            ports::ensure_free(indices.iter().map(|&i| spec.replica_port(i)))?;
            self.start_replicas(&spec, &indices, gpu_sets, &progress).await?;
        } else {
            // Highest replicas go first, each stopped gracefully.
            for record in live.iter().rev().take((current - replicas) as usize) {
                send(
                    &progress,
                    &spec,
                    Some(record.index),
                    ReplicaState::Stopping,
                    format!("stopping {}-{}", name, record.index),
                );
                self.stop_replica(record).await?;
            }
            spec.replicas = replicas;
        }
        state::write_spec(&self.state_dir, &spec)?;
        AsyncBackend::get(self, name).await
    }

    /// Stops every replica, recorded or only labelled, then removes the deployment's files.
    async fn delete(&self, name: &str) -> Result<(), BackendError> {
        let _lock = self.lock(name, "removed").await?;
        let records = state::read_deployment(&self.state_dir, name)?;
        let labelled: Vec<labels::Labelled> =
            labels::scan(&self.state_dir).into_iter().filter(|l| l.deployment == name).collect();
        if records.is_empty()
            && labelled.is_empty()
            && state::read_spec(&self.state_dir, name)?.is_none()
        {
            return Err(BackendError::NotFound(name.to_string()));
        }
        let stops = records.iter().map(|r| self.stop_replica(r));
        for result in futures::future::join_all(stops).await {
            result?;
        }
        for process in labelled {
            os::stop(process.pid, Some(process.start_ticks), self.grace).await;
        }
        state::remove_deployment(&self.state_dir, name)
    }

    /// Restarts each replica in turn and says, per replica, whether it came back: a replica whose
    /// process does not start, or exits within a moment of starting, fails the restart.
    async fn restart(&self, name: &str) -> Result<(), BackendError> {
        let _lock = self.lock(name, "restarted").await?;
        let records = state::read_deployment(&self.state_dir, name)?;
        if records.is_empty() {
            return Err(match state::read_spec(&self.state_dir, name)? {
                Some(_) => BackendError::Other(format!(
                    "`{name}` is scaled to 0: nothing to restart; scale it up instead"
                )),
                None => BackendError::NotFound(name.to_string()),
            });
        }
        let token = secrets::hf_token();
        let mut failures = Vec::new();
        for record in &records {
            os::stop(record.pid, record.start_ticks, self.grace).await;
            match self.start_one(&record.spec, record.index, record.gpus.clone(), token.as_deref())
            {
                Ok(new) => {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    if !os::is_ours(new.pid, new.start_ticks) {
                        failures.push(format!(
                            "replica {} exited right after starting (see {})",
                            record.index,
                            new.log.display()
                        ));
                    }
                }
                Err(err) => failures.push(format!("replica {}: {err}", record.index)),
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(BackendError::Other(format!(
                "restart of `{name}`: {} of {} replicas did not come back: {}",
                failures.len(),
                records.len(),
                failures.join("; ")
            )))
        }
    }
}
