//! deploy, scale (to zero too), restart and rm on the process backend, and the journal they leave.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_ls_scale_logs_rm_with_the_process_backend() {
    let state = tempfile::tempdir().unwrap();
    let name = unique_name("cli");
    let port = free_ports(2);
    let deployed = aimdeck(state.path())
        .args([
            "deploy",
            &name,
            "--model",
            "Qwen/Qwen2.5-0.5B-Instruct",
            "--backend",
            "process",
            "--command",
            SIM,
        ])
        .args(["--port", &port.to_string(), "--replicas", "1", "--json", "--wait-secs", "20"])
        .assert()
        .success();
    let deployment = json(&deployed.get_output().stdout);
    assert_eq!(deployment["name"], name.as_str());
    assert_eq!(deployment["replicas"][0]["state"], "ready");
    assert_eq!(http_get(port, "/health").await.map(|r| r.0), Some(200));

    let listed =
        aimdeck(state.path()).args(["ls", "--backend", "process", "--json"]).assert().success();
    let listed = json(&listed.get_output().stdout);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["spec"]["model"], "Qwen/Qwen2.5-0.5B-Instruct");

    let scaled = aimdeck(state.path())
        .args(["scale", &name, "2", "--json", "--wait-secs", "20"])
        .assert()
        .success();
    let scaled = json(&scaled.get_output().stdout);
    assert_eq!(scaled["replicas"][1]["port"], port + 1);
    assert_eq!(scaled["replicas"][1]["state"], "ready");

    let logs = aimdeck(state.path()).args(["logs", &name, "--replica", "1"]).assert().success();
    let logs = String::from_utf8_lossy(&logs.get_output().stdout).to_string();
    assert!(logs.contains(&format!("Uvicorn running on http://127.0.0.1:{}", port + 1)), "{logs}");

    // Without --yes and without a terminal, nothing is removed.
    aimdeck(state.path()).args(["rm", &name]).assert().failure();
    assert_eq!(http_get(port, "/health").await.map(|r| r.0), Some(200));
    aimdeck(state.path()).args(["--readonly", "rm", &name, "--yes"]).assert().failure();
    aimdeck(state.path()).args(["rm", &name, "--yes"]).assert().success();
    assert!(http_get(port, "/health").await.is_none());
    assert!(http_get(port + 1, "/health").await.is_none());

    let journal = std::fs::read_to_string(state.path().join("aimdeck/journal.jsonl")).unwrap();
    let entries: Vec<serde_json::Value> = journal.lines().map(|l| json(l.as_bytes())).collect();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["deploy", "scale", "rm"]);
    assert!(
        entries
            .iter()
            .all(|e| e["who"] == "tester" && e["result"] == "ok" && e["backend"] == "process")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_to_zero_keeps_the_deployment_and_the_limit_is_enforced_with_its_reason() {
    let state = tempfile::tempdir().unwrap();
    let name = unique_name("zero");
    let port = free_ports(2);
    deploy_sim_no_wait(state.path(), &name, port);
    let too_many = aimdeck(state.path()).args(["scale", &name, "1000"]).assert().failure();
    let err = String::from_utf8_lossy(&too_many.get_output().stderr).to_string();
    assert!(err.contains("at most 64 per deployment"), "{err}");
    aimdeck(state.path()).args(["scale", &name, "0"]).assert().success();
    let listed = aimdeck(state.path()).args(["ls", "--backend", "process"]).assert().success();
    let listed = String::from_utf8_lossy(&listed.get_output().stdout).to_string();
    let row = listed.lines().find(|l| l.starts_with(&name)).unwrap_or_else(|| panic!("{listed}"));
    assert!(row.contains("0/0 stopped"), "{row}");
    aimdeck(state.path()).args(["scale", &name, "1", "--wait-secs", "20"]).assert().success();
    assert_eq!(http_get(port, "/health").await.map(|r| r.0), Some(200));
    aimdeck(state.path()).args(["rm", &name, "--yes"]).assert().success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_reports_each_replica_and_fails_when_one_does_not_come_back() {
    let state = tempfile::tempdir().unwrap();
    let name = unique_name("again");
    let port = free_ports(2);
    deploy_sim_no_wait(state.path(), &name, port);
    aimdeck(state.path()).args(["scale", &name, "2", "--wait-secs", "20"]).assert().success();
    let done = aimdeck(state.path())
        .args(["restart", &name, "--json", "--wait-secs", "20"])
        .assert()
        .success();
    let report = json(&done.get_output().stdout);
    let replicas = report.as_array().unwrap_or_else(|| panic!("one entry per replica: {report}"));
    assert_eq!(replicas.len(), 2, "{report}");
    assert!(replicas.iter().all(|r| r["ready"] == true && r["state"] == "ready"), "{report}");
    assert_eq!(http_get(port + 1, "/health").await.map(|r| r.0), Some(200));
    aimdeck(state.path()).args(["rm", &name, "--yes"]).assert().success();

    // A deployment whose engine cannot start a second time: the restart fails, naming it.
    let broken = unique_name("noback");
    let marker = state.path().join("started-once");
    // Runs the first time; every later start exits at once (the engine's arguments ignored).
    let script = state.path().join("engine-once.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\ntest -f {0} && exit 3\ntouch {0}\nexec sleep 30\n", marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    aimdeck(state.path())
        .args([
            "deploy",
            &broken,
            "--model",
            "Qwen/Qwen2.5-0.5B-Instruct",
            "--backend",
            "process",
            "--command",
            script.to_str().unwrap(),
        ])
        .args(["--port", &free_ports(1).to_string(), "--no-wait"])
        .assert()
        .success();
    for _ in 0..100 {
        if marker.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let failed = aimdeck(state.path())
        .args(["restart", &broken, "--json", "--wait-secs", "5"])
        .assert()
        .failure();
    let report = json(&failed.get_output().stdout);
    assert_eq!(report[0]["ready"], false, "{report}");
    let err = String::from_utf8_lossy(&failed.get_output().stderr).to_string();
    assert!(
        err.contains(&format!("restarting `{broken}`: 1 of 1 replicas did not come back")),
        "{err}"
    );
    aimdeck(state.path()).args(["rm", &broken, "--yes"]).assert().success();
}

#[test]
fn readonly_refuses_deploy_and_a_bad_name_is_a_clear_error() {
    let state = tempfile::tempdir().unwrap();
    let port = free_ports(1).to_string();
    let refused = aimdeck(state.path())
        .args([
            "--readonly",
            "deploy",
            "ro",
            "--model",
            "m",
            "--backend",
            "process",
            "--command",
            SIM,
            "--port",
            &port,
        ])
        .assert()
        .failure();
    assert!(
        String::from_utf8_lossy(&refused.get_output().stderr)
            .contains("--readonly: refusing to deploy")
    );
    let bad = aimdeck(state.path())
        .args([
            "deploy",
            "Bad_Name",
            "--model",
            "m",
            "--backend",
            "process",
            "--command",
            SIM,
            "--port",
            &port,
        ])
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&bad.get_output().stderr).to_string();
    assert!(
        stderr.contains("deployment name `Bad_Name`: expected 1-48 lowercase letters"),
        "{stderr}"
    );
}
