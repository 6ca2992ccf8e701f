//! A `DeploymentSpec` as Kubernetes objects: a Deployment and a Service, plus optionally a
//! cache PVC, a HorizontalPodAutoscaler, a PodDisruptionBudget and a ServiceMonitor. Pure:
//! no I/O, so `aimdeck render k8s` prints exactly what `deploy` applies.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec as K8sDeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1::{
    EnvVar, EnvVarSource, PersistentVolumeClaim, PodTemplateSpec, SecretKeySelector, Service,
    ServicePort, ServiceSpec, TopologySpreadConstraint,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use serde::Serialize;

pub use super::rendered::{RenderedObjects, values_to_list, values_to_yaml};

pub use super::autoscale::{HpaMetric, HpaOptions, KedaOptions};
use super::autoscale::{render_hpa, render_scaled_object};
use super::cache_pvc;
use super::errors::K8sError;
use super::multinode::{NodeRole, WORKER_INDEX_LABEL, nodes_per_replica, render_lws};
use super::pod::pod_spec;
use crate::model::deployment::GpuVendor;
use crate::model::{DeploymentSpec, labels};

/// Where the Hugging Face cache lives in the pod (`/root/.cache/huggingface`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CacheVolume {
    /// An `emptyDir`: the model is downloaded again by every pod.
    None,
    /// An existing PVC, or one rendered with the deployment when `size` is set.
    Pvc { claim: String, size: Option<String>, storage_class: Option<String>, access_mode: String },
    /// A directory on the node (single-node clusters, pre-seeded nodes).
    HostPath { path: String },
}

/// A key of a Secret, for `HF_TOKEN`: the token itself never appears in a rendered object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretKeyRef {
    pub name: String,
    pub key: String,
}

impl SecretKeyRef {
    /// `HF_TOKEN` read from this Secret key, never inlined: the engine pods and the pre-pull
    /// Job take the token the same way.
    pub fn hf_token_env(&self) -> EnvVar {
        EnvVar {
            name: "HF_TOKEN".into(),
            value: None,
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: self.name.clone(),
                    key: self.key.clone(),
                    optional: Some(false),
                }),
                ..Default::default()
            }),
        }
    }
}

/// Choices that are Kubernetes-only, beside the spec.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct K8sRenderOptions {
    pub namespace: String,
    pub cache: CacheVolume,
    pub hf_token_secret: Option<SecretKeyRef>,
    /// Node selector on the GPU product label (`nvidia.com/gpu.product` or
    /// `amd.com/gpu.product-name`), e.g. `NVIDIA-H100-80GB-HBM3`, `AMD_Instinct_MI300X`.
    pub gpu_product: Option<String>,
    /// `sizeLimit` of the memory `emptyDir` at `/dev/shm`.
    pub shm_size: String,
    /// How long the engine may take to load before the startup probe gives up, in seconds.
    /// Unset: 30 minutes, one hour from 4 GPUs per replica (large models load slowly).
    pub startup_budget_secs: Option<u32>,
    pub hpa: Option<HpaOptions>,
    /// A KEDA ScaledObject instead of an HPA (`--autoscale keda`).
    pub keda: Option<KedaOptions>,
    /// Force a PodDisruptionBudget; one is rendered anyway when more than one replica runs.
    pub pdb: bool,
    pub service_monitor: bool,
    pub service_type: String,
    pub image_pull_secret: Option<String>,
    /// GPUs one node has; a replica needing more spans several nodes (LeaderWorkerSet).
    pub gpus_per_node: u32,
    /// Nodes per replica, overriding what the GPU count implies.
    pub nodes: Option<u32>,
    /// The cluster has spare GPUs for one extra replica during a rollout (`maxSurge: 1`).
    pub surge: bool,
    /// `terminationGracePeriodSeconds`: how long the engine may drain in-flight requests.
    pub drain_secs: u32,
    /// NIMService `authSecret`: a Secret with the key `NGC_API_KEY` (the operator reads it).
    pub nim_auth_secret: Option<String>,
}

