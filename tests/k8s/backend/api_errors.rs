//! An API server that refuses, stalls or fails: each named, nothing changed.

use super::*;

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
