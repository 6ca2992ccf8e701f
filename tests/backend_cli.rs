//! The deploy/ls/scale/logs/rm/render subcommands end to end on the process backend, as a user
//! runs them, with the state directory (and so the journal) in a temp dir.

#[path = "support/cache_tree.rs"]
mod cache_tree;
mod support;

use assert_cmd::Command;
use support::{SIM, free_ports, http_get, unique_name};

fn aimdeck(state: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("aimdeck").unwrap();
    cmd.env("XDG_STATE_HOME", state)
        .env("USER", "tester")
        .env_remove("HF_TOKEN")
        .env("HF_HOME", state.join("hf"));
    // No cluster: `cache rm` asks every configured backend, and a kubeconfig would add one.
    cmd.env_remove("KUBECONFIG").env_remove("HF_HUB_CACHE").env("HOME", state);
    cmd
}

fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(out)))
}

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

#[test]
fn render_prints_the_command_and_redacts_the_token() {
    let state = tempfile::tempdir().unwrap();
    let out = aimdeck(state.path())
        .env("HF_TOKEN", "hf_do_not_print_me")
        .args([
            "render",
            "process",
            "r1",
            "--model",
            "Qwen/Qwen2.5-0.5B-Instruct",
            "--replicas",
            "2",
            "--port",
            "9000",
        ])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(!text.contains("hf_do_not_print_me"), "{text}");
    assert!(text.contains("HF_TOKEN=<redacted>"), "{text}");
    assert!(
        text.contains("vllm serve Qwen/Qwen2.5-0.5B-Instruct --host 127.0.0.1 --port 9001"),
        "{text}"
    );

    let docker = aimdeck(state.path())
        .env("HF_TOKEN", "hf_do_not_print_me")
        .args([
            "render",
            "docker",
            "r1",
            "--model",
            "Qwen/Qwen2.5-0.5B-Instruct",
            "--image",
            "vllm/vllm-openai:v0.11.0",
        ])
        .assert()
        .success();
    let rendered = json(&docker.get_output().stdout);
    let config = &rendered["containers"][0]["config"];
    assert_eq!(rendered["containers"][0]["name"], "aimdeck-r1-0");
    assert_eq!(config["Image"], "vllm/vllm-openai:v0.11.0");
    assert_eq!(config["Labels"]["aimdeck.io/managed-by"], "aimdeck");
    assert!(config["Env"].as_array().unwrap().iter().any(|e| e == "HF_TOKEN=<redacted>"));
    assert!(!String::from_utf8_lossy(&docker.get_output().stdout).contains("hf_do_not_print_me"));
}

/// `cache rm` of a model a running deployment serves: the plan names the deployment, `--yes`
/// alone refuses and deletes nothing, `--yes --force` deletes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_rm_of_a_served_model_needs_force() {
    let state = tempfile::tempdir().unwrap();
    let name = unique_name("held");
    let port = free_ports(1);
    let model = "acme/held-model";
    let repo = state.path().join("hf/hub/models--acme--held-model");
    cache_tree::blob(&repo, "e1", 4_000);
    cache_tree::link(&repo, &cache_tree::commit(1), "config.json", "e1");
    cache_tree::write_ref(&repo, "main", &cache_tree::commit(1));

    aimdeck(state.path())
        .args(["deploy", &name, "--model", model, "--backend", "process", "--command", SIM])
        .args(["--port", &port.to_string(), "--wait-secs", "20"])
        .assert()
        .success();

    let plan = aimdeck(state.path())
        .args(["cache", "rm", model, "--dry-run", "--json"])
        .assert()
        .success();
    let plan = json(&plan.get_output().stdout);
    assert_eq!(plan["held_by"], serde_json::json!([name]), "{plan}");
    assert_eq!(plan["bytes_freed"], 4_000);

    let refused = aimdeck(state.path()).args(["cache", "rm", model, "--yes"]).assert().failure();
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    assert!(
        stderr.contains(&format!("`{model}` is in use by {name}; nothing deleted")),
        "{stderr}"
    );
    assert!(repo.join("blobs/e1").exists(), "a refused delete leaves the blob");

    aimdeck(state.path()).args(["cache", "rm", model, "--yes", "--force"]).assert().success();
    assert!(!repo.exists(), "the repo goes with --force");
    aimdeck(state.path()).args(["rm", &name, "--yes"]).assert().success();
}

/// One sim replica on the process backend, not waited for.
fn deploy_sim_no_wait(state: &std::path::Path, name: &str, port: u16) {
    aimdeck(state)
        .args([
            "deploy",
            name,
            "--model",
            "Qwen/Qwen2.5-0.5B-Instruct",
            "--backend",
            "process",
            "--command",
            SIM,
        ])
        .args(["--port", &port.to_string(), "--no-wait"])
        .assert()
        .success();
}

