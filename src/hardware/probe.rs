//! Where discovery looks: the tool programs, the KFD sysfs root, and how long a tool may run.
//! Tests and users point these at recorded data; by default the tools are found on `PATH`.

use std::path::PathBuf;
use std::time::Duration;

/// The real KFD topology root on Linux.
pub const DEFAULT_KFD_ROOT: &str = "/sys/class/kfd/kfd/topology";

#[derive(Debug, Clone, PartialEq)]
pub struct ProbeConfig {
    /// `nvidia-smi` program: a bare name is looked up on `PATH`.
    pub nvidia_smi: PathBuf,
    pub amd_smi: PathBuf,
    pub rocm_smi: PathBuf,
    /// The directory holding `nodes/` (the kernel's `/sys/class/kfd/kfd/topology`).
    pub kfd_root: PathBuf,
    /// The kernel's PCI device directory, for CPU affinity (`local_cpulist`).
    pub pci_root: PathBuf,
    /// A tool still running after this is killed and reported.
    pub tool_timeout: Duration,
    /// Read NVIDIA GPUs through NVML instead of `nvidia-smi` (needs the `nvml` feature).
    pub use_nvml: bool,
    /// The kernel log read for NVIDIA XID lines (`/dev/kmsg`, or a saved `dmesg`).
    pub kernel_log: PathBuf,
    /// Where `<pid>/cgroup` is read to place GPU processes in containers and pods.
    pub proc_root: PathBuf,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            nvidia_smi: PathBuf::from("nvidia-smi"),
            amd_smi: PathBuf::from("amd-smi"),
            rocm_smi: PathBuf::from("rocm-smi"),
            kfd_root: PathBuf::from(DEFAULT_KFD_ROOT),
            pci_root: PathBuf::from(super::pci_sysfs::DEFAULT_PCI_ROOT),
            tool_timeout: Duration::from_secs(5),
            use_nvml: false,
            kernel_log: PathBuf::from(super::xid::DEFAULT_KERNEL_LOG),
            proc_root: PathBuf::from("/proc"),
        }
    }
}

impl ProbeConfig {
    /// The defaults, overridden by `AIMDECK_NVIDIA_SMI`, `AIMDECK_AMD_SMI`,
    /// `AIMDECK_ROCM_SMI`, `AIMDECK_KFD_ROOT`, `AIMDECK_PCI_ROOT`, `AIMDECK_KERNEL_LOG`, `AIMDECK_PROC_ROOT`, `AIMDECK_GPU_TOOL_TIMEOUT_MS` and
    /// `AIMDECK_NVML=1` where set.
    pub fn from_env() -> Self {
        Self::from_lookup(|key| std::env::var_os(key).filter(|value| !value.is_empty()))
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<std::ffi::OsString>) -> Self {
        let mut config = ProbeConfig::default();
        if let Some(path) = lookup("AIMDECK_NVIDIA_SMI") {
            config.nvidia_smi = path.into();
        }
        if let Some(path) = lookup("AIMDECK_AMD_SMI") {
            config.amd_smi = path.into();
        }
        if let Some(path) = lookup("AIMDECK_ROCM_SMI") {
            config.rocm_smi = path.into();
        }
        if let Some(path) = lookup("AIMDECK_KFD_ROOT") {
            config.kfd_root = path.into();
        }
        if let Some(path) = lookup("AIMDECK_PCI_ROOT") {
            config.pci_root = path.into();
        }
        if let Some(path) = lookup("AIMDECK_KERNEL_LOG") {
            config.kernel_log = path.into();
        }
        if let Some(path) = lookup("AIMDECK_PROC_ROOT") {
            config.proc_root = path.into();
        }
        if let Some(ms) = lookup("AIMDECK_GPU_TOOL_TIMEOUT_MS")
            .and_then(|value| value.to_str().and_then(|text| text.trim().parse::<u64>().ok()))
        {
            config.tool_timeout = Duration::from_millis(ms.max(1));
        }
        config.use_nvml = lookup("AIMDECK_NVML").is_some_and(|value| value == "1");
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn env_overrides_only_what_is_set() {
        let config = ProbeConfig::from_lookup(|key| match key {
            "AIMDECK_AMD_SMI" => Some(OsString::from("/opt/rocm/bin/amd-smi")),
            "AIMDECK_GPU_TOOL_TIMEOUT_MS" => Some(OsString::from("250")),
            _ => None,
        });
        assert_eq!(config.amd_smi, PathBuf::from("/opt/rocm/bin/amd-smi"));
        assert_eq!(config.nvidia_smi, PathBuf::from("nvidia-smi"));
        assert_eq!(config.tool_timeout, Duration::from_millis(250));
        assert_eq!(config.kfd_root, PathBuf::from(DEFAULT_KFD_ROOT));
    }
}
