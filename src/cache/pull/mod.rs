//! Pull a repo revision from the Hub into the cache, files in parallel (bounded), resumable,
//! cancellable, with progress snapshots on a channel. `aimdeck cache pull` and the console's
//! cache view both call [`pull`].

mod download;
pub mod hub;
mod hub_env;
mod layout;
pub mod progress;
pub mod tree_cache;
mod verify;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::model::cache::RepoType;

pub use hub::HubClient;
pub use hub_env::{endpoint_from_env, find_token};
pub use progress::{FileProgress, FileState, PullPhase, PullProgress};

use layout::RepoLayout;
use progress::{RateMeter, eta};

/// What to pull and where.
#[derive(Debug, Clone)]
pub struct PullRequest {
    pub repo_type: RepoType,
    pub repo_id: String,
    /// Branch, tag, `refs/pr/N` or commit hash.
    pub revision: String,
    pub cache_root: PathBuf,
    /// Files downloaded at once.
    pub max_parallel: usize,
    /// How often progress snapshots are sent.
    pub progress_interval: Duration,
}

impl PullRequest {
    pub fn new(repo_id: &str, revision: &str, cache_root: &Path) -> PullRequest {
        PullRequest {
            repo_type: RepoType::Model,
            repo_id: repo_id.to_string(),
            revision: revision.to_string(),
            cache_root: cache_root.to_path_buf(),
            max_parallel: 8,
            progress_interval: Duration::from_millis(100),
        }
    }
}

/// The result of a finished pull.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PullSummary {
    pub repo_id: String,
    pub repo_type: RepoType,
    pub revision: String,
    pub commit_hash: String,
    pub snapshot_path: PathBuf,
    pub files: usize,
    pub total_bytes: u64,
    /// Bytes received over the network in this run (less than `total_bytes` after a resume).
    pub downloaded_bytes: u64,
    pub seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error(
        "the Hub refused access to `{repo_id}` (HTTP {status}){}: it is gated or private; accept its terms on the Hub and set HF_TOKEN or run `hf auth login`",
        if .message.is_empty() { String::new() } else { format!(": {}", .message) }
    )]
    Unauthorized { repo_id: String, status: u16, message: String },
    #[error(
        "repo `{repo_id}` not found on the Hub{} (a private repo needs HF_TOKEN)",
        if .message.is_empty() { String::new() } else { format!(": {}", .message) }
    )]
    RepoNotFound { repo_id: String, message: String },
    #[error("revision `{revision}` of `{repo_id}` not found on the Hub")]
    RevisionNotFound { repo_id: String, revision: String },
    #[error("{url}: HTTP {status}{}", if .message.is_empty() { String::new() } else { format!(": {}", .message) })]
    Status { url: String, status: u16, message: String },
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error("{url}: connection lost after {at} bytes: {message}")]
    Interrupted { url: String, at: u64, message: String },
    #[error("{url}: unexpected answer: {message}")]
    BadAnswer { url: String, message: String },
    #[error("{path}: expected {expected} bytes, got {got}")]
    SizeMismatch { path: PathBuf, expected: u64, got: u64 },
    #[error(
        "{file}: the bytes received do not match the file's sha256 {expected} (got {got}); nothing was kept, run the pull again"
    )]
    Corrupted { file: String, expected: String, got: String },
    #[error("the Hub lists an unsafe file name `{0}`")]
    UnsafeName(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("pull cancelled; run it again to resume")]
    Cancelled,
    #[error("{} of {total} files failed; first: {first}", .failed)]
    Files { failed: usize, total: usize, first: Box<PullError> },
}

/// Progress state the file tasks update and the reporter reads.
pub(crate) struct Shared {
    state: Mutex<PullProgress>,
    received: Mutex<u64>,
}

impl Shared {
    fn with<R>(&self, f: impl FnOnce(&mut PullProgress) -> R) -> Option<R> {
        self.state.lock().ok().map(|mut state| f(&mut state))
    }

