//! Deploy, dry run, scale, restart and rm: what aimdeck writes to the API server and how it owns it.

use super::*;

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
