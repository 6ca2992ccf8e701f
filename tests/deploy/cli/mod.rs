//! The deploy/ls/scale/logs/rm/render subcommands end to end on the process backend, as a user
//! runs them, with the state directory (and so the journal) in a temp dir.

use crate::cache_tree;
use crate::support;

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

/// Every file below `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

mod lifecycle;
mod listing;
mod readonly;
mod security;
