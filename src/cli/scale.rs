//! `aimdeck scale NAME N`: add replicas (and wait for them) or remove the highest ones. `0`
//! stops every replica and keeps the deployment (listed `0/0 stopped`); only `rm` removes it.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use color_eyre::eyre::Result;

use super::GlobalArgs;
use super::deploy::{
    backend_config, find_deployment, print_deployment, progress_printer, refuse_if_readonly,
};
use crate::backend::docker::NetworkMode;
use crate::backend::placement::PlacementPolicy;
use crate::backend::rollout;
use crate::ops::gather;

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
    /// Also place new replicas on degraded GPUs; failed GPUs are never used
    #[arg(long)]
    pub allow_degraded: bool,
    /// Place new replicas on compute partitions and MIG devices
    #[arg(long)]
    pub partitions: bool,
}

pub async fn run(args: ScaleArgs, global: &GlobalArgs) -> Result<ExitCode> {
    refuse_if_readonly(global, "scale")?;
    // Refused before any backend is asked, with the reason.
    crate::backend::validate_replicas(args.replicas)?;
    let (mut backend, deployment) = find_deployment(global, &args.name).await?;
    if args.replicas as usize > deployment.replicas.len()
        && !crate::ops::request::is_cluster_backend(backend.name())
    {
        // New replicas go where a deploy would put them: the same health, unmanaged-process
        // and partition rules, from a discovery pass now.
        let policy =
            PlacementPolicy { allow_degraded: args.allow_degraded, partitions: args.partitions };
        let mut config = backend_config(global, NetworkMode::default());
        let (all, _) = config.open_all(false);
        config.gpus = gather::placement_inventory(&all, policy).await;
        backend = config.open(backend.name())?;
    }
    let (progress, printer) = progress_printer();
    let scaled = backend.scale(&args.name, args.replicas, progress.clone()).await;
    let result = match scaled {
        Ok(deployment) if args.no_wait || args.replicas == 0 => Ok(deployment),
        Ok(_) => {
            rollout::wait_ready(
                backend.as_ref(),
                &args.name,
                Duration::from_secs(args.wait_secs),
                progress,
            )
            .await
        }
        Err(err) => Err(err),
    };
    drop(printer);
    // Journaled by the backend itself (ops::journaled), once.
    print_deployment(&result?, args.json)?;
    Ok(ExitCode::SUCCESS)
}
