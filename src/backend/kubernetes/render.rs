//! A `DeploymentSpec` as Kubernetes objects: a Deployment and a Service, plus optionally a
//! cache PVC, a HorizontalPodAutoscaler, a PodDisruptionBudget and a ServiceMonitor. Pure:
//! no I/O, so `aimdeck render k8s` prints exactly what `deploy` applies.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec as K8sDeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricIdentifier, MetricSpec,
    MetricTarget, PodsMetricSource, ResourceMetricSource,
};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource, HTTPGetAction, HostPathVolumeSource,
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, PodSpec, PodTemplateSpec, Probe, ResourceRequirements,
    SecretKeySelector, Service, ServicePort, ServiceSpec, Toleration, Volume, VolumeMount,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use serde::Serialize;

use super::cache_pvc;
use super::errors::K8sError;
use crate::engine::launch::launch_command;
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

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HpaMetric {
    /// Average CPU utilisation of the requests, in percent.
    Cpu { utilization: i32 },
    /// A per-pod metric served by a metrics adapter, e.g. `vllm:num_requests_waiting`.
    Pods { metric: String, average_value: String },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HpaOptions {
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub metric: HpaMetric,
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
    pub pdb: bool,
    pub service_monitor: bool,
    pub service_type: String,
    pub image_pull_secret: Option<String>,
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
        }
    }
}

/// The objects of one deployment, in apply order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderedObjects {
    pub cache_pvc: Option<PersistentVolumeClaim>,
    pub deployment: Deployment,
    pub service: Service,
    pub hpa: Option<HorizontalPodAutoscaler>,
    pub pdb: Option<PodDisruptionBudget>,
    pub service_monitor: Option<DynamicObject>,
}

impl RenderedObjects {
    /// Every object as JSON with `apiVersion` and `kind`, in apply order.
    pub fn to_values(&self) -> Result<Vec<serde_json::Value>, K8sError> {
        let mut values = Vec::new();
        let mut push = |value: Result<serde_json::Value, serde_json::Error>| -> Result<(), K8sError> {
            values.push(value.map_err(|err| K8sError::Render { what: "objects".into(), message: err.to_string() })?);
            Ok(())
        };
        if let Some(pvc) = &self.cache_pvc {
            push(serde_json::to_value(pvc))?;
        }
        push(serde_json::to_value(&self.deployment))?;
        push(serde_json::to_value(&self.service))?;
        if let Some(hpa) = &self.hpa {
            push(serde_json::to_value(hpa))?;
        }
        if let Some(pdb) = &self.pdb {
            push(serde_json::to_value(pdb))?;
        }
        if let Some(monitor) = &self.service_monitor {
            push(serde_json::to_value(monitor))?;
        }
        Ok(values)
    }

    /// A multi-document YAML stream, as `kubectl apply -f` takes it.
    pub fn to_yaml(&self) -> Result<String, K8sError> {
        values_to_yaml(&self.to_values()?)
    }
}

/// Objects as the `v1` `List` that `kubectl get -o json` prints and `kubectl apply -f` takes.
pub fn values_to_list(values: &[serde_json::Value]) -> serde_json::Value {
    serde_json::json!({"apiVersion": "v1", "kind": "List", "items": values})
}

pub fn values_to_yaml(values: &[serde_json::Value]) -> Result<String, K8sError> {
    let mut out = String::new();
    for value in values {
        out.push_str("---\n");
        let doc = serde_saphyr::to_string(value)
            .map_err(|err| K8sError::Render { what: "YAML".into(), message: err.to_string() })?;
        out.push_str(&doc);
        if !doc.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

pub const CONTAINER_NAME: &str = "engine";
pub const PORT_NAME: &str = "http";
const CACHE_MOUNT: &str = "/root/.cache/huggingface";

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

/// The label selector string matching one deployment's objects.
pub fn selector_string(name: &str) -> String {
    format!("{}={},{}={}", labels::MANAGED_BY, labels::MANAGED_BY_VALUE, labels::DEPLOYMENT, name)
}

/// A label value is at most 63 characters of `[A-Za-z0-9._-]`, alphanumeric at both ends.
fn label_value(text: &str) -> Option<String> {
    let cleaned: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' }).take(63).collect();
    let trimmed = cleaned.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

fn err(what: &str, message: impl Into<String>) -> K8sError {
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
            format!("`{name}`: expected at most 63 lowercase letters, digits and `-`, starting with a letter and not ending with `-`"),
        ))
    }
}

