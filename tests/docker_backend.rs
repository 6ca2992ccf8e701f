//! The Docker backend against the real Docker engine, with the sim image made offline
//! (`tests/support/make-sim-image.sh`). Containers use host networking on 127.0.0.1.
//! Without an engine these tests skip with a message; with `AIMDECK_REQUIRE_DOCKER=1` they fail.

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

fn backend_fresh() -> DockerBackend {
    backend(4)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_engine_is_named_in_the_error() {
    let backend =
        DockerBackend::new(Some("unix:///nonexistent/docker.sock"), Vec::new(), options());
    let err = backend.list().await.unwrap_err().to_string();
    assert!(
        err.starts_with("cannot reach the Docker engine at unix:///nonexistent/docker.sock"),
        "{err}"
    );
    let health = backend.health().await;
    assert!(!health.reachable);
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

/// The engine goes away while replica 1 is being created: the error says so, and once the
/// engine is back (here after 1 s, as a daemon restart) the rollback removes replica 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_stopping_mid_create_rolls_back_when_it_returns() {
    if !docker_available("the_engine_stopping_mid_create_rolls_back_when_it_returns") {
        return;
    }
    let proxy = support::engine_proxy::EngineProxy::start("/var/run/docker.sock");
    let backend = DockerBackend::new(Some(&proxy.url()), Vec::new(), options());
    let name = unique_name("flaky");
    let _cleanup = DockerCleanup(name.clone());
    proxy.fail_on(&format!("name=aimdeck-{name}-1"), Some(Duration::from_secs(1)));
    let err = backend.create(&image_spec(&name, free_ports(2), 2), None).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "creating `{name}` failed: cannot reach the Docker engine at {}",
            proxy.url()
        )),
        "{text}"
    );
    assert!(text.ends_with("everything it made was removed"), "{text}");
    assert!(containers_of(&name).is_empty());
}

