//! Node GPU inventory for the GPUs view: per node, the `amd.com/gpu` / `nvidia.com/gpu`
//! capacity and allocatable, how many are allocated (the sum of the requests of the pods bound
//! there), the product and memory labels, readiness and taints.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use serde::Serialize;

use super::client::KubeBackend;
use super::errors::{K8sError, call};
use crate::model::deployment::GpuVendor;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeGpuInventory {
    pub node: String,
    pub vendor: Option<GpuVendor>,
    /// `nvidia.com/gpu` or `amd.com/gpu`.
    pub resource: Option<String>,
    /// `nvidia.com/gpu.product` or `amd.com/gpu.product-name` (older `beta.amd.com/...`).
    pub product: Option<String>,
    /// As labelled: NVIDIA in MiB (`81559 MiB`), AMD as the labeller writes it (`192G`).
    pub memory: Option<String>,
    pub capacity: u32,
    pub allocatable: u32,
    pub allocated: u32,
    pub ready: bool,
    pub unschedulable: bool,
    /// `key=value:Effect` or `key:Effect`.
    pub taints: Vec<String>,
    /// Conditions that say something is wrong: any but `Ready` that is `True` (pressure, or a
    /// node-problem-detector GPU condition), as `Type: reason: message`.
    pub problems: Vec<String>,
    /// The partition mode the device plugin labels: AMD `amd.com/compute-memory-partition`
    /// (`cpx_nps4`), NVIDIA `nvidia.com/mig.config` (with `nvidia.com/mig.strategy`).
    pub partition: Option<String>,
    /// Labels whose key mentions health (the GPU operators' and health checkers' verdicts).
    pub health_labels: BTreeMap<String, String>,
}

impl NodeGpuInventory {
    pub fn free(&self) -> u32 {
        self.allocatable.saturating_sub(self.allocated)
    }
}

const RESOURCES: [(&str, GpuVendor); 2] =
    [("nvidia.com/gpu", GpuVendor::Nvidia), ("amd.com/gpu", GpuVendor::Amd)];

fn first_label(labels: &BTreeMap<String, String>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| labels.get(*k)).cloned()
}

fn quantity(
    map: Option<&BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
    key: &str,
) -> u32 {
    map.and_then(|m| m.get(key)).and_then(|q| q.0.trim().parse::<u32>().ok()).unwrap_or(0)
}

/// GPUs a pod holds of `resource`: containers sum, init containers run one at a time (max),
/// and the pod holds the larger of the two (the scheduler's rule). Requests, else limits.
fn pod_gpus(pod: &Pod, resource: &str) -> u32 {
    let Some(spec) = &pod.spec else { return 0 };
    let amount = |c: &k8s_openapi::api::core::v1::Container| {
        let res = c.resources.as_ref();
        let req = quantity(res.and_then(|r| r.requests.as_ref()), resource);
        if req > 0 { req } else { quantity(res.and_then(|r| r.limits.as_ref()), resource) }
    };
    let main: u32 = spec.containers.iter().map(amount).sum();
    let init = spec.init_containers.iter().flatten().map(amount).max().unwrap_or(0);
    main.max(init)
}

fn holds_resources(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    !matches!(phase, Some("Succeeded") | Some("Failed"))
}

