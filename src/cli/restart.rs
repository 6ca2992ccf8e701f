//! `aimdeck restart NAME`: restarts every replica of a deployment and waits until each answers
//! again, then reports replica by replica; fails when one does not come back.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use color_eyre::eyre::Result;
use serde::Serialize;

use super::GlobalArgs;
use super::deploy::{find_deployment, progress_printer, refuse_if_readonly};
use crate::backend::rollout;
use crate::model::{Replica, ReplicaState};

#[derive(Debug, Args)]
pub struct RestartArgs {
    pub name: String,
    /// Seconds to wait for the replicas to answer /health again
    #[arg(long, default_value_t = 900)]
    pub wait_secs: u64,
    /// One JSON object per replica (replica, name, url, state, ready, detail)
    #[arg(long)]
    pub json: bool,
}

/// One replica after the restart, as the backend lists it.
#[derive(Debug, Serialize)]
struct ReplicaOutcome {
    replica: u32,
    name: String,
    url: String,
    state: ReplicaState,
    ready: bool,
    detail: Option<String>,
}

impl From<&Replica> for ReplicaOutcome {
    fn from(r: &Replica) -> Self {
        ReplicaOutcome {
            replica: r.index,
            name: r.name.clone(),
            url: r.url(),
            state: r.state,
            ready: r.state == ReplicaState::Ready,
            detail: r.detail.clone(),
        }
    }
}

pub async fn run(args: RestartArgs, global: &GlobalArgs) -> Result<ExitCode> {
    refuse_if_readonly(global, "restart")?;
    let (backend, _) = find_deployment(global, &args.name).await?;
    let (progress, printer) = progress_printer();
    let waited = match backend.restart(&args.name).await {
        Ok(()) => rollout::wait_ready(
            backend.as_ref(),
            &args.name,
            Duration::from_secs(args.wait_secs),
            progress,
        )
        .await
        .map(|_| ()),
        Err(err) => Err(err),
    };
    drop(printer);
    // Journaled by the backend itself (ops::journaled), once.
    // Each replica as it is now, whether or not the wait succeeded.
    let outcomes: Vec<ReplicaOutcome> =
        backend.get(&args.name).await?.replicas.iter().map(ReplicaOutcome::from).collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcomes)?);
    } else {
        for o in &outcomes {
            let detail = o.detail.as_deref().map(|d| format!("  {d}")).unwrap_or_default();
            println!(
                "replica {}  {}  {}  {}{detail}",
                o.replica,
                o.name,
                o.url,
                if o.ready { "back" } else { "NOT BACK" }
            );
        }
    }
    let missing = outcomes.iter().filter(|o| !o.ready).count();
    match waited {
        Ok(()) if missing == 0 => Ok(ExitCode::SUCCESS),
        result => {
            let cause = result.err().map(|e| format!(": {e}")).unwrap_or_default();
            eprintln!(
                "aimdeck: restarting `{}`: {missing} of {} replicas did not come back{cause}",
                args.name,
                outcomes.len()
            );
            Ok(ExitCode::FAILURE)
        }
    }
}
