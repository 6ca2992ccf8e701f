//! Create-to-ready: from `Backend::create` until every replica answers `/health`, for the
//! Docker backend (the offline `aimdeck-sim` image, host networking) and the process backend.
//! Target: under 3 s for the sim image. Run: `cargo bench --bench deploy`.
//! Needs a Docker engine for the Docker rows (skipped with a note otherwise).

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aimdeck::backend::Backend;
use aimdeck::backend::docker::{DockerBackend, DockerOptions, NetworkMode};
use aimdeck::backend::process::ProcessBackend;
use aimdeck::backend::rollout::wait_ready;
use aimdeck::model::{DeploymentSpec, EngineKind};

const SIM: &str = env!("CARGO_BIN_EXE_aimdeck-sim");
const RUNS: usize = 7;

fn free_ports(count: u16) -> u16 {
    loop {
        let base = 20_000 + fastrand::u16(..40_000);
        if (base..base + count).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            return base;
        }
    }
}

fn spec(name: &str, program: &str, image: Option<&str>, replicas: u32) -> DeploymentSpec {
    DeploymentSpec {
        image: image.map(str::to_string),
        command: Some(vec![program.to_string()]),
        ..DeploymentSpec::minimal(
            name,
            "Qwen/Qwen2.5-0.5B-Instruct",
            EngineKind::Vllm,
            replicas,
            free_ports(replicas as u16),
        )
    }
}

async fn measure(backend: &dyn Backend, make: impl Fn(usize) -> DeploymentSpec) -> Vec<Duration> {
    let mut times = Vec::new();
    for run in 0..RUNS {
        let spec = make(run);
        let started = Instant::now();
        backend.create(&spec, None).await.expect("create");
        wait_ready(backend, &spec.name, Duration::from_secs(30), None).await.expect("ready");
        times.push(started.elapsed());
        backend.delete(&spec.name).await.expect("delete");
    }
    times.sort();
    times
}

fn row(label: &str, times: &[Duration]) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "| {label:<34} | {:>4} | {:>8.0} | {:>8.0} | {:>8.0} |",
        times.len(),
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1])
    );
}

fn docker_ready() -> bool {
    std::process::Command::new("docker")
        .args(["version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        println!("| create-to-ready                    | runs | min (ms) | med (ms) | max (ms) |");
        println!("|------------------------------------|------|----------|----------|----------|");
        let state = tempfile::tempdir().expect("tempdir");
        let process =
            ProcessBackend::new(state.path(), Vec::new()).with_grace(Duration::from_secs(3));
        for replicas in [1, 2] {
            let times = measure(&process, |run| {
                spec(&format!("bench-p{replicas}-{run}"), SIM, None, replicas)
            })
            .await;
            row(&format!("process, sim, {replicas} replica(s)"), &times);
        }
        if !docker_ready() {
            println!("(no Docker engine: Docker rows skipped)");
            return;
        }
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/make-sim-image.sh");
        let made =
            std::process::Command::new("bash").arg(script).args([SIM, "aimdeck-sim:test"]).status();
        assert!(made.is_ok_and(|s| s.success()), "sim image");
        let docker = DockerBackend::new(
            None,
            Vec::new(),
            DockerOptions { network: NetworkMode::Host, stop_grace_secs: 2 },
        );
        for replicas in [1, 2] {
            let times = measure(&docker, |run| {
                let mut s = spec(
                    &format!("bench-d{replicas}-{run}"),
                    "vllm",
                    Some("aimdeck-sim:test"),
                    replicas,
                );
                s.command = None; // the image's `vllm` runs the sim with the real vLLM command line
                s
            })
            .await;
            row(&format!("docker, sim image, {replicas} replica(s)"), &times);
        }
    });
}
