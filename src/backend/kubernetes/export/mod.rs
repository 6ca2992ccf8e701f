//! Exports of a `DeploymentSpec` to the operators' own resources, each written from the
//! operator's CRD schema (recorded in tests/fixtures/k8s-schemas/ with repo, tag and commit):
//! NVIDIA NIM Operator `NIMService`, AMD AIM Engine `AIMService`, KServe `InferenceService`.
//! Absent fields are left out (never `null`); docs/kubernetes.md lists, per target, where each
//! spec field goes and what the target cannot carry.

mod aim;
mod kserve;
mod nim;

use serde_json::{Value, json};

use super::errors::K8sError;
use super::multinode::nodes_per_replica;
use super::operators::OperatorTarget;
use super::render::{self, K8sRenderOptions};
use crate::model::DeploymentSpec;

/// Renders `spec` as the operator's resource.
pub fn render_operator(
    target: OperatorTarget,
    spec: &DeploymentSpec,
    options: &K8sRenderOptions,
) -> Result<Value, K8sError> {
    Ok(render_operator_objects(target, spec, options)?
        .pop()
        .expect("the operator resource is last"))
}

/// Every object of the export in apply order: a cache PVC where the target mounts one but
/// does not create it (KServe), then the operator's resource.
pub fn render_operator_objects(
    target: OperatorTarget,
    spec: &DeploymentSpec,
    options: &K8sRenderOptions,
) -> Result<Vec<Value>, K8sError> {
    // The same checks as the plain render (name, vendor, no inline token, node split).
    let objects = render::render(spec, options)?;
    let nodes = nodes_per_replica(spec, options)?;
    let context = Context { spec, options, nodes, metadata: metadata(spec, options) };
    match target {
        OperatorTarget::NimService => Ok(vec![nim::render(&context)?]),
        OperatorTarget::AimService => Ok(vec![aim::render(&context)?]),
        OperatorTarget::Kserve => {
            let mut values = Vec::new();
            if let Some(pvc) = &objects.cache_pvc {
                values.push(to_json(pvc)?);
            }
            values.push(kserve::render(&context)?);
            Ok(values)
        }
    }
}

/// What every export reads.
pub(crate) struct Context<'a> {
    pub spec: &'a DeploymentSpec,
    pub options: &'a K8sRenderOptions,
    /// Nodes per replica (> 1: multi-node).
    pub nodes: u32,
    pub metadata: Value,
}

fn metadata(spec: &DeploymentSpec, options: &K8sRenderOptions) -> Value {
    json!({"name": spec.name, "namespace": options.namespace, "labels": render::object_labels(spec)})
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, K8sError> {
    serde_json::to_value(value)
        .map_err(|e| K8sError::Render { what: "export".into(), message: e.to_string() })
}

pub(crate) fn refuse(what: &str, message: impl Into<String>) -> K8sError {
    K8sError::Render { what: what.into(), message: message.into() }
}

/// Sets `object[key]` only when there is a value: absent fields stay absent.
pub(crate) fn put(object: &mut Value, key: &str, value: Option<Value>) {
    if let Some(value) = value.filter(|v| !v.is_null()) {
        object[key] = value;
    }
}
