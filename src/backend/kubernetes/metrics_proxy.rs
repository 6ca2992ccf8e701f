//! Endpoint metrics through the API server's pod proxy, so no port-forward is needed:
//! `GET /api/v1/namespaces/NS/pods/NAME:PORT/proxy/metrics`.

use super::client::KubeBackend;
use super::errors::{K8sError, call};

/// The proxy path of `path` on a pod's port.
pub fn pod_proxy_path(namespace: &str, pod: &str, port: u16, path: &str) -> String {
    format!(
        "/api/v1/namespaces/{namespace}/pods/{pod}:{port}/proxy/{}",
        path.trim_start_matches('/')
    )
}

impl KubeBackend {
    /// The Prometheus text page of one replica (`/metrics` on the engine port).
    pub async fn pod_metrics_text(&self, pod: &str, port: u16) -> Result<String, K8sError> {
        self.pod_proxy_get(pod, port, "metrics").await
    }

    /// Any GET through the pod proxy (`health`, `v1/models`, `metrics`).
    pub async fn pod_proxy_get(
        &self,
        pod: &str,
        port: u16,
        path: &str,
    ) -> Result<String, K8sError> {
        let uri = pod_proxy_path(self.namespace(), pod, port, path);
        let request = http::Request::get(&uri).body(Vec::new()).map_err(|err| {
            K8sError::Transport { what: format!("GET {uri}"), message: err.to_string() }
        })?;
        let action = self.action("get", "pods/proxy", Some(pod));
        call(self.timeout(), action, self.client().request_text(request)).await
    }
}
