//! Operator interop. Read-only: NVIDIA NIM Operator (`apps.nvidia.com` NIMService, NIMCache)
//! and AMD AIM (`aim.eai.amd.com` AIMService, AIMTemplateCache) resources listed with their
//! state and conditions. Export: the same deployment as a NIMService, an AIMService or a
//! KServe InferenceService, so a recipe tried with aimdeck can be handed to an operator.

use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde::Serialize;
use serde_json::{Value, json};

use super::client::KubeBackend;
use super::errors::{K8sError, call};
use super::render::{self, K8sRenderOptions};
use crate::model::DeploymentSpec;
use crate::model::deployment::GpuVendor;

/// One operator-managed resource, for the endpoints and cache views.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperatorResourceRow {
    /// `NIMService`, `NIMCache`, `AIMService`, `AIMTemplateCache`.
    pub kind: String,
    pub name: String,
    pub namespace: String,
    /// `status.state` (NIM) or `status.status` (AIM), e.g. `Ready`, `Pending`, `Failed`.
    pub state: Option<String>,
    /// `Type=Status (reason): message`.
    pub conditions: Vec<String>,
    /// Image or model the resource serves or caches.
    pub source: Option<String>,
}

/// Which operator resource `render` exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OperatorTarget {
    NimService,
    AimService,
    Kserve,
}

impl std::str::FromStr for OperatorTarget {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "nimservice" => Ok(OperatorTarget::NimService),
            "aimservice" => Ok(OperatorTarget::AimService),
            "kserve" => Ok(OperatorTarget::Kserve),
            other => Err(format!("`{other}`: expected nimservice, aimservice or kserve")),
        }
    }
}

const KINDS: [(&str, &str, &str); 4] = [
    ("apps.nvidia.com", "NIMService", "nimservices"),
    ("apps.nvidia.com", "NIMCache", "nimcaches"),
    ("aim.eai.amd.com", "AIMService", "aimservices"),
    ("aim.eai.amd.com", "AIMTemplateCache", "aimtemplatecaches"),
];

fn text(value: &Value, pointer: &str) -> Option<String> {
    value.pointer(pointer).and_then(Value::as_str).map(str::to_string)
}

/// Reads state, conditions and source from an operator resource's JSON.
pub fn operator_row(kind: &str, object: &DynamicObject) -> OperatorResourceRow {
    let data = &object.data;
    let state = text(data, "/status/state").or_else(|| text(data, "/status/status"));
    let conditions = data
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(|conds| {
            conds
                .iter()
                .map(|c| {
                    let mut line = format!(
                        "{}={}",
                        c.get("type").and_then(Value::as_str).unwrap_or("?"),
                        c.get("status").and_then(Value::as_str).unwrap_or("?")
                    );
                    if let Some(reason) = c.get("reason").and_then(Value::as_str).filter(|r| !r.is_empty()) {
                        line.push_str(&format!(" ({reason})"));
                    }
                    if let Some(message) = c.get("message").and_then(Value::as_str).filter(|m| !m.is_empty()) {
                        line.push_str(&format!(": {message}"));
                    }
                    line
                })
                .collect()
        })
        .unwrap_or_default();
    let source = match (text(data, "/spec/image/repository"), text(data, "/spec/image/tag")) {
        (Some(repo), Some(tag)) => Some(format!("{repo}:{tag}")),
        (Some(repo), None) => Some(repo),
        _ => text(data, "/spec/source/hf/modelName")
            .or_else(|| text(data, "/spec/source/ngc/modelPuller"))
            .or_else(|| text(data, "/spec/model/image"))
            .or_else(|| text(data, "/spec/model/name"))
            .or_else(|| text(data, "/spec/templateName")),
    };
    OperatorResourceRow {
        kind: kind.to_string(),
        name: object.metadata.name.clone().unwrap_or_default(),
        namespace: object.metadata.namespace.clone().unwrap_or_default(),
        state,
        conditions,
        source,
    }
}

impl KubeBackend {
    /// NIM and AIM resources in the namespace, for whichever operators the cluster has.
    pub async fn operator_resources(&self) -> Result<Vec<OperatorResourceRow>, K8sError> {
        let apis = self.discover().await?;
        let mut rows = Vec::new();
        for (group, kind, plural) in KINDS {
            let version = match group {
                "apps.nvidia.com" => apis.nim_operator.clone(),
                _ => apis.aim_operator.clone(),
            };
            let Some(version) = version else { continue };
            let resource = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, &version, kind), plural);
            let api: Api<DynamicObject> = Api::namespaced_with(self.client().clone(), self.namespace(), &resource);
            let full = format!("{plural}.{group}");
            match call(self.timeout(), self.action("list", &full, None), api.list(&ListParams::default())).await {
                Ok(list) => rows.extend(list.items.iter().map(|o| operator_row(kind, o))),
                // The group exists but this kind does not (older operator): nothing to list.
                Err(K8sError::NotFound(_)) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(rows)
    }
}

fn image_parts(image: &str) -> (String, String) {
    // A tag is after the last `:` that follows the last `/` (a registry port is not a tag).
    let slash = image.rfind('/').map(|i| i + 1).unwrap_or(0);
    match image[slash..].rfind(':') {
        Some(colon) => (image[..slash + colon].to_string(), image[slash + colon + 1..].to_string()),
        None => (image.to_string(), "latest".to_string()),
    }
}

