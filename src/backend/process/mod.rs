//! The process backend: each replica is a child process running the engine command (`vllm
//! serve ...`, `python3 -m sglang.launch_server ...`, or a custom command such as `aimdeck-sim`),
//! in its own session so it outlives the console. Its pid, port and spec live in a small file
//! per replica in the state directory; logs go to a file next to it.

mod labels;
mod lifecycle;
mod logs;
mod os;
mod reconcile;
pub mod state;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use self::state::ReplicaRecord;
use super::allocator::{self, AllocatableGpu, Holder};
use super::{
    AsyncBackend, Backend, BackendError, BoxStream, LogLine, LogOptions, ProgressTx, health,
    now_rfc3339, secrets, validate_spec,
};
use crate::engine::launch_command;
use crate::model::{
    BackendEvent, BackendEventKind, BackendHealth, Capabilities, Deployment, DeploymentSpec,
    Replica, ReplicaHandle, ReplicaState,
};

pub const NAME: &str = "process";

#[derive(Clone)]
pub struct ProcessBackend {
    state_dir: PathBuf,
    /// Where new replicas may go; replaced by `place_on` as the GPUs' health changes.
    gpus: std::sync::Arc<std::sync::RwLock<Vec<AllocatableGpu>>>,
    grace: Duration,
    lock_wait: Duration,
    http: reqwest::Client,
}

pub use self::reconcile::Reconciled;

