//! A Hugging Face Hub stand-in on 127.0.0.1:0 answering the endpoints `aimdeck cache pull` uses,
//! with the Hub's real headers (see `tests/fixtures/cache/README.md` for the sources):
//! - `GET /api/{models|datasets}/{repo}/revision/{rev}`: `{"id","sha","siblings":[{"rfilename"}]}`;
//! - `GET /api/{..}/{repo}/tree/{rev}[?recursive=true]`: `[{"type","oid","size","path","lfs"?}]`,
//!   folders included, in pages with `Link: <..&cursor=N>; rel="next"` (1000 entries a page, as
//!   the Hub; settable to test paging);
//! - `HEAD|GET /{repo}/resolve/{rev}/{file}`: small (git) files answer 200 with `ETag` (a git
//!   blob id), `X-Repo-Commit`, `Content-Length`; LFS files answer `302` to the CDN (another
//!   origin) with a signed query string, and `X-Linked-Etag` (the sha256 of the bytes),
//!   `X-Linked-Size`, `X-Repo-Commit`, as the Hub redirects to its CDN;
//! - `GET /cdn/{sha256}?X-Amz-...&X-Amz-Signature=..`: the bytes, honouring `Range: bytes=N-`
//!   with `206` + `Content-Range`; without a signature, or once links are expired, `403` with an
//!   S3 `AccessDenied` body;
//! - a gated repo's metadata (revision, tree) is public, as on the Hub; its files answer `401`
//!   `X-Error-Code: GatedRepo` without a token and `403` with a token that has no access;
//! - a private repo answers `401` `X-Error-Code: RepoNotFound` to everything without the token.
//!
//! Faults for tests: drop the connection after N bytes of a file, send slowly, corrupt a file's
//! bytes (same length), expire the CDN links.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use sha2::Digest;

#[path = "fake_hub_tree.rs"]
mod tree;
use tree::tree_page;
#[path = "fake_hub_answers.rs"]
mod answers;
use answers::{body_response, gate, percent_decode, private, repo_not_found};

pub const TOKEN: &str = "hf_fakehubtoken0123456789";

#[derive(Clone)]
pub struct FakeFile {
    pub name: String,
    pub content: Vec<u8>,
    /// Stored with Git LFS on the Hub: served through the CDN redirect.
    pub lfs: bool,
}

impl FakeFile {
    pub fn new(name: &str, content: Vec<u8>, lfs: bool) -> FakeFile {
        FakeFile { name: name.to_string(), content, lfs }
    }

    /// 40 hex characters for git files (standing in for the git blob sha1), the real sha256 of
    /// the bytes for LFS files (the Hub's `X-Linked-Etag` and `lfs.oid`).
    pub fn etag(&self) -> String {
        if self.lfs {
            return sha2::Sha256::digest(&self.content)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
        }
        git_like_oid(&self.content, &self.name)
    }

    /// The git blob id: of the bytes for a git file, of the LFS pointer file for an LFS one.
    pub fn git_oid(&self) -> String {
        if self.lfs { git_like_oid(self.etag().as_bytes(), "lfs-pointer") } else { self.etag() }
    }
}

fn git_like_oid(content: &[u8], salt: &str) -> String {
    let a = fnv(content, 0xcbf2_9ce4_8422_2325);
    let b = fnv(salt.as_bytes(), a);
    format!("{a:016x}{b:016x}{:08x}", a as u32)
}

