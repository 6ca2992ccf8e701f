//! What one provider (a tool, NVML or the KFD sysfs tree) found.

use crate::model::gpu::{Gpu, Link};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderReport {
    /// `nvidia-smi`, `nvml`, `amd-smi`, `rocm-smi` or `kfd-sysfs`.
    pub source: String,
    pub gpus: Vec<Gpu>,
    pub links: Vec<Link>,
    pub warnings: Vec<String>,
}
