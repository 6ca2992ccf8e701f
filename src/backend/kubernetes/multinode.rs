//! Multi-node replicas: when one replica needs more GPUs than a node has (tp x pp > GPUs per
//! node, or `--nodes N`), each replica is a LeaderWorkerSet group of N pods, one per node.
//!
//! The engines' own multi-node launch, with the addresses LWS puts in every pod's env
//! (`LWS_LEADER_ADDRESS`, `LWS_GROUP_SIZE`, `LWS_WORKER_INDEX`, api/leaderworkerset/v1 of
//! kubernetes-sigs/lws v0.10.0):
//! - vLLM 0.33 (`vllm/engine/arg_utils.py`): its multiprocessing backend spans nodes with
//!   `--nnodes N --node-rank R --master-addr ADDR --master-port P`; ranks above 0 run
//!   `--headless` (no API server, `vllm/entrypoints/cli/serve.py`). No Ray cluster is needed.
//! - SGLang: `--nnodes N --node-rank R --dist-init-addr ADDR:PORT` (as in LWS's own SGLang
//!   example), with `--pp-size` when pipeline-parallel.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Value, json};

use super::errors::K8sError;
use super::pod::pod_spec;
use super::render::{K8sRenderOptions, err};
use crate::model::{DeploymentSpec, EngineKind};

pub const LWS_API_VERSION: &str = "leaderworkerset.x-k8s.io/v1";
/// The label LWS puts on every pod: 0 on the leader.
pub const WORKER_INDEX_LABEL: &str = "leaderworkerset.sigs.k8s.io/worker-index";
pub const GROUP_INDEX_LABEL: &str = "leaderworkerset.sigs.k8s.io/group-index";
pub const SET_NAME_LABEL: &str = "leaderworkerset.sigs.k8s.io/name";
/// vLLM's default `--master-port` (ParallelConfig.master_port in 0.33).
const VLLM_MASTER_PORT: u16 = 29501;
/// The port LWS's SGLang example uses for `--dist-init-addr`.
const SGLANG_DIST_PORT: u16 = 20000;

/// Which pod of a replica is being rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRole {
    /// The whole replica in one pod.
    Single,
    /// Rank 0 of `nodes`: serves HTTP.
    Leader { nodes: u32 },
    /// Ranks 1.. of `nodes`.
    Worker { nodes: u32 },
}

impl NodeRole {
    pub fn serves_http(self) -> bool {
        !matches!(self, NodeRole::Worker { .. })
    }

    pub fn gpus_per_pod(self, spec: &DeploymentSpec) -> u32 {
        match self {
            NodeRole::Single => spec.gpus_per_replica,
            NodeRole::Leader { nodes } | NodeRole::Worker { nodes } => {
                spec.gpus_per_replica / nodes.max(1)
            }
        }
    }
}

/// How many nodes one replica spans: `--nodes`, or as many as its GPUs need.
pub fn nodes_per_replica(
    spec: &DeploymentSpec,
    options: &K8sRenderOptions,
) -> Result<u32, K8sError> {
    let per_node = options.gpus_per_node.max(1);
    let nodes = match options.nodes {
        Some(nodes) => nodes.max(1),
        None => spec.gpus_per_replica.div_ceil(per_node).max(1),
    };
    if nodes > 1 {
        if !spec.gpus_per_replica.is_multiple_of(nodes) {
            return Err(err(
                "nodes",
                format!(
                    "{} GPUs per replica do not split evenly over {nodes} nodes; pick tp x pp divisible by the node count",
                    spec.gpus_per_replica
                ),
            ));
        }
        if spec.gpus_per_replica / nodes > per_node {
            return Err(err(
                "nodes",
                format!(
                    "{} GPUs per node over {nodes} nodes exceed the {per_node} GPUs a node has; raise --nodes",
                    spec.gpus_per_replica / nodes
                ),
            ));
        }
        if spec.parallelism.dp > 1 {
            return Err(err(
                "nodes",
                "data parallelism inside a multi-node replica is not supported; use replicas instead",
            ));
        }
    }
    Ok(nodes)
}

/// The flags that make the engine one rank of a multi-node replica (none for `Single`).
/// `present` is the command line so far, so a flag the launch already has is not repeated.
pub fn multi_node_args(spec: &DeploymentSpec, role: NodeRole, present: &[String]) -> Vec<String> {
    let mut args = Vec::new();
    let has = |flag: &str| present.iter().any(|a| a == flag);
    if spec.engine == EngineKind::Sglang
        && spec.parallelism.pp > 1
        && !has("--pp-size")
        && !has("--pipeline-parallel-size")
    {
        // SGLang's pipeline size (the shared launch passes only --tp).
        args.extend(["--pp-size".to_string(), spec.parallelism.pp.to_string()]);
    }
    let nodes = match role {
        NodeRole::Single => return args,
        NodeRole::Leader { nodes } | NodeRole::Worker { nodes } => nodes,
    };
    match spec.engine {
        EngineKind::Vllm => {
            args.extend([
                "--nnodes".into(),
                nodes.to_string(),
                "--node-rank".into(),
                "$(LWS_WORKER_INDEX)".into(),
                "--master-addr".into(),
                "$(LWS_LEADER_ADDRESS)".into(),
                "--master-port".into(),
                VLLM_MASTER_PORT.to_string(),
            ]);
            if matches!(role, NodeRole::Worker { .. }) {
                args.push("--headless".into());
            }
        }
        EngineKind::Sglang => args.extend([
            "--nnodes".into(),
            nodes.to_string(),
            "--node-rank".into(),
            "$(LWS_WORKER_INDEX)".into(),
            "--dist-init-addr".into(),
            format!("$(LWS_LEADER_ADDRESS):{SGLANG_DIST_PORT}"),
        ]),
    }
    args
}

