//! A small stand-in for kube-controller-manager, the scheduler and the kubelet: Deployments
//! get Pods (owned directly; no ReplicaSets), Pods get a node that has the GPUs they request
//! (or stay Pending as Unschedulable), become Running and Ready after a delay, write a log,
//! and Deployment status follows. Foreground deletions and orphan collection happen here.

use std::time::Instant;

use serde_json::{Value, json};

use super::FakeKube;
use super::resources::{RESOURCES, ResourceDef};
use super::store::{Inner, Key, now};

fn def(kind: &str) -> &'static ResourceDef {
    RESOURCES.iter().find(|r| r.kind == kind).expect("resource")
}

fn template_hash(template: &Value) -> String {
    // FNV-1a: stable across runs, like the real pod-template-hash is per template.
    let mut hash: u64 = 0xcbf29ce484222325;
    for byte in template.to_string().bytes() {
        hash ^= byte as u64;
        hash = hash.wrapping_mul(0x100000001b3);
    }
    format!("{:010x}", hash & 0xff_ffff_ffff)
}

fn owned_by(pod: &Value, uid: &str) -> bool {
    pod.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| refs.iter().any(|r| r.get("uid").and_then(Value::as_str) == Some(uid)))
}

fn gpu_request(pod: &Value) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = Vec::new();
    for c in pod.pointer("/spec/containers").and_then(Value::as_array).into_iter().flatten() {
        let requests = c.pointer("/resources/requests").or_else(|| c.pointer("/resources/limits"));
        for (name, amount) in requests.and_then(Value::as_object).into_iter().flatten() {
            if name.ends_with("/gpu") {
                let n = amount
                    .as_str()
                    .and_then(|s| s.parse::<i64>().ok())
                    .or_else(|| amount.as_i64())
                    .unwrap_or(0);
                out.push((name.clone(), n));
            }
        }
    }
    out
}

// One argument per field of the core/v1 Event it records; a struct would only repeat them.
#[allow(clippy::too_many_arguments)]
pub fn event(
    inner: &mut Inner,
    fake: &FakeKube,
    namespace: &str,
    kind: &str,
    name: &str,
    type_: &str,
    reason: &str,
    message: &str,
) {
    let event_name = format!("{name}.{:016x}", inner.rv + 1);
    let object = json!({
        "metadata": {"name": event_name, "namespace": namespace},
        "involvedObject": {"kind": kind, "name": name, "namespace": namespace, "apiVersion": if kind == "Pod" { "v1" } else { "apps/v1" }},
        "reason": reason, "message": message, "type": type_, "count": 1,
        "firstTimestamp": now(), "lastTimestamp": now(),
        "source": {"component": if kind == "Pod" { "kubelet" } else { "deployment-controller" }},
    });
    let key = Key::new(def("Event"), namespace, &event_name);
    inner.insert(def("Event"), key, object, &fake.shared.changes);
}

