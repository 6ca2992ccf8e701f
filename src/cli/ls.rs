//! `aimdeck ls`: every deployment on every backend (or the one named by `--backend`).

use std::process::ExitCode;

use clap::Args;
use color_eyre::eyre::Result;

use super::GlobalArgs;
use super::deploy::{backend_options, gpus_text};
use crate::backend::docker::NetworkMode;
use crate::backend::registry;
use crate::model::Deployment;

#[derive(Debug, Args)]
pub struct LsArgs {
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: LsArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let options = backend_options(global, NetworkMode::default());
    let names: Vec<String> = match &global.backend {
        Some(one) => vec![one.clone()],
        None => registry::NAMES.iter().map(|n| n.to_string()).collect(),
    };
    let mut all: Vec<Deployment> = Vec::new();
    let mut failed = false;
    for name in &names {
        let backend = registry::open(name, &options)?;
        match backend.list().await {
            Ok(found) => all.extend(found),
            Err(err) => {
                // One unreachable backend (no Docker engine here) must not hide the others;
                // it is an error only when it was asked for by name.
                eprintln!("aimdeck: {name}: {err}");
                failed |= global.backend.is_some();
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    } else {
        println!("{:<24} {:<8} {:<7} {:<6} {:<14} {:<10} MODEL", "NAME", "BACKEND", "ENGINE", "READY", "PORTS", "GPUS");
        for d in &all {
            let ports = match (d.replicas.first(), d.replicas.last()) {
                (Some(a), Some(b)) if a.port != b.port => format!("{}-{}", a.port, b.port),
                (Some(a), _) => a.port.to_string(),
                _ => "-".into(),
            };
            println!(
                "{:<24} {:<8} {:<7} {:<6} {:<14} {:<10} {}",
                d.name,
                d.backend,
                d.spec.engine.as_str(),
                d.ready_summary(),
                ports,
                gpus_text(&d.gpus()),
                d.spec.model
            );
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