/// The engine stays down: the error names the container the rollback could not remove, and a
/// later `delete` (engine back) removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_staying_down_reports_what_was_left() {
    if !docker_available("the_engine_staying_down_reports_what_was_left") {
        return;
    }
    let proxy = support::engine_proxy::EngineProxy::start("/var/run/docker.sock");
    let backend = DockerBackend::new(Some(&proxy.url()), Vec::new(), options());
    let name = unique_name("down");
    let _cleanup = DockerCleanup(name.clone());
    proxy.fail_on(&format!("name=aimdeck-{name}-1"), None);
    let err =
        backend.create(&image_spec(&name, free_ports(2), 2), None).await.unwrap_err().to_string();
    assert!(
        err.ends_with(&format!(
            "these could not be removed and need cleaning up: aimdeck-{name}-0"
        )),
        "{err}"
    );
    proxy.up();
    assert_eq!(containers_of(&name), vec![format!("aimdeck-{name}-0")]);
    backend.delete(&name).await.unwrap();
    assert!(containers_of(&name).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_instance_sees_a_rollout_mid_way() {
    if !docker_available("a_new_instance_sees_a_rollout_mid_way") {
        return;
    }
    let name = unique_name("midway");
    let _cleanup = DockerCleanup(name.clone());
    let mut spec = image_spec(&name, free_ports(1), 1);
    spec.extra_args = vec!["--startup-delay".into(), "1500ms".into()];
    backend(0).create(&spec, None).await.unwrap();
    let other = backend_fresh();
    let seen = other.get(&name).await.unwrap();
    assert_eq!(seen.replicas[0].state, aimdeck::model::ReplicaState::Starting);
    assert_eq!(seen.replicas[0].name, format!("aimdeck-{name}-0"));
    wait_ready(&other, &name, READY, None).await.unwrap();
    other.delete(&name).await.unwrap();
    assert!(containers_of(&name).is_empty());
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

/// The console through an engine outage: the Deployments list says why it is empty while the
/// engine is away, the console keeps running, and the deployment is back on the next listing
/// once the engine answers, with nobody pressing anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_an_engine_outage_and_recovers_on_its_own() {
    use aimdeck::tui::app::{App, Settings};
    use aimdeck::tui::event::Event;
    if !docker_available("the_console_shows_an_engine_outage_and_recovers_on_its_own") {
        return;
    }
    let name = unique_name("outage");
    let _cleanup = DockerCleanup(name.clone());
    backend(0).create(&image_spec(&name, free_ports(1), 1), None).await.unwrap();

    let proxy = support::engine_proxy::EngineProxy::start("/var/run/docker.sock");
    let through_proxy: std::sync::Arc<dyn Backend> =
        std::sync::Arc::new(DockerBackend::new(Some(&proxy.url()), Vec::new(), options()));
    let cache = tempfile::tempdir().unwrap();
    let (tx, mut events) = tokio::sync::mpsc::channel(1024);
    let backends = aimdeck::backend::registry::Registry::new(vec![through_proxy]);
    let runner = aimdeck::tui::effects::Effects::new(
        tx,
        backends.clone(),
        "/nonexistent/themes".into(),
        Vec::new(),
    );
    let mut app = App::new(Settings {
        user_themes_dir: "/nonexistent/themes".into(),
        cache_root: cache.path().into(),
        backends,
        active_backend: "docker".into(),
        ..Settings::default()
    });
    for command in app.start() {
        runner.run(command);
    }
    // Feeds task results, and a clock tick whenever the console is idle, until `done`.
    async fn until(
        app: &mut App,
        runner: &aimdeck::tui::effects::Effects,
        events: &mut tokio::sync::mpsc::Receiver<Event>,
        what: &str,
        done: impl Fn(&App) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !done(app) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: not within 20 s; errors {:?}",
                app.deploy.errors
            );
            let event = match tokio::time::timeout(Duration::from_millis(200), events.recv()).await
            {
                Ok(Some(event)) => event,
                _ => Event::Tick(aimdeck::tui::event::Now::read()),
            };
            for command in app.update(event) {
                runner.run(command);
            }
        }
    }
    until(&mut app, &runner, &mut events, "the deployment listed", |app| {
        app.deploy.find(&name).is_some()
    })
    .await;

    proxy.fail_on("containers/json", None);
    until(&mut app, &runner, &mut events, "the outage reported", |app| {
        app.deploy.errors.contains_key("docker")
    })
    .await;
    // The last known rows stay, marked stale by the header's state for the backend.
    assert!(app.deploy.find(&name).is_some(), "the last known row is kept");
    assert!(
        app.deploy
            .backend_states()
            .iter()
            .any(|(b, s)| b == "docker" && s.starts_with("unreachable since ")),
        "{:?}",
        app.deploy.backend_states()
    );
    assert!(!app.should_quit);
    assert!(
        app.history.iter().any(|m| m.text.starts_with("docker: ")),
        "the cause is in the messages: {:?}",
        app.history
    );

    proxy.up();
    until(&mut app, &runner, &mut events, "the deployment back", |app| {
        app.deploy.find(&name).is_some() && app.deploy.errors.is_empty()
    })
    .await;
    assert!(app.deploy.backend_states().is_empty(), "ok again: {:?}", app.deploy.backend_states());

    // A wedged engine (accepts, never answers): unreachable within 10 s, back on its own.
    let wedged_at = std::time::Instant::now();
    proxy.wedge();
    until(&mut app, &runner, &mut events, "the wedged engine reported", |app| {
        app.deploy.errors.contains_key("docker")
    })
    .await;
    assert!(wedged_at.elapsed() < Duration::from_secs(10), "took {:?}", wedged_at.elapsed());
    assert!(
        app.deploy.errors["docker"].contains("no answer from"),
        "{}",
        app.deploy.errors["docker"]
    );
    assert!(app.deploy.find(&name).is_some(), "the last known row is kept");
    proxy.unwedge();
    until(&mut app, &runner, &mut events, "back after the wedge", |app| {
        app.deploy.errors.is_empty() && app.deploy.backend_states().is_empty()
    })
    .await;
    assert_eq!(
        containers_of(&name),
        vec![format!("aimdeck-{name}-0")],
        "the outage changed nothing on the engine"
    );
    backend(0).delete(&name).await.unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wedged_engine_is_no_answer_within_the_bound() {
    // Accepts every connection and never answers: no engine will ever reply.
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("wedged.sock");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    let _held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let host = format!("unix://{}", socket.display());
    let backend = DockerBackend::new(Some(&host), Vec::new(), options()).with_state_dir(dir.path());
    let started = std::time::Instant::now();
    let err = backend.list().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(7), "took {:?}", started.elapsed());
    assert_eq!(err.to_string(), format!("docker: no answer from {host} in 5 s"));
    assert!(!backend.health().await.reachable);
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