/// One pass over the store; the fake runs it every few milliseconds.
pub fn reconcile(fake: &FakeKube) {
    let mut inner = fake.shared.inner.lock().expect("store");
    let tx = fake.shared.changes.clone();
    let deployments = inner.list(def("Deployment"), "");
    let pods = inner.list(def("Pod"), "");
    let mut live_uids = Vec::new();

    for (key, deployment) in &deployments {
        let uid = deployment["metadata"]["uid"].as_str().unwrap_or_default().to_string();
        let owned: Vec<&(Key, Value)> = pods.iter().filter(|(_, p)| owned_by(p, &uid)).collect();
        if deployment.pointer("/metadata/deletionTimestamp").is_some() {
            // Foreground deletion: dependents first, then the owner.
            for (pod_key, _) in &owned {
                inner.remove(pod_key, &tx);
            }
            inner.remove(key, &tx);
            continue;
        }
        live_uids.push(uid.clone());
        let desired =
            deployment.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1).max(0)
                as usize;
        let template = deployment.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let hash = template_hash(&template);
        let mut current = Vec::new();
        for (pod_key, pod) in &owned {
            let pod_hash =
                pod.pointer("/metadata/labels/pod-template-hash").and_then(Value::as_str);
            if pod_hash == Some(hash.as_str()) {
                current.push(pod_key.clone());
            } else {
                inner.remove(pod_key, &tx);
            }
        }
        let name = key.name.clone();
        if current.len() > desired {
            current.sort();
            for pod_key in current.split_off(desired) {
                inner.remove(&pod_key, &tx);
            }
            event(
                &mut inner,
                fake,
                &key.namespace,
                "Deployment",
                &name,
                "Normal",
                "ScalingReplicaSet",
                &format!("Scaled down replica set {name}-{hash} to {desired}"),
            );
        } else if current.len() < desired {
            let missing = desired - current.len();
            for _ in 0..missing {
                let pod_name = format!("{name}-{hash}-{}", random_suffix());
                let mut metadata = template.get("metadata").cloned().unwrap_or(json!({}));
                metadata["name"] = json!(pod_name);
                metadata["labels"]["pod-template-hash"] = json!(hash);
                metadata["ownerReferences"] = json!([{
                    "apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": uid,
                    "controller": true, "blockOwnerDeletion": true,
                }]);
                let pod = json!({
                    "metadata": metadata,
                    "spec": template.get("spec").cloned().unwrap_or(json!({})),
                    "status": {"phase": "Pending", "qosClass": "BestEffort"},
                });
                let pod_key = Key::new(def("Pod"), &key.namespace, &pod_name);
                inner.insert(def("Pod"), pod_key.clone(), pod, &tx);
                inner.pod_created.insert((key.namespace.clone(), pod_name.clone()), Instant::now());
                current.push(pod_key);
            }
            event(
                &mut inner,
                fake,
                &key.namespace,
                "Deployment",
                &name,
                "Normal",
                "ScalingReplicaSet",
                &format!("Scaled up replica set {name}-{hash} to {desired}"),
            );
        }
        // Status from the pods as they are now.
        let ready = current
            .iter()
            .filter(|k| {
                inner.get(k).is_some_and(|p| {
                    p.pointer("/status/conditions").and_then(Value::as_array).is_some_and(|c| {
                        c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True")
                    })
                })
            })
            .count();
        let mut updated = deployment.clone();
        updated["status"] = json!({
            "observedGeneration": deployment.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
            "replicas": current.len(), "updatedReplicas": current.len(), "readyReplicas": ready,
            "availableReplicas": ready, "unavailableReplicas": current.len().saturating_sub(ready),
            "conditions": [{"type": "Available", "status": if ready >= desired { "True" } else { "False" },
                            "reason": if ready >= desired { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" }}],
        });
        if ready == 0
            && let Some(map) = updated["status"].as_object_mut()
        {
            map.remove("readyReplicas");
            map.remove("availableReplicas");
        }
        if let Some(current_obj) = inner.get(key).cloned()
            && current_obj.pointer("/metadata/deletionTimestamp").is_none()
            && current_obj["status"] != updated["status"]
        {
            let mut next = current_obj;
            next["status"] = updated["status"].clone();
            inner.update(key, next, &tx);
        }
    }

    // Garbage collection of pods whose owner is gone (background propagation).
    for (pod_key, pod) in inner.list(def("Pod"), "") {
        let owner_uid = pod.pointer("/metadata/ownerReferences/0/uid").and_then(Value::as_str);
        if let Some(owner_uid) = owner_uid
            && !live_uids.iter().any(|u| u == owner_uid)
            && pod.pointer("/metadata/ownerReferences/0/kind") == Some(&json!("Deployment"))
        {
            inner.remove(&pod_key, &tx);
        }
    }

    if fake.options.optional.contains(&super::Optional::LeaderWorkerSet) {
        super::lws_controller::reconcile(&mut inner, fake);
    }
    schedule_and_start(&mut inner, fake);
}

fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5).map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char).collect()
}

