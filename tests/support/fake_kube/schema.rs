//! Strict validation of request bodies, as kube-apiserver does with `fieldValidation=Strict`
//! (what `kubectl apply --validate=strict` sends, for client- and server-side apply):
//!
//! - custom resources against the CRD's `openAPIV3Schema`, recorded from the operator's own
//!   repository in `tests/fixtures/k8s-schemas/*.json` (repo, tag, commit and path inside);
//! - built-in kinds against the typed structs of `k8s-openapi` (the same Go types' OpenAPI):
//!   the body is decoded into the type and encoded back, and whatever did not survive the
//!   round trip is a field the type does not have, or a `null` where a value is required.
//!
//! Messages keep the real server's shapes: `strict decoding error: unknown field "spec.x"`
//! (400 BadRequest) and `spec.x: Invalid value: "null": must be of type object` (422 Invalid).
//! Not checked (documented in README.md): CEL `x-kubernetes-validations` and `pattern`.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::resources::ResourceDef;
use super::store::ApiError;

/// CRD fixtures by kind.
const CRD_FIXTURES: &[(&str, &str)] = &[
    ("NIMService", include_str!("../../fixtures/k8s-schemas/nimservice.json")),
    ("NIMCache", include_str!("../../fixtures/k8s-schemas/nimcache.json")),
    ("AIMService", include_str!("../../fixtures/k8s-schemas/aimservice.json")),
    ("InferenceService", include_str!("../../fixtures/k8s-schemas/inferenceservice.json")),
    ("LeaderWorkerSet", include_str!("../../fixtures/k8s-schemas/leaderworkerset.json")),
    ("ScaledObject", include_str!("../../fixtures/k8s-schemas/scaledobject.json")),
];

fn crd_schemas() -> &'static HashMap<&'static str, Value> {
    static SCHEMAS: OnceLock<HashMap<&'static str, Value>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        CRD_FIXTURES
            .iter()
            .map(|(kind, text)| {
                (
                    *kind,
                    serde_json::from_str(text)
                        .unwrap_or_else(|e| panic!("fixture for {kind}: {e}")),
                )
            })
            .collect()
    })
}

/// The recorded schema of a CRD kind at a version, if the fake has one.
pub fn crd_schema(kind: &str, version: &str) -> Option<&'static Value> {
    crd_schemas().get(kind).and_then(|doc| doc.pointer(&format!("/versions/{version}")))
}

/// What is wrong with a body, as a path and a reason.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    Unknown(String),
    Null { path: String, expected: String },
    Type { path: String, value: String, expected: String },
    Required(String),
    NotSupported { path: String, value: String, allowed: Vec<String> },
    Minimum { path: String, value: String, minimum: String },
}

/// Validates `object` strictly; the metadata is checked elsewhere (names) and is free-form.
pub fn validate_strict(def: &ResourceDef, name: &str, object: &Value) -> Result<(), ApiError> {
    let mut problems = Vec::new();
    if let Some(schema) = crd_schema(def.kind, def.version) {
        for field in ["spec"] {
            if let (Some(value), Some(sub)) =
                (object.get(field), schema.pointer(&format!("/properties/{field}")))
            {
                check(sub, value, field, &mut problems);
            }
        }
        if let Some(object) = object.as_object() {
            for key in object.keys() {
                if !["apiVersion", "kind", "metadata", "spec", "status"].contains(&key.as_str()) {
                    problems.push(Problem::Unknown(key.clone()));
                }
            }
        }
    } else {
        problems.extend(typed_round_trip(def.kind, object));
    }
    match problems.into_iter().next() {
        None => Ok(()),
        Some(problem) => Err(to_error(def, name, problem)),
    }
}

fn to_error(def: &ResourceDef, name: &str, problem: Problem) -> ApiError {
    match problem {
        Problem::Unknown(path) => ApiError {
            code: 400,
            reason: "BadRequest",
            message: format!(
                "{} in version \"{}\" cannot be handled as a {}: strict decoding error: unknown field \"{path}\"",
                def.kind, def.version, def.kind
            ),
            details: json!({}),
        },
        Problem::Null { path, expected } => {
            ApiError::invalid(def, name, &path, "\"null\"", &format!("must be of type {expected}"))
        }
        Problem::Type { path, value, expected } => {
            ApiError::invalid(def, name, &path, &value, &format!("must be of type {expected}"))
        }
        Problem::Required(path) => required(def, name, &path),
        Problem::NotSupported { path, value, allowed } => {
            let allowed: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
            ApiError::invalid(
                def,
                name,
                &path,
                &value,
                &format!("supported values: {}", allowed.join(", ")),
            )
        }
        Problem::Minimum { path, value, minimum } => ApiError::invalid(
            def,
            name,
            &path,
            &value,
            &format!("should be greater than or equal to {minimum}"),
        ),
    }
}

fn required(def: &ResourceDef, name: &str, path: &str) -> ApiError {
    let kind = if def.group.is_empty() {
        def.kind.to_string()
    } else {
        format!("{}.{}", def.kind, def.group)
    };
    ApiError {
        code: 422,
        reason: "Invalid",
        message: format!("{kind} \"{name}\" is invalid: {path}: Required value"),
        details: json!({"name": name, "group": def.group, "kind": def.kind, "causes": [
            {"reason": "FieldValueRequired", "message": "Required value", "field": path}
        ]}),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        other => format!("\"{other}\""),
    }
}

