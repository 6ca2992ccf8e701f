//! `--demo` support: the demo set of sim deployments on the recorded 8-GPU topology comes up
//! ready through the process backend, and goes away again.

use crate::support;

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

/// Issue 18: the demo's traffic moves every engine's counters, its storm makes the 70B engine
/// preempt, and the recorded GPUs follow the load.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_traffic_moves_every_engine_and_its_storm_preempts() {
    use aimdeck::backend::demo_traffic::{DemoLoad, drive_from, shade_gpus};
    let state = tempfile::tempdir().unwrap();
    let backend = demo_backend(state.path());
    let base = free_ports(30);
    let mut started = start_demo(&backend, Path::new(SIM), base).await.unwrap();
    for deployment in started.iter_mut() {
        *deployment =
            wait_ready(&backend, &deployment.name, Duration::from_secs(20), None).await.unwrap();
    }
    let targets = aimdeck::backend::demo::traffic_targets(&started);
    let load = DemoLoad::default();
    let cancel = tokio_util::sync::CancellationToken::new();
    // Start a minute in: llama-8b bursts, qwen-small is half way up, llama-70b storms.
    let driver = tokio::spawn(drive_from(
        reqwest::Client::new(),
        targets,
        load.clone(),
        Duration::from_secs(60),
        cancel.clone(),
    ));
    let counter = |page: &str, name: &str| -> f64 {
        page.lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    // The shapes a minute in: the storm and the burst are in flight, and the GPUs follow.
    let shaped = std::time::Instant::now() + Duration::from_secs(8);
    while !(load.in_flight("llama-70b") >= 20 && load.in_flight("llama-8b") >= 10) {
        assert!(
            std::time::Instant::now() < shaped,
            "storm {} and burst {} in flight",
            load.in_flight("llama-70b"),
            load.in_flight("llama-8b")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let holders: Vec<(String, Vec<u32>)> =
        started.iter().map(|d| (d.name.clone(), d.gpus())).collect();
    let mut gpus: Vec<aimdeck::model::gpu::Gpu> = (0..8)
        .map(|i| {
            let mut gpu =
                aimdeck::model::gpu::Gpu::new(i, aimdeck::model::GpuVendor::Amd, "MI300X");
            gpu.memory_total_bytes = Some(192 << 30);
            gpu.power_cap_watts = Some(750.0);
            gpu
        })
        .collect();
    shade_gpus(&mut gpus, &holders, &load);
    // Long generations against the 70B engine's small KV cache: it preempts.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut preemptions = 0.0;
    while preemptions < 1.0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (_, page) = http_get(base + 20, "/metrics").await.unwrap();
        preemptions = counter(&page, "vllm:num_preemptions_total");
    }
    cancel.cancel();
    driver.await.unwrap();
    assert!(preemptions >= 1.0, "the storm preempts on the 70B engine's small KV cache");
    let (_, page) = http_get(base, "/metrics").await.unwrap();
    assert!(counter(&page, "vllm:generation_tokens_total") > 0.0, "llama-8b served tokens");
    let (_, page) = http_get(base + 10, "/metrics").await.unwrap();
    assert!(counter(&page, "sglang:generation_tokens_total") > 0.0, "qwen-small served tokens");
    let seventy_gpu = started[2].gpus()[0] as usize;
    assert!(gpus[seventy_gpu].utilization_percent.unwrap() > 90.0, "{:?}", gpus[seventy_gpu]);
    assert!(gpus[seventy_gpu].memory_used_bytes.unwrap() > (150u64 << 30));
    assert!(gpus[seventy_gpu].power_watts.unwrap() > 600.0);
    stop_demo(&backend).await.unwrap();
}
