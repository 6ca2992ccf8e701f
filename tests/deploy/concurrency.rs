//! No orphans under an operator's hands: a random mix of concurrent operations on a few
//! deployments (create, scale up/down/to 0, restart, rm), from separate `aimdeck` CLI
//! processes and from a console-side backend in this process (the calls the console's tasks
//! make), with `kill -9` of CLI processes mid-operation. At the end every engine process (every
//! container) labelled for the test is accounted for by a listed deployment, and after `rm` of
//! every deployment none is left. Bounded in time; everything on 127.0.0.1.
//!
//! `AIMDECK_CONCURRENCY_OPS` (default 100) sets the number of operations; `AIMDECK_SEED` the
//! random seed (printed, so a failure can be replayed).

use crate::support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aimdeck::backend::docker::{DockerBackend, DockerOptions, NetworkMode};
use aimdeck::backend::process::ProcessBackend;
use aimdeck::backend::{Backend, BackendError};
use aimdeck::model::{Deployment, DeploymentSpec};
use support::{
    DockerCleanup, SIM, docker_available, ensure_sim_image, free_ports, sim_spec, unique_name,
};

const CONCURRENT: usize = 6;
const MAX_REPLICAS: u32 = 3;

struct Rig {
    backend: &'static str,
    /// `XDG_STATE_HOME` of the CLI processes; the state directory is `aimdeck/` under it.
    home: PathBuf,
    /// Deployment names with the base port reserved for each.
    names: Vec<(String, u16)>,
    console: Arc<dyn Backend>,
    image: Option<String>,
}

impl Rig {
    fn state_dir(&self) -> PathBuf {
        self.home.join("aimdeck")
    }

    fn spec(&self, name: &str, port: u16, replicas: u32) -> DeploymentSpec {
        match &self.image {
            Some(image) => {
                let mut spec = sim_spec(name, support::SIM_IN_IMAGE, port, replicas);
                spec.command = None;
                spec.image = Some(image.clone());
                spec
            }
            None => sim_spec(name, SIM, port, replicas),
        }
    }

