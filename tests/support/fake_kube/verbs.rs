//! The verbs on one resource as the API server answers them: list (with label and field
//! selectors), get, create, patch (by content type, server-side apply with field managers),
//! put and delete, each with dry run and the `Status` errors of the real server.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::FakeKube;
use super::resources::{ResourceDef, api_version, qualified};
use super::server::{Params, Target, parse_body};
use super::store::{ApiError, Key, apply_merge, fields_match, labels_match, merge_patch};
use super::validate::{is_strict, validate};

pub(super) fn list(
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

pub(super) fn get(
    fake: &FakeKube,
    target: &Target,
    name: &str,
) -> Result<(StatusCode, Value), ApiError> {
    let inner = fake.shared.inner.lock().expect("store");
    inner
        .get(&Key::new(target.def, &target.namespace, name))
        .cloned()
        .map(|v| (StatusCode::OK, v))
        .ok_or_else(|| ApiError::not_found(target.def, name))
}

pub(super) fn create(
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

pub(super) fn patch(
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

pub(super) fn put(
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

pub(super) fn delete(
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
