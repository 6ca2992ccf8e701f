//! The "done when" against the real Docker engine: `aimdeck deploy demo --image <sim
//! image> --replicas 2 --backend docker` brings up two ready replicas, `scale demo 3` and
//! `rm demo --yes` do what they say.

use crate::support;

use assert_cmd::Command;
use support::{
    DockerCleanup, docker_available, ensure_sim_image, free_ports, http_get, unique_name,
};

fn aimdeck(state: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("aimdeck").unwrap();
    cmd.env("XDG_STATE_HOME", state).env_remove("HF_TOKEN").env("HF_HOME", state.join("hf"));
    cmd
}

fn our_containers(name: &str) -> usize {
    let out = std::process::Command::new("docker")
        .args(["ps", "-q", "--filter", &format!("label=aimdeck.io/deployment={name}")])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).lines().count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_scale_rm_through_the_cli() {
    if !docker_available("deploy_scale_rm_through_the_cli") {
        return;
    }
    let image = ensure_sim_image();
    let state = tempfile::tempdir().unwrap();
    let name = unique_name("demo");
    let _cleanup = DockerCleanup(name.clone());
    let port = free_ports(3);
    aimdeck(state.path())
        .args([
            "deploy",
            &name,
            "--model",
            "Qwen/Qwen2.5-0.5B-Instruct",
            "--image",
            &image,
            "--replicas",
            "2",
        ])
        .args(["--backend", "docker", "--port", &port.to_string(), "--wait-secs", "30"])
        .assert()
        .success();
    assert_eq!(our_containers(&name), 2);
    for p in [port, port + 1] {
        let (status, models) = http_get(p, "/v1/models").await.expect("replica answers");
        assert_eq!(status, 200);
        assert!(models.contains("Qwen/Qwen2.5-0.5B-Instruct"));
    }
    aimdeck(state.path()).args(["scale", &name, "3", "--wait-secs", "30"]).assert().success();
    assert_eq!(our_containers(&name), 3);
    assert_eq!(http_get(port + 2, "/health").await.map(|r| r.0), Some(200));
    aimdeck(state.path()).args(["rm", &name, "--yes"]).assert().success();
    assert_eq!(our_containers(&name), 0);
    assert!(http_get(port, "/health").await.is_none());
}
