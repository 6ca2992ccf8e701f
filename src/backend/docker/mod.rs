//! The Docker backend: one container per replica (`aimdeck-<name>-<i>`), found again by label.
//! Talks to the Engine API through `bollard`; `DOCKER_HOST` is honoured, and the API version
//! is negotiated so older engines (Debian's 20.10, API 1.41) work.

mod lifecycle;
pub(crate) mod list;
mod render;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::query_parameters::{EventsOptionsBuilder, LogsOptionsBuilder};
use futures::StreamExt;
use tokio::sync::OnceCell;

use self::list::Found;
pub use self::list::PARKED_LABEL;
pub use self::render::{
    DockerOptions, NetworkMode, container_body, container_name, redacted, replica_labels,
};
use super::allocator::{self, AllocatableGpu};
use super::{
    AsyncBackend, BackendError, BoxStream, LogLine, LogOptions, ProgressTx, health, now_rfc3339,
    secrets, validate_spec,
};
use crate::model::{
    BackendEvent, BackendEventKind, BackendHealth, Capabilities, Deployment, DeploymentSpec,
    ReplicaState, labels,
};

pub const NAME: &str = "docker";
const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";
/// Every Engine call gets an answer (its headers) within this, or fails naming the engine: a
/// wedged engine that accepts and never answers must not stall `ls` or the console's list.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

pub struct DockerBackend {
    host: String,
    client: OnceCell<Docker>,
    /// Where new replicas may go; replaced by `place_on` as the GPUs' health changes.
    gpus: std::sync::Arc<std::sync::RwLock<Vec<AllocatableGpu>>>,
    options: DockerOptions,
    http: reqwest::Client,
    /// Where the per-deployment lock files live (`backend::lock`).
    state_dir: PathBuf,
    lock_wait: Duration,
}

impl DockerBackend {
    /// The GPUs new replicas may go on now (a copy: no lock is held across an await).
    fn inventory(&self) -> Vec<AllocatableGpu> {
        self.gpus.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// `host`: an explicit engine address (`--docker-host`), else `DOCKER_HOST`, else the local
    /// socket. No I/O happens until the first call.
    pub fn new(host: Option<&str>, gpus: Vec<AllocatableGpu>, options: DockerOptions) -> Self {
        let host = host
            .map(str::to_string)
            .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()))
            .unwrap_or_else(|| DEFAULT_HOST.to_string());
        DockerBackend {
            host,
            client: OnceCell::new(),
            gpus: std::sync::Arc::new(std::sync::RwLock::new(gpus)),
            options,
            http: health::client(),
            state_dir: crate::paths::state_dir(),
            lock_wait: super::lock::DEFAULT_WAIT,
        }
    }

    /// The state directory holding the deployment locks (the user's state dir by default).
    pub fn with_state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = dir.into();
        self
    }

    /// How long a second writer of one deployment waits for the first.
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// For calls that answer only when the work is done (stop, restart): the stop grace too.
    fn slow_call_timeout(&self) -> Duration {
        CALL_TIMEOUT + Duration::from_secs(self.options.stop_grace_secs.max(0) as u64)
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    async fn docker(&self) -> Result<&Docker, BackendError> {
        self.client
            .get_or_try_init(|| async {
                let unreachable = |e: DockerError| BackendError::DockerUnreachable {
                    host: self.host.clone(),
                    detail: e.to_string(),
                };
                let client = Docker::connect_with_host(&self.host)
                    .map_err(unreachable)?
                    .with_timeout(CALL_TIMEOUT);
                client
                    .negotiate_version()
                    .await
                    .map_err(|e| self.error("asking the engine's version", e))
            })
            .await
    }

    fn error(&self, action: &str, err: DockerError) -> BackendError {
        match err {
            DockerError::DockerResponseServerError { message, .. } => {
                BackendError::Docker { action: action.into(), detail: message }
            }
            DockerError::RequestTimeoutError => BackendError::NoAnswer {
                backend: NAME.into(),
                endpoint: self.host.clone(),
                after: CALL_TIMEOUT,
            },
            other => BackendError::DockerUnreachable {
                host: self.host.clone(),
                detail: format!("{action}: {other}"),
            },
        }
    }
}

fn send(
    progress: &ProgressTx,
    deployment: &str,
    replica: Option<u32>,
    kind: BackendEventKind,
    message: String,
) {
    if let Some(tx) = progress {
        let _ = tx.send(BackendEvent {
            when: now_rfc3339(),
            backend: NAME.into(),
            deployment: deployment.into(),
            replica,
            kind,
            message,
        });
    }
}