fn fnv(bytes: &[u8], seed: u64) -> u64 {
    bytes.iter().fold(seed, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

#[derive(Clone)]
pub struct FakeRepo {
    pub repo_id: String,
    /// `models` or `datasets`.
    pub kind: &'static str,
    pub commit: String,
    pub branches: Vec<String>,
    pub files: Vec<FakeFile>,
    pub gated: bool,
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub range: Option<String>,
    /// `Some(true)` when the bearer token was right, `Some(false)` when wrong, `None` when absent.
    pub token_ok: Option<bool>,
}

#[derive(Default)]
struct Faults {
    /// File name -> (bytes to send before dropping the connection, how many times).
    drop_after: HashMap<String, (usize, u32)>,
    /// (chunk size, pause between chunks) for every body.
    throttle: Option<(usize, Duration)>,
    /// Files whose bytes are served with one byte changed (the length stays right).
    corrupt: Vec<String>,
    /// The CDN refuses every link, as S3 does once a signed URL has expired.
    cdn_links_expired: bool,
    /// Repos that answer as private (401 RepoNotFound without the token).
    private: Vec<String>,
    /// Tree entries per page (the Hub: 1000).
    tree_page: Option<usize>,
}

/// The signed query string of a CDN link, shaped like the Hub's S3/CloudFront ones.
pub const CDN_SIGNATURE: &str = "X-Amz-Signature=3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a";

#[derive(Clone)]
struct HubState {
    /// Origin of the Hub itself (for `Link` headers).
    hub: String,
    /// Origin of the CDN LFS downloads are redirected to.
    base: String,
    repos: Arc<Vec<FakeRepo>>,
    log: Arc<Mutex<Vec<Logged>>>,
    faults: Arc<Mutex<Faults>>,
}

pub struct FakeHub {
    pub endpoint: String,
    state: HubState,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeHub {
    pub async fn start(repos: Vec<FakeRepo>) -> FakeHub {
        let listener =
            tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr: SocketAddr = listener.local_addr().expect("local addr");
        let endpoint = format!("http://{addr}");
        // The CDN LFS files redirect to is another origin, as on the real Hub.
        let cdn_listener =
            tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let cdn = format!("http://{}", cdn_listener.local_addr().expect("cdn addr"));
        let state = HubState {
            hub: endpoint.clone(),
            base: cdn,
            repos: Arc::new(repos),
            log: Arc::default(),
            faults: Arc::default(),
        };
        let app = Router::new().fallback(handle).with_state(state.clone());
        let cdn_app = app.clone();
        let server = tokio::spawn(async move {
            let _ = tokio::join!(axum::serve(listener, app), axum::serve(cdn_listener, cdn_app));
        });
        FakeHub { endpoint, state, server }
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.state.log.lock().expect("log").clone()
    }

    pub fn clear_requests(&self) {
        self.state.log.lock().expect("log").clear();
    }

    pub fn drop_connection_after(&self, file: &str, bytes: usize, times: u32) {
        self.state
            .faults
            .lock()
            .expect("faults")
            .drop_after
            .insert(file.to_string(), (bytes, times));
    }

    pub fn throttle(&self, chunk: usize, pause: Duration) {
        self.state.faults.lock().expect("faults").throttle = Some((chunk, pause));
    }

    pub fn unthrottle(&self) {
        self.state.faults.lock().expect("faults").throttle = None;
    }

    pub fn corrupt(&self, file: &str) {
        self.state.faults.lock().expect("faults").corrupt.push(file.to_string());
    }

    pub fn uncorrupt(&self) {
        self.state.faults.lock().expect("faults").corrupt.clear();
    }

    pub fn expire_cdn_links(&self) {
        self.state.faults.lock().expect("faults").cdn_links_expired = true;
    }

    pub fn make_private(&self, repo_id: &str) {
        self.state.faults.lock().expect("faults").private.push(repo_id.to_string());
    }

    pub fn tree_page_size(&self, entries: usize) {
        self.state.faults.lock().expect("faults").tree_page = Some(entries.max(1));
    }
}

fn status(code: StatusCode, headers: &[(&str, String)]) -> Response {
    let mut response = Response::builder().status(code);
    for (name, value) in headers {
        response = response.header(*name, value);
    }
    response.body(Body::empty()).expect("response")
}

fn token_state(headers: &HeaderMap) -> Option<bool> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(|v| v == format!("Bearer {TOKEN}"))
}

async fn handle(
    State(state): State<HubState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path().to_string();
    let range = headers.get("range").and_then(|v| v.to_str().ok()).map(str::to_string);
    let token_ok = token_state(&headers);
    state.log.lock().expect("log").push(Logged {
        method: method.to_string(),
        path: path.clone(),
        range: range.clone(),
        token_ok,
    });

    if let Some(hash) = path.strip_prefix("/cdn/") {
        let signed = uri.query().is_some_and(|q| q.contains(CDN_SIGNATURE));
        if !signed || state.faults.lock().expect("faults").cdn_links_expired {
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>";
            return Response::builder()
                .status(StatusCode::FORBIDDEN)
                .header("content-type", "application/xml")
                .body(Body::from(body))
                .expect("response");
        }
        let file = state.repos.iter().flat_map(|r| r.files.iter()).find(|f| f.etag() == hash);
        return match file {
            Some(file) => body_response(&state, file, &method, range.as_deref(), &file.etag()),
            None => status(StatusCode::NOT_FOUND, &[]),
        };
    }
    let decoded = percent_decode(&path);
    if let Some(rest) = decoded.strip_prefix("/api/") {
        let Some((kind, rest)) = rest.split_once('/') else {
            return status(StatusCode::NOT_FOUND, &[]);
        };
        let (repo_id, revision, tree) =
            match (rest.split_once("/revision/"), rest.split_once("/tree/")) {
                (Some((repo_id, revision)), _) => (repo_id, revision, false),
                (None, Some((repo_id, revision))) => (repo_id, revision, true),
                (None, None) => return status(StatusCode::NOT_FOUND, &[]),
            };
        let Some(repo) = state.repos.iter().find(|r| r.kind == kind && r.repo_id == repo_id) else {
            return repo_not_found();
        };
        if let Some(denied) = private(&state, repo, token_ok) {
            return denied;
        }
        if revision != repo.commit && !repo.branches.iter().any(|b| b == revision) {
            return status(
                StatusCode::NOT_FOUND,
                &[
                    ("X-Error-Code", "RevisionNotFound".into()),
                    ("X-Error-Message", format!("Invalid rev id: {revision}")),
                ],
            );
        }
        if tree {
            return tree_page(&state, repo, &uri);
        }
        let siblings: Vec<_> =
            repo.files.iter().map(|f| serde_json::json!({ "rfilename": f.name })).collect();
        let body = serde_json::json!({ "id": repo.repo_id, "sha": repo.commit, "siblings": siblings, "private": false, "gated": if repo.gated { serde_json::json!("manual") } else { serde_json::json!(false) } });
        return Response::builder()
            .header("content-type", "application/json; charset=utf-8")
            .body(Body::from(body.to_string()))
            .expect("response");
    }

    // /{repo}/resolve/{rev}/{file}, with `datasets/` before the repo for datasets.
    let (kind, rest) = match decoded.strip_prefix("/datasets/") {
        Some(rest) => ("datasets", rest.to_string()),
        None => ("models", decoded.trim_start_matches('/').to_string()),
    };
    let Some((repo_id, rest)) = rest.split_once("/resolve/") else {
        return status(StatusCode::NOT_FOUND, &[]);
    };
    let Some(repo) = state.repos.iter().find(|r| r.kind == kind && r.repo_id == repo_id) else {
        return repo_not_found();
    };
    if let Some(denied) = private(&state, repo, token_ok).or_else(|| gate(repo, token_ok)) {
        return denied;
    }
    let Some((revision, file_name)) = rest.split_once('/') else {
        return status(StatusCode::NOT_FOUND, &[]);
    };
    if revision != repo.commit && !repo.branches.iter().any(|b| b == revision) {
        return status(StatusCode::NOT_FOUND, &[("X-Error-Code", "RevisionNotFound".into())]);
    }
    let Some(file) = repo.files.iter().find(|f| f.name == file_name) else {
        return status(
            StatusCode::NOT_FOUND,
            &[
                ("X-Error-Code", "EntryNotFound".into()),
                ("X-Error-Message", "Entry not found".into()),
            ],
        );
    };
    if file.lfs {
        return status(
            StatusCode::FOUND,
            &[
                (
                    "Location",
                    format!(
                        "{}/cdn/{}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&{CDN_SIGNATURE}&X-Amz-SignedHeaders=host",
                        state.base,
                        file.etag()
                    ),
                ),
                ("X-Linked-Etag", format!("\"{}\"", file.etag())),
                ("X-Linked-Size", file.content.len().to_string()),
                ("X-Repo-Commit", repo.commit.clone()),
                // The ETag of the LFS pointer file itself, which clients must not use.
                ("ETag", "W/\"a1b2c3-pointer\"".into()),
                ("Content-Length", "0".into()),
            ],
        );
    }
    let mut response = body_response(&state, file, &method, range.as_deref(), &file.etag());
    response
        .headers_mut()
        .insert("X-Repo-Commit", HeaderValue::from_str(&repo.commit).expect("header"));
    response
}