/// Joins nodes with the pods bound to them. Nodes without GPUs are listed too (capacity 0)
/// only when they carry a GPU product label; plain CPU nodes are left out.
pub fn inventory(nodes: &[Node], pods: &[Pod]) -> Vec<NodeGpuInventory> {
    let mut rows = Vec::new();
    for node in nodes {
        let name = node.metadata.name.clone().unwrap_or_default();
        let labels = node.metadata.labels.clone().unwrap_or_default();
        let status = node.status.as_ref();
        let capacity = status.and_then(|s| s.capacity.as_ref());
        let allocatable = status.and_then(|s| s.allocatable.as_ref());
        let found = RESOURCES
            .iter()
            .find(|(r, _)| quantity(capacity, r) > 0 || quantity(allocatable, r) > 0);
        let nvidia_product = first_label(&labels, &["nvidia.com/gpu.product"]);
        let amd_product =
            first_label(&labels, &["amd.com/gpu.product-name", "beta.amd.com/gpu.product-name"]);
        let vendor = found.map(|(_, v)| *v).or(if nvidia_product.is_some() {
            Some(GpuVendor::Nvidia)
        } else if amd_product.is_some() {
            Some(GpuVendor::Amd)
        } else {
            None
        });
        let Some(vendor) = vendor else { continue };
        let resource = RESOURCES
            .iter()
            .find(|(_, v)| *v == vendor)
            .map(|(r, _)| *r)
            .unwrap_or("nvidia.com/gpu");
        let (product, memory) = match vendor {
            GpuVendor::Nvidia => (
                nvidia_product,
                first_label(&labels, &["nvidia.com/gpu.memory"]).map(|mib| format!("{mib} MiB")),
            ),
            GpuVendor::Amd => {
                (amd_product, first_label(&labels, &["amd.com/gpu.vram", "beta.amd.com/gpu.vram"]))
            }
        };
        let allocated = pods
            .iter()
            .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(name.as_str()))
            .filter(|p| holds_resources(p))
            .map(|p| pod_gpus(p, resource))
            .sum();
        let ready = status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        let spec = node.spec.as_ref();
        let taints = spec
            .and_then(|s| s.taints.as_ref())
            .map(|taints| {
                taints
                    .iter()
                    .map(|t| match &t.value {
                        Some(v) if !v.is_empty() => format!("{}={v}:{}", t.key, t.effect),
                        _ => format!("{}:{}", t.key, t.effect),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let problems = status
            .and_then(|s| s.conditions.as_ref())
            .map(|conditions| {
                conditions
                    .iter()
                    .filter(|c| c.type_ != "Ready" && c.status == "True")
                    .map(|c| {
                        let why: Vec<&str> = [c.reason.as_deref(), c.message.as_deref()]
                            .into_iter()
                            .flatten()
                            .collect();
                        if why.is_empty() {
                            c.type_.clone()
                        } else {
                            format!("{}: {}", c.type_, why.join(": "))
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let partition =
            first_label(&labels, &["amd.com/compute-memory-partition", "nvidia.com/mig.config"]);
        let health_labels = labels
            .iter()
            .filter(|(k, _)| k.to_ascii_lowercase().contains("health"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        rows.push(NodeGpuInventory {
            node: name,
            vendor: Some(vendor),
            resource: Some(resource.to_string()),
            product,
            memory,
            capacity: quantity(capacity, resource),
            allocatable: quantity(allocatable, resource),
            allocated,
            ready,
            unschedulable: spec.and_then(|s| s.unschedulable).unwrap_or(false),
            taints,
            problems,
            partition,
            health_labels,
        });
    }
    rows.sort_by(|a, b| a.node.cmp(&b.node));
    rows
}

impl KubeBackend {
    /// Lists nodes and every pod in the cluster (cluster-scoped read: see docs/kubernetes.md).
    pub async fn node_gpus(&self) -> Result<Vec<NodeGpuInventory>, K8sError> {
        let nodes: Api<Node> = Api::all(self.client().clone());
        let pods: Api<Pod> = Api::all(self.client().clone());
        let action =
            super::errors::Action { verb: "list", resource: "nodes", name: None, namespace: None };
        let node_list = call(self.timeout(), action, nodes.list(&Default::default())).await?;
        let action =
            super::errors::Action { verb: "list", resource: "pods", name: None, namespace: None };
        let pod_list = call(self.timeout(), action, pods.list(&Default::default())).await?;
        Ok(inventory(&node_list.items, &pod_list.items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_label_health_labels_and_problem_conditions() {
        // Labels as ROCm/k8s-device-plugin's labeller writes them (`amd.com/compute-memory-partition`).
        let node: Node = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "mi300x-a", "labels": {
                "amd.com/gpu.product-name": "AMD_Instinct_MI300X_OAM",
                "amd.com/compute-memory-partition": "cpx_nps4",
                "example.com/gpu-health": "degraded"}},
            "spec": {"taints": [{"key": "amd.com/gpu-unhealthy", "effect": "NoSchedule"}]},
            "status": {"capacity": {"amd.com/gpu": "64"}, "conditions": [
                {"type": "Ready", "status": "True"},
                {"type": "MemoryPressure", "status": "False"},
                {"type": "GpuUnhealthy", "status": "True", "reason": "EccErrors", "message": "GPU 3 uncorrectable ECC"}]}
        }))
        .unwrap();
        let rows = inventory(&[node], &[]);
        assert_eq!(rows[0].partition.as_deref(), Some("cpx_nps4"));
        assert_eq!(rows[0].problems, vec!["GpuUnhealthy: EccErrors: GPU 3 uncorrectable ECC"]);
        assert_eq!(
            rows[0].health_labels.get("example.com/gpu-health").map(String::as_str),
            Some("degraded")
        );
        assert_eq!(rows[0].taints, vec!["amd.com/gpu-unhealthy:NoSchedule"]);
    }
}
