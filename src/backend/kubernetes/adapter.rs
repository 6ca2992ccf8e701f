//! `KubernetesBackend`: the Kubernetes backend behind the shared [`Backend`] trait, so `deploy`,
//! `ls`, `scale`, `rm`, `logs`, `render` and the console work with `--backend k8s`.
//!
//! Opening it does no I/O: the cluster is connected on first use (kubeconfig, context and
//! namespace from [`KubeTarget`]) and the connection is kept. A missing kubeconfig is an error
//! of that first call, not of `registry::open`, so the console can open every backend.

use std::collections::{BTreeMap, HashMap, HashSet};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment as K8sDeployment;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;
use tokio::sync::OnceCell;

use super::autoscaler_watch::AutoscalerRow;
use super::errors::{Action, K8sError, call};
use super::render::{K8sRenderOptions, render};
use super::to_model::to_deployment;
use super::watch::{ClusterWatch, PodRow, pod_row};
use super::{ApplyOptions, KubeBackend, KubeTarget, PodLogOptions};
use crate::backend::{
    AsyncBackend, BackendError, BoxStream, Lifecycle, LogLine, LogOptions, ProgressTx, now_rfc3339,
    validate_spec,
};
use crate::model::{
    BackendEvent, BackendEventKind, BackendHealth, Capabilities, Deployment, DeploymentSpec, labels,
};

pub const NAME: &str = "k8s";

pub struct KubernetesBackend {
    target: KubeTarget,
    cluster: OnceCell<KubeBackend>,
    /// Set for the console: `list` reads reflectors that watches keep current (started on the
    /// first `list`) instead of listing the API server every time it is asked.
    live: bool,
    watch: OnceCell<ClusterWatch>,
}

impl KubernetesBackend {
    /// No I/O: the cluster is reached on the first call. `list` asks the API server each time
    /// (one-shot commands).
    pub fn new(target: KubeTarget) -> Self {
        KubernetesBackend { target, cluster: OnceCell::new(), live: false, watch: OnceCell::new() }
    }

    /// Like `new`, but `list` is served from watches (the console, which lists every 2 s:
    /// a namespace of 1,000 pods costs one watch, not a list per second).
    pub fn watching(target: KubeTarget) -> Self {
        KubernetesBackend { live: true, ..Self::new(target) }
    }

    /// An already connected cluster (tests, embedding).
    pub fn from_kube(kube: KubeBackend) -> Self {
        KubernetesBackend {
            cluster: OnceCell::new_with(Some(kube)),
            ..Self::new(KubeTarget::default())
        }
    }

    /// `list` from the reflectors. Until they have listed once it waits (up to the call
    /// timeout) or reports why the watches fail; afterwards it answers from memory, showing the
    /// last state seen while the watches retry after an error (as k9s does).
    async fn watched(&self) -> Result<Vec<Deployment>, BackendError> {
        let kube = self.kube().await?;
        let watch = self.watch.get_or_init(|| async { ClusterWatch::start(kube) }).await;
        if !watch.synced() {
            let deadline = tokio::time::Instant::now() + kube.timeout();
            let mut changes = watch.changes();
            while !watch.synced() {
                if let Some(err) = watch.error() {
                    return Err(BackendError::Other(format!(
                        "kubernetes: watching deployments and pods: {err}"
                    )));
                }
                match tokio::time::timeout_at(deadline, changes.changed()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => {
                        return Err(BackendError::Other("kubernetes: the watches stopped".into()));
                    }
                    Err(_) => {
                        return Err(BackendError::from(K8sError::Timeout {
                            what: "watch deployments.apps and pods".into(),
                            after: kube.timeout(),
                        }));
                    }
                }
            }
        }
        // A wedged API server leaves the reflectors' caches as they were, with nothing to say
        // so: one bounded `GET /version` per listing tells a live server from one that no
        // longer answers, so the console can mark the rows stale.
        let probe = Action { verb: "get", resource: "version", name: None, namespace: None };
        call(kube.timeout(), probe, kube.client().apiserver_version()).await?;
        // The autoscalers come with the snapshot, which matches HPAs and their events to
        // deployments; the Kubernetes objects themselves come from the reflectors.
        let mut autoscalers: HashMap<String, AutoscalerRow> = watch
            .snapshot()
            .deployments
            .into_iter()
            .filter_map(|row| Some((row.name, row.autoscaler?)))
            .collect();
        Ok(watch
            .deployments_with_pods()
            .into_iter()
            .map(|(deployment, pods)| {
                let mut out = to_deployment(&deployment, pods);
                out.autoscaler = autoscalers.remove(&out.name);
                out
            })
            .collect())
    }

    /// Where this backend connects: kubeconfig, context and namespace as given.
    pub fn target(&self) -> &KubeTarget {
        &self.target
    }

    /// The connected cluster, connecting on first use.
    pub async fn cluster(&self) -> Result<&KubeBackend, BackendError> {
        self.kube().await
    }

