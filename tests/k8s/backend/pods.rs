//! Why a replica is not serving, and its logs, as the pods tell.

use super::*;

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
