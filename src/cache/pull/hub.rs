//! The Hub HTTP API calls a pull makes, as `huggingface_hub` makes them
//! (`hf_api.py` `repo_info`, `file_download.py` `get_hf_file_metadata`):
//! - `GET {endpoint}/api/{models|datasets|spaces}/{repo}/revision/{rev}`: `sha` and `siblings`;
//! - `GET {endpoint}/api/{..}/{repo}/tree/{commit}?recursive=true&expand=false`, following the
//!   `Link: <..>; rel="next"` pages (`hf_api.py` `list_repo_tree`, `utils/_pagination.py`): each
//!   file's size, git `oid`, `lfs {oid (sha256), size}` and `xetHash`, as `snapshot_download` lists;
//! - `HEAD {endpoint}/{prefix}{repo}/resolve/{commit}/{file}` with `Accept-Encoding: identity`,
//!   following only relative redirects (a renamed repo), and reading `X-Linked-Etag`/`ETag`,
//!   `X-Linked-Size`/`Content-Length` and `X-Repo-Commit` from the first absolute redirect
//!   (the CDN) or the final answer.

use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode};
use serde::Deserialize;

use crate::model::cache::RepoType;

use super::PullError;

#[derive(Debug, Clone, Deserialize)]
pub struct RepoInfo {
    pub sha: String,
    #[serde(default)]
    pub siblings: Vec<Sibling>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Sibling {
    pub rfilename: String,
}

/// One file of `list_repo_tree` (`RepoFile`: `path`, `size`, `oid`, `lfs`, `xetHash`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TreeFile {
    pub path: String,
    pub size: u64,
    /// The git blob id (of the LFS pointer for an LFS file).
    pub oid: String,
    #[serde(default)]
    pub lfs: Option<TreeLfs>,
    #[serde(default, rename = "xetHash")]
    pub xet_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TreeLfs {
    #[serde(rename = "oid")]
    pub sha256: String,
    pub size: u64,
}

#[derive(Deserialize)]
pub(crate) struct TreeItem {
    #[serde(rename = "type")]
    kind: String,
    #[serde(flatten)]
    rest: serde_json::Value,
}

#[derive(Debug, Clone)]
pub struct FileMetadata {
    pub etag: String,
    pub commit_hash: Option<String>,
    pub size: Option<u64>,
    /// Where to GET the bytes (the CDN location when the Hub redirected).
    pub location: String,
}

/// A Hub client with its endpoint and token. Cheap to clone.
#[derive(Clone)]
pub struct HubClient {
    endpoint: String,
    token: Option<String>,
    /// No automatic redirects: metadata requests follow only relative ones, by hand.
    no_redirect: reqwest::Client,
    /// Downloads follow redirects to the CDN; reqwest drops `Authorization` on a change of host.
    download: reqwest::Client,
}

impl std::fmt::Debug for HubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubClient")
            .field("endpoint", &self.endpoint)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

/// `quote(s, safe="")` for one URL path segment (a revision such as `refs/pr/1`).
fn quote_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A repo file path in a URL: each segment quoted, `/` kept.
fn quote_path(path: &str) -> String {
    path.split('/').map(quote_segment).collect::<Vec<_>>().join("/")
}

/// A transport error's causes, without the URL reqwest puts in its text: a CDN URL carries a
/// signed query string that must never reach a log or a screen.
pub fn transport_error(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = std::error::Error::source(cause);
    }
    text
}

