//! Deleting a deployment: every object labelled as its own, with foreground propagation, each
//! with the resourceVersion it was listed at as a precondition (see [`super::apply`]).

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{ApiResource, DeleteParams, DynamicObject, ListParams, Preconditions};
use kube::{Api, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::apply::{
    guarded, leader_worker_set_resource, scaled_object_resource, service_monitor_resource,
};
use super::client::KubeBackend;
use super::errors::{K8sError, call};
use crate::model::labels;

/// What a delete removed, object by object (`Kind/name`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeleteReport {
    pub deleted: Vec<String>,
}

impl KubeBackend {
    async fn delete_labelled<K>(
        &self,
        name: &str,
        resource: &str,
        report: &mut DeleteReport,
    ) -> Result<(), K8sError>
    where
        K: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
            + Serialize
            + DeserializeOwned
            + Clone
            + std::fmt::Debug,
    {
        let api: Api<K> = Api::namespaced(self.client().clone(), self.namespace());
        self.delete_in(&api, &K::kind(&()), name, resource, report).await
    }

    /// Deletes a deployment's objects of a custom resource (KEDA, LeaderWorkerSet,
    /// ServiceMonitor), reached through the dynamic API.
    async fn delete_dynamic(
        &self,
        resource: &ApiResource,
        name: &str,
        plural: &str,
        report: &mut DeleteReport,
    ) -> Result<(), K8sError> {
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client().clone(), self.namespace(), resource);
        self.delete_in(&api, &resource.kind, name, plural, report).await
    }

    async fn delete_in<K>(
        &self,
        api: &Api<K>,
        kind: &str,
        name: &str,
        resource: &str,
        report: &mut DeleteReport,
    ) -> Result<(), K8sError>
    where
        K: Resource + Serialize + DeserializeOwned + Clone + std::fmt::Debug,
    {
        let params = ListParams::default().labels(&labels::selector(Some(name)));
        let list =
            call(self.timeout(), self.action("list", resource, None), api.list(&params)).await?;
        for object in list.items {
            let object_name = object.meta().name.clone().unwrap_or_default();
            let action = self.action("delete", resource, Some(&object_name));
            // Only the object as listed: one another writer changed since is a conflict.
            let object_name = object_name.as_str();
            let read = || async move {
                Ok(call(
                    self.timeout(),
                    self.action("get", resource, Some(object_name)),
                    api.get(object_name),
                )
                .await?
                .meta()
                .clone())
            };
            let delete = |seen: String| {
                let params = DeleteParams::foreground()
                    .preconditions(Preconditions { resource_version: Some(seen), uid: None });
                let action = action.clone();
                async move {
                    match call(self.timeout(), action, api.delete(object_name, &params)).await {
                        Ok(_) | Err(K8sError::NotFound(_)) => Ok(()),
                        Err(other) => Err(other),
                    }
                }
            };
            guarded(object.meta().clone(), read, delete).await?;
            report.deleted.push(format!("{kind}/{object_name}"));
        }
        Ok(())
    }

    /// Deletes every object labelled as this deployment's, with foreground propagation (pods
    /// go before their Deployment). A cache PVC is shared by deployments and holds downloads,
    /// so it is kept unless `include_cache`.
    pub async fn delete(&self, name: &str, include_cache: bool) -> Result<DeleteReport, K8sError> {
        let mut report = DeleteReport::default();
        let apis = self.discover().await?;
        if apis.keda {
            let resource = scaled_object_resource();
            self.delete_dynamic(&resource, name, "scaledobjects.keda.sh", &mut report).await?;
        }
        self.delete_labelled::<Deployment>(name, "deployments.apps", &mut report).await?;
        if apis.leader_worker_set {
            let resource = leader_worker_set_resource();
            let plural = "leaderworkersets.leaderworkerset.x-k8s.io";
            self.delete_dynamic(&resource, name, plural, &mut report).await?;
        }
        self.delete_labelled::<Service>(name, "services", &mut report).await?;
        if apis.autoscaling_v2 {
            self.delete_labelled::<HorizontalPodAutoscaler>(
                name,
                "horizontalpodautoscalers.autoscaling",
                &mut report,
            )
            .await?;
        }
        if apis.policy_v1 {
            self.delete_labelled::<PodDisruptionBudget>(
                name,
                "poddisruptionbudgets.policy",
                &mut report,
            )
            .await?;
        }
        if apis.service_monitor {
            let resource = service_monitor_resource();
            let plural = "servicemonitors.monitoring.coreos.com";
            self.delete_dynamic(&resource, name, plural, &mut report).await?;
        }
        if include_cache {
            self.delete_labelled::<PersistentVolumeClaim>(
                name,
                "persistentvolumeclaims",
                &mut report,
            )
            .await?;
        }
        if report.deleted.is_empty() {
            return Err(K8sError::NotFound(format!(
                "no aimdeck deployment `{name}` in namespace `{}` (nothing labelled {})",
                self.namespace(),
                labels::selector(Some(name))
            )));
        }
        Ok(report)
    }
}
