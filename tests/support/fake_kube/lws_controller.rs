//! A stand-in for the LeaderWorkerSet controller (kubernetes-sigs/lws v0.10.0): each of
//! `spec.replicas` groups gets a leader pod `NAME-G` and workers `NAME-G-W` (W = 1..size),
//! labelled `leaderworkerset.sigs.k8s.io/{name,group-index,worker-index}` and given the
//! `LWS_LEADER_ADDRESS`, `LWS_GROUP_SIZE`, `LWS_WORKER_INDEX` env the LWS webhook injects.
//! Groups above `replicas` are removed; pods of a deleted set are collected.

use std::time::Instant;

use serde_json::{Value, json};

use super::FakeKube;
use super::resources::{RESOURCES, ResourceDef};
use super::store::{Inner, Key};

fn def(kind: &str) -> &'static ResourceDef {
    RESOURCES.iter().find(|r| r.kind == kind).expect("resource")
}

fn lws_pod(
    lws: &Value,
    name: &str,
    uid: &str,
    group: i64,
    worker: i64,
    size: i64,
    namespace: &str,
) -> Value {
    let template = if worker == 0 {
        lws.pointer("/spec/leaderWorkerTemplate/leaderTemplate")
            .or_else(|| lws.pointer("/spec/leaderWorkerTemplate/workerTemplate"))
    } else {
        lws.pointer("/spec/leaderWorkerTemplate/workerTemplate")
    };
    let template = template.cloned().unwrap_or(json!({}));
    let pod_name =
        if worker == 0 { format!("{name}-{group}") } else { format!("{name}-{group}-{worker}") };
    let mut metadata = template.get("metadata").cloned().unwrap_or(json!({}));
    metadata["name"] = json!(pod_name);
    metadata["labels"]["leaderworkerset.sigs.k8s.io/name"] = json!(name);
    metadata["labels"]["leaderworkerset.sigs.k8s.io/group-index"] = json!(group.to_string());
    metadata["labels"]["leaderworkerset.sigs.k8s.io/worker-index"] = json!(worker.to_string());
    metadata["ownerReferences"] = json!([{
        "apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "name": name, "uid": uid,
        "controller": true, "blockOwnerDeletion": true,
    }]);
    let mut spec = template.get("spec").cloned().unwrap_or(json!({}));
    let leader_address = format!("{name}-{group}.{name}.{namespace}");
    for container in spec.get_mut("containers").and_then(Value::as_array_mut).into_iter().flatten()
    {
        let env = container.as_object_mut().expect("container").entry("env").or_insert(json!([]));
        if let Some(env) = env.as_array_mut() {
            env.push(json!({"name": "LWS_LEADER_ADDRESS", "value": leader_address}));
            env.push(json!({"name": "LWS_GROUP_SIZE", "value": size.to_string()}));
            env.push(json!({"name": "LWS_WORKER_INDEX", "value": worker.to_string()}));
        }
    }
    json!({"metadata": metadata, "spec": spec, "status": {"phase": "Pending", "qosClass": "BestEffort"}})
}

fn is_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
}

pub fn reconcile(inner: &mut Inner, fake: &FakeKube) {
    let tx = fake.shared.changes.clone();
    let sets = inner.list(def("LeaderWorkerSet"), "");
    let mut live = Vec::new();
    for (key, lws) in &sets {
        let name = key.name.clone();
        let uid = lws["metadata"]["uid"].as_str().unwrap_or_default().to_string();
        live.push(uid.clone());
        let replicas = lws.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1).max(0);
        let size = lws
            .pointer("/spec/leaderWorkerTemplate/size")
            .and_then(Value::as_i64)
            .unwrap_or(1)
            .max(1);
        let owned: Vec<(Key, Value)> = inner
            .list(def("Pod"), &key.namespace)
            .into_iter()
            .filter(|(_, p)| {
                p.pointer("/metadata/ownerReferences/0/uid").and_then(Value::as_str)
                    == Some(uid.as_str())
            })
            .collect();
        for (pod_key, pod) in &owned {
            let group = pod
                .pointer("/metadata/labels/leaderworkerset.sigs.k8s.io~1group-index")
                .and_then(Value::as_str)
                .and_then(|g| g.parse::<i64>().ok())
                .unwrap_or(0);
            let worker = pod
                .pointer("/metadata/labels/leaderworkerset.sigs.k8s.io~1worker-index")
                .and_then(Value::as_str)
                .and_then(|g| g.parse::<i64>().ok())
                .unwrap_or(0);
            if group >= replicas || worker >= size {
                inner.remove(pod_key, &tx);
            }
        }
        let mut ready_groups = 0;
        for group in 0..replicas {
            let mut group_ready = true;
            for worker in 0..size {
                let pod_name = if worker == 0 {
                    format!("{name}-{group}")
                } else {
                    format!("{name}-{group}-{worker}")
                };
                let pod_key = Key::new(def("Pod"), &key.namespace, &pod_name);
                match inner.get(&pod_key) {
                    Some(pod) => group_ready &= is_ready(pod),
                    None => {
                        group_ready = false;
                        let pod = lws_pod(lws, &name, &uid, group, worker, size, &key.namespace);
                        inner.insert(def("Pod"), pod_key, pod, &tx);
                        inner.pod_created.insert((key.namespace.clone(), pod_name), Instant::now());
                    }
                }
            }
            ready_groups += group_ready as i64;
        }
        let status = json!({
            "replicas": replicas, "readyReplicas": ready_groups, "updatedReplicas": replicas,
            "hpaPodSelector": format!("leaderworkerset.sigs.k8s.io/name={name},leaderworkerset.sigs.k8s.io/worker-index=0"),
            "conditions": [{"type": "Available", "status": if ready_groups >= replicas { "True" } else { "False" }}],
        });
        if let Some(current) = inner.get(key).cloned()
            && current["status"] != status
        {
            let mut next = current;
            next["status"] = status;
            inner.update(key, next, &tx);
        }
    }
    for (pod_key, pod) in inner.list(def("Pod"), "") {
        let owner = pod.pointer("/metadata/ownerReferences/0");
        if owner.and_then(|o| o.get("kind")).and_then(Value::as_str) == Some("LeaderWorkerSet")
            && !owner
                .and_then(|o| o.get("uid"))
                .and_then(Value::as_str)
                .is_some_and(|u| live.iter().any(|l| l == u))
        {
            inner.remove(&pod_key, &tx);
        }
    }
}
