//! A Kubernetes Deployment and its pods read back as aimdeck's model: a [`Deployment`] whose
//! replicas are the pods (a multi-node group's leader stands for the group), with the pods the
//! controller has not made yet as `Creating` rows.

use k8s_openapi::api::apps::v1::Deployment as K8sDeployment;

use super::adapter::NAME;
use super::watch::PodRow;
use crate::model::{Deployment, DeploymentSpec, Replica, ReplicaHandle, ReplicaState, labels};

/// A pod's state as a replica state: readiness first, then the reason it is not serving.
pub fn replica_state(pod: &PodRow) -> ReplicaState {
    if pod.terminating {
        return ReplicaState::Stopping;
    }
    if pod.ready {
        return ReplicaState::Ready;
    }
    match pod.phase.as_str() {
        "Failed" => return ReplicaState::Failed,
        "Succeeded" => return ReplicaState::Exited,
        _ => {}
    }
    match pod.reason.as_deref() {
        Some(
            "CrashLoopBackOff"
            | "OOMKilled"
            | "Error"
            | "ImagePullBackOff"
            | "ErrImagePull"
            | "InvalidImageName"
            | "CreateContainerConfigError"
            | "Evicted",
        ) => ReplicaState::Failed,
        Some("ContainerCreating" | "PodInitializing") => ReplicaState::Creating,
        _ if pod.phase == "Pending" => ReplicaState::Creating,
        _ => ReplicaState::Starting,
    }
}

/// A multi-node group is one replica row: its leader, with the workers named after it.
fn group_detail(pod: &PodRow, detail: Option<String>) -> Option<String> {
    if pod.workers.is_empty() {
        return detail;
    }
    let group =
        format!("leader of {} nodes, workers {}", pod.workers.len() + 1, pod.workers.join(", "));
    Some(match detail {
        Some(detail) => format!("{group}; {detail}"),
        None => group,
    })
}

pub(crate) fn to_deployment(d: &K8sDeployment, pods: Vec<PodRow>) -> Deployment {
    let name = d.metadata.name.clone().unwrap_or_default();
    let annotations = d.metadata.annotations.clone().unwrap_or_default();
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0) as u32;
    let mut spec: DeploymentSpec = match annotations.get(labels::SPEC_ANNOTATION).and_then(|s| serde_json::from_str(s).ok()) {
        Some(spec) => spec,
        None => serde_json::from_value(serde_json::json!({
            "name": name,
            "model": annotations.get(labels::MODEL_ANNOTATION).cloned().unwrap_or_default(),
            "engine": d.metadata.labels.as_ref().and_then(|l| l.get(labels::ENGINE)).cloned().unwrap_or_else(|| "vllm".into()),
            "gpus_per_replica": 0, "replicas": desired, "port": 8000,
        }))
        .unwrap_or_else(|_| placeholder_spec(&name)),
    };
    spec.name = name.clone();
    spec.replicas = desired;
    let mut replicas: Vec<Replica> = pods
        .iter()
        .enumerate()
        .map(|(i, pod)| Replica {
            index: i as u32,
            name: pod.name.clone(),
            port: spec.port,
            gpus: Vec::new(),
            state: replica_state(pod),
            detail: group_detail(
                pod,
                match (&pod.reason, &pod.message) {
                    (Some(r), Some(m)) => Some(format!("{r}: {m}")),
                    (Some(r), None) => Some(r.clone()),
                    (None, _) => pod.pod_ip.as_ref().map(|ip| format!("pod IP {ip}")),
                },
            ),
            handle: Some(ReplicaHandle::Pod {
                name: pod.name.clone(),
                node: pod.node.clone(),
                uid: pod.uid.clone(),
            }),
            started_at_unix_ms: pod.started_at_unix_ms,
        })
        .collect();
    // Pods the Deployment wants but the controller has not made yet.
    let live = pods.iter().filter(|p| !p.terminating).count() as u32;
    for i in live..desired {
        let index = replicas.len() as u32;
        replicas.push(Replica {
            index,
            name: format!("{name}-pending-{i}"),
            port: spec.port,
            gpus: Vec::new(),
            state: ReplicaState::Creating,
            detail: Some("pod not created yet".into()),
            handle: None,
            started_at_unix_ms: None,
        });
    }
    Deployment { name, backend: NAME.to_string(), spec, replicas, autoscaler: None }
}

fn placeholder_spec(name: &str) -> DeploymentSpec {
    serde_json::from_value(serde_json::json!({"name": name, "model": "", "engine": "vllm", "gpus_per_replica": 0, "replicas": 0, "port": 8000})).expect("minimal spec")
}
