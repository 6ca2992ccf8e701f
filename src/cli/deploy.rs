//! `aimdeck deploy NAME --model M ...`: create a deployment on a backend, show the rollout,
//! and wait until every replica answers `/health`. `--dry-run` prints what would be created.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use color_eyre::eyre::{Result, bail, eyre};

use super::GlobalArgs;
use crate::backend::docker::{DockerOptions, NetworkMode};
use crate::backend::journal::{self, JournalEntry};
use crate::backend::registry::{self, BackendOptions};
use crate::backend::placement::{self, PlacementPolicy};
use crate::backend::{Backend, BackendError, host_gpus, rollout};
use crate::model::{Deployment, DeploymentSpec, EngineKind, GpuVendor, Parallelism};

#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    /// Deployment name (lowercase letters, digits, `-`)
    pub name: String,
    /// Hugging Face repo id or local path of the model
    #[arg(long, short = 'm')]
    pub model: String,
    /// Recipe the deployment follows (recorded in the `aimdeck.io/recipe` label)
    #[arg(long)]
    pub recipe: Option<String>,
    /// Serving engine: vllm or sglang
    #[arg(long, default_value = "vllm")]
    pub engine: EngineKind,
    #[arg(long, default_value_t = 1)]
    pub replicas: u32,
    /// Container image (Docker); a default engine image per vendor when unset
    #[arg(long)]
    pub image: Option<String>,
    /// Port of replica 0; replica i uses port+i [default: 8000 for vLLM, 30000 for SGLang]
    #[arg(long)]
    pub port: Option<u16>,
    /// Tensor parallel size
    #[arg(long, default_value_t = 1)]
    pub tp: u32,
    /// Pipeline parallel size
    #[arg(long, default_value_t = 1)]
    pub pp: u32,
    /// GPUs each replica holds [default: tp x pp; 0 on a host without GPUs]
    #[arg(long)]
    pub gpus_per_replica: Option<u32>,
    /// GPU vendor: amd or nvidia [default: detected]
    #[arg(long)]
    pub vendor: Option<String>,
    #[arg(long)]
    pub max_model_len: Option<u64>,
    #[arg(long)]
    pub served_model_name: Option<String>,
    /// Program to run in the engine's place, with the engine's arguments (e.g. aimdeck-sim)
    #[arg(long, value_name = "PROGRAM")]
    pub command: Option<String>,
    /// Environment for every replica, NAME=VALUE (repeatable)
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// Docker network: host (a port per replica) or bridge (ports published on 127.0.0.1)
    #[arg(long, default_value = "host")]
    pub network: NetworkMode,
    /// Also place replicas on degraded GPUs (throttling, correctable ECC storm, slow PCIe link);
    /// failed GPUs are never used
    #[arg(long)]
    pub allow_degraded: bool,
    /// Place replicas on compute partitions (an MI300X in CPX is 8 logical GPUs)
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

/// The backend name: `--backend`, else the config's default, else docker.
pub(super) fn backend_name(global: &GlobalArgs) -> String {
    global.backend.clone().unwrap_or_else(|| "docker".to_string())
}

pub(super) fn backend_options(global: &GlobalArgs, network: NetworkMode) -> BackendOptions {
    let mut options = BackendOptions::new(crate::paths::state_dir());
    options.gpus = host_gpus::detect();
    options.docker_host = global.docker_host.clone();
    options.docker = DockerOptions { network, ..DockerOptions::default() };
    options.kubernetes = crate::backend::kubernetes::KubeTarget {
        kubeconfig: global.kubeconfig.clone(),
        context: global.context.clone(),
        namespace: global.namespace.clone(),
        timeout: None,
    };
    options
}

