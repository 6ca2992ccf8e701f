//! The Kubernetes backend against the in-process fake API server, always through a real
//! `kube::Client` built from a kubeconfig pointing at http://127.0.0.1:PORT.

#[path = "support/fake_kube/mod.rs"]
mod fake_kube;

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

#[tokio::test]
async fn contexts_and_namespaces_come_from_the_kubeconfig() {
    let (fake, backend) = start(&[]).await;
    assert_eq!(backend.namespace(), NAMESPACE, "the current context's namespace");
    let contexts = list_contexts(Some(&fake.kubeconfig_path())).expect("contexts");
    let names: Vec<(&str, bool)> = contexts.iter().map(|c| (c.name.as_str(), c.current)).collect();
    assert_eq!(names, vec![("fake", true), ("fake-other", false)]);

    let other = KubeBackend::connect(&KubeTarget {
        kubeconfig: Some(fake.kubeconfig_path()),
        context: Some("fake-other".into()),
        ..Default::default()
    })
    .await
    .expect("other context");
    assert_eq!(other.namespace(), "other");
    let explicit = KubeBackend::connect(&KubeTarget {
        kubeconfig: Some(fake.kubeconfig_path()),
        namespace: Some("ml".into()),
        ..Default::default()
    })
    .await
    .expect("-n wins");
    assert_eq!(explicit.namespace(), "ml");

    let err = KubeBackend::connect(&KubeTarget {
        kubeconfig: Some(fake.kubeconfig_path()),
        context: Some("prod".into()),
        ..Default::default()
    })
    .await
    .err()
    .expect("unknown context fails")
    .to_string();
    assert!(err.contains("no context named `prod`") && err.contains("fake, fake-other"), "{err}");

    let mut namespaces = backend.namespaces().await.expect("namespaces");
    namespaces.sort();
    assert_eq!(namespaces, vec!["aimdeck-test", "other"]);
}

#[tokio::test]
async fn discovery_finds_only_the_optional_apis_the_cluster_serves() {
    let (_fake, plain) = start(&[]).await;
    let apis = plain.discover().await.expect("discovery");
    assert!(apis.autoscaling_v2 && apis.policy_v1);
    assert!(!apis.service_monitor && apis.nim_operator.is_none() && apis.aim_operator.is_none());

    let (_fake, rich) =
        start(&[Optional::ServiceMonitor, Optional::NimOperator, Optional::AimOperator]).await;
    let apis = rich.discover().await.expect("discovery");
    assert!(apis.service_monitor);
    assert_eq!(apis.nim_operator.as_deref(), Some("v1alpha1"));
    assert_eq!(apis.aim_operator.as_deref(), Some("v1alpha1"));
    assert_eq!(apis.kserve, None);
    assert!(!apis.leader_worker_set && !apis.keda);

    let (_fake, scaling) = start(&[Optional::LeaderWorkerSet, Optional::Keda]).await;
    let apis = scaling.discover().await.expect("discovery");
    assert!(apis.leader_worker_set && apis.keda, "{apis:?}");
}

#[tokio::test]
async fn deploy_applies_with_field_manager_aimdeck_and_pods_become_ready() {
    let (fake, backend) = start(&[]).await;
    let watch = ClusterWatch::start(&backend);
    deploy(&backend, &spec("llama", 2), &options()).await;

    until(&watch, "2 ready pods", |s| {
        s.deployments.iter().any(|d| d.name == "llama" && d.ready == 2 && d.pods.len() == 2)
    })
    .await;
    let snapshot = watch.snapshot();
    let row = &snapshot.deployments[0];
    assert_eq!(row.model.as_deref(), Some("meta-llama/Llama-3.1-8B-Instruct"));
    assert_eq!(row.engine.as_deref(), Some("vllm"));
    assert!(
        row.pods.iter().all(|p| p.phase == "Running" && p.node.is_some() && p.reason.is_none()),
        "{row:#?}"
    );
    assert!(
        snapshot
            .events
            .iter()
            .any(|e| e.reason == "ScalingReplicaSet" && e.object == "Deployment/llama"),
        "{:#?}",
        snapshot.events
    );

    let patches: Vec<String> =
        fake.requests().into_iter().filter(|r| r.starts_with("PATCH")).collect();
    assert!(
        patches
            .iter()
            .any(|r| r.contains("/apis/apps/v1/namespaces/aimdeck-test/deployments/llama")
                && r.contains("fieldManager=aimdeck")),
        "{patches:#?}"
    );
    let service = fake.get("Service", NAMESPACE, "llama").expect("service");
    assert_eq!(service["spec"]["ports"][0]["port"], 8000);
    let deployment = fake.get("Deployment", NAMESPACE, "llama").expect("deployment");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["resources"]["limits"]["nvidia.com/gpu"], "1");
    assert_eq!(container["command"], json!(["vllm"]));
    assert!(container["args"].as_array().unwrap().contains(&json!("0.0.0.0")), "{container}");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/health");

    // Re-applying the same objects changes nothing (no conflict, same generation).
    let generation = deployment["metadata"]["generation"].clone();
    deploy(&backend, &spec("llama", 2), &options()).await;
    assert_eq!(
        fake.get("Deployment", NAMESPACE, "llama").unwrap()["metadata"]["generation"],
        generation
    );

    // The pod proxy serves the engine's metrics without a port-forward.
    let pod = &watch.snapshot().deployments[0].pods[0].name.clone();
    let page = backend.pod_metrics_text(pod, 8000).await.expect("metrics through the proxy");
    assert!(page.contains("vllm:num_requests_running"), "{page}");
}

