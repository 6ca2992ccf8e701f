//! `aimdeck deploy NAME --model M ...`: create a deployment on a backend, show the rollout,
//! and wait until every replica answers `/health`. `--dry-run` prints what would be created.
//! The flags become a request that `ops` resolves (recipe named or chosen, flags over it) and
//! checks against the live GPUs before anything is made; see `plan.rs`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use color_eyre::eyre::{Result, bail};

use super::GlobalArgs;
use crate::backend::docker::NetworkMode;
use crate::backend::registry::{self, BackendOptions};
use crate::backend::{Backend, BackendError, host_gpus, rollout};
use crate::model::{Deployment, EngineKind, Precision};
use crate::ops::BackendConfig;

#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    /// Deployment name (lowercase letters, digits, `-`)
    pub name: String,
    /// Hugging Face repo id or local path of the model
    #[arg(long, short = 'm')]
    pub model: String,
    /// Recipe to follow: its engine, image, GPUs, parallelism, context, engine args and env
    /// [default: the best recipe for the target's GPUs]
    #[arg(long)]
    pub recipe: Option<String>,
    /// No recipe: the engine's defaults and only the flags given
    #[arg(long, conflicts_with = "recipe")]
    pub no_recipe: bool,
    /// Deploy although the recipe's GPU is not here or the GPUs' free memory is short
    #[arg(long)]
    pub force: bool,
    /// Target GPU model, for a cluster that is not reachable from here (with --count)
    #[arg(long, value_name = "TYPE")]
    pub gpu: Option<String>,
    /// Number of GPUs of --gpu on one node
    #[arg(long, value_name = "N", requires = "gpu")]
    pub count: Option<u32>,
    /// Serving engine: vllm or sglang [default: the recipe's, else vllm]
    #[arg(long)]
    pub engine: Option<EngineKind>,
    #[arg(long, default_value_t = 1)]
    pub replicas: u32,
    /// Container image (Docker, Kubernetes) [default: the recipe's, else the engine's per vendor]
    #[arg(long)]
    pub image: Option<String>,
    /// Port of replica 0; replica i uses port+i [default: 8000 for vLLM, 30000 for SGLang]
    #[arg(long)]
    pub port: Option<u16>,
    /// Tensor parallel size [default: the recipe's, else 1]
    #[arg(long)]
    pub tp: Option<u32>,
    /// Pipeline parallel size [default: the recipe's, else 1]
    #[arg(long)]
    pub pp: Option<u32>,
    /// Data parallel size inside the engine [default: the recipe's, else 1]
    #[arg(long)]
    pub dp: Option<u32>,
    /// GPUs each replica holds [default: the recipe's; else tp x pp x dp; 0 on a host without GPUs]
    #[arg(long)]
    pub gpus_per_replica: Option<u32>,
    /// GPU vendor: amd or nvidia [default: the recipe's GPU, else detected]
    #[arg(long)]
    pub vendor: Option<String>,
    #[arg(long)]
    pub max_model_len: Option<u64>,
    /// Weight precision (bf16, fp8, ...) [default: the recipe's]
    #[arg(long)]
    pub precision: Option<Precision>,
    #[arg(long)]
    pub served_model_name: Option<String>,
    /// Program to run in the engine's place, with the engine's arguments (e.g. aimdeck-sim)
    #[arg(long, value_name = "PROGRAM")]
    pub command: Option<String>,
    /// Environment for every replica, NAME=VALUE (repeatable; over the recipe's)
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// Docker network: host (a port per replica) or bridge (ports published on 127.0.0.1)
    #[arg(long, default_value = "host")]
    pub network: NetworkMode,
    /// Also place replicas on degraded GPUs (throttling, correctable ECC storm, slow PCIe link);
    /// failed GPUs are never used
    #[arg(long)]
    pub allow_degraded: bool,
    /// Place replicas on compute partitions (an MI300X in CPX is 8 logical GPUs) and on the
    /// MIG devices of a MIG-enabled NVIDIA GPU
    #[arg(long)]
    pub partitions: bool,
    /// Extra engine flags, after `--`
    #[arg(last = true)]
    pub extra_args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DeployCommand {
    #[command(flatten)]
    pub deploy: DeployArgs,
    /// Print what would be created and create nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Return once the replicas are started instead of waiting for them to be ready
    #[arg(long)]
    pub no_wait: bool,
    /// Seconds to wait for every replica to answer /health
    #[arg(long, default_value_t = 900)]
    pub wait_secs: u64,
    #[arg(long)]
    pub json: bool,
}

