//! The Hub stand-in's tree listing (`/api/{..}/{repo}/tree/{rev}`), paged as the Hub pages it.

use axum::body::Body;
use axum::http::Uri;
use axum::response::Response;

use super::{FakeRepo, HubState, git_like_oid};

/// One page of `/api/{..}/{repo}/tree/{rev}`: files and folders (every level with
/// `recursive=true`, the top level otherwise), sorted by path, `Link` to the next page.
pub(super) fn tree_page(state: &HubState, repo: &FakeRepo, uri: &Uri) -> Response {
    let query = uri.query().unwrap_or_default();
    let param =
        |name: &str| query.split('&').find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='));
    let recursive = param("recursive").is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    let mut entries: Vec<(String, serde_json::Value)> = Vec::new();
    for file in &repo.files {
        let parts: Vec<&str> = file.name.split('/').collect();
        for depth in 1..parts.len() {
            let folder = parts[..depth].join("/");
            if (recursive || depth == 1) && !entries.iter().any(|(path, _)| *path == folder) {
                let oid = git_like_oid(folder.as_bytes(), "tree");
                entries.push((
                    folder.clone(),
                    serde_json::json!({"type": "directory", "oid": oid, "size": 0, "path": folder}),
                ));
            }
        }
        if recursive || parts.len() == 1 {
            let mut entry = serde_json::json!({"type": "file", "oid": file.git_oid(), "size": file.content.len(), "path": file.name});
            if file.lfs {
                entry["lfs"] = serde_json::json!({"oid": file.etag(), "size": file.content.len(), "pointerSize": 134});
            }
            entries.push((file.name.clone(), entry));
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let page = state.faults.lock().expect("faults").tree_page.unwrap_or(1000);
    let from: usize = param("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let items: Vec<_> = entries.iter().skip(from).take(page).map(|(_, e)| e.clone()).collect();
    let mut response =
        Response::builder().header("content-type", "application/json; charset=utf-8");
    if from + page < entries.len() {
        let path = uri.path();
        let next = format!(
            "<{}{path}?recursive={recursive}&expand=false&cursor={}>; rel=\"next\"",
            state.hub,
            from + page
        );
        response = response.header("Link", next);
    }
    response.body(Body::from(serde_json::Value::Array(items).to_string())).expect("response")
}