#[tokio::test]
async fn server_side_dry_run_validates_and_stores_nothing() {
    let (fake, backend) = start(&[]).await;
    let objects = render(&spec("dry", 1), &options()).unwrap();
    let report = backend
        .apply(&objects, ApplyOptions { dry_run: true, force: false })
        .await
        .expect("dry run");
    assert_eq!(report.applied, vec!["Deployment/dry", "Service/dry"]);
    assert!(fake.requests().iter().any(|r| r.contains("dryRun=All")));
    assert!(fake.get("Deployment", NAMESPACE, "dry").is_none());

    // A dry run still fails on what the server would refuse.
    let mut bad = spec("dry", 1);
    bad.image = Some(String::new());
    let objects = render(&bad, &options()).unwrap();
    let err =
        backend.apply(&objects, ApplyOptions { dry_run: true, force: false }).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, K8sError::Invalid { .. }), "{text}");
    assert!(text.contains("field `spec.template.spec.containers[0].image`"), "{text}");
}

#[tokio::test]
async fn scale_goes_through_the_subresource_and_pods_follow() {
    let (fake, backend) = start(&[]).await;
    let watch = ClusterWatch::start(&backend);
    deploy(&backend, &spec("qwen", 1), &options()).await;
    until(&watch, "1 ready", |s| s.deployments.first().is_some_and(|d| d.ready == 1)).await;

    backend.scale("qwen", 3).await.expect("scale up");
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.starts_with("PATCH") && r.contains("/deployments/qwen/scale"))
    );
    until(&watch, "3 ready", |s| {
        s.deployments.first().is_some_and(|d| d.desired == 3 && d.ready == 3 && d.pods.len() == 3)
    })
    .await;

    backend.scale("qwen", 1).await.expect("scale down");
    until(&watch, "1 pod left", |s| {
        s.deployments.first().is_some_and(|d| d.desired == 1 && d.pods.len() == 1)
    })
    .await;

    // A later apply of the same spec by aimdeck does not fight the scale.
    deploy(&backend, &spec("qwen", 1), &options()).await;

    let err = backend.scale("missing", 2).await.unwrap_err();
    assert!(matches!(err, K8sError::NotFound(_)), "{err}");
}

#[tokio::test]
async fn apply_conflict_names_the_other_field_manager_and_force_takes_over() {
    let (fake, backend) = start(&[]).await;
    deploy(&backend, &spec("conflicted", 1), &options()).await;
    // Someone scales with kubectl: the replicas field now belongs to `kubectl-scale`.
    let api: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
        kube::Api::namespaced(backend.client().clone(), NAMESPACE);
    let params = kube::api::PatchParams {
        field_manager: Some("kubectl-scale".into()),
        ..Default::default()
    };
    api.patch_scale(
        "conflicted",
        &params,
        &kube::api::Patch::Merge(json!({"spec": {"replicas": 4}})),
    )
    .await
    .expect("kubectl scale");

    let objects = render(&spec("conflicted", 2), &options()).unwrap();
    let err = backend.apply(&objects, ApplyOptions::default()).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, K8sError::Conflict { .. }), "{text}");
    assert!(
        text.contains("kubectl-scale")
            && text.contains(".spec.replicas")
            && text.contains("--force"),
        "{text}"
    );
    assert_eq!(
        fake.get("Deployment", NAMESPACE, "conflicted").unwrap()["spec"]["replicas"],
        4,
        "a failed apply changes nothing"
    );

    backend.apply(&objects, ApplyOptions { dry_run: false, force: true }).await.expect("forced");
    assert_eq!(fake.get("Deployment", NAMESPACE, "conflicted").unwrap()["spec"]["replicas"], 2);
}

