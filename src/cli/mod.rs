//! The command line: no subcommand runs the console; each subcommand is a console action done
//! headless, with `--json` output for scripts. Each subcommand lives in its own file.

mod bench;
mod cache;
mod cache_progress;
mod completions;
pub mod deploy;
mod fit;
mod gpus;
mod gpus_text;
pub mod k8s;
mod logs;
mod ls;
pub mod plan;
mod probe;
mod recipes;
pub(crate) mod render;
mod restart;
mod rm;
mod scale;

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
    /// Extra recipe directory for the console (repeatable; subcommands take their own)
    #[arg(long = "recipes-dir", value_name = "DIR")]
    pub console_recipes_dirs: Vec<PathBuf>,
    /// Hugging Face cache root for the console [default: HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub]
    #[arg(long = "cache-dir", value_name = "DIR")]
    pub console_cache_dir: Option<PathBuf>,
    /// Run the console on aimdeck-sim engines and a recorded 8-GPU topology (no GPU needed)
    #[arg(long)]
    pub demo: bool,
    /// With --demo: the first of the ports its engines use (BASE..BASE+30) [default: the first
    /// free base from 18000 up, so a second demo on the host finds its own]
    #[arg(long, value_name = "BASE", requires = "demo")]
    pub demo_port: Option<u16>,
    /// The config file as read (defaults when it is missing or broken); filled by `run`.
    #[arg(skip)]
    pub settings: crate::config::Config,
}

// Parsed once per process and then taken apart: boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The Hugging Face model cache: list, delete, pull
    Cache(cache::CacheArgs),
    /// Print a shell completion script
    Completions(completions::CompletionsArgs),
    /// Recipes: list, show, select for the hardware, validate, import AIM profiles
    Recipes(recipes::RecipesArgs),
    /// Estimate whether a model fits on GPUs: weights, KV cache, context and concurrency
    Fit(fit::FitArgs),
    /// List this machine's GPUs, their telemetry and how they are connected
    Gpus(gpus::GpusArgs),
    /// Health, engine, models and a metrics summary of a serving endpoint
    Probe(probe::ProbeArgs),
    /// Smoke benchmark: N streaming requests, C at a time; TTFT, ITL, E2E percentiles
    Bench(bench::BenchArgs),
    /// Create a deployment and wait until its replicas are ready
    Deploy(deploy::DeployCommand),
    /// List deployments on every backend
    Ls(ls::LsArgs),
    /// Change the number of replicas of a deployment
    Scale(scale::ScaleArgs),
    /// Restart every replica of a deployment and wait until each is back
    Restart(restart::RestartArgs),
    /// Remove a deployment (every replica, nothing else)
    Rm(rm::RmArgs),
    /// Show a deployment's logs
    Logs(logs::LogsArgs),
    /// Print what `deploy` would create on a backend (docker, process, k8s), creating nothing
    Render(render::RenderCommand),
    /// Kubernetes backend: render, deploy, ls, scale, rm, logs, restart, nodes, contexts, caches, operators
    K8s(k8s::K8sArgs),
}

impl Cli {
    /// The command line, parsed. A bare `aimdeck` (the console with every default, the common
    /// case) skips building clap's command tree: building it for 15 subcommands and their flags
    /// is about a millisecond, a tenth of the time to the console's first frame.
    pub fn from_process_args() -> Cli {
        if std::env::args_os().len() == 1
            && let Some(cli) = Cli::bare()
        {
            return cli;
        }
        Cli::parse()
    }

    /// What clap makes of `aimdeck` with no arguments. The one flag that can come from
    /// elsewhere, `--config` from `AIMDECK_CONFIG`, is read as clap reads it; an empty value
    /// is `None` here, left to clap, which refuses it with its own message. A test compares
    /// this with clap's parse.
    pub fn bare() -> Option<Cli> {
        let config = match std::env::var_os("AIMDECK_CONFIG") {
            Some(value) if value.is_empty() => return None,
            value => value.map(PathBuf::from),
        };
        Some(Cli { global: GlobalArgs { config, ..GlobalArgs::default() }, command: None })
    }
}

/// Runs the console or one subcommand and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let mut global = cli.global;
    match cli.command {
        None => crate::tui::run(console_options(&global)),
        Some(command) => {
            // Headless commands read the config as the console does; a broken one is the same
            // file:line:column warning, and the defaults are used.
            let loaded = crate::ops::settings::load_config(global.config.as_deref());
            if let Some(warning) = &loaded.warning {
                eprintln!("aimdeck: warning: {warning}");
            }
            global.settings = loaded.config;
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(runtime) => runtime,
                Err(err) => {
                    eprintln!("aimdeck: cannot start the async runtime: {err}");
                    return ExitCode::FAILURE;
                }
            };
            let result = runtime.block_on(dispatch(command, &global));
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

/// The console's options from the flags: plain data, so the console depends on no CLI type.
fn console_options(global: &GlobalArgs) -> crate::tui::ConsoleOptions {
    crate::tui::ConsoleOptions {
        config: global.config.clone(),
        theme: global.theme.clone(),
        readonly: global.readonly,
        log_level: global.log_level.clone(),
        backend: global.backend.clone(),
        context: global.context.clone(),
        namespace: global.namespace.clone(),
        kubeconfig: global.kubeconfig.clone(),
        docker_host: global.docker_host.clone(),
        recipes_dirs: global.console_recipes_dirs.clone(),
        cache_dir: global.console_cache_dir.clone(),
        demo: global.demo,
        demo_port: global.demo_port,
    }
}

async fn dispatch(command: Command, global: &GlobalArgs) -> color_eyre::Result<ExitCode> {
    match command {
        Command::Cache(args) => cache::run(args, global).await,
        Command::Completions(args) => completions::run(args),
        Command::Recipes(args) => recipes::run(args, global),
        Command::Fit(args) => fit::run(args, global),
        Command::Gpus(args) => gpus::run(args, global).await,
        Command::Probe(args) => probe::run(args).await,
        Command::Bench(args) => bench::run(args, global).await,
        Command::Deploy(args) => deploy::run(args, global).await,
        Command::Ls(args) => ls::run(args, global).await,
        Command::Scale(args) => scale::run(args, global).await,
        Command::Restart(args) => restart::run(args, global).await,
        Command::Rm(args) => rm::run(args, global).await,
        Command::Logs(args) => logs::run(args, global).await,
        Command::Render(args) => render::run(args, global).await,
        Command::K8s(args) => k8s::run(args, global).await,
    }
}

#[cfg(test)]
mod bare_tests;