/// Walks `value` against an OpenAPI v3 structural schema.
fn check(schema: &Value, value: &Value, path: &str, problems: &mut Vec<Problem>) {
    let int_or_string =
        schema.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true);
    let expected = schema.get("type").and_then(Value::as_str);
    if value.is_null() {
        if schema.get("nullable").and_then(Value::as_bool) != Some(true)
            && (expected.is_some() || int_or_string)
        {
            problems.push(Problem::Null {
                path: path.into(),
                expected: expected.unwrap_or("integer or string").into(),
            });
        }
        return;
    }
    if int_or_string {
        if !matches!(type_name(value), "integer" | "string") {
            problems.push(Problem::Type {
                path: path.into(),
                value: shown(value),
                expected: "integer or string".into(),
            });
        }
        return;
    }
    if let Some(expected) = expected {
        let actual = type_name(value);
        let fits = actual == expected || (expected == "number" && actual == "integer");
        if !fits {
            problems.push(Problem::Type {
                path: path.into(),
                value: shown(value),
                expected: expected.into(),
            });
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let allowed = allowed
            .iter()
            .map(|a| a.as_str().map(str::to_string).unwrap_or_else(|| a.to_string()))
            .collect();
        problems.push(Problem::NotSupported { path: path.into(), value: shown(value), allowed });
    }
    if let (Some(minimum), Some(number)) =
        (schema.get("minimum").and_then(Value::as_f64), value.as_f64())
        && number < minimum
    {
        problems.push(Problem::Minimum {
            path: path.into(),
            value: value.to_string(),
            minimum: minimum.to_string(),
        });
    }
    match value {
        Value::Object(map) => {
            for key in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !map.contains_key(key) {
                    problems.push(Problem::Required(format!("{path}.{key}")));
                }
            }
            let preserve =
                schema.get("x-kubernetes-preserve-unknown-fields").and_then(Value::as_bool)
                    == Some(true);
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            for (key, child) in map {
                let child_path = format!("{path}.{key}");
                if let Some(sub) = properties.and_then(|p| p.get(key)) {
                    check(sub, child, &child_path, problems);
                } else if let Some(sub) = additional.filter(|a| a.is_object()) {
                    check(sub, child, &child_path, problems);
                } else if !preserve && additional.and_then(Value::as_bool) != Some(true) {
                    problems.push(Problem::Unknown(child_path));
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(sub, item, &format!("{path}[{i}]"), problems);
                }
            }
        }
        _ => {}
    }
}

/// Decodes into the `k8s-openapi` type and encodes back; what is lost was not a field.
fn typed_round_trip(kind: &str, object: &Value) -> Vec<Problem> {
    use k8s_openapi::api;
    fn trip<T: serde::de::DeserializeOwned + serde::Serialize>(
        object: &Value,
    ) -> Result<Value, String> {
        let typed: T = serde_json::from_value(object.clone()).map_err(|e| e.to_string())?;
        serde_json::to_value(typed).map_err(|e| e.to_string())
    }
    let back = match kind {
        "Deployment" => trip::<api::apps::v1::Deployment>(object),
        "Service" => trip::<api::core::v1::Service>(object),
        "PersistentVolumeClaim" => trip::<api::core::v1::PersistentVolumeClaim>(object),
        "HorizontalPodAutoscaler" => trip::<api::autoscaling::v2::HorizontalPodAutoscaler>(object),
        "PodDisruptionBudget" => trip::<api::policy::v1::PodDisruptionBudget>(object),
        "Job" => trip::<api::batch::v1::Job>(object),
        "Secret" => trip::<api::core::v1::Secret>(object),
        _ => return Vec::new(),
    };
    match back {
        Err(message) => {
            vec![Problem::Type { path: "body".into(), value: "\"…\"".into(), expected: message }]
        }
        Ok(back) => {
            let mut problems = Vec::new();
            lost_fields(object, &back, "", &mut problems);
            problems
        }
    }
}

fn lost_fields(sent: &Value, kept: &Value, path: &str, problems: &mut Vec<Problem>) {
    let join = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
    match (sent, kept) {
        (Value::Object(sent), Value::Object(kept)) => {
            for (key, value) in sent {
                // `kind`/`apiVersion` are not struct fields of k8s-openapi types.
                if path.is_empty() && (key == "kind" || key == "apiVersion") {
                    continue;
                }
                match kept.get(key) {
                    Some(back) => lost_fields(value, back, &join(key), problems),
                    None if value.is_null() => {
                        problems.push(Problem::Null { path: join(key), expected: "object".into() })
                    }
                    // Empty maps and lists may be dropped by the type without loss of meaning.
                    None if value.as_object().is_some_and(|m| m.is_empty())
                        || value.as_array().is_some_and(|a| a.is_empty()) => {}
                    None => problems.push(Problem::Unknown(join(key))),
                }
            }
        }
        (Value::Array(sent), Value::Array(kept)) => {
            for (i, (a, b)) in sent.iter().zip(kept).enumerate() {
                lost_fields(a, b, &format!("{path}[{i}]"), problems);
            }
        }
        _ => {}
    }
}
