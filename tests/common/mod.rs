//! Shared by the GPU tests: fixture paths, the real binary with fake tools on `PATH`, and a
//! KFD sysfs tree writer.

#![allow(dead_code)]

pub mod kfd_tree;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub fn fixture(machine: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gpus").join(machine)
}

/// `aimdeck gpus ...` with only the named machines' fake tools on `PATH` (plus the system
/// directories the shell scripts need) and the KFD root pointed at `kfd_root` (or nowhere).
pub fn aimdeck_gpus(machines: &[&str], kfd_root: Option<&Path>) -> Command {
    let mut path: Vec<PathBuf> = machines.iter().map(|m| fixture(m).join("bin")).collect();
    path.push(PathBuf::from("/usr/bin"));
    path.push(PathBuf::from("/bin"));
    let mut command = Command::cargo_bin("aimdeck").expect("the aimdeck binary is built");
    command
        .arg("gpus")
        .env("PATH", std::env::join_paths(path).expect("joinable PATH"))
        .env("AIMDECK_KFD_ROOT", kfd_root.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("/nonexistent/aimdeck-test-kfd")))
        .env("AIMDECK_PCI_ROOT", "/nonexistent/aimdeck-test-pci")
        // The host's own kernel log and processes are not part of any recording.
        .env("AIMDECK_KERNEL_LOG", "/nonexistent/aimdeck-test-kmsg")
        .env("AIMDECK_PROC_ROOT", "/nonexistent/aimdeck-test-proc")
        .env_remove("AIMDECK_NVIDIA_SMI")
        .env_remove("AIMDECK_AMD_SMI")
        .env_remove("AIMDECK_ROCM_SMI")
        .env_remove("AIMDECK_GPU_TOOL_TIMEOUT_MS");
    command
}

/// Runs `aimdeck gpus --json`, expects success, returns the document.
pub fn gpus_json(machines: &[&str], kfd_root: Option<&Path>) -> serde_json::Value {
    let output = aimdeck_gpus(machines, kfd_root).arg("--json").output().expect("aimdeck runs");
    assert!(
        output.status.success(),
        "aimdeck gpus --json failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!("not JSON ({err}): {}", String::from_utf8_lossy(&output.stdout))
    })
}

pub const MIB: u64 = 1024 * 1024;
