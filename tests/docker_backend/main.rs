//! The Docker backend against the real Docker engine, with the sim image made offline
//! (`tests/support/make-sim-image.sh`). Containers use host networking on 127.0.0.1.
//! Without an engine these tests skip with a message; with `AIMDECK_REQUIRE_DOCKER=1` they fail.

#[path = "../support/mod.rs"]
mod support;

use std::net::TcpListener;
use std::time::Duration;

use aimdeck::backend::docker::{DockerBackend, DockerOptions, NetworkMode};
use aimdeck::backend::rollout::wait_ready;
use aimdeck::backend::{AllocatableGpu, Backend, BackendError, LogOptions};
use aimdeck::model::DeploymentSpec;
use futures::StreamExt;
use support::{
    DockerCleanup, SIM_IN_IMAGE, docker_available, ensure_sim_image, free_ports, http_get,
    sim_spec, unique_name,
};

const READY: Duration = Duration::from_secs(30);

fn options() -> DockerOptions {
    DockerOptions { network: NetworkMode::Host, stop_grace_secs: 2 }
}

fn backend(gpus: u32) -> DockerBackend {
    DockerBackend::new(None, (0..gpus).map(AllocatableGpu::plain).collect(), options())
}

fn image_spec(name: &str, port: u16, replicas: u32) -> DeploymentSpec {
    let mut spec = sim_spec(name, SIM_IN_IMAGE, port, replicas);
    spec.image = Some(ensure_sim_image());
    spec
}

/// Names of containers carrying our deployment label, straight from the engine (not through
/// the code under test).
fn containers_of(name: &str) -> Vec<String> {
    let out = std::process::Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            &format!("label=aimdeck.io/deployment={name}"),
            "--format",
            "{{.Names}}",
        ])
        .output()
        .unwrap();
    let mut names: Vec<String> =
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
    names.sort();
    names
}

fn backend_fresh() -> DockerBackend {
    backend(4)
}

mod lifecycle;
mod outages;
