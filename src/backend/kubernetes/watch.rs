//! Live state from watches: reflectors over aimdeck's Deployments and Pods and the namespace's
//! Events. A view reads `ClusterWatch::snapshot()` (plain data, no I/O) whenever
//! `ClusterWatch::changes()` ticks.

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource};
use serde::Serialize;
use tokio::sync::watch as tokio_watch;
use tokio::task::JoinHandle;

use super::client::KubeBackend;
use crate::model::labels;

/// One pod as the endpoints view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodRow {
    pub name: String,
    /// `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`.
    pub phase: String,
    pub ready: bool,
    pub restarts: u32,
    pub node: Option<String>,
    pub pod_ip: Option<String>,
    /// Why it is not running or ready: `Unschedulable`, `ImagePullBackOff`, `ErrImagePull`,
    /// `CrashLoopBackOff`, `OOMKilled`, `ContainerCreating`, `Evicted`, ...
    pub reason: Option<String>,
    pub message: Option<String>,
    pub terminating: bool,
    /// The pod's `status.startTime` (unix ms).
    pub started_at_unix_ms: Option<i64>,
}

/// One aimdeck deployment with its pods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeploymentRow {
    pub name: String,
    pub namespace: String,
    pub model: Option<String>,
    pub engine: Option<String>,
    pub recipe: Option<String>,
    pub desired: u32,
    pub ready: u32,
    pub updated: u32,
    pub available: u32,
    pub pods: Vec<PodRow>,
    /// `Type=Status (reason)` of the Deployment's conditions.
    pub conditions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRow {
    /// `Normal` or `Warning`.
    pub type_: String,
    pub reason: String,
    /// `Kind/name` of the object the event is about.
    pub object: String,
    pub message: String,
    pub count: u32,
    /// RFC 3339, the latest occurrence.
    pub last_seen: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClusterSnapshot {
    pub namespace: String,
    pub synced: bool,
    pub deployments: Vec<DeploymentRow>,
    /// Events about aimdeck's deployments and pods, newest first, at most `MAX_EVENTS`.
    pub events: Vec<EventRow>,
    /// The last watch error, if the watches are retrying.
    pub error: Option<String>,
}

/// Reflectors for one namespace; dropping it stops the watches.
pub struct ClusterWatch {
    namespace: String,
    deployments: Store<Deployment>,
    pods: Store<Pod>,
    events: Store<Event>,
    changes: tokio_watch::Receiver<u64>,
    error: Arc<Mutex<Option<String>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for ClusterWatch {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn spawn_reflector<K>(
    api: Api<K>,
    config: watcher::Config,
    changed: tokio_watch::Sender<u64>,
    error: Arc<Mutex<Option<String>>>,
) -> (Store<K>, JoinHandle<()>)
where
    K: Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
{
    let (reader, writer) = reflector::store();
    let stream = reflector::reflector(writer, watcher(api, config)).default_backoff();
    let task = tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            match event {
                Ok(_) => {
                    if let Ok(mut slot) = error.lock() {
                        *slot = None;
                    }
                    changed.send_modify(|n| *n = n.wrapping_add(1));
                }
                Err(err) => {
                    if let Ok(mut slot) = error.lock() {
                        *slot = Some(err.to_string());
                    }
                    changed.send_modify(|n| *n = n.wrapping_add(1));
                }
            }
        }
    });
    (reader, task)
}

impl ClusterWatch {
    /// Starts the watches; they run until the `ClusterWatch` is dropped.
    pub fn start(backend: &KubeBackend) -> Self {
        let client = backend.client().clone();
        let namespace = backend.namespace().to_string();
        let (tx, changes) = tokio_watch::channel(0u64);
        let error = Arc::new(Mutex::new(None));
        let managed = format!("{}={}", labels::MANAGED_BY, labels::MANAGED_BY_VALUE);
        let (deployments, t1) = spawn_reflector(
            Api::<Deployment>::namespaced(client.clone(), &namespace),
            watcher::Config::default().labels(&managed),
            tx.clone(),
            error.clone(),
        );
        let (pods, t2) = spawn_reflector(
            Api::<Pod>::namespaced(client.clone(), &namespace),
            watcher::Config::default().labels(&managed),
            tx.clone(),
            error.clone(),
        );
        let (events, t3) =
            spawn_reflector(Api::<Event>::namespaced(client, &namespace), watcher::Config::default(), tx, error.clone());
        ClusterWatch { namespace, deployments, pods, events, changes, error, tasks: vec![t1, t2, t3] }
    }

