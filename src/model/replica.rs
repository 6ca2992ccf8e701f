//! One replica as a backend found it, and the handle that backend finds it again by.
//!
//! The handle is an enum so a replica carries only what its own backend needs (a process id
//! and log file, a container id, a pod) instead of every backend's fields side by side. The
//! JSON shape is a contract (`ls --json` and every command that prints a deployment): it keeps
//! the flat `pid`, `container_id` and `log_path` fields, derived from the handle, and adds `pod`
//! and `node` for Kubernetes replicas.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::deployment::ReplicaState;

/// How a backend finds one replica again: what it stops, inspects or reads the logs of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplicaHandle {
    /// Process backend: the process (group leader; 0 while it is being started) and the log
    /// file its output goes to.
    Pid { pid: u32, log: PathBuf },
    /// Docker backend: the container's full id.
    Container { id: String },
    /// Kubernetes: the pod (a multi-node group's leader), the node it was scheduled on, and its
    /// `metadata.uid` (a GPU process whose `/proc/PID/cgroup` names it belongs to this replica).
    Pod { name: String, node: Option<String>, uid: Option<String> },
}

/// One running (or dead) replica of a deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "ReplicaJson", into = "ReplicaJson")]
pub struct Replica {
    pub index: u32,
    /// Container name (`aimdeck-<name>-<i>`), the process backend's `<name>-<i>` or the pod.
    pub name: String,
    /// Host port the engine answers on (127.0.0.1).
    pub port: u16,
    /// Host GPU indices this replica holds.
    pub gpus: Vec<u32>,
    pub state: ReplicaState,
    /// Why the replica is in its state (exit code, health error), for the view's detail line.
    pub detail: Option<String>,
    /// What the backend made for it; `None` while nothing is made yet (a pod the Deployment
    /// wants but its controller has not created).
    pub handle: Option<ReplicaHandle>,
    /// When the backend started this replica (unix ms): the process record's start, the
    /// container's `State.StartedAt`, the pod's `status.startTime`. Ages come from here, so
    /// they restart with the replica and survive a console restart.
    pub started_at_unix_ms: Option<i64>,
}

impl Replica {
    /// Base URL of the replica's OpenAI-compatible server.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Process id (process backend).
    pub fn pid(&self) -> Option<u32> {
        match &self.handle {
            Some(ReplicaHandle::Pid { pid, .. }) => Some(*pid),
            _ => None,
        }
    }

    /// Container id (Docker backend).
    pub fn container_id(&self) -> Option<&str> {
        match &self.handle {
            Some(ReplicaHandle::Container { id }) => Some(id),
            _ => None,
        }
    }

    /// The pod's `metadata.uid` (Kubernetes backend).
    pub fn pod_uid(&self) -> Option<&str> {
        match &self.handle {
            Some(ReplicaHandle::Pod { uid, .. }) => uid.as_deref(),
            _ => None,
        }
    }

    /// Log file (process backend).
    pub fn log_path(&self) -> Option<&Path> {
        match &self.handle {
            Some(ReplicaHandle::Pid { log, .. }) => Some(log),
            _ => None,
        }
    }
}

/// The replica as JSON: the handle flattened into the fields each backend has printed since
/// before there was a handle (`null` where they do not apply), plus the pod's.
#[derive(Serialize, Deserialize)]
struct ReplicaJson {
    index: u32,
    name: String,
    port: u16,
    gpus: Vec<u32>,
    state: ReplicaState,
    #[serde(default)]
    detail: Option<String>,
    /// Process id (process backend).
    #[serde(default)]
    pid: Option<u32>,
    /// Container id (Docker backend).
    #[serde(default)]
    container_id: Option<String>,
    /// Log file (process backend).
    #[serde(default)]
    log_path: Option<PathBuf>,
    /// Pod name (Kubernetes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pod: Option<String>,
    /// Node the pod runs on (Kubernetes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    node: Option<String>,
    /// The pod's `metadata.uid` (Kubernetes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pod_uid: Option<String>,
    #[serde(default)]
    started_at_unix_ms: Option<i64>,
}

impl From<Replica> for ReplicaJson {
    fn from(r: Replica) -> Self {
        let (mut pid, mut container_id, mut log_path, mut pod, mut node, mut pod_uid) =
            (None, None, None, None, None, None);
        match r.handle {
            Some(ReplicaHandle::Pid { pid: p, log }) => (pid, log_path) = (Some(p), Some(log)),
            Some(ReplicaHandle::Container { id }) => container_id = Some(id),
            Some(ReplicaHandle::Pod { name, node: n, uid }) => {
                (pod, node, pod_uid) = (Some(name), n, uid)
            }
            None => {}
        }
        ReplicaJson {
            index: r.index,
            name: r.name,
            port: r.port,
            gpus: r.gpus,
            state: r.state,
            detail: r.detail,
            pid,
            container_id,
            log_path,
            pod,
            node,
            pod_uid,
            started_at_unix_ms: r.started_at_unix_ms,
        }
    }
}

impl From<ReplicaJson> for Replica {
    fn from(j: ReplicaJson) -> Self {
        let handle = match (j.pid, j.container_id, j.pod) {
            (_, Some(id), _) => Some(ReplicaHandle::Container { id }),
            (Some(pid), None, _) => {
                Some(ReplicaHandle::Pid { pid, log: j.log_path.unwrap_or_default() })
            }
            (None, None, Some(name)) => {
                Some(ReplicaHandle::Pod { name, node: j.node, uid: j.pod_uid })
            }
            (None, None, None) => None,
        };
        Replica {
            index: j.index,
            name: j.name,
            port: j.port,
            gpus: j.gpus,
            state: j.state,
            detail: j.detail,
            handle,
            started_at_unix_ms: j.started_at_unix_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn replica(handle: Option<ReplicaHandle>) -> Replica {
        Replica {
            index: 0,
            name: "qwen-0".into(),
            port: 8000,
            gpus: vec![1],
            state: ReplicaState::Ready,
            detail: None,
            handle,
            started_at_unix_ms: Some(1),
        }
    }

    #[test]
    fn json_keeps_the_flat_fields_of_every_backend() {
        let process = replica(Some(ReplicaHandle::Pid { pid: 42, log: "/s/qwen-0.log".into() }));
        let json = serde_json::to_value(&process).unwrap();
        assert_eq!(
            json,
            json!({
                "index": 0, "name": "qwen-0", "port": 8000, "gpus": [1], "state": "ready",
                "detail": null, "pid": 42, "container_id": null, "log_path": "/s/qwen-0.log",
                "started_at_unix_ms": 1
            })
        );
        let docker =
            serde_json::to_value(replica(Some(ReplicaHandle::Container { id: "abc".into() })))
                .unwrap();
        assert_eq!((&docker["pid"], &docker["container_id"]), (&json!(null), &json!("abc")));
        let none = serde_json::to_value(replica(None)).unwrap();
        assert!(none.get("pod").is_none(), "no pod field where there is no pod: {none}");
    }

    #[test]
    fn every_handle_comes_back_from_its_json() {
        for handle in [
            None,
            Some(ReplicaHandle::Pid { pid: 7, log: "/x.log".into() }),
            Some(ReplicaHandle::Container { id: "c0ffee".into() }),
            Some(ReplicaHandle::Pod {
                name: "qwen-7d9f-abcde".into(),
                node: Some("n1".into()),
                uid: Some("0f7e2c1a-uid".into()),
            }),
        ] {
            let r = replica(handle);
            let back: Replica = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
            assert_eq!(back, r);
        }
    }
}
