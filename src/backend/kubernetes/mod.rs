//! The Kubernetes backend: a `DeploymentSpec` becomes a Deployment and a Service (plus an
//! optional cache PVC, HorizontalPodAutoscaler, PodDisruptionBudget and ServiceMonitor),
//! applied with server-side apply under the field manager `aimdeck`. Live state comes from
//! watches (`kube::runtime` reflectors), never from polling.
//!
//! The entry point is [`KubeBackend`]: build it with [`KubeBackend::connect`] from a
//! [`KubeTarget`] (kubeconfig, context, namespace, or in-cluster), then call its inherent
//! methods. Everything a view shows is a plain `Serialize` struct (`DeploymentRow`, `PodRow`,
//! `EventRow`, `NodeGpuInventory`, `CachePvcRow`, `OperatorResourceRow`, `KubeContextInfo`).

pub mod adapter;
pub mod apply;
pub mod autoscale;
pub mod autoscaler_watch;
pub mod cache_pvc;
pub mod client;
pub mod delete;
pub mod errors;
pub mod export;
pub mod logs;
pub mod lws_watch;
pub mod metrics_proxy;
pub mod multinode;
pub mod nodes;
pub mod operators;
pub mod pod;
pub mod render;
pub mod rendered;
pub mod rows;
pub mod to_model;
pub mod watch;

pub use adapter::KubernetesBackend;
pub use apply::{ApplyOptions, ApplyReport};
pub use cache_pvc::{CachePvcRow, PrepullProgress, PrepullRequest};
pub use client::{ClusterApis, KubeBackend, KubeContextInfo, KubeTarget, list_contexts};
pub use delete::DeleteReport;
pub use errors::K8sError;
pub use logs::{PodLogLine, PodLogOptions};
pub use nodes::NodeGpuInventory;
pub use operators::{OperatorResourceRow, OperatorTarget};
pub use render::{
    CacheVolume, HpaMetric, HpaOptions, K8sRenderOptions, KedaOptions, RenderedObjects,
    SecretKeyRef,
};
pub use watch::{ClusterSnapshot, ClusterWatch, DeploymentRow, EventRow, PodRow};
