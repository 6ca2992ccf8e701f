//! Changing the cluster: server-side apply with the field manager `aimdeck`, scaling through
//! the `scale` subresource, foreground deletion of everything one deployment made, and
//! `kubectl rollout restart`.
//!
//! One writer per deployment: scale, restart and delete send back the resourceVersion they
//! read (optimistic concurrency), so a writer that changed the object in between makes ours a
//! 409 Conflict, "`NAME` was changed by another writer; try again", never a silent overwrite.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::{Api, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::client::KubeBackend;
use super::errors::{K8sError, call};
use super::render::RenderedObjects;

pub const FIELD_MANAGER: &str = "aimdeck";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// The API server validates and defaults everything but stores nothing (`dryRun=All`).
    pub dry_run: bool,
    /// Take over fields another field manager owns instead of failing with a conflict.
    pub force: bool,
}

/// What an apply did, object by object (`Kind/name`), for the CLI and the console.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    pub applied: Vec<String>,
    /// Objects left out and why (e.g. no ServiceMonitor CRD on this cluster).
    pub skipped: Vec<String>,
    pub dry_run: bool,
}

pub(super) fn service_monitor_resource() -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk("monitoring.coreos.com", "v1", "ServiceMonitor"))
}

pub fn leader_worker_set_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("leaderworkerset.x-k8s.io", "v1", "LeaderWorkerSet"),
        "leaderworkersets",
    )
}

pub(super) fn scaled_object_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("keda.sh", "v1alpha1", "ScaledObject"),
        "scaledobjects",
    )
}

/// How to install what a rendered object needs, for the refusal when the cluster lacks it.
pub const LWS_INSTALL_HINT: &str = "install LeaderWorkerSet: kubectl apply --server-side -f https://github.com/kubernetes-sigs/lws/releases/download/v0.10.0/manifests.yaml";
pub const KEDA_INSTALL_HINT: &str =
    "install KEDA: helm install keda kedacore/keda --namespace keda --create-namespace";

impl KubeBackend {
    fn params(&self, options: ApplyOptions) -> PatchParams {
        let mut params = PatchParams::apply(FIELD_MANAGER);
        params.force = options.force;
        params.dry_run = options.dry_run;
        // As `kubectl apply --validate=strict`: an unknown field is an error, not a warning.
        params.field_validation = Some(kube::api::ValidationDirective::Strict);
        params
    }

    async fn apply_one<K>(
        &self,
        object: &K,
        options: ApplyOptions,
        resource: &str,
    ) -> Result<String, K8sError>
    where
        K: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
            + Serialize
            + DeserializeOwned
            + Clone
            + std::fmt::Debug,
    {
        let name = object.meta().name.clone().unwrap_or_default();
        let api: Api<K> = Api::namespaced(self.client().clone(), self.namespace());
        let action = self.action("patch", resource, Some(&name));
        call(
            self.timeout(),
            action,
            api.patch(&name, &self.params(options), &Patch::Apply(object)),
        )
        .await?;
        Ok(format!("{}/{name}", K::kind(&())))
    }

