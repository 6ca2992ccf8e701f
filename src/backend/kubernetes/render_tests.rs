//! Unit tests of `render.rs`.
use super::*;
use crate::model::{EngineKind, Parallelism};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

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
    let options =
        K8sRenderOptions { gpu_product: Some("AMD_Instinct_MI300X".into()), ..Default::default() };
    let objects = render(&spec, &options).expect("renders");
    let pod = objects.deployment.unwrap().spec.unwrap().template.spec.unwrap();
    let limits = pod.containers[0].resources.as_ref().unwrap().limits.clone().unwrap();
    assert_eq!(limits.get("amd.com/gpu"), Some(&Quantity("4".into())));
    assert_eq!(
        pod.node_selector.unwrap().get("amd.com/gpu.product-name").map(String::as_str),
        Some("AMD_Instinct_MI300X")
    );
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
