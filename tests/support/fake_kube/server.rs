//! The HTTP side: routes Kubernetes REST paths to the store, with the real wire format for
//! lists, watches (newline-delimited JSON events with BOOKMARKs), patches by content type,
//! the scale and log subresources, the pod proxy, and `Status` errors.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::resources::{self, Optional, ResourceDef, qualified};
use super::store::ApiError;
use super::validate::is_strict;
use super::verbs::{create, delete, get, list, patch, put};
use super::{FakeKube, FakeState};

pub type Params = HashMap<String, String>;

pub fn json_response(code: StatusCode, value: &Value) -> Response {
    (code, [(header::CONTENT_TYPE, "application/json")], value.to_string()).into_response()
}

pub fn error_response(err: ApiError) -> Response {
    json_response(
        StatusCode::from_u16(err.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &err.status(),
    )
}

pub fn streaming(rx: mpsc::Receiver<Bytes>, content_type: &'static str) -> Response {
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], Body::from_stream(stream))
        .into_response()
}

/// What a request addresses once its path is parsed.
pub struct Target {
    pub def: &'static ResourceDef,
    pub namespace: String,
    pub name: Option<String>,
    pub subresource: Option<String>,
    /// For the pod proxy: the path after `proxy/`.
    pub rest: String,
}

pub async fn handle(
    State(state): State<FakeState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(params): Query<Params>,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let fake = &state.fake;
    let (hang, fail) = {
        let mut inner = fake.shared.inner.lock().expect("store");
        inner.requests.push(format!("{method} {}", uri));
        (
            inner.hangs.iter().any(|h| path.contains(h.as_str())),
            inner.failures.iter().any(|f| path.contains(f.as_str())),
        )
    };
    if hang {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    if fail {
        // The body kube-apiserver sends when its storage fails (apimachinery NewInternalError).
        return json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Internal error occurred: etcdserver: request timed out","reason":"InternalError","details":{"causes":[{"message":"etcdserver: request timed out"}]},"code":500}),
        );
    }
    // Like a real server with token auth: no token, no answer.
    if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some("Bearer fake-token")
    {
        return json_response(
            StatusCode::UNAUTHORIZED,
            &json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}),
        );
    }
    let enabled = |o: Optional| fake.options.optional.contains(&o);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["version"] => {
            return json_response(
                StatusCode::OK,
                &json!({"major":"1","minor":"33","gitVersion":"v1.33.0-fake","platform":"linux/amd64"}),
            );
        }
        ["api"] => {
            return json_response(
                StatusCode::OK,
                &resources::core_versions(&fake.addr.to_string()),
            );
        }
        ["apis"] => return json_response(StatusCode::OK, &resources::group_list(&enabled)),
        ["api", "v1"] => return discovery("", "v1", &enabled),
        ["apis", group, version] => return discovery(group, version, &enabled),
        _ => {}
    }
    let (group, version, rest): (&str, &str, &[&str]) = match segments.as_slice() {
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", group, version, rest @ ..] => (group, version, rest),
        _ => return not_found_path(&path),
    };
    let target = match parse_target(group, version, rest, &enabled) {
        Some(t) => t,
        None => return not_found_path(&path),
    };
    let watch = params.get("watch").is_some_and(|w| w == "true" || w == "1");
    let verb = match (&method, &target.name, watch) {
        (&Method::GET, None, true) => "watch",
        (&Method::GET, None, false) => "list",
        (&Method::GET, Some(_), _) => "get",
        (&Method::POST, _, _) => "create",
        (&Method::PATCH, _, _) => "patch",
        (&Method::PUT, _, _) => "update",
        (&Method::DELETE, _, _) => "delete",
        _ => "get",
    };
    let resource_name = match &target.subresource {
        Some(sub) => format!("{}/{sub}", target.def.plural),
        None => target.def.plural.to_string(),
    };
    if let Some(denied) = forbidden(fake, verb, &resource_name, &target) {
        return error_response(denied);
    }
    let dry_run = params.get("dryRun").is_some_and(|d| d == "All");
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let result = match (method.clone(), target.name.clone(), target.subresource.as_deref()) {
        (Method::GET, None, None) if watch => {
            return super::watch::watch_response(fake, &target, &params);
        }
        (Method::GET, None, None) => list(fake, &target, &params),
        (Method::POST, None, None) => create(fake, &target, &body, dry_run, is_strict(&params)),
        (Method::GET, Some(name), None) => get(fake, &target, &name),
        (Method::PATCH, Some(name), None) => {
            patch(fake, &target, &name, &content_type, &params, &body, dry_run)
        }
        (Method::PUT, Some(name), None) => {
            put(fake, &target, &name, &body, dry_run, is_strict(&params))
        }
        (Method::DELETE, Some(name), None) => delete(fake, &target, &name, &params, &body, dry_run),
        (_, Some(name), Some("scale")) => {
            super::subresources::scale(fake, &target, &name, &method, &content_type, &params, &body)
        }
        (Method::GET, Some(name), Some("log")) => {
            return super::subresources::pod_log(fake, &target, &name, &params);
        }
        (_, Some(name), Some("proxy")) => {
            return super::subresources::pod_proxy(fake, &target, &name);
        }
        _ => {
            return json_response(
                StatusCode::METHOD_NOT_ALLOWED,
                &json!({"kind":"Status","code":405,"reason":"MethodNotAllowed","status":"Failure","message":"the server does not allow this method on the requested resource"}),
            );
        }
    };
    match result {
        Ok((code, value)) => json_response(code, &value),
        Err(err) => error_response(err),
    }
}

