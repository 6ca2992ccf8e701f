//! One file of a pull: into `blobs/<etag>.incomplete`, resuming with `Range: bytes=N-` from what
//! an earlier attempt left, retrying a dropped connection from where it stopped (as
//! `huggingface_hub.file_download.http_get`), then renamed to `blobs/<etag>`.

use std::path::Path;
use std::sync::Arc;

use futures::StreamExt;
use reqwest::StatusCode;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use super::hub::{FileMetadata, HubClient};
use super::{PullError, Shared};

/// Attempts in a row without a single new byte before giving up (Python: 5).
const MAX_STALLED_ATTEMPTS: u32 = 5;

pub(crate) async fn download_blob(
    hub: &HubClient,
    meta: &FileMetadata,
    incomplete: &Path,
    blob: &Path,
    index: usize,
    shared: &Arc<Shared>,
    cancel: &CancellationToken,
) -> Result<(), PullError> {
    if let Some(parent) = incomplete.parent() {
        tokio::fs::create_dir_all(parent).await.map_err(io_err(parent))?;
    }
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(incomplete)
        .await
        .map_err(io_err(incomplete))?;
    let mut have = file.metadata().await.map_err(io_err(incomplete))?.len();
    shared.set_done(index, have);
    let mut stalled = 0;
    while meta.size.is_none_or(|size| have < size) {
        if cancel.is_cancelled() {
            return Err(PullError::Cancelled);
        }
        let before = have;
        let attempt = fetch_into(hub, meta, &mut file, incomplete, &mut have, index, shared, cancel).await;
        match attempt {
            Ok(true) => break,
            Ok(false) => {
                stalled = if have > before { 0 } else { stalled + 1 };
                if stalled >= MAX_STALLED_ATTEMPTS {
                    let message = "the server keeps closing the connection early".to_string();
                    return Err(PullError::Interrupted { url: meta.location.clone(), at: have, message });
                }
            }
            Err(PullError::Cancelled) => return Err(PullError::Cancelled),
            Err(err @ (PullError::Http { .. } | PullError::Interrupted { .. })) => {
                stalled = if have > before { 0 } else { stalled + 1 };
                if stalled >= MAX_STALLED_ATTEMPTS {
                    return Err(err);
                }
                tracing::warn!("download of {} interrupted at {have} bytes, resuming: {err}", incomplete.display());
                tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(stalled))).await;
            }
            Err(err) => return Err(err),
        }
    }
    file.flush().await.map_err(io_err(incomplete))?;
    drop(file);
    if let Some(expected) = meta.size
        && have != expected
    {
        return Err(PullError::SizeMismatch { path: incomplete.to_path_buf(), expected, got: have });
    }
    tokio::fs::rename(incomplete, blob).await.map_err(io_err(blob))?;
    Ok(())
}

/// One GET. `Ok(true)`: the server sent the whole rest; `Ok(false)`: try again.
#[allow(clippy::too_many_arguments)]
async fn fetch_into(
    hub: &HubClient,
    meta: &FileMetadata,
    file: &mut tokio::fs::File,
    path: &Path,
    have: &mut u64,
    index: usize,
    shared: &Arc<Shared>,
    cancel: &CancellationToken,
) -> Result<bool, PullError> {
    let response = tokio::select! {
        _ = cancel.cancelled() => return Err(PullError::Cancelled),
        response = hub.get_from(&meta.location, *have) => response?,
    };
    if response.status() == StatusCode::RANGE_NOT_SATISFIABLE {
        // What we hold is not a prefix of this file any more: start over.
        file.set_len(0).await.map_err(|source| PullError::Io { path: path.to_path_buf(), source })?;
        *have = 0;
        shared.set_done(index, 0);
        return Ok(false);
    }
    if *have > 0 && response.status() == StatusCode::OK {
        // The server ignored the Range header and sends the whole file.
        file.set_len(0).await.map_err(|source| PullError::Io { path: path.to_path_buf(), source })?;
        *have = 0;
        shared.set_done(index, 0);
    }
    let mut stream = response.bytes_stream();
    loop {
        let chunk = tokio::select! {
            _ = cancel.cancelled() => {
                let _ = file.flush().await;
                return Err(PullError::Cancelled);
            }
            chunk = stream.next() => chunk,
        };
        match chunk {
            None => return Ok(meta.size.is_none_or(|size| *have >= size)),
            Some(Ok(bytes)) => {
                file.write_all(&bytes).await.map_err(|source| PullError::Io { path: path.to_path_buf(), source })?;
                *have += bytes.len() as u64;
                shared.add_received(index, *have, bytes.len() as u64);
            }
            Some(Err(err)) => {
                let _ = file.flush().await;
                return Err(PullError::Interrupted { url: meta.location.clone(), at: *have, message: err.to_string() });
            }
        }
    }
}

/// Wraps an I/O error with the path it concerns. A function, not a closure, so the download
/// future stays `Send` (see `send_now` in `pull/mod.rs`).
fn io_err(path: &Path) -> impl Fn(std::io::Error) -> PullError + use<> {
    let path = path.to_path_buf();
    move |source: std::io::Error| PullError::Io { path: path.clone(), source }
}