    fn cli(&self, args: &[String]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_aimdeck"));
        cmd.args(["--backend", self.backend]).args(args);
        cmd.env("XDG_STATE_HOME", &self.home).env("HOME", &self.home).env("USER", "tester");
        cmd.env_remove("KUBECONFIG").env_remove("HF_TOKEN").env("HF_HOME", self.home.join("hf"));
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    fn deploy_args(&self, name: &str, port: u16, replicas: u32) -> Vec<String> {
        let mut args: Vec<String> =
            ["deploy", name, "--model", "Qwen/Qwen2.5-0.5B-Instruct", "--no-wait"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        args.extend(["--port".into(), port.to_string(), "--replicas".into(), replicas.to_string()]);
        match &self.image {
            Some(image) => args.extend(["--image".into(), image.clone()]),
            None => args.extend(["--command".into(), SIM.into()]),
        }
        args
    }
}

/// One random operation. Refusals (busy, not found, already exists, port taken) are expected
/// and ignored: the test is about what is left running, not about every operation succeeding.
async fn one_operation(rig: Arc<Rig>, rng_seed: u64) -> &'static str {
    let mut rng = fastrand::Rng::with_seed(rng_seed);
    let (name, port) = rig.names[rng.usize(..rig.names.len())].clone();
    let replicas = rng.u32(0..=MAX_REPLICAS);
    match rng.u32(..9) {
        0 => {
            run_cli(&rig, rig.deploy_args(&name, port, replicas.max(1)), None).await;
            "cli deploy"
        }
        1 | 2 => {
            run_cli(
                &rig,
                vec!["scale".into(), name, replicas.to_string(), "--no-wait".into()],
                None,
            )
            .await;
            "cli scale"
        }
        3 => {
            run_cli(&rig, vec!["rm".into(), name, "--yes".into()], None).await;
            "cli rm"
        }
        4 => {
            // kill -9 of an aimdeck process in the middle of what it does.
            let kill_after = Duration::from_millis(rng.u64(10..400));
            let args = if rng.bool() {
                rig.deploy_args(&name, port, replicas.max(1))
            } else {
                vec!["scale".into(), name, replicas.max(1).to_string(), "--no-wait".into()]
            };
            run_cli(&rig, args, Some(kill_after)).await;
            "cli kill -9"
        }
        5 => {
            let _ = rig.console.scale(&name, replicas, None).await;
            "console scale"
        }
        6 => {
            let _ = rig.console.restart(&name).await;
            "console restart"
        }
        7 => {
            let _ = rig.console.delete(&name).await;
            "console delete"
        }
        _ => {
            let _ = rig.console.create(&rig.spec(&name, port, replicas.max(1)), None).await;
            "console create"
        }
    }
}

async fn run_cli(rig: &Rig, args: Vec<String>, kill_after: Option<Duration>) {
    let mut child = rig.cli(&args).spawn().expect("aimdeck runs");
    match kill_after {
        Some(after) => {
            if tokio::time::timeout(after, child.wait()).await.is_err() {
                let _ = child.start_kill();
                let _ = child.wait().await;
            }
        }
        None => {
            let status = tokio::time::timeout(Duration::from_secs(60), child.wait()).await;
            assert!(status.is_ok(), "aimdeck {args:?} did not finish within 60 s");
        }
    }
}

/// The engines actually running for this rig, found without the code under test: process
/// group leaders whose environment names the rig's state directory, or containers with the
/// deployment labels (parked containers of deployments at 0 are not engines).
fn engines(rig: &Rig) -> BTreeSet<String> {
    match rig.image {
        None => labelled_leaders(&rig.state_dir()).into_iter().map(|pid| pid.to_string()).collect(),
        Some(_) => rig
            .names
            .iter()
            .flat_map(|(name, _)| {
                let out = std::process::Command::new("docker")
                    .args([
                        "ps",
                        "-a",
                        "--no-trunc",
                        "--filter",
                        &format!("label=aimdeck.io/deployment={name}"),
                    ])
                    .args(["--filter", "label=aimdeck.io/replica", "--format", "{{.ID}}"])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect::<Vec<_>>()
            })
            .collect(),
    }
}

fn labelled_leaders(state_dir: &Path) -> Vec<u32> {
    let want = format!("AIMDECK_STATE_DIR={}", state_dir.display());
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else { continue };
        if !env.split(|&b| b == 0).any(|kv| kv == want.as_bytes()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let fields: Vec<&str> =
            stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
        let leader = fields.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(pid);
        if leader && !matches!(fields.first(), Some(&"Z") | Some(&"X")) {
            pids.push(pid);
        }
    }
    pids
}

/// What `aimdeck ls --json` lists (it reconciles first), as engine ids.
async fn listed(rig: &Rig) -> (Vec<Deployment>, BTreeSet<String>) {
    let mut cmd = rig.cli(&["ls".into(), "--json".into()]);
    cmd.stdout(std::process::Stdio::piped());
    let out = tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .expect("ls within 30 s")
        .unwrap();
    assert!(out.status.success(), "ls failed: {}", String::from_utf8_lossy(&out.stderr));
    let deployments: Vec<Deployment> = serde_json::from_slice(&out.stdout).unwrap();
    let ours: Vec<Deployment> =
        deployments.into_iter().filter(|d| rig.names.iter().any(|(n, _)| n == &d.name)).collect();
    let ids = ours
        .iter()
        .flat_map(|d| d.replicas.iter())
        .filter_map(|r| match rig.image {
            None => r.pid().filter(|&p| p != 0).map(|p| p.to_string()),
            Some(_) => r.container_id().map(str::to_string),
        })
        .collect();
    (ours, ids)
}

async fn run_mix(rig: Rig, operations: usize, budget: Duration) {
    let rig = Arc::new(rig);
    let seed = std::env::var("AIMDECK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("{} backend: {operations} operations, seed {seed}", rig.backend);
    let started = Instant::now();
    let mut rng = fastrand::Rng::with_seed(seed);
    let semaphore = Arc::new(tokio::sync::Semaphore::new(CONCURRENT));
    let mut tasks = Vec::new();
    for _ in 0..operations {
        let permit = semaphore.clone().acquire_owned().await.unwrap();
        let (rig, op_seed) = (rig.clone(), rng.u64(..));
        tasks.push(tokio::spawn(async move {
            let kind = one_operation(rig, op_seed).await;
            drop(permit);
            kind
        }));
    }
    let mut counts = std::collections::BTreeMap::new();
    for task in tasks {
        *counts.entry(task.await.unwrap()).or_insert(0) += 1;
    }
    eprintln!("{} backend: {counts:?} in {:.1} s", rig.backend, started.elapsed().as_secs_f64());

    // Every engine is accounted for by a listed deployment.
    let (deployments, ids) = listed(&rig).await;
    let running = engines(&rig);
    eprintln!(
        "{} backend: at the end {} deployments listed, {} engines running",
        rig.backend,
        deployments.len(),
        running.len()
    );
    let orphans: Vec<&String> = running.difference(&ids).collect();
    assert!(
        orphans.is_empty(),
        "{} engines no listed deployment accounts for: {orphans:?} (listed {ids:?})",
        orphans.len()
    );

    // `rm` of every deployment leaves nothing.
    for d in &deployments {
        let out = rig.cli(&["rm".into(), d.name.clone(), "--yes".into()]).output().await.unwrap();
        assert!(out.status.success(), "rm {}: {}", d.name, String::from_utf8_lossy(&out.stderr));
    }
    let (left, _) = listed(&rig).await;
    assert!(
        left.is_empty(),
        "listed after rm: {:?}",
        left.iter().map(|d| &d.name).collect::<Vec<_>>()
    );
    let running = engines(&rig);
    assert!(running.is_empty(), "engines left after rm of every deployment: {running:?}");
    assert!(started.elapsed() < budget, "took {:?}, over the {budget:?} budget", started.elapsed());
}

fn operations() -> usize {
    std::env::var("AIMDECK_CONCURRENCY_OPS").ok().and_then(|n| n.parse().ok()).unwrap_or(100)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_cli_and_console_operations_leave_no_orphan_process() {
    let home = tempfile::tempdir().unwrap();
    let names: Vec<(String, u16)> = (0..3)
        .map(|i| (unique_name(&format!("mix{i}")), free_ports(MAX_REPLICAS as u16)))
        .collect();
    let console: Arc<dyn Backend> = Arc::new(
        ProcessBackend::new(home.path().join("aimdeck"), Vec::new())
            .with_grace(Duration::from_secs(2)),
    );
    let rig =
        Rig { backend: "process", home: home.path().to_path_buf(), names, console, image: None };
    let ops = operations();
    run_mix(rig, ops, Duration::from_secs(60 + ops as u64)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_cli_and_console_operations_leave_no_orphan_container() {
    if !docker_available("concurrent_cli_and_console_operations_leave_no_orphan_container") {
        return;
    }
    let image = ensure_sim_image();
    let home = tempfile::tempdir().unwrap();
    let names: Vec<(String, u16)> = (0..3)
        .map(|i| (unique_name(&format!("dmix{i}")), free_ports(MAX_REPLICAS as u16)))
        .collect();
    let _cleanup: Vec<DockerCleanup> =
        names.iter().map(|(n, _)| DockerCleanup(n.clone())).collect();
    let options = DockerOptions { network: NetworkMode::Host, stop_grace_secs: 2 };
    let console: Arc<dyn Backend> = Arc::new(
        DockerBackend::new(None, Vec::new(), options).with_state_dir(home.path().join("aimdeck")),
    );
    let rig = Rig {
        backend: "docker",
        home: home.path().to_path_buf(),
        names,
        console,
        image: Some(image),
    };
    let ops = operations();
    run_mix(rig, ops, Duration::from_secs(120 + 2 * ops as u64)).await;
}

#[tokio::test]
async fn a_busy_deployment_names_its_writer() {
    let home = tempfile::tempdir().unwrap();
    let held =
        aimdeck::backend::lock::acquire(home.path(), "process", "qwen", "scaled", Duration::ZERO)
            .await
            .unwrap();
    let backend =
        ProcessBackend::new(home.path(), Vec::new()).with_lock_wait(Duration::from_millis(300));
    let err = backend.scale("qwen", 1, None).await.unwrap_err();
    assert!(matches!(err, BackendError::Busy { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("`qwen` is being scaled by pid {} since ", std::process::id())),
        "{text}"
    );
    drop(held);
    assert!(matches!(backend.scale("qwen", 1, None).await, Err(BackendError::NotFound(_))));
}