    async fn kube(&self) -> Result<&KubeBackend, BackendError> {
        self.cluster
            .get_or_try_init(|| KubeBackend::connect(&self.target))
            .await
            .map_err(BackendError::from)
    }

    fn render_options(&self, namespace: &str) -> K8sRenderOptions {
        K8sRenderOptions { namespace: namespace.to_string(), ..Default::default() }
    }

    async fn find(&self, name: Option<&str>) -> Result<Vec<Deployment>, BackendError> {
        let kube = self.kube().await?;
        let selector = labels::selector(name);
        let params = ListParams::default().labels(&selector);
        let deployments: Api<K8sDeployment> =
            Api::namespaced(kube.client().clone(), kube.namespace());
        let pods: Api<Pod> = Api::namespaced(kube.client().clone(), kube.namespace());
        let ns = Some(kube.namespace());
        let list = call(
            kube.timeout(),
            Action { verb: "list", resource: "deployments.apps", name: None, namespace: ns },
            deployments.list(&params),
        )
        .await?;
        let pod_list = call(
            kube.timeout(),
            Action { verb: "list", resource: "pods", name: None, namespace: ns },
            pods.list(&params),
        )
        .await?;
        let mut out: Vec<Deployment> = list
            .items
            .iter()
            .filter(|d| {
                d.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(labels::MANAGED_BY))
                    .map(String::as_str)
                    == Some(labels::MANAGED_BY_VALUE)
            })
            .map(|d| {
                let name = d.metadata.name.clone().unwrap_or_default();
                let mut rows: Vec<PodRow> = pod_list
                    .items
                    .iter()
                    .filter(|p| {
                        p.metadata.labels.as_ref().and_then(|l| l.get(labels::DEPLOYMENT))
                            == Some(&name)
                    })
                    .map(pod_row)
                    .collect();
                rows.sort_by(|a, b| a.name.cmp(&b.name));
                to_deployment(d, rows)
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn get_one(&self, name: &str) -> Result<Deployment, BackendError> {
        self.find(Some(name))
            .await?
            .into_iter()
            .find(|d| d.name == name)
            .ok_or_else(|| BackendError::NotFound(name.to_string()))
    }
}

fn not_found_or(name: &str) -> impl Fn(K8sError) -> BackendError + '_ {
    move |err| match err {
        K8sError::NotFound(_) => BackendError::NotFound(name.to_string()),
        err => BackendError::from(err),
    }
}

impl AsyncBackend for KubernetesBackend {
    fn name(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::LIFECYCLE
    }

    async fn health(&self) -> BackendHealth {
        let result = async {
            let kube = self.kube().await?;
            kube.namespaces().await?;
            Ok::<_, BackendError>(format!(
                "context {}, namespace {}",
                kube.context().unwrap_or("(current)"),
                kube.namespace()
            ))
        }
        .await;
        match result {
            Ok(detail) => BackendHealth { backend: NAME.into(), reachable: true, detail },
            Err(err) => {
                BackendHealth { backend: NAME.into(), reachable: false, detail: err.to_string() }
            }
        }
    }

    async fn list(&self) -> Result<Vec<Deployment>, BackendError> {
        if self.live { self.watched().await } else { self.find(None).await }
    }

    async fn get(&self, name: &str) -> Result<Deployment, BackendError> {
        self.get_one(name).await
    }

    async fn logs(
        &self,
        name: &str,
        options: LogOptions,
    ) -> Result<BoxStream<Result<LogLine, BackendError>>, BackendError> {
        let kube = self.kube().await?;
        let pods = kube.deployment_pods(name).await?;
        if pods.is_empty() {
            self.get_one(name).await?;
            return Err(BackendError::Other(format!("kubernetes: `{name}` has no pods yet")));
        }
        let index: BTreeMap<String, u32> =
            pods.iter().enumerate().map(|(i, p)| (p.clone(), i as u32)).collect();
        let params = PodLogOptions {
            follow: options.follow,
            tail_lines: options.tail.map(|n| n as i64),
            ..Default::default()
        };
        let mut streams = Vec::new();
        for (pod, i) in &index {
            if options.replica.is_some_and(|r| r != *i) {
                continue;
            }
            streams.push(kube.pod_logs(pod, &params).await?);
        }
        if streams.is_empty() {
            return Err(BackendError::Other(format!(
                "kubernetes: `{name}` has no replica {}",
                options.replica.unwrap_or_default()
            )));
        }
        let stream = futures::stream::select_all(streams).map(move |line| {
            line.map(|l| LogLine {
                replica: index.get(&l.pod).copied().unwrap_or_default(),
                text: l.text,
            })
            .map_err(BackendError::from)
        });
        Ok(Box::pin(stream) as BoxStream<_>)
    }

