//! Start-up, health, faults and shutdown, on the real engines' timing.

use super::*;

#[test]
fn refuses_connections_while_starting_then_serves_health() {
    let sim = SimProcess::spawn(&["serve", "m", "--startup-delay", "800ms"]);
    runtime().block_on(async {
        let err = client().get(format!("{}/health", sim.url())).send().await.unwrap_err();
        assert!(err.is_connect(), "expected a refused connection while starting, got {err}");
    });
    sim.wait_listening(Duration::from_secs(10));
    runtime().block_on(async {
        let reply = client().get(format!("{}/health", sim.url())).send().await.unwrap();
        assert_eq!(reply.status(), 200);
    });
}

#[test]
fn a_failed_engine_answers_503_on_health_and_fails_requests() {
    let sim = SimProcess::ready(&["serve", "m"]);
    runtime().block_on(async {
        let client = client();
        client.post(format!("{}/sim/fail", sim.url())).send().await.unwrap();
        assert_eq!(client.get(format!("{}/health", sim.url())).send().await.unwrap().status(), 503);
        let reply = client
            .post(format!("{}/v1/completions", sim.url()))
            .json(&json!({"prompt": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 500);
        client.post(format!("{}/sim/recover", sim.url())).send().await.unwrap();
        assert_eq!(client.get(format!("{}/health", sim.url())).send().await.unwrap().status(), 200);
    });
}

/// SGLang's /health generates a token and answers after about a second; vLLM's at once.
#[test]
fn sglang_health_takes_its_generation_time() {
    let sglang = SimProcess::ready(&["-m", "sglang.launch_server", "--model-path", "m"]);
    let vllm = SimProcess::ready(&["serve", "m"]);
    runtime().block_on(async {
        let client = client();
        let started = std::time::Instant::now();
        assert!(
            client
                .get(format!("{}/health", sglang.url()))
                .send()
                .await
                .unwrap()
                .status()
                .is_success()
        );
        assert!(started.elapsed() >= Duration::from_millis(950), "{:?}", started.elapsed());
        let started = std::time::Instant::now();
        assert!(
            client
                .get(format!("{}/health", vllm.url()))
                .send()
                .await
                .unwrap()
                .status()
                .is_success()
        );
        assert!(started.elapsed() < Duration::from_millis(500));
    });
}

#[test]
fn startup_log_walks_through_the_engine_phases() {
    use aimdeck::engine::startup::StartupTracker;
    use aimdeck::model::StartupPhase;
    use std::io::{BufRead, BufReader};
    for flavor in ["vllm", "sglang"] {
        let port = sim_support::free_port().to_string();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_aimdeck-sim"))
            .args([
                "--flavor",
                flavor,
                "--model",
                "m",
                "--host",
                "127.0.0.1",
                "--port",
                &port,
                "--startup-delay",
                "300ms",
            ])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut tracker = StartupTracker::new(0);
        let mut phases = Vec::new();
        for (i, line) in BufReader::new(stderr).lines().enumerate() {
            let line = line.unwrap();
            if tracker.observe_line(&line, i as i64) {
                phases.push(tracker.phase.unwrap());
            }
            if line.contains("Uvicorn running on") {
                break;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(
            phases,
            vec![StartupPhase::LoadingWeights, StartupPhase::WarmingUp, StartupPhase::Ready],
            "{flavor}"
        );
    }
}

#[test]
fn sigterm_stops_the_sim_promptly() {
    let mut sim = SimProcess::ready(&["serve", "m"]);
    let pid = sim.pid();
    let status =
        std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(status.success());
    let exit = sim.wait_exit(Duration::from_secs(5)).expect("exited after SIGTERM");
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn fault_flags_fail_then_exit_on_schedule() {
    let mut sim = SimProcess::ready(&["serve", "m", "--fail-after", "300ms", "--exit-after", "1s"]);
    runtime().block_on(async {
        let client = client();
        assert_eq!(client.get(format!("{}/health", sim.url())).send().await.unwrap().status(), 200);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(client.get(format!("{}/health", sim.url())).send().await.unwrap().status(), 503);
    });
    let status = sim.wait_exit(Duration::from_secs(5)).expect("exits after --exit-after");
    assert_eq!(status.code(), Some(1));
}