impl AsyncBackend for DockerBackend {
    fn place_on(&self, gpus: Vec<AllocatableGpu>) {
        *self.gpus.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = gpus;
    }
    async fn image_presence(
        &self,
        image: &str,
    ) -> Result<crate::backend::ImagePresence, BackendError> {
        let docker = self.docker().await?;
        match docker.inspect_image(image).await {
            Ok(info) => Ok(crate::backend::ImagePresence::Present {
                size_bytes: info.size.and_then(|s| u64::try_from(s).ok()),
            }),
            Err(DockerError::DockerResponseServerError { status_code: 404, .. }) => {
                Ok(crate::backend::ImagePresence::Missing)
            }
            Err(other) => Err(self.error("inspecting the image", other)),
        }
    }
    fn name(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { gpu_allocation: true, images: true, ..Capabilities::LIFECYCLE }
    }

    async fn health(&self) -> BackendHealth {
        let version = match self.docker().await {
            Ok(docker) => tokio::time::timeout(Duration::from_secs(3), docker.version()).await,
            Err(err) => {
                return BackendHealth {
                    backend: NAME.into(),
                    reachable: false,
                    detail: err.to_string(),
                };
            }
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
            Ok(Err(err)) => BackendHealth {
                backend: NAME.into(),
                reachable: false,
                detail: format!("{}: {err}", self.host),
            },
            Err(_) => BackendHealth {
                backend: NAME.into(),
                reachable: false,
                detail: format!("{}: no answer in 3 s", self.host),
            },
        }
    }

    async fn list(&self) -> Result<Vec<Deployment>, BackendError> {
        let found = self.containers(None).await?;
        Ok(self.group(found).await)
    }

    async fn get(&self, name: &str) -> Result<Deployment, BackendError> {
        let found = self.containers(Some(name)).await?;
        self.group(found)
            .await
            .into_iter()
            .next()
            .ok_or_else(|| BackendError::NotFound(name.to_string()))
    }

    async fn logs(
        &self,
        name: &str,
        options: LogOptions,
    ) -> Result<BoxStream<Result<LogLine, BackendError>>, BackendError> {
        let docker = self.docker().await?.clone();
        let found: Vec<Found> = self
            .containers(Some(name))
            .await?
            .into_iter()
            .filter(|f| {
                f.index.is_some_and(|index| options.replica.is_none_or(|want| want == index))
            })
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
            let query = LogsOptionsBuilder::new()
                .follow(options.follow)
                .stdout(true)
                .stderr(true)
                .tail(&tail)
                .build();
            let index = f.index.unwrap_or_default();
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
                        Err(err) => vec![Err(BackendError::DockerUnreachable {
                            host: host.clone(),
                            detail: format!("reading logs: {err}"),
                        })],
                    };
                    futures::stream::iter(lines)
                })
                .boxed()
        });
        Ok(futures::stream::select_all(streams).boxed())
    }

    async fn events(&self, name: Option<&str>) -> Result<BoxStream<BackendEvent>, BackendError> {
        let docker = self.docker().await?.clone();
        let filters = HashMap::from([
            ("type", vec!["container".to_string()]),
            ("label", labels::filter(name)),
        ]);
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
            let exit =
                attributes.get("exitCode").map(|c| format!(" (exit code {c})")).unwrap_or_default();
            let container = attributes.get("name").cloned().unwrap_or_default();
            Some(BackendEvent {
                when,
                backend: NAME.into(),
                deployment,
                replica,
                kind,
                message: format!("{container} {action}{exit}"),
            })
        });
        Ok(stream.boxed())
    }

    /// Renders without asking the engine which GPUs are held: a dry run works offline.
    fn render(&self, spec: &DeploymentSpec) -> Result<serde_json::Value, BackendError> {
        validate_spec(spec)?;
        let token = secrets::hf_token();
        let gpu_sets =
            allocator::allocate(&self.inventory(), &[], spec.replicas, spec.gpus_per_replica)?;
        let containers: Vec<serde_json::Value> = (0..spec.replicas)
            .zip(gpu_sets)
            .map(|(index, gpus)| {
                let body = redacted(&container_body(
                    spec,
                    index,
                    &gpus,
                    &self.inventory(),
                    &self.options,
                    token.as_deref(),
                ));
                serde_json::json!({ "name": container_name(&spec.name, index), "config": body })
            })
            .collect();
        Ok(
            serde_json::json!({ "backend": NAME, "deployment": spec.name, "containers": containers }),
        )
    }
}
