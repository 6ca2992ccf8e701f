//! Finding our containers again: by label, one query for the whole engine or one deployment,
//! grouped into deployments. A deployment scaled to 0 is its parked container (created, never
//! started), which carries the spec label and no replica label.

use std::collections::{BTreeMap, HashMap};

use bollard::models::{ContainerSummary, ContainerSummaryStateEnum};
use bollard::query_parameters::{ListContainersOptionsBuilder, LogsOptionsBuilder};

use super::render::{self, NetworkMode, container_name};
use super::{DockerBackend, NAME};
use crate::backend::allocator::{Holder, parse_gpu_label};
use crate::backend::{BackendError, health};
use crate::model::{Deployment, DeploymentSpec, Replica, ReplicaHandle, ReplicaState, labels};

/// Marks the container that keeps a deployment scaled to 0 (its spec in the usual label).
pub const PARKED_LABEL: &str = "aimdeck.io/parked";

/// One of our containers, read from its labels.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub id: String,
    pub deployment: String,
    /// `None` for the parked container of a deployment scaled to 0.
    pub index: Option<u32>,
    pub gpus: Vec<u32>,
    pub spec: Option<DeploymentSpec>,
    pub state: Option<ContainerSummaryStateEnum>,
    pub status: String,
    pub network: Option<NetworkMode>,
}

impl DockerBackend {
    /// Our containers (parked ones included), sorted by deployment and replica.
    pub(super) async fn containers(
        &self,
        deployment: Option<&str>,
    ) -> Result<Vec<Found>, BackendError> {
        let docker = self.docker().await?;
        let filters = HashMap::from([("label", labels::filter(deployment))]);
        let options = ListContainersOptionsBuilder::new().all(true).filters(&filters).build();
        let summaries = docker
            .list_containers(Some(options))
            .await
            .map_err(|e| self.error("listing containers", e))?;
        let mut found: Vec<Found> = summaries.into_iter().filter_map(found_from).collect();
        found.sort_by(|a, b| (&a.deployment, a.index).cmp(&(&b.deployment, b.index)));
        Ok(found)
    }

    async fn replica_of(&self, found: &Found, index: u32, spec: &DeploymentSpec) -> Replica {
        let port = spec.replica_port(index);
        let (state, detail) = match found.state {
            Some(ContainerSummaryStateEnum::RUNNING) => {
                health::probe(&self.http, port, spec.engine).await.state()
            }
            Some(ContainerSummaryStateEnum::CREATED) => (ReplicaState::Creating, None),
            Some(ContainerSummaryStateEnum::RESTARTING) => {
                (ReplicaState::Starting, Some(found.status.clone()))
            }
            Some(ContainerSummaryStateEnum::PAUSED) => {
                (ReplicaState::Unhealthy, Some(found.status.clone()))
            }
            Some(ContainerSummaryStateEnum::REMOVING | ContainerSummaryStateEnum::STOPPING) => {
                (ReplicaState::Stopping, None)
            }
            Some(ContainerSummaryStateEnum::DEAD) => {
                (ReplicaState::Failed, Some(self.ended(found).await))
            }
            _ => (ReplicaState::Exited, Some(self.ended(found).await)),
        };
        Replica {
            index,
            name: container_name(&found.deployment, index),
            port,
            gpus: found.gpus.clone(),
            state,
            detail,
            handle: Some(ReplicaHandle::Container { id: found.id.clone() }),
            started_at_unix_ms: self.started_at(found).await,
        }
    }

    /// How a dead container ended: Docker's status (`Exited (1) 3 minutes ago`) and the last
    /// line it wrote, which usually says why.
    async fn ended(&self, found: &Found) -> String {
        match self.last_log_line(&found.id).await {
            Some(line) => format!("{}: last log line `{line}`", found.status),
            None => found.status.clone(),
        }
    }

    /// The container's last non-empty output line (of its last 20), cut to 200 characters.
    async fn last_log_line(&self, id: &str) -> Option<String> {
        use futures::StreamExt;
        let docker = self.docker().await.ok()?;
        let query = LogsOptionsBuilder::new().stdout(true).stderr(true).tail("20").build();
        let chunks: Vec<_> = tokio::time::timeout(
            std::time::Duration::from_secs(3),
            docker.logs(id, Some(query)).collect::<Vec<_>>(),
        )
        .await
        .ok()?;
        let text: String =
            chunks.into_iter().filter_map(Result::ok).map(|c| c.to_string()).collect();
        crate::backend::last_output_line(&text)
    }

    /// `State.StartedAt` of a container that has started (the summary does not carry it).
    async fn started_at(&self, found: &Found) -> Option<i64> {
        if found.state == Some(ContainerSummaryStateEnum::CREATED) {
            return None;
        }
        let inspected = self.docker().await.ok()?.inspect_container(&found.id, None).await.ok()?;
        crate::model::rfc3339_unix_ms(inspected.state?.started_at.as_deref()?)
    }

    /// Deployments from containers; one with only its parked container has no replicas.
    pub(super) async fn group(&self, found: Vec<Found>) -> Vec<Deployment> {
        let mut by_name: BTreeMap<String, Vec<Found>> = BTreeMap::new();
        for f in found {
            by_name.entry(f.deployment.clone()).or_default().push(f);
        }
        let mut out = Vec::new();
        for (name, members) in by_name {
            let Some(mut spec) = members.iter().find_map(|m| m.spec.clone()) else { continue };
            let replicas: Vec<(&Found, u32)> =
                members.iter().filter_map(|m| Some((m, m.index?))).collect();
            spec.replicas = replicas.len() as u32;
            let replicas = futures::future::join_all(
                replicas.iter().map(|(m, index)| self.replica_of(m, *index, &spec)),
            )
            .await;
            out.push(Deployment { name, backend: NAME.into(), spec, replicas, autoscaler: None });
        }
        out
    }

    pub(super) async fn holders(&self) -> Result<Vec<Holder>, BackendError> {
        let mut by_name: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for f in self.containers(None).await? {
            by_name.entry(f.deployment).or_default().extend(f.gpus);
        }
        Ok(by_name.into_iter().map(|(deployment, gpus)| Holder { deployment, gpus }).collect())
    }
}

fn found_from(summary: ContainerSummary) -> Option<Found> {
    let labels_map = summary.labels.unwrap_or_default();
    let deployment = labels_map.get(labels::DEPLOYMENT)?.clone();
    let index = match labels_map.get(labels::REPLICA) {
        Some(index) => Some(index.parse().ok()?),
        None if labels_map.contains_key(PARKED_LABEL) => None,
        None => return None,
    };
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

/// The fuzzer's way in (`crate::fuzz_entry`): a `GET /containers/json` answer read as
/// `containers` reads it, and a `GET /containers/{id}/json` answer as `started_at` does.
/// Gives how many of our containers the list holds and the start time.
pub(crate) fn read_answers(list: &[u8], inspect: &[u8]) -> (usize, Option<i64>) {
    let found = serde_json::from_slice::<Vec<ContainerSummary>>(list)
        .map_or(0, |summaries| summaries.into_iter().filter_map(found_from).count());
    let inspected = serde_json::from_slice::<bollard::models::ContainerInspectResponse>(inspect);
    let started = inspected.ok().and_then(|inspected| {
        crate::model::rfc3339_unix_ms(inspected.state?.started_at.as_deref()?)
    });
    (found, started)
}
