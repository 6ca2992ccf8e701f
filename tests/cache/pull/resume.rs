//! Pulls that are cut or cancelled resume where they stopped.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_writes_the_standard_cache_layout() {
    let server = FakeHub::start(vec![repo("acme/tiny", false)]).await;
    let root = tempfile::tempdir().expect("tempdir");
    let hub = HubClient::new(&server.endpoint, None).expect("client");
    let (result, events) =
        pull_collect(&hub, &request("acme/tiny", root.path()), CancellationToken::new()).await;
    let summary = result.expect("pull succeeds");
    assert_eq!(summary.commit_hash, COMMIT);
    assert_eq!(summary.files, 3);

    let dir = repo_dir(root.path(), "acme/tiny");
    assert_eq!(std::fs::read_to_string(dir.join("refs/main")).expect("ref"), COMMIT);
    let snapshot = dir.join("snapshots").join(COMMIT);
    assert_eq!(std::fs::read(snapshot.join("model.safetensors")).expect("weights"), weights());
    assert_eq!(
        std::fs::read(snapshot.join("tokenizer/vocab.txt")).expect("nested"),
        b"hello\nworld\n"
    );
    // Blobs are named by the ETag the Hub gave (X-Linked-Etag for LFS, not the pointer's ETag).
    let lfs_etag = FakeFile::new("model.safetensors", weights(), true).etag();
    assert_eq!(
        std::fs::read_link(snapshot.join("model.safetensors")).expect("symlink"),
        Path::new("../../blobs").join(&lfs_etag)
    );
    assert_eq!(
        std::fs::read_link(snapshot.join("tokenizer/vocab.txt")).expect("symlink"),
        Path::new("../../../blobs")
            .join(FakeFile::new("tokenizer/vocab.txt", b"hello\nworld\n".to_vec(), false).etag())
    );

    // The scanner sees exactly what was pulled.
    let report = scan_cache_dir(root.path()).expect("scan");
    let cached = report.repo(RepoType::Model, "acme/tiny").expect("listed");
    assert_eq!(cached.nb_files, 3);
    assert_eq!(cached.size_on_disk, summary.total_bytes);
    assert_eq!(cached.revision("main").map(|r| r.commit_hash.as_str()), Some(COMMIT));
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);

    // Progress: totals known, ends Finished at 100% with every file done.
    let last = events.last().expect("progress sent");
    assert_eq!(last.phase, PullPhase::Finished);
    assert_eq!(last.done_bytes, last.total_bytes);
    assert_eq!(last.total_bytes, summary.total_bytes);
    assert_eq!(last.files_done, 3);
    assert!(last.files.iter().all(|f| f.state == FileState::Done));
    assert!(events.first().is_some_and(|e| e.phase == PullPhase::Resolving));

    // A second pull finds every blob cached and downloads nothing.
    server.clear_requests();
    let (again, events) =
        pull_collect(&hub, &request("acme/tiny", root.path()), CancellationToken::new()).await;
    assert_eq!(again.expect("second pull").downloaded_bytes, 0);
    assert!(events.last().is_some_and(|e| e.files.iter().all(|f| f.state == FileState::Cached)));
    assert!(server.requests().iter().all(|r| r.method != "GET" || r.path.starts_with("/api/")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_resumes_with_a_range_request() {
    let server = FakeHub::start(vec![repo("acme/tiny", false)]).await;
    server.drop_connection_after("model.safetensors", 1_000_000, 1);
    let root = tempfile::tempdir().expect("tempdir");
    let hub = HubClient::new(&server.endpoint, None).expect("client");
    let (result, _) =
        pull_collect(&hub, &request("acme/tiny", root.path()), CancellationToken::new()).await;
    let summary = result.expect("pull recovers");

    let snapshot = repo_dir(root.path(), "acme/tiny").join("snapshots").join(COMMIT);
    assert_eq!(std::fs::read(snapshot.join("model.safetensors")).expect("weights"), weights());
    let cdn_gets: Vec<_> =
        server.requests().into_iter().filter(|r| r.path.starts_with("/cdn/")).collect();
    assert_eq!(cdn_gets.len(), 2, "{cdn_gets:?}");
    assert_eq!(cdn_gets[0].range, None);
    let resumed_at: u64 = cdn_gets[1]
        .range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse().ok())
        .expect("second request asks for a range");
    assert!(resumed_at > 0 && resumed_at <= 1_000_000, "resumed at {resumed_at}");
    // Nothing downloaded twice.
    assert_eq!(summary.downloaded_bytes, summary.total_bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_pull_resumes_from_the_incomplete_blob() {
    let server = FakeHub::start(vec![repo("acme/tiny", false)]).await;
    server.throttle(16 * 1024, Duration::from_millis(5));
    let root = tempfile::tempdir().expect("tempdir");
    let hub = HubClient::new(&server.endpoint, None).expect("client");
    let request = request("acme/tiny", root.path());

    let cancel = CancellationToken::new();
    let (tx, mut rx) = mpsc::channel::<PullProgress>(64);
    let watcher_cancel = cancel.clone();
    let watcher = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(progress) = rx.recv().await {
            let weights_done = progress
                .files
                .iter()
                .find(|f| f.path == "model.safetensors")
                .map_or(0, |f| f.done_bytes);
            if weights_done >= 256 * 1024 {
                watcher_cancel.cancel();
            }
            seen.push(progress);
        }
        seen
    });
    let result = pull(&hub, &request, Some(tx), cancel).await;
    let seen = watcher.await.expect("watcher");
    assert!(matches!(result, Err(PullError::Cancelled)), "{result:?}");
    assert_eq!(seen.last().map(|p| p.phase), Some(PullPhase::Cancelled));
    let mid = seen.iter().find(|p| p.bytes_per_second > 0.0).expect("a rate while downloading");
    assert!(mid.eta_seconds.is_some_and(|eta| eta > 0.0), "{mid:?}");

    // The scanner reports the interrupted download.
    let report = scan_cache_dir(root.path()).expect("scan");
    assert!(
        report.warnings.is_empty(),
        "a cancelled pull leaves a valid cache: {:?}",
        report.warnings
    );
    let partial =
        report.repo(RepoType::Model, "acme/tiny").expect("listed while partial").incomplete_bytes;
    assert_eq!(partial, report.incomplete_bytes);
    assert!(partial >= 256 * 1024 && partial < WEIGHTS as u64, "partial {partial}");

    server.unthrottle();
    server.clear_requests();
    let (result, _) = pull_collect(&hub, &request, CancellationToken::new()).await;
    let summary = result.expect("resumed pull");
    let cdn = server
        .requests()
        .into_iter()
        .find(|r| r.path.starts_with("/cdn/"))
        .expect("weights fetched");
    assert_eq!(cdn.range, Some(format!("bytes={partial}-")));
    assert_eq!(summary.downloaded_bytes, WEIGHTS as u64 - partial);
    let snapshot = repo_dir(root.path(), "acme/tiny").join("snapshots").join(COMMIT);
    assert_eq!(std::fs::read(snapshot.join("model.safetensors")).expect("weights"), weights());
    assert_eq!(scan_cache_dir(root.path()).expect("scan").incomplete_bytes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_pull_prints_the_snapshot_path_and_a_final_progress_line() {
    let server = FakeHub::start(vec![repo("acme/gated", true)]).await;
    let root = tempfile::tempdir().expect("tempdir");
    let run = |token: Option<&'static str>| {
        let endpoint = server.endpoint.clone();
        let root = root.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("aimdeck"));
            command.args(["cache", "pull", "acme/gated", "--cache-dir"]).arg(&root);
            command
                .env("HF_ENDPOINT", endpoint)
                .env_remove("HF_TOKEN")
                .env("HF_HOME", root.join("no-home"));
            if let Some(token) = token {
                command.env("HF_TOKEN", token);
            }
            command.output().expect("run aimdeck")
        })
    };
    let denied = run(None).await.expect("join");
    assert_eq!(denied.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&denied.stderr);
    assert!(stderr.contains("gated or private") && stderr.contains("HF_TOKEN"), "{stderr}");

    let output = run(Some(TOKEN)).await.expect("join");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let snapshot =
        root.path().join(RepoType::Model.folder_name("acme/gated")).join("snapshots").join(COMMIT);
    assert_eq!(stdout.trim(), snapshot.display().to_string());
    // Not a terminal: no `\r` redraws, one final line.
    assert!(!stderr.contains('\r'), "{stderr:?}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.contains("100%") && last.contains("done") && last.contains("3/3 files"), "{last}");
    assert!(!stderr.contains(TOKEN) && !stdout.contains(TOKEN));
}
