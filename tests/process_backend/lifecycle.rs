//! Deploy, scale (to zero and back), adopt and delete real processes; what is refused before anything starts.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_scale_adopt_and_delete_real_processes() {
    let state = tempfile::tempdir().unwrap();
    let backend = backend(state.path(), 4);
    let port = free_ports(3);
    let name = unique_name("life");
    let mut spec = sim_spec(&name, SIM, port, 1);
    spec.gpus_per_replica = 1;

    let created = backend.create(&spec, None).await.unwrap();
    assert_eq!(created.replicas.len(), 1);
    let ready = wait_ready(&backend, &name, READY, None).await.unwrap();
    assert_eq!(ready.ready_summary(), "1/1");
    assert_eq!(ready.replicas[0].gpus, vec![0]);

    // The engine answers like vLLM on the replica's port, and its metrics are live.
    let (status, models) = http_get(port, "/v1/models").await.expect("replica answers");
    assert_eq!(status, 200);
    assert!(models.contains("Qwen/Qwen2.5-0.5B-Instruct"), "{models}");
    let (_, metrics) = http_get(port, "/metrics").await.unwrap();
    assert!(metrics.contains("vllm:num_requests_running"), "{metrics}");

    // The replica got its GPU through the environment.
    let log = std::fs::read_to_string(ready.replicas[0].log_path().unwrap()).unwrap();
    assert!(log.contains("Uvicorn running on http://127.0.0.1:"), "{log}");

    // Scale to 3: three processes on distinct ports, distinct GPUs, all ready.
    backend.scale(&name, 3, None).await.unwrap();
    let three = wait_ready(&backend, &name, READY, None).await.unwrap();
    let ports: Vec<u16> = three.replicas.iter().map(|r| r.port).collect();
    assert_eq!(ports, vec![port, port + 1, port + 2]);
    assert_eq!(three.gpus(), vec![0, 1, 2]);
    let pids: Vec<u32> = three.replicas.iter().map(|r| r.pid().unwrap()).collect();
    assert!(pids.iter().all(|&p| pid_alive(p)));

    // A console that restarts finds the deployment from the state files alone.
    let fresh = backend_fresh(state.path());
    assert_eq!(fresh.reconcile().await.unwrap().adopted.len(), 3);
    let found = fresh.list().await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, name);
    assert_eq!(found[0].spec.model, "Qwen/Qwen2.5-0.5B-Instruct");
    assert_eq!(found[0].ready_summary(), "3/3");

    // Back to 1: the highest replicas go, gracefully.
    let one = fresh.scale(&name, 1, None).await.unwrap();
    assert_eq!(one.replicas.iter().map(|r| r.index).collect::<Vec<_>>(), vec![0]);
    assert!(pid_alive(pids[0]));
    assert!(!pid_alive(pids[1]) && !pid_alive(pids[2]), "replicas 1 and 2 stopped");
    assert!(http_get(port + 2, "/health").await.is_none());

    // Delete: no process, no state left.
    fresh.delete(&name).await.unwrap();
    assert!(!pid_alive(pids[0]));
    assert!(fresh.list().await.unwrap().is_empty());
    assert!(matches!(fresh.get(&name).await, Err(BackendError::NotFound(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_is_refused_before_anything_starts() {
    let state = tempfile::tempdir().unwrap();
    let backend = backend(state.path(), 0);
    let port = free_ports(2);
    let _squatter = TcpListener::bind(("127.0.0.1", port + 1)).unwrap();
    let err = backend.create(&sim_spec("taken", SIM, port, 2), None).await.unwrap_err();
    assert!(matches!(err, BackendError::PortTaken { port: p, .. } if p == port + 1), "{err}");
    assert!(err.to_string().contains(&format!("port {} on 127.0.0.1 is already taken", port + 1)));
    assert!(backend.list().await.unwrap().is_empty());
    assert!(http_get(port, "/health").await.is_none(), "replica 0 was not started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_few_gpus_names_the_holder_and_starts_nothing() {
    let state = tempfile::tempdir().unwrap();
    let backend = backend(state.path(), 2);
    let port = free_ports(3);
    let mut first = sim_spec("holder", SIM, port, 2);
    first.gpus_per_replica = 1;
    backend.create(&first, None).await.unwrap();

    let mut second = sim_spec("wants", SIM, port + 2, 1);
    second.gpus_per_replica = 1;
    let err = backend.create(&second, None).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "not enough free GPUs: 1 wanted (1 x 1), 0 free; `holder` holds 0,1"
    );
    let names: Vec<String> = backend.list().await.unwrap().into_iter().map(|d| d.name).collect();
    assert_eq!(names, vec!["holder"]);
    backend.delete("holder").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_program_is_a_clear_error_and_leaves_nothing() {
    let state = tempfile::tempdir().unwrap();
    let backend = backend(state.path(), 0);
    let spec = sim_spec("missing", "/nonexistent/vllm", free_ports(1), 2);
    let err = backend.create(&spec, None).await.unwrap_err().to_string();
    assert!(err.contains("cannot start `/nonexistent/vllm`"), "{err}");
    assert!(err.contains("everything it made was removed"), "{err}");
    assert!(backend.list().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_scale_up_changes_nothing() {
    let state = tempfile::tempdir().unwrap();
    let backend = backend(state.path(), 0);
    let port = free_ports(3);
    backend.create(&sim_spec("grow", SIM, port, 1), None).await.unwrap();
    let _squatter = TcpListener::bind(("127.0.0.1", port + 2)).unwrap();
    let err = backend.scale("grow", 3, None).await.unwrap_err();
    assert!(matches!(err, BackendError::PortTaken { port: p, .. } if p == port + 2), "{err}");
    let after = backend.get("grow").await.unwrap();
    assert_eq!(after.replicas.len(), 1, "no replica 1 left running");
    assert!(http_get(port + 1, "/health").await.is_none());
    backend.delete("grow").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_to_zero_keeps_the_deployment_and_scaling_up_brings_it_back() {
    let state = tempfile::tempdir().unwrap();
    let backend = backend(state.path(), 0);
    let port = free_ports(2);
    let name = unique_name("zero");
    let mut spec = sim_spec(&name, SIM, port, 1);
    spec.env.insert("KEPT_ACROSS_ZERO".into(), "yes".into());
    let made = backend.create(&spec, None).await.unwrap();
    let pid = made.replicas[0].pid().unwrap();
    let zero = backend.scale(&name, 0, None).await.unwrap();
    assert!(zero.replicas.is_empty());
    assert!(!pid_alive(pid), "the replica stopped");
    let listed = backend.list().await.unwrap();
    assert_eq!(listed.len(), 1, "still listed at 0");
    assert_eq!(listed[0].spec.replicas, 0);
    // Back to 2 from the kept spec, its environment and all.
    backend.scale(&name, 2, None).await.unwrap();
    let two = wait_ready(&backend, &name, READY, None).await.unwrap();
    assert_eq!(two.ready_summary(), "2/2");
    assert_eq!(two.spec.env.get("KEPT_ACROSS_ZERO").map(String::as_str), Some("yes"));
    // Creating it again is refused while it exists, even at 0.
    backend.scale(&name, 0, None).await.unwrap();
    assert!(matches!(backend.create(&spec, None).await, Err(BackendError::AlreadyExists(_))));
    backend.delete(&name).await.unwrap();
    assert!(matches!(backend.get(&name).await, Err(BackendError::NotFound(_))));
}

/// Scale-up places new replicas under the same rules as deploy (`ops::backends::allocatable_from`,
/// what `aimdeck scale` and the console's create use): on the recorded faulty H100 box GPU 0 is
/// the only healthy, free GPU, so a second replica is refused and the refusal names the failed
/// GPUs and the unmanaged process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_up_on_a_faulty_host_refuses_the_failed_gpu_and_names_it() {
    let machine = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gpus/h100-sxm-8-faulty");
    let probe = aimdeck::hardware::ProbeConfig {
        nvidia_smi: machine.join("bin/nvidia-smi"),
        amd_smi: "aimdeck-test-no-amd-smi".into(),
        rocm_smi: "aimdeck-test-no-rocm-smi".into(),
        kfd_root: "/nonexistent/kfd".into(),
        pci_root: "/nonexistent/pci".into(),
        kernel_log: machine.join("kmsg.txt"),
        proc_root: "/nonexistent/proc".into(),
        use_nvml: false,
        ..aimdeck::hardware::ProbeConfig::default()
    };
    let snapshot = aimdeck::hardware::discover(&probe).await;
    let inventory = aimdeck::ops::backends::allocatable_from(&snapshot, Default::default());
    let state = tempfile::tempdir().unwrap();
    let backend = ProcessBackend::new(state.path(), inventory).with_grace(Duration::from_secs(3));
    let port = free_ports(2);
    let name = unique_name("faulty");
    let mut spec = sim_spec(&name, SIM, port, 1);
    spec.gpus_per_replica = 1;
    backend.create(&spec, None).await.unwrap();
    assert_eq!(wait_ready(&backend, &name, READY, None).await.unwrap().replicas[0].gpus, vec![0]);
    let err = backend.scale(&name, 2, None).await.unwrap_err().to_string();
    backend.delete(&name).await.unwrap();
    assert!(err.contains("GPU 1 failed: uncorrectable ECC errors"), "{err}");
    assert!(err.contains("GPU 6 failed: XID 79"), "{err}");
    assert!(err.contains("GPU 4 unmanaged: pid 4242 python3"), "{err}");
    assert!(err.contains("--allow-degraded"), "degraded GPUs say how to allow them: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn render_shows_the_command_and_hides_the_token() {
    let state = tempfile::tempdir().unwrap();
    let backend = backend(state.path(), 8);
    let mut spec = sim_spec("render", "vllm", 8000, 2);
    spec.command = None;
    spec.gpus_per_replica = 2;
    spec.env.insert("HF_TOKEN".into(), "hf_supersecret".into());
    let rendered = backend.render(&spec).unwrap();
    let text = serde_json::to_string(&rendered).unwrap();
    assert!(!text.contains("hf_supersecret"));
    assert_eq!(rendered["replicas"][1]["env"]["HF_TOKEN"], "<redacted>");
    assert_eq!(rendered["replicas"][1]["env"]["CUDA_VISIBLE_DEVICES"], "2,3");
    assert!(
        rendered["replicas"][1]["command"]
            .as_str()
            .unwrap()
            .starts_with("vllm serve Qwen/Qwen2.5-0.5B-Instruct --host 127.0.0.1 --port 8001")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_read_and_follow_the_replica_log() {
    let state = tempfile::tempdir().unwrap();
    let backend = backend(state.path(), 0);
    let port = free_ports(1);
    backend.create(&sim_spec("logs", SIM, port, 1), None).await.unwrap();
    wait_ready(&backend, "logs", READY, None).await.unwrap();
    let mut follow = backend
        .logs("logs", LogOptions { replica: Some(0), follow: true, tail: None })
        .await
        .unwrap();
    let mut seen = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(line) = follow.next().await {
            let line = line.unwrap();
            seen.push(line.text.clone());
            if line.text.contains("Uvicorn running") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "{seen:?}");
    backend.delete("logs").await.unwrap();
}
