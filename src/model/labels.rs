//! The labels that make a backend the source of truth: aimdeck keeps no database, it finds its
//! deployments again by these keys on containers, processes' state files and Kubernetes objects.

pub const MANAGED_BY: &str = "aimdeck.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "aimdeck";
pub const DEPLOYMENT: &str = "aimdeck.io/deployment";
pub const ENGINE: &str = "aimdeck.io/engine";
pub const RECIPE: &str = "aimdeck.io/recipe";
pub const REPLICA: &str = "aimdeck.io/replica";
/// Comma-separated GPU indices held by one replica, e.g. `0,1,2,3`.
pub const GPUS: &str = "aimdeck.io/gpus";
/// The model id is free text (slashes, dots), so it travels as an annotation, not a label.
pub const MODEL_ANNOTATION: &str = "aimdeck.io/model";
/// The whole `DeploymentSpec` as JSON, so a restarted console can rebuild it exactly.
pub const SPEC_ANNOTATION: &str = "aimdeck.io/spec";

/// The one label filter that finds aimdeck's objects again, all of them or one deployment's:
/// `key=value` terms, as Docker's `label` filter takes them.
pub fn filter(deployment: Option<&str>) -> Vec<String> {
    let mut terms = vec![format!("{MANAGED_BY}={MANAGED_BY_VALUE}")];
    if let Some(name) = deployment {
        terms.push(format!("{DEPLOYMENT}={name}"));
    }
    terms
}

/// [`filter`] as a Kubernetes label selector (terms joined by `,`, which means "and").
pub fn selector(deployment: Option<&str>) -> String {
    filter(deployment).join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_filter_for_all_deployments_or_one() {
        assert_eq!(filter(None), vec!["aimdeck.io/managed-by=aimdeck"]);
        assert_eq!(
            selector(Some("qwen")),
            "aimdeck.io/managed-by=aimdeck,aimdeck.io/deployment=qwen"
        );
    }
}
