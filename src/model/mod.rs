//! Plain data shared by every layer. Nothing in here does I/O, so any layer may depend on it.

pub mod autoscaler;
pub mod cache;
pub mod deployment;
pub mod endpoint;
pub mod gpu;
pub mod gpu_health;
pub mod gpu_logical;
pub mod labels;
pub mod recipe;
pub mod replica;

pub use autoscaler::AutoscalerStatus;
pub use deployment::{
    BackendEvent, BackendEventKind, BackendHealth, Capabilities, Deployment, GpuVendor,
    ReplicaState, rfc3339_unix_ms,
};
pub use deployment::{DeploymentSpec, ReplicaSpec};
pub use endpoint::{EndpointSample, EndpointState, EndpointUpdate, Percentiles, StartupPhase};
pub use recipe::{ArgValue, EngineArgs, EngineKind, Parallelism, Precision, Recipe};
pub use replica::{Replica, ReplicaHandle};
