//! HPA and KEDA: the autoscaler's state is shown and scale leaves replicas to it.

use super::*;

#[tokio::test]
async fn the_autoscaler_shows_current_and_desired_replicas_and_its_last_scaling_event() {
    let (fake, backend) = start(&[]).await;
    let spec = spec("vllm", "nvidia", 1, 1, 1, None);
    let options = K8sRenderOptions {
        namespace: NAMESPACE.into(),
        hpa: Some(HpaOptions {
            min_replicas: 1,
            max_replicas: 4,
            metric: HpaMetric::Pods {
                metric: "vllm:num_requests_waiting".into(),
                average_value: "5".into(),
            },
        }),
        ..Default::default()
    };
    backend
        .apply(&render(&spec, &options).unwrap(), ApplyOptions::default())
        .await
        .expect("applies");
    // The HPA controller's part (the fake has none): status and its event, as kube-controller-manager writes them.
    let mut hpa = fake.get("HorizontalPodAutoscaler", NAMESPACE, &spec.name).expect("hpa");
    hpa["status"] = json!({"currentReplicas": 1, "desiredReplicas": 3, "lastScaleTime": "2026-12-01T10:00:00Z"});
    fake.put("HorizontalPodAutoscaler", NAMESPACE, hpa);
    fake.put("Event", NAMESPACE, json!({"metadata": {"name": "hpa.1"}, "involvedObject": {"kind": "HorizontalPodAutoscaler", "name": spec.name, "namespace": NAMESPACE},
        "reason": "SuccessfulRescale", "message": "New size: 3; reason: pods metric vllm:num_requests_waiting above target", "type": "Normal", "count": 1,
        "lastTimestamp": "2026-12-01T10:00:00Z"}));
    let watch = aimdeck::backend::kubernetes::ClusterWatch::start(&backend);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let snapshot = watch.snapshot();
        let scaler = snapshot
            .deployments
            .iter()
            .find(|d| d.name == spec.name)
            .and_then(|d| d.autoscaler.clone());
        if let Some(scaler) = scaler.filter(|s| s.desired == 3 && s.last_event.is_some()) {
            assert_eq!((scaler.current, scaler.min, scaler.max), (1, 1, 4));
            assert!(scaler.last_event.unwrap().starts_with("New size: 3"));
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no autoscaler row: {snapshot:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_autoscaled_workload_leaves_replicas_to_its_autoscaler_and_scale_says_so() {
    let (fake, backend) = start(&[Optional::LeaderWorkerSet, Optional::Keda]).await;
    let hpa = HpaOptions {
        min_replicas: 2,
        max_replicas: 4,
        metric: HpaMetric::Pods {
            metric: "vllm:num_requests_waiting".into(),
            average_value: "5".into(),
        },
    };
    let keda = KedaOptions {
        min_replicas: 2,
        max_replicas: 4,
        metric: "vllm:num_requests_waiting".into(),
        target: "5".into(),
        prometheus: "http://prometheus.monitoring:9090".into(),
    };
    let single = spec("vllm", "nvidia", 1, 1, 3, None);
    let multi = spec("vllm", "nvidia", 8, 2, 3, None);
    let plain = K8sRenderOptions { namespace: NAMESPACE.into(), ..Default::default() };
    let with_hpa = K8sRenderOptions { hpa: Some(hpa), ..plain.clone() };
    let with_keda = K8sRenderOptions { keda: Some(keda), ..plain.clone() };

    // Without an autoscaler the spec's replicas are rendered; with one, none (Deployment and LWS).
    let replicas = |objects: &aimdeck::backend::kubernetes::render::RenderedObjects| match &objects
        .leader_worker_set
    {
        Some(lws) => lws["spec"].get("replicas").cloned(),
        None => serde_json::to_value(objects.deployment.as_ref().unwrap()).unwrap()["spec"]
            .get("replicas")
            .cloned(),
    };
    assert_eq!(replicas(&render(&single, &plain).unwrap()), Some(json!(3)));
    assert_eq!(replicas(&render(&multi, &plain).unwrap()), Some(json!(3)));
    for (options, what) in [(&with_hpa, "hpa"), (&with_keda, "keda")] {
        for spec in [&single, &multi] {
            assert_eq!(
                replicas(&render(spec, options).unwrap()),
                None,
                "{} under {what}",
                spec.name
            );
        }
    }

    // Applied: what the HPA controller chose survives a re-apply (server-side apply).
    let objects = render(&single, &with_hpa).unwrap();
    backend.apply(&objects, ApplyOptions::default()).await.expect("applies");
    let mut live = fake.get("Deployment", NAMESPACE, &single.name).expect("deployment");
    live["spec"]["replicas"] = json!(4);
    fake.put("Deployment", NAMESPACE, live);
    backend.apply(&objects, ApplyOptions::default()).await.expect("re-applies");
    assert_eq!(
        fake.get("Deployment", NAMESPACE, &single.name).unwrap()["spec"]["replicas"],
        4,
        "the autoscaler's choice stays"
    );

    // `scale` does not fight the autoscaler: it says who owns the replicas and changes nothing.
    let err = backend.scale(&single.name, 1).await.unwrap_err().to_string();
    assert!(
        err.contains(&format!(
            "HorizontalPodAutoscaler `{}` owns its replicas (min 2, max 4)",
            single.name
        )),
        "{err}"
    );
    assert!(
        err.contains("nothing was changed") && err.contains("--min-replicas/--max-replicas"),
        "{err}"
    );
    assert_eq!(fake.get("Deployment", NAMESPACE, &single.name).unwrap()["spec"]["replicas"], 4);
}