fn schedule_and_start(inner: &mut Inner, fake: &FakeKube) {
    let tx = fake.shared.changes.clone();
    let nodes = inner.list(def("Node"), "");
    for (pod_key, pod) in inner.list(def("Pod"), "") {
        if pod.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let phase = pod.pointer("/status/phase").and_then(Value::as_str).unwrap_or("Pending");
        let node = pod.pointer("/spec/nodeName").and_then(Value::as_str).map(str::to_string);
        let ns_name = (pod_key.namespace.clone(), pod_key.name.clone());
        if phase != "Pending" || pod.pointer("/status/containerStatuses/0/state/waiting").is_some()
        {
            continue;
        }
        let Some(created) = inner.pod_created.get(&ns_name).copied() else { continue };
        if node.is_none() {
            match pick_node(inner, &nodes, &pod) {
                Ok(node_name) => {
                    let mut next = pod.clone();
                    next["spec"]["nodeName"] = json!(node_name);
                    next["status"]["conditions"] = json!([{"type": "PodScheduled", "status": "True", "lastTransitionTime": now()}]);
                    inner.update(&pod_key, next, &tx);
                    event(
                        inner,
                        fake,
                        &pod_key.namespace,
                        "Pod",
                        &pod_key.name,
                        "Normal",
                        "Scheduled",
                        &format!(
                            "Successfully assigned {}/{} to {node_name}",
                            pod_key.namespace, pod_key.name
                        ),
                    );
                }
                Err(message) => {
                    let already =
                        pod.pointer("/status/conditions/0/reason") == Some(&json!("Unschedulable"));
                    if !already {
                        let mut next = pod.clone();
                        next["status"]["conditions"] = json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message, "lastTransitionTime": now()}]);
                        inner.update(&pod_key, next, &tx);
                        event(
                            inner,
                            fake,
                            &pod_key.namespace,
                            "Pod",
                            &pod_key.name,
                            "Warning",
                            "FailedScheduling",
                            &message,
                        );
                    }
                }
            }
            continue;
        }
        let image = pod
            .pointer("/spec/containers/0/image")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if image.contains("does-not-exist") {
            let mut next = pod.clone();
            next["status"]["containerStatuses"] = json!([{
                "name": pod.pointer("/spec/containers/0/name").cloned().unwrap_or(json!("engine")),
                "image": image, "imageID": "", "ready": false, "restartCount": 0, "started": false,
                "state": {"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{image}\"")}},
            }]);
            inner.update(&pod_key, next, &tx);
            continue;
        }
        if created.elapsed() < fake.options.ready_delay {
            continue;
        }
        let ip = format!("10.244.{}.{}", (inner.uid / 250) % 250, inner.uid % 250 + 2);
        let mut next = pod.clone();
        next["status"] = json!({
            "phase": "Running", "podIP": ip, "hostIP": "192.168.0.10", "startTime": now(), "qosClass": "BestEffort",
            "conditions": [
                {"type": "PodScheduled", "status": "True"}, {"type": "Initialized", "status": "True"},
                {"type": "ContainersReady", "status": "True"}, {"type": "Ready", "status": "True"},
            ],
            "containerStatuses": [{
                "name": pod.pointer("/spec/containers/0/name").cloned().unwrap_or(json!("engine")),
                "image": image, "imageID": format!("docker.io/{image}@sha256:0000"), "ready": true, "started": true,
                "restartCount": 0, "state": {"running": {"startedAt": now()}},
            }],
        });
        inner.update(&pod_key, next, &tx);
        let model = pod
            .pointer("/spec/containers/0/args/1")
            .and_then(Value::as_str)
            .unwrap_or("model")
            .to_string();
        let lines = [
            "INFO 11-23 16:40:01 [api_server.py:1805] vLLM API server version 0.11.0".to_string(),
            format!("INFO 11-23 16:40:01 [utils.py:233] non-default args: {{'model': '{model}'}}"),
            "INFO 11-23 16:40:32 [gpu_model_runner.py:2653] Model loading took 14.99 GiB and 28.1 seconds".to_string(),
            "INFO:     Started server process [1]".to_string(),
            "INFO:     Waiting for application startup.".to_string(),
            "INFO:     Application startup complete.".to_string(),
        ];
        let entry = inner.logs.entry(ns_name.clone()).or_default();
        for line in &lines {
            entry.current.push(line.clone());
            let _ =
                fake.shared.log_lines.send((ns_name.0.clone(), ns_name.1.clone(), line.clone()));
        }
        event(
            inner,
            fake,
            &pod_key.namespace,
            "Pod",
            &pod_key.name,
            "Normal",
            "Started",
            "Started container engine",
        );
    }
}

fn pick_node(inner: &Inner, nodes: &[(Key, Value)], pod: &Value) -> Result<String, String> {
    if nodes.is_empty() {
        return Ok("fake-node-1".into());
    }
    let wanted = gpu_request(pod);
    let selector =
        pod.pointer("/spec/nodeSelector").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut reasons: Vec<String> = Vec::new();
    for (_, node) in nodes {
        let name = node["metadata"]["name"].as_str().unwrap_or_default();
        let labels = &node["metadata"]["labels"];
        if !selector.iter().all(|(k, v)| labels.get(k) == Some(v)) {
            reasons.push("node(s) didn't match Pod's node affinity/selector".into());
            continue;
        }
        let mut fits = true;
        for (resource, amount) in &wanted {
            let allocatable = node
                .pointer(&format!("/status/allocatable/{}", resource.replace('/', "~1")))
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<i64>().ok())
                .unwrap_or(0);
            let used: i64 = inner
                .list(def("Pod"), "")
                .iter()
                .filter(|(_, p)| p.pointer("/spec/nodeName").and_then(Value::as_str) == Some(name))
                .filter(|(_, p)| {
                    !matches!(
                        p.pointer("/status/phase").and_then(Value::as_str),
                        Some("Succeeded" | "Failed")
                    )
                })
                .flat_map(|(_, p)| gpu_request(p))
                .filter(|(r, _)| r == resource)
                .map(|(_, n)| n)
                .sum();
            if allocatable - used < *amount {
                fits = false;
                reasons.push(format!("Insufficient {resource}"));
            }
        }
        if fits {
            return Ok(name.to_string());
        }
    }
    let mut counted: Vec<(String, usize)> = Vec::new();
    for reason in reasons {
        match counted.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => counted.push((reason, 1)),
        }
    }
    let parts: Vec<String> = counted.iter().map(|(r, n)| format!("{n} {r}")).collect();
    Err(format!(
        "0/{} nodes are available: {}. preemption: 0/{} nodes are available: {} No preemption victims found for incoming pod.",
        nodes.len(),
        parts.join(", "),
        nodes.len(),
        nodes.len()
    ))
}
