//! API errors turned into messages a user can act on: a 403 names the verb and resource that
//! the Role lacks, a 422 names the field, a 409 says who owns the conflicting field, and a
//! timeout says how long we waited.

use std::time::Duration;

use kube::core::Status;

#[derive(Debug, thiserror::Error)]
pub enum K8sError {
    #[error("kubeconfig: {0}")]
    Config(String),
    #[error(
        "forbidden: aimdeck needs the `{verb}` verb on `{resource}` in {scope}, and the cluster refused it ({message}); docs/kubernetes.md lists the Role aimdeck needs"
    )]
    Forbidden { verb: String, resource: String, scope: String, message: String },
    #[error("invalid {what}: field `{field}`: {reason} ({message})")]
    Invalid { what: String, field: String, reason: String, message: String },
    #[error("conflict on {what}: {detail}")]
    Conflict { what: String, detail: String },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("timed out after {}s waiting for the API server ({what})", .after.as_secs_f64())]
    Timeout { what: String, after: Duration },
    #[error("API server refused {what}: HTTP {code} {reason}: {message}")]
    Api { what: String, code: u16, reason: String, message: String },
    #[error("cannot reach the API server ({what}): {message}")]
    Transport { what: String, message: String },
    #[error("cannot render {what}: {message}")]
    Render { what: String, message: String },
}

/// What was being done when an error came back, so the message can say it.
#[derive(Debug, Clone)]
pub struct Action<'a> {
    pub verb: &'a str,
    /// Plural resource with its group, e.g. `deployments.apps`, `pods`.
    pub resource: &'a str,
    pub name: Option<&'a str>,
    pub namespace: Option<&'a str>,
}

impl Action<'_> {
    fn what(&self) -> String {
        match self.name {
            Some(name) => format!("{} {} {name}", self.verb, self.resource),
            None => format!("{} {}", self.verb, self.resource),
        }
    }
}

/// Turns a kube error into a `K8sError` for `action`.
pub fn classify(err: kube::Error, action: &Action<'_>) -> K8sError {
    match err {
        kube::Error::Api(status) => from_status(&status, action),
        other => {
            let message = error_chain(&other);
            if message.contains("timed out") || message.contains("deadline has elapsed") {
                K8sError::Timeout { what: action.what(), after: Duration::ZERO }
            } else {
                K8sError::Transport { what: action.what(), message }
            }
        }
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        // hyper and kube repeat their cause in their own message; say each part once.
        let part = inner.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}

/// Builds the message from a `Status` body as the API server sends it.
pub fn from_status(status: &Status, action: &Action<'_>) -> K8sError {
    let message = status.message.clone();
    match status.code {
        403 => {
            // Real message: `deployments.apps "x" is forbidden: User "u" cannot create resource
            // "deployments" in API group "apps" in the namespace "ns"`.
            let verb = between(&message, "cannot ", " resource").unwrap_or(action.verb).to_string();
            let resource = between(&message, "resource \"", "\"")
                .map(|plural| match between(&message, "in API group \"", "\"") {
                    Some(group) if !group.is_empty() => format!("{plural}.{group}"),
                    _ => plural.to_string(),
                })
                .unwrap_or_else(|| action.resource.to_string());
            let scope = match between(&message, "in the namespace \"", "\"").or(action.namespace) {
                Some(ns) => format!("namespace `{ns}`"),
                None => "the cluster scope".to_string(),
            };
            K8sError::Forbidden { verb, resource, scope, message }
        }
        422 => {
            let cause = status.details.as_ref().and_then(|d| d.causes.first());
            let field = cause
                .map(|c| c.field.clone())
                .filter(|f| !f.is_empty())
                .unwrap_or_else(|| "unknown".into());
            let reason = cause
                .map(|c| c.message.clone())
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| status.reason.clone());
            K8sError::Invalid { what: action.what(), field, reason, message }
        }
        409 => {
            let detail = if status.reason == "AlreadyExists" {
                format!("{message}; it exists already (apply updates it, create does not)")
            } else if let Some(causes) =
                status.details.as_ref().map(|d| &d.causes).filter(|c| !c.is_empty())
            {
                // Server-side apply: each cause names a field and the manager that owns it.
                let owned: Vec<String> =
                    causes.iter().map(|c| format!("`{}` ({})", c.field, c.message)).collect();
                format!(
                    "fields owned by another field manager: {}; re-run with --force to take them over, or change them with that tool",
                    owned.join(", ")
                )
            } else {
                let name = action.name.unwrap_or("the object");
                format!("`{name}` was changed by another writer; try again ({message})")
            };
            K8sError::Conflict { what: action.what(), detail }
        }
        404 => K8sError::NotFound(format!("{}: {message}", action.what())),
        504 => K8sError::Timeout { what: action.what(), after: Duration::ZERO },
        code => K8sError::Api { what: action.what(), code, reason: status.reason.clone(), message },
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

/// Runs one API call under the backend's deadline and classifies its error.
pub async fn call<T>(
    timeout: Duration,
    action: Action<'_>,
    fut: impl std::future::Future<Output = Result<T, kube::Error>>,
) -> Result<T, K8sError> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(match classify(err, &action) {
            K8sError::Timeout { what, .. } => K8sError::Timeout { what, after: timeout },
            other => other,
        }),
        Err(_) => Err(K8sError::Timeout { what: action.what(), after: timeout }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(json: &str) -> Status {
        serde_json::from_str(json).expect("fixture parses")
    }

    const ACTION: Action<'static> = Action {
        verb: "patch",
        resource: "deployments.apps",
        name: Some("qwen"),
        namespace: Some("ml"),
    };

    #[test]
    fn forbidden_names_the_verb_and_resource_from_the_server_message() {
        let s = status(
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"deployments.apps \"qwen\" is forbidden: User \"system:serviceaccount:ml:viewer\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"ml\"","reason":"Forbidden","details":{"name":"qwen","group":"apps","kind":"deployments"},"code":403}"#,
        );
        let text = from_status(&s, &ACTION).to_string();
        assert!(text.contains("`patch` verb on `deployments.apps` in namespace `ml`"), "{text}");
    }

    #[test]
    fn invalid_names_the_field() {
        let s = status(
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Deployment.apps \"qwen\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0","reason":"Invalid","details":{"name":"qwen","group":"apps","kind":"Deployment","causes":[{"reason":"FieldValueInvalid","message":"Invalid value: -1: must be greater than or equal to 0","field":"spec.replicas"}]},"code":422}"#,
        );
        let text = from_status(&s, &ACTION).to_string();
        assert!(text.contains("field `spec.replicas`"), "{text}");
        assert!(text.contains("must be greater than or equal to 0"), "{text}");
    }

    #[test]
    fn apply_conflict_names_the_owner() {
        let s = status(
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Apply failed with 1 conflict: conflict with \"kubectl-scale\" using apps/v1: .spec.replicas","reason":"Conflict","details":{"name":"qwen","group":"apps","kind":"deployments","causes":[{"reason":"FieldManagerConflict","message":"conflict with \"kubectl-scale\" using apps/v1","field":".spec.replicas"}]},"code":409}"#,
        );
        let text = from_status(&s, &ACTION).to_string();
        assert!(text.contains("`.spec.replicas` (conflict with \"kubectl-scale\""), "{text}");
        assert!(text.contains("--force"), "{text}");
    }
}