fn discovery(group: &str, version: &str, enabled: &dyn Fn(Optional) -> bool) -> Response {
    match resources::resource_list(group, version, enabled) {
        Some(list) => json_response(StatusCode::OK, &list),
        None => not_found_path(&format!("/apis/{group}/{version}")),
    }
}

fn not_found_path(path: &str) -> Response {
    let _ = path;
    json_response(
        StatusCode::NOT_FOUND,
        &json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}),
    )
}

fn parse_target(
    group: &str,
    version: &str,
    rest: &[&str],
    enabled: &dyn Fn(Optional) -> bool,
) -> Option<Target> {
    let find = |plural: &str| resources::find(group, version, plural, enabled);
    let (namespace, plural, name, sub, tail): (&str, &str, Option<&str>, Option<&str>, &[&str]) =
        match rest {
            ["namespaces", ns, plural, name, sub, tail @ ..] => {
                (ns, plural, Some(name), Some(sub), tail)
            }
            ["namespaces", ns, plural, name] => (ns, plural, Some(name), None, &[]),
            ["namespaces", ns, plural] => (ns, plural, None, None, &[]),
            ["namespaces", name] => ("", "namespaces", Some(name), None, &[]),
            [plural, name, sub, tail @ ..] => ("", plural, Some(name), Some(sub), tail),
            [plural, name] => ("", plural, Some(name), None, &[]),
            [plural] => ("", plural, None, None, &[]),
            _ => return None,
        };
    let def = find(plural)?;
    if let Some(sub) = sub
        && !def.subresources.contains(&sub)
    {
        return None;
    }
    Some(Target {
        def,
        namespace: namespace.to_string(),
        name: name.map(str::to_string),
        subresource: sub.map(str::to_string),
        rest: tail.join("/"),
    })
}

fn forbidden(fake: &FakeKube, verb: &str, resource: &str, target: &Target) -> Option<ApiError> {
    let inner = fake.shared.inner.lock().expect("store");
    if !inner.denies.iter().any(|(v, r)| v == verb && r == resource) {
        return None;
    }
    let subject = match &target.name {
        Some(name) => format!("{} \"{name}\"", qualified(target.def)),
        None => qualified(target.def),
    };
    let scope = if target.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace \"{}\"", target.namespace)
    };
    Some(ApiError {
        code: 403,
        reason: "Forbidden",
        message: format!(
            "{subject} is forbidden: User \"system:serviceaccount:aimdeck:aimdeck\" cannot {verb} resource \"{resource}\" in API group \"{}\" {scope}",
            target.def.group
        ),
        details: json!({"name": target.name.clone().unwrap_or_default(), "group": target.def.group, "kind": target.def.plural}),
    })
}

pub fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).or_else(|_| serde_saphyr::from_slice::<Value>(body)).map_err(
        |err| ApiError {
            code: 400,
            reason: "BadRequest",
            message: format!("error decoding body: {err}"),
            details: json!({}),
        },
    )
}
