//! One file of a pull: into `blobs/<etag>.incomplete`, resuming with `Range: bytes=N-` from what
//! an earlier attempt left, retrying a dropped connection from where it stopped (as
//! `huggingface_hub.file_download.http_get`), then renamed to `blobs/<etag>`. An LFS blob is
//! hashed as it streams (its `.incomplete` prefix first on a resume) and renamed only when its
//! sha256 is its ETag; a wrong one is deleted, never kept for a resume.

use std::path::Path;
use std::sync::Arc;

use futures::StreamExt;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use super::hub::{FileMetadata, HubClient, transport_error};
use super::{PullError, Shared, verify};

/// Attempts in a row without a single new byte before giving up (Python: 5).
const MAX_STALLED_ATTEMPTS: u32 = 5;

/// What is downloaded: the Hub's answer for the file and its `repo/file@revision` name, which
/// every error uses instead of the (signed) download URL.
pub(crate) struct Target<'a> {
    pub meta: &'a FileMetadata,
    pub label: &'a str,
}

pub(crate) async fn download_blob(
    hub: &HubClient,
    target: &Target<'_>,
    incomplete: &Path,
    blob: &Path,
    index: usize,
    shared: &Arc<Shared>,
    cancel: &CancellationToken,
) -> Result<(), PullError> {
    let meta = target.meta;
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
    // Only an LFS blob's name is a content hash; a git blob keeps the size check.
    let mut hasher = verify::is_sha256(&meta.etag).then(Sha256::new);
    if let Some(hasher) = hasher.as_mut()
        && have > 0
    {
        let (path, mut prefix) = (incomplete.to_path_buf(), hasher.clone());
        *hasher = tokio::task::spawn_blocking(move || {
            verify::hash_prefix(&path, have, &mut prefix).map(|()| prefix)
        })
        .await
        .map_err(|err| PullError::Io {
            path: incomplete.to_path_buf(),
            source: std::io::Error::other(err),
        })?
        .map_err(io_err(incomplete))?;
    }
    shared.set_done(index, have);
    let mut stalled = 0;
    while meta.size.is_none_or(|size| have < size) {
        if cancel.is_cancelled() {
            return Err(PullError::Cancelled);
        }
        let before = have;
        let attempt = fetch_into(
            hub,
            target,
            &mut file,
            incomplete,
            &mut have,
            &mut hasher,
            index,
            shared,
            cancel,
        )
        .await;
        match attempt {
            Ok(true) => break,
            Ok(false) => {
                stalled = if have > before { 0 } else { stalled + 1 };
                if stalled >= MAX_STALLED_ATTEMPTS {
                    let message = "the server keeps closing the connection early".to_string();
                    return Err(PullError::Interrupted {
                        url: target.label.to_string(),
                        at: have,
                        message,
                    });
                }
            }
            Err(PullError::Cancelled) => return Err(PullError::Cancelled),
            Err(err @ (PullError::Http { .. } | PullError::Interrupted { .. })) => {
                stalled = if have > before { 0 } else { stalled + 1 };
                if stalled >= MAX_STALLED_ATTEMPTS {
                    return Err(err);
                }
                tracing::warn!(
                    "download of {} interrupted at {have} bytes, resuming: {err}",
                    target.label
                );
                tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(stalled)))
                    .await;
            }
            Err(err) => return Err(err),
        }
    }
    file.flush().await.map_err(io_err(incomplete))?;
    drop(file);
    if let Some(expected) = meta.size
        && have != expected
    {
        // Longer than the file: not a prefix of it, so not worth resuming from.
        let _ = tokio::fs::remove_file(incomplete).await;
        return Err(PullError::SizeMismatch {
            path: incomplete.to_path_buf(),
            expected,
            got: have,
        });
    }
    if let Some(hasher) = hasher {
        let got = verify::hex(&hasher.finalize());
        if got != meta.etag {
            // Wrong bytes must not be resumed from either: the next pull starts over.
            let _ = tokio::fs::remove_file(incomplete).await;
            return Err(PullError::Corrupted {
                file: target.label.to_string(),
                expected: meta.etag.clone(),
                got,
            });
        }
    }
    tokio::fs::rename(incomplete, blob).await.map_err(io_err(blob))?;
    Ok(())
}

/// One GET. `Ok(true)`: the server sent the whole rest; `Ok(false)`: try again.
#[allow(clippy::too_many_arguments)]
async fn fetch_into(
    hub: &HubClient,
    target: &Target<'_>,
    file: &mut tokio::fs::File,
    path: &Path,
    have: &mut u64,
    hasher: &mut Option<Sha256>,
    index: usize,
    shared: &Arc<Shared>,
    cancel: &CancellationToken,
) -> Result<bool, PullError> {
    let meta = target.meta;
    let response = tokio::select! {
        _ = cancel.cancelled() => return Err(PullError::Cancelled),
        response = hub.get_from(&meta.location, *have, target.label) => response?,
    };
    let restart = response.status() == StatusCode::RANGE_NOT_SATISFIABLE
        // The server ignored the Range header and sends the whole file.
        || (*have > 0 && response.status() == StatusCode::OK);
    if restart {
        file.set_len(0)
            .await
            .map_err(|source| PullError::Io { path: path.to_path_buf(), source })?;
        *have = 0;
        if let Some(hasher) = hasher.as_mut() {
            *hasher = Sha256::new();
        }
        shared.set_done(index, 0);
    }
    if response.status() == StatusCode::RANGE_NOT_SATISFIABLE {
        // What we hold is not a prefix of this file any more: start over.
        return Ok(false);
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
                file.write_all(&bytes)
                    .await
                    .map_err(|source| PullError::Io { path: path.to_path_buf(), source })?;
                if let Some(hasher) = hasher.as_mut() {
                    hasher.update(&bytes);
                }
                *have += bytes.len() as u64;
                shared.add_received(index, *have, bytes.len() as u64);
            }
            Some(Err(err)) => {
                let _ = file.flush().await;
                return Err(PullError::Interrupted {
                    url: target.label.to_string(),
                    at: *have,
                    message: transport_error(err),
                });
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
