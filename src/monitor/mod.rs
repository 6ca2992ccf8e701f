//! Live data: pollers for endpoints and GPUs, and the bounded history they keep.

pub mod endpoint_history;
pub mod endpoint_poller;
pub mod gpu_history;
pub mod gpu_poller;
pub mod ring;
pub mod timeline;

pub use endpoint_history::{EndpointHistories, EndpointHistory, RecentError};
pub use endpoint_poller::{EndpointMonitor, EndpointTarget, PollConfig, TargetError};
pub use ring::Ring;
pub use timeline::{Metric, Timeline};
