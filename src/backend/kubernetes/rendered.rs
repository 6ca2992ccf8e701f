//! The rendered objects of one deployment and their two printed forms: a `v1` List (JSON) and
//! a multi-document YAML stream, both in apply order.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::DynamicObject;
use serde::Serialize;

use super::errors::K8sError;

/// The objects of one deployment, in apply order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderedObjects {
    pub cache_pvc: Option<PersistentVolumeClaim>,
    /// The workload of single-node replicas.
    pub deployment: Option<Deployment>,
    /// The workload of multi-node replicas: a `leaderworkerset.x-k8s.io/v1` LeaderWorkerSet.
    pub leader_worker_set: Option<serde_json::Value>,
    pub service: Service,
    pub hpa: Option<HorizontalPodAutoscaler>,
    pub scaled_object: Option<serde_json::Value>,
    pub pdb: Option<PodDisruptionBudget>,
    pub service_monitor: Option<DynamicObject>,
}

impl RenderedObjects {
    /// Every object as JSON with `apiVersion` and `kind`, in apply order.
    pub fn to_values(&self) -> Result<Vec<serde_json::Value>, K8sError> {
        let mut values = Vec::new();
        let mut push =
            |value: Result<serde_json::Value, serde_json::Error>| -> Result<(), K8sError> {
                values.push(value.map_err(|err| K8sError::Render {
                    what: "objects".into(),
                    message: err.to_string(),
                })?);
                Ok(())
            };
        if let Some(pvc) = &self.cache_pvc {
            push(serde_json::to_value(pvc))?;
        }
        if let Some(deployment) = &self.deployment {
            push(serde_json::to_value(deployment))?;
        }
        if let Some(lws) = &self.leader_worker_set {
            push(Ok(lws.clone()))?;
        }
        push(serde_json::to_value(&self.service))?;
        if let Some(hpa) = &self.hpa {
            push(serde_json::to_value(hpa))?;
        }
        if let Some(scaled) = &self.scaled_object {
            push(Ok(scaled.clone()))?;
        }
        if let Some(pdb) = &self.pdb {
            push(serde_json::to_value(pdb))?;
        }
        if let Some(monitor) = &self.service_monitor {
            push(serde_json::to_value(monitor))?;
        }
        Ok(values)
    }

    /// A multi-document YAML stream, as `kubectl apply -f` takes it.
    pub fn to_yaml(&self) -> Result<String, K8sError> {
        values_to_yaml(&self.to_values()?)
    }
}

/// Objects as the `v1` `List` that `kubectl get -o json` prints and `kubectl apply -f` takes.
pub fn values_to_list(values: &[serde_json::Value]) -> serde_json::Value {
    serde_json::json!({"apiVersion": "v1", "kind": "List", "items": values})
}

pub fn values_to_yaml(values: &[serde_json::Value]) -> Result<String, K8sError> {
    let mut out = String::new();
    for value in values {
        out.push_str("---\n");
        let doc = serde_saphyr::to_string(value)
            .map_err(|err| K8sError::Render { what: "YAML".into(), message: err.to_string() })?;
        out.push_str(&doc);
        if !doc.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}