    /// Waits until every watch has listed once.
    pub async fn wait_synced(&self) {
        let _ = self.deployments.wait_until_ready().await;
        let _ = self.pods.wait_until_ready().await;
        let _ = self.events.wait_until_ready().await;
    }

    /// Ticks on every watch event: redraw then.
    pub fn changes(&self) -> tokio_watch::Receiver<u64> {
        self.changes.clone()
    }

    /// Number of pods the reflector holds (for benchmarks and status lines).
    pub fn pod_count(&self) -> usize {
        self.pods.len()
    }

    /// Whether the deployment and pod watches have listed once.
    pub fn synced(&self) -> bool {
        self.deployments.is_ready_sync() && self.pods.is_ready_sync()
    }

    /// The last watch error while the watches retry; `None` once they answer again.
    pub fn error(&self) -> Option<String> {
        self.error.lock().ok().and_then(|e| e.clone())
    }

    /// aimdeck's Deployments as the reflector holds them, each with its pods (sorted by name).
    /// Reads only the in-memory stores.
    pub fn deployments_with_pods(&self) -> Vec<(Arc<Deployment>, Vec<PodRow>)> {
        let pods = self.pods.state();
        let mut by_deployment: std::collections::HashMap<&str, Vec<PodRow>> = std::collections::HashMap::new();
        for pod in &pods {
            if let Some(owner) = label(&pod.metadata.labels, labels::DEPLOYMENT) {
                by_deployment.entry(owner).or_default().push(pod_row(pod));
            }
        }
        let mut deployments: Vec<(Arc<Deployment>, Vec<PodRow>)> = self
            .deployments
            .state()
            .into_iter()
            .map(|deployment| {
                let name = deployment.metadata.name.as_deref().unwrap_or_default();
                let mut rows = by_deployment.remove(name).unwrap_or_default();
                rows.sort_by(|a, b| a.name.cmp(&b.name));
                (deployment, rows)
            })
            .collect();
        deployments.sort_by(|a, b| a.0.metadata.name.cmp(&b.0.metadata.name));
        deployments
    }

    /// The current state as plain rows. Reads only the in-memory stores.
    pub fn snapshot(&self) -> ClusterSnapshot {
        let deployments: Vec<DeploymentRow> =
            self.deployments_with_pods().into_iter().map(|(deployment, pods)| deployment_row(&deployment, pods)).collect();

        // Sets, not scans: a namespace can hold thousands of pods and events.
        let deployment_names: std::collections::HashSet<&str> = deployments.iter().map(|d| d.name.as_str()).collect();
        let pod_names: std::collections::HashSet<&str> =
            deployments.iter().flat_map(|d| d.pods.iter().map(|p| p.name.as_str())).collect();
        let ours = |kind: &str, object: &str| match kind {
            "Deployment" => deployment_names.contains(object),
            "Pod" => pod_names.contains(object),
            _ => false,
        };
        let all_events = self.events.state();
        let mut ours_events: Vec<&Event> = all_events
            .iter()
            .map(|e| e.as_ref())
            .filter(|event| {
                ours(
                    event.involved_object.kind.as_deref().unwrap_or_default(),
                    event.involved_object.name.as_deref().unwrap_or_default(),
                )
            })
            .collect();
        // Newest first, and only as many as a view can show: formatting thousands is waste.
        ours_events.sort_by_key(|e| std::cmp::Reverse(event_time(e)));
        let events: Vec<EventRow> = ours_events.into_iter().take(MAX_EVENTS).map(event_row).collect();

        ClusterSnapshot {
            namespace: self.namespace.clone(),
            synced: self.synced(),
            deployments,
            events,
            error: self.error(),
        }
    }
}

