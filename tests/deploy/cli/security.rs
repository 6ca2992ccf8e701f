//! Issue 21, item 5: the Hugging Face token reaches the engine by its environment only — never
//! an argv (`/proc/PID/cmdline`), the replica's log, the journal, `render`, `ls --json`, or a
//! Kubernetes manifest (a Secret reference there) — and aimdeck's state, journal and log files
//! are private to the user (`0600` files in `0700` directories).

use std::os::unix::fs::PermissionsExt;

use super::*;

const TOKEN: &str = "hf_secret_canary_6d1f0c";

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_stays_in_the_environment_and_state_files_are_private() {
    let state = tempfile::tempdir().unwrap();
    let name = unique_name("sec");
    let port = free_ports(1);
    let deployed = aimdeck(state.path())
        .env("HF_TOKEN", TOKEN)
        .args(["deploy", &name, "--model", "Qwen/Qwen2.5-0.5B-Instruct", "--backend", "process"])
        .args(["--command", SIM, "--port", &port.to_string(), "--json", "--wait-secs", "20"])
        .output()
        .unwrap();
    let result = std::panic::catch_unwind(|| {
        assert!(deployed.status.success(), "{}", String::from_utf8_lossy(&deployed.stderr));
        let deployment = json(&deployed.stdout);
        assert!(!String::from_utf8_lossy(&deployed.stdout).contains(TOKEN));
        let pid = deployment["replicas"][0]["pid"].as_u64().expect("pid") as u32;

        // The engine has the token in its environment (it needs it), not in its argv.
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
        assert!(!String::from_utf8_lossy(&cmdline).contains(TOKEN), "argv carries the token");
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
        assert!(String::from_utf8_lossy(&environ).contains(&format!("HF_TOKEN={TOKEN}")));

        let listed = aimdeck(state.path()).args(["ls", "--json"]).output().unwrap();
        assert!(!String::from_utf8_lossy(&listed.stdout).contains(TOKEN), "ls --json");
        let logs = aimdeck(state.path()).args(["logs", &name]).output().unwrap();
        assert!(!String::from_utf8_lossy(&logs.stdout).contains(TOKEN), "logs");

        // Every file aimdeck wrote: no token, and private to the user.
        let root = state.path().join("aimdeck");
        assert_eq!(mode(&root), 0o700, "{}", root.display());
        let files = walk(&root);
        assert!(files.iter().any(|f| f.ends_with("journal.jsonl")), "{files:?}");
        assert!(files.iter().any(|f| f.extension().is_some_and(|e| e == "log")), "{files:?}");
        for file in &files {
            let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).to_string();
            assert!(!text.contains(TOKEN), "{} carries the token", file.display());
            if file.extension().is_none_or(|e| e != "lock") {
                assert_eq!(mode(file) & 0o077, 0, "{} is readable by others", file.display());
            }
            let dir = file.parent().unwrap();
            assert_eq!(mode(dir) & 0o077, 0, "{} is open to others", dir.display());
        }
    });
    aimdeck(state.path()).args(["rm", &name, "--yes"]).assert().success();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// Rendered for Kubernetes and for each operator, the token is a Secret reference in every
/// object, never its value.
#[test]
fn kubernetes_manifests_reference_the_token_secret() {
    let state = tempfile::tempdir().unwrap();
    for target in ["k8s", "nimservice", "aimservice", "kserve"] {
        let out = aimdeck(state.path())
            .env("HF_TOKEN", TOKEN)
            .args(["k8s", "render", target, "--name", "sec"])
            .args(["--model", "meta-llama/Llama-3.1-8B-Instruct", "--hf-token-secret", "hf-token"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "{target}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!text.contains(TOKEN), "{target}: {text}");
        assert!(text.contains("secretKeyRef"), "{target}: {text}");
    }
}
