//! `apps.nvidia.com/v1alpha1` NIMService (NVIDIA/k8s-nim-operator v3.1.2).
//!
//! The operator mounts the cache at `/model-store`, names the container port `api`, reads
//! `NGC_API_KEY` from `authSecret`, and probes `/v1/health/*` unless probes are given; vLLM
//! and SGLang serve `/health`, so the probes are always set.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

use super::{Context, put, refuse, to_json};
use crate::backend::kubernetes::autoscale::render_hpa;
use crate::backend::kubernetes::multinode::NodeRole;
use crate::backend::kubernetes::pod::{
    engine_command, engine_env, engine_probes, gpu_tolerations, node_selector,
};
use crate::backend::kubernetes::render::{CacheVolume, default_image, gpu_resource};
use crate::model::deployment::GpuVendor;

/// Where the NIM Operator mounts its storage in the container.
pub const NIM_MODEL_STORE: &str = "/model-store";
/// The container port name the operator gives `expose.service.port`.
const NIM_PORT_NAME: &str = "api";
/// The Secret the NIM docs create (`kubectl create secret generic ngc-api-secret --from-literal=NGC_API_KEY=...`).
pub const DEFAULT_NIM_AUTH_SECRET: &str = "ngc-api-secret";

/// `registry/repo:tag` as (`registry/repo`, `tag`); the tag follows the last `:` after the last `/`.
pub fn image_parts(image: &str) -> (String, String) {
    let slash = image.rfind('/').map(|i| i + 1).unwrap_or(0);
    match image[slash..].rfind(':') {
        Some(colon) => (image[..slash + colon].to_string(), image[slash + colon + 1..].to_string()),
        None => (image.to_string(), "latest".to_string()),
    }
}

pub(super) fn render(context: &Context) -> Result<Value, crate::backend::kubernetes::K8sError> {
    let (spec, options) = (context.spec, context.options);
    if spec.gpu_vendor == Some(GpuVendor::Amd) {
        return Err(refuse(
            "NIMService",
            "the NIM Operator schedules NVIDIA GPUs only; use `render aimservice` or `render kserve` for AMD",
        ));
    }
    if options.keda.is_some() {
        return Err(refuse(
            "NIMService",
            "the NIM Operator scales with its own HPA (`spec.scale.hpa`); use --autoscale hpa",
        ));
    }
    let multi_node = context.nodes > 1;
    if multi_node && options.hpa.is_some() {
        // The CRD's rule: "autoScaling must be nil or disabled when multiNode is set".
        return Err(refuse(
            "NIMService",
            "the NIM Operator refuses autoscaling on a multiNode NIMService; drop --autoscale",
        ));
    }
    let image = spec.image.clone().unwrap_or_else(|| default_image(spec));
    let (repository, tag) = image_parts(&image);
    let mut image_spec =
        json!({"repository": repository, "tag": tag, "pullPolicy": "IfNotPresent"});
    if let Some(secret) = &options.image_pull_secret {
        image_spec["pullSecrets"] = json!([secret]);
    }
    let role =
        if multi_node { NodeRole::Leader { nodes: context.nodes } } else { NodeRole::Single };
    let (program, args) = engine_command(spec, NodeRole::Single);
    let gpus_per_pod = role.gpus_per_pod(spec);
    let mount = if matches!(options.cache, CacheVolume::None) {
        crate::backend::kubernetes::pod::CACHE_MOUNT
    } else {
        NIM_MODEL_STORE
    };
    let probes = engine_probes(spec, options, IntOrString::String(NIM_PORT_NAME.into()));
    let probe = |p: k8s_openapi::api::core::v1::Probe| -> Result<Value, crate::backend::kubernetes::K8sError> { Ok(json!({"enabled": true, "probe": to_json(&p)?})) };
    let mut nim = json!({
        "image": image_spec,
        "authSecret": options.nim_auth_secret.clone().unwrap_or_else(|| DEFAULT_NIM_AUTH_SECRET.into()),
        "expose": {"service": {"type": options.service_type, "port": spec.port}},
        "command": [program],
        "args": args,
        "env": to_json(&engine_env(spec, options, mount))?,
        "startupProbe": probe(probes.startup)?,
        "readinessProbe": probe(probes.readiness)?,
        "livenessProbe": probe(probes.liveness)?,
    });
    if gpus_per_pod > 0 {
        let amount = json!({gpu_resource(GpuVendor::Nvidia): gpus_per_pod.to_string()});
        nim["resources"] = json!({"limits": amount, "requests": amount});
    }
    put(&mut nim, "nodeSelector", node_selector(spec, options).map(|s| json!(s)));
    put(&mut nim, "tolerations", gpu_tolerations(spec).map(|t| to_json(&t)).transpose()?);
    let mut storage = json!({"sharedMemorySizeLimit": options.shm_size});
    match &options.cache {
        CacheVolume::None => {}
        CacheVolume::Pvc { claim, size, storage_class, access_mode } => {
            let mut pvc =
                json!({"name": claim, "create": size.is_some(), "volumeAccessMode": access_mode});
            put(&mut pvc, "size", size.clone().map(Value::from));
            put(&mut pvc, "storageClass", storage_class.clone().map(Value::from));
            storage["pvc"] = pvc;
        }
        CacheVolume::HostPath { path } => storage["hostPath"] = json!(path),
    }
    nim["storage"] = storage;
    match &options.hpa {
        Some(hpa) => {
            // The CRD's rule: replicas cannot be set when scale.enabled is true.
            let rendered = render_hpa(spec, hpa, Default::default(), false)?;
            let metrics = rendered.spec.and_then(|s| s.metrics).unwrap_or_default();
            nim["scale"] = json!({"enabled": true, "hpa": {
                "minReplicas": hpa.min_replicas, "maxReplicas": hpa.max_replicas, "metrics": to_json(&metrics)?,
            }});
        }
        None => nim["replicas"] = json!(spec.replicas),
    }
    if multi_node {
        nim["multiNode"] = json!({"backendType": "lws", "parallelism": {
            "tensor": spec.parallelism.tp.max(1), "pipeline": spec.parallelism.pp.max(1),
        }});
    }
    Ok(
        json!({"apiVersion": "apps.nvidia.com/v1alpha1", "kind": "NIMService", "metadata": context.metadata, "spec": nim}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_tags_split_after_the_last_slash() {
        assert_eq!(
            image_parts("vllm/vllm-openai:v0.11.0"),
            ("vllm/vllm-openai".into(), "v0.11.0".into())
        );
        assert_eq!(
            image_parts("registry:5000/vllm"),
            ("registry:5000/vllm".into(), "latest".into())
        );
    }
}