trait ReadyNow {
    fn is_ready_sync(&self) -> bool;
}

impl<K: Resource<DynamicType = ()> + Clone + 'static> ReadyNow for Store<K> {
    fn is_ready_sync(&self) -> bool {
        // `wait_until_ready` resolves at once when ready; poll it once without blocking.
        let mut fut = std::pin::pin!(self.wait_until_ready());
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        matches!(fut.as_mut().poll(&mut cx), std::task::Poll::Ready(Ok(())))
    }
}

fn label<'a>(labels: &'a Option<std::collections::BTreeMap<String, String>>, key: &str) -> Option<&'a str> {
    labels.as_ref()?.get(key).map(String::as_str)
}

pub fn deployment_row(deployment: &Deployment, pods: Vec<PodRow>) -> DeploymentRow {
    let status = deployment.status.clone().unwrap_or_default();
    let conditions = status
        .conditions
        .unwrap_or_default()
        .iter()
        .map(|c| match &c.reason {
            Some(reason) => format!("{}={} ({reason})", c.type_, c.status),
            None => format!("{}={}", c.type_, c.status),
        })
        .collect();
    let to_u32 = |n: Option<i32>| n.unwrap_or(0).max(0) as u32;
    DeploymentRow {
        name: deployment.metadata.name.clone().unwrap_or_default(),
        namespace: deployment.metadata.namespace.clone().unwrap_or_default(),
        model: deployment.metadata.annotations.as_ref().and_then(|a| a.get(labels::MODEL_ANNOTATION)).cloned(),
        engine: label(&deployment.metadata.labels, labels::ENGINE).map(str::to_string),
        recipe: label(&deployment.metadata.labels, labels::RECIPE).map(str::to_string),
        desired: to_u32(deployment.spec.as_ref().and_then(|s| s.replicas)),
        ready: to_u32(status.ready_replicas),
        updated: to_u32(status.updated_replicas),
        available: to_u32(status.available_replicas),
        pods,
        conditions,
    }
}