fn template(
    spec: &DeploymentSpec,
    options: &K8sRenderOptions,
    role: NodeRole,
    meta: &ObjectMeta,
) -> Result<Value, K8sError> {
    let pod = pod_spec(spec, options, role);
    Ok(json!({
        "metadata": serde_json::to_value(meta).map_err(|e| err("LeaderWorkerSet", e.to_string()))?,
        "spec": serde_json::to_value(pod).map_err(|e| err("LeaderWorkerSet", e.to_string()))?,
    }))
}

/// One LeaderWorkerSet: `replicas` groups of `nodes` pods (leader + workers).
pub fn render_lws(
    spec: &DeploymentSpec,
    options: &K8sRenderOptions,
    nodes: u32,
    metadata: ObjectMeta,
    pod_labels: BTreeMap<String, String>,
) -> Result<Value, K8sError> {
    let pod_meta = ObjectMeta {
        labels: Some(pod_labels),
        annotations: Some(BTreeMap::from([(
            crate::model::labels::MODEL_ANNOTATION.to_string(),
            spec.model.clone(),
        )])),
        ..Default::default()
    };
    let mut lws = json!({
        "apiVersion": LWS_API_VERSION,
        "kind": "LeaderWorkerSet",
        "metadata": serde_json::to_value(&metadata).map_err(|e| err("LeaderWorkerSet", e.to_string()))?,
        "spec": {
            // Workers join a leader that exists; the leader waits for them (engine-side).
            "startupPolicy": "LeaderCreated",
            "rolloutStrategy": {"type": "RollingUpdate", "rollingUpdateConfiguration": {
                "maxSurge": if options.surge { 1 } else { 0 }, "maxUnavailable": 1,
            }},
            "leaderWorkerTemplate": {
                "size": nodes,
                // One rank gone breaks the whole collective: restart the group together.
                "restartPolicy": "RecreateGroupOnPodRestart",
                "leaderTemplate": template(spec, options, NodeRole::Leader { nodes }, &pod_meta)?,
                "workerTemplate": template(spec, options, NodeRole::Worker { nodes }, &pod_meta)?,
            },
        },
    });
    if let Some(labels) = &metadata.labels {
        lws["metadata"]["labels"] = json!(labels);
    }
    // Left out when an autoscaler owns it, as for a Deployment (see `replicas_field`).
    if let Some(replicas) = super::render::replicas_field(spec, options) {
        lws["spec"]["replicas"] = json!(replicas);
    }
    Ok(lws)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Parallelism;

    fn spec(engine: EngineKind, tp: u32, pp: u32) -> DeploymentSpec {
        let mut spec = DeploymentSpec::minimal("big", "deepseek-ai/DeepSeek-R1", engine, 1, 8000);
        spec.parallelism = Parallelism { tp, pp, dp: 1 };
        spec.gpus_per_replica = tp * pp;
        spec.gpu_vendor = Some(crate::model::deployment::GpuVendor::Nvidia);
        spec
    }

    #[test]
    fn sixteen_gpus_on_eight_gpu_nodes_are_two_nodes_and_uneven_splits_are_refused() {
        let options = K8sRenderOptions::default();
        assert_eq!(nodes_per_replica(&spec(EngineKind::Vllm, 8, 2), &options).unwrap(), 2);
        assert_eq!(nodes_per_replica(&spec(EngineKind::Vllm, 8, 1), &options).unwrap(), 1);
        let three = K8sRenderOptions { nodes: Some(3), ..Default::default() };
        let text =
            nodes_per_replica(&spec(EngineKind::Vllm, 8, 2), &three).unwrap_err().to_string();
        assert!(text.contains("do not split evenly over 3 nodes"), "{text}");
    }

    #[test]
    fn vllm_workers_are_headless_ranks_and_sglang_gets_its_pipeline_size() {
        let worker =
            multi_node_args(&spec(EngineKind::Vllm, 8, 2), NodeRole::Worker { nodes: 2 }, &[]);
        assert_eq!(
            worker.join(" "),
            "--nnodes 2 --node-rank $(LWS_WORKER_INDEX) --master-addr $(LWS_LEADER_ADDRESS) --master-port 29501 --headless"
        );
        let leader =
            multi_node_args(&spec(EngineKind::Sglang, 8, 2), NodeRole::Leader { nodes: 2 }, &[]);
        assert_eq!(
            leader.join(" "),
            "--pp-size 2 --nnodes 2 --node-rank $(LWS_WORKER_INDEX) --dist-init-addr $(LWS_LEADER_ADDRESS):20000"
        );
    }
}
