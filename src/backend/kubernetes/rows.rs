//! Plain rows from Kubernetes objects: a Deployment (or a LeaderWorkerSet shown as one) with
//! its pods, and a pod with the most telling reason it is not serving.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;

use super::watch::{DeploymentRow, PodRow};
use crate::model::labels;

pub(crate) fn label<'a>(
    labels: &'a Option<std::collections::BTreeMap<String, String>>,
    key: &str,
) -> Option<&'a str> {
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
        model: deployment
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(labels::MODEL_ANNOTATION))
            .cloned(),
        engine: label(&deployment.metadata.labels, labels::ENGINE).map(str::to_string),
        recipe: label(&deployment.metadata.labels, labels::RECIPE).map(str::to_string),
        desired: to_u32(deployment.spec.as_ref().and_then(|s| s.replicas)),
        ready: to_u32(status.ready_replicas),
        updated: to_u32(status.updated_replicas),
        available: to_u32(status.available_replicas),
        pods,
        conditions,
        autoscaler: None,
    }
}

/// Reads a pod's state and the most telling reason it is not serving.
pub fn pod_row(pod: &Pod) -> PodRow {
    let empty = Default::default();
    let status = pod.status.as_ref().unwrap_or(&empty);
    let containers: &[k8s_openapi::api::core::v1::ContainerStatus] =
        status.container_statuses.as_deref().unwrap_or_default();
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
    if reason.is_none()
        && let Some(cond) = status.conditions.as_ref().and_then(|conds| {
            conds.iter().find(|c| c.type_ == "PodScheduled" && c.status == "False")
        })
    {
        reason = cond.reason.clone();
        message = cond.message.clone();
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
        workers: Vec::new(),
        uid: pod.metadata.uid.clone(),
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
        let row = pod_row(&pod(
            serde_json::json!({"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: ephemeral-storage."}),
        ));
        assert_eq!((row.phase.as_str(), row.reason.as_deref()), ("Failed", Some("Evicted")));
    }
}
