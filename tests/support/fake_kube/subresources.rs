//! Subresources: `scale` (apply or merge patch, with the `.spec.replicas` owner), pod logs
//! (`follow`, `previous`, `tailLines`) and the pod proxy to `/metrics` and `/health`.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::FakeKube;
use super::resources::ResourceDef;
use super::server::{Params, Target, error_response, parse_body, streaming};
use super::store::{ApiError, Key};
use super::verbs::{conflict, same_version};

pub fn scale(
    fake: &FakeKube,
    target: &Target,
    name: &str,
    method: &Method,
    content_type: &str,
    params: &Params,
    body: &[u8],
) -> Result<(StatusCode, Value), ApiError> {
    let key = Key::new(target.def, &target.namespace, name);
    let mut inner = fake.shared.inner.lock().expect("store");
    let Some(mut object) = inner.get(&key).cloned() else {
        return Err(ApiError::not_found(target.def, name));
    };
    if method != Method::GET {
        let request = parse_body(body)?;
        same_version(target.def, name, request.pointer("/metadata/resourceVersion"), &object)?;
        let replicas = request.pointer("/spec/replicas").and_then(Value::as_i64);
        if let Some(replicas) = replicas {
            if replicas < 0 {
                let scale_def = ResourceDef { group: "autoscaling", kind: "Scale", ..*target.def };
                return Err(ApiError::invalid(
                    &scale_def,
                    name,
                    "spec.replicas",
                    &replicas.to_string(),
                    "must be greater than or equal to 0",
                ));
            }
            let manager = params.get("fieldManager").cloned().unwrap_or_else(|| "unknown".into());
            let owner_key = (target.namespace.clone(), name.to_string());
            let is_apply = content_type.starts_with("application/apply-patch");
            let force = params.get("force").is_some_and(|f| f == "true");
            if let Some(owner) = inner.replicas_owner.get(&owner_key)
                && is_apply
                && !force
                && owner != &manager
                && object.pointer("/spec/replicas").and_then(Value::as_i64) != Some(replicas)
            {
                return Err(conflict(target.def, name, owner, ".spec.replicas"));
            }
            if params.get("dryRun").is_none_or(|d| d != "All") {
                object["spec"]["replicas"] = json!(replicas);
                inner.replicas_owner.insert(owner_key, manager);
                object = inner.update(&key, object, &fake.shared.changes);
            }
        }
    }
    let selector = object
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    Ok((
        StatusCode::OK,
        json!({
            "kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {"name": name, "namespace": target.namespace, "uid": object["metadata"]["uid"], "resourceVersion": object["metadata"]["resourceVersion"], "creationTimestamp": object["metadata"]["creationTimestamp"]},
            "spec": {"replicas": object.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
            "status": {"replicas": object.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": selector},
        }),
    ))
}

pub fn pod_log(fake: &FakeKube, target: &Target, name: &str, params: &Params) -> Response {
    let inner = fake.shared.inner.lock().expect("store");
    if inner.get(&Key::new(target.def, &target.namespace, name)).is_none() {
        return error_response(ApiError::not_found(target.def, name));
    }
    let logs =
        inner.logs.get(&(target.namespace.clone(), name.to_string())).cloned().unwrap_or_default();
    let previous = params.get("previous").is_some_and(|p| p == "true");
    let container = params.get("container").cloned().unwrap_or_else(|| "engine".into());
    let mut lines = if previous {
        match logs.previous {
            Some(lines) => lines,
            None => {
                return error_response(ApiError {
                    code: 400,
                    reason: "BadRequest",
                    message: format!(
                        "previous terminated container \"{container}\" in pod \"{name}\" not found"
                    ),
                    details: json!({}),
                });
            }
        }
    } else {
        logs.current
    };
    if let Some(tail) = params.get("tailLines").and_then(|t| t.parse::<usize>().ok()) {
        let skip = lines.len().saturating_sub(tail);
        lines.drain(..skip);
    }
    let follow = params.get("follow").is_some_and(|f| f == "true") && !previous;
    let mut subscription = fake.shared.log_lines.subscribe();
    let shared = fake.shared.clone();
    let (ns, pod) = (target.namespace.clone(), name.to_string());
    drop(inner);
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    tokio::spawn(async move {
        for line in lines {
            if tx.send(Bytes::from(format!("{line}\n"))).await.is_err() {
                return;
            }
        }
        if !follow {
            return;
        }
        loop {
            tokio::select! {
                msg = subscription.recv() => match msg {
                    Ok((n, p, line)) if n == ns && p == pod => {
                        if tx.send(Bytes::from(format!("{line}\n"))).await.is_err() { return; }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                },
                _ = tokio::time::sleep(Duration::from_millis(200)) => {
                    let gone = shared.inner.lock().map(|i| !i.pod_created.contains_key(&(ns.clone(), pod.clone()))).unwrap_or(true);
                    if gone { return; }
                }
            }
        }
    });
    streaming(rx, "text/plain")
}

pub fn pod_proxy(fake: &FakeKube, target: &Target, name_port: &str) -> Response {
    let (name, port) = name_port.split_once(':').unwrap_or((name_port, "80"));
    let inner = fake.shared.inner.lock().expect("store");
    let Some(pod) = inner.get(&Key::new(target.def, &target.namespace, name)).cloned() else {
        return error_response(ApiError::not_found(target.def, name));
    };
    let running = pod.pointer("/status/phase").and_then(Value::as_str) == Some("Running");
    let ip = pod.pointer("/status/podIP").and_then(Value::as_str).unwrap_or("").to_string();
    if !running {
        return error_response(ApiError {
            code: 503,
            reason: "ServiceUnavailable",
            message: format!(
                "error trying to reach service: dial tcp {ip}:{port}: connect: connection refused"
            ),
            details: json!({}),
        });
    }
    match target.rest.as_str() {
        "metrics" => {
            let page = super::metrics_page(name);
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                page,
            )
                .into_response()
        }
        "health" => StatusCode::OK.into_response(),
        _ => (StatusCode::NOT_FOUND, "{\"detail\":\"Not Found\"}").into_response(),
    }
}
