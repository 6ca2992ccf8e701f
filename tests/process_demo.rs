//! `--demo` support: the demo set of sim deployments on the recorded 8-GPU topology comes up
//! ready through the process backend, and goes away again.

mod support;

use std::path::Path;
use std::time::Duration;

use aimdeck::backend::Backend;
use aimdeck::backend::demo::{demo_backend, start_demo, stop_demo};
use aimdeck::backend::rollout::wait_ready;
use support::{SIM, free_ports, http_get, pid_alive};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_set_comes_up_ready_on_the_recorded_topology() {
    let state = tempfile::tempdir().unwrap();
    let backend = demo_backend(state.path());
    let base = free_ports(30);
    let started = start_demo(&backend, Path::new(SIM), base).await.unwrap();
    let names: Vec<&str> = started.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["llama-8b", "qwen-small", "llama-70b"]);
    for deployment in &started {
        wait_ready(&backend, &deployment.name, Duration::from_secs(20), None).await.unwrap();
    }
    // 2 + 1 + 1 + 4 GPUs of the 8, none shared.
    let mut held: Vec<u32> = backend.list().await.unwrap().iter().flat_map(|d| d.gpus()).collect();
    held.sort();
    held.dedup();
    assert_eq!(held.len(), 8);
    // The SGLang stand-in answers with SGLang's metric names.
    let (_, metrics) = http_get(base + 10, "/metrics").await.unwrap();
    assert!(metrics.contains("sglang:num_running_reqs"), "{metrics}");

    // Starting again adopts what runs instead of failing or doubling it.
    let again = start_demo(&backend, Path::new(SIM), base).await.unwrap();
    assert_eq!(again.iter().map(|d| d.replicas.len()).sum::<usize>(), 4);

    let pids: Vec<u32> =
        again.iter().flat_map(|d| d.replicas.iter().filter_map(|r| r.pid())).collect();
    stop_demo(&backend).await.unwrap();
    assert!(backend.list().await.unwrap().is_empty());
    assert!(pids.iter().all(|&p| !pid_alive(p)));
}
