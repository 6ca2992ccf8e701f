//! `aim.eai.amd.com/v1alpha1` AIMService (amd-enterprise-ai/aim-engine v0.2.1).
//!
//! A Hugging Face model is a *custom* model (`spec.model.custom`): the operator's base image
//! downloads `hf://ORG/NAME` and runs it on the hardware asked for; AIM picks the engine and
//! its flags from its template, so the spec's engine arguments cannot be carried.

use serde_json::{Value, json};

use super::{Context, put, refuse, to_json};
use crate::backend::kubernetes::K8sError;
use crate::backend::kubernetes::pod::engine_env;
use crate::backend::kubernetes::render::CacheVolume;
use crate::model::deployment::GpuVendor;

/// The generic image AIM runs custom models with (aim-engine docs/concepts/models.md).
pub const AIM_BASE_IMAGE: &str = "amdenterpriseai/aim-base:latest";

/// `modelId` must match the CRD's pattern `^[a-zA-Z0-9_-]+/[a-zA-Z0-9._-]+$`.
fn model_id_ok(model: &str) -> bool {
    let Some((org, name)) = model.split_once('/') else { return false };
    !org.is_empty()
        && !name.is_empty()
        && org.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

pub(super) fn render(context: &Context) -> Result<Value, K8sError> {
    let (spec, options) = (context.spec, context.options);
    if spec.gpu_vendor == Some(GpuVendor::Nvidia) {
        return Err(refuse(
            "AIMService",
            "AMD AIM schedules AMD Instinct GPUs only; use `render nimservice` or `render kserve` for NVIDIA",
        ));
    }
    if !model_id_ok(&spec.model) {
        return Err(refuse(
            "AIMService",
            format!(
                "model `{}`: AIM takes a Hugging Face id ORG/NAME (spec.model.custom.modelSources[].modelId)",
                spec.model
            ),
        ));
    }
    if context.nodes > 1 {
        return Err(refuse(
            "AIMService",
            format!(
                "{} GPUs per replica span {} nodes; AIM v0.2 serves one node per replica: use `render k8s` (LeaderWorkerSet)",
                spec.gpus_per_replica, context.nodes
            ),
        ));
    }
    let base_image = spec
        .image
        .clone()
        .filter(|i| i.starts_with("amdenterpriseai/"))
        .unwrap_or_else(|| AIM_BASE_IMAGE.into());
    let mut gpu = json!({"requests": spec.gpus_per_replica});
    put(&mut gpu, "model", options.gpu_product.clone().map(Value::from));
    let mut aim = json!({
        "model": {"custom": {
            "baseImage": base_image,
            "modelSources": [{"modelId": spec.model, "sourceUri": format!("hf://{}", spec.model)}],
            "hardware": {"gpu": gpu},
        }},
        // Custom models have no optimized profile: AIM needs this to pick its template.
        "template": {"allowUnoptimized": true},
        // AIM mounts and points its own cache (model sources); HF_HOME is left to it.
        "env": to_json(&engine_env(spec, options, "").into_iter().filter(|e| e.name != "HF_HOME").collect::<Vec<_>>())?,
    });
    if let Some(precision) = spec.precision {
        aim["overrides"] = json!({"precision": precision.as_str()});
    }
    if let Some(secret) = &options.image_pull_secret {
        aim["imagePullSecrets"] = json!([{"name": secret}]);
    }
    match &options.cache {
        CacheVolume::Pvc { storage_class, .. } => {
            // AIM makes its own cache PVCs per model source; the class is what can be carried.
            aim["caching"] = json!({"mode": "Shared"});
            if let Some(class) = storage_class {
                aim["storage"] = json!({"defaultStorageClassName": class});
            }
        }
        CacheVolume::HostPath { .. } => {
            return Err(refuse(
                "AIMService",
                "AIM caches models in PVCs it creates; a host path cannot be carried",
            ));
        }
        CacheVolume::None => {}
    }
    let (min, max, metric) = match (&options.hpa, &options.keda) {
        (Some(hpa), _) => {
            let metric = match &hpa.metric {
                crate::backend::kubernetes::HpaMetric::Pods { metric, average_value } => {
                    Some((metric.clone(), average_value.clone()))
                }
                crate::backend::kubernetes::HpaMetric::Cpu { .. } => {
                    return Err(refuse(
                        "AIMService",
                        "AIM autoscales on pod metrics (OpenTelemetry), not CPU; use --autoscale-metric",
                    ));
                }
            };
            (Some(hpa.min_replicas), Some(hpa.max_replicas), metric)
        }
        (None, Some(keda)) => (
            Some(keda.min_replicas),
            Some(keda.max_replicas),
            Some((keda.metric.clone(), keda.target.clone())),
        ),
        (None, None) => (None, None, None),
    };
    match (min, max, metric) {
        (Some(min), Some(max), Some((name, value))) => {
            aim["minReplicas"] = json!(min);
            aim["maxReplicas"] = json!(max);
            aim["autoScaling"] = json!({"metrics": [{"type": "PodMetric", "podmetric": {
                "metric": {"backend": "opentelemetry", "metricNames": [name]},
                "target": {"type": "AverageValue", "averageValue": value},
            }}]});
        }
        _ => aim["replicas"] = json!(spec.replicas),
    }
    Ok(
        json!({"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMService", "metadata": context.metadata, "spec": aim}),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn model_ids_follow_the_crd_pattern() {
        assert!(super::model_id_ok("Qwen/Qwen3-32B"));
        assert!(!super::model_id_ok("/models/qwen"));
        assert!(!super::model_id_ok("qwen"));
    }
}