/// Renders every object of `spec` for the options.
pub fn render(spec: &DeploymentSpec, options: &K8sRenderOptions) -> Result<RenderedObjects, K8sError> {
    check_name(&spec.name)?;
    if spec.gpus_per_replica > 0 && spec.gpu_vendor.is_none() {
        return Err(err("gpu_vendor", "expected `amd` or `nvidia` to pick the GPU resource (`amd.com/gpu` or `nvidia.com/gpu`)"));
    }
    if let Some(key) = spec.env.keys().find(|k| k.as_str() == "HF_TOKEN" || k.as_str() == "HUGGING_FACE_HUB_TOKEN") {
        return Err(err(
            "env",
            format!("`{key}` is set inline; on Kubernetes it must come from a Secret: create one (`kubectl create secret generic hf-token --from-literal=HF_TOKEN=...`) and pass --hf-token-secret hf-token"),
        ));
    }
    let labels = object_labels(spec);
    let mut annotations = BTreeMap::from([(labels::MODEL_ANNOTATION.to_string(), spec.model.clone())]);
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

    let cache_pvc = match &options.cache {
        CacheVolume::Pvc { claim, size: Some(size), storage_class, access_mode } => Some(cache_pvc::render_cache_pvc(
            claim,
            &options.namespace,
            size,
            storage_class.as_deref(),
            access_mode,
        )
        .map(|mut pvc| {
            // Made with this deployment: `rm --include-cache` finds it by this label.
            pvc.metadata.labels.get_or_insert_with(Default::default).insert(labels::DEPLOYMENT.into(), spec.name.clone());
            pvc
        })?),
        _ => None,
    };

    let deployment = Deployment {
        metadata: ObjectMeta { annotations: Some(annotations.clone()), ..meta(spec.name.clone()) },
        spec: Some(K8sDeploymentSpec {
            replicas: Some(spec.replicas as i32),
            selector: LabelSelector { match_labels: Some(selector_labels(&spec.name)), ..Default::default() },
            // GPUs are scarce: never hold old and new pods at once during a rollout.
            strategy: Some(DeploymentStrategy { type_: Some("Recreate".into()), ..Default::default() }),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels.clone()),
                    annotations: Some(BTreeMap::from([(labels::MODEL_ANNOTATION.to_string(), spec.model.clone())])),
                    ..Default::default()
                }),
                spec: Some(pod_spec(spec, options)?),
            },
            ..Default::default()
        }),
        status: None,
    };

    let service = Service {
        metadata: meta(spec.name.clone()),
        spec: Some(ServiceSpec {
            type_: Some(options.service_type.clone()),
            selector: Some(selector_labels(&spec.name)),
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
        Some(hpa) => Some(render_hpa(spec, hpa, meta(spec.name.clone()))?),
        None => None,
    };

    let pdb = options.pdb.then(|| PodDisruptionBudget {
        metadata: meta(spec.name.clone()),
        spec: Some(PodDisruptionBudgetSpec {
            // A drain takes at most one replica at a time: the others keep serving.
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector { match_labels: Some(selector_labels(&spec.name)), ..Default::default() }),
            ..Default::default()
        }),
        status: None,
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

    Ok(RenderedObjects { cache_pvc, deployment, service, hpa, pdb, service_monitor })
}

fn render_hpa(spec: &DeploymentSpec, hpa: &HpaOptions, metadata: ObjectMeta) -> Result<HorizontalPodAutoscaler, K8sError> {
    if hpa.min_replicas < 1 || hpa.max_replicas < hpa.min_replicas {
        return Err(err(
            "hpa",
            format!("expected 1 <= min replicas <= max replicas, got min {} max {}", hpa.min_replicas, hpa.max_replicas),
        ));
    }
    let metric = match &hpa.metric {
        HpaMetric::Cpu { utilization } => MetricSpec {
            type_: "Resource".into(),
            resource: Some(ResourceMetricSource {
                name: "cpu".into(),
                target: MetricTarget {
                    type_: "Utilization".into(),
                    average_utilization: Some(*utilization),
                    ..Default::default()
                },
            }),
            ..Default::default()
        },
        HpaMetric::Pods { metric, average_value } => MetricSpec {
            type_: "Pods".into(),
            pods: Some(PodsMetricSource {
                metric: MetricIdentifier { name: metric.clone(), selector: None },
                target: MetricTarget {
                    type_: "AverageValue".into(),
                    average_value: Some(Quantity(average_value.clone())),
                    ..Default::default()
                },
            }),
            ..Default::default()
        },
    };
    Ok(HorizontalPodAutoscaler {
        metadata,
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: spec.name.clone(),
            },
            min_replicas: Some(hpa.min_replicas),
            max_replicas: hpa.max_replicas,
            metrics: Some(vec![metric]),
            behavior: None,
        }),
        status: None,
    })
}

