//! Operator interop. Read-only: NVIDIA NIM Operator (`apps.nvidia.com` NIMService, NIMCache)
//! and AMD AIM (`aim.eai.amd.com` AIMService, AIMTemplateCache) resources listed with their
//! state and conditions. Export: the same deployment as a NIMService, an AIMService or a
//! KServe InferenceService, so a recipe tried with aimdeck can be handed to an operator.

use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde::Serialize;
use serde_json::Value;

use super::client::KubeBackend;
use super::errors::{K8sError, call};

/// One operator-managed resource, for the endpoints and cache views.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperatorResourceRow {
    /// `NIMService`, `NIMCache`, `AIMService`, `AIMTemplateCache`.
    pub kind: String,
    pub name: String,
    pub namespace: String,
    /// `status.state` (NIM) or `status.status` (AIM), e.g. `Ready`, `Pending`, `Failed`.
    pub state: Option<String>,
    /// `Type=Status (reason): message`.
    pub conditions: Vec<String>,
    /// Image or model the resource serves or caches.
    pub source: Option<String>,
}

/// Which operator resource `render` exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OperatorTarget {
    NimService,
    AimService,
    Kserve,
}

impl std::str::FromStr for OperatorTarget {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "nimservice" => Ok(OperatorTarget::NimService),
            "aimservice" => Ok(OperatorTarget::AimService),
            "kserve" => Ok(OperatorTarget::Kserve),
            other => Err(format!("`{other}`: expected nimservice, aimservice or kserve")),
        }
    }
}

const KINDS: [(&str, &str, &str); 4] = [
    ("apps.nvidia.com", "NIMService", "nimservices"),
    ("apps.nvidia.com", "NIMCache", "nimcaches"),
    ("aim.eai.amd.com", "AIMService", "aimservices"),
    ("aim.eai.amd.com", "AIMTemplateCache", "aimtemplatecaches"),
];

fn text(value: &Value, pointer: &str) -> Option<String> {
    value.pointer(pointer).and_then(Value::as_str).map(str::to_string)
}

/// Reads state, conditions and source from an operator resource's JSON.
pub fn operator_row(kind: &str, object: &DynamicObject) -> OperatorResourceRow {
    let data = &object.data;
    let state = text(data, "/status/state").or_else(|| text(data, "/status/status"));
    let conditions = data
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(|conds| {
            conds
                .iter()
                .map(|c| {
                    let mut line = format!(
                        "{}={}",
                        c.get("type").and_then(Value::as_str).unwrap_or("?"),
                        c.get("status").and_then(Value::as_str).unwrap_or("?")
                    );
                    if let Some(reason) =
                        c.get("reason").and_then(Value::as_str).filter(|r| !r.is_empty())
                    {
                        line.push_str(&format!(" ({reason})"));
                    }
                    if let Some(message) =
                        c.get("message").and_then(Value::as_str).filter(|m| !m.is_empty())
                    {
                        line.push_str(&format!(": {message}"));
                    }
                    line
                })
                .collect()
        })
        .unwrap_or_default();
    let source = match (text(data, "/spec/image/repository"), text(data, "/spec/image/tag")) {
        (Some(repo), Some(tag)) => Some(format!("{repo}:{tag}")),
        (Some(repo), None) => Some(repo),
        _ => text(data, "/spec/source/hf/modelName")
            .or_else(|| text(data, "/spec/source/ngc/modelPuller"))
            .or_else(|| text(data, "/spec/model/image"))
            .or_else(|| text(data, "/spec/model/name"))
            .or_else(|| text(data, "/spec/templateName")),
    };
    OperatorResourceRow {
        kind: kind.to_string(),
        name: object.metadata.name.clone().unwrap_or_default(),
        namespace: object.metadata.namespace.clone().unwrap_or_default(),
        state,
        conditions,
        source,
    }
}

impl KubeBackend {
    /// NIM and AIM resources in the namespace, for whichever operators the cluster has.
    pub async fn operator_resources(&self) -> Result<Vec<OperatorResourceRow>, K8sError> {
        let apis = self.discover().await?;
        let mut rows = Vec::new();
        for (group, kind, plural) in KINDS {
            let version = match group {
                "apps.nvidia.com" => apis.nim_operator.clone(),
                _ => apis.aim_operator.clone(),
            };
            let Some(version) = version else { continue };
            let resource = ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk(group, &version, kind),
                plural,
            );
            let api: Api<DynamicObject> =
                Api::namespaced_with(self.client().clone(), self.namespace(), &resource);
            let full = format!("{plural}.{group}");
            match call(
                self.timeout(),
                self.action("list", &full, None),
                api.list(&ListParams::default()),
            )
            .await
            {
                Ok(list) => rows.extend(list.items.iter().map(|o| operator_row(kind, o))),
                // The group exists but this kind does not (older operator): nothing to list.
                Err(K8sError::NotFound(_)) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(rows)
    }
}

pub use super::export::{render_operator, render_operator_objects};
