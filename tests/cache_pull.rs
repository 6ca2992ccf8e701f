//! `cache pull` against a Hub stand-in on 127.0.0.1 speaking the Hub's wire format: the
//! standard layout, a dropped connection, an interrupted and resumed pull, gated and private
//! repos (nothing written), corrupted bytes (refused), expired CDN links (no signed URL shown),
//! and `trees/<commit>.json` compared with what `huggingface_hub` itself writes and reads.

#[path = "support/fake_hub.rs"]
mod fake_hub;

use std::path::Path;
use std::time::Duration;

use aimdeck::cache::pull::{
    FileState, HubClient, PullError, PullPhase, PullProgress, PullRequest, pull,
};
use aimdeck::cache::scan_cache_dir;
use aimdeck::model::cache::RepoType;
use fake_hub::{CDN_SIGNATURE, FakeFile, FakeHub, FakeRepo, TOKEN};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const COMMIT: &str = "5f0ab4c2d1e39a8f7c6b5d4e3f2a1b0c9d8e7f6a";
const WEIGHTS: usize = 3 * 1024 * 1024 + 123;

fn weights() -> Vec<u8> {
    (0..WEIGHTS).map(|i| (i * 31 % 251) as u8).collect()
}

fn repo(repo_id: &str, gated: bool) -> FakeRepo {
    FakeRepo {
        repo_id: repo_id.to_string(),
        kind: "models",
        commit: COMMIT.to_string(),
        branches: vec!["main".to_string()],
        files: vec![
            FakeFile::new(
                "config.json",
                br#"{"architectures":["LlamaForCausalLM"],"num_hidden_layers":2}"#.to_vec(),
                false,
            ),
            FakeFile::new("model.safetensors", weights(), true),
            FakeFile::new("tokenizer/vocab.txt", b"hello\nworld\n".to_vec(), false),
        ],
        gated,
    }
}

/// Runs a pull, collecting every progress snapshot.
async fn pull_collect(
    hub: &HubClient,
    request: &PullRequest,
    cancel: CancellationToken,
) -> (Result<aimdeck::cache::pull::PullSummary, PullError>, Vec<PullProgress>) {
    let (tx, mut rx) = mpsc::channel(1024);
    let collector = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(progress) = rx.recv().await {
            all.push(progress);
        }
        all
    });
    let result = pull(hub, request, Some(tx), cancel).await;
    (result, collector.await.expect("collector"))
}

fn request(repo_id: &str, root: &Path) -> PullRequest {
    let mut request = PullRequest::new(repo_id, "main", root);
    request.progress_interval = Duration::from_millis(10);
    request
}

fn repo_dir(root: &Path, repo_id: &str) -> std::path::PathBuf {
    root.join(RepoType::Model.folder_name(repo_id))
}

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

fn weights_blob(root: &Path) -> std::path::PathBuf {
    repo_dir(root, "acme/tiny")
        .join("blobs")
        .join(FakeFile::new("model.safetensors", weights(), true).etag())
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
