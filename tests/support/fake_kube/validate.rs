//! The validation a real API server does on the objects aimdeck sends: names, the few
//! semantic checks aimdeck can trip (replicas, selectors, images, ports), and the strict
//! schema check of `schema.rs` (unless the request asks for `fieldValidation=Ignore|Warn`).

use serde_json::{Value, json};

use super::resources::ResourceDef;
use super::store::ApiError;

fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// The validation a real API server does on the fields aimdeck sets.
pub fn validate(
    def: &ResourceDef,
    name: &str,
    object: &Value,
    strict: bool,
) -> Result<(), ApiError> {
    if !is_dns_subdomain(name) {
        return Err(ApiError::invalid(
            def,
            name,
            "metadata.name",
            &format!("\"{name}\""),
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        ));
    }
    if def.kind == "Deployment" {
        if let Some(replicas) = object.pointer("/spec/replicas").and_then(Value::as_i64)
            && replicas < 0
        {
            return Err(ApiError::invalid(
                def,
                name,
                "spec.replicas",
                &replicas.to_string(),
                "must be greater than or equal to 0",
            ));
        }
        let selector = object.pointer("/spec/selector/matchLabels").cloned().unwrap_or(json!({}));
        let labels = object.pointer("/spec/template/metadata/labels").cloned().unwrap_or(json!({}));
        let matches = selector.as_object().is_some_and(|sel| {
            !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
        });
        if object.get("spec").is_some() && !matches {
            return Err(ApiError::invalid(
                def,
                name,
                "spec.template.metadata.labels",
                &labels.to_string(),
                "`selector` does not match template `labels`",
            ));
        }
        for (i, c) in object
            .pointer("/spec/template/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if c.get("image").and_then(Value::as_str).is_none_or(str::is_empty) {
                return Err(ApiError::invalid(
                    def,
                    name,
                    &format!("spec.template.spec.containers[{i}].image"),
                    "\"\"",
                    "Required value",
                ));
            }
        }
    }
    if def.kind == "Service" {
        for (i, p) in object
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
            if !(1..=65535).contains(&port) {
                return Err(ApiError::invalid(
                    def,
                    name,
                    &format!("spec.ports[{i}].port"),
                    &port.to_string(),
                    "must be between 1 and 65535, inclusive",
                ));
            }
        }
    }
    if strict {
        super::schema::validate_strict(def, name, object)?;
    }
    Ok(())
}

/// `fieldValidation` of a request: only an explicit `Ignore` or `Warn` skips the strict check.
pub fn is_strict(params: &std::collections::HashMap<String, String>) -> bool {
    !matches!(params.get("fieldValidation").map(String::as_str), Some("Ignore") | Some("Warn"))
}
