//! The Kubernetes backend against the in-process fake API server, always through a real
//! `kube::Client` built from a kubeconfig pointing at http://127.0.0.1:PORT.

use crate::fake_kube;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aimdeck::backend::kubernetes::operators::{OperatorTarget, render_operator};
use aimdeck::backend::kubernetes::render::render;
use aimdeck::backend::kubernetes::{
    ApplyOptions, CacheVolume, ClusterWatch, HpaMetric, HpaOptions, K8sError, K8sRenderOptions,
    KubeBackend, KubeTarget, PodLogOptions, PrepullRequest, SecretKeyRef, list_contexts,
};
use aimdeck::model::DeploymentSpec;
use fake_kube::{FakeKube, FakeOptions, NAMESPACE, Optional};
use futures::StreamExt;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

async fn start(optional: &[Optional]) -> (Arc<FakeKube>, KubeBackend) {
    let fake = FakeKube::start(FakeOptions {
        optional: optional.iter().copied().collect::<HashSet<_>>(),
        ..Default::default()
    })
    .await;
    let target = KubeTarget { kubeconfig: Some(fake.kubeconfig_path()), ..Default::default() };
    let backend =
        KubeBackend::connect(&target).await.expect("client from the generated kubeconfig");
    (fake, backend)
}

fn spec(name: &str, replicas: u32) -> DeploymentSpec {
    serde_json::from_value(json!({
        "name": name, "model": "meta-llama/Llama-3.1-8B-Instruct", "engine": "vllm",
        "gpu_vendor": "nvidia", "gpus_per_replica": 1, "replicas": replicas, "port": 8000,
        "recipe_id": "llama-3.1-8b-h100", "image": "vllm/vllm-openai:v0.11.0"
    }))
    .expect("spec")
}

fn options() -> K8sRenderOptions {
    K8sRenderOptions { namespace: NAMESPACE.into(), ..Default::default() }
}

async fn deploy(backend: &KubeBackend, spec: &DeploymentSpec, options: &K8sRenderOptions) {
    let objects = render(spec, options).expect("renders");
    backend.apply(&objects, ApplyOptions::default()).await.expect("applies");
}

/// Waits on the watch until `check` holds for the snapshot.
async fn until(
    watch: &ClusterWatch,
    what: &str,
    check: impl Fn(&aimdeck::backend::kubernetes::ClusterSnapshot) -> bool,
) {
    let mut changes = watch.changes();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let snapshot = watch.snapshot();
        if check(&snapshot) {
            return;
        }
        if tokio::time::timeout_at(deadline, changes.changed()).await.is_err() {
            panic!("timed out waiting for {what}; last snapshot: {snapshot:#?}");
        }
    }
}

mod api_errors;
mod apply;
mod cluster_reads;
mod pods;