    pub(crate) fn set_done(&self, index: usize, done: u64) {
        self.with(|p| {
            if let Some(file) = p.files.get_mut(index) {
                file.done_bytes = done;
                file.state = FileState::Downloading;
            }
        });
    }

    pub(crate) fn add_received(&self, index: usize, done: u64, received: u64) {
        self.set_done(index, done);
        if let Ok(mut total) = self.received.lock() {
            *total += received;
        }
    }

    fn finish_file(&self, index: usize, state: FileState) {
        self.with(|p| {
            if let Some(file) = p.files.get_mut(index) {
                file.state = state;
                if state != FileState::Failed {
                    file.done_bytes = file.total_bytes.max(file.done_bytes);
                }
            }
        });
    }

    fn received(&self) -> u64 {
        self.received.lock().map(|r| *r).unwrap_or(0)
    }

    /// A snapshot with totals, rate and ETA brought up to date.
    fn snapshot(&self, meter: &mut RateMeter) -> PullProgress {
        let received = self.received();
        let rate = meter.sample(Instant::now(), received);
        self.with(|p| {
            p.done_bytes = p.files.iter().map(|f| f.done_bytes).sum();
            p.total_bytes = p.files.iter().map(|f| f.total_bytes).sum();
            p.files_done = p
                .files
                .iter()
                .filter(|f| matches!(f.state, FileState::Done | FileState::Cached))
                .count();
            p.files_total = p.files.len();
            p.bytes_per_second = rate;
            p.eta_seconds = eta(p.total_bytes.saturating_sub(p.done_bytes), rate);
            p.clone()
        })
        .unwrap_or_else(|| empty_progress("", ""))
    }
}

fn empty_progress(repo_id: &str, revision: &str) -> PullProgress {
    PullProgress {
        repo_id: repo_id.to_string(),
        revision: revision.to_string(),
        commit_hash: None,
        phase: PullPhase::Resolving,
        files: Vec::new(),
        files_done: 0,
        files_total: 0,
        done_bytes: 0,
        total_bytes: 0,
        bytes_per_second: 0.0,
        eta_seconds: None,
    }
}