/// Finds which backend holds `name`: the one named by `--backend`, else the first that has it.
pub(super) async fn find_deployment(global: &GlobalArgs, name: &str) -> Result<(Arc<dyn Backend>, Deployment)> {
    let options = backend_options(global, NetworkMode::default());
    let names: Vec<String> = match &global.backend {
        Some(one) => vec![one.clone()],
        None => registry::NAMES.iter().map(|n| n.to_string()).collect(),
    };
    let mut problems = Vec::new();
    for backend_name in names {
        let backend = registry::open(&backend_name, &options)?;
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

pub(super) fn record(backend: &str, action: &str, target: String, result: &Result<impl Sized, impl std::fmt::Display>) {
    let entry = JournalEntry::new(backend, action, target, result);
    if let Err(err) = journal::append(&crate::paths::state_dir(), &entry) {
        eprintln!("aimdeck: warning: journal not written: {err}");
    }
}


/// Builds the spec from the flags; `backend` decides whether an image is needed.
/// `host_gpus`: how many GPUs the host has; without any, replicas default to none (a CPU
/// stand-in such as aimdeck-sim) instead of failing placement.
pub(super) fn spec_from_args(args: &DeployArgs, backend: &str, host_gpus: usize) -> Result<DeploymentSpec> {
    let vendor = match args.vendor.as_deref() {
        Some("amd") => Some(GpuVendor::Amd),
        Some("nvidia") => Some(GpuVendor::Nvidia),
        Some(other) => bail!("--vendor: unknown `{other}`, expected amd or nvidia"),
        None if std::path::Path::new("/dev/kfd").exists() => Some(GpuVendor::Amd),
        None if std::path::Path::new("/dev/nvidiactl").exists() => Some(GpuVendor::Nvidia),
        None => None,
    };
    let mut env = BTreeMap::new();
    for pair in &args.env {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--env `{pair}`: expected NAME=VALUE");
        };
        env.insert(key.to_string(), value.to_string());
    }
    let image = match (&args.image, backend) {
        (Some(image), _) => Some(image.clone()),
        (None, "docker") => Some(crate::engine::images::default_image(args.engine, vendor).ok_or_else(|| {
            eyre!("--image: SGLang's ROCm images are tagged per release and GPU; name one, e.g. lmsysorg/sglang:v0.5.5-rocm700-mi30x")
        })?),
        _ => None,
    };
    let command = match &args.command {
        Some(line) => {
            let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
            if words.is_empty() {
                bail!("--command: expected a program, got nothing");
            }
            Some(words)
        }
        None => None,
    };
    let default_port = match args.engine {
        EngineKind::Vllm => 8000,
        EngineKind::Sglang => 30000,
    };
    let cache_home = crate::paths::hf_hub_cache(None).parent().map(std::path::Path::to_path_buf);
    Ok(DeploymentSpec {
        name: args.name.clone(),
        model: args.model.clone(),
        served_model_name: args.served_model_name.clone(),
        engine: args.engine,
        recipe_id: args.recipe.clone(),
        image,
        command,
        gpu_vendor: vendor,
        gpus_per_replica: args.gpus_per_replica.unwrap_or(if host_gpus == 0 { 0 } else { args.tp * args.pp }),
        parallelism: Parallelism { tp: args.tp, pp: args.pp, dp: 1 },
        replicas: args.replicas,
        precision: None,
        kv_cache_dtype: Default::default(),
        max_model_len: args.max_model_len,
        gpu_memory_utilization: None,
        port: args.port.unwrap_or(default_port),
        host: "127.0.0.1".into(),
        engine_args: Default::default(),
        extra_args: args.extra_args.clone(),
        env,
        cache_dir: if backend == "docker" { cache_home } else { None },
    })
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
        println!("{} ({}): {} ready", deployment.name, deployment.backend, deployment.ready_summary());
        for replica in &deployment.replicas {
            println!("  {}  {}  {}  {}", replica.name, replica.state, replica.url(), gpus_text(&replica.gpus));
        }
    }
    Ok(())
}

pub(super) fn gpus_text(gpus: &[u32]) -> String {
    if gpus.is_empty() { "-".into() } else { crate::backend::allocator::gpu_label(gpus) }
}

pub async fn run(command: DeployCommand, global: &GlobalArgs) -> Result<ExitCode> {
    let backend_name = backend_name(global);
    let mut options = backend_options(global, command.deploy.network);
    let mut backend = registry::open(&backend_name, &options)?;
    // Health, partitions and processes aimdeck did not start decide where replicas may go.
    let policy = PlacementPolicy { allow_degraded: command.deploy.allow_degraded, partitions: command.deploy.partitions };
    let detected = placement::detect(&[backend.as_ref()], policy).await;
    if let Some(gpus) = detected {
        options.gpus = gpus;
        backend = registry::open(&backend_name, &options)?;
    }
    let spec = spec_from_args(&command.deploy, &backend_name, options.gpus.len())?;
    if command.dry_run {
        println!("{}", serde_json::to_string_pretty(&backend.render(&spec)?)?);
        return Ok(ExitCode::SUCCESS);
    }
    refuse_if_readonly(global, "deploy")?;
    let (progress, printer) = progress_printer();
    let created = backend.create(&spec, progress.clone()).await;
    let result = match created {
        Ok(_) if command.no_wait => backend.get(&spec.name).await,
        Ok(_) => rollout::wait_ready(backend.as_ref(), &spec.name, Duration::from_secs(command.wait_secs), progress).await,
        Err(err) => Err(err),
    };
    drop(printer);
    let target = format!("{} ({} x {})", spec.name, spec.replicas, spec.model);
    record(backend.name(), "deploy", target, &result);
    print_deployment(&result?, command.json)?;
    Ok(ExitCode::SUCCESS)
}