impl Default for K8sRenderOptions {
    fn default() -> Self {
        K8sRenderOptions {
            namespace: "default".into(),
            cache: CacheVolume::None,
            hf_token_secret: None,
            gpu_product: None,
            shm_size: "16Gi".into(),
            startup_budget_secs: None,
            hpa: None,
            pdb: false,
            service_monitor: false,
            service_type: "ClusterIP".into(),
            image_pull_secret: None,
            keda: None,
            gpus_per_node: 8,
            nodes: None,
            surge: false,
            drain_secs: 120,
            nim_auth_secret: None,
        }
    }
}

pub const CONTAINER_NAME: &str = "engine";
pub const PORT_NAME: &str = "http";

/// The GPU resource name of a vendor's device plugin.
pub fn gpu_resource(vendor: GpuVendor) -> &'static str {
    match vendor {
        GpuVendor::Nvidia => "nvidia.com/gpu",
        GpuVendor::Amd => "amd.com/gpu",
    }
}

/// The node label holding the GPU product name (NVIDIA GPU feature discovery, AMD node labeller).
pub fn product_label(vendor: GpuVendor) -> &'static str {
    match vendor {
        GpuVendor::Nvidia => "nvidia.com/gpu.product",
        GpuVendor::Amd => "amd.com/gpu.product-name",
    }
}

/// The image used when the spec names none: the engine's official image for the vendor.
pub fn default_image(spec: &DeploymentSpec) -> String {
    use crate::model::EngineKind;
    match (spec.engine, spec.gpu_vendor.unwrap_or(GpuVendor::Nvidia)) {
        (EngineKind::Vllm, GpuVendor::Nvidia) => "vllm/vllm-openai:latest".into(),
        (EngineKind::Vllm, GpuVendor::Amd) => "vllm/vllm-openai-rocm:latest".into(),
        (EngineKind::Sglang, GpuVendor::Nvidia) => "lmsysorg/sglang:latest".into(),
        (EngineKind::Sglang, GpuVendor::Amd) => "lmsysorg/sglang:v0.5.5-rocm700-mi30x".into(),
    }
}

/// Labels on every object of a deployment; `selector_labels` is the stable subset.
pub fn object_labels(spec: &DeploymentSpec) -> BTreeMap<String, String> {
    let mut labels = selector_labels(&spec.name);
    labels.insert(labels::ENGINE.into(), spec.engine.as_str().into());
    if let Some(recipe) = spec.recipe_id.as_deref().and_then(label_value) {
        labels.insert(labels::RECIPE.into(), recipe);
    }
    labels.insert("app.kubernetes.io/name".into(), spec.engine.as_str().into());
    labels.insert("app.kubernetes.io/instance".into(), spec.name.clone());
    labels.insert("app.kubernetes.io/managed-by".into(), "aimdeck".into());
    labels
}

pub fn selector_labels(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (labels::MANAGED_BY.to_string(), labels::MANAGED_BY_VALUE.to_string()),
        (labels::DEPLOYMENT.to_string(), name.to_string()),
    ])
}

/// A label value is at most 63 characters of `[A-Za-z0-9._-]`, alphanumeric at both ends.
fn label_value(text: &str) -> Option<String> {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' })
        .take(63)
        .collect();
    let trimmed = cleaned.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

pub(crate) fn err(what: &str, message: impl Into<String>) -> K8sError {
    K8sError::Render { what: what.to_string(), message: message.into() }
}

fn check_name(name: &str) -> Result<(), K8sError> {
    // Service names are DNS-1035 labels: the strictest of the objects we make.
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(err(
            "name",
            format!(
                "`{name}`: expected at most 63 lowercase letters, digits and `-`, starting with a letter and not ending with `-`"
            ),
        ))
    }
}