/// Listeners that accept every connection and never answer: a wedged Docker engine (unix
/// socket) and a wedged Kubernetes API server (TCP on 127.0.0.1). Connections are held open.
fn wedged_endpoints(dir: &std::path::Path) -> (String, u16) {
    let socket = dir.join("wedged-docker.sock");
    let unix = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let tcp = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = tcp.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in unix.incoming() {
            held.push(stream);
        }
    });
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in tcp.incoming() {
            held.push(stream);
        }
    });
    (format!("unix://{}", socket.display()), port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_answers_within_10_s_when_docker_and_the_api_server_are_wedged() {
    let state = tempfile::tempdir().unwrap();
    let name = unique_name("wedge");
    let port = free_ports(1);
    deploy_sim_no_wait(state.path(), &name, port);
    let (docker_host, api_port) = wedged_endpoints(state.path());
    let kubeconfig = state.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: wedged\n  cluster:\n    server: http://127.0.0.1:{api_port}\n\
             contexts:\n- name: wedged\n  context:\n    cluster: wedged\n    user: u\n    namespace: default\n\
             current-context: wedged\nusers:\n- name: u\n  user:\n    token: x\n"
        ),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = aimdeck(state.path())
        .env("DOCKER_HOST", &docker_host)
        .env("KUBECONFIG", &kubeconfig)
        .args(["ls"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(took < std::time::Duration::from_secs(10), "ls took {took:?}; stderr: {stderr}");
    assert!(stdout.contains(&name), "what could be listed is listed: {stdout}");
    assert!(stderr.contains(&format!("docker: no answer from {docker_host} in 5 s")), "{stderr}");
    assert!(stderr.lines().any(|l| l.contains("k8s")), "a line for the API server: {stderr}");
    aimdeck(state.path()).args(["rm", &name, "--yes"]).assert().success();
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

/// Issue 18: without a kubeconfig `ls` says nothing about Kubernetes; asked for it by name, one
/// short line says why it cannot.
#[test]
fn ls_without_a_kubeconfig_is_quiet_and_k8s_by_name_is_one_short_line() {
    let state = tempfile::tempdir().unwrap();
    let out = aimdeck(state.path())
        .env_remove("KUBERNETES_SERVICE_HOST")
        .args(["ls", "--backend", "process"])
        .assert()
        .success();
    assert!(out.get_output().stderr.is_empty(), "{:?}", out.get_output());
    let out = aimdeck(state.path()).env_remove("KUBERNETES_SERVICE_HOST").args(["ls"]).output();
    let stderr = String::from_utf8_lossy(&out.unwrap().stderr).to_string();
    assert!(!stderr.contains("k8s") && !stderr.contains("kubeconfig"), "{stderr}");
    let out = aimdeck(state.path())
        .env_remove("KUBERNETES_SERVICE_HOST")
        .args(["ls", "--backend", "k8s"])
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("no kubeconfig") && lines[0].len() <= 120, "{stderr}");
}

/// Issue 18: `bench NAME` spreads its requests over every ready replica of the deployment, names
/// them, and shows progress (done, running TTFT and tokens/s) on stderr before the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_by_deployment_name_spreads_over_ready_replicas_with_progress() {
    let state = tempfile::tempdir().unwrap();
    let name = unique_name("bench");
    let port = free_ports(2);
    aimdeck(state.path())
        .args(["deploy", &name, "--model", "Qwen/Qwen2.5-0.5B-Instruct", "--backend", "process"])
        .args(["--command", SIM, "--port", &port.to_string(), "--replicas", "2"])
        .args(["--wait-secs", "20"])
        .assert()
        .success();
    let out = aimdeck(state.path())
        .args(["bench", &name, "--requests", "10", "--concurrency", "2", "--json"])
        .args(["--input-tokens", "8", "--output-tokens", "8"])
        .output()
        .unwrap();
    aimdeck(state.path()).args(["rm", &name, "--yes"]).assert().success();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    let report = json(&out.stdout);
    let urls = [format!("http://127.0.0.1:{port}"), format!("http://127.0.0.1:{}", port + 1)];
    let targets = report["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), 2, "{report}");
    for (target, url) in targets.iter().zip(&urls) {
        assert_eq!(target["url"], url.as_str());
        assert_eq!(target["succeeded"], 5, "{report}");
    }
    assert!(stderr.contains(&format!("over 2 replicas: {} {}", urls[0], urls[1])), "{stderr}");
    // Not a terminal: a line per tenth of the run, the last one complete.
    let progress: Vec<&str> = stderr.lines().filter(|l| l.contains(" done, ")).collect();
    assert!(progress.len() >= 5, "{stderr}");
    let last = progress.last().unwrap();
    assert!(last.starts_with("10/10 done, 0 failed, TTFT "), "{stderr}");
    assert!(last.ends_with(" tok/s"), "{stderr}");

    let unknown = aimdeck(state.path()).args(["bench", "nosuch"]).output().unwrap();
    let unknown = String::from_utf8_lossy(&unknown.stderr).to_string();
    assert!(unknown.contains("deployment `nosuch` not found"), "{unknown}");
}
