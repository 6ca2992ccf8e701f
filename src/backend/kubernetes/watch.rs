//! Live state from watches: reflectors over aimdeck's Deployments and Pods and the namespace's
//! Events. A view reads `ClusterWatch::snapshot()` (plain data, no I/O) whenever
//! `ClusterWatch::changes()` ticks.

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
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
    /// For a multi-node group (LeaderWorkerSet): this row is the leader, these its workers.
    pub workers: Vec<String>,
    /// The pod's `status.startTime` (unix ms).
    pub started_at_unix_ms: Option<i64>,
    /// The pod's `metadata.uid`, which the kubelet puts in its processes' cgroup paths.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
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
    /// The HPA (or KEDA's HPA) scaling it: current/desired replicas, last scaling event.
    pub autoscaler: Option<super::autoscaler_watch::AutoscalerRow>,
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
    /// Every HPA in the namespace: KEDA's own `keda-hpa-NAME` carries no aimdeck label.
    hpas: Store<HorizontalPodAutoscaler>,
    /// aimdeck's LeaderWorkerSets (multi-node), when the cluster serves LWS.
    lws: super::lws_watch::LwsStore,
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
    K: Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
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
        let managed = labels::selector(None);
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
        let (lws, t4) = super::lws_watch::start(backend, tx.clone());
        let (hpas, t5) = spawn_reflector(
            Api::<HorizontalPodAutoscaler>::namespaced(client.clone(), &namespace),
            watcher::Config::default(),
            tx.clone(),
            error.clone(),
        );
        let (events, t3) = spawn_reflector(
            Api::<Event>::namespaced(client, &namespace),
            watcher::Config::default(),
            tx,
            error.clone(),
        );
        ClusterWatch {
            namespace,
            deployments,
            pods,
            events,
            hpas,
            lws,
            changes,
            error,
            tasks: vec![t1, t2, t3, t4, t5],
        }
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
        let pod_labels: std::collections::HashMap<
            &str,
            &std::collections::BTreeMap<String, String>,
        > = pods
            .iter()
            .filter_map(|p| Some((p.metadata.name.as_deref()?, p.metadata.labels.as_ref()?)))
            .collect();
        let labels_of = |name: &str| pod_labels.get(name).map(|l| (*l).clone());
        let mut by_deployment: std::collections::HashMap<&str, Vec<PodRow>> =
            std::collections::HashMap::new();
        for pod in &pods {
            if let Some(owner) = label(&pod.metadata.labels, labels::DEPLOYMENT) {
                by_deployment.entry(owner).or_default().push(pod_row(pod));
            }
        }
        let multi_node = super::lws_watch::as_deployments(&self.lws);
        let multi_node_names: std::collections::HashSet<String> =
            multi_node.iter().filter_map(|d| d.metadata.name.clone()).collect();
        let mut deployments: Vec<(Arc<Deployment>, Vec<PodRow>)> = self
            .deployments
            .state()
            .into_iter()
            .chain(multi_node)
            .map(|deployment| {
                let name = deployment.metadata.name.as_deref().unwrap_or_default();
                let mut rows = by_deployment.remove(name).unwrap_or_default();
                if multi_node_names.contains(name) {
                    // One row per group: its leader, with the workers named.
                    rows = super::lws_watch::group_rows(rows, &labels_of);
                }
                rows.sort_by(|a, b| a.name.cmp(&b.name));
                (deployment, rows)
            })
            .collect();
        deployments.sort_by(|a, b| a.0.metadata.name.cmp(&b.0.metadata.name));
        deployments
    }

    /// The current state as plain rows. Reads only the in-memory stores.
    pub fn snapshot(&self) -> ClusterSnapshot {
        let deployments: Vec<DeploymentRow> = self
            .deployments_with_pods()
            .into_iter()
            .map(|(deployment, pods)| deployment_row(&deployment, pods))
            .collect();

        // Sets, not scans: a namespace can hold thousands of pods and events.
        let deployment_names: std::collections::HashSet<&str> =
            deployments.iter().map(|d| d.name.as_str()).collect();
        let pod_names: std::collections::HashSet<&str> =
            deployments.iter().flat_map(|d| d.pods.iter().map(|p| p.name.as_str())).collect();
        let hpas = self.hpas.state();
        let hpa_names: std::collections::HashSet<&str> = hpas
            .iter()
            .filter(|h| {
                h.spec
                    .as_ref()
                    .is_some_and(|s| deployment_names.contains(s.scale_target_ref.name.as_str()))
            })
            .filter_map(|h| h.metadata.name.as_deref())
            .collect();
        let ours = |kind: &str, object: &str| match kind {
            "Deployment" | "LeaderWorkerSet" => deployment_names.contains(object),
            "HorizontalPodAutoscaler" => hpa_names.contains(object),
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
        let mut deployments = deployments;
        for row in &mut deployments {
            row.autoscaler =
                super::autoscaler_watch::autoscaler_for(&row.name, &hpas, &ours_events);
        }
        let events: Vec<EventRow> =
            ours_events.into_iter().take(MAX_EVENTS).map(event_row).collect();

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

use super::rows::label;
pub use super::rows::{deployment_row, pod_row};

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
        let managed = labels::selector(None);
        let params = ListParams::default().labels(&managed);
        let deployments: Api<Deployment> = Api::namespaced(self.client().clone(), self.namespace());
        let pods: Api<Pod> = Api::namespaced(self.client().clone(), self.namespace());
        let timeout = self.timeout();
        let list = super::errors::call(
            timeout,
            self.action("list", "deployments.apps", None),
            deployments.list(&params),
        )
        .await?;
        let pod_list =
            super::errors::call(timeout, self.action("list", "pods", None), pods.list(&params))
                .await?;
        // Multi-node deployments are LeaderWorkerSets: listed too when the cluster has LWS.
        let mut multi_node = Vec::new();
        if self.discover().await?.leader_worker_set {
            let api: Api<kube::api::DynamicObject> = Api::namespaced_with(
                self.client().clone(),
                self.namespace(),
                &super::apply::leader_worker_set_resource(),
            );
            let action = self.action("list", "leaderworkersets.leaderworkerset.x-k8s.io", None);
            let sets = super::errors::call(timeout, action, api.list(&params)).await?;
            multi_node.extend(sets.items.iter().map(super::lws_watch::as_deployment));
        }
        let pod_labels = |name: &str| {
            pod_list
                .items
                .iter()
                .find(|p| p.metadata.name.as_deref() == Some(name))
                .and_then(|p| p.metadata.labels.clone())
        };
        let lws_names: std::collections::HashSet<String> =
            multi_node.iter().filter_map(|d| d.metadata.name.clone()).collect();
        let mut rows: Vec<DeploymentRow> = list
            .items
            .iter()
            .chain(multi_node.iter())
            .map(|d| {
                let name = d.metadata.name.clone().unwrap_or_default();
                let mut pods: Vec<PodRow> = pod_list
                    .items
                    .iter()
                    .filter(|p| {
                        label(&p.metadata.labels, labels::DEPLOYMENT) == Some(name.as_str())
                    })
                    .map(pod_row)
                    .collect();
                pods.sort_by(|a, b| a.name.cmp(&b.name));
                if lws_names.contains(&name) {
                    pods = super::lws_watch::group_rows(pods, &pod_labels);
                }
                deployment_row(d, pods)
            })
            .collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rows)
    }
}