/// Renders every object of `spec` for the options.
pub fn render(
    spec: &DeploymentSpec,
    options: &K8sRenderOptions,
) -> Result<RenderedObjects, K8sError> {
    check_name(&spec.name)?;
    if spec.gpus_per_replica > 0 && spec.gpu_vendor.is_none() {
        return Err(err(
            "gpu_vendor",
            "expected `amd` or `nvidia` to pick the GPU resource (`amd.com/gpu` or `nvidia.com/gpu`)",
        ));
    }
    if let Some(key) =
        spec.env.keys().find(|k| k.as_str() == "HF_TOKEN" || k.as_str() == "HUGGING_FACE_HUB_TOKEN")
    {
        return Err(err(
            "env",
            format!(
                "`{key}` is set inline; on Kubernetes it must come from a Secret: create one (`kubectl create secret generic hf-token --from-literal=HF_TOKEN=...`) and pass --hf-token-secret hf-token"
            ),
        ));
    }
    if options.hpa.is_some() && options.keda.is_some() {
        return Err(err(
            "autoscale",
            "an HPA and a KEDA ScaledObject would fight over replicas: pick one",
        ));
    }
    let nodes = nodes_per_replica(spec, options)?;
    let multi_node = nodes > 1;
    let labels = object_labels(spec);
    let mut annotations =
        BTreeMap::from([(labels::MODEL_ANNOTATION.to_string(), spec.model.clone())]);
    annotations.insert(
        labels::SPEC_ANNOTATION.into(),
        serde_json::to_string(spec).map_err(|e| err("spec annotation", e.to_string()))?,
    );
    let meta = |name: String| ObjectMeta {
        name: Some(name),
        namespace: Some(options.namespace.clone()),
        labels: Some(labels.clone()),
        ..Default::default()
    };
    let workload_meta =
        ObjectMeta { annotations: Some(annotations.clone()), ..meta(spec.name.clone()) };

    let cache_pvc = render_cache_pvc(spec, options)?;
    let (deployment, leader_worker_set) = if multi_node {
        (None, Some(render_lws(spec, options, nodes, workload_meta, labels.clone())?))
    } else {
        (Some(render_deployment(spec, options, workload_meta, &labels)), None)
    };

    // Multi-node: only the leader serves HTTP, so the Service selects rank 0 of each group.
    let mut service_selector = selector_labels(&spec.name);
    if multi_node {
        service_selector.insert(WORKER_INDEX_LABEL.into(), "0".into());
    }
    let service = Service {
        metadata: meta(spec.name.clone()),
        spec: Some(ServiceSpec {
            type_: Some(options.service_type.clone()),
            selector: Some(service_selector),
            ports: Some(vec![ServicePort {
                name: Some(PORT_NAME.into()),
                port: spec.port as i32,
                target_port: Some(IntOrString::String(PORT_NAME.into())),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        status: None,
    };

    let hpa = match &options.hpa {
        Some(hpa) => Some(render_hpa(spec, hpa, meta(spec.name.clone()), multi_node)?),
        None => None,
    };
    let scaled_object = match &options.keda {
        Some(keda) => Some(render_scaled_object(spec, keda, meta(spec.name.clone()), multi_node)?),
        None => None,
    };

    // More than one replica (now or once autoscaled): a drain takes at most one at a time.
    let max_replicas = options
        .hpa
        .as_ref()
        .map(|h| h.max_replicas)
        .or(options.keda.as_ref().map(|k| k.max_replicas));
    let pdb =
        (options.pdb || spec.replicas > 1 || max_replicas.is_some_and(|m| m > 1)).then(|| {
            PodDisruptionBudget {
                metadata: meta(spec.name.clone()),
                spec: Some(PodDisruptionBudgetSpec {
                    max_unavailable: Some(IntOrString::Int(1)),
                    selector: Some(LabelSelector {
                        match_labels: Some(selector_labels(&spec.name)),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                status: None,
            }
        });

    let service_monitor = options.service_monitor.then(|| {
        let gvk = GroupVersionKind::gvk("monitoring.coreos.com", "v1", "ServiceMonitor");
        let resource = ApiResource::from_gvk(&gvk);
        let mut monitor = DynamicObject::new(&spec.name, &resource).within(&options.namespace);
        monitor.metadata.labels = Some(labels.clone());
        monitor.data = serde_json::json!({
            "spec": {
                "selector": {"matchLabels": selector_labels(&spec.name)},
                "endpoints": [{"port": PORT_NAME, "path": "/metrics", "interval": "15s"}],
            }
        });
        monitor
    });

    Ok(RenderedObjects {
        cache_pvc,
        deployment,
        leader_worker_set,
        service,
        hpa,
        scaled_object,
        pdb,
        service_monitor,
    })
}

fn render_cache_pvc(
    spec: &DeploymentSpec,
    options: &K8sRenderOptions,
) -> Result<Option<PersistentVolumeClaim>, K8sError> {
    let CacheVolume::Pvc { claim, size: Some(size), storage_class, access_mode } = &options.cache
    else {
        return Ok(None);
    };
    let mut pvc = cache_pvc::render_cache_pvc(
        claim,
        &options.namespace,
        size,
        storage_class.as_deref(),
        access_mode,
    )?;
    // Made with this deployment: `rm --include-cache` finds it by this label.
    pvc.metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert(labels::DEPLOYMENT.into(), spec.name.clone());
    Ok(Some(pvc))
}

/// The rollout strategy: replacing a pod must not need a GPU the cluster does not have.
/// `maxSurge: 0` takes an old pod down before its successor is scheduled (the successor
/// reuses the freed GPUs); with spare GPUs (`surge`), one new pod starts first instead.
pub fn rollout_strategy(options: &K8sRenderOptions) -> DeploymentStrategy {
    let (surge, unavailable) = if options.surge { (1, 0) } else { (0, 1) };
    DeploymentStrategy {
        type_: Some("RollingUpdate".into()),
        rolling_update: Some(RollingUpdateDeployment {
            max_surge: Some(IntOrString::Int(surge)),
            max_unavailable: Some(IntOrString::Int(unavailable)),
        }),
    }
}

/// `spec.replicas`, unless an autoscaler (HPA or KEDA) owns it: then absent, so a re-apply
/// (server-side apply) does not reset what the autoscaler chose; the API server starts the
/// workload at 1 and the autoscaler brings it to its min replicas (as the Kubernetes docs advise
/// for HPA-managed workloads).
pub(crate) fn replicas_field(spec: &DeploymentSpec, options: &K8sRenderOptions) -> Option<i32> {
    (options.hpa.is_none() && options.keda.is_none()).then_some(spec.replicas as i32)
}

fn render_deployment(
    spec: &DeploymentSpec,
    options: &K8sRenderOptions,
    metadata: ObjectMeta,
    labels: &BTreeMap<String, String>,
) -> Deployment {
    let mut pod = pod_spec(spec, options, NodeRole::Single);
    if spec.replicas > 1 || options.hpa.is_some() || options.keda.is_some() {
        // Replicas on different nodes: one node's loss or drain takes one replica, not all.
        pod.topology_spread_constraints = Some(vec![TopologySpreadConstraint {
            max_skew: 1,
            topology_key: "kubernetes.io/hostname".into(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            label_selector: Some(LabelSelector {
                match_labels: Some(selector_labels(&spec.name)),
                ..Default::default()
            }),
            ..Default::default()
        }]);
    }
    Deployment {
        metadata,
        spec: Some(K8sDeploymentSpec {
            replicas: replicas_field(spec, options),
            selector: LabelSelector {
                match_labels: Some(selector_labels(&spec.name)),
                ..Default::default()
            },
            strategy: Some(rollout_strategy(options)),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels.clone()),
                    annotations: Some(BTreeMap::from([(
                        labels::MODEL_ANNOTATION.to_string(),
                        spec.model.clone(),
                    )])),
                    ..Default::default()
                }),
                spec: Some(pod),
            },
            ..Default::default()
        }),
        status: None,
    }
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
