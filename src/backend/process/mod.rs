//! The process backend: each replica is a child process running the engine command (`vllm
//! serve ...`, `python3 -m sglang.launch_server ...`, or a custom command such as `aimdeck-sim`),
//! in its own session so it outlives the console. Its pid, port and spec live in a small file
//! per replica in the state directory; logs go to a file next to it.

mod logs;
mod os;
pub mod state;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;

use self::state::ReplicaRecord;
use super::allocator::{self, AllocatableGpu, Holder};
use super::{Backend, BackendError, BoxStream, LogLine, LogOptions, ProgressTx, health, now_rfc3339, ports, secrets, validate_spec};
use crate::engine::launch_command;
use crate::model::{
    BackendEvent, BackendEventKind, BackendHealth, Capabilities, Deployment, DeploymentSpec, Replica, ReplicaState,
};

pub const NAME: &str = "process";

#[derive(Clone)]
pub struct ProcessBackend {
    state_dir: PathBuf,
    gpus: Vec<AllocatableGpu>,
    grace: Duration,
    http: reqwest::Client,
}

/// What `reconcile` found in the state directory.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Reconciled {
    /// `name/index` of replicas whose process still runs.
    pub adopted: Vec<String>,
    /// `name/index` of records whose process is gone; their files were removed.
    pub cleaned: Vec<String>,
}

impl ProcessBackend {
    /// `state_dir` is normally `crate::paths::state_dir()`; `gpus` the host's GPUs for placement.
    pub fn new(state_dir: impl Into<PathBuf>, gpus: Vec<AllocatableGpu>) -> Self {
        ProcessBackend { state_dir: state_dir.into(), gpus, grace: Duration::from_secs(10), http: health::client() }
    }

    /// How long `stop` waits after SIGTERM before SIGKILL.
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// Adopts replicas whose process still runs and removes the records of those that are gone.
    /// The console calls this once at start.
    pub fn reconcile(&self) -> Result<Reconciled, BackendError> {
        let mut report = Reconciled::default();
        for name in state::deployment_names(&self.state_dir)? {
            for record in state::read_deployment(&self.state_dir, &name)? {
                let id = format!("{name}/{}", record.index);
                if os::is_ours(record.pid, record.start_ticks) {
                    report.adopted.push(id);
                } else {
                    state::remove(&self.state_dir, &name, record.index)?;
                    report.cleaned.push(id);
                }
            }
            state::remove_deployment_if_empty(&self.state_dir, &name)?;
        }
        Ok(report)
    }

    async fn replica_of(&self, record: &ReplicaRecord) -> Replica {
        let alive = os::is_ours(record.pid, record.start_ticks);
        let (state, detail) = if alive {
            health::probe(&self.http, record.port).await.state()
        } else {
            (ReplicaState::Exited, Some(format!("process {} is gone; see {}", record.pid, record.log.display())))
        };
        Replica {
            index: record.index,
            name: format!("{}-{}", record.spec.name, record.index),
            port: record.port,
            gpus: record.gpus.clone(),
            state,
            detail,
            pid: Some(record.pid),
            container_id: None,
            log_path: Some(record.log.clone()),
        }
    }

    async fn deployment_of(&self, records: &[ReplicaRecord]) -> Option<Deployment> {
        let first = records.first()?;
        let mut spec = first.spec.clone();
        spec.replicas = records.len() as u32;
        let replicas = futures::future::join_all(records.iter().map(|r| self.replica_of(r))).await;
        Some(Deployment { name: spec.name.clone(), backend: NAME.into(), spec, replicas, autoscaler: None })
    }

    async fn list_all(&self) -> Result<Vec<Deployment>, BackendError> {
        let mut out = Vec::new();
        for name in state::deployment_names(&self.state_dir)? {
            let records = state::read_deployment(&self.state_dir, &name)?;
            if let Some(deployment) = self.deployment_of(&records).await {
                out.push(deployment);
            }
        }
        Ok(out)
    }

