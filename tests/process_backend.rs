//! The process backend against real child processes running `aimdeck-sim` with the real vLLM
//! command line: deploy, readiness from `/health`, scale, adoption by a new backend instance,
//! delete, and the failures that must leave nothing behind.

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

fn backend_fresh(dir: &std::path::Path) -> ProcessBackend {
    backend(dir, 4)
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
async fn a_crashed_replica_shows_as_exited_and_reconcile_cleans_it() {
    let state = tempfile::tempdir().unwrap();
    let backend = backend(state.path(), 0);
    let port = free_ports(1);
    let mut spec = sim_spec("crash", SIM, port, 1);
    spec.extra_args = vec!["--exit-after".into(), "300ms".into()];
    backend.create(&spec, None).await.unwrap();
    let err = wait_ready(&backend, "crash", READY, None).await;
    // Either it died before answering, or it answered and then died: both end as exited.
    if err.is_ok() {
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    let mut seen = backend.get("crash").await.unwrap();
    for _ in 0..50 {
        if seen.replicas[0].state == ReplicaState::Exited {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        seen = backend.get("crash").await.unwrap();
    }
    assert_eq!(seen.replicas[0].state, ReplicaState::Exited);
    assert!(seen.replicas[0].detail.as_deref().unwrap_or_default().contains("is gone"));
    // Issue 18: the detail says why, from the log's last line.
    let detail = seen.replicas[0].detail.clone().unwrap_or_default();
    assert!(
        detail.contains("last log line `aimdeck-sim: exiting as asked by --exit-after"),
        "{detail}"
    );
    let report = backend.reconcile().await.unwrap();
    assert_eq!(report.cleaned, vec!["crash/0"]);
    // The deployment is kept (its spec), with no replica: `rm` removes it.
    let listed = backend.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].replicas.is_empty());
    backend.delete("crash").await.unwrap();
    assert!(backend.list().await.unwrap().is_empty());
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_with_no_record_is_adopted_and_an_unowned_one_is_stopped() {
    let state = tempfile::tempdir().unwrap();
    let backend = backend(state.path(), 0);
    let port = free_ports(2);
    let name = unique_name("orphan");
    let made = backend.create(&sim_spec(&name, SIM, port, 1), None).await.unwrap();
    let pid = made.replicas[0].pid().unwrap();
    // An aimdeck killed between spawning and recording: the record is not there.
    std::fs::remove_file(state.path().join(format!("process/{name}/replica-0.json"))).unwrap();
    let report = backend.reconcile().await.unwrap();
    assert_eq!(report.adopted, vec![format!("{name}/0")]);
    let found = backend.get(&name).await.unwrap();
    assert_eq!(found.replicas[0].pid(), Some(pid), "adopted by its labels");

    // A labelled process whose deployment is gone (an rm killed halfway) is stopped.
    let mut stray = std::process::Command::new("sh")
        .args(["-c", "exec setsid sleep 30"])
        .env("AIMDECK_STATE_DIR", state.path())
        .env("AIMDECK_DEPLOYMENT", "gone")
        .env("AIMDECK_REPLICA", "0")
        .spawn()
        .unwrap();
    let mut stray_pid = stray.id();
    for _ in 0..50 {
        // `setsid` forks when it is a group leader; find the leader that carries the labels,
        // once it leads its group (before `setsid` runs it is not yet a leader, and reconcile
        // rightly looks only at group leaders).
        if let Some(p) =
            labelled_pids(state.path()).into_iter().find(|&p| p != pid && leads_its_group(p))
        {
            stray_pid = p;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let report = backend.reconcile().await.unwrap();
    assert_eq!(report.stopped, vec![format!("gone/0 (pid {stray_pid})")]);
    assert!(!pid_alive(stray_pid));
    stray.wait().expect("the stopped stray is reaped");
    assert!(pid_alive(pid), "the adopted replica is left alone");

    // `rm` stops what is labelled for the deployment, recorded or not.
    std::fs::remove_file(state.path().join(format!("process/{name}/replica-0.json"))).unwrap();
    backend.delete(&name).await.unwrap();
    assert!(!pid_alive(pid));
}

/// Whether `pid` is its process group's leader (`/proc/PID/stat` field 5, after the command).
fn leads_its_group(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    let after_command = stat.rsplit_once(") ").map(|(_, rest)| rest).unwrap_or_default();
    after_command.split(' ').nth(2).and_then(|pgrp| pgrp.parse::<u32>().ok()) == Some(pid)
}

fn labelled_pids(state: &std::path::Path) -> Vec<u32> {
    let want = format!("AIMDECK_STATE_DIR={}", state.display());
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|kv| kv == want.as_bytes()))
        })
        .filter(|&pid| pid_alive(pid))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_escalates_to_sigkill_when_sigterm_is_ignored() {
    let state = tempfile::tempdir().unwrap();
    let backend =
        ProcessBackend::new(state.path(), Vec::new()).with_grace(Duration::from_millis(500));
    // A program that ignores SIGTERM; the engine arguments land in $0.. and are unused.
    let mut spec = sim_spec("stubborn", "sh", free_ports(1), 1);
    spec.command =
        Some(vec!["sh".into(), "-c".into(), "trap '' TERM; while :; do sleep 0.1; done".into()]);
    let made = backend.create(&spec, None).await.unwrap();
    let pid = made.replicas[0].pid().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    backend.delete("stubborn").await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(500), "waited the grace period");
    assert!(!pid_alive(pid), "SIGKILL ended it");
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
async fn a_new_instance_sees_a_rollout_mid_way_and_restart_replaces_the_process() {
    let state = tempfile::tempdir().unwrap();
    let backend = backend(state.path(), 0);
    let port = free_ports(1);
    let mut spec = sim_spec("midway", SIM, port, 1);
    spec.extra_args = vec!["--startup-delay".into(), "1500ms".into()];
    backend.create(&spec, None).await.unwrap();

    let other = backend_fresh(state.path());
    let seen = other.get("midway").await.unwrap();
    assert_eq!(seen.replicas[0].state, ReplicaState::Starting, "loading, not answering yet");
    let ready = wait_ready(&other, "midway", READY, None).await.unwrap();
    let old_pid = ready.replicas[0].pid().unwrap();
    // The start time is the backend's: the same from another instance's listing, and now-ish.
    let started = ready.replicas[0].started_at_unix_ms.expect("a start time");
    let now_ms = jiff::Timestamp::now().as_millisecond();
    assert!((now_ms - 30_000..=now_ms).contains(&started), "{started} vs now {now_ms}");
    assert_eq!(
        backend.list().await.unwrap()[0].replicas[0].started_at_unix_ms,
        Some(started),
        "re-listing keeps it"
    );

    other.restart("midway").await.unwrap();
    let restarted = wait_ready(&other, "midway", READY, None).await.unwrap();
    assert_ne!(restarted.replicas[0].pid(), Some(old_pid));
    assert!(
        restarted.replicas[0].started_at_unix_ms.unwrap() > started,
        "a restart starts the age again"
    );
    assert!(!pid_alive(old_pid));
    other.delete("midway").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_fails_naming_the_replica_that_did_not_come_back() {
    let state = tempfile::tempdir().unwrap();
    let backend =
        ProcessBackend::new(state.path(), Vec::new()).with_grace(Duration::from_millis(500));
    let marker = state.path().join("started-once");
    // Runs the first time; every later start exits at once, as an engine that cannot come back.
    let script = format!("test -f {0} && exit 3; touch {0}; exec sleep 30", marker.display());
    let mut spec = sim_spec("comeback", "sh", free_ports(1), 1);
    spec.command = Some(vec!["sh".into(), "-c".into(), script]);
    backend.create(&spec, None).await.unwrap();
    for _ in 0..100 {
        if marker.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let err = backend.restart("comeback").await.unwrap_err().to_string();
    assert!(
        err.contains("1 of 1 replicas did not come back: replica 0 exited right after starting"),
        "{err}"
    );
    backend.delete("comeback").await.unwrap();
}

/// Issue 15: SGLang 0.5's `/health` generates a token and answers after a second. A stand-in
/// whose `/health` takes 1.1 s must still deploy `ready` within a few seconds of answering
/// (the 800 ms probe before counted that as no answer, forever).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sglang_server_whose_health_takes_over_a_second_becomes_ready() {
    let state = tempfile::tempdir().unwrap();
    let backend = backend(state.path(), 1);
    let port = free_ports(1);
    let name = unique_name("sgl");
    let mut spec = sim_spec(&name, SIM, port, 1);
    spec.engine = aimdeck::model::EngineKind::Sglang;
    spec.env.insert("AIMDECK_SIM_HEALTH_DELAY".into(), "1.1s".into());
    backend.create(&spec, None).await.unwrap();
    let started = std::time::Instant::now();
    let ready = wait_ready(&backend, &name, Duration::from_secs(15), None).await.unwrap();
    assert_eq!(ready.ready_summary(), "1/1");
    assert!(started.elapsed() < Duration::from_secs(8), "ready after {:?}", started.elapsed());
    // The stand-in really is that slow: one /health takes over a second.
    let probe = std::time::Instant::now();
    assert_eq!(http_get(port, "/health").await.map(|(status, _)| status), Some(200));
    assert!(probe.elapsed() >= Duration::from_millis(1050), "{:?}", probe.elapsed());
    backend.delete(&name).await.unwrap();
}

/// The console's `r`: done only once the restarted replica answers again, not when the
/// restart was sent (the engine here takes 1.5 s to load after each start).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consoles_restart_is_done_only_when_the_replica_is_ready_again() {
    use aimdeck::tui::event::{Command, Event};
    use aimdeck::tui::features::deploy::{DeployCommand, DeployEvent};
    let state = tempfile::tempdir().unwrap();
    let backend = std::sync::Arc::new(backend(state.path(), 0));
    let mut spec = sim_spec("slowback", SIM, free_ports(1), 1);
    spec.extra_args = vec!["--startup-delay".into(), "1500ms".into()];
    backend.create(&spec, None).await.unwrap();
    wait_ready(backend.as_ref(), "slowback", READY, None).await.unwrap();

    let (tx, mut events) = tokio::sync::mpsc::channel(256);
    let registry = aimdeck::backend::registry::Registry::new(vec![backend.clone()]);
    let effects =
        aimdeck::tui::effects::Effects::new(tx, registry, "/nonexistent".into(), Vec::new());
    effects.run(Command::Deploy(DeployCommand::Restart {
        backend: "process".into(),
        name: "slowback".into(),
    }));
    let result = loop {
        match tokio::time::timeout(READY, events.recv())
            .await
            .expect("an answer")
            .expect("the channel")
        {
            Event::Deploy(DeployEvent::Done { result, .. }) => break result,
            _ => continue,
        }
    };
    assert_eq!(result, Ok(()));
    let now = backend.get("slowback").await.unwrap();
    assert_eq!(
        now.replicas[0].state,
        ReplicaState::Ready,
        "done means answering: {:?}",
        now.replicas
    );
    backend.delete("slowback").await.unwrap();
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
