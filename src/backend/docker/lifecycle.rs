//! Create, scale, restart and delete of Docker deployments. Each holds the deployment's lock
//! (`backend::lock`, in the state directory) while it works, so two aimdeck processes never
//! change one deployment at once. Scaling to 0 parks the deployment: a created, never started
//! container keeps its spec, so `scale NAME 1` brings it back and `ls` shows it stopped.

use std::time::Duration;

use bollard::errors::Error as DockerError;
use bollard::models::{ContainerCreateBody, ContainerStateStatusEnum, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, RemoveContainerOptionsBuilder,
    RestartContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use futures::StreamExt;

use super::list::{Found, PARKED_LABEL};
use super::render::{DockerOptions, container_body, container_name, replica_labels};
use super::{DockerBackend, NAME, send};
use crate::backend::lock::{self, DeploymentLock};
use crate::backend::{
    AsyncBackend, BackendError, Lifecycle, ProgressTx, allocator, ports, secrets, validate_spec,
};
use crate::model::{BackendEventKind, Deployment, DeploymentSpec, ReplicaState, labels};

/// The image a Docker deployment runs: it has no default, so a spec without one is refused
/// before anything is made.
fn required_image(spec: &DeploymentSpec) -> Result<&str, BackendError> {
    spec.image.as_deref().ok_or_else(|| {
        BackendError::InvalidSpec("image: the docker backend needs an image (--image)".into())
    })
}

impl DockerBackend {
    async fn lock(&self, name: &str, action: &str) -> Result<DeploymentLock, BackendError> {
        lock::acquire(&self.state_dir, NAME, name, action, self.lock_wait).await
    }

    /// Checks for the image and pulls it (with progress) when it is missing.
    async fn ensure_image(
        &self,
        spec: &DeploymentSpec,
        progress: &ProgressTx,
    ) -> Result<(), BackendError> {
        let docker = self.docker().await?;
        let image = required_image(spec)?;
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
                    send(
                        progress,
                        &spec.name,
                        None,
                        BackendEventKind::Pull { current, total },
                        info.status.unwrap_or_default(),
                    );
                }
                Err(DockerError::DockerResponseServerError { message, .. }) => {
                    return Err(BackendError::ImageUnavailable {
                        image: image.into(),
                        detail: message,
                    });
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
            let result = self
                .start_one(
                    spec,
                    index,
                    &gpus,
                    token.as_deref(),
                    &name,
                    options,
                    &mut made,
                    progress,
                )
                .await;
            if let Err(cause) = result {
                let mut leftovers = Vec::new();
                for container in made.iter().rev() {
                    if !self.remove_with_retries(container).await {
                        leftovers.push(container.clone());
                    }
                }
                return Err(BackendError::RolledBack {
                    action: format!("creating `{}`", spec.name),
                    cause: Box::new(cause),
                    leftovers,
                });
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
        let body = container_body(spec, index, gpus, &self.inventory(), options, token);
        send(
            progress,
            &spec.name,
            Some(index),
            BackendEventKind::State { state: ReplicaState::Creating },
            format!("creating {name}"),
        );
        let query = CreateContainerOptionsBuilder::new().name(name).build();
        docker
            .create_container(Some(query), body)
            .await
            .map_err(|e| self.error(&format!("creating {name}"), e))?;
        made.push(name.to_string());
        docker
            .start_container(name, None)
            .await
            .map_err(|e| self.error(&format!("starting {name}"), e))?;
        send(
            progress,
            &spec.name,
            Some(index),
            BackendEventKind::State { state: ReplicaState::Starting },
            format!("started {name}"),
        );
        Ok(())
    }

    /// Rollback removal. An engine that went away mid-operation (a daemon restart) often comes
    /// back within seconds, so an unreachable engine is retried for about 3 s before the
    /// container is reported as left behind.
    async fn remove_with_retries(&self, container: &str) -> bool {
        for attempt in 0..7 {
            match self.remove(container, 0).await {
                Ok(()) => return true,
                Err(BackendError::DockerUnreachable { .. } | BackendError::NoAnswer { .. })
                    if attempt < 6 =>
                {
                    tokio::time::sleep(Duration::from_millis(500)).await
                }
                Err(_) => return false,
            }
        }
        false
    }

    /// Graceful stop (`grace` seconds, then SIGKILL), then removal.
    pub(super) async fn remove(&self, container: &str, grace: i32) -> Result<(), BackendError> {
        // A stop answers once the container has stopped: up to the grace, then SIGKILL.
        let docker = self.docker().await?.clone().with_timeout(self.slow_call_timeout());
        if grace > 0 {
            let options = StopContainerOptionsBuilder::new().t(grace).build();
            match docker.stop_container(container, Some(options)).await {
                Ok(())
                | Err(DockerError::DockerResponseServerError { status_code: 304 | 404, .. }) => {}
                Err(other) => return Err(self.error(&format!("stopping {container}"), other)),
            }
        }
        let options = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
        match docker.remove_container(container, Some(options)).await {
            Ok(()) | Err(DockerError::DockerResponseServerError { status_code: 404, .. }) => Ok(()),
            Err(other) => Err(self.error(&format!("removing {container}"), other)),
        }
    }

    /// The container that keeps a deployment scaled to 0: the spec label, no replica label,
    /// no network, never started.
    async fn park(
        &self,
        spec: &DeploymentSpec,
        network: Option<super::render::NetworkMode>,
    ) -> Result<(), BackendError> {
        let docker = self.docker().await?;
        let mut container_labels = replica_labels(spec, 0, &[]);
        container_labels.remove(labels::REPLICA);
        container_labels.remove(labels::GPUS);
        container_labels.insert(PARKED_LABEL.to_string(), "true".to_string());
        if let Some(network) = network {
            container_labels
                .insert(super::render::NETWORK_LABEL.to_string(), network.as_str().to_string());
        }
        let body = ContainerCreateBody {
            image: spec.image.clone(),
            labels: Some(container_labels),
            host_config: Some(HostConfig {
                network_mode: Some("none".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let name = format!("aimdeck-{}-parked", spec.name);
        let query = CreateContainerOptionsBuilder::new().name(&name).build();
        docker
            .create_container(Some(query), body)
            .await
            .map_err(|e| self.error(&format!("creating {name}"), e))?;
        Ok(())
    }
}

impl Lifecycle for DockerBackend {
    async fn create(
        &self,
        spec: &DeploymentSpec,
        progress: ProgressTx,
    ) -> Result<Deployment, BackendError> {
        validate_spec(spec)?;
        required_image(spec)?;
        let _lock = self.lock(&spec.name, "created").await?;
        if !self.containers(Some(&spec.name)).await?.is_empty() {
            return Err(BackendError::AlreadyExists(spec.name.clone()));
        }
        // GPUs and every port are checked before anything starts.
        let gpu_sets = allocator::allocate(
            &self.inventory(),
            &self.holders().await?,
            spec.replicas,
            spec.gpus_per_replica,
        )?;
        ports::ensure_free((0..spec.replicas).map(|i| spec.replica_port(i)))?;
        self.ensure_image(spec, &progress).await?;
        let indices: Vec<u32> = (0..spec.replicas).collect();
        self.start_replicas(spec, &indices, gpu_sets, &self.options, &progress).await?;
        AsyncBackend::get(self, &spec.name).await
    }

    async fn scale(
        &self,
        name: &str,
        replicas: u32,
        progress: ProgressTx,
    ) -> Result<Deployment, BackendError> {
        let _lock = self.lock(name, "scaled").await?;
        let found = self.containers(Some(name)).await?;
        let Some(mut spec) = found.iter().find_map(|f| f.spec.clone()) else {
            return Err(BackendError::NotFound(name.to_string()));
        };
        let parked: Vec<&Found> = found.iter().filter(|f| f.index.is_none()).collect();
        let running: Vec<(&Found, u32)> =
            found.iter().filter_map(|f| Some((f, f.index?))).collect();
        let current = running.len() as u32;
        if replicas > current {
            spec.replicas = replicas;
            validate_spec(&spec)?;
            let used: Vec<u32> = running.iter().map(|(_, i)| *i).collect();
            let indices: Vec<u32> =
                (0..).filter(|i| !used.contains(i)).take((replicas - current) as usize).collect();
            // The whole scale's GPUs and ports are checked before any replica starts.
            let gpu_sets = allocator::allocate(
                &self.inventory(),
                &self.holders().await?,
                replicas - current,
                spec.gpus_per_replica,
            )?;
            ports::ensure_free(indices.iter().map(|&i| spec.replica_port(i)))?;
            self.ensure_image(&spec, &progress).await?;
            // New replicas join the deployment's network the way the first ones did.
            let mut options = self.options.clone();
            if let Some(network) = found.iter().find_map(|f| f.network) {
                options.network = network;
            }
            self.start_replicas(&spec, &indices, gpu_sets, &options, &progress).await?;
            // Running again: the parked container has done its job.
            for f in parked {
                self.remove(&f.id, 0).await?;
            }
        } else {
            if replicas == 0 && parked.is_empty() {
                // Parked first: were this process killed halfway, the spec is still there.
                self.park(&spec, found.iter().find_map(|f| f.network)).await?;
            }
            for (f, index) in running.iter().rev().take((current - replicas) as usize) {
                let container = container_name(name, *index);
                send(
                    &progress,
                    name,
                    Some(*index),
                    BackendEventKind::State { state: ReplicaState::Stopping },
                    format!("stopping {container}"),
                );
                self.remove(&f.id, self.options.stop_grace_secs).await?;
            }
        }
        AsyncBackend::get(self, name).await
    }

    /// Removes every container labelled for the deployment: replicas, parked, half-made.
    async fn delete(&self, name: &str) -> Result<(), BackendError> {
        let _lock = self.lock(name, "removed").await?;
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

    /// Restarts each replica and checks it is running afterwards; says which did not come back.
    async fn restart(&self, name: &str) -> Result<(), BackendError> {
        let _lock = self.lock(name, "restarted").await?;
        let found = self.containers(Some(name)).await?;
        let replicas: Vec<(&Found, u32)> =
            found.iter().filter_map(|f| Some((f, f.index?))).collect();
        if replicas.is_empty() {
            return Err(if found.is_empty() {
                BackendError::NotFound(name.to_string())
            } else {
                BackendError::Other(format!(
                    "`{name}` is scaled to 0: nothing to restart; scale it up instead"
                ))
            });
        }
        // A restart answers once the container is stopped and started again: up to the grace.
        let docker = self.docker().await?.clone().with_timeout(self.slow_call_timeout());
        let mut failures = Vec::new();
        for (f, index) in &replicas {
            let options =
                RestartContainerOptionsBuilder::new().t(self.options.stop_grace_secs).build();
            if let Err(err) = docker.restart_container(&f.id, Some(options)).await {
                failures.push(format!("replica {index}: {}", self.error("restarting", err)));
                continue;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            match docker.inspect_container(&f.id, None).await {
                Ok(info)
                    if info.state.as_ref().and_then(|s| s.status)
                        == Some(ContainerStateStatusEnum::RUNNING) => {}
                Ok(info) => {
                    let state = info.state.unwrap_or_default();
                    failures.push(format!(
                        "replica {index} is {} (exit code {})",
                        state.status.map(|s| s.to_string()).unwrap_or_default(),
                        state.exit_code.unwrap_or_default()
                    ));
                }
                Err(err) => {
                    failures.push(format!("replica {index}: {}", self.error("inspecting", err)))
                }
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(BackendError::Other(format!(
                "restart of `{name}`: {} of {} replicas did not come back: {}",
                failures.len(),
                replicas.len(),
                failures.join("; ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::ErrorKind;
    use crate::model::EngineKind;

    /// A spec without an image is refused before the engine is asked anything: the engine
    /// here does not exist, and the error is still the spec's.
    #[tokio::test]
    async fn a_spec_without_an_image_is_refused_before_any_engine_call() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = format!("unix://{}", dir.path().join("no-docker.sock").display());
        let backend = DockerBackend::new(Some(&missing), Vec::new(), DockerOptions::default())
            .with_state_dir(dir.path());
        let spec = DeploymentSpec::minimal("noimage", "Qwen/Qwen3-0.6B", EngineKind::Vllm, 1, 8000);
        let err = Lifecycle::create(&backend, &spec, None).await.expect_err("no image");
        assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
        assert_eq!(
            err.to_string(),
            "invalid deployment: image: the docker backend needs an image (--image)"
        );
        assert!(std::fs::read_dir(dir.path()).expect("state dir").next().is_none(), "no lock");
    }
}
