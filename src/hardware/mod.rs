//! GPU discovery for AMD and NVIDIA. Providers, tried in order and merged:
//! NVIDIA through `nvidia-smi` (query CSV and `topo -m`) or NVML (`nvml` feature);
//! AMD through `amd-smi` JSON, else `rocm-smi` JSON, else the KFD sysfs tree.
//! Parsers are pure functions of the tools' text, so tests and benchmarks feed them recorded
//! outputs through exactly the code path a real machine takes.

pub mod amd_health;
pub mod amd_smi;
pub mod amd_values;
pub mod discover;
pub mod islands;
pub mod kfd;
pub mod kfd_partitions;
pub mod merge;
pub mod node_labels;
pub mod nvidia;
pub mod nvidia_health;
pub mod nvidia_mig;
pub mod nvidia_topo;
#[cfg(feature = "nvml")]
pub mod nvml;
pub mod partitions;
pub mod pci;
pub mod pci_sysfs;
pub mod probe;
pub mod processes;
pub mod report;
pub mod rocm_smi;
pub mod runner;
pub mod xid;

pub use discover::discover;
pub use probe::ProbeConfig;
pub use report::ProviderReport;