    async fn events(&self, name: Option<&str>) -> Result<BoxStream<BackendEvent>, BackendError> {
        let kube = self.kube().await?;
        let watch = ClusterWatch::start(kube);
        let changes = watch.changes();
        let filter = name.map(str::to_string);
        let seen: HashSet<String> = HashSet::new();
        let stream = futures::stream::unfold(
            (watch, changes, seen, filter),
            |(watch, mut changes, mut seen, filter)| async move {
                loop {
                    changes.changed().await.ok()?;
                    let snapshot = watch.snapshot();
                    let mut fresh = Vec::new();
                    for event in snapshot.events.iter().rev() {
                        let object_name =
                            event.object.split_once('/').map(|(_, n)| n).unwrap_or_default();
                        let deployment = snapshot
                            .deployments
                            .iter()
                            .find(|d| {
                                d.name == object_name
                                    || d.pods.iter().any(|p| p.name == object_name)
                            })
                            .map(|d| d.name.clone());
                        let Some(deployment) = deployment else { continue };
                        if filter.as_ref().is_some_and(|f| *f != deployment) {
                            continue;
                        }
                        let key = format!(
                            "{}|{}|{}|{}",
                            event.object, event.reason, event.count, event.message
                        );
                        if !seen.insert(key) {
                            continue;
                        }
                        fresh.push(BackendEvent {
                            when: event.last_seen.clone().unwrap_or_else(now_rfc3339),
                            backend: NAME.into(),
                            deployment,
                            replica: None,
                            kind: BackendEventKind::Other { action: event.reason.clone() },
                            message: format!(
                                "{} {}: {}",
                                event.object, event.reason, event.message
                            ),
                        });
                    }
                    if !fresh.is_empty() {
                        return Some((
                            futures::stream::iter(fresh),
                            (watch, changes, seen, filter),
                        ));
                    }
                }
            },
        )
        .flatten();
        Ok(Box::pin(stream) as BoxStream<_>)
    }

    fn render(&self, spec: &DeploymentSpec) -> Result<serde_json::Value, BackendError> {
        let namespace = match self.cluster.get() {
            Some(kube) => kube.namespace().to_string(),
            None => self.target.namespace.clone().unwrap_or_else(|| "default".into()),
        };
        let values = render(spec, &self.render_options(&namespace))
            .and_then(|objects| objects.to_values())
            .map_err(|e| BackendError::InvalidSpec(e.to_string()))?;
        Ok(super::render::values_to_list(&values))
    }
}

impl Lifecycle for KubernetesBackend {
    async fn create(
        &self,
        spec: &DeploymentSpec,
        progress: ProgressTx,
    ) -> Result<Deployment, BackendError> {
        validate_spec(spec)?;
        let kube = self.kube().await?;
        match self.get_one(&spec.name).await {
            Ok(_) => return Err(BackendError::AlreadyExists(spec.name.clone())),
            Err(BackendError::NotFound(_)) => {}
            Err(err) => return Err(err),
        }
        let objects = render(spec, &self.render_options(kube.namespace()))
            .map_err(|e| BackendError::InvalidSpec(e.to_string()))?;
        let report = kube.apply(&objects, ApplyOptions::default()).await?;
        if let Some(tx) = &progress {
            for object in report
                .applied
                .iter()
                .map(|o| format!("{o} applied"))
                .chain(report.skipped.iter().map(|s| format!("skipped {s}")))
            {
                let _ = tx.send(BackendEvent {
                    when: now_rfc3339(),
                    backend: NAME.into(),
                    deployment: spec.name.clone(),
                    replica: None,
                    kind: BackendEventKind::Other { action: "apply".into() },
                    message: object,
                });
            }
        }
        self.get_one(&spec.name).await
    }
    async fn scale(
        &self,
        name: &str,
        replicas: u32,
        _progress: ProgressTx,
    ) -> Result<Deployment, BackendError> {
        let kube = self.kube().await?;
        self.get_one(name).await?;
        kube.scale(name, replicas).await.map_err(not_found_or(name))?;
        self.get_one(name).await
    }
    async fn delete(&self, name: &str) -> Result<(), BackendError> {
        let kube = self.kube().await?;
        self.get_one(name).await?;
        kube.delete(name, false).await.map_err(not_found_or(name))?;
        Ok(())
    }
    async fn restart(&self, name: &str) -> Result<(), BackendError> {
        let kube = self.kube().await?;
        kube.restart(name).await.map_err(not_found_or(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{Backend, ErrorKind};

    /// The cluster's errors come back typed through the trait: a missing kubeconfig is an
    /// unreachable cluster, said as it always was.
    #[tokio::test]
    async fn a_missing_kubeconfig_is_a_typed_unreachable_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = KubeTarget {
            kubeconfig: Some(dir.path().join("no-such-kubeconfig")),
            ..Default::default()
        };
        let backend: &dyn Backend = &KubernetesBackend::new(target);
        let err = backend.list().await.expect_err("no cluster");
        assert!(matches!(err, BackendError::Kubernetes(K8sError::Config(_))), "{err:?}");
        assert_eq!(err.kind(), ErrorKind::Unreachable);
        assert!(err.to_string().starts_with("kubernetes: kubeconfig: "), "{err}");
    }
}
