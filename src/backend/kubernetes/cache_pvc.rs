//! Model caches on the cluster: PVCs labelled `aimdeck.io/cache`, and a Job that pre-pulls a
//! model into one with `hf download` so replicas start without downloading.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Container, EnvVar, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimVolumeSource, PodSpec, PodTemplateSpec, Volume, VolumeMount,
    VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Api;
use kube::api::{ListParams, PostParams};
use serde::Serialize;

use super::client::KubeBackend;
use super::errors::{K8sError, call};
use super::render::SecretKeyRef;
use crate::model::labels;

/// Marks a PVC as an aimdeck model cache; the value is the cache layout (`huggingface`).
pub const CACHE_LABEL: &str = "aimdeck.io/cache";
/// Models pre-pulled into a cache PVC, comma separated.
pub const MODELS_ANNOTATION: &str = "aimdeck.io/models";
/// Marks a pre-pull Job and names the PVC it fills.
pub const PREPULL_LABEL: &str = "aimdeck.io/prepull-into";

/// One cache PVC, for the cache view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CachePvcRow {
    pub name: String,
    pub namespace: String,
    /// `Pending`, `Bound`, `Lost`.
    pub phase: String,
    pub requested: Option<String>,
    pub capacity: Option<String>,
    pub storage_class: Option<String>,
    pub access_modes: Vec<String>,
    pub models: Vec<String>,
}

pub fn render_cache_pvc(
    name: &str,
    namespace: &str,
    size: &str,
    storage_class: Option<&str>,
    access_mode: &str,
) -> Result<PersistentVolumeClaim, K8sError> {
    if !["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"]
        .contains(&access_mode)
    {
        return Err(K8sError::Render {
            what: "cache PVC".into(),
            message: format!(
                "access mode `{access_mode}`: expected ReadWriteOnce, ReadWriteMany, ReadOnlyMany or ReadWriteOncePod"
            ),
        });
    }
    Ok(PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(namespace.into()),
            labels: Some(BTreeMap::from([
                (labels::MANAGED_BY.to_string(), labels::MANAGED_BY_VALUE.to_string()),
                (CACHE_LABEL.to_string(), "huggingface".to_string()),
            ])),
            ..Default::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec![access_mode.into()]),
            storage_class_name: storage_class.map(str::to_string),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([("storage".to_string(), Quantity(size.into()))])),
                limits: None,
            }),
            ..Default::default()
        }),
        status: None,
    })
}

pub fn cache_row(pvc: &PersistentVolumeClaim) -> CachePvcRow {
    let spec = pvc.spec.as_ref();
    let status = pvc.status.as_ref();
    CachePvcRow {
        name: pvc.metadata.name.clone().unwrap_or_default(),
        namespace: pvc.metadata.namespace.clone().unwrap_or_default(),
        phase: status.and_then(|s| s.phase.clone()).unwrap_or_else(|| "Pending".into()),
        requested: spec
            .and_then(|s| s.resources.as_ref())
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get("storage"))
            .map(|q| q.0.clone()),
        capacity: status
            .and_then(|s| s.capacity.as_ref())
            .and_then(|c| c.get("storage"))
            .map(|q| q.0.clone()),
        storage_class: spec.and_then(|s| s.storage_class_name.clone()),
        access_modes: spec.and_then(|s| s.access_modes.clone()).unwrap_or_default(),
        models: pvc
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(MODELS_ANNOTATION))
            .map(|m| m.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect())
            .unwrap_or_default(),
    }
}

/// What to pre-pull into which PVC.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrepullRequest {
    pub pvc: String,
    pub model: String,
    pub revision: Option<String>,
    /// An image with `huggingface_hub` (the vLLM and SGLang images have it).
    pub image: String,
    pub hf_token_secret: Option<SecretKeyRef>,
}

/// The Job name for pulling `model` into `pvc`: stable, so a second request finds the first.
pub fn prepull_job_name(pvc: &str, model: &str) -> String {
    let slug: String = model
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let mut name = format!("prepull-{pvc}-{slug}");
    name.truncate(63);
    name.trim_end_matches('-').to_string()
}