impl ProcessBackend {
    /// The GPUs new replicas may go on now (a copy: no lock is held across an await).
    fn inventory(&self) -> Vec<AllocatableGpu> {
        self.gpus.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// `state_dir` is normally `crate::paths::state_dir()`; `gpus` the host's GPUs for placement.
    pub fn new(state_dir: impl Into<PathBuf>, gpus: Vec<AllocatableGpu>) -> Self {
        ProcessBackend {
            state_dir: state_dir.into(),
            gpus: std::sync::Arc::new(std::sync::RwLock::new(gpus)),
            grace: Duration::from_secs(10),
            lock_wait: super::lock::DEFAULT_WAIT,
            http: health::client(),
        }
    }

    /// How long `stop` waits after SIGTERM before SIGKILL.
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// How long a second writer of one deployment waits for the first.
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    async fn replica_of(&self, record: &ReplicaRecord) -> Replica {
        let alive = os::is_ours(record.pid, record.start_ticks);
        let (state, detail) = if record.pid == 0 {
            (ReplicaState::Creating, Some("being started".to_string()))
        } else if alive {
            health::probe(&self.http, record.port, record.spec.engine).await.state()
        } else {
            // Not our child once the aimdeck that started it has exited: its leader wrote the
            // exit status, and the log's last line says why it stopped.
            let how = os::exit_status(&state::exit_path(&record.log))
                .unwrap_or_else(|| "is gone".to_string());
            let why = os::last_log_line(&record.log)
                .map(|line| format!(": last log line `{line}`"))
                .unwrap_or_default();
            (
                ReplicaState::Exited,
                Some(format!("process {} {how}{why}; see {}", record.pid, record.log.display())),
            )
        };
        Replica {
            index: record.index,
            name: format!("{}-{}", record.spec.name, record.index),
            port: record.port,
            gpus: record.gpus.clone(),
            state,
            detail,
            handle: Some(ReplicaHandle::Pid { pid: record.pid, log: record.log.clone() }),
            started_at_unix_ms: crate::model::rfc3339_unix_ms(&record.started_at),
        }
    }

    /// The deployment from its spec record (or, for one made before that record existed, its
    /// first replica's); `None` when neither exists.
    async fn deployment_of(
        &self,
        name: &str,
        records: &[ReplicaRecord],
    ) -> Result<Option<Deployment>, BackendError> {
        let spec = match state::read_spec(&self.state_dir, name)? {
            Some(spec) => spec,
            None => match records.first() {
                Some(first) => first.spec.clone(),
                None => return Ok(None),
            },
        };
        let mut spec = spec;
        spec.replicas = records.len() as u32;
        let replicas = futures::future::join_all(records.iter().map(|r| self.replica_of(r))).await;
        Ok(Some(Deployment {
            name: spec.name.clone(),
            backend: NAME.into(),
            spec,
            replicas,
            autoscaler: None,
        }))
    }

    /// Every deployment, after `reconcile` has accounted for every labelled process.
    async fn list_all(&self) -> Result<Vec<Deployment>, BackendError> {
        if let Err(err) = self.reconcile().await {
            tracing::warn!("process backend reconcile: {err}");
        }
        let mut out = Vec::new();
        for name in state::deployment_names(&self.state_dir)? {
            let records = state::read_deployment(&self.state_dir, &name)?;
            if let Some(deployment) = self.deployment_of(&name, &records).await? {
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
}

fn process_env(
    spec: &DeploymentSpec,
    gpus: &[u32],
    inventory: &[AllocatableGpu],
    token: Option<&str>,
) -> std::collections::BTreeMap<String, String> {
    let mut env = super::env::replica_env(spec, gpus, true, token);
    // A MIG device is named by its UUID: CUDA has no index for it.
    if let Some(visible) = env.get_mut("CUDA_VISIBLE_DEVICES") {
        *visible = allocator::device_ids(inventory, gpus).join(",");
    }
    if let Some(cache) = &spec.cache_dir {
        env.entry("HF_HOME".into()).or_insert_with(|| cache.to_string_lossy().to_string());
    }
    env
}

fn send(
    progress: &ProgressTx,
    spec: &DeploymentSpec,
    replica: Option<u32>,
    state: ReplicaState,
    message: String,
) {
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

impl AsyncBackend for ProcessBackend {
    fn place_on(&self, gpus: Vec<AllocatableGpu>) {
        *self.gpus.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = gpus;
    }
    fn name(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { gpu_allocation: true, ..Capabilities::LIFECYCLE }
    }

    async fn health(&self) -> BackendHealth {
        let dir = state::root(&self.state_dir);
        let writable = crate::paths::create_private_dir(&dir).is_ok();
        BackendHealth {
            backend: NAME.into(),
            reachable: writable,
            detail: if writable {
                format!("state in {}", dir.display())
            } else {
                format!("cannot create {}", dir.display())
            },
        }
    }

    async fn list(&self) -> Result<Vec<Deployment>, BackendError> {
        self.list_all().await
    }

    async fn get(&self, name: &str) -> Result<Deployment, BackendError> {
        let records = state::read_deployment(&self.state_dir, name)?;
        self.deployment_of(name, &records)
            .await?
            .ok_or_else(|| BackendError::NotFound(name.to_string()))
    }

    async fn logs(
        &self,
        name: &str,
        options: LogOptions,
    ) -> Result<BoxStream<Result<LogLine, BackendError>>, BackendError> {
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
            return Err(BackendError::Other(format!(
                "`{name}` has no replica {}",
                options.replica.unwrap_or_default()
            )));
        }
        Ok(futures::stream::select_all(streams).boxed())
    }

    async fn events(&self, name: Option<&str>) -> Result<BoxStream<BackendEvent>, BackendError> {
        let backend: Arc<dyn Backend> = Arc::new(self.clone());
        let only = name.map(str::to_string);
        Ok(super::watch::poll_events(backend, only, Duration::from_millis(500)))
    }

    fn render(&self, spec: &DeploymentSpec) -> Result<serde_json::Value, BackendError> {
        validate_spec(spec)?;
        let token = secrets::hf_token();
        let gpu_sets = allocator::allocate(
            &self.inventory(),
            &self.holders()?,
            spec.replicas,
            spec.gpus_per_replica,
        )?;
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
                    "env": secrets::redact(&process_env(
                        spec,
                        &gpus,
                        &self.inventory(),
                        token.as_deref()
                    )),
                    "log": state::log_path(&self.state_dir, &spec.name, index),
                })
            })
            .collect();
        Ok(serde_json::json!({ "backend": NAME, "deployment": spec.name, "replicas": replicas }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CUDA has no index for a MIG device: the engine is told its UUID.
    #[test]
    fn a_replica_on_a_mig_device_sees_it_by_uuid() {
        let state = tempfile::tempdir().unwrap();
        let mig = AllocatableGpu {
            device_id: Some("MIG-6f2a1c3e-5b7d-5e8f-9a0b-1c2d3e4f5a60".into()),
            single: true,
            ..AllocatableGpu::plain(1000)
        };
        let backend = ProcessBackend::new(state.path(), vec![mig]);
        let mut spec =
            DeploymentSpec::minimal("mig", "org/m", crate::model::EngineKind::Vllm, 1, 18000);
        spec.gpu_vendor = Some(crate::model::GpuVendor::Nvidia);
        spec.gpus_per_replica = 1;
        let rendered = crate::backend::Backend::render(&backend, &spec).expect("renders");
        let replica = &rendered["replicas"][0];
        assert_eq!(replica["gpus"], serde_json::json!([1000]));
        assert_eq!(
            replica["env"]["CUDA_VISIBLE_DEVICES"],
            "MIG-6f2a1c3e-5b7d-5e8f-9a0b-1c2d3e4f5a60"
        );
    }
}
