//! What the real huggingface_hub client sees of a pulled (or half-pulled) tree.

use super::*;

/// Runs `tests/fixtures/cache/hf_snapshot.py` (huggingface_hub's own `snapshot_download`), or
/// `None` when Python's huggingface_hub is missing, unless `AIMDECK_REQUIRE_HF_HUB=1`.
async fn hf_snapshot(args: Vec<String>) -> Option<serde_json::Value> {
    let python = std::env::var("AIMDECK_PYTHON").unwrap_or_else(|_| "python3".into());
    let required = std::env::var("AIMDECK_REQUIRE_HF_HUB").is_ok_and(|v| v == "1");
    let probe =
        tokio::process::Command::new(&python).args(["-c", "import huggingface_hub"]).output().await;
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        assert!(
            !required,
            "AIMDECK_REQUIRE_HF_HUB=1 but `{python} -c 'import huggingface_hub'` failed: {probe:?}"
        );
        eprintln!(
            "skipped: Python's huggingface_hub is not installed (pip install huggingface_hub)"
        );
        return None;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cache/hf_snapshot.py");
    let home = tempfile::tempdir().expect("HF_HOME");
    let output = tokio::process::Command::new(&python)
        .arg(script)
        .args(&args)
        .env("HF_HOME", home.path())
        .env_remove("HF_TOKEN")
        .env_remove("HF_ENDPOINT")
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .output()
        .await
        .expect("run python");
    assert!(output.status.success(), "python failed: {}", String::from_utf8_lossy(&output.stderr));
    Some(serde_json::from_slice(&output.stdout).expect("python prints JSON"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trees_json_is_what_huggingface_hub_writes_and_a_half_pull_is_incomplete_to_it() {
    let server = FakeHub::start(vec![repo("acme/tiny", false)]).await;
    // Two entries a page: both clients must follow the `Link` pages to see every file.
    server.tree_page_size(2);
    let ours = tempfile::tempdir().expect("tempdir");
    let theirs = tempfile::tempdir().expect("tempdir");
    let hub = HubClient::new(&server.endpoint, None).expect("client");
    let root = ours.path().to_string_lossy().into_owned();

    // Stopped half way: the weights are missing, and the real client says so offline.
    server.throttle(16 * 1024, Duration::from_millis(5));
    let cancel = CancellationToken::new();
    let stopper = {
        let cancel = cancel.clone();
        let weights = repo_dir(ours.path(), "acme/tiny").join("blobs").join(format!(
            "{}.incomplete",
            weights_blob(ours.path()).file_name().unwrap().to_string_lossy()
        ));
        tokio::spawn(async move {
            while std::fs::metadata(&weights).map_or(0, |m| m.len()) < 64 * 1024 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            cancel.cancel();
        })
    };
    let (result, _) = pull_collect(&hub, &request("acme/tiny", ours.path()), cancel).await;
    stopper.await.expect("stopper");
    assert!(matches!(result, Err(PullError::Cancelled)), "{result:?}");
    let tree = repo_dir(ours.path(), "acme/tiny").join("trees").join(format!("{COMMIT}.json"));
    assert!(tree.is_file(), "written before the files complete, as snapshot_download does");
    let Some(offline) = hf_snapshot(vec!["offline".into(), "acme/tiny".into(), root.clone()]).await
    else {
        return;
    };
    assert_eq!(offline["error"], "IncompleteSnapshotError", "{offline}");
    assert!(
        offline["message"].as_str().unwrap_or_default().contains("model.safetensors"),
        "{offline}"
    );

    // Finished: the real client accepts the snapshot offline.
    server.unthrottle();
    pull_collect(&hub, &request("acme/tiny", ours.path()), CancellationToken::new())
        .await
        .0
        .expect("resume");
    let offline =
        hf_snapshot(vec!["offline".into(), "acme/tiny".into(), root]).await.expect("python");
    let snapshot = repo_dir(ours.path(), "acme/tiny").join("snapshots").join(COMMIT);
    assert_eq!(offline["path"].as_str().map(Path::new), Some(snapshot.as_path()), "{offline}");

    // The real client against the same stand-in writes the same trees file, byte for byte.
    let online = hf_snapshot(vec![
        "download".into(),
        server.endpoint.clone(),
        "acme/tiny".into(),
        theirs.path().to_string_lossy().into_owned(),
    ])
    .await
    .expect("python");
    assert!(online.get("path").is_some(), "huggingface_hub pulls from the stand-in: {online}");
    let their_tree =
        repo_dir(theirs.path(), "acme/tiny").join("trees").join(format!("{COMMIT}.json"));
    assert_eq!(
        std::fs::read_to_string(&tree).expect("ours"),
        std::fs::read_to_string(&their_tree).expect("theirs")
    );
    let their_weights = repo_dir(theirs.path(), "acme/tiny")
        .join("snapshots")
        .join(COMMIT)
        .join("model.safetensors");
    assert_eq!(std::fs::read(their_weights).expect("their weights"), weights());
}
