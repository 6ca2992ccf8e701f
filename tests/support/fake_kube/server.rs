//! The HTTP side: routes Kubernetes REST paths to the store, with the real wire format for
//! lists, watches (newline-delimited JSON events with BOOKMARKs), patches by content type,
//! the scale and log subresources, the pod proxy, and `Status` errors.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::resources::{self, Optional, ResourceDef, api_version, qualified};
use super::store::{ApiError, Key, apply_merge, fields_match, labels_match, merge_patch};
use super::validate::{is_strict, validate};
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

fn list(
    fake: &FakeKube,
    target: &Target,
    params: &Params,
) -> Result<(StatusCode, Value), ApiError> {
    let inner = fake.shared.inner.lock().expect("store");
    let labels = params.get("labelSelector").cloned().unwrap_or_default();
    let fields = params.get("fieldSelector").cloned().unwrap_or_default();
    let mut items: Vec<Value> = inner
        .list(target.def, &target.namespace)
        .into_iter()
        .map(|(_, v)| v)
        .filter(|v| labels_match(&labels, &v["metadata"]["labels"]) && fields_match(&fields, v))
        .collect();
    let start: usize = params.get("continue").and_then(|c| c.parse().ok()).unwrap_or(0);
    let limit: usize =
        params.get("limit").and_then(|l| l.parse().ok()).filter(|l| *l > 0).unwrap_or(usize::MAX);
    let total = items.len();
    let end = start.saturating_add(limit).min(total);
    items = items.drain(start.min(total)..end).collect();
    for item in &mut items {
        // Items of a list carry no kind or apiVersion of their own.
        if let Some(map) = item.as_object_mut() {
            map.remove("kind");
            map.remove("apiVersion");
        }
    }
    let mut metadata = json!({"resourceVersion": inner.rv.to_string()});
    if end < total {
        metadata["continue"] = json!(end.to_string());
        metadata["remainingItemCount"] = json!(total - end);
    }
    Ok((
        StatusCode::OK,
        json!({"kind": format!("{}List", target.def.kind), "apiVersion": api_version(target.def), "metadata": metadata, "items": items}),
    ))
}

fn get(fake: &FakeKube, target: &Target, name: &str) -> Result<(StatusCode, Value), ApiError> {
    let inner = fake.shared.inner.lock().expect("store");
    inner
        .get(&Key::new(target.def, &target.namespace, name))
        .cloned()
        .map(|v| (StatusCode::OK, v))
        .ok_or_else(|| ApiError::not_found(target.def, name))
}

fn create(
    fake: &FakeKube,
    target: &Target,
    body: &[u8],
    dry_run: bool,
    strict: bool,
) -> Result<(StatusCode, Value), ApiError> {
    let mut object = parse_body(body)?;
    let mut inner = fake.shared.inner.lock().expect("store");
    let name = match object.pointer("/metadata/name").and_then(Value::as_str) {
        Some(name) => name.to_string(),
        None => match object.pointer("/metadata/generateName").and_then(Value::as_str) {
            Some(prefix) => format!("{prefix}{:05x}", fastrand::u32(..0xfffff)),
            None => {
                return Err(ApiError::invalid(
                    target.def,
                    "",
                    "metadata.name",
                    "\"\"",
                    "name or generateName is required",
                ));
            }
        },
    };
    validate(target.def, &name, &object, strict)?;
    let key = Key::new(target.def, &target.namespace, &name);
    if inner.get(&key).is_some() {
        return Err(ApiError {
            code: 409,
            reason: "AlreadyExists",
            message: format!("{} \"{name}\" already exists", qualified(target.def)),
            details: json!({"name": name, "group": target.def.group, "kind": target.def.plural}),
        });
    }
    if dry_run {
        object["metadata"]["name"] = json!(name);
        return Ok((StatusCode::CREATED, object));
    }
    let stored = inner.insert(target.def, key, object, &fake.shared.changes);
    Ok((StatusCode::CREATED, stored))
}

pub fn conflict(def: &ResourceDef, name: &str, manager: &str, field: &str) -> ApiError {
    ApiError {
        code: 409,
        reason: "Conflict",
        message: format!(
            "Apply failed with 1 conflict: conflict with \"{manager}\" using {}: {field}",
            api_version(def)
        ),
        details: json!({"name": name, "group": def.group, "kind": def.plural, "causes": [
            {"reason": "FieldManagerConflict", "message": format!("conflict with \"{manager}\" using {}", api_version(def)), "field": field}
        ]}),
    }
}

