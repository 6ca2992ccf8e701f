//! The process backend against real child processes running `aimdeck-sim` with the real vLLM
//! command line: deploy, readiness from `/health`, scale, adoption by a new backend instance,
//! delete, and the failures that must leave nothing behind.

#[path = "../support/mod.rs"]
mod support;

use std::net::TcpListener;
use std::time::Duration;

use aimdeck::backend::process::ProcessBackend;
use aimdeck::backend::rollout::wait_ready;
use aimdeck::backend::{AllocatableGpu, Backend, BackendError, LogOptions};
use aimdeck::model::ReplicaState;
use futures::StreamExt;
use support::{SIM, free_ports, http_get, pid_alive, sim_spec, unique_name};

const READY: Duration = Duration::from_secs(20);

fn backend(dir: &std::path::Path, gpus: u32) -> ProcessBackend {
    ProcessBackend::new(dir, (0..gpus).map(AllocatableGpu::plain).collect())
        .with_grace(Duration::from_secs(3))
}

fn backend_fresh(dir: &std::path::Path) -> ProcessBackend {
    backend(dir, 4)
}

mod lifecycle;
mod recovery;
