//! Gated and private repos, tokens that stay on the Hub, corrupted bytes refused, errors without signed URLs.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gated_repo_needs_the_token_and_the_token_stays_on_the_hub() {
    let server = FakeHub::start(vec![repo("acme/gated", true)]).await;
    let root = tempfile::tempdir().expect("tempdir");

    // The Hub lists a gated repo's files to anyone; only the files themselves are refused.
    let anonymous = HubClient::new(&server.endpoint, None).expect("client");
    let (result, _) =
        pull_collect(&anonymous, &request("acme/gated", root.path()), CancellationToken::new())
            .await;
    let err = result.expect_err("401 without a token");
    let err = match err {
        PullError::Files { first, .. } => *first,
        other => other,
    };
    assert!(matches!(err, PullError::Unauthorized { status: 401, .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("acme/gated")
            && message.contains("HF_TOKEN")
            && message.contains("restricted"),
        "{message}"
    );
    assert!(server.requests().iter().any(|r| r.path.contains("/tree/")), "the listing was public");
    assert!(
        !repo_dir(root.path(), "acme/gated").exists(),
        "a refused pull writes nothing: no ref, snapshot or blobs"
    );
    assert!(
        std::fs::read_dir(root.path()).map_or(true, |mut d| d.next().is_none()),
        "nothing at all in the cache"
    );

    // A token without access: 403, still nothing written.
    let stranger = HubClient::new(&server.endpoint, Some("hf_someoneelse".into())).expect("client");
    let (result, _) =
        pull_collect(&stranger, &request("acme/gated", root.path()), CancellationToken::new())
            .await;
    let message = result.expect_err("403 with a token without access").to_string();
    assert!(
        message.contains("HTTP 403") && message.contains("not in the authorized list"),
        "{message}"
    );
    assert!(!repo_dir(root.path(), "acme/gated").exists());
    server.clear_requests();

    let authed = HubClient::new(&server.endpoint, Some(TOKEN.to_string())).expect("client");
    assert!(!format!("{authed:?}").contains(TOKEN), "Debug never shows the token");
    let (result, _) =
        pull_collect(&authed, &request("acme/gated", root.path()), CancellationToken::new()).await;
    result.expect("pull with the token");
    let requests = server.requests();
    assert!(
        requests.iter().filter(|r| !r.path.starts_with("/cdn/")).all(|r| r.token_ok == Some(true))
    );
    assert!(
        requests.iter().filter(|r| r.path.starts_with("/cdn/")).all(|r| r.token_ok.is_none()),
        "{requests:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_repo_without_the_token_writes_nothing() {
    let server = FakeHub::start(vec![repo("acme/secret", false)]).await;
    server.make_private("acme/secret");
    let root = tempfile::tempdir().expect("tempdir");
    let hub = HubClient::new(&server.endpoint, None).expect("client");
    let (result, _) =
        pull_collect(&hub, &request("acme/secret", root.path()), CancellationToken::new()).await;
    let err = result.expect_err("401 RepoNotFound");
    assert!(matches!(err, PullError::RepoNotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("HF_TOKEN"), "{err}");
    assert!(!repo_dir(root.path(), "acme/secret").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_bytes_are_refused_and_a_wrong_blob_is_never_trusted() {
    let server = FakeHub::start(vec![repo("acme/tiny", false)]).await;
    server.corrupt("model.safetensors");
    let root = tempfile::tempdir().expect("tempdir");
    let hub = HubClient::new(&server.endpoint, None).expect("client");
    let (result, _) =
        pull_collect(&hub, &request("acme/tiny", root.path()), CancellationToken::new()).await;
    let err = result.expect_err("a sha256 mismatch fails the pull");
    assert!(matches!(err, PullError::Corrupted { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("acme/tiny/model.safetensors@main") && message.contains("sha256"),
        "{message}"
    );
    // Nothing under the final name, no part kept to resume from, no snapshot entry.
    let blobs = repo_dir(root.path(), "acme/tiny").join("blobs");
    assert!(!weights_blob(root.path()).exists());
    let names: Vec<String> = std::fs::read_dir(&blobs)
        .expect("blobs")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".incomplete")), "{names:?}");
    let snapshot = repo_dir(root.path(), "acme/tiny").join("snapshots").join(COMMIT);
    assert!(std::fs::symlink_metadata(snapshot.join("model.safetensors")).is_err());

    // Fixed on the server: the pull completes.
    server.uncorrupt();
    let (result, _) =
        pull_collect(&hub, &request("acme/tiny", root.path()), CancellationToken::new()).await;
    result.expect("pull after the fix");
    assert_eq!(std::fs::read(snapshot.join("model.safetensors")).expect("weights"), weights());

    // A blob damaged on disk, same size: the next pull hashes it, refuses it and fetches it again.
    let mut damaged = weights();
    damaged[17] ^= 1;
    std::fs::write(weights_blob(root.path()), &damaged).expect("damage the blob");
    let (result, events) =
        pull_collect(&hub, &request("acme/tiny", root.path()), CancellationToken::new()).await;
    let summary = result.expect("pull repairs");
    assert_eq!(summary.downloaded_bytes, WEIGHTS as u64, "only the damaged blob is fetched again");
    assert_eq!(std::fs::read(snapshot.join("model.safetensors")).expect("weights"), weights());
    let last = events.last().expect("progress");
    let state = |name: &str| last.files.iter().find(|f| f.path == name).map(|f| f.state);
    assert_eq!(state("model.safetensors"), Some(FileState::Done));
    assert_eq!(state("config.json"), Some(FileState::Cached));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_name_the_repo_file_never_a_signed_url() {
    let server = FakeHub::start(vec![repo("acme/tiny", false)]).await;
    let root = tempfile::tempdir().expect("tempdir");
    let hub = HubClient::new(&server.endpoint, None).expect("client");
    let clean = |message: &str| {
        !message.contains(CDN_SIGNATURE) && !message.contains("X-Amz") && !message.contains("/cdn/")
    };

    server.expire_cdn_links();
    let (result, _) =
        pull_collect(&hub, &request("acme/tiny", root.path()), CancellationToken::new()).await;
    let message = result.expect_err("the CDN refuses").to_string();
    assert!(message.contains("acme/tiny/model.safetensors@main: HTTP 403"), "{message}");
    assert!(clean(&message), "{message}");

    // A connection that keeps dropping: the retries give up naming the file, not the URL.
    let server = FakeHub::start(vec![repo("acme/tiny", false)]).await;
    server.drop_connection_after("model.safetensors", 0, 10);
    let hub = HubClient::new(&server.endpoint, None).expect("client");
    let root = tempfile::tempdir().expect("tempdir");
    let (result, _) =
        pull_collect(&hub, &request("acme/tiny", root.path()), CancellationToken::new()).await;
    let message = result.expect_err("gives up").to_string();
    assert!(message.contains("acme/tiny/model.safetensors@main"), "{message}");
    assert!(clean(&message), "{message}");
}
