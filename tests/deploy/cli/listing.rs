//! `ls` bounded against wedged backends and quiet without a cluster; `render` and `cache rm` against what is served; `bench` by deployment name.

use super::*;

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
