//! The Docker backend: one container per replica (`aimdeck-<name>-<i>`), found again by label.
//! Talks to the Engine API through `bollard`; `DOCKER_HOST` is honoured, and the API version
//! is negotiated so older engines (Debian's 20.10, API 1.41) work.

mod render;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::models::{ContainerSummary, ContainerSummaryStateEnum};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, EventsOptionsBuilder, ListContainersOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, RestartContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use futures::StreamExt;
use futures::future::BoxFuture;
use tokio::sync::OnceCell;

pub use self::render::{DockerOptions, NetworkMode, container_body, container_name, redacted, replica_labels};
use super::allocator::{self, AllocatableGpu, Holder, parse_gpu_label};
use super::{Backend, BackendError, BoxStream, LogLine, LogOptions, ProgressTx, health, now_rfc3339, ports, secrets, validate_spec};
use crate::model::{
    BackendEvent, BackendEventKind, BackendHealth, Capabilities, Deployment, DeploymentSpec, Replica, ReplicaState, labels,
};

pub const NAME: &str = "docker";
const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

pub struct DockerBackend {
    host: String,
    client: OnceCell<Docker>,
    gpus: Vec<AllocatableGpu>,
    options: DockerOptions,
    http: reqwest::Client,
}

/// One of our containers, read from its labels.
#[derive(Debug, Clone)]
struct Found {
    id: String,
    deployment: String,
    index: u32,
    gpus: Vec<u32>,
    spec: Option<DeploymentSpec>,
    state: Option<ContainerSummaryStateEnum>,
    status: String,
    network: Option<NetworkMode>,
}