fn pod_spec(spec: &DeploymentSpec, options: &K8sRenderOptions) -> Result<PodSpec, K8sError> {
    // In a pod the engine must listen on every interface, on the one port the Service targets.
    let mut in_pod = spec.clone();
    in_pod.host = "0.0.0.0".into();
    let command = launch_command(&in_pod, 0);

    let mut env: Vec<EnvVar> = spec
        .env
        .iter()
        .map(|(name, value)| EnvVar { name: name.clone(), value: Some(value.clone()), value_from: None })
        .collect();
    env.push(EnvVar { name: "HF_HOME".into(), value: Some(CACHE_MOUNT.into()), value_from: None });
    if let Some(secret) = &options.hf_token_secret {
        env.push(EnvVar {
            name: "HF_TOKEN".into(),
            value: None,
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: secret.name.clone(),
                    key: secret.key.clone(),
                    optional: Some(false),
                }),
                ..Default::default()
            }),
        });
    }

    let mut resources = ResourceRequirements::default();
    let mut node_selector = BTreeMap::new();
    let mut tolerations = Vec::new();
    if let (Some(vendor), gpus) = (spec.gpu_vendor, spec.gpus_per_replica) {
        if gpus > 0 {
            let amount = BTreeMap::from([(gpu_resource(vendor).to_string(), Quantity(gpus.to_string()))]);
            // Extended resources must have requests equal to limits.
            resources.requests = Some(amount.clone());
            resources.limits = Some(amount);
            // GPU nodes are commonly tainted with the resource name so other pods stay off.
            tolerations.push(Toleration {
                key: Some(gpu_resource(vendor).into()),
                operator: Some("Exists".into()),
                effect: Some("NoSchedule".into()),
                ..Default::default()
            });
        }
        // `--gpu-product` first, else the product the spec's recipe names.
        if let Some(product) = options.gpu_product.as_ref().or(spec.gpu_product.as_ref()) {
            node_selector.insert(product_label(vendor).to_string(), product.clone());
        }
    }

    let budget = options.startup_budget_secs.unwrap_or(if spec.gpus_per_replica >= 4 { 3600 } else { 1800 });
    let http_get = || HTTPGetAction {
        path: Some("/health".into()),
        port: IntOrString::String(PORT_NAME.into()),
        ..Default::default()
    };
    let probe = |period: i32, failures: i32| Probe {
        http_get: Some(http_get()),
        period_seconds: Some(period),
        failure_threshold: Some(failures),
        timeout_seconds: Some(5),
        ..Default::default()
    };
    let startup_period = 10;
    let startup_failures = (budget as i32 / startup_period).max(1);

    let mut volumes = vec![Volume {
        name: "dshm".into(),
        empty_dir: Some(EmptyDirVolumeSource {
            medium: Some("Memory".into()),
            size_limit: Some(Quantity(options.shm_size.clone())),
        }),
        ..Default::default()
    }];
    let cache_volume = match &options.cache {
        CacheVolume::None => Volume { name: "hf-cache".into(), empty_dir: Some(Default::default()), ..Default::default() },
        CacheVolume::Pvc { claim, .. } => Volume {
            name: "hf-cache".into(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource { claim_name: claim.clone(), read_only: None }),
            ..Default::default()
        },
        CacheVolume::HostPath { path } => Volume {
            name: "hf-cache".into(),
            host_path: Some(HostPathVolumeSource { path: path.clone(), type_: Some("DirectoryOrCreate".into()) }),
            ..Default::default()
        },
    };
    volumes.push(cache_volume);

    let container = Container {
        name: CONTAINER_NAME.into(),
        image: Some(spec.image.clone().unwrap_or_else(|| default_image(spec))),
        command: Some(vec![command.program.clone()]),
        args: Some(command.args.clone()),
        env: Some(env),
        ports: Some(vec![ContainerPort {
            name: Some(PORT_NAME.into()),
            container_port: spec.port as i32,
            protocol: Some("TCP".into()),
            ..Default::default()
        }]),
        resources: Some(resources),
        startup_probe: Some(probe(startup_period, startup_failures)),
        readiness_probe: Some(probe(5, 3)),
        liveness_probe: Some(probe(10, 6)),
        volume_mounts: Some(vec![
            VolumeMount { name: "dshm".into(), mount_path: "/dev/shm".into(), ..Default::default() },
            VolumeMount { name: "hf-cache".into(), mount_path: CACHE_MOUNT.into(), ..Default::default() },
        ]),
        ..Default::default()
    };

    Ok(PodSpec {
        containers: vec![container],
        volumes: Some(volumes),
        node_selector: (!node_selector.is_empty()).then_some(node_selector),
        tolerations: (!tolerations.is_empty()).then_some(tolerations),
        image_pull_secrets: options
            .image_pull_secret
            .as_ref()
            .map(|name| vec![k8s_openapi::api::core::v1::LocalObjectReference { name: name.clone() }]),
        // Large models take a while to drain in-flight requests.
        termination_grace_period_seconds: Some(60),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EngineKind, Parallelism};

    pub(crate) fn spec() -> DeploymentSpec {
        serde_json::from_value(serde_json::json!({
            "name": "llama-8b", "model": "meta-llama/Llama-3.1-8B-Instruct", "engine": "vllm",
            "gpu_vendor": "nvidia", "gpus_per_replica": 2, "parallelism": {"tp": 2, "pp": 1, "dp": 1},
            "replicas": 2, "port": 8000, "recipe_id": "llama-3.1-8b/h100/tp2"
        }))
        .expect("spec")
    }

    #[test]
    fn deployment_requests_tp_times_pp_gpus_and_selects_the_product() {
        let mut spec = spec();
        spec.parallelism = Parallelism { tp: 2, pp: 2, dp: 1 };
        spec.gpus_per_replica = 4;
        spec.gpu_vendor = Some(GpuVendor::Amd);
        spec.engine = EngineKind::Vllm;
        let options = K8sRenderOptions { gpu_product: Some("AMD_Instinct_MI300X".into()), ..Default::default() };
        let objects = render(&spec, &options).expect("renders");
        let pod = objects.deployment.spec.unwrap().template.spec.unwrap();
        let limits = pod.containers[0].resources.as_ref().unwrap().limits.clone().unwrap();
        assert_eq!(limits.get("amd.com/gpu"), Some(&Quantity("4".into())));
        assert_eq!(pod.node_selector.unwrap().get("amd.com/gpu.product-name").map(String::as_str), Some("AMD_Instinct_MI300X"));
        let startup = pod.containers[0].startup_probe.clone().unwrap();
        assert_eq!(startup.failure_threshold.unwrap() * startup.period_seconds.unwrap(), 3600);
    }

    #[test]
    fn inline_hf_token_is_refused() {
        let mut spec = spec();
        spec.env.insert("HF_TOKEN".into(), "hf_secret".into());
        let text = render(&spec, &K8sRenderOptions::default()).unwrap_err().to_string();
        assert!(text.contains("--hf-token-secret"), "{text}");
    }

    #[test]
    fn bad_names_are_refused_before_anything_is_rendered() {
        let mut spec = spec();
        spec.name = "Llama_8B".into();
        let text = render(&spec, &K8sRenderOptions::default()).unwrap_err().to_string();
        assert!(text.contains("`Llama_8B`"), "{text}");
    }
}
