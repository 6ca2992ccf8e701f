//! `aimdeck k8s ...`: Kubernetes-only commands (nodes, contexts, cache PVCs, pre-pull jobs,
//! operators, HPA/PDB options, server-side dry run). The shared `deploy`/`ls`/`scale`/`rm`/
//! `logs`/`render` commands reach the cluster through `--backend k8s` instead.
//!
//! Layout: this file holds the arguments and the dispatch, `spec_args.rs` turns flags into a
//! `DeploymentSpec` and render options, `actions.rs` runs each command.

mod actions;
mod spec_args;

use std::process::ExitCode;

use clap::{Args, Subcommand};
use color_eyre::eyre::bail;

use super::GlobalArgs;
use crate::backend::kubernetes::{KubeBackend, KubeTarget, PrepullRequest, list_contexts};
pub use spec_args::{K8sOptionArgs, SpecArgs};

#[derive(Debug, Args)]
pub struct K8sArgs {
    #[command(subcommand)]
    pub command: K8sCommand,
}

#[derive(Debug, Subcommand)]
pub enum K8sCommand {
    /// Print the objects a deployment becomes: k8s (Deployment, Service, ...), nimservice, aimservice, kserve
    Render(RenderArgs),
    /// Apply a deployment with server-side apply (field manager `aimdeck`)
    Deploy(DeployArgs),
    /// List aimdeck deployments in the namespace with their pods
    Ls(JsonArg),
    /// Set a deployment's replicas through the scale subresource
    Scale(ScaleArgs),
    /// Delete everything aimdeck made for a deployment (foreground propagation)
    Rm(RmArgs),
    /// Show a deployment's pod logs
    Logs(LogsArgs),
    /// Restart a deployment's pods like `kubectl rollout restart`
    Restart(NameArg),
    /// Node GPU inventory: capacity, allocatable, allocated, product, memory, taints
    Nodes(JsonArg),
    /// Contexts of the kubeconfig
    Contexts(JsonArg),
    /// PVCs labelled as aimdeck model caches
    Caches(JsonArg),
    /// Start a Job that pre-pulls a model into a cache PVC
    Prepull(PrepullArgs),
    /// NIM Operator and AMD AIM resources (read-only)
    Operators(JsonArg),
    /// Optional APIs the cluster serves
    Apis(JsonArg),
}

#[derive(Debug, Args)]
pub struct JsonArg {
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct NameArg {
    pub name: String,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// k8s, nimservice, aimservice or kserve
    pub target: String,
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub options: K8sOptionArgs,
    /// JSON (a v1 List) instead of YAML
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub options: K8sOptionArgs,
    /// Server-side dry run: the API server validates, nothing is stored
    #[arg(long)]
    pub dry_run: bool,
    /// Take over fields another field manager owns
    #[arg(long)]
    pub force: bool,
    /// Wait until every replica is ready, up to this many seconds
    #[arg(long, value_name = "SECS")]
    pub wait: Option<u64>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ScaleArgs {
    pub name: String,
    pub replicas: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    pub name: String,
    /// Also delete the cache PVC made with this deployment
    #[arg(long)]
    pub include_cache: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    pub name: String,
    #[arg(short, long)]
    pub follow: bool,
    /// The previous (crashed) container's log
    #[arg(long)]
    pub previous: bool,
    #[arg(long)]
    pub tail: Option<i64>,
}

#[derive(Debug, Args)]
pub struct PrepullArgs {
    #[arg(long)]
    pub pvc: String,
    #[arg(long)]
    pub model: String,
    #[arg(long)]
    pub revision: Option<String>,
    #[arg(long, default_value = "vllm/vllm-openai:latest")]
    pub image: String,
    #[arg(long)]
    pub hf_token_secret: Option<String>,
}

pub async fn run(args: K8sArgs, global: &GlobalArgs) -> color_eyre::Result<ExitCode> {
    // A server-side dry run changes nothing: `--readonly` lets it through.
    let mutating = matches!(
        &args.command,
        K8sCommand::Deploy(DeployArgs { dry_run: false, .. })
            | K8sCommand::Scale(_)
            | K8sCommand::Rm(_)
            | K8sCommand::Restart(_)
            | K8sCommand::Prepull(_)
    );
    if mutating && global.readonly {
        bail!("--readonly: refusing to change the cluster");
    }
    match args.command {
        K8sCommand::Render(a) => actions::render_k8s(a, global).await,
        K8sCommand::Deploy(a) => actions::deploy_k8s(a, global).await,
        K8sCommand::Ls(a) => actions::ls_k8s(a, global).await,
        K8sCommand::Scale(a) => actions::scale_k8s(a, global).await,
        K8sCommand::Rm(a) => actions::rm_k8s(a, global).await,
        K8sCommand::Logs(a) => actions::logs_k8s(a, global).await,
        K8sCommand::Restart(a) => {
            connect(global).await?.restart(&a.name).await?;
            println!("restarted {}", a.name);
            Ok(ExitCode::SUCCESS)
        }
        K8sCommand::Nodes(a) => actions::nodes_k8s(a, global).await,
        K8sCommand::Contexts(a) => {
            let contexts = list_contexts(global.kubeconfig.as_deref())?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&contexts)?);
            } else {
                for c in contexts {
                    let mark = if c.current { "*" } else { " " };
                    println!(
                        "{mark} {:<24} {:<20} {}",
                        c.name,
                        c.cluster,
                        c.namespace.unwrap_or_else(|| "default".into())
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        K8sCommand::Caches(a) => {
            let rows = connect(global).await?.cache_pvcs().await?;
            print_rows(a.json, &rows, |r| {
                format!(
                    "{:<32} {:<8} {:<10} {}",
                    r.name,
                    r.phase,
                    r.capacity.clone().or(r.requested.clone()).unwrap_or_default(),
                    r.models.join(",")
                )
            })
        }
        K8sCommand::Prepull(a) => {
            let request = PrepullRequest {
                pvc: a.pvc,
                model: a.model,
                revision: a.revision,
                image: a.image,
                hf_token_secret: a.hf_token_secret.as_deref().map(spec_args::secret_ref),
            };
            let job = connect(global).await?.start_prepull(&request).await?;
            println!("job/{job} started");
            Ok(ExitCode::SUCCESS)
        }
        K8sCommand::Operators(a) => {
            let rows = connect(global).await?.operator_resources().await?;
            print_rows(a.json, &rows, |r| {
                format!(
                    "{:<18} {:<32} {:<10} {}",
                    r.kind,
                    r.name,
                    r.state.clone().unwrap_or_default(),
                    r.source.clone().unwrap_or_default()
                )
            })
        }
        K8sCommand::Apis(_) => {
            let apis = connect(global).await?.discover().await?;
            println!("{}", serde_json::to_string_pretty(&apis)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_rows<T: serde::Serialize>(
    json: bool,
    rows: &[T],
    line: impl Fn(&T) -> String,
) -> color_eyre::Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string_pretty(rows)?);
    } else {
        for row in rows {
            println!("{}", line(row));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn connect(global: &GlobalArgs) -> color_eyre::Result<KubeBackend> {
    let target = KubeTarget {
        kubeconfig: global.kubeconfig.clone(),
        context: global.context.clone(),
        namespace: global.namespace.clone(),
        timeout: None,
    };
    Ok(KubeBackend::connect(&target).await?)
}
