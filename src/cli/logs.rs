//! `aimdeck logs NAME [-f] [--replica I]`: replica logs; with several replicas each line is
//! prefixed by its replica index.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use color_eyre::eyre::Result;
use futures::StreamExt;

use super::GlobalArgs;
use super::deploy::find_deployment;
use crate::backend::LogOptions;

#[derive(Debug, Args)]
pub struct LogsArgs {
    pub name: String,
    /// Keep printing new lines
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Only this replica
    #[arg(long)]
    pub replica: Option<u32>,
    /// Start with the last N lines of each replica
    #[arg(long)]
    pub tail: Option<usize>,
}

pub async fn run(args: LogsArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let (backend, deployment) = find_deployment(global, &args.name).await?;
    let prefix = args.replica.is_none() && deployment.replicas.len() > 1;
    let options = LogOptions { replica: args.replica, follow: args.follow, tail: args.tail };
    let mut lines = backend.logs(&args.name, options).await?;
    let mut out = std::io::stdout().lock();
    while let Some(line) = lines.next().await {
        let line = line?;
        let written = if prefix {
            writeln!(out, "[{}] {}", line.replica, line.text)
        } else {
            writeln!(out, "{}", line.text)
        };
        if written.is_err() {
            break; // stdout closed (`| head`)
        }
    }
    Ok(ExitCode::SUCCESS)
}