    /// GPUs held by every live replica, from the records (the process backend's labels).
    fn holders(&self) -> Result<Vec<Holder>, BackendError> {
        let mut holders = Vec::new();
        for name in state::deployment_names(&self.state_dir)? {
            let gpus: Vec<u32> = state::read_deployment(&self.state_dir, &name)?
                .iter()
                .filter(|r| os::is_ours(r.pid, r.start_ticks))
                .flat_map(|r| r.gpus.clone())
                .collect();
            if !gpus.is_empty() {
                holders.push(Holder { deployment: name, gpus });
            }
        }
        Ok(holders)
    }

    /// Drops records of replicas whose process is gone, so their ports and GPUs are free again.
    fn clean_dead(&self, name: &str) -> Result<Vec<ReplicaRecord>, BackendError> {
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
    async fn start_replicas(&self, spec: &DeploymentSpec, indices: &[u32], gpu_sets: Vec<Vec<u32>>, progress: &ProgressTx) -> Result<(), BackendError> {
        let token = secrets::hf_token();
        let mut started: Vec<ReplicaRecord> = Vec::new();
        for (&index, gpus) in indices.iter().zip(gpu_sets) {
            let result = self.start_one(spec, index, gpus, token.as_deref());
            match result {
                Ok(record) => {
                    send(progress, spec, Some(index), ReplicaState::Starting, format!("{}-{index} started, pid {}", spec.name, record.pid));
                    started.push(record);
                }
                Err(cause) => {
                    let mut leftovers = Vec::new();
                    for record in started.iter().rev() {
                        os::stop(record.pid, record.start_ticks, self.grace).await;
                        if state::remove(&self.state_dir, &spec.name, record.index).is_err() {
                            leftovers.push(format!("{}-{} (pid {})", spec.name, record.index, record.pid));
                        }
                    }
                    let _ = state::remove_deployment_if_empty(&self.state_dir, &spec.name);
                    return Err(BackendError::RolledBack { action: format!("starting `{}`", spec.name), cause: Box::new(cause), leftovers });
                }
            }
        }
        Ok(())
    }

    fn start_one(&self, spec: &DeploymentSpec, index: u32, gpus: Vec<u32>, token: Option<&str>) -> Result<ReplicaRecord, BackendError> {
        let command = launch_command(spec, index);
        let env = process_env(spec, &gpus, token);
        let dir = state::deployment_dir(&self.state_dir, &spec.name);
        std::fs::create_dir_all(&dir).map_err(|e| BackendError::state(&dir, e))?;
        let log = state::log_path(&self.state_dir, &spec.name, index);
        let (pid, start_ticks) = os::spawn(&command, &env, &log)?;
        let record = ReplicaRecord {
            index,
            pid,
            start_ticks,
            port: spec.replica_port(index),
            gpus,
            started_at: now_rfc3339(),
            log,
            spec: spec.clone(),
        };
        if let Err(err) = state::write(&self.state_dir, &record) {
            let grace = self.grace;
            // No record means no one could find this process again: stop it now.
            tokio::spawn(async move { os::stop(pid, start_ticks, grace).await });
            return Err(err);
        }
        Ok(record)
    }

    async fn stop_replica(&self, record: &ReplicaRecord) -> Result<(), BackendError> {
        os::stop(record.pid, record.start_ticks, self.grace).await;
        state::remove(&self.state_dir, &record.spec.name, record.index)
    }

    async fn create_impl(&self, spec: &DeploymentSpec, progress: ProgressTx) -> Result<Deployment, BackendError> {
        validate_spec(spec)?;
        if !self.clean_dead(&spec.name)?.is_empty() {
            return Err(BackendError::AlreadyExists(spec.name.clone()));
        }
        let gpu_sets = allocator::allocate(&self.gpus, &self.holders()?, spec.replicas, spec.gpus_per_replica)?;
        ports::ensure_free((0..spec.replicas).map(|i| spec.replica_port(i)))?;
        let indices: Vec<u32> = (0..spec.replicas).collect();
        self.start_replicas(spec, &indices, gpu_sets, &progress).await?;
        self.get_impl(&spec.name).await
    }

    async fn get_impl(&self, name: &str) -> Result<Deployment, BackendError> {
        let records = state::read_deployment(&self.state_dir, name)?;
        self.deployment_of(&records).await.ok_or_else(|| BackendError::NotFound(name.to_string()))
    }

    async fn scale_impl(&self, name: &str, replicas: u32, progress: ProgressTx) -> Result<Deployment, BackendError> {
        let live = self.clean_dead(name)?;
        let Some(first) = live.first() else {
            state::remove_deployment_if_empty(&self.state_dir, name)?;
            return Err(BackendError::NotFound(name.to_string()));
        };
        let mut spec = first.spec.clone();
        let current = live.len() as u32;
        if replicas > current {
            spec.replicas = replicas;
            validate_spec(&spec)?;
            let used: Vec<u32> = live.iter().map(|r| r.index).collect();
            let indices: Vec<u32> = (0..).filter(|i| !used.contains(i)).take((replicas - current) as usize).collect();
            let gpu_sets = allocator::allocate(&self.gpus, &self.holders()?, replicas - current, spec.gpus_per_replica)?;
            ports::ensure_free(indices.iter().map(|&i| spec.replica_port(i)))?;
            self.start_replicas(&spec, &indices, gpu_sets, &progress).await?;
        } else {
            // Highest replicas go first, each stopped gracefully.
            for record in live.iter().rev().take((current - replicas) as usize) {
                send(&progress, &spec, Some(record.index), ReplicaState::Stopping, format!("stopping {}-{}", name, record.index));
                self.stop_replica(record).await?;
            }
            state::remove_deployment_if_empty(&self.state_dir, name)?;
            if replicas == 0 {
                let mut empty_spec = spec.clone();
                empty_spec.replicas = 0;
                return Ok(Deployment { name: name.to_string(), backend: NAME.into(), spec: empty_spec, replicas: Vec::new(), autoscaler: None });
            }
        }
        self.get_impl(name).await
    }

    async fn delete_impl(&self, name: &str) -> Result<(), BackendError> {
        let records = state::read_deployment(&self.state_dir, name)?;
        if records.is_empty() {
            return Err(BackendError::NotFound(name.to_string()));
        }
        let stops = records.iter().map(|r| self.stop_replica(r));
        for result in futures::future::join_all(stops).await {
            result?;
        }
        let dir = state::deployment_dir(&self.state_dir, name);
        std::fs::remove_dir_all(&dir).map_err(|e| BackendError::state(&dir, e))
    }

    async fn restart_impl(&self, name: &str) -> Result<(), BackendError> {
        let records = state::read_deployment(&self.state_dir, name)?;
        if records.is_empty() {
            return Err(BackendError::NotFound(name.to_string()));
        }
        let token = secrets::hf_token();
        for record in records {
            os::stop(record.pid, record.start_ticks, self.grace).await;
            self.start_one(&record.spec, record.index, record.gpus.clone(), token.as_deref())?;
        }
        Ok(())
    }

    fn render_impl(&self, spec: &DeploymentSpec) -> Result<serde_json::Value, BackendError> {
        validate_spec(spec)?;
        let token = secrets::hf_token();
        let gpu_sets = allocator::allocate(&self.gpus, &self.holders()?, spec.replicas, spec.gpus_per_replica)?;
        let replicas: Vec<serde_json::Value> = (0..spec.replicas)
            .zip(gpu_sets)
            .map(|(index, gpus)| {
                let command = launch_command(spec, index);
                serde_json::json!({
                    "index": index,
                    "port": spec.replica_port(index),
                    "gpus": gpus,
                    "command": command.display(),
                    "argv": command.argv(),
                    "env": secrets::redact(&process_env(spec, &gpus, token.as_deref())),
                    "log": state::log_path(&self.state_dir, &spec.name, index),
                })
            })
            .collect();
        Ok(serde_json::json!({ "backend": NAME, "deployment": spec.name, "replicas": replicas }))
    }
}

fn process_env(spec: &DeploymentSpec, gpus: &[u32], token: Option<&str>) -> std::collections::BTreeMap<String, String> {
    let mut env = super::env::replica_env(spec, gpus, true, token);
    if let Some(cache) = &spec.cache_dir {
        env.entry("HF_HOME".into()).or_insert_with(|| cache.to_string_lossy().to_string());
    }
    env
}

fn send(progress: &ProgressTx, spec: &DeploymentSpec, replica: Option<u32>, state: ReplicaState, message: String) {
    if let Some(tx) = progress {
        let _ = tx.send(BackendEvent {
            when: now_rfc3339(),
            backend: NAME.into(),
            deployment: spec.name.clone(),
            replica,
            kind: BackendEventKind::State { state },
            message,
        });
    }
}

impl Backend for ProcessBackend {
    fn name(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { scale: true, restart: true, logs_follow: true, events: true, gpu_allocation: true, images: false }
    }