    async fn apply_dynamic(
        &self,
        object: &serde_json::Value,
        resource: &ApiResource,
        options: ApplyOptions,
        plural: &str,
    ) -> Result<String, K8sError> {
        let object: DynamicObject = serde_json::from_value(object.clone()).map_err(|e| {
            K8sError::Render { what: resource.kind.clone(), message: e.to_string() }
        })?;
        let name = object.metadata.name.clone().unwrap_or_default();
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client().clone(), self.namespace(), resource);
        let action = self.action("patch", plural, Some(&name));
        call(
            self.timeout(),
            action,
            api.patch(&name, &self.params(options), &Patch::Apply(&object)),
        )
        .await?;
        Ok(format!("{}/{name}", resource.kind))
    }

    /// Applies every object of a deployment. A ServiceMonitor is applied only when the
    /// cluster has its CRD; otherwise it is reported as skipped.
    pub async fn apply(
        &self,
        objects: &RenderedObjects,
        options: ApplyOptions,
    ) -> Result<ApplyReport, K8sError> {
        let mut report = ApplyReport { dry_run: options.dry_run, ..Default::default() };
        if let Some(pvc) = &objects.cache_pvc {
            report.applied.push(self.apply_one(pvc, options, "persistentvolumeclaims").await?);
        }
        let needs_discovery = objects.hpa.is_some()
            || objects.service_monitor.is_some()
            || objects.leader_worker_set.is_some()
            || objects.scaled_object.is_some();
        let apis = if needs_discovery { Some(self.discover().await?) } else { None };
        // Refuse before anything is applied: a half-made deployment helps nobody.
        if objects.leader_worker_set.is_some()
            && !apis.as_ref().is_some_and(|a| a.leader_worker_set)
        {
            return Err(K8sError::Render {
                what: "LeaderWorkerSet".into(),
                message: format!(
                    "this deployment spans several nodes per replica, but the cluster does not serve leaderworkerset.x-k8s.io/v1 (`aimdeck k8s apis`); {LWS_INSTALL_HINT}"
                ),
            });
        }
        if objects.scaled_object.is_some() && !apis.as_ref().is_some_and(|a| a.keda) {
            return Err(K8sError::Render {
                what: "ScaledObject".into(),
                message: format!(
                    "--autoscale keda, but the cluster does not serve keda.sh/v1alpha1 (`aimdeck k8s apis`); {KEDA_INSTALL_HINT}"
                ),
            });
        }
        if let Some(deployment) = &objects.deployment {
            report.applied.push(self.apply_one(deployment, options, "deployments.apps").await?);
        }
        if let Some(lws) = &objects.leader_worker_set {
            report.applied.push(
                self.apply_dynamic(
                    lws,
                    &leader_worker_set_resource(),
                    options,
                    "leaderworkersets.leaderworkerset.x-k8s.io",
                )
                .await?,
            );
        }
        report.applied.push(self.apply_one(&objects.service, options, "services").await?);
        if let Some(scaled) = &objects.scaled_object {
            report.applied.push(
                self.apply_dynamic(
                    scaled,
                    &scaled_object_resource(),
                    options,
                    "scaledobjects.keda.sh",
                )
                .await?,
            );
        }
        if let Some(hpa) = &objects.hpa {
            if apis.as_ref().is_some_and(|a| a.autoscaling_v2) {
                report.applied.push(
                    self.apply_one(hpa, options, "horizontalpodautoscalers.autoscaling").await?,
                );
            } else {
                report.skipped.push(
                    "HorizontalPodAutoscaler: the cluster does not serve autoscaling/v2".into(),
                );
            }
        }
        if let Some(pdb) = &objects.pdb {
            report.applied.push(self.apply_one(pdb, options, "poddisruptionbudgets.policy").await?);
        }
        if let Some(monitor) = &objects.service_monitor {
            if apis.as_ref().is_some_and(|a| a.service_monitor) {
                let name = monitor.metadata.name.clone().unwrap_or_default();
                let api: Api<DynamicObject> = Api::namespaced_with(
                    self.client().clone(),
                    self.namespace(),
                    &service_monitor_resource(),
                );
                let action =
                    self.action("patch", "servicemonitors.monitoring.coreos.com", Some(&name));
                call(
                    self.timeout(),
                    action,
                    api.patch(&name, &self.params(options), &Patch::Apply(monitor)),
                )
                .await?;
                report.applied.push(format!("ServiceMonitor/{name}"));
            } else {
                report.skipped.push(
                    "ServiceMonitor: no monitoring.coreos.com ServiceMonitor CRD on this cluster"
                        .into(),
                );
            }
        }
        Ok(report)
    }

    /// Sets the replicas through the `scale` subresource (what `kubectl scale` does), as an
    /// apply by `aimdeck` so a later apply of the same deployment does not conflict.
    pub async fn scale(&self, name: &str, replicas: u32) -> Result<(), K8sError> {
        let apis = self.discover().await?;
        if apis.autoscaling_v2 {
            self.refuse_if_autoscaled(name).await?;
        }
        // A multi-node deployment is a LeaderWorkerSet: its replicas are groups.
        if apis.leader_worker_set {
            let api: Api<DynamicObject> = Api::namespaced_with(
                self.client().clone(),
                self.namespace(),
                &leader_worker_set_resource(),
            );
            let action =
                self.action("get", "leaderworkersets.leaderworkerset.x-k8s.io", Some(name));
            if call(self.timeout(), action, api.get_opt(name)).await?.is_some() {
                let patch = serde_json::json!({"spec": {"replicas": replicas}});
                let params =
                    PatchParams { field_manager: Some(FIELD_MANAGER.into()), ..Default::default() };
                let action = self.action(
                    "patch",
                    "leaderworkersets.leaderworkerset.x-k8s.io/scale",
                    Some(name),
                );
                call(self.timeout(), action, api.patch_scale(name, &params, &Patch::Merge(&patch)))
                    .await?;
                return Ok(());
            }
        }
        let read = || self.deployment_meta(name);
        guarded(read().await?, read, |seen: String| async move {
            self.scale_at(name, replicas, &seen).await
        })
        .await
    }

    async fn deployment_meta(&self, name: &str) -> Result<ObjectMeta, K8sError> {
        let api: Api<Deployment> = Api::namespaced(self.client().clone(), self.namespace());
        Ok(call(self.timeout(), self.action("get", "deployments.apps", Some(name)), api.get(name))
            .await?
            .metadata)
    }

    /// `scale` if the Deployment is still at resourceVersion `seen`, else a 409 Conflict.
    pub async fn scale_at(&self, name: &str, replicas: u32, seen: &str) -> Result<(), K8sError> {
        let api: Api<Deployment> = Api::namespaced(self.client().clone(), self.namespace());
        let patch = serde_json::json!({
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {"name": name, "namespace": self.namespace(), "resourceVersion": seen},
            "spec": {"replicas": replicas},
        });
        // The user asked for this number explicitly: take replicas over from any manager.
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let action = self.action("patch", "deployments.apps/scale", Some(name));
        call(self.timeout(), action, api.patch_scale(name, &params, &Patch::Apply(&patch))).await?;
        Ok(())
    }

    /// An HPA (aimdeck's, KEDA's `keda-hpa-NAME`, or anyone's) that targets `name` owns its
    /// replicas: a scale would be undone at its next sync, so say so instead of fighting it.
    async fn refuse_if_autoscaled(&self, name: &str) -> Result<(), K8sError> {
        let api: Api<HorizontalPodAutoscaler> =
            Api::namespaced(self.client().clone(), self.namespace());
        let action = self.action("list", "horizontalpodautoscalers.autoscaling", None);
        let hpas =
            call(self.timeout(), action, api.list(&kube::api::ListParams::default())).await?;
        let Some(hpa) = hpas
            .items
            .iter()
            .find(|h| h.spec.as_ref().is_some_and(|s| s.scale_target_ref.name == name))
        else {
            return Ok(());
        };
        let spec = hpa.spec.clone().unwrap_or_default();
        let hpa_name = hpa.metadata.name.clone().unwrap_or_default();
        let owner = if hpa_name.starts_with("keda-hpa-") {
            format!("KEDA (ScaledObject via HorizontalPodAutoscaler `{hpa_name}`)")
        } else {
            format!("HorizontalPodAutoscaler `{hpa_name}`")
        };
        Err(K8sError::Conflict {
            what: format!("scale {name}"),
            detail: format!(
                "{owner} owns its replicas (min {}, max {}); nothing was changed. Change min/max instead: re-apply with --autoscale and --min-replicas/--max-replicas",
                spec.min_replicas.unwrap_or(1),
                spec.max_replicas
            ),
        })
    }

    /// Restarts every pod of a deployment as `kubectl rollout restart` does: a new
    /// `kubectl.kubernetes.io/restartedAt` annotation on the pod template.
    pub async fn restart(&self, name: &str) -> Result<(), K8sError> {
        let read = || self.deployment_meta(name);
        guarded(
            read().await?,
            read,
            |seen: String| async move { self.restart_at(name, &seen).await },
        )
        .await
    }

    /// `restart` if the Deployment is still at resourceVersion `seen`, else a 409 Conflict.
    pub async fn restart_at(&self, name: &str, seen: &str) -> Result<(), K8sError> {
        let api: Api<Deployment> = Api::namespaced(self.client().clone(), self.namespace());
        // kube's `Api::restart` writes `kube.kubernetes.io/restartedAt`; write kubectl's key so
        // `kubectl rollout history` and other tools recognise the restart.
        let patch = serde_json::json!({"metadata": {"resourceVersion": seen}, "spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or(jiff::Timestamp::now()).to_string()
        }}}}});
        let params =
            PatchParams { field_manager: Some(FIELD_MANAGER.into()), ..Default::default() };
        let action = self.action("patch", "deployments.apps", Some(name));
        call(self.timeout(), action, api.patch(name, &params, &Patch::Strategic(patch))).await?;
        Ok(())
    }
}

/// Runs `write` with the resourceVersion of `seen` as its precondition. The controllers'
/// status updates move the resourceVersion but not the generation: a conflict from one of
/// those is retried (twice) with the version `read` finds; one where the generation moved
/// (another writer changed the spec) is returned, as the 409 it is.
pub(super) async fn guarded<R, W>(
    mut seen: ObjectMeta,
    read: impl Fn() -> R,
    write: impl Fn(String) -> W,
) -> Result<(), K8sError>
where
    R: Future<Output = Result<ObjectMeta, K8sError>>,
    W: Future<Output = Result<(), K8sError>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = write(seen.resource_version.clone().unwrap_or_default()).await;
        if attempt == 3 || !matches!(result, Err(K8sError::Conflict { .. })) {
            return result;
        }
        let now = read().await?;
        if now.generation != seen.generation {
            return result;
        }
        seen = now;
    }
}
