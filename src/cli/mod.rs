//! The command line: no subcommand runs the console; each subcommand is a console action done
//! headless, with `--json` output for scripts. Each subcommand lives in its own file.

mod completions;
pub mod k8s;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "aimdeck",
    version,
    about = "A terminal console for running LLM inference: GPUs, model cache, recipes and live endpoints",
    long_about = None
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags every subcommand and the console share.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Config file [default: ~/.config/aimdeck/config.yaml]
    #[arg(long, global = true, env = "AIMDECK_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Theme name (dark, light, high-contrast, or a file in ~/.config/aimdeck/themes)
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,
    /// Refuse every action that changes anything
    #[arg(long, global = true)]
    pub readonly: bool,
    /// Log level for the log file (error, warn, info, debug, trace)
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Deployment backend (docker, process, k8s)
    #[arg(long, global = true, value_name = "NAME")]
    pub backend: Option<String>,
    /// Kubernetes context
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Kubernetes namespace
    #[arg(short = 'n', long, global = true, value_name = "NS")]
    pub namespace: Option<String>,
    /// Kubeconfig file [default: $KUBECONFIG or ~/.kube/config]
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Docker Engine address [default: $DOCKER_HOST or the local socket]
    #[arg(long, global = true, value_name = "URL")]
    pub docker_host: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a shell completion script
    Completions(completions::CompletionsArgs),
    /// Kubernetes backend: render, deploy, ls, scale, rm, logs, restart, nodes, contexts, caches, operators
    K8s(k8s::K8sArgs),
}

/// Runs the console or one subcommand and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        None => crate::tui::run(&cli.global),
        Some(command) => {
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(runtime) => runtime,
                Err(err) => {
                    eprintln!("aimdeck: cannot start the async runtime: {err}");
                    return ExitCode::FAILURE;
                }
            };
            let result = runtime.block_on(dispatch(command, &cli.global));
            match result {
                Ok(code) => code,
                Err(err) => {
                    eprintln!("aimdeck: {err:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

async fn dispatch(command: Command, global: &GlobalArgs) -> color_eyre::Result<ExitCode> {
    let _ = global;
    match command {
        Command::Completions(args) => completions::run(args),
        Command::K8s(args) => k8s::run(args, global).await,
    }
}