/// Pulls `request` with `hub`. Progress snapshots go to `progress` (dropped when the receiver
/// lags, never blocking a download; the last one, with the final phase, is always sent).
/// Cancelling `cancel` stops every transfer and leaves `.incomplete` files for a resume.
pub async fn pull(
    hub: &HubClient,
    request: &PullRequest,
    progress: Option<mpsc::Sender<PullProgress>>,
    cancel: CancellationToken,
) -> Result<PullSummary, PullError> {
    let started = Instant::now();
    let shared = Arc::new(Shared {
        state: Mutex::new(empty_progress(&request.repo_id, &request.revision)),
        received: Mutex::new(0),
    });
    let mut meter = RateMeter::new(Duration::from_secs(3));
    send_now(&progress, &shared, &mut meter);

    // Every transfer inside `run` watches `cancel` itself and flushes what it has, so `run`
    // is never dropped half-way; this loop only adds progress ticks.
    let work = run(hub, request, &shared, &cancel);
    tokio::pin!(work);
    let mut ticker = tokio::time::interval(request.progress_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let result = loop {
        tokio::select! {
            result = &mut work => break result,
            _ = ticker.tick() => send_now(&progress, &shared, &mut meter),
        }
    };
    let phase = match &result {
        Ok(_) => PullPhase::Finished,
        Err(PullError::Cancelled) => PullPhase::Cancelled,
        Err(_) => PullPhase::Failed,
    };
    shared.with(|p| p.phase = phase);
    let last = shared.snapshot(&mut meter);
    if let Some(tx) = &progress {
        let _ = tx.send(last.clone()).await;
    }
    let commit_hash = result?;
    Ok(PullSummary {
        repo_id: request.repo_id.clone(),
        repo_type: request.repo_type,
        revision: request.revision.clone(),
        snapshot_path: request
            .cache_root
            .join(request.repo_type.folder_name(&request.repo_id))
            .join("snapshots")
            .join(&commit_hash),
        commit_hash,
        files: last.files_total,
        total_bytes: last.total_bytes,
        downloaded_bytes: shared.received(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Sends a progress snapshot if the receiver has room. A named function rather than a closure
/// with borrowed arguments: such a closure held across an await makes the future `!Send`
/// (rustc's higher-ranked lifetime limitation), and the console must spawn pulls as tasks.
fn send_now(progress: &Option<mpsc::Sender<PullProgress>>, shared: &Shared, meter: &mut RateMeter) {
    if let Some(tx) = progress {
        let _ = tx.try_send(shared.snapshot(meter));
    }
}

/// Resolves the revision, then downloads its files; returns the commit hash.
async fn run(
    hub: &HubClient,
    request: &PullRequest,
    shared: &Arc<Shared>,
    cancel: &CancellationToken,
) -> Result<String, PullError> {
    let info = tokio::select! {
        _ = cancel.cancelled() => return Err(PullError::Cancelled),
        info = hub.repo_info(request.repo_type, &request.repo_id, &request.revision) => info?,
    };
    let commit = info.sha.clone();
    if commit.is_empty() || commit.contains('/') || commit.contains("..") {
        return Err(PullError::BadAnswer {
            url: hub.endpoint().to_string(),
            message: format!("bad commit hash `{commit}`"),
        });
    }
    let layout = RepoLayout {
        repo_dir: request.cache_root.join(request.repo_type.folder_name(&request.repo_id)),
    };
    // The commit's files as `snapshot_download` lists them (sizes, hashes), for the pull and
    // for `trees/<commit>.json`.
    let tree = tokio::select! {
        _ = cancel.cancelled() => return Err(PullError::Cancelled),
        tree = hub.list_tree(request.repo_type, &request.repo_id, &commit) => tree?,
    };
    for file in &tree {
        if layout.pointer(&commit, &file.path).is_none() {
            return Err(PullError::UnsafeName(file.path.clone()));
        }
    }
    shared.with(|p| {
        p.commit_hash = Some(commit.clone());
        p.phase = PullPhase::Downloading;
        p.files = tree
            .iter()
            .map(|f| FileProgress {
                path: f.path.clone(),
                state: FileState::Pending,
                done_bytes: 0,
                total_bytes: f.size,
            })
            .collect();
    });
    let start = Start {
        layout: &layout,
        request,
        commit: &commit,
        tree: &tree,
        done: tokio::sync::OnceCell::new(),
    };
    if tree.is_empty() {
        start.once().await?;
    }

    let total = tree.len();
    // Owned file names: a closure whose argument borrows from the iterator makes this future
    // `!Send` (rustc's higher-ranked lifetime limitation), and the console spawns pulls.
    let files: Vec<(usize, String)> = tree.iter().map(|f| f.path.clone()).enumerate().collect();
    let start = &start;
    let results: Vec<Result<(), PullError>> = futures::stream::iter(files)
        .map(move |(index, file): (usize, String)| async move {
            let result = pull_file(hub, start, &file, index, shared, cancel).await;
            if result.is_err() {
                shared.finish_file(index, FileState::Failed);
            }
            result
        })
        .buffer_unordered(request.max_parallel.max(1))
        .collect()
        .await;
    let mut errors: Vec<PullError> = results.into_iter().filter_map(Result::err).collect();
    if errors.iter().any(|e| matches!(e, PullError::Cancelled)) {
        return Err(PullError::Cancelled);
    }
    match errors.len() {
        0 => Ok(commit),
        1 => Err(errors.remove(0)),
        failed => Err(PullError::Files { failed, total, first: Box::new(errors.remove(0)) }),
    }
}

/// What the first authorised file writes, once: the repo's folders, the ref and
/// `trees/<commit>.json`. Nothing is written before the Hub lets a file through, so a gated or
/// private repo refused with 401/403 leaves no trace (no phantom 0-file repo in `cache ls`).
struct Start<'a> {
    layout: &'a RepoLayout,
    request: &'a PullRequest,
    commit: &'a str,
    tree: &'a [hub::TreeFile],
    done: tokio::sync::OnceCell<()>,
}

impl Start<'_> {
    async fn once(&self) -> Result<(), PullError> {
        self.done.get_or_try_init(|| self.write()).await.map(|_| ())
    }

    // The snapshot folder before the ref: a pull stopped before its first file is linked leaves
    // a valid (empty) revision, not a ref to a missing snapshot (which `huggingface_hub`
    // reports as a corrupted repo); `trees/<commit>.json` makes the real client see that
    // revision as incomplete.
    async fn write(&self) -> Result<(), PullError> {
        let repo_dir = &self.layout.repo_dir;
        for dir in [
            PathBuf::from("blobs"),
            Path::new("snapshots").join(self.commit),
            PathBuf::from("refs"),
        ] {
            let path = repo_dir.join(dir);
            tokio::fs::create_dir_all(&path)
                .await
                .map_err(|source| PullError::Io { path, source })?;
        }
        tree_cache::write(repo_dir, self.commit, self.tree).map_err(|source| PullError::Io {
            path: tree_cache::path(repo_dir, self.commit),
            source,
        })?;
        self.layout.write_ref(&self.request.revision, self.commit).map_err(|source| PullError::Io {
            path: repo_dir.join("refs").join(&self.request.revision),
            source,
        })
    }
}

/// Whether a blob already in the cache can be linked: the right size and, for an LFS blob, the
/// right sha256 (another tool, a crash or the disk may have left wrong bytes under the name).
async fn blob_is_good(blob: &Path, meta: &hub::FileMetadata) -> bool {
    let Ok(found) = tokio::fs::metadata(blob).await else { return false };
    if meta.size.is_some_and(|size| found.len() != size) {
        return false;
    }
    if !verify::is_sha256(&meta.etag) {
        return true;
    }
    let path = blob.to_path_buf();
    let hash = tokio::task::spawn_blocking(move || verify::sha256_of(&path)).await;
    let good = matches!(&hash, Ok(Ok(hash)) if *hash == meta.etag);
    if !good {
        tracing::warn!("{}: not the sha256 its name says; downloading it again", blob.display());
    }
    good
}

async fn pull_file(
    hub: &HubClient,
    start: &Start<'_>,
    file: &str,
    index: usize,
    shared: &Arc<Shared>,
    cancel: &CancellationToken,
) -> Result<(), PullError> {
    let (request, layout, commit) = (start.request, start.layout, start.commit);
    let label = format!("{}/{file}@{}", request.repo_id, request.revision);
    let url = hub.resolve_url(request.repo_type, &request.repo_id, commit, file);
    let meta = tokio::select! {
        _ = cancel.cancelled() => return Err(PullError::Cancelled),
        meta = hub.file_metadata(&url, &label, &request.repo_id, &request.revision) => meta?,
    };
    start.once().await?;
    shared.with(|p| {
        if let Some(entry) = p.files.get_mut(index) {
            entry.total_bytes = meta.size.unwrap_or(entry.total_bytes);
        }
    });
    let blob = layout.blob(&meta.etag);
    let pointer =
        layout.pointer(commit, file).ok_or_else(|| PullError::UnsafeName(file.to_string()))?;
    let cached = blob_is_good(&blob, &meta).await;
    if !cached {
        let incomplete = layout.incomplete(&meta.etag);
        let target = download::Target { meta: &meta, label: &label };
        download::download_blob(hub, &target, &incomplete, &blob, index, shared, cancel).await?;
    }
    layout
        .link(&pointer, &blob)
        .map_err(|source| PullError::Io { path: pointer.clone(), source })?;
    shared.finish_file(index, if cached { FileState::Cached } else { FileState::Done });
    Ok(())
}
