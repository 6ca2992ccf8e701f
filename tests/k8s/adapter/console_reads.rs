//! The console's view of the cluster: lists from watches, stale writes refused, autoscaled workloads left alone.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_lists_from_watches_not_from_a_list_call_each_time() {
    let fake = FakeKube::start(FakeOptions::default()).await;
    let mut options = BackendOptions::new("/nonexistent");
    options.kubernetes =
        KubeTarget { kubeconfig: Some(fake.kubeconfig_path()), ..Default::default() };
    options.kubernetes_watches = true;
    let backend = open("k8s", &options).expect("opens");
    backend.create(&spec("qwen", 2), None).await.expect("create");

    // The pods become ready on the server; the watched list follows without being re-listed.
    let started = Instant::now();
    loop {
        let listed = backend.list().await.expect("list");
        if listed.first().is_some_and(|d| d.ready_summary() == "2/2") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not ready through the watches: {listed:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let lists = |fake: &FakeKube| {
        fake.requests()
            .iter()
            .filter(|r| {
                r.starts_with("GET")
                    && (r.contains("/deployments?") || r.contains("/pods?"))
                    && !r.contains("watch=true")
            })
            .count()
    };
    let before = lists(&fake);
    for _ in 0..20 {
        backend.list().await.expect("list");
    }
    assert_eq!(lists(&fake), before, "twenty lists, no list calls: they read the reflectors");

    backend.scale("qwen", 1, None).await.expect("scale");
    let started = Instant::now();
    while backend.list().await.expect("list")[0].replicas.len() != 1 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the scale-down reaches the watched list"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    backend.delete("qwen").await.expect("delete");
    let started = Instant::now();
    while !backend.list().await.expect("list").is_empty() {
        assert!(started.elapsed() < Duration::from_secs(10), "the delete reaches the watched list");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One writer per deployment: a scale or restart made from what was read before another
/// writer changed the Deployment is refused with a 409 naming it, and changes nothing; the
/// controller's own status updates in between are not another writer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_from_a_stale_read_is_refused_as_another_writers_change() {
    use aimdeck::backend::kubernetes::KubeBackend;
    let fake = FakeKube::start(FakeOptions {
        ready_delay: Duration::from_millis(100),
        ..Default::default()
    })
    .await;
    let backend = open_k8s(&fake);
    backend.create(&spec("rival", 1), None).await.expect("create");
    let kube = KubeBackend::connect(&KubeTarget {
        kubeconfig: Some(fake.kubeconfig_path()),
        ..Default::default()
    })
    .await
    .expect("client");
    let object = || fake.get("Deployment", NAMESPACE, "rival").expect("the Deployment");
    let seen =
        object()["metadata"]["resourceVersion"].as_str().expect("a resourceVersion").to_string();

    // Another aimdeck scales it meanwhile.
    backend.scale("rival", 2, None).await.expect("the other writer");
    let err = kube.scale_at("rival", 5, &seen).await.expect_err("a stale scale").to_string();
    assert!(err.contains("`rival` was changed by another writer; try again"), "{err}");
    assert_eq!(object()["spec"]["replicas"], json!(2), "the other writer's count stays");
    let err = kube.restart_at("rival", &seen).await.expect_err("a stale restart").to_string();
    assert!(err.contains("`rival` was changed by another writer; try again"), "{err}");
    assert!(
        object()
            .pointer("/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt")
            .is_none(),
        "no restart written"
    );

    // The ordinary paths read right before they write, while the controller keeps updating
    // the status (pods becoming ready): they go through.
    backend.scale("rival", 3, None).await.expect("scale from a fresh read");
    backend.restart("rival").await.expect("restart from a fresh read");
    assert_eq!(object()["spec"]["replicas"], json!(3));
    assert!(
        object()
            .pointer("/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt")
            .is_some()
    );
    assert!(
        fake.requests().iter().any(|r| r.starts_with("GET") && r.contains("/deployments/rival")),
        "read before the write"
    );
    backend.delete("rival").await.expect("delete with the listed versions as preconditions");
    fake.wait_for(Duration::from_secs(10), "nothing left", |f| f.inventory(NAMESPACE).is_empty())
        .await;
}

/// `aimdeck scale` on a deployment KEDA scales (through its `keda-hpa-NAME` HPA) says the
/// autoscaler owns the replicas instead of setting a number the HPA would undo.
#[tokio::test]
async fn scale_refuses_a_deployment_an_autoscaler_owns() {
    let fake = FakeKube::start(FakeOptions::default()).await;
    let backend = open_k8s(&fake);
    backend.create(&spec("qwen", 1), None).await.expect("create");
    // What KEDA's operator makes for a ScaledObject on `qwen`.
    fake.put("HorizontalPodAutoscaler", NAMESPACE, json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "keda-hpa-qwen"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "qwen"}, "minReplicas": 1, "maxReplicas": 4}
    }));
    let err = backend.scale("qwen", 3, None).await.unwrap_err().to_string();
    assert!(err.contains("KEDA (ScaledObject via HorizontalPodAutoscaler `keda-hpa-qwen`) owns its replicas (min 1, max 4)"), "{err}");
    assert!(err.contains("Change min/max instead"), "{err}");
    assert_eq!(
        fake.get("Deployment", NAMESPACE, "qwen").unwrap()["spec"]["replicas"],
        1,
        "nothing changed"
    );
}
