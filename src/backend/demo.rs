//! `aimdeck --demo`: a few `aimdeck-sim` engines run by the process backend on a recorded
//! 8-GPU topology, so a new user sees the whole console live on any machine within seconds.

use std::path::{Path, PathBuf};

use super::allocator::AllocatableGpu;
use super::process::ProcessBackend;
use super::{Backend, BackendError};
use crate::model::{Deployment, DeploymentSpec, EngineKind, GpuVendor, Parallelism, Precision};

/// The 8-GPU box the demo pretends to be: one fully connected XGMI island (an MI300X platform),
/// GPUs 0-3 on NUMA node 0 and 4-7 on node 1, render minors as KFD numbers them.
pub fn demo_gpus() -> Vec<AllocatableGpu> {
    (0..8)
        .map(|i| AllocatableGpu {
            numa_node: Some(i / 4),
            island: Some(0),
            render_minor: Some(128 + 8 * i),
            ..AllocatableGpu::plain(i)
        })
        .collect()
}

/// The simulator next to the running executable (`target/release/aimdeck-sim`), else on PATH.
pub fn sim_program() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("aimdeck-sim")))
        .filter(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from("aimdeck-sim"))
}

/// The demo set: an 8B model on 2 GPUs with vLLM, a small model with 2 SGLang replicas, and a
/// 70B model on 4 GPUs. Ports start at `base_port`.
pub fn demo_specs(sim: &Path, base_port: u16) -> Vec<DeploymentSpec> {
    let spec = |name: &str,
                model: &str,
                engine: EngineKind,
                tp: u32,
                replicas: u32,
                port: u16,
                precision: Precision| DeploymentSpec {
        command: Some(vec![sim.to_string_lossy().to_string()]),
        gpu_vendor: Some(GpuVendor::Amd),
        gpus_per_replica: tp,
        parallelism: Parallelism { tp, pp: 1, dp: 1 },
        precision: Some(precision),
        checkpoint_quant: None,
        ..DeploymentSpec::minimal(name, model, engine, replicas, port)
    };
    vec![
        spec(
            "llama-8b",
            "meta-llama/Llama-3.1-8B-Instruct",
            EngineKind::Vllm,
            2,
            1,
            base_port,
            Precision::Bf16,
        ),
        spec(
            "qwen-small",
            "Qwen/Qwen2.5-0.5B-Instruct",
            EngineKind::Sglang,
            1,
            2,
            base_port + 10,
            Precision::Bf16,
        ),
        spec(
            "llama-70b",
            "meta-llama/Llama-3.3-70B-Instruct",
            EngineKind::Vllm,
            4,
            1,
            base_port + 20,
            Precision::Fp8,
        ),
    ]
}

/// A process backend over the recorded topology, with state under `state_dir` (the console
/// passes a `demo` subdirectory of its state dir so demo replicas never mix with real ones).
pub fn demo_backend(state_dir: &Path) -> ProcessBackend {
    ProcessBackend::new(state_dir, demo_gpus())
}

/// Starts every demo deployment that is not already running; returns them all.
pub async fn start_demo(
    backend: &ProcessBackend,
    sim: &Path,
    base_port: u16,
) -> Result<Vec<Deployment>, BackendError> {
    backend.reconcile().await?;
    let mut out = Vec::new();
    for spec in demo_specs(sim, base_port) {
        match backend.get(&spec.name).await {
            Ok(existing) => out.push(existing),
            Err(BackendError::NotFound(_)) => out.push(backend.create(&spec, None).await?),
            Err(other) => return Err(other),
        }
    }
    Ok(out)
}

/// Stops every demo deployment (the console calls this when the demo ends).
pub async fn stop_demo(backend: &ProcessBackend) -> Result<(), BackendError> {
    for deployment in backend.list().await? {
        backend.delete(&deployment.name).await?;
    }
    Ok(())
}
