//! With 1,000 pods in the namespace, does the Kubernetes view stay responsive? Measures, on the
//! in-process fake API server through a real kube::Client:
//! - the reflectors' initial sync (list 1,000 pods in pages of 500, then watch),
//! - the per-event cost of a watched pod change reaching the view's snapshot,
//! - `ClusterWatch::snapshot()` (what a redraw reads) and the one-shot `list_deployments`.
//!
//! Run: `cargo bench --bench k8s`

#[path = "../tests/support/fake_kube/mod.rs"]
mod fake_kube;

use std::time::{Duration, Instant};

use aimdeck::backend::kubernetes::render::render;
use aimdeck::backend::kubernetes::{
    ApplyOptions, ClusterWatch, K8sRenderOptions, KubeBackend, KubeTarget,
};
use aimdeck::model::DeploymentSpec;
use fake_kube::{FakeKube, FakeOptions, NAMESPACE};
use serde_json::json;

const PODS: usize = 1000;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let fake =
        FakeKube::start(FakeOptions { ready_delay: Duration::ZERO, ..Default::default() }).await;
    let backend = KubeBackend::connect(&KubeTarget {
        kubeconfig: Some(fake.kubeconfig_path()),
        ..Default::default()
    })
    .await
    .expect("client");
    let spec: DeploymentSpec = serde_json::from_value(json!({
        "name": "wide", "model": "Qwen/Qwen3-0.6B", "engine": "vllm", "gpus_per_replica": 0,
        "replicas": PODS, "port": 8000, "image": "vllm/vllm-openai:v0.11.0"
    }))
    .expect("spec");
    let options = K8sRenderOptions { namespace: NAMESPACE.into(), ..Default::default() };
    backend
        .apply(&render(&spec, &options).expect("render"), ApplyOptions::default())
        .await
        .expect("apply");
    fake.wait_for(Duration::from_secs(120), "1,000 running pods", |f| {
        f.list("Pod", NAMESPACE).iter().filter(|p| p["status"]["phase"] == "Running").count()
            == PODS
    })
    .await;

    // Initial sync: a fresh ClusterWatch until every store has listed.
    let mut syncs = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let watch = ClusterWatch::start(&backend);
        watch.wait_synced().await;
        syncs.push(start.elapsed());
        assert_eq!(watch.pod_count(), PODS);
    }

    let watch = ClusterWatch::start(&backend);
    watch.wait_synced().await;

    // Snapshot: what each redraw reads.
    let mut snaps = Vec::new();
    for _ in 0..50 {
        let start = Instant::now();
        let snapshot = watch.snapshot();
        snaps.push(start.elapsed());
        assert_eq!(snapshot.deployments[0].pods.len(), PODS);
    }

    // Per event: change every pod's restart count on the server; time until the snapshot shows all.
    let pods = fake.list("Pod", NAMESPACE);
    let mut changes = watch.changes();
    let start = Instant::now();
    for mut pod in pods {
        pod["status"]["containerStatuses"][0]["restartCount"] = json!(1);
        fake.put("Pod", NAMESPACE, pod);
    }
    loop {
        let restarts: u32 = watch.snapshot().deployments[0].pods.iter().map(|p| p.restarts).sum();
        if restarts as usize == PODS {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_secs(30), changes.changed()).await;
    }
    let all_events = start.elapsed();

    let mut lists = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let rows = backend.list_deployments().await.expect("list");
        lists.push(start.elapsed());
        assert_eq!(rows[0].pods.len(), PODS);
    }

    println!(
        "k8s backend, {PODS} pods in one namespace, fake API server on 127.0.0.1 (median of runs)"
    );
    println!("{:<58} {:>12}", "measure", "time");
    println!(
        "{:<58} {:>12}",
        "reflector initial sync (deployments, pods, events)",
        ms(median(syncs))
    );
    println!("{:<58} {:>12}", "ClusterWatch::snapshot() (one redraw's read)", ms(median(snaps)));
    println!(
        "{:<58} {:>12}",
        format!("{PODS} pod updates reach the snapshot (total)"),
        ms(all_events)
    );
    println!("{:<58} {:>12}", "per watched event", ms(all_events / PODS as u32));
    println!("{:<58} {:>12}", "one-shot list_deployments (headless ls)", ms(median(lists)));
}