/// The `next` URL of a `Link` header (`<url>; rel="next"`, as GitHub's pagination).
pub(crate) fn next_page(headers: &HeaderMap) -> Option<String> {
    let link = header_str(headers, "link")?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"));
        is_next.then(|| target.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

/// The files of one page of the tree listing (folders skipped).
pub(crate) fn tree_files(items: Vec<TreeItem>, url: &str) -> Result<Vec<TreeFile>, PullError> {
    let files = items.into_iter().filter(|item| item.kind == "file");
    files
        .map(|item| {
            serde_json::from_value(item.rest).map_err(|err| PullError::BadAnswer {
                url: url.to_string(),
                message: format!("a tree entry lacks `path`, `size` or `oid`: {err}"),
            })
        })
        .collect()
}

/// `W/"abc"` or `"abc"` -> `abc` (`_normalize_etag`).
pub fn normalize_etag(etag: &str) -> String {
    etag.trim_start_matches(['W', '/']).trim_matches('"').to_string()
}

/// The file's ETag as the Hub sends it (`X-Linked-Etag` for LFS files), if usable.
pub(crate) fn etag_of(headers: &HeaderMap) -> Option<String> {
    header_str(headers, "x-linked-etag")
        .or_else(|| header_str(headers, "etag"))
        .map(normalize_etag)
        .filter(|etag| !etag.is_empty() && !etag.contains('/'))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl HubClient {
    pub fn new(endpoint: &str, token: Option<String>) -> Result<HubClient, PullError> {
        let user_agent = concat!("aimdeck/", env!("CARGO_PKG_VERSION"));
        let build = |policy| {
            reqwest::Client::builder()
                .user_agent(user_agent)
                .redirect(policy)
                .connect_timeout(std::time::Duration::from_secs(10))
                .read_timeout(std::time::Duration::from_secs(30))
                .build()
                .map_err(|err| PullError::Http {
                    url: endpoint.to_string(),
                    message: err.to_string(),
                })
        };
        Ok(HubClient {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            token,
            no_redirect: build(reqwest::redirect::Policy::none())?,
            download: build(reqwest::redirect::Policy::limited(10))?,
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn authorize(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub fn resolve_url(
        &self,
        repo_type: RepoType,
        repo_id: &str,
        revision: &str,
        file: &str,
    ) -> String {
        let prefix = match repo_type {
            RepoType::Model => String::new(),
            other => format!("{}/", other.plural()),
        };
        format!(
            "{}/{prefix}{repo_id}/resolve/{}/{}",
            self.endpoint,
            quote_segment(revision),
            quote_path(file)
        )
    }

    /// The revision's commit hash and file list.
    pub async fn repo_info(
        &self,
        repo_type: RepoType,
        repo_id: &str,
        revision: &str,
    ) -> Result<RepoInfo, PullError> {
        let url = format!(
            "{}/api/{}/{repo_id}/revision/{}",
            self.endpoint,
            repo_type.plural(),
            quote_segment(revision)
        );
        let response =
            self.authorize(self.download.get(&url)).send().await.map_err(|err| {
                PullError::Http { url: url.clone(), message: transport_error(err) }
            })?;
        check_status(&response, repo_id, revision, &url)?;
        response.json::<RepoInfo>().await.map_err(|err| PullError::BadAnswer {
            url,
            message: format!("expected JSON with `sha` and `siblings`: {}", transport_error(err)),
        })
    }

    /// Every file of the commit, all pages (folders skipped), as `snapshot_download` lists them.
    pub async fn list_tree(
        &self,
        repo_type: RepoType,
        repo_id: &str,
        commit: &str,
    ) -> Result<Vec<TreeFile>, PullError> {
        let first = format!(
            "{}/api/{}/{repo_id}/tree/{}?recursive=true&expand=false",
            self.endpoint,
            repo_type.plural(),
            quote_segment(commit)
        );
        let mut files = Vec::new();
        let mut next = Some(first);
        // Pages hold up to 1000 entries; a bound on pages keeps a looping server from hanging us.
        for _ in 0..10_000 {
            let Some(url) = next.take() else { return Ok(files) };
            let response = self.authorize(self.download.get(&url)).send().await.map_err(|err| {
                PullError::Http { url: url.clone(), message: transport_error(err) }
            })?;
            check_status(&response, repo_id, commit, &url)?;
            next = next_page(response.headers());
            let items: Vec<TreeItem> =
                response.json().await.map_err(|err| PullError::BadAnswer {
                    url: url.clone(),
                    message: format!(
                        "expected a JSON list of tree entries: {}",
                        transport_error(err)
                    ),
                })?;
            files.extend(tree_files(items, &url)?);
        }
        Err(PullError::BadAnswer {
            url: self.endpoint.clone(),
            message: "the tree listing never ends".into(),
        })
    }

    /// `get_hf_file_metadata`: a HEAD that follows relative redirects only. Errors name the file
    /// as `label` (`repo/file@revision`), not by URL.
    pub async fn file_metadata(
        &self,
        url: &str,
        label: &str,
        repo_id: &str,
        revision: &str,
    ) -> Result<FileMetadata, PullError> {
        let mut current = url.to_string();
        for _ in 0..10 {
            let request = self
                .authorize(self.no_redirect.request(Method::HEAD, &current))
                .header(header::ACCEPT_ENCODING, "identity");
            let response = request.send().await.map_err(|err| PullError::Http {
                url: label.to_string(),
                message: transport_error(err),
            })?;
            let headers = response.headers();
            let location = header_str(headers, "location").map(str::to_string);
            let is_redirect = response.status().is_redirection();
            if is_redirect {
                if let Some(location) = &location
                    && location.starts_with('/')
                {
                    current = format!("{}{location}", origin(&current));
                    continue;
                }
            } else {
                check_status(&response, repo_id, revision, label)?;
            }
            let etag = etag_of(headers).ok_or_else(|| PullError::BadAnswer {
                    url: label.to_string(),
                    message: "no usable ETag header: the server is not a Hugging Face Hub, or a proxy strips headers"
                        .into(),
                })?;
            let size = header_str(headers, "x-linked-size")
                .or(if is_redirect { None } else { header_str(headers, "content-length") })
                .and_then(|v| v.parse().ok());
            return Ok(FileMetadata {
                etag,
                commit_hash: header_str(headers, "x-repo-commit").map(str::to_string),
                size,
                location: if is_redirect { location.unwrap_or(current) } else { current },
            });
        }
        Err(PullError::BadAnswer { url: label.to_string(), message: "too many redirects".into() })
    }

    /// A GET of the file bytes from `from` onwards (`Range: bytes=N-` when resuming). Errors
    /// name the file as `label`: `url` may be a signed CDN URL.
    pub async fn get_from(
        &self,
        url: &str,
        from: u64,
        label: &str,
    ) -> Result<reqwest::Response, PullError> {
        let mut request = self.download.get(url);
        // As `huggingface_hub`: the token goes to the Hub's own host only, never to the CDN host
        // an LFS file redirects to.
        if origin(url) == origin(&self.endpoint) {
            request = self.authorize(request);
        }
        if from > 0 {
            request = request.header(header::RANGE, format!("bytes={from}-"));
        }
        let response = request.send().await.map_err(|err| PullError::Http {
            url: label.to_string(),
            message: transport_error(err),
        })?;
        if response.status() == StatusCode::RANGE_NOT_SATISFIABLE {
            return Ok(response);
        }
        check_status(&response, "", "", label)?;
        Ok(response)
    }
}

fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// Maps Hub errors to what the user must do, with the Hub's own message (`X-Error-Message`);
/// `target` names what was asked for in any other error.
fn check_status(
    response: &reqwest::Response,
    repo_id: &str,
    revision: &str,
    target: &str,
) -> Result<(), PullError> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let headers = response.headers();
    let code = header_str(headers, "x-error-code").unwrap_or_default();
    let message = header_str(headers, "x-error-message").unwrap_or_default().to_string();
    let repo = repo_id.to_string();
    Err(match (status, code) {
        (_, "GatedRepo") => {
            PullError::Unauthorized { repo_id: repo, status: status.as_u16(), message }
        }
        // The Hub answers 401 for both a missing repo and a private one without a token.
        (_, "RepoNotFound") => PullError::RepoNotFound { repo_id: repo, message },
        (_, "RevisionNotFound") => {
            PullError::RevisionNotFound { repo_id: repo, revision: revision.to_string() }
        }
        (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, _) if !repo_id.is_empty() => {
            PullError::Unauthorized { repo_id: repo, status: status.as_u16(), message }
        }
        (StatusCode::NOT_FOUND, _) if !repo_id.is_empty() => {
            PullError::RepoNotFound { repo_id: repo, message }
        }
        _ => PullError::Status { url: target.to_string(), status: status.as_u16(), message },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_normalized_like_huggingface_hub() {
        assert_eq!(normalize_etag("\"abc\""), "abc");
        assert_eq!(normalize_etag("W/\"abc\""), "abc");
    }

    #[test]
    fn urls_quote_revisions_and_keep_file_folders() {
        let client = HubClient::new("http://h/", None).expect("client");
        assert_eq!(
            client.resolve_url(RepoType::Dataset, "o/n", "refs/pr/1", "a b/c.json"),
            "http://h/datasets/o/n/resolve/refs%2Fpr%2F1/a%20b/c.json"
        );
        assert_eq!(origin("http://127.0.0.1:8/x/y"), "http://127.0.0.1:8");
    }

    #[test]
    fn the_next_page_comes_from_the_link_header() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "link",
            "<http://h/api/models/o/n/tree/c?cursor=abc>; rel=\"next\"".parse().expect("header"),
        );
        assert_eq!(
            next_page(&headers).as_deref(),
            Some("http://h/api/models/o/n/tree/c?cursor=abc")
        );
        headers.insert("link", "<http://h/x>; rel=\"prev\"".parse().expect("header"));
        assert_eq!(next_page(&headers), None);
    }
}
