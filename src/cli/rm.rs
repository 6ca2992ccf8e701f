//! `aimdeck rm NAME [--yes]`: remove every replica of a deployment and nothing else. Without
//! `--yes` the name must be typed back.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::Args;
use color_eyre::eyre::{Result, bail};

use super::GlobalArgs;
use super::deploy::{find_deployment, refuse_if_readonly};

#[derive(Debug, Args)]
pub struct RmArgs {
    pub name: String,
    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: RmArgs, global: &GlobalArgs) -> Result<ExitCode> {
    refuse_if_readonly(global, "remove deployments")?;
    let (backend, deployment) = find_deployment(global, &args.name).await?;
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            bail!("refusing to remove `{}` without confirmation: pass --yes", args.name);
        }
        eprint!(
            "Remove `{}` ({} replicas on {})? Type the name to confirm: ",
            args.name,
            deployment.replicas.len(),
            backend.name()
        );
        std::io::stderr().flush()?;
        let mut typed = String::new();
        std::io::stdin().lock().read_line(&mut typed)?;
        if typed.trim() != args.name {
            bail!("not confirmed; `{}` left as it was", args.name);
        }
    }
    let result = backend.delete(&args.name).await;
    // Journaled by the backend itself (ops::journaled), once.
    result?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "removed": args.name, "backend": backend.name(), "replicas": deployment.replicas.len() })
        );
    } else {
        println!(
            "removed {} ({} replicas, {})",
            args.name,
            deployment.replicas.len(),
            backend.name()
        );
    }
    Ok(ExitCode::SUCCESS)
}
