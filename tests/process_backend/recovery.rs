//! Crashes, strays, stubborn processes, rollouts seen mid-way and restarts: the backend's truth after the unexpected.

use super::*;

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
    // Issue 18: the detail says how it ended (the engine's exit status, though the aimdeck
    // that started it is not its parent) and why, from the log's last line.
    let detail = seen.replicas[0].detail.clone().unwrap_or_default();
    assert!(detail.contains("exited with status 1"), "{detail}");
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
