//! `aimdeck scale NAME N`: add replicas (and wait for them) or remove the highest ones. `0`
//! stops every replica and keeps the deployment (listed `0/0 stopped`); only `rm` removes it.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use color_eyre::eyre::Result;

use super::GlobalArgs;
use super::deploy::{find_deployment, print_deployment, progress_printer, refuse_if_readonly};
use crate::backend::rollout;

#[derive(Debug, Args)]
pub struct ScaleArgs {
    pub name: String,
    /// Number of replicas wanted
    pub replicas: u32,
    /// Seconds to wait for new replicas to answer /health
    #[arg(long, default_value_t = 900)]
    pub wait_secs: u64,
    #[arg(long)]
    pub no_wait: bool,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: ScaleArgs, global: &GlobalArgs) -> Result<ExitCode> {
    refuse_if_readonly(global, "scale")?;
    // Refused before any backend is asked, with the reason.
    crate::backend::validate_replicas(args.replicas)?;
    let (backend, _) = find_deployment(global, &args.name).await?;
    let (progress, printer) = progress_printer();
    let scaled = backend.scale(&args.name, args.replicas, progress.clone()).await;
    let result = match scaled {
        Ok(deployment) if args.no_wait || args.replicas == 0 => Ok(deployment),
        Ok(_) => rollout::wait_ready(backend.as_ref(), &args.name, Duration::from_secs(args.wait_secs), progress).await,
        Err(err) => Err(err),
    };
    drop(printer);
    // Journaled by the backend itself (ops::journaled), once.
    print_deployment(&result?, args.json)?;
    Ok(ExitCode::SUCCESS)
}
