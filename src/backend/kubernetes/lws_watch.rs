//! Multi-node deployments in the live state: a reflector over aimdeck's LeaderWorkerSets
//! (started only when discovery finds `leaderworkerset.x-k8s.io/v1`), each shown as a
//! Deployment-shaped row whose "pods" are its groups: one row per group, named after the
//! leader, ready when every pod of the group is, with the workers listed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStatus};
use kube::Api;
use kube::api::DynamicObject;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::watch as tokio_watch;
use tokio::task::JoinHandle;

use super::apply::leader_worker_set_resource;
use super::client::KubeBackend;
use super::multinode::{GROUP_INDEX_LABEL, WORKER_INDEX_LABEL};
use super::watch::PodRow;
use crate::model::labels;

/// The LWS store, once discovery has found the API.
pub type LwsStore = Arc<Mutex<Option<Store<DynamicObject>>>>;

/// Starts the LWS reflector in the background when the cluster serves LWS.
pub fn start(
    backend: &KubeBackend,
    changed: tokio_watch::Sender<u64>,
) -> (LwsStore, JoinHandle<()>) {
    let slot: LwsStore = Arc::new(Mutex::new(None));
    let backend = backend.clone();
    let task_slot = slot.clone();
    let task = tokio::spawn(async move {
        // No LWS API, or discovery failed: the Deployment watches report cluster errors.
        let Ok(apis) = backend.discover().await else { return };
        if !apis.leader_worker_set {
            return;
        }
        let resource = leader_worker_set_resource();
        let api: Api<DynamicObject> =
            Api::namespaced_with(backend.client().clone(), backend.namespace(), &resource);
        let writer = reflector::store::Writer::new(resource);
        let reader: Store<DynamicObject> = writer.as_reader();
        let managed = labels::selector(None);
        if let Ok(mut slot) = task_slot.lock() {
            *slot = Some(reader);
        }
        let stream =
            reflector::reflector(writer, watcher(api, watcher::Config::default().labels(&managed)))
                .default_backoff();
        let mut stream = std::pin::pin!(stream);
        while stream.next().await.is_some() {
            changed.send_modify(|n| *n = n.wrapping_add(1));
        }
    });
    (slot, task)
}

/// The LeaderWorkerSets the store holds, as Deployments (replicas = groups).
pub fn as_deployments(store: &LwsStore) -> Vec<Arc<Deployment>> {
    let Some(store) = store.lock().ok().and_then(|s| s.clone()) else { return Vec::new() };
    store.state().iter().map(|lws| Arc::new(as_deployment(lws))).collect()
}

pub fn as_deployment(lws: &DynamicObject) -> Deployment {
    let number = |pointer: &str| {
        lws.data.pointer(pointer).and_then(serde_json::Value::as_i64).map(|n| n as i32)
    };
    let ready = number("/status/readyReplicas");
    Deployment {
        metadata: lws.metadata.clone(),
        spec: Some(DeploymentSpec {
            replicas: number("/spec/replicas").or(Some(1)),
            ..Default::default()
        }),
        status: Some(DeploymentStatus {
            ready_replicas: ready,
            available_replicas: ready,
            updated_replicas: number("/status/updatedReplicas"),
            replicas: number("/status/replicas"),
            ..Default::default()
        }),
    }
}

/// Folds the pods of a LeaderWorkerSet into one row per group: the leader's row, ready only
/// when every worker is, with the workers named in `workers` (and the first worker's reason
/// when the leader has none). `labels_of` gives each pod's labels by name.
pub fn group_rows(
    pods: Vec<PodRow>,
    labels_of: &dyn Fn(&str) -> Option<BTreeMap<String, String>>,
) -> Vec<PodRow> {
    let mut groups: BTreeMap<String, Vec<(String, PodRow)>> = BTreeMap::new();
    let mut plain = Vec::new();
    for pod in pods {
        let labels = labels_of(&pod.name).unwrap_or_default();
        match (labels.get(GROUP_INDEX_LABEL), labels.get(WORKER_INDEX_LABEL)) {
            (Some(group), Some(worker)) => {
                groups.entry(group.clone()).or_default().push((worker.clone(), pod))
            }
            _ => plain.push(pod),
        }
    }
    for (_, mut members) in groups {
        members.sort_by_key(|(worker, _)| worker.parse::<u32>().unwrap_or(u32::MAX));
        let mut members = members.into_iter().map(|(_, pod)| pod);
        let Some(mut leader) = members.next() else { continue };
        let workers: Vec<PodRow> = members.collect();
        leader.ready = leader.ready && workers.iter().all(|w| w.ready);
        if leader.reason.is_none()
            && let Some(stuck) = workers.iter().find(|w| w.reason.is_some())
        {
            leader.reason = stuck.reason.clone();
            leader.message = Some(format!(
                "worker {}: {}",
                stuck.name,
                stuck.message.clone().unwrap_or_default()
            ));
        }
        leader.restarts += workers.iter().map(|w| w.restarts).sum::<u32>();
        leader.workers = workers.iter().map(|w| w.name.clone()).collect();
        plain.push(leader);
    }
    plain
}
