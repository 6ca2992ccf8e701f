//! Every render target over a matrix of specs, applied to the fake API server with strict
//! field validation (the recorded CRD schemas of tests/fixtures/k8s-schemas/ and the
//! k8s-openapi types), by server-side apply and by create (client-side apply), as dry runs;
//! then a 2-node x 8-GPU deployment as a LeaderWorkerSet that applies, scales and is removed.

use crate::fake_kube;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aimdeck::backend::kubernetes::operators::{OperatorTarget, render_operator_objects};
use aimdeck::backend::kubernetes::render::render;
use aimdeck::backend::kubernetes::{
    ApplyOptions, CacheVolume, HpaMetric, HpaOptions, K8sRenderOptions, KedaOptions, KubeBackend,
    KubeTarget, SecretKeyRef,
};
use aimdeck::model::DeploymentSpec;
use fake_kube::{FakeKube, FakeOptions, NAMESPACE, Optional};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

const ALL: [Optional; 6] = [
    Optional::NimOperator,
    Optional::AimOperator,
    Optional::Kserve,
    Optional::LeaderWorkerSet,
    Optional::Keda,
    Optional::ServiceMonitor,
];

async fn start(optional: &[Optional]) -> (Arc<FakeKube>, KubeBackend) {
    let fake = FakeKube::start(FakeOptions {
        optional: optional.iter().copied().collect::<HashSet<_>>(),
        ..Default::default()
    })
    .await;
    let target = KubeTarget { kubeconfig: Some(fake.kubeconfig_path()), ..Default::default() };
    let backend = KubeBackend::connect(&target).await.expect("client");
    (fake, backend)
}

fn spec(
    engine: &str,
    vendor: &str,
    tp: u32,
    pp: u32,
    replicas: u32,
    recipe: Option<&str>,
) -> DeploymentSpec {
    let mut value = json!({
        "name": format!("m-{engine}-{vendor}-tp{tp}-pp{pp}-r{replicas}"), "model": "meta-llama/Llama-3.1-8B-Instruct",
        "engine": engine, "gpu_vendor": vendor, "gpus_per_replica": tp * pp,
        "parallelism": {"tp": tp, "pp": pp, "dp": 1}, "replicas": replicas, "port": 8000,
    });
    if let Some(recipe) = recipe {
        value["recipe_id"] = json!(recipe);
    }
    serde_json::from_value(value).expect("spec")
}

fn resource_of(object: &Value) -> ApiResource {
    let (group, version) = match object["apiVersion"].as_str().unwrap().split_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), object["apiVersion"].as_str().unwrap().to_string()),
    };
    let kind = object["kind"].as_str().unwrap();
    let plural = match kind {
        "PersistentVolumeClaim" => "persistentvolumeclaims".to_string(),
        "HorizontalPodAutoscaler" => "horizontalpodautoscalers".to_string(),
        "PodDisruptionBudget" => "poddisruptionbudgets".to_string(),
        other => format!("{}s", other.to_lowercase()),
    };
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(&group, &version, kind), &plural)
}

/// Server-side apply and create, both strict dry runs: the server must accept the object.
async fn accepted(backend: &KubeBackend, object: &Value, case: &str) {
    let api: kube::Api<DynamicObject> =
        kube::Api::namespaced_with(backend.client().clone(), NAMESPACE, &resource_of(object));
    let dynamic: DynamicObject = serde_json::from_value(object.clone()).expect("an object");
    let name = dynamic.metadata.name.clone().unwrap();
    let mut apply = PatchParams::apply("aimdeck").dry_run();
    apply.field_validation = Some(kube::api::ValidationDirective::Strict);
    if let Err(e) = api.patch(&name, &apply, &Patch::Apply(&dynamic)).await {
        panic!(
            "{case}: server-side apply of {}/{name} refused: {e}\n{}",
            object["kind"],
            serde_json::to_string_pretty(object).unwrap()
        );
    }
    let create =
        PostParams { dry_run: true, field_manager: Some("kubectl-client-side-apply".into()) };
    if let Err(e) = api.create(&create, &dynamic).await {
        panic!("{case}: create (client-side apply) of {}/{name} refused: {e}", object["kind"]);
    }
}

fn no_nulls(value: &Value, path: &str, case: &str) {
    match value {
        Value::Null => panic!("{case}: null at {path}"),
        Value::Object(map) => {
            map.iter().for_each(|(k, v)| no_nulls(v, &format!("{path}.{k}"), case))
        }
        Value::Array(items) => {
            items.iter().enumerate().for_each(|(i, v)| no_nulls(v, &format!("{path}[{i}]"), case))
        }
        _ => {}
    }
}

mod autoscaling;
mod multi_node;
mod strict_validation;