pub fn render_prepull_job(request: &PrepullRequest, namespace: &str) -> Job {
    let mut args = vec!["download".to_string(), request.model.clone()];
    if let Some(revision) = &request.revision {
        args.push("--revision".into());
        args.push(revision.clone());
    }
    let mut env =
        vec![EnvVar { name: "HF_HOME".into(), value: Some("/cache".into()), value_from: None }];
    if let Some(secret) = &request.hf_token_secret {
        env.push(secret.hf_token_env());
    }
    let labels = BTreeMap::from([
        (labels::MANAGED_BY.to_string(), labels::MANAGED_BY_VALUE.to_string()),
        (PREPULL_LABEL.to_string(), request.pvc.clone()),
    ]);
    Job {
        metadata: ObjectMeta {
            name: Some(prepull_job_name(&request.pvc, &request.model)),
            namespace: Some(namespace.into()),
            labels: Some(labels.clone()),
            annotations: Some(BTreeMap::from([(
                labels::MODEL_ANNOTATION.to_string(),
                request.model.clone(),
            )])),
            ..Default::default()
        },
        spec: Some(JobSpec {
            backoff_limit: Some(3),
            ttl_seconds_after_finished: Some(3600),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(labels), ..Default::default() }),
                spec: Some(PodSpec {
                    restart_policy: Some("OnFailure".into()),
                    containers: vec![Container {
                        name: "prepull".into(),
                        image: Some(request.image.clone()),
                        command: Some(vec!["hf".into()]),
                        args: Some(args),
                        env: Some(env),
                        volume_mounts: Some(vec![VolumeMount {
                            name: "cache".into(),
                            mount_path: "/cache".into(),
                            ..Default::default()
                        }]),
                        ..Default::default()
                    }],
                    volumes: Some(vec![Volume {
                        name: "cache".into(),
                        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                            claim_name: request.pvc.clone(),
                            read_only: None,
                        }),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        status: None,
    }
}

/// Progress of a pre-pull, read from the tqdm line `hf download` prints:
/// `Fetching 17 files:  47%|████▋     | 8/17 [00:12<00:13,  1.50s/it]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PrepullProgress {
    pub files_done: u32,
    pub files_total: u32,
}

pub fn parse_prepull_progress(line: &str) -> Option<PrepullProgress> {
    // tqdm redraws with `\r`: the last segment is the current state.
    let line = line.rsplit('\r').find(|s| !s.trim().is_empty())?;
    let rest = &line[line.find("Fetching ")?..];
    let after_bar = rest.rsplit('|').next()?.trim();
    let counts = after_bar.split_whitespace().next()?;
    let (done, total) = counts.split_once('/')?;
    Some(PrepullProgress { files_done: done.parse().ok()?, files_total: total.parse().ok()? })
}

impl KubeBackend {
    /// PVCs labelled as aimdeck caches in the namespace.
    pub async fn cache_pvcs(&self) -> Result<Vec<CachePvcRow>, K8sError> {
        let api: Api<PersistentVolumeClaim> =
            Api::namespaced(self.client().clone(), self.namespace());
        let params = ListParams::default().labels(CACHE_LABEL);
        let list = call(
            self.timeout(),
            self.action("list", "persistentvolumeclaims", None),
            api.list(&params),
        )
        .await?;
        Ok(list.items.iter().map(cache_row).collect())
    }

    /// Starts (or finds) the Job pulling a model into a cache PVC; returns the Job name.
    pub async fn start_prepull(&self, request: &PrepullRequest) -> Result<String, K8sError> {
        // A Job on a missing claim would sit Pending forever: refuse before creating it.
        let claims: Api<PersistentVolumeClaim> =
            Api::namespaced(self.client().clone(), self.namespace());
        let action = self.action("get", "persistentvolumeclaims", Some(&request.pvc));
        if call(self.timeout(), action, claims.get_opt(&request.pvc)).await?.is_none() {
            return Err(K8sError::NotFound(format!(
                "no PersistentVolumeClaim `{}` in namespace `{}`: nothing was created; make one with `aimdeck k8s deploy --cache-pvc {} --cache-size SIZE` or kubectl, or see `aimdeck k8s caches`",
                request.pvc,
                self.namespace(),
                request.pvc
            )));
        }
        let job = render_prepull_job(request, self.namespace());
        let name = job.metadata.name.clone().unwrap_or_default();
        let api: Api<Job> = Api::namespaced(self.client().clone(), self.namespace());
        match call(
            self.timeout(),
            self.action("create", "jobs.batch", Some(&name)),
            api.create(&PostParams::default(), &job),
        )
        .await
        {
            Ok(_) | Err(K8sError::Conflict { .. }) => Ok(name),
            Err(other) => Err(other),
        }
    }

    /// The latest progress line of a pre-pull Job's pod, and whether the Job succeeded.
    pub async fn prepull_status(
        &self,
        job_name: &str,
    ) -> Result<(Option<PrepullProgress>, Option<bool>), K8sError> {
        let jobs: Api<Job> = Api::namespaced(self.client().clone(), self.namespace());
        let job = call(
            self.timeout(),
            self.action("get", "jobs.batch", Some(job_name)),
            jobs.get(job_name),
        )
        .await?;
        let status = job.status.unwrap_or_default();
        let finished = if status.succeeded.unwrap_or(0) > 0 {
            Some(true)
        } else if status.failed.unwrap_or(0) > job.spec.and_then(|s| s.backoff_limit).unwrap_or(6) {
            Some(false)
        } else {
            None
        };
        let pods: Api<k8s_openapi::api::core::v1::Pod> =
            Api::namespaced(self.client().clone(), self.namespace());
        let params = ListParams::default().labels(&format!("job-name={job_name}"));
        let list =
            call(self.timeout(), self.action("list", "pods", None), pods.list(&params)).await?;
        let mut progress = None;
        if let Some(pod) = list.items.last().and_then(|p| p.metadata.name.clone()) {
            let params = kube::api::LogParams { tail_lines: Some(50), ..Default::default() };
            if let Ok(text) = call(
                self.timeout(),
                self.action("get", "pods/log", Some(&pod)),
                pods.logs(&pod, &params),
            )
            .await
            {
                progress = text.lines().rev().find_map(parse_prepull_progress);
            }
        }
        Ok((progress, finished))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_comes_from_the_last_tqdm_redraw() {
        let line = "Fetching 17 files:   0%|          | 0/17 [00:00<?, ?it/s]\rFetching 17 files:  47%|████▋     | 8/17 [00:12<00:13,  1.50s/it]";
        assert_eq!(
            parse_prepull_progress(line),
            Some(PrepullProgress { files_done: 8, files_total: 17 })
        );
        assert_eq!(parse_prepull_progress("Downloading 'config.json' to '/cache/hub/...'"), None);
    }

    #[test]
    fn job_names_are_dns_labels() {
        let name = prepull_job_name(
            "models",
            "meta-llama/Llama-3.1-405B-Instruct-FP8-with-a-very-long-suffix",
        );
        assert!(name.len() <= 63 && !name.ends_with('-'), "{name}");
        assert!(
            name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{name}"
        );
    }
}