/// The backend new deployments go to: `--backend`, else the config's `backend:`, else docker.
pub(super) fn backend_name(global: &GlobalArgs) -> String {
    crate::ops::settings::backend_name(global.backend.as_deref(), &global.settings)
}

/// Backends as every headless command opens them (journaled), from the global flags.
pub(super) fn backend_config(global: &GlobalArgs, network: NetworkMode) -> BackendConfig {
    let mut config = BackendConfig::new(crate::paths::state_dir());
    config.docker_host = global.docker_host.clone();
    config.network = network;
    config.kubeconfig = global.kubeconfig.clone();
    config.context = global.context.clone();
    config.namespace = global.namespace.clone();
    config.gpus = host_gpus::detect();
    config
}

pub(super) fn backend_options(global: &GlobalArgs, network: NetworkMode) -> BackendOptions {
    backend_config(global, network).options()
}

/// Finds which backend holds `name`: the one named by `--backend`, else the first that has it.
pub(super) async fn find_deployment(
    global: &GlobalArgs,
    name: &str,
) -> Result<(Arc<dyn Backend>, Deployment)> {
    let config = backend_config(global, NetworkMode::default());
    let names = registry::names_to_ask(global.backend.as_deref(), global.kubeconfig.as_deref());
    let mut problems = Vec::new();
    for backend_name in names {
        let backend = config.open(&backend_name)?;
        match backend.get(name).await {
            Ok(deployment) => return Ok((backend, deployment)),
            Err(BackendError::NotFound(_)) => {}
            Err(err) => problems.push(format!("{backend_name}: {err}")),
        }
    }
    if problems.is_empty() {
        bail!("deployment `{name}` not found");
    }
    bail!("deployment `{name}` not found ({})", problems.join("; "))
}

pub(super) fn refuse_if_readonly(global: &GlobalArgs, action: &str) -> Result<()> {
    if global.readonly {
        bail!("--readonly: refusing to {action}");
    }
    Ok(())
}

/// Prints rollout progress to stderr as it comes.
pub(super) fn progress_printer() -> (crate::backend::ProgressTx, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<crate::model::BackendEvent>();
    let task = tokio::spawn(async move {
        let mut last_pull = String::new();
        while let Some(event) = rx.recv().await {
            if let crate::model::BackendEventKind::Pull { .. } = event.kind {
                // Pull progress arrives many times a second; show each status once.
                if event.message == last_pull {
                    continue;
                }
                last_pull = event.message.clone();
            }
            eprintln!("{}: {}", event.deployment, event.message);
        }
    });
    (Some(tx), task)
}

pub(super) fn print_deployment(deployment: &Deployment, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(deployment)?);
    } else {
        println!(
            "{} ({}): {} ready",
            deployment.name,
            deployment.backend,
            deployment.ready_summary()
        );
        for replica in &deployment.replicas {
            println!(
                "  {}  {}  {}  {}",
                replica.name,
                replica.state,
                replica.url(),
                gpus_text(&replica.gpus)
            );
        }
    }
    Ok(())
}

pub(super) fn gpus_text(gpus: &[u32]) -> String {
    if gpus.is_empty() { "-".into() } else { crate::backend::allocator::gpu_label(gpus) }
}

pub async fn run(command: DeployCommand, global: &GlobalArgs) -> Result<ExitCode> {
    let backend_name = backend_name(global);
    let plan = super::plan::plan(&command.deploy, global, &backend_name, !command.dry_run).await?;
    super::plan::print_resolution(&plan.resolution);
    let spec = plan.resolution.spec.clone();
    let backend = plan.config.open(&backend_name)?;
    if command.dry_run {
        let mut rendered = backend.render(&spec)?;
        super::plan::add_resolution(&mut rendered, &plan.resolution);
        println!("{}", serde_json::to_string_pretty(&rendered)?);
        return Ok(ExitCode::SUCCESS);
    }
    refuse_if_readonly(global, "deploy")?;
    plan.preflight(&command.deploy)?;
    let (progress, printer) = progress_printer();
    let created = backend.create(&spec, progress.clone()).await;
    let result = match created {
        Ok(_) if command.no_wait => backend.get(&spec.name).await,
        Ok(_) => {
            rollout::wait_ready(
                backend.as_ref(),
                &spec.name,
                Duration::from_secs(command.wait_secs),
                progress,
            )
            .await
        }
        Err(err) => Err(err),
    };
    drop(printer);
    let deployment = result?;
    if command.json {
        let mut value = serde_json::to_value(&deployment)?;
        super::plan::add_resolution(&mut value, &plan.resolution);
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_deployment(&deployment, false)?;
    }
    Ok(ExitCode::SUCCESS)
}