#[tokio::test]
async fn forbidden_names_the_missing_verb_and_resource() {
    let (fake, backend) = start(&[]).await;
    fake.deny("patch", "deployments");
    let objects = render(&spec("denied", 1), &options()).unwrap();
    let err = backend.apply(&objects, ApplyOptions::default()).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, K8sError::Forbidden { .. }), "{text}");
    assert!(
        text.contains("the `patch` verb on `deployments.apps` in namespace `aimdeck-test`"),
        "{text}"
    );
    assert!(fake.get("Deployment", NAMESPACE, "denied").is_none());

    fake.deny("list", "nodes");
    let text = backend.node_gpus().await.unwrap_err().to_string();
    assert!(text.contains("the `list` verb on `nodes` in the cluster scope"), "{text}");
}

#[tokio::test]
async fn a_server_that_does_not_answer_becomes_a_timeout_message() {
    let (fake, backend) = start(&[]).await;
    let backend = backend.with_timeout(Duration::from_millis(300));
    fake.hang("/deployments");
    let started = std::time::Instant::now();
    let err = backend.scale("slow", 2).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, K8sError::Timeout { .. }), "{text}");
    // A scale reads the Deployment first (its resourceVersion is the write's precondition).
    assert!(
        text.contains("timed out after 0.3s") && text.contains("get deployments.apps slow"),
        "{text}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn an_api_server_answering_500_is_named_changes_nothing_and_the_watches_recover() {
    let (fake, backend) = start(&[]).await;
    let watch = ClusterWatch::start(&backend);
    deploy(&backend, &spec("before", 1), &options()).await;
    until(&watch, "before ready", |s| {
        s.deployments.iter().any(|d| d.name == "before" && d.ready == 1)
    })
    .await;

    fake.fail("/deployments");
    let text = backend.scale("before", 2).await.unwrap_err().to_string();
    assert!(text.contains("HTTP 500") && text.contains("etcdserver: request timed out"), "{text}");
    assert!(
        text.contains("get deployments.apps before"),
        "says what was being done (the read before the scale): {text}"
    );
    let objects = render(&spec("during", 1), &options()).expect("renders");
    assert!(backend.apply(&objects, ApplyOptions::default()).await.is_err());
    // The watches lose their streams and re-list into the 500s meanwhile.
    fake.kill_watches();
    tokio::time::sleep(Duration::from_millis(300)).await;
    fake.heal();
    assert_eq!(
        fake.get("Deployment", NAMESPACE, "before").unwrap()["spec"]["replicas"],
        1,
        "a failed scale changes nothing"
    );
    assert!(fake.get("Deployment", NAMESPACE, "during").is_none(), "a failed apply makes nothing");

    // Once the server answers again the same watch sees new work, with nobody restarting it.
    deploy(&backend, &spec("after", 1), &options()).await;
    until(&watch, "after ready", |s| {
        s.deployments.iter().any(|d| d.name == "after" && d.ready == 1)
    })
    .await;
    let names: Vec<String> = watch.snapshot().deployments.iter().map(|d| d.name.clone()).collect();
    assert_eq!(names, vec!["after", "before"]);
}

