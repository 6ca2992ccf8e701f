//! Pod logs: one pod, or every pod of a deployment merged, following or not, current or
//! previous container.

use futures::{AsyncBufReadExt, Stream, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ListParams, LogParams};
use serde::Serialize;

use super::client::KubeBackend;
use super::errors::{K8sError, call};
use super::render::CONTAINER_NAME;
use crate::model::labels;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodLogOptions {
    pub follow: bool,
    /// The previous (crashed) container's log: what a CrashLoopBackOff left behind.
    pub previous: bool,
    pub tail_lines: Option<i64>,
    pub since_seconds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodLogLine {
    pub pod: String,
    pub text: String,
}

pub type LogStream = std::pin::Pin<Box<dyn Stream<Item = Result<PodLogLine, K8sError>> + Send>>;

impl KubeBackend {
    /// Streams one pod's engine log, line by line.
    pub async fn pod_logs(
        &self,
        pod: &str,
        options: &PodLogOptions,
    ) -> Result<LogStream, K8sError> {
        let api: Api<Pod> = Api::namespaced(self.client().clone(), self.namespace());
        let params = LogParams {
            container: Some(CONTAINER_NAME.into()),
            follow: options.follow,
            previous: options.previous,
            tail_lines: options.tail_lines,
            since_seconds: options.since_seconds,
            ..Default::default()
        };
        let action = self.action("get", "pods/log", Some(pod));
        let reader = call(self.timeout(), action, api.log_stream(pod, &params)).await?;
        let pod = pod.to_string();
        let what = format!("reading the log of pod {pod}");
        Ok(Box::pin(
            reader.lines().map_ok(move |text| PodLogLine { pod: pod.clone(), text }).map_err(
                move |err| K8sError::Transport { what: what.clone(), message: err.to_string() },
            ),
        ))
    }

    /// Every pod of a deployment, merged as lines arrive.
    pub async fn deployment_logs(
        &self,
        name: &str,
        options: &PodLogOptions,
    ) -> Result<LogStream, K8sError> {
        let pods = self.deployment_pods(name).await?;
        if pods.is_empty() {
            return Err(K8sError::NotFound(format!(
                "no pods of deployment `{name}` in namespace `{}`",
                self.namespace()
            )));
        }
        let mut streams = Vec::new();
        for pod in pods {
            streams.push(self.pod_logs(&pod, options).await?);
        }
        Ok(Box::pin(futures::stream::select_all(streams)))
    }

    /// Names of a deployment's pods, sorted.
    pub async fn deployment_pods(&self, name: &str) -> Result<Vec<String>, K8sError> {
        let api: Api<Pod> = Api::namespaced(self.client().clone(), self.namespace());
        let params = ListParams::default().labels(&labels::selector(Some(name)));
        let list =
            call(self.timeout(), self.action("list", "pods", None), api.list(&params)).await?;
        let mut names: Vec<String> =
            list.items.into_iter().filter_map(|p| p.metadata.name).collect();
        names.sort();
        Ok(names)
    }
}
