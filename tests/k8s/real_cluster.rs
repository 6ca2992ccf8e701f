//! Against a real cluster from `KUBECONFIG` (ignored by default; docs/kubernetes.md says how to
//! run them). They use a throwaway namespace-scoped deployment of a tiny CPU image that answers
//! `/health` on port 8000, so they need no GPU.

use std::time::Duration;

use aimdeck::backend::kubernetes::render::render;
use aimdeck::backend::kubernetes::{
    ApplyOptions, ClusterWatch, K8sRenderOptions, KubeBackend, KubeTarget, PodLogOptions,
};
use aimdeck::model::DeploymentSpec;
use futures::StreamExt;

async fn backend() -> KubeBackend {
    let namespace = std::env::var("AIMDECK_TEST_NAMESPACE").unwrap_or_else(|_| "default".into());
    KubeBackend::connect(&KubeTarget { namespace: Some(namespace), ..Default::default() })
        .await
        .expect("KUBECONFIG")
}

/// A stand-in engine: python's http.server answers 200 on every path, `/health` included.
fn spec(name: &str) -> DeploymentSpec {
    serde_json::from_value(serde_json::json!({
        "name": name, "model": "stand-in", "engine": "vllm", "gpus_per_replica": 0, "replicas": 1, "port": 8000,
        "image": "python:3.12-slim",
        "command": ["sh", "-c", "echo aimdeck-real-cluster-test; exec python3 -m http.server 8000 #"]
    }))
    .unwrap()
}

async fn wait(
    watch: &ClusterWatch,
    what: &str,
    check: impl Fn(&aimdeck::backend::kubernetes::ClusterSnapshot) -> bool,
) {
    let mut changes = watch.changes();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    while !check(&watch.snapshot()) {
        if tokio::time::timeout_at(deadline, changes.changed()).await.is_err() {
            panic!("timed out waiting for {what}: {:#?}", watch.snapshot());
        }
    }
}

#[tokio::test]
#[ignore = "needs a real cluster from KUBECONFIG"]
async fn rendered_objects_pass_a_server_side_dry_run() {
    let backend = backend().await;
    let mut spec = spec("aimdeck-dry");
    spec.gpus_per_replica = 1;
    spec.gpu_vendor = Some(aimdeck::model::deployment::GpuVendor::Nvidia);
    let options =
        K8sRenderOptions { namespace: backend.namespace().into(), pdb: true, ..Default::default() };
    let report = backend
        .apply(&render(&spec, &options).unwrap(), ApplyOptions { dry_run: true, force: false })
        .await
        .expect("dry run");
    assert_eq!(report.applied.len(), 3);
}

#[tokio::test]
#[ignore = "needs a real cluster from KUBECONFIG"]
async fn create_become_visible_scale_logs_delete() {
    let backend = backend().await;
    let watch = ClusterWatch::start(&backend);
    let spec = spec("aimdeck-e2e");
    let options = K8sRenderOptions { namespace: backend.namespace().into(), ..Default::default() };
    backend.apply(&render(&spec, &options).unwrap(), ApplyOptions::default()).await.expect("apply");
    wait(&watch, "1 ready", |s| {
        s.deployments.iter().any(|d| d.name == "aimdeck-e2e" && d.ready == 1)
    })
    .await;

    backend.scale("aimdeck-e2e", 2).await.expect("scale");
    wait(&watch, "2 ready", |s| {
        s.deployments.iter().any(|d| d.name == "aimdeck-e2e" && d.ready == 2)
    })
    .await;

    let lines: Vec<String> = backend
        .deployment_logs("aimdeck-e2e", &PodLogOptions::default())
        .await
        .expect("logs")
        .filter_map(|l| async { l.ok().map(|l| l.text) })
        .collect()
        .await;
    assert!(lines.iter().any(|l| l.contains("aimdeck-real-cluster-test")), "{lines:?}");

    backend.delete("aimdeck-e2e", false).await.expect("rm");
    wait(&watch, "gone", |s| !s.deployments.iter().any(|d| d.name == "aimdeck-e2e")).await;
    assert!(backend.list_deployments().await.unwrap().iter().all(|d| d.name != "aimdeck-e2e"));
}