#[tokio::test]
async fn rm_removes_everything_aimdeck_made_and_nothing_else() {
    let (fake, backend) = start(&[Optional::ServiceMonitor]).await;
    // Someone else's objects in the same namespace.
    fake.put("Service", NAMESPACE, json!({"metadata": {"name": "postgres", "labels": {"app": "postgres"}}, "spec": {"ports": [{"port": 5432}]}}));
    fake.put(
        "PersistentVolumeClaim",
        NAMESPACE,
        json!({"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}),
    );
    deploy(&backend, &spec("other-model", 1), &options()).await;

    let opts = K8sRenderOptions {
        pdb: true,
        service_monitor: true,
        hpa: Some(HpaOptions {
            min_replicas: 1,
            max_replicas: 3,
            metric: HpaMetric::Pods {
                metric: "vllm:num_requests_waiting".into(),
                average_value: "5".into(),
            },
        }),
        cache: CacheVolume::Pvc {
            claim: "llama-cache".into(),
            size: Some("200Gi".into()),
            storage_class: None,
            access_mode: "ReadWriteOnce".into(),
        },
        ..options()
    };
    let objects = render(&spec("llama", 2), &opts).unwrap();
    let report = backend.apply(&objects, ApplyOptions::default()).await.expect("apply");
    assert_eq!(
        report.applied,
        vec![
            "PersistentVolumeClaim/llama-cache",
            "Deployment/llama",
            "Service/llama",
            "HorizontalPodAutoscaler/llama",
            "PodDisruptionBudget/llama",
            "ServiceMonitor/llama"
        ]
    );
    // Under an HPA the Deployment carries no replicas: the API server's default (1) stands
    // until the HPA controller (which the fake does not run) scales it.
    fake.wait_for(WAIT, "a llama pod", |f| {
        f.list("Pod", NAMESPACE)
            .iter()
            .filter(|p| p["metadata"]["labels"]["aimdeck.io/deployment"] == "llama")
            .count()
            == 1
    })
    .await;
    let before = fake.inventory(NAMESPACE);

    let report = backend.delete("llama", false).await.expect("rm");
    assert!(
        report.deleted.contains(&"Deployment/llama".to_string())
            && report.deleted.contains(&"ServiceMonitor/llama".to_string()),
        "{report:?}"
    );
    assert!(
        fake.requests().iter().any(|r| r.starts_with("DELETE") && r.contains("/deployments/llama"))
    );
    fake.wait_for(WAIT, "llama gone", |f| {
        !f.inventory(NAMESPACE).iter().any(|o| o.contains("llama") && !o.contains("llama-cache"))
    })
    .await;

    let after = fake.inventory(NAMESPACE);
    let expected: Vec<String> =
        before.into_iter().filter(|o| !o.contains("/llama") || o.contains("llama-cache")).collect();
    assert_eq!(
        after, expected,
        "only llama's objects went; the cache PVC stays without --include-cache"
    );
    assert!(
        after.contains(&"Service/postgres".to_string())
            && after.contains(&"Deployment/other-model".to_string())
    );

    backend.delete("llama", true).await.expect("rm the cache too");
    assert!(!fake.inventory(NAMESPACE).contains(&"PersistentVolumeClaim/llama-cache".to_string()));
    let err = backend.delete("llama", true).await.unwrap_err().to_string();
    assert!(err.contains("no aimdeck deployment `llama` in namespace `aimdeck-test`"), "{err}");
}

#[tokio::test]
async fn service_monitor_is_skipped_without_its_crd() {
    let (_fake, backend) = start(&[]).await;
    let objects =
        render(&spec("plain", 1), &K8sRenderOptions { service_monitor: true, ..options() })
            .unwrap();
    let report = backend.apply(&objects, ApplyOptions::default()).await.expect("apply");
    assert_eq!(report.applied, vec!["Deployment/plain", "Service/plain"]);
    assert!(
        report.skipped[0].contains("no monitoring.coreos.com ServiceMonitor CRD"),
        "{report:?}"
    );
}

#[tokio::test]
async fn restart_replaces_every_pod_like_kubectl_rollout_restart() {
    let (fake, backend) = start(&[]).await;
    let watch = ClusterWatch::start(&backend);
    deploy(&backend, &spec("restartme", 2), &options()).await;
    until(&watch, "2 ready", |s| s.deployments.first().is_some_and(|d| d.ready == 2)).await;
    let old: Vec<String> =
        watch.snapshot().deployments[0].pods.iter().map(|p| p.name.clone()).collect();

    backend.restart("restartme").await.expect("restart");
    let deployment = fake.get("Deployment", NAMESPACE, "restartme").unwrap();
    assert!(deployment["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"].is_string());
    until(&watch, "2 new ready pods", |s| {
        s.deployments.first().is_some_and(|d| {
            d.ready == 2 && d.pods.len() == 2 && d.pods.iter().all(|p| !old.contains(&p.name))
        })
    })
    .await;
}

#[tokio::test]
async fn pod_reasons_show_why_a_replica_is_not_serving() {
    let (fake, backend) = start(&[]).await;
    fake.put("Node", "", json!({
        "metadata": {"name": "gpu-1", "labels": {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}},
        "status": {"capacity": {"nvidia.com/gpu": "4"}, "allocatable": {"nvidia.com/gpu": "4"}, "conditions": [{"type": "Ready", "status": "True"}]}
    }));
    let watch = ClusterWatch::start(&backend);

    let mut big = spec("big", 1);
    big.gpus_per_replica = 8;
    deploy(&backend, &big, &options()).await;
    let mut broken = spec("broken", 1);
    broken.image = Some("registry.example/does-not-exist:1".into());
    deploy(&backend, &broken, &options()).await;
    deploy(&backend, &spec("crashy", 1), &options()).await;

    until(&watch, "reasons", |s| {
        let reason = |name: &str| {
            s.deployments
                .iter()
                .find(|d| d.name == name)
                .and_then(|d| d.pods.first())
                .and_then(|p| p.reason.clone())
        };
        // The scheduler's event arrives on its own watch, possibly after the pod's reason.
        let scheduling =
            s.events.iter().any(|e| e.type_ == "Warning" && e.reason == "FailedScheduling");
        reason("big").as_deref() == Some("Unschedulable")
            && reason("broken").as_deref() == Some("ImagePullBackOff")
            && scheduling
    })
    .await;
    let snapshot = watch.snapshot();
    let big_pod = &snapshot.deployments.iter().find(|d| d.name == "big").unwrap().pods[0];
    assert!(
        big_pod.message.as_deref().unwrap_or("").contains("Insufficient nvidia.com/gpu"),
        "{big_pod:?}"
    );
    assert!(
        snapshot.events.iter().any(|e| e.type_ == "Warning" && e.reason == "FailedScheduling"),
        "{:#?}",
        snapshot.events
    );

    until(&watch, "crashy ready", |s| {
        s.deployments.iter().any(|d| d.name == "crashy" && d.ready == 1)
    })
    .await;
    let crashy_pod = watch.snapshot().deployments.iter().find(|d| d.name == "crashy").unwrap().pods
        [0]
    .name
    .clone();
    fake.crash_pod(NAMESPACE, &crashy_pod, &["torch.OutOfMemoryError: CUDA out of memory."], true);
    until(&watch, "OOMKilled", |s| {
        s.deployments.iter().find(|d| d.name == "crashy").and_then(|d| d.pods.first()).is_some_and(
            |p| p.reason.as_deref() == Some("OOMKilled") && p.restarts == 3 && !p.ready,
        )
    })
    .await;
}

#[tokio::test]
async fn logs_stream_follow_and_show_the_previous_container() {
    let (fake, backend) = start(&[]).await;
    let watch = ClusterWatch::start(&backend);
    deploy(&backend, &spec("talky", 1), &options()).await;
    until(&watch, "ready", |s| s.deployments.first().is_some_and(|d| d.ready == 1)).await;
    let pod = watch.snapshot().deployments[0].pods[0].name.clone();

    let lines: Vec<String> = backend
        .deployment_logs("talky", &PodLogOptions::default())
        .await
        .expect("logs")
        .map(|l| l.expect("line").text)
        .collect()
        .await;
    assert!(lines.iter().any(|l| l.contains("Application startup complete.")), "{lines:?}");

    let mut follow = backend
        .pod_logs(&pod, &PodLogOptions { follow: true, tail_lines: Some(1), ..Default::default() })
        .await
        .expect("follow");
    let first = follow.next().await.expect("a line").expect("ok");
    assert_eq!(first.text, "INFO:     Application startup complete.", "tail 1");
    fake.append_log(
        NAMESPACE,
        &pod,
        "INFO:     127.0.0.1:40000 - \"POST /v1/chat/completions HTTP/1.1\" 200 OK",
    );
    let next = tokio::time::timeout(WAIT, follow.next())
        .await
        .expect("followed line arrives")
        .expect("line")
        .expect("ok");
    assert!(next.text.contains("POST /v1/chat/completions"), "{next:?}");

    let err = backend.pod_logs(&pod, &PodLogOptions { previous: true, ..Default::default() }).await;
    let text = match err {
        Err(e) => e.to_string(),
        Ok(stream) => format!("unexpected stream of {} lines", stream.count().await),
    };
    assert!(text.contains("previous terminated container \"engine\""), "{text}");

    fake.crash_pod(
        NAMESPACE,
        &pod,
        &["Traceback (most recent call last):", "torch.OutOfMemoryError: CUDA out of memory."],
        true,
    );
    let previous: Vec<String> = backend
        .pod_logs(&pod, &PodLogOptions { previous: true, ..Default::default() })
        .await
        .expect("previous")
        .map(|l| l.expect("line").text)
        .collect()
        .await;
    assert_eq!(
        previous.last().map(String::as_str),
        Some("torch.OutOfMemoryError: CUDA out of memory.")
    );
}

#[tokio::test]
async fn node_gpu_inventory_counts_allocated_gpus_per_node() {
    let (fake, backend) = start(&[]).await;
    // Labels as NVIDIA GPU feature discovery and the AMD node labeller write them.
    fake.put("Node", "", json!({
        "metadata": {"name": "h100-a", "labels": {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3", "nvidia.com/gpu.memory": "81559", "nvidia.com/gpu.count": "8"}},
        "spec": {"taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]},
        "status": {"capacity": {"cpu": "192", "nvidia.com/gpu": "8"}, "allocatable": {"cpu": "190", "nvidia.com/gpu": "8"}, "conditions": [{"type": "Ready", "status": "True"}]}
    }));
    fake.put("Node", "", json!({
        "metadata": {"name": "mi300x-a", "labels": {"amd.com/gpu.product-name": "AMD_Instinct_MI300X_OAM", "amd.com/gpu.vram": "192G", "amd.com/gpu.family": "AI"}},
        "status": {"capacity": {"amd.com/gpu": "8"}, "allocatable": {"amd.com/gpu": "7"}, "conditions": [{"type": "Ready", "status": "False", "reason": "KubeletNotReady"}]}
    }));
    fake.put("Node", "", json!({"metadata": {"name": "cpu-only"}, "status": {"capacity": {"cpu": "16"}, "conditions": [{"type": "Ready", "status": "True"}]}}));
    // Pods bound to h100-a: a running one with 2 GPUs, a finished one that no longer holds any.
    fake.put("Pod", "other", json!({"metadata": {"name": "train"}, "spec": {"nodeName": "h100-a", "containers": [{"name": "t", "image": "x", "resources": {"limits": {"nvidia.com/gpu": "2"}}}]}, "status": {"phase": "Running"}}));
    fake.put("Pod", "other", json!({"metadata": {"name": "done"}, "spec": {"nodeName": "h100-a", "containers": [{"name": "t", "image": "x", "resources": {"requests": {"nvidia.com/gpu": "4"}, "limits": {"nvidia.com/gpu": "4"}}}]}, "status": {"phase": "Succeeded"}}));

    let mut big = spec("llama70", 1);
    big.gpus_per_replica = 4;
    deploy(
        &backend,
        &big,
        &K8sRenderOptions { gpu_product: Some("NVIDIA-H100-80GB-HBM3".into()), ..options() },
    )
    .await;
    fake.wait_for(WAIT, "llama70 scheduled", |f| {
        f.list("Pod", NAMESPACE).iter().any(|p| p["spec"]["nodeName"] == "h100-a")
    })
    .await;

    let rows = backend.node_gpus().await.expect("inventory");
    assert_eq!(rows.len(), 2, "the CPU node is left out: {rows:#?}");
    let h100 = &rows[0];
    assert_eq!(
        (h100.node.as_str(), h100.capacity, h100.allocatable, h100.allocated, h100.free()),
        ("h100-a", 8, 8, 6, 2)
    );
    assert_eq!(h100.product.as_deref(), Some("NVIDIA-H100-80GB-HBM3"));
    assert_eq!(h100.memory.as_deref(), Some("81559 MiB"));
    assert_eq!(h100.taints, vec!["nvidia.com/gpu=present:NoSchedule"]);
    assert!(h100.ready);
    let mi = &rows[1];
    assert_eq!(
        (mi.resource.as_deref(), mi.capacity, mi.allocatable, mi.allocated),
        (Some("amd.com/gpu"), 8, 7, 0)
    );
    assert_eq!(
        (mi.product.as_deref(), mi.memory.as_deref(), mi.ready),
        (Some("AMD_Instinct_MI300X_OAM"), Some("192G"), false)
    );
}

#[tokio::test]
async fn cache_pvcs_are_listed_and_a_prepull_job_reports_progress() {
    let (fake, backend) = start(&[]).await;
    let objects = render(
        &spec("cached", 1),
        &K8sRenderOptions {
            cache: CacheVolume::Pvc {
                claim: "models".into(),
                size: Some("500Gi".into()),
                storage_class: Some("fast".into()),
                access_mode: "ReadWriteMany".into(),
            },
            ..options()
        },
    )
    .unwrap();
    backend.apply(&objects, ApplyOptions::default()).await.unwrap();
    fake.put(
        "PersistentVolumeClaim",
        NAMESPACE,
        json!({"metadata": {"name": "not-a-cache"}, "spec": {"accessModes": ["ReadWriteOnce"]}}),
    );

    let caches = backend.cache_pvcs().await.expect("caches");
    assert_eq!(caches.len(), 1, "{caches:#?}");
    assert_eq!(
        (
            caches[0].name.as_str(),
            caches[0].requested.as_deref(),
            caches[0].storage_class.as_deref()
        ),
        ("models", Some("500Gi"), Some("fast"))
    );
    let deployment = fake.get("Deployment", NAMESPACE, "cached").unwrap();
    let volumes = &deployment["spec"]["template"]["spec"]["volumes"];
    assert!(
        volumes
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["persistentVolumeClaim"]["claimName"] == "models"),
        "{volumes}"
    );

    let request = PrepullRequest {
        pvc: "models".into(),
        model: "Qwen/Qwen3-8B".into(),
        revision: None,
        image: "vllm/vllm-openai:v0.11.0".into(),
        hf_token_secret: Some(SecretKeyRef { name: "hf".into(), key: "token".into() }),
    };
    let job = backend.start_prepull(&request).await.expect("job");
    assert_eq!(backend.start_prepull(&request).await.expect("idempotent"), job);
    let stored = fake.get("Job", NAMESPACE, &job).expect("job stored");
    assert_eq!(
        stored["spec"]["template"]["spec"]["containers"][0]["args"],
        json!(["download", "Qwen/Qwen3-8B"])
    );
    assert_eq!(
        stored["spec"]["template"]["spec"]["containers"][0]["env"][1]["valueFrom"]["secretKeyRef"]
            ["name"],
        "hf"
    );

    // The Job controller's pod (the fake has no Job controller, so the test plays it).
    fake.put("Pod", NAMESPACE, json!({"metadata": {"name": format!("{job}-x1"), "labels": {"job-name": job}}, "spec": {"containers": [{"name": "prepull", "image": "x"}]}, "status": {"phase": "Running"}}));
    fake.append_log(NAMESPACE, &format!("{job}-x1"), "Fetching 5 files:   0%|          | 0/5 [00:00<?, ?it/s]\rFetching 5 files:  60%|######    | 3/5 [00:41<00:20, 10.1s/it]");
    let (progress, finished) = backend.prepull_status(&job).await.expect("status");
    assert_eq!(progress.map(|p| (p.files_done, p.files_total)), Some((3, 5)));
    assert_eq!(finished, None);
}

#[tokio::test]
async fn operator_resources_are_listed_with_state_and_conditions() {
    let (fake, backend) = start(&[Optional::NimOperator, Optional::AimOperator]).await;
    // Shapes from the NIM Operator docs (NIMService/NIMCache status) and AIM (AIMService status).
    fake.put("NIMService", NAMESPACE, json!({
        "apiVersion": "apps.nvidia.com/v1alpha1", "kind": "NIMService",
        "metadata": {"name": "meta-llama3-8b-instruct"},
        "spec": {"image": {"repository": "nvcr.io/nim/meta/llama-3.1-8b-instruct", "tag": "1.3.3"}, "authSecret": "ngc-api-secret", "replicas": 1},
        "status": {"state": "Ready", "availableReplicas": 1, "conditions": [
            {"type": "Ready", "status": "True", "reason": "Ready", "message": "deployment \"meta-llama3-8b-instruct\" successfully rolled out\n"},
            {"type": "Failed", "status": "False", "reason": "Ready", "message": ""}]}
    }));
    fake.put("NIMCache", NAMESPACE, json!({
        "metadata": {"name": "meta-llama3-8b-instruct"},
        "spec": {"source": {"ngc": {"modelPuller": "nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3"}}},
        "status": {"state": "InProgress", "conditions": [{"type": "NIM_CACHE_JOB_CREATED", "status": "True", "reason": "JobCreated"}]}
    }));
    fake.put("AIMService", NAMESPACE, json!({
        "metadata": {"name": "qwen-chat"}, "spec": {"model": {"image": "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"}},
        "status": {"status": "Pending", "conditions": [{"type": "CacheReady", "status": "False", "reason": "WaitingForCache", "message": "template cache is warming"}]}
    }));

    let rows = backend.operator_resources().await.expect("rows");
    let summary: Vec<(&str, &str, Option<&str>)> =
        rows.iter().map(|r| (r.kind.as_str(), r.name.as_str(), r.state.as_deref())).collect();
    assert_eq!(
        summary,
        vec![
            ("NIMService", "meta-llama3-8b-instruct", Some("Ready")),
            ("NIMCache", "meta-llama3-8b-instruct", Some("InProgress")),
            ("AIMService", "qwen-chat", Some("Pending")),
        ]
    );
    assert_eq!(rows[0].source.as_deref(), Some("nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3"));
    assert_eq!(
        rows[2].conditions,
        vec!["CacheReady=False (WaitingForCache): template cache is warming"]
    );

    // Without the operators nothing is listed and nothing fails.
    let (_plain_fake, plain) = start(&[]).await;
    assert!(plain.operator_resources().await.expect("empty").is_empty());
}

#[tokio::test]
async fn operator_exports_are_accepted_by_the_api_server() {
    let (fake, backend) =
        start(&[Optional::NimOperator, Optional::AimOperator, Optional::Kserve]).await;
    let opts = K8sRenderOptions {
        hf_token_secret: Some(SecretKeyRef { name: "hf-token".into(), key: "HF_TOKEN".into() }),
        ..options()
    };
    let nim =
        render_operator(OperatorTarget::NimService, &spec("nim-llama", 2), &opts).expect("nim");
    assert_eq!(
        nim["spec"]["image"],
        json!({"repository": "vllm/vllm-openai", "tag": "v0.11.0", "pullPolicy": "IfNotPresent"})
    );
    assert_eq!(nim["spec"]["resources"]["limits"]["nvidia.com/gpu"], "1");
    // The operator reads NGC_API_KEY from authSecret: never the HF token's Secret.
    assert_eq!(nim["spec"]["authSecret"], "ngc-api-secret");
    assert_eq!(
        nim["spec"]["readinessProbe"]["probe"]["httpGet"],
        json!({"path": "/health", "port": "api"})
    );
    let mut amd = spec("aim-llama", 1);
    amd.gpu_vendor = Some(aimdeck::model::deployment::GpuVendor::Amd);
    let aim = render_operator(OperatorTarget::AimService, &amd, &opts).expect("aim");
    assert_eq!(aim["spec"]["model"]["custom"]["hardware"]["gpu"]["requests"], 1);
    assert_eq!(
        aim["spec"]["model"]["custom"]["modelSources"][0]["sourceUri"],
        "hf://meta-llama/Llama-3.1-8B-Instruct"
    );
    let err = render_operator(OperatorTarget::NimService, &amd, &opts).unwrap_err().to_string();
    assert!(err.contains("NVIDIA GPUs only"), "{err}");
    let kserve =
        render_operator(OperatorTarget::Kserve, &spec("ks-llama", 1), &opts).expect("kserve");

    for (object, plural, group) in [
        (&nim, "nimservices", "apps.nvidia.com"),
        (&aim, "aimservices", "aim.eai.amd.com"),
        (&kserve, "inferenceservices", "serving.kserve.io"),
    ] {
        let (group_name, version) = object["apiVersion"].as_str().unwrap().split_once('/').unwrap();
        assert_eq!(group_name, group);
        let resource = kube::api::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk(group, version, object["kind"].as_str().unwrap()),
            plural,
        );
        let api: kube::Api<kube::api::DynamicObject> =
            kube::Api::namespaced_with(backend.client().clone(), NAMESPACE, &resource);
        let dynamic: kube::api::DynamicObject =
            serde_json::from_value(object.clone()).expect("a Kubernetes object");
        let name = dynamic.metadata.name.clone().unwrap();
        api.patch(
            &name,
            &kube::api::PatchParams::apply("aimdeck").dry_run(),
            &kube::api::Patch::Apply(&dynamic),
        )
        .await
        .expect("server-side dry run accepts it");
    }
    assert!(fake.list("NIMService", NAMESPACE).is_empty(), "dry run stored nothing");
}

#[tokio::test]
async fn watches_resume_after_the_server_drops_history() {
    let (fake, backend) = start(&[]).await;
    let watch = ClusterWatch::start(&backend);
    deploy(&backend, &spec("first", 1), &options()).await;
    until(&watch, "first ready", |s| {
        s.deployments.iter().any(|d| d.name == "first" && d.ready == 1)
    })
    .await;
    // History is gone: a re-watch from an old resourceVersion gets 410 and must re-list.
    fake.compact();
    let lists_before = fake
        .requests()
        .iter()
        .filter(|r| {
            r.starts_with("GET") && r.contains("/deployments?") && !r.contains("watch=true")
        })
        .count();
    fake.kill_watches();
    deploy(&backend, &spec("second", 1), &options()).await;
    until(&watch, "second ready", |s| {
        s.deployments.iter().any(|d| d.name == "second" && d.ready == 1)
    })
    .await;
    let lists_after = fake
        .requests()
        .iter()
        .filter(|r| {
            r.starts_with("GET") && r.contains("/deployments?") && !r.contains("watch=true")
        })
        .count();
    assert!(
        lists_after > lists_before,
        "the watcher re-listed after 410 Gone: {:#?}",
        fake.requests().iter().filter(|r| r.contains("/deployments")).collect::<Vec<_>>()
    );
    let names: Vec<String> = watch.snapshot().deployments.iter().map(|d| d.name.clone()).collect();
    assert_eq!(names, vec!["first", "second"]);
}