/// Reads a pod's state and the most telling reason it is not serving.
pub fn pod_row(pod: &Pod) -> PodRow {
    let empty = Default::default();
    let status = pod.status.as_ref().unwrap_or(&empty);
    let containers: &[k8s_openapi::api::core::v1::ContainerStatus] = status.container_statuses.as_deref().unwrap_or_default();
    let ready = status
        .conditions
        .as_ref()
        .is_some_and(|conds| conds.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    let restarts = containers.iter().map(|c| c.restart_count.max(0) as u32).sum();

    let mut reason = None;
    let mut message = None;
    // Order matters: a crash loop caused by OOM says OOMKilled, which is what to fix.
    for container in containers {
        let state = container.state.as_ref();
        if let Some(waiting) = state.and_then(|s| s.waiting.as_ref()) {
            let last_oom = container
                .last_state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .is_some_and(|t| t.reason.as_deref() == Some("OOMKilled"));
            reason = if last_oom { Some("OOMKilled".to_string()) } else { waiting.reason.clone() };
            message = waiting.message.clone();
            break;
        }
        if let Some(terminated) = state.and_then(|s| s.terminated.as_ref()) {
            reason = terminated.reason.clone();
            message = terminated.message.clone();
            break;
        }
    }
    if reason.is_none() {
        if let Some(cond) = status
            .conditions
            .as_ref()
            .and_then(|conds| conds.iter().find(|c| c.type_ == "PodScheduled" && c.status == "False"))
        {
            reason = cond.reason.clone();
            message = cond.message.clone();
        }
    }
    if reason.is_none() {
        reason = status.reason.clone();
        message = message.or(status.message.clone());
    }
    PodRow {
        name: pod.metadata.name.clone().unwrap_or_default(),
        phase: status.phase.clone().unwrap_or_else(|| "Pending".into()),
        ready,
        restarts,
        node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        pod_ip: status.pod_ip.clone(),
        reason,
        message,
        terminating: pod.metadata.deletion_timestamp.is_some(),
        started_at_unix_ms: status.start_time.as_ref().map(|t| t.0.as_millisecond()),
    }
}

/// Events kept in a snapshot, newest first.
pub const MAX_EVENTS: usize = 200;

fn event_time(event: &Event) -> Option<jiff::Timestamp> {
    event
        .last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| event.event_time.as_ref().map(|t| t.0))
        .or_else(|| event.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

pub fn event_row(event: &Event) -> EventRow {
    let last_seen = event_time(event).map(|t| t.to_string());
    EventRow {
        type_: event.type_.clone().unwrap_or_else(|| "Normal".into()),
        reason: event.reason.clone().unwrap_or_default(),
        object: format!(
            "{}/{}",
            event.involved_object.kind.clone().unwrap_or_default(),
            event.involved_object.name.clone().unwrap_or_default()
        ),
        message: event.message.clone().unwrap_or_default(),
        count: event.count.unwrap_or(1).max(0) as u32,
        last_seen,
    }
}

impl KubeBackend {
    /// One-shot listing for headless `ls` (the console uses `ClusterWatch` instead).
    pub async fn list_deployments(&self) -> Result<Vec<DeploymentRow>, super::errors::K8sError> {
        use kube::api::ListParams;
        let managed = format!("{}={}", labels::MANAGED_BY, labels::MANAGED_BY_VALUE);
        let params = ListParams::default().labels(&managed);
        let deployments: Api<Deployment> = Api::namespaced(self.client().clone(), self.namespace());
        let pods: Api<Pod> = Api::namespaced(self.client().clone(), self.namespace());
        let timeout = self.timeout();
        let list = super::errors::call(timeout, self.action("list", "deployments.apps", None), deployments.list(&params)).await?;
        let pod_list = super::errors::call(timeout, self.action("list", "pods", None), pods.list(&params)).await?;
        let mut rows: Vec<DeploymentRow> = list
            .items
            .iter()
            .map(|d| {
                let name = d.metadata.name.clone().unwrap_or_default();
                let mut pods: Vec<PodRow> = pod_list
                    .items
                    .iter()
                    .filter(|p| label(&p.metadata.labels, labels::DEPLOYMENT) == Some(name.as_str()))
                    .map(pod_row)
                    .collect();
                pods.sort_by(|a, b| a.name.cmp(&b.name));
                deployment_row(d, pods)
            })
            .collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "llama-7d4b9c-x2k4z", "labels": {"aimdeck.io/deployment": "llama"}},
            "spec": {"nodeName": "gpu-1", "containers": [{"name": "engine", "image": "vllm/vllm-openai:v0.11.0"}]},
            "status": status
        }))
        .expect("pod")
    }

    #[test]
    fn crash_loop_after_oom_reads_as_oomkilled() {
        // Shape of `kubectl get pod -o json` for a container killed by the OOM killer and restarting.
        let row = pod_row(&pod(serde_json::json!({
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
            "containerStatuses": [{"name": "engine", "image": "vllm/vllm-openai:v0.11.0", "imageID": "", "ready": false, "restartCount": 5,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 2m40s restarting failed container=engine"}},
                "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]
        })));
        assert_eq!((row.reason.as_deref(), row.restarts, row.ready), (Some("OOMKilled"), 5, false));
    }

    #[test]
    fn unschedulable_comes_from_the_scheduled_condition() {
        let row = pod_row(&pod(serde_json::json!({
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 Insufficient amd.com/gpu."}]
        })));
        assert_eq!(row.reason.as_deref(), Some("Unschedulable"));
        assert!(row.message.unwrap().contains("Insufficient amd.com/gpu"));
    }

    #[test]
    fn evicted_pods_keep_the_pod_level_reason() {
        let row = pod_row(&pod(serde_json::json!({"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: ephemeral-storage."})));
        assert_eq!((row.phase.as_str(), row.reason.as_deref()), ("Failed", Some("Evicted")));
    }
}