fn env_list(spec: &DeploymentSpec, options: &K8sRenderOptions) -> Vec<Value> {
    let mut env: Vec<Value> = spec.env.iter().map(|(k, v)| json!({"name": k, "value": v})).collect();
    if let Some(secret) = &options.hf_token_secret {
        env.push(json!({"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": secret.name, "key": secret.key}}}));
    }
    env
}

/// Renders `spec` as an operator resource.
pub fn render_operator(target: OperatorTarget, spec: &DeploymentSpec, options: &K8sRenderOptions) -> Result<Value, K8sError> {
    // The same checks as the plain render (name, vendor, no inline token).
    let objects = render::render(spec, options)?;
    let pod = objects.deployment.spec.as_ref().and_then(|s| s.template.spec.clone()).unwrap_or_default();
    let container = pod.containers.first().cloned().unwrap_or_default();
    let image = container.image.clone().unwrap_or_else(|| render::default_image(spec));
    let labels = render::object_labels(spec);
    let metadata = json!({"name": spec.name, "namespace": options.namespace, "labels": labels});
    let gpus = spec.gpus_per_replica;
    let resource = spec.gpu_vendor.map(render::gpu_resource).unwrap_or("nvidia.com/gpu");
    let mut args = container.args.clone().unwrap_or_default();
    match target {
        OperatorTarget::NimService => {
            if spec.gpu_vendor == Some(GpuVendor::Amd) {
                return Err(K8sError::Render {
                    what: "NIMService".into(),
                    message: "the NIM Operator schedules NVIDIA GPUs only; use `render aimservice` or `render kserve` for AMD".into(),
                });
            }
            let (repository, tag) = image_parts(&image);
            let mut nim = json!({
                "apiVersion": "apps.nvidia.com/v1alpha1",
                "kind": "NIMService",
                "metadata": metadata,
                "spec": {
                    "image": {"repository": repository, "tag": tag, "pullPolicy": "IfNotPresent"},
                    // The operator requires it; with a Hugging Face model it holds HF_TOKEN.
                    "authSecret": options.hf_token_secret.as_ref().map(|s| s.name.clone()).unwrap_or_else(|| "hf-token".into()),
                    "replicas": spec.replicas,
                    "resources": {"limits": {resource: gpus}},
                    "expose": {"service": {"type": options.service_type, "port": spec.port}},
                    "command": container.command,
                    "args": args,
                    "env": env_list(spec, options),
                }
            });
            if let render::CacheVolume::Pvc { claim, size, storage_class, access_mode } = &options.cache {
                nim["spec"]["storage"] = json!({"pvc": {
                    "create": size.is_some(), "name": claim, "size": size, "storageClass": storage_class,
                    "volumeAccessMode": access_mode,
                }});
            }
            if let Some(product) = &options.gpu_product {
                nim["spec"]["nodeSelector"] = json!({"nvidia.com/gpu.product": product});
            }
            Ok(nim)
        }
        OperatorTarget::AimService => {
            if spec.gpu_vendor == Some(GpuVendor::Nvidia) {
                return Err(K8sError::Render {
                    what: "AIMService".into(),
                    message: "AMD AIM schedules AMD Instinct GPUs only; use `render nimservice` or `render kserve` for NVIDIA".into(),
                });
            }
            let mut aim = json!({
                "apiVersion": "aim.eai.amd.com/v1alpha1",
                "kind": "AIMService",
                "metadata": metadata,
                "spec": {
                    "model": {"image": image},
                    "replicas": spec.replicas,
                    "overrides": {"gpuSelector": {"count": gpus}},
                    "env": env_list(spec, options),
                }
            });
            if let Some(precision) = spec.precision {
                aim["spec"]["overrides"]["precision"] = json!(precision.as_str());
            }
            if let Some(product) = &options.gpu_product {
                aim["spec"]["overrides"]["gpuSelector"]["model"] = json!(product);
            }
            if let Some(secret) = &options.image_pull_secret {
                aim["spec"]["imagePullSecrets"] = json!([{"name": secret}]);
            }
            Ok(aim)
        }
        OperatorTarget::Kserve => {
            let mut command = container.command.clone().unwrap_or_default();
            command.append(&mut args);
            let (program, rest) = command.split_first().map(|(p, r)| (p.clone(), r.to_vec())).unwrap_or_default();
            Ok(json!({
                "apiVersion": "serving.kserve.io/v1beta1",
                "kind": "InferenceService",
                "metadata": metadata,
                "spec": {
                    "predictor": {
                        "minReplicas": spec.replicas,
                        "maxReplicas": spec.replicas.max(1),
                        "containers": [{
                            "name": "kserve-container",
                            "image": image,
                            "command": [program],
                            "args": rest,
                            "env": env_list(spec, options),
                            "ports": [{"containerPort": spec.port, "protocol": "TCP"}],
                            "resources": container.resources,
                            "readinessProbe": container.readiness_probe,
                            "startupProbe": container.startup_probe,
                            "volumeMounts": container.volume_mounts,
                        }],
                        "volumes": pod.volumes,
                        "nodeSelector": pod.node_selector,
                        "tolerations": pod.tolerations,
                    }
                }
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_tags_split_after_the_last_slash() {
        assert_eq!(image_parts("vllm/vllm-openai:v0.11.0"), ("vllm/vllm-openai".into(), "v0.11.0".into()));
        assert_eq!(image_parts("registry:5000/vllm"), ("registry:5000/vllm".into(), "latest".into()));
    }
}
