//! The Hub stand-in's answers: not found, private and gated refusals in the Hub's words, and
//! file bytes from an offset with the faults applied.

use super::*;

pub(super) fn repo_not_found() -> Response {
    status(
        StatusCode::UNAUTHORIZED,
        &[
            ("X-Error-Code", "RepoNotFound".into()),
            ("X-Error-Message", "Repository not found".into()),
        ],
    )
}

/// A private repo is invisible without the token: the Hub answers 401 `RepoNotFound`.
pub(super) fn private(
    state: &HubState,
    repo: &FakeRepo,
    token_ok: Option<bool>,
) -> Option<Response> {
    let is_private = state.faults.lock().expect("faults").private.contains(&repo.repo_id);
    (is_private && token_ok != Some(true)).then(repo_not_found)
}

/// A gated repo's files: 401 without a token, 403 with a token that was not granted access
/// (the Hub's messages for each).
pub(super) fn gate(repo: &FakeRepo, token_ok: Option<bool>) -> Option<Response> {
    let id = &repo.repo_id;
    let (code, message) = match token_ok {
        _ if !repo.gated => return None,
        Some(true) => return None,
        None => (
            StatusCode::UNAUTHORIZED,
            format!(
                "Access to model {id} is restricted. You must have access to it and be authenticated to access it. Please log in."
            ),
        ),
        Some(false) => (
            StatusCode::FORBIDDEN,
            format!(
                "Access to model {id} is restricted and you are not in the authorized list. Visit https://huggingface.co/{id} to ask for access."
            ),
        ),
    };
    Some(status(code, &[("X-Error-Code", "GatedRepo".into()), ("X-Error-Message", message)]))
}

/// The bytes of `file` from the requested offset, with the faults applied.
pub(super) fn body_response(
    state: &HubState,
    file: &FakeFile,
    method: &Method,
    range: Option<&str>,
    etag: &str,
) -> Response {
    let total = file.content.len();
    let start = range
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    let mut builder = Response::builder()
        .header("ETag", format!("\"{etag}\""))
        .header("Accept-Ranges", "bytes")
        .header("Content-Type", "application/octet-stream");
    let from = match start {
        Some(from) if from >= total => {
            return status(
                StatusCode::RANGE_NOT_SATISFIABLE,
                &[("Content-Range", format!("bytes */{total}"))],
            );
        }
        Some(from) => {
            builder = builder
                .status(StatusCode::PARTIAL_CONTENT)
                .header("Content-Range", format!("bytes {from}-{}/{total}", total - 1));
            from
        }
        None => 0,
    };
    builder = builder.header("Content-Length", (total - from).to_string());
    if method == Method::HEAD {
        return builder.body(Body::empty()).expect("response");
    }
    let (drop_after, throttle) = {
        let mut faults = state.faults.lock().expect("faults");
        let drop_after = match faults.drop_after.get_mut(&file.name) {
            Some((bytes, times)) if *times > 0 => {
                *times -= 1;
                Some(*bytes)
            }
            _ => None,
        };
        (drop_after, faults.throttle)
    };
    let mut data = file.content[from..].to_vec();
    if state.faults.lock().expect("faults").corrupt.contains(&file.name)
        && let Some(byte) = data.last_mut()
    {
        *byte ^= 0x5a;
    }
    let (chunk, pause) = throttle.unwrap_or((64 * 1024, Duration::ZERO));
    let stream = async_stream(data, chunk, pause, drop_after);
    builder.body(Body::from_stream(stream)).expect("response")
}

/// The body in chunks; when `drop_after` is set, an error after that many bytes, which makes
/// hyper cut the connection mid-body, as a network failure would.
fn async_stream(
    data: Vec<u8>,
    chunk: usize,
    pause: Duration,
    drop_after: Option<usize>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    let limit = drop_after.unwrap_or(usize::MAX).min(data.len());
    futures::stream::unfold((data, 0usize, false), move |(data, sent, done)| async move {
        if done {
            return None;
        }
        if sent >= limit {
            if limit < data.len() {
                return Some((
                    Err(std::io::Error::other("connection dropped by the fake hub")),
                    (data, sent, true),
                ));
            }
            return None;
        }
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        let end = (sent + chunk).min(limit);
        let piece = data[sent..end].to_vec();
        Some((Ok(piece), (data, end, false)))
    })
}

pub(super) fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&path[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
