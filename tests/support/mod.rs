//! Helpers shared by the integration tests: tmux for driving the real binary, and the backend
//! test helpers (ports, sim specs, the Docker engine and sim image).
#![allow(dead_code)]

pub mod tmux;
pub mod tui;

/// Whether a test that needs `tool` should run: true when it is installed; when it is not, the
/// test is skipped with a message, unless `require_var` is set (as CI does), which fails it.
pub fn tool_available(tool: &str, require_var: &str) -> bool {
    let found =
        std::process::Command::new(tool).arg("-V").output().is_ok_and(|out| out.status.success());
    if !found {
        if std::env::var_os(require_var).is_some_and(|v| v == "1") {
            panic!("{tool} is required ({require_var}=1) but is not installed");
        }
        eprintln!("skipped: {tool} is not installed (set {require_var}=1 to make this a failure)");
    }
    found
}

// Backend test helpers: free port blocks on 127.0.0.1, deployment specs that run `aimdeck-sim`
// in the engine's place, and the Docker engine and sim image for the Docker suite.

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use aimdeck::model::{DeploymentSpec, EngineKind};

pub const SIM: &str = env!("CARGO_BIN_EXE_aimdeck-sim");

/// A base port with `count` consecutive free ports after it.
pub fn free_ports(count: u16) -> u16 {
    for _ in 0..200 {
        // Below Linux's ephemeral range (32768-60999): an outgoing connection's local port can
        // never take a port a test chose for a server.
        let base = 20_000 + fastrand::u16(..12_000);
        if (base..base + count).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            return base;
        }
    }
    panic!("no block of {count} free ports on 127.0.0.1");
}

/// A unique deployment name, so parallel tests and other users of a shared engine never collide.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", fastrand::u32(..).to_string().chars().take(6).collect::<String>())
}

/// A vLLM deployment whose program is `program` (the sim) with the real vLLM arguments.
pub fn sim_spec(name: &str, program: &str, port: u16, replicas: u32) -> DeploymentSpec {
    DeploymentSpec {
        command: Some(vec![program.to_string()]),
        max_model_len: Some(4096),
        ..DeploymentSpec::minimal(
            name,
            "Qwen/Qwen2.5-0.5B-Instruct",
            EngineKind::Vllm,
            replicas,
            port,
        )
    }
}

/// Whether `pid` is alive and not a zombie.
pub fn pid_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !matches!(
            stat.rsplit(')').next().and_then(|rest| rest.trim_start().chars().next()),
            Some('Z' | 'X')
        ),
        Err(_) => false,
    }
}

pub async fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let client =
        reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(3)).build().ok()?;
    let response = client.get(format!("http://127.0.0.1:{port}{path}")).send().await.ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().await.ok()?))
}

/// The Docker suite runs when an engine answers; with `AIMDECK_REQUIRE_DOCKER=1` (CI) a missing
/// engine is a failure instead of a skip.
pub fn docker_available(test: &str) -> bool {
    let ok = std::process::Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !ok {
        if std::env::var("AIMDECK_REQUIRE_DOCKER").is_ok_and(|v| v == "1") {
            panic!(
                "{test}: AIMDECK_REQUIRE_DOCKER=1 but no Docker engine answers (is dockerd running?)"
            );
        }
        eprintln!(
            "{test}: skipped: no Docker engine reachable (start dockerd, or set AIMDECK_REQUIRE_DOCKER=1 to fail)"
        );
    }
    ok
}

pub const SIM_IMAGE: &str = "aimdeck-sim:test";

/// Makes the sim image offline (`tests/support/make-sim-image.sh`: the sim binary plus the
/// shared libraries it links, `docker import`ed), unless one from this very binary exists.
pub fn ensure_sim_image() -> String {
    static MADE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    MADE.get_or_init(make_sim_image);
    SIM_IMAGE.to_string()
}

fn make_sim_image() {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/make-sim-image.sh");
    let status = std::process::Command::new("bash")
        .arg(&script)
        .args([SIM, SIM_IMAGE])
        .status()
        .expect("bash runs make-sim-image.sh");
    assert!(status.success(), "{} failed", script.display());
}

/// Path of the sim inside the image.
pub const SIM_IN_IMAGE: &str = "/usr/local/bin/aimdeck-sim";

/// Removes every container of a deployment when dropped, so a failing Docker test leaves
/// nothing running on the engine.
pub struct DockerCleanup(pub String);

impl Drop for DockerCleanup {
    fn drop(&mut self) {
        let out = std::process::Command::new("docker")
            .args(["ps", "-aq", "--filter", &format!("label=aimdeck.io/deployment={}", self.0)])
            .output();
        if let Ok(out) = out {
            let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect();
            if !ids.is_empty() {
                let _ = std::process::Command::new("docker").args(["rm", "-f"]).args(&ids).output();
            }
        }
    }
}

pub mod engine_proxy;
