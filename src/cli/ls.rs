//! `aimdeck ls`: every deployment on every backend (or the one named by `--backend`). Backends
//! are asked at once and each gets a bound, so one that does not answer (a wedged Docker engine,
//! an API server that accepts and never replies) costs one line, not the listing.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use color_eyre::eyre::Result;

use super::GlobalArgs;
use super::deploy::{backend_options, gpus_text};
use crate::backend::docker::NetworkMode;
use crate::backend::{BackendError, registry};
use crate::model::Deployment;

/// What one backend's calls may take here; the whole `ls` stays under 10 s.
const BACKEND_TIMEOUT: Duration = Duration::from_secs(5);
/// A backend that has not answered by then (its own bound missed) is given up on.
const LIST_DEADLINE: Duration = Duration::from_secs(7);

#[derive(Debug, Args)]
pub struct LsArgs {
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: LsArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let mut options = backend_options(global, NetworkMode::default());
    options.kubernetes.timeout = Some(BACKEND_TIMEOUT);
    // Kubernetes is asked only when named or configured (a kubeconfig, or in a pod): a host
    // without a cluster lists its local deployments without a word about one.
    let names = registry::names_to_ask(global.backend.as_deref(), global.kubeconfig.as_deref());
    let mut backends = Vec::new();
    for name in &names {
        backends.push(registry::open(name, &options)?);
    }
    let lists = backends.iter().map(|backend| async move {
        let listed = match tokio::time::timeout(LIST_DEADLINE, backend.list()).await {
            Ok(listed) => listed,
            Err(_) => Err(BackendError::NoAnswer {
                backend: backend.name().to_string(),
                endpoint: "its endpoint".into(),
                after: LIST_DEADLINE,
            }),
        };
        (backend.name().to_string(), listed)
    });
    let mut all: Vec<Deployment> = Vec::new();
    let mut failed = false;
    for (name, listed) in futures::future::join_all(lists).await {
        match listed {
            Ok(found) => all.extend(found),
            Err(err) => {
                // One unreachable backend (no Docker engine here) must not hide the others;
                // it is an error only when it was asked for by name.
                match err {
                    BackendError::NoAnswer { .. } => eprintln!("{err}"),
                    other => eprintln!("aimdeck: {name}: {other}"),
                }
                failed |= global.backend.is_some();
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    } else {
        println!(
            "{:<24} {:<8} {:<7} {:<11} {:<14} {:<10} MODEL",
            "NAME", "BACKEND", "ENGINE", "READY", "PORTS", "GPUS"
        );
        for d in &all {
            let ports = match (d.replicas.first(), d.replicas.last()) {
                (Some(a), Some(b)) if a.port != b.port => format!("{}-{}", a.port, b.port),
                (Some(a), _) => a.port.to_string(),
                _ => "-".into(),
            };
            // Scaled to 0: the deployment is kept, with nothing running.
            let ready =
                if d.replicas.is_empty() { "0/0 stopped".to_string() } else { d.ready_summary() };
            println!(
                "{:<24} {:<8} {:<7} {:<11} {:<14} {:<10} {}",
                d.name,
                d.backend,
                d.spec.engine.as_str(),
                ready,
                ports,
                gpus_text(&d.gpus()),
                d.spec.model
            );
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