fn patch(
    fake: &FakeKube,
    target: &Target,
    name: &str,
    content_type: &str,
    params: &Params,
    body: &[u8],
    dry_run: bool,
) -> Result<(StatusCode, Value), ApiError> {
    let patch = parse_body(body)?;
    let manager = params.get("fieldManager").cloned();
    let force = params.get("force").is_some_and(|f| f == "true");
    let key = Key::new(target.def, &target.namespace, name);
    let mut inner = fake.shared.inner.lock().expect("store");
    let existing = inner.get(&key).cloned();
    let is_apply = content_type.starts_with("application/apply-patch");
    let replicas_key = (target.namespace.clone(), name.to_string());
    let (code, object) = if is_apply {
        let Some(manager) = manager.clone() else {
            return Err(ApiError {
                code: 422,
                reason: "Invalid",
                message: "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch".into(),
                details: json!({"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [{"reason": "FieldValueRequired", "message": "Required value: is required for apply patch", "field": "fieldManager"}]}),
            });
        };
        match existing {
            None => {
                validate(target.def, name, &patch, is_strict(params))?;
                if dry_run {
                    return Ok((StatusCode::CREATED, patch));
                }
                if patch.pointer("/spec/replicas").is_some() {
                    inner.replicas_owner.insert(replicas_key, manager);
                }
                let stored = inner.insert(target.def, key, patch, &fake.shared.changes);
                return Ok((StatusCode::CREATED, stored));
            }
            Some(mut object) => {
                same_version(
                    target.def,
                    name,
                    patch.pointer("/metadata/resourceVersion"),
                    &object,
                )?;
                if let Some(applied) = patch.pointer("/spec/replicas") {
                    let owner = inner.replicas_owner.get(&replicas_key).cloned();
                    let differs = object.pointer("/spec/replicas") != Some(applied);
                    if let Some(owner) = owner
                        && owner != manager
                        && differs
                        && !force
                    {
                        return Err(conflict(target.def, name, &owner, ".spec.replicas"));
                    }
                }
                apply_merge(&mut object, &patch);
                if patch.pointer("/spec/replicas").is_some() && !dry_run {
                    inner.replicas_owner.insert(replicas_key, manager);
                }
                (StatusCode::OK, object)
            }
        }
    } else if content_type.starts_with("application/merge-patch+json")
        || content_type.starts_with("application/strategic-merge-patch+json")
    {
        let Some(mut object) = existing else { return Err(ApiError::not_found(target.def, name)) };
        same_version(target.def, name, patch.pointer("/metadata/resourceVersion"), &object)?;
        merge_patch(&mut object, &patch);
        if patch.pointer("/spec/replicas").is_some() && !dry_run {
            inner.replicas_owner.insert(replicas_key, manager.unwrap_or_else(|| "unknown".into()));
        }
        (StatusCode::OK, object)
    } else {
        return Err(ApiError {
            code: 415,
            reason: "UnsupportedMediaType",
            message: format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {content_type})"
            ),
            details: json!({}),
        });
    };
    validate(target.def, name, &object, is_strict(params))?;
    if dry_run {
        return Ok((code, object));
    }
    let stored = inner.update(&key, object, &fake.shared.changes);
    Ok((code, stored))
}

fn put(
    fake: &FakeKube,
    target: &Target,
    name: &str,
    body: &[u8],
    dry_run: bool,
    strict: bool,
) -> Result<(StatusCode, Value), ApiError> {
    let object = parse_body(body)?;
    validate(target.def, name, &object, strict)?;
    let key = Key::new(target.def, &target.namespace, name);
    let mut inner = fake.shared.inner.lock().expect("store");
    let Some(existing) = inner.get(&key).cloned() else {
        return Err(ApiError::not_found(target.def, name));
    };
    same_version(target.def, name, object.pointer("/metadata/resourceVersion"), &existing)?;
    let mut merged = object;
    merged["metadata"]["uid"] = existing["metadata"]["uid"].clone();
    merged["metadata"]["creationTimestamp"] = existing["metadata"]["creationTimestamp"].clone();
    if dry_run {
        return Ok((StatusCode::OK, merged));
    }
    Ok((StatusCode::OK, inner.update(&key, merged, &fake.shared.changes)))
}

/// Optimistic concurrency as the API server does it: a write (update, patch, the scale
/// subresource) that carries a `metadata.resourceVersion` other than the stored one is a 409
/// Conflict.
pub(super) fn same_version(
    def: &ResourceDef,
    name: &str,
    sent: Option<&Value>,
    existing: &Value,
) -> Result<(), ApiError> {
    let sent = sent.and_then(Value::as_str);
    if sent.is_some_and(|rv| {
        Some(rv) != existing.pointer("/metadata/resourceVersion").and_then(Value::as_str)
    }) {
        return Err(ApiError {
            code: 409,
            reason: "Conflict",
            message: format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                qualified(def)
            ),
            details: json!({"name": name, "group": def.group, "kind": def.plural}),
        });
    }
    Ok(())
}

fn delete(
    fake: &FakeKube,
    target: &Target,
    name: &str,
    params: &Params,
    body: &[u8],
    dry_run: bool,
) -> Result<(StatusCode, Value), ApiError> {
    let options: Value = if body.is_empty() { json!({}) } else { parse_body(body)? };
    let policy = options
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| params.get("propagationPolicy").cloned())
        .unwrap_or_else(|| "Background".into());
    let body_dry_run = options
        .get("dryRun")
        .and_then(Value::as_array)
        .is_some_and(|d| d.iter().any(|v| v == "All"));
    let key = Key::new(target.def, &target.namespace, name);
    let mut inner = fake.shared.inner.lock().expect("store");
    let Some(mut object) = inner.get(&key).cloned() else {
        return Err(ApiError::not_found(target.def, name));
    };
    if let Some(wanted) = options.pointer("/preconditions/resourceVersion").and_then(Value::as_str)
    {
        let stored =
            object.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or_default();
        if wanted != stored {
            return Err(ApiError {
                code: 409,
                reason: "Conflict",
                message: format!(
                    "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: ResourceVersion in precondition: {wanted}, ResourceVersion in object meta: {stored}",
                    qualified(target.def)
                ),
                details: json!({"name": name, "group": target.def.group, "kind": target.def.plural}),
            });
        }
    }
    if dry_run || body_dry_run {
        return Ok((StatusCode::OK, object));
    }
    if policy == "Foreground" && target.def.kind == "Deployment" {
        // The object stays, marked, until the controller has removed its dependents.
        object["metadata"]["deletionTimestamp"] = json!(super::store::now());
        object["metadata"]["finalizers"] = json!(["foregroundDeletion"]);
        let stored = inner.update(&key, object, &fake.shared.changes);
        return Ok((StatusCode::OK, stored));
    }
    let removed = inner.remove(&key, &fake.shared.changes).unwrap_or(object);
    Ok((StatusCode::OK, removed))
}

pub type SharedFake = Arc<FakeKube>;
