//! `cache pull` against a Hub stand-in on 127.0.0.1 speaking the Hub's wire format: the
//! standard layout, a dropped connection, an interrupted and resumed pull, gated and private
//! repos (nothing written), corrupted bytes (refused), expired CDN links (no signed URL shown),
//! and `trees/<commit>.json` compared with what `huggingface_hub` itself writes and reads.

use crate::fake_hub;

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

fn weights_blob(root: &Path) -> std::path::PathBuf {
    repo_dir(root, "acme/tiny")
        .join("blobs")
        .join(FakeFile::new("model.safetensors", weights(), true).etag())
}

mod hub_client_view;
mod resume;
mod trust;
