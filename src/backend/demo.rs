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

/// The port the demo's engines start from when `--demo-port` does not say.
pub const DEMO_BASE_PORT: u16 = 18_000;
/// The demo's engines use `base..base + DEMO_PORT_SPAN`.
pub const DEMO_PORT_SPAN: u16 = 30;
/// A demo holds `base + DEMO_CLAIM_OFFSET` (outside its engines' span, inside its 100-port
/// step) while it runs: its engines take seconds to bind their own ports, and two demos
/// started at once would otherwise both find the same base free.
pub const DEMO_CLAIM_OFFSET: u16 = 99;

/// The ports a demo goes on: `base`, held for it by the claim listener until this is dropped.
#[derive(Debug)]
pub struct DemoPorts {
    pub base: u16,
    _claim: std::net::TcpListener,
}

/// Binds `base`'s claim port; `None` when another demo (or anything else) holds it.
fn claim(base: u16) -> Option<DemoPorts> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", base + DEMO_CLAIM_OFFSET)).ok()?;
    Some(DemoPorts { base, _claim: listener })
}

/// The demo set: an 8B model on 2 GPUs with vLLM, a small model with 2 SGLang replicas, and a
/// 70B model on 4 GPUs. Ports start at `base_port`. The 70B engine gets a small KV cache so the
/// demo's preemption storm (`demo_traffic`) makes it preempt, as a crowded real one does.
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
    let mut specs = vec![
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
    ];
    if let Some(command) = specs[2].command.as_mut() {
        command.extend(["--kv-cache-tokens".to_string(), "8192".to_string()]);
    }
    specs
}

/// The ports the demo's engines listen on from `base_port`.
fn demo_ports(base_port: u16) -> Vec<u16> {
    demo_specs(Path::new("aimdeck-sim"), base_port)
        .iter()
        .flat_map(|spec| (0..spec.replicas as u16).map(move |i| spec.port + i))
        .collect()
}

fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// Where the demo's engines go: `requested` (`--demo-port`) when all its ports are free, an
/// error naming the busy one otherwise; without a request, the first base from 18000 up (in
/// steps of 100) whose ports are all free and whose claim port this demo gets, so a second
/// demo on the host finds its own, also when both start at the same moment.
pub fn choose_base_port(requested: Option<u16>) -> Result<DemoPorts, BackendError> {
    if let Some(base) = requested {
        if base.checked_add(DEMO_CLAIM_OFFSET).is_none() {
            return Err(BackendError::Other(format!(
                "--demo-port {base}: the demo needs ports {base}..{base}+{DEMO_PORT_SPAN} and \
                 {base}+{DEMO_CLAIM_OFFSET}"
            )));
        }
        let busy = demo_ports(base).into_iter().find(|p| !port_free(*p));
        return match (busy, claim(base)) {
            (None, Some(ports)) => Ok(ports),
            (Some(busy), _) => Err(BackendError::Other(format!(
                "--demo-port {base}: port {busy} is in use (the demo needs {base}..{})",
                base + DEMO_PORT_SPAN
            ))),
            (None, None) => Err(BackendError::Other(format!(
                "--demo-port {base}: port {} is in use (another demo holds it while it runs)",
                base + DEMO_CLAIM_OFFSET
            ))),
        };
    }
    (0..100u16)
        .map(|step| DEMO_BASE_PORT + step * 100)
        .filter(|base| demo_ports(*base).into_iter().all(port_free))
        .find_map(claim)
        .ok_or_else(|| {
            BackendError::Other(
                "no free ports for the demo from 18000 to 27999; pick some with --demo-port".into(),
            )
        })
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

/// The demo's deployments as traffic targets: each ready replica's URL.
pub fn traffic_targets(deployments: &[Deployment]) -> Vec<super::demo_traffic::Target> {
    deployments
        .iter()
        .map(|d| super::demo_traffic::Target {
            deployment: d.name.clone(),
            model: d.spec.served_name().to_string(),
            urls: d.replicas.iter().map(|r| r.url()).collect(),
        })
        .collect()
}

/// Stops every demo deployment (the console calls this when the demo ends).
pub async fn stop_demo(backend: &ProcessBackend) -> Result<(), BackendError> {
    for deployment in backend.list().await? {
        backend.delete(&deployment.name).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_demo_port_is_named_and_another_base_is_found_also_by_a_demo_starting_at_once() {
        // Hold the first port of whichever base the chooser would pick now.
        let first = choose_base_port(None).expect("some base is free").base;
        let held = std::net::TcpListener::bind(("127.0.0.1", first)).expect("bind");
        let err = choose_base_port(Some(first)).unwrap_err().to_string();
        assert!(err.contains(&format!("port {first} is in use")), "{err}");
        let next = choose_base_port(None).expect("another base").base;
        assert_ne!(next, first);
        assert_eq!((next - DEMO_BASE_PORT) % 100, 0);
        assert!(choose_base_port(Some(65_530)).is_err());
        drop(held);

        // Two demos choosing at once, before either's engines bind: the first holds its base's
        // claim port, so the second goes on another base; once the first is gone, its base is
        // free again. (In this test, not one of its own: the two would share the ports.)
        let first = choose_base_port(None).expect("some base is free");
        let second = choose_base_port(None).expect("another base");
        assert_ne!(first.base, second.base);
        let err = choose_base_port(Some(first.base)).unwrap_err().to_string();
        assert!(err.contains(&format!("port {} is in use", first.base + 99)), "{err}");
        let base = first.base;
        drop(first);
        assert_eq!(choose_base_port(Some(base)).expect("free again").base, base);
    }

    #[test]
    fn the_demo_uses_its_span_and_the_70b_engine_can_preempt() {
        let ports = demo_ports(20_000);
        assert!(ports.iter().all(|p| (20_000..20_000 + DEMO_PORT_SPAN).contains(p)));
        assert_eq!(ports.len(), 4);
        let specs = demo_specs(Path::new("sim"), 20_000);
        assert!(specs[2].command.as_ref().unwrap().contains(&"--kv-cache-tokens".to_string()));
    }
}
