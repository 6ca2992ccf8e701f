//! Deploy, scale (parking at zero), adopt and delete containers on the real engine; what is refused before anything is created.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_scale_adopt_and_delete_containers() {
    if !docker_available("deploy_scale_adopt_and_delete_containers") {
        return;
    }
    let backend = backend(4);
    let name = unique_name("life");
    let _cleanup = DockerCleanup(name.clone());
    let port = free_ports(3);
    let mut spec = image_spec(&name, port, 1);
    spec.gpus_per_replica = 1;

    backend.create(&spec, None).await.unwrap();
    let ready = wait_ready(&backend, &name, READY, None).await.unwrap();
    assert_eq!(ready.ready_summary(), "1/1");
    assert_eq!(containers_of(&name), vec![format!("aimdeck-{name}-0")]);
    let (status, metrics) =
        http_get(port, "/metrics").await.expect("container answers on the host port");
    assert_eq!(status, 200);
    assert!(metrics.contains("vllm:num_requests_running"), "{metrics}");

    backend.scale(&name, 3, None).await.unwrap();
    let three = wait_ready(&backend, &name, READY, None).await.unwrap();
    assert_eq!(
        three.replicas.iter().map(|r| r.port).collect::<Vec<_>>(),
        vec![port, port + 1, port + 2]
    );
    assert_eq!(three.gpus(), vec![0, 1, 2]);
    assert_eq!(containers_of(&name).len(), 3);
    for replica in &three.replicas {
        assert_eq!(http_get(replica.port, "/health").await.map(|r| r.0), Some(200));
    }

    // A new backend instance (a restarted console) finds it from labels alone.
    let fresh = backend_fresh();
    let found = fresh.get(&name).await.unwrap();
    assert_eq!(found.spec.model, "Qwen/Qwen2.5-0.5B-Instruct");
    assert_eq!(found.ready_summary(), "3/3");
    assert_eq!(found.gpus(), vec![0, 1, 2]);

    let one = fresh.scale(&name, 1, None).await.unwrap();
    assert_eq!(one.replicas.iter().map(|r| r.index).collect::<Vec<_>>(), vec![0]);
    assert_eq!(containers_of(&name), vec![format!("aimdeck-{name}-0")]);

    fresh.delete(&name).await.unwrap();
    assert!(containers_of(&name).is_empty(), "no container with our labels left");
    assert!(matches!(fresh.get(&name).await, Err(BackendError::NotFound(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_is_refused_and_nothing_is_created() {
    if !docker_available("a_taken_port_is_refused_and_nothing_is_created") {
        return;
    }
    let name = unique_name("taken");
    let _cleanup = DockerCleanup(name.clone());
    let port = free_ports(2);
    let _squatter = TcpListener::bind(("127.0.0.1", port + 1)).unwrap();
    let err = backend(0).create(&image_spec(&name, port, 2), None).await.unwrap_err();
    assert!(matches!(err, BackendError::PortTaken { port: p, .. } if p == port + 1), "{err}");
    assert!(containers_of(&name).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_image_is_a_clear_error_and_nothing_is_created() {
    if !docker_available("a_missing_image_is_a_clear_error_and_nothing_is_created") {
        return;
    }
    let name = unique_name("noimage");
    let _cleanup = DockerCleanup(name.clone());
    let mut spec = image_spec(&name, free_ports(1), 1);
    spec.image = Some("aimdeck-test/no-such-image:0".into());
    let err = backend(0).create(&spec, None).await.unwrap_err();
    assert!(matches!(err, BackendError::ImageUnavailable { .. }), "{err}");
    assert!(
        err.to_string().starts_with(
            "image `aimdeck-test/no-such-image:0` is not on this host and could not be pulled"
        ),
        "{err}"
    );
    assert!(containers_of(&name).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_few_gpus_names_the_holder_and_creates_nothing() {
    if !docker_available("too_few_gpus_names_the_holder_and_creates_nothing") {
        return;
    }
    // GPU 100 exists only for this test, so deployments of other tests never hold it.
    let backend = DockerBackend::new(None, vec![AllocatableGpu::plain(100)], options());
    let holder = unique_name("holder");
    let _cleanup = DockerCleanup(holder.clone());
    let port = free_ports(2);
    let mut first = image_spec(&holder, port, 1);
    first.gpus_per_replica = 1;
    backend.create(&first, None).await.unwrap();

    let wants = unique_name("wants");
    let _cleanup_wants = DockerCleanup(wants.clone());
    let mut second = image_spec(&wants, port + 1, 1);
    second.gpus_per_replica = 1;
    let err = backend.create(&second, None).await.unwrap_err().to_string();
    backend.delete(&holder).await.unwrap();
    // Other deployments on a shared engine may hold GPUs too; ours must be named.
    assert!(err.starts_with("not enough free GPUs: 1 wanted (1 x 1), 0 free"), "{err}");
    assert!(err.contains(&format!("`{holder}` holds 100")), "{err}");
    assert!(containers_of(&wants).is_empty());
}

/// A scale-up that fails half-way removes the replicas it added and keeps the ones that ran.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_scale_up_removes_only_what_it_added() {
    if !docker_available("a_failed_scale_up_removes_only_what_it_added") {
        return;
    }
    let proxy = support::engine_proxy::EngineProxy::start("/var/run/docker.sock");
    let backend = DockerBackend::new(Some(&proxy.url()), Vec::new(), options());
    let name = unique_name("grow");
    let _cleanup = DockerCleanup(name.clone());
    backend.create(&image_spec(&name, free_ports(3), 1), None).await.unwrap();
    proxy.fail_on(&format!("name=aimdeck-{name}-2"), Some(Duration::from_millis(800)));
    let err = backend.scale(&name, 3, None).await.unwrap_err().to_string();
    assert!(err.ends_with("everything it made was removed"), "{err}");
    assert_eq!(containers_of(&name), vec![format!("aimdeck-{name}-0")]);
    backend.delete(&name).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_to_zero_parks_the_deployment_and_scaling_up_brings_it_back() {
    if !docker_available("scaling_to_zero_parks_the_deployment_and_scaling_up_brings_it_back") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let backend = backend(0).with_state_dir(state.path());
    let name = unique_name("zero");
    let _cleanup = DockerCleanup(name.clone());
    let port = free_ports(2);
    let mut spec = image_spec(&name, port, 1);
    spec.env.insert("KEPT_ACROSS_ZERO".into(), "yes".into());
    backend.create(&spec, None).await.unwrap();
    let zero = backend.scale(&name, 0, None).await.unwrap();
    assert!(zero.replicas.is_empty());
    // Only the parked container is left: created, never started, holding the spec.
    assert_eq!(containers_of(&name), vec![format!("aimdeck-{name}-parked")]);
    let listed: Vec<_> =
        backend.list().await.unwrap().into_iter().filter(|d| d.name == name).collect();
    assert_eq!(listed.len(), 1, "still listed at 0");
    assert!(listed[0].replicas.is_empty());
    assert!(matches!(backend.create(&spec, None).await, Err(BackendError::AlreadyExists(_))));
    backend.scale(&name, 1, None).await.unwrap();
    let one = wait_ready(&backend, &name, READY, None).await.unwrap();
    assert_eq!(one.ready_summary(), "1/1");
    assert_eq!(one.spec.env.get("KEPT_ACROSS_ZERO").map(String::as_str), Some("yes"));
    assert_eq!(
        containers_of(&name),
        vec![format!("aimdeck-{name}-0")],
        "the parked container went once it ran again"
    );
    backend.scale(&name, 0, None).await.unwrap();
    backend.delete(&name).await.unwrap();
    assert!(containers_of(&name).is_empty());
}

/// Issue 15: an SGLang stand-in whose `/health` takes 1.1 s (SGLang 0.5 generates a token
/// first) deploys `ready` through the Docker backend within a few seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sglang_container_whose_health_takes_over_a_second_becomes_ready() {
    if !docker_available("an_sglang_container_whose_health_takes_over_a_second_becomes_ready") {
        return;
    }
    let backend = backend(1);
    let name = unique_name("sgl");
    let _cleanup = DockerCleanup(name.clone());
    let port = free_ports(1);
    let mut spec = image_spec(&name, port, 1);
    spec.engine = aimdeck::model::EngineKind::Sglang;
    spec.env.insert("AIMDECK_SIM_HEALTH_DELAY".into(), "1.1s".into());
    backend.create(&spec, None).await.unwrap();
    let started = std::time::Instant::now();
    let ready = wait_ready(&backend, &name, READY, None).await.unwrap();
    assert_eq!(ready.ready_summary(), "1/1");
    assert!(started.elapsed() < Duration::from_secs(10), "ready after {:?}", started.elapsed());
    let probe = std::time::Instant::now();
    assert_eq!(http_get(port, "/health").await.map(|(status, _)| status), Some(200));
    assert!(probe.elapsed() >= Duration::from_millis(1050), "{:?}", probe.elapsed());
    backend.delete(&name).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_and_events_come_from_the_engine() {
    if !docker_available("logs_and_events_come_from_the_engine") {
        return;
    }
    let backend = backend(0);
    let name = unique_name("logs");
    let _cleanup = DockerCleanup(name.clone());
    let spec = image_spec(&name, free_ports(1), 1);
    // The event stream subscribes when first polled, as a view's task would poll it.
    let mut events = backend.events(Some(&name)).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(event) = events.next().await {
            let _ = tx.send(event);
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    backend.create(&spec, None).await.unwrap();
    wait_ready(&backend, &name, READY, None).await.unwrap();

    let mut lines =
        backend.logs(&name, LogOptions { replica: None, follow: false, tail: None }).await.unwrap();
    let mut text = Vec::new();
    while let Some(line) = lines.next().await {
        text.push(line.unwrap().text);
    }
    assert!(text.iter().any(|l| l.contains("Uvicorn running on http://127.0.0.1:")), "{text:?}");

    let first = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap().unwrap();
    assert_eq!(first.deployment, name);
    assert_eq!(first.replica, Some(0));
    assert_eq!(first.message, format!("aimdeck-{name}-0 create"));
    backend.delete(&name).await.unwrap();
    assert!(containers_of(&name).is_empty());
}

/// A GPU process's PID, as `nvidia-smi --query-compute-apps` would report it for a sim running
/// in our container, maps through `/proc/PID/cgroup` to the container and its labels to the
/// deployment: the recorded H100 box with one compute app whose PID is the container's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_pid_on_a_gpu_maps_to_its_deployment() {
    if !docker_available("a_container_pid_on_a_gpu_maps_to_its_deployment") {
        return;
    }
    let backend = backend(8);
    let name = unique_name("gpuproc");
    let _cleanup = DockerCleanup(name.clone());
    let port = free_ports(1);
    let mut spec = image_spec(&name, port, 1);
    spec.gpus_per_replica = 1;
    backend.create(&spec, None).await.unwrap();
    let deployment = wait_ready(&backend, &name, READY, None).await.unwrap();
    let container =
        deployment.replicas[0].container_id().map(str::to_string).expect("a container id");
    let inspect = std::process::Command::new("docker")
        .args(["inspect", "-f", "{{.State.Pid}}", &container])
        .output()
        .unwrap();
    let pid: u32 =
        String::from_utf8_lossy(&inspect.stdout).trim().parse().expect("the container's host pid");

    // The recorded machine, with this PID as the compute app on GPU 0.
    let recorded =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gpus/h100-sxm-8");
    let machine = tempfile::tempdir().unwrap();
    std::fs::create_dir(machine.path().join("bin")).unwrap();
    for file in [
        "nvidia-smi-query.csv",
        "nvidia-smi-topo.txt",
        "nvidia-smi-health.csv",
        "nvidia-smi-remapped-rows.csv",
        "bin/nvidia-smi",
    ] {
        std::fs::copy(recorded.join(file), machine.path().join(file)).unwrap();
    }
    let query = std::fs::read_to_string(recorded.join("nvidia-smi-query.csv")).unwrap();
    let uuid = query.lines().next().unwrap().split(", ").nth(1).unwrap().to_string();
    std::fs::write(
        machine.path().join("nvidia-smi-compute-apps.csv"),
        format!("{pid}, /usr/bin/aimdeck-sim, 1024, {uuid}\n"),
    )
    .unwrap();
    let probe = aimdeck::hardware::ProbeConfig {
        nvidia_smi: machine.path().join("bin/nvidia-smi"),
        amd_smi: "aimdeck-test-no-amd-smi".into(),
        rocm_smi: "aimdeck-test-no-rocm-smi".into(),
        kfd_root: "/nonexistent/kfd".into(),
        pci_root: "/nonexistent/pci".into(),
        kernel_log: "/nonexistent/kmsg".into(),
        ..aimdeck::hardware::ProbeConfig::default()
    };
    let mut snapshot = aimdeck::hardware::discover(&probe).await;
    let process = snapshot.gpus[0].processes[0].clone();
    assert_eq!(process.pid, pid);
    assert_eq!(
        process.container_id.as_deref(),
        Some(container.as_str()),
        "read from /proc/{pid}/cgroup"
    );
    assert_eq!(process.holder, None, "not joined yet");

    let owners = aimdeck::backend::placement::owners(&[&backend as &dyn Backend]).await;
    aimdeck::model::gpu::assign_process_owners(&mut snapshot.gpus, &owners);
    let holder = snapshot.gpus[0].processes[0].holder.clone().expect("joined to its replica");
    assert_eq!((holder.deployment.as_str(), holder.replica), (name.as_str(), 0));
    assert_eq!(snapshot.gpus[0].processes[0].describe(), format!("{name}/0 (1.0 GiB)"));
}

/// Issue 18: a container that died says how and why: Docker's status with the exit code, and
/// the last line the engine wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_container_shows_its_exit_code_and_last_log_line() {
    if !docker_available("a_crashed_container_shows_its_exit_code_and_last_log_line") {
        return;
    }
    let backend = backend(0);
    let name = unique_name("crash");
    let _cleanup = DockerCleanup(name.clone());
    let mut spec = image_spec(&name, free_ports(1), 1);
    spec.extra_args = vec!["--exit-after".into(), "300ms".into()];
    backend.create(&spec, None).await.unwrap();
    let mut seen = backend.get(&name).await.unwrap();
    for _ in 0..100 {
        if seen.replicas[0].state == aimdeck::model::ReplicaState::Exited {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        seen = backend.get(&name).await.unwrap();
    }
    assert_eq!(seen.replicas[0].state, aimdeck::model::ReplicaState::Exited);
    let detail = seen.replicas[0].detail.clone().unwrap_or_default();
    assert!(detail.starts_with("Exited (1)"), "{detail}");
    assert!(
        detail.contains("last log line `aimdeck-sim: exiting as asked by --exit-after"),
        "{detail}"
    );
    backend.delete(&name).await.unwrap();
}