    fn health(&self) -> BoxFuture<'_, BackendHealth> {
        Box::pin(async move {
            let dir = state::root(&self.state_dir);
            let writable = std::fs::create_dir_all(&dir).is_ok();
            BackendHealth {
                backend: NAME.into(),
                reachable: writable,
                detail: if writable { format!("state in {}", dir.display()) } else { format!("cannot create {}", dir.display()) },
            }
        })
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<Deployment>, BackendError>> {
        Box::pin(self.list_all())
    }

    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Deployment, BackendError>> {
        Box::pin(self.get_impl(name))
    }

    fn create<'a>(&'a self, spec: &'a DeploymentSpec, progress: ProgressTx) -> BoxFuture<'a, Result<Deployment, BackendError>> {
        Box::pin(self.create_impl(spec, progress))
    }

    fn scale<'a>(&'a self, name: &'a str, replicas: u32, progress: ProgressTx) -> BoxFuture<'a, Result<Deployment, BackendError>> {
        Box::pin(self.scale_impl(name, replicas, progress))
    }

    fn delete<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(self.delete_impl(name))
    }

    fn restart<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(self.restart_impl(name))
    }

    fn logs<'a>(&'a self, name: &'a str, options: LogOptions) -> BoxFuture<'a, Result<BoxStream<Result<LogLine, BackendError>>, BackendError>> {
        Box::pin(async move {
            let records = state::read_deployment(&self.state_dir, name)?;
            if records.is_empty() {
                return Err(BackendError::NotFound(name.to_string()));
            }
            let streams: Vec<_> = records
                .into_iter()
                .filter(|r| options.replica.is_none_or(|want| want == r.index))
                .map(|r| logs::stream(r.log, r.index, options.tail, options.follow))
                .collect();
            if streams.is_empty() {
                return Err(BackendError::Other(format!("`{name}` has no replica {}", options.replica.unwrap_or_default())));
            }
            Ok(futures::stream::select_all(streams).boxed())
        })
    }

    fn events<'a>(&'a self, name: Option<&'a str>) -> BoxFuture<'a, Result<BoxStream<BackendEvent>, BackendError>> {
        let backend: Arc<dyn Backend> = Arc::new(self.clone());
        let only = name.map(str::to_string);
        Box::pin(async move { Ok(super::watch::poll_events(backend, only, Duration::from_millis(500))) })
    }

    fn render(&self, spec: &DeploymentSpec) -> Result<serde_json::Value, BackendError> {
        self.render_impl(spec)
    }
}