impl DockerBackend {
    /// `host`: an explicit engine address (`--docker-host`), else `DOCKER_HOST`, else the local
    /// socket. No I/O happens until the first call.
    pub fn new(host: Option<&str>, gpus: Vec<AllocatableGpu>, options: DockerOptions) -> Self {
        let host = host
            .map(str::to_string)
            .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()))
            .unwrap_or_else(|| DEFAULT_HOST.to_string());
        DockerBackend { host, client: OnceCell::new(), gpus, options, http: health::client() }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    async fn docker(&self) -> Result<&Docker, BackendError> {
        self.client
            .get_or_try_init(|| async {
                let unreachable = |e: DockerError| BackendError::DockerUnreachable { host: self.host.clone(), detail: e.to_string() };
                let client = Docker::connect_with_host(&self.host).map_err(unreachable)?;
                client.negotiate_version().await.map_err(unreachable)
            })
            .await
    }

    fn error(&self, action: &str, err: DockerError) -> BackendError {
        match err {
            DockerError::DockerResponseServerError { message, .. } => BackendError::Docker { action: action.into(), detail: message },
            other => BackendError::DockerUnreachable { host: self.host.clone(), detail: format!("{action}: {other}") },
        }
    }

    async fn containers(&self, deployment: Option<&str>) -> Result<Vec<Found>, BackendError> {
        let docker = self.docker().await?;
        let mut label_filters = vec![format!("{}={}", labels::MANAGED_BY, labels::MANAGED_BY_VALUE)];
        if let Some(name) = deployment {
            label_filters.push(format!("{}={name}", labels::DEPLOYMENT));
        }
        let filters = HashMap::from([("label", label_filters)]);
        let options = ListContainersOptionsBuilder::new().all(true).filters(&filters).build();
        let summaries = docker.list_containers(Some(options)).await.map_err(|e| self.error("listing containers", e))?;
        let mut found: Vec<Found> = summaries.into_iter().filter_map(found_from).collect();
        found.sort_by(|a, b| (&a.deployment, a.index).cmp(&(&b.deployment, b.index)));
        Ok(found)
    }

    async fn replica_of(&self, found: &Found, spec: &DeploymentSpec) -> Replica {
        let port = spec.replica_port(found.index);
        let (state, detail) = match found.state {
            Some(ContainerSummaryStateEnum::RUNNING) => health::probe(&self.http, port).await.state(),
            Some(ContainerSummaryStateEnum::CREATED) => (ReplicaState::Creating, None),
            Some(ContainerSummaryStateEnum::RESTARTING) => (ReplicaState::Starting, Some(found.status.clone())),
            Some(ContainerSummaryStateEnum::PAUSED) => (ReplicaState::Unhealthy, Some(found.status.clone())),
            Some(ContainerSummaryStateEnum::REMOVING | ContainerSummaryStateEnum::STOPPING) => (ReplicaState::Stopping, None),
            Some(ContainerSummaryStateEnum::DEAD) => (ReplicaState::Failed, Some(found.status.clone())),
            _ => (ReplicaState::Exited, Some(found.status.clone())),
        };
        Replica {
            index: found.index,
            name: container_name(&found.deployment, found.index),
            port,
            gpus: found.gpus.clone(),
            state,
            detail,
            pid: None,
            container_id: Some(found.id.clone()),
            log_path: None,
        }
    }

    async fn group(&self, found: Vec<Found>) -> Vec<Deployment> {
        let mut by_name: BTreeMap<String, Vec<Found>> = BTreeMap::new();
        for f in found {
            by_name.entry(f.deployment.clone()).or_default().push(f);
        }
        let mut out = Vec::new();
        for (name, members) in by_name {
            let Some(mut spec) = members.iter().find_map(|m| m.spec.clone()) else { continue };
            spec.replicas = members.len() as u32;
            let replicas = futures::future::join_all(members.iter().map(|m| self.replica_of(m, &spec))).await;
            out.push(Deployment { name, backend: NAME.into(), spec, replicas, autoscaler: None });
        }
        out
    }

    async fn holders(&self) -> Result<Vec<Holder>, BackendError> {
        let mut by_name: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for f in self.containers(None).await? {
            by_name.entry(f.deployment).or_default().extend(f.gpus);
        }
        Ok(by_name.into_iter().map(|(deployment, gpus)| Holder { deployment, gpus }).collect())
    }

    /// Checks for the image and pulls it (with progress) when it is missing.
    async fn ensure_image(&self, spec: &DeploymentSpec, progress: &ProgressTx) -> Result<(), BackendError> {
        let docker = self.docker().await?;
        let Some(image) = spec.image.as_deref() else {
            return Err(BackendError::InvalidSpec("image: the docker backend needs an image (--image)".into()));
        };
        match docker.inspect_image(image).await {
            Ok(_) => return Ok(()),
            Err(DockerError::DockerResponseServerError { status_code: 404, .. }) => {}
            Err(other) => return Err(self.error("inspecting the image", other)),
        }
        let options = CreateImageOptionsBuilder::new().from_image(image).build();
        let mut pull = docker.create_image(Some(options), None, None);
        while let Some(step) = pull.next().await {
            match step {
                Ok(info) => {
                    if let Some(detail) = info.error_detail.and_then(|d| d.message) {
                        return Err(BackendError::ImageUnavailable { image: image.into(), detail });
                    }
                    let (current, total) = info
                        .progress_detail
                        .map(|p| (p.current.map(|c| c as u64), p.total.map(|t| t as u64)))
                        .unwrap_or((None, None));
                    send(progress, &spec.name, None, BackendEventKind::Pull { current, total }, info.status.unwrap_or_default());
                }
                Err(DockerError::DockerResponseServerError { message, .. }) => {
                    return Err(BackendError::ImageUnavailable { image: image.into(), detail: message });
                }
                Err(other) => return Err(self.error("pulling the image", other)),
            }
        }
        Ok(())
    }

    /// Creates and starts replicas; on failure removes every container it made.
    async fn start_replicas(
        &self,
        spec: &DeploymentSpec,
        indices: &[u32],
        gpu_sets: Vec<Vec<u32>>,
        options: &DockerOptions,
        progress: &ProgressTx,
    ) -> Result<(), BackendError> {
        let token = secrets::hf_token();
        let mut made: Vec<String> = Vec::new();
        for (&index, gpus) in indices.iter().zip(gpu_sets) {
            let name = container_name(&spec.name, index);
            let result = self.start_one(spec, index, &gpus, token.as_deref(), &name, options, &mut made, progress).await;
            if let Err(cause) = result {
                let mut leftovers = Vec::new();
                for container in made.iter().rev() {
                    if !self.remove_with_retries(container).await {
                        leftovers.push(container.clone());
                    }
                }
                return Err(BackendError::RolledBack { action: format!("creating `{}`", spec.name), cause: Box::new(cause), leftovers });
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn start_one(
        &self,
        spec: &DeploymentSpec,
        index: u32,
        gpus: &[u32],
        token: Option<&str>,
        name: &str,
        options: &DockerOptions,
        made: &mut Vec<String>,
        progress: &ProgressTx,
    ) -> Result<(), BackendError> {
        let docker = self.docker().await?;
        let body = container_body(spec, index, gpus, &self.gpus, options, token);
        send(progress, &spec.name, Some(index), BackendEventKind::State { state: ReplicaState::Creating }, format!("creating {name}"));
        let query = CreateContainerOptionsBuilder::new().name(name).build();
        docker.create_container(Some(query), body).await.map_err(|e| self.error(&format!("creating {name}"), e))?;
        made.push(name.to_string());
        docker.start_container(name, None).await.map_err(|e| self.error(&format!("starting {name}"), e))?;
        send(progress, &spec.name, Some(index), BackendEventKind::State { state: ReplicaState::Starting }, format!("started {name}"));
        Ok(())
    }

    /// Rollback removal. An engine that went away mid-operation (a daemon restart) often comes
    /// back within seconds, so an unreachable engine is retried for about 3 s before the
    /// container is reported as left behind.
    async fn remove_with_retries(&self, container: &str) -> bool {
        for attempt in 0..7 {
            match self.remove(container, 0).await {
                Ok(()) => return true,
                Err(BackendError::DockerUnreachable { .. }) if attempt < 6 => tokio::time::sleep(Duration::from_millis(500)).await,
                Err(_) => return false,
            }
        }
        false
    }

    /// Graceful stop (`grace` seconds, then SIGKILL), then removal.
    async fn remove(&self, container: &str, grace: i32) -> Result<(), BackendError> {
        let docker = self.docker().await?;
        if grace > 0 {
            let options = StopContainerOptionsBuilder::new().t(grace).build();
            match docker.stop_container(container, Some(options)).await {
                Ok(()) | Err(DockerError::DockerResponseServerError { status_code: 304 | 404, .. }) => {}
                Err(other) => return Err(self.error(&format!("stopping {container}"), other)),
            }
        }
        let options = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
        match docker.remove_container(container, Some(options)).await {
            Ok(()) | Err(DockerError::DockerResponseServerError { status_code: 404, .. }) => Ok(()),
            Err(other) => Err(self.error(&format!("removing {container}"), other)),
        }
    }

    async fn create_impl(&self, spec: &DeploymentSpec, progress: ProgressTx) -> Result<Deployment, BackendError> {
        validate_spec(spec)?;
        if spec.image.is_none() {
            return Err(BackendError::InvalidSpec("image: the docker backend needs an image (--image)".into()));
        }
        if !self.containers(Some(&spec.name)).await?.is_empty() {
            return Err(BackendError::AlreadyExists(spec.name.clone()));
        }
        let gpu_sets = allocator::allocate(&self.gpus, &self.holders().await?, spec.replicas, spec.gpus_per_replica)?;
        ports::ensure_free((0..spec.replicas).map(|i| spec.replica_port(i)))?;
        self.ensure_image(spec, &progress).await?;
        let indices: Vec<u32> = (0..spec.replicas).collect();
        self.start_replicas(spec, &indices, gpu_sets, &self.options, &progress).await?;
        self.get_impl(&spec.name).await
    }

    async fn get_impl(&self, name: &str) -> Result<Deployment, BackendError> {
        let found = self.containers(Some(name)).await?;
        self.group(found).await.into_iter().next().ok_or_else(|| BackendError::NotFound(name.to_string()))
    }

    async fn scale_impl(&self, name: &str, replicas: u32, progress: ProgressTx) -> Result<Deployment, BackendError> {
        let found = self.containers(Some(name)).await?;
        let Some(mut spec) = found.iter().find_map(|f| f.spec.clone()) else {
            return Err(BackendError::NotFound(name.to_string()));
        };
        let current = found.len() as u32;
        if replicas > current {
            spec.replicas = replicas;
            validate_spec(&spec)?;
            let used: Vec<u32> = found.iter().map(|f| f.index).collect();
            let indices: Vec<u32> = (0..).filter(|i| !used.contains(i)).take((replicas - current) as usize).collect();
            let gpu_sets = allocator::allocate(&self.gpus, &self.holders().await?, replicas - current, spec.gpus_per_replica)?;
            ports::ensure_free(indices.iter().map(|&i| spec.replica_port(i)))?;
            self.ensure_image(&spec, &progress).await?;
            // New replicas join the deployment's network the way the first ones did.
            let mut options = self.options.clone();
            if let Some(network) = found.iter().find_map(|f| f.network) {
                options.network = network;
            }
            self.start_replicas(&spec, &indices, gpu_sets, &options, &progress).await?;
        } else {
            for f in found.iter().rev().take((current - replicas) as usize) {
                let container = container_name(name, f.index);
                send(&progress, name, Some(f.index), BackendEventKind::State { state: ReplicaState::Stopping }, format!("stopping {container}"));
                self.remove(&f.id, self.options.stop_grace_secs).await?;
            }
            if replicas == 0 {
                spec.replicas = 0;
                return Ok(Deployment { name: name.into(), backend: NAME.into(), spec, replicas: Vec::new(), autoscaler: None });
            }
        }
        self.get_impl(name).await
    }

    async fn delete_impl(&self, name: &str) -> Result<(), BackendError> {
        let found = self.containers(Some(name)).await?;
        if found.is_empty() {
            return Err(BackendError::NotFound(name.to_string()));
        }
        let removals = found.iter().map(|f| self.remove(&f.id, self.options.stop_grace_secs));
        for result in futures::future::join_all(removals).await {
            result?;
        }
        Ok(())
    }

    async fn restart_impl(&self, name: &str) -> Result<(), BackendError> {
        let docker = self.docker().await?;
        let found = self.containers(Some(name)).await?;
        if found.is_empty() {
            return Err(BackendError::NotFound(name.to_string()));
        }
        for f in found {
            let options = RestartContainerOptionsBuilder::new().t(self.options.stop_grace_secs).build();
            docker.restart_container(&f.id, Some(options)).await.map_err(|e| self.error("restarting", e))?;
        }
        Ok(())
    }

    async fn logs_impl(&self, name: &str, options: LogOptions) -> Result<BoxStream<Result<LogLine, BackendError>>, BackendError> {
        let docker = self.docker().await?.clone();
        let found: Vec<Found> = self
            .containers(Some(name))
            .await?
            .into_iter()
            .filter(|f| options.replica.is_none_or(|want| want == f.index))
            .collect();
        if found.is_empty() {
            return Err(match options.replica {
                Some(i) => BackendError::Other(format!("`{name}` has no replica {i}")),
                None => BackendError::NotFound(name.to_string()),
            });
        }
        let host = self.host.clone();
        let streams = found.into_iter().map(|f| {
            let tail = options.tail.map(|n| n.to_string()).unwrap_or_else(|| "all".into());
            let query = LogsOptionsBuilder::new().follow(options.follow).stdout(true).stderr(true).tail(&tail).build();
            let index = f.index;
            let host = host.clone();
            docker
                .logs(&f.id, Some(query))
                .flat_map(move |chunk| {
                    let lines: Vec<Result<LogLine, BackendError>> = match chunk {
                        Ok(output) => output
                            .to_string()
                            .lines()
                            .map(|text| Ok(LogLine { replica: index, text: text.to_string() }))
                            .collect(),
                        Err(err) => vec![Err(BackendError::DockerUnreachable { host: host.clone(), detail: format!("reading logs: {err}") })],
                    };
                    futures::stream::iter(lines)
                })
                .boxed()
        });
        Ok(futures::stream::select_all(streams).boxed())
    }

    async fn events_impl(&self, name: Option<&str>) -> Result<BoxStream<BackendEvent>, BackendError> {
        let docker = self.docker().await?.clone();
        let mut label_filters = vec![format!("{}={}", labels::MANAGED_BY, labels::MANAGED_BY_VALUE)];
        if let Some(name) = name {
            label_filters.push(format!("{}={name}", labels::DEPLOYMENT));
        }
        let filters = HashMap::from([("type", vec!["container".to_string()]), ("label", label_filters)]);
        let options = EventsOptionsBuilder::new().filters(&filters).build();
        let stream = docker.events(Some(options)).filter_map(|message| async move {
            let message = message.ok()?;
            let action = message.action.unwrap_or_default();
            let attributes = message.actor.and_then(|a| a.attributes).unwrap_or_default();
            let deployment = attributes.get(labels::DEPLOYMENT)?.clone();
            let replica = attributes.get(labels::REPLICA).and_then(|r| r.parse().ok());
            let when = message
                .time
                .and_then(|t| jiff::Timestamp::from_second(t).ok())
                .map(|t| t.to_string())
                .unwrap_or_else(now_rfc3339);
            let kind = match action.as_str() {
                "create" => BackendEventKind::State { state: ReplicaState::Creating },
                "start" => BackendEventKind::State { state: ReplicaState::Starting },
                "kill" | "stop" => BackendEventKind::State { state: ReplicaState::Stopping },
                "die" => BackendEventKind::State { state: ReplicaState::Exited },
                _ => BackendEventKind::Other { action: action.clone() },
            };
            let exit = attributes.get("exitCode").map(|c| format!(" (exit code {c})")).unwrap_or_default();
            let container = attributes.get("name").cloned().unwrap_or_default();
            Some(BackendEvent { when, backend: NAME.into(), deployment, replica, kind, message: format!("{container} {action}{exit}") })
        });
        Ok(stream.boxed())
    }

    fn render_impl(&self, spec: &DeploymentSpec, held: &[Holder]) -> Result<serde_json::Value, BackendError> {
        validate_spec(spec)?;
        let token = secrets::hf_token();
        let gpu_sets = allocator::allocate(&self.gpus, held, spec.replicas, spec.gpus_per_replica)?;
        let containers: Vec<serde_json::Value> = (0..spec.replicas)
            .zip(gpu_sets)
            .map(|(index, gpus)| {
                let body = redacted(&container_body(spec, index, &gpus, &self.gpus, &self.options, token.as_deref()));
                serde_json::json!({ "name": container_name(&spec.name, index), "config": body })
            })
            .collect();
        Ok(serde_json::json!({ "backend": NAME, "deployment": spec.name, "containers": containers }))
    }
}

fn found_from(summary: ContainerSummary) -> Option<Found> {
    let labels_map = summary.labels.unwrap_or_default();
    let deployment = labels_map.get(labels::DEPLOYMENT)?.clone();
    let index = labels_map.get(labels::REPLICA)?.parse().ok()?;
    Some(Found {
        id: summary.id?,
        deployment,
        index,
        gpus: labels_map.get(labels::GPUS).map(|g| parse_gpu_label(g)).unwrap_or_default(),
        spec: labels_map.get(labels::SPEC_ANNOTATION).and_then(|s| serde_json::from_str(s).ok()),
        state: summary.state,
        status: summary.status.unwrap_or_default(),
        network: labels_map.get(render::NETWORK_LABEL).and_then(|n| n.parse().ok()),
    })
}

fn send(progress: &ProgressTx, deployment: &str, replica: Option<u32>, kind: BackendEventKind, message: String) {
    if let Some(tx) = progress {
        let _ = tx.send(BackendEvent { when: now_rfc3339(), backend: NAME.into(), deployment: deployment.into(), replica, kind, message });
    }
}

impl Backend for DockerBackend {
    fn name(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { scale: true, restart: true, logs_follow: true, events: true, gpu_allocation: true, images: true }
    }

    fn health(&self) -> BoxFuture<'_, BackendHealth> {
        Box::pin(async move {
            let version = match self.docker().await {
                Ok(docker) => tokio::time::timeout(Duration::from_secs(3), docker.version()).await,
                Err(err) => return BackendHealth { backend: NAME.into(), reachable: false, detail: err.to_string() },
            };
            match version {
                Ok(Ok(v)) => BackendHealth {
                    backend: NAME.into(),
                    reachable: true,
                    detail: format!(
                        "Docker Engine {} (API {}) at {}",
                        v.version.unwrap_or_default(),
                        v.api_version.unwrap_or_default(),
                        self.host
                    ),
                },
                Ok(Err(err)) => BackendHealth { backend: NAME.into(), reachable: false, detail: format!("{}: {err}", self.host) },
                Err(_) => BackendHealth { backend: NAME.into(), reachable: false, detail: format!("{}: no answer in 3 s", self.host) },
            }
        })
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<Deployment>, BackendError>> {
        Box::pin(async move {
            let found = self.containers(None).await?;
            Ok(self.group(found).await)
        })
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
        Box::pin(self.logs_impl(name, options))
    }

    fn events<'a>(&'a self, name: Option<&'a str>) -> BoxFuture<'a, Result<BoxStream<BackendEvent>, BackendError>> {
        Box::pin(self.events_impl(name))
    }

    /// Renders without asking the engine which GPUs are held: a dry run works offline.
    fn render(&self, spec: &DeploymentSpec) -> Result<serde_json::Value, BackendError> {
        self.render_impl(spec, &[])
    }
}
