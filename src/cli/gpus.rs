//! `aimdeck gpus [--json] [--watch]`: the GPUs of this machine, their telemetry and links.
//! `--json` prints the snapshot document scripts rely on (one compact document per line with
//! `--watch`).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::hardware::{self, ProbeConfig};
use crate::model::gpu::GpuSnapshot;
use crate::monitor::gpu_poller::{self, GpuPollerConfig};

use super::gpus_text;

#[derive(Debug, Args)]
pub struct GpusArgs {
    /// Print JSON (with --watch: one document per line)
    #[arg(long)]
    pub json: bool,
    /// Keep polling and print every update until interrupted
    #[arg(long)]
    pub watch: bool,
    /// Seconds between updates with --watch
    #[arg(long, default_value_t = 2.0, value_name = "SECS", value_parser = parse_interval)]
    pub interval: f64,
    /// Stop after this many updates with --watch
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Kill a GPU tool that runs longer than this many seconds
    #[arg(long, value_name = "SECS", value_parser = parse_interval)]
    pub tool_timeout: Option<f64>,
}

fn parse_interval(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= 3600.0 => Ok(secs),
        _ => Err(format!("`{text}` is not a number of seconds between 0 and 3600")),
    }
}

pub async fn run(args: GpusArgs, global: &super::GlobalArgs) -> color_eyre::Result<ExitCode> {
    let mut probe = ProbeConfig::from_env();
    if let Some(secs) = args.tool_timeout {
        probe.tool_timeout = Duration::from_secs_f64(secs);
    }
    if !args.watch {
        let mut snapshot = hardware::discover(&probe).await;
        join_process_owners(&mut snapshot, global).await;
        print_snapshot(&snapshot, args.json, false, false)?;
        return Ok(ExitCode::SUCCESS);
    }
    let cancel = CancellationToken::new();
    let config = GpuPollerConfig {
        probe,
        interval: Duration::from_secs_f64(args.interval),
        history_len: 60,
        adjust: None,
    };
    let (task, mut updates) = gpu_poller::spawn(config, cancel.clone());
    let clear = !args.json && std::io::stdout().is_terminal();
    let mut seen = 0;
    loop {
        let update = tokio::select! {
            update = updates.recv() => update,
            _ = tokio::signal::ctrl_c() => None,
        };
        let Some(update) = update else { break };
        print_snapshot(&update.snapshot, args.json, true, clear)?;
        seen += 1;
        if args.count.is_some_and(|count| seen >= count) {
            break;
        }
    }
    cancel.cancel();
    let _ = task.await;
    Ok(ExitCode::SUCCESS)
}

/// Marks each GPU process with the aimdeck replica it belongs to (Docker containers by id,
/// process-backend replicas by pid, Kubernetes pods by UID), asking the backends only when
/// there are processes, and the cluster only when one runs in a pod and a kubeconfig is here.
async fn join_process_owners(snapshot: &mut GpuSnapshot, global: &super::GlobalArgs) {
    if snapshot.gpus.iter().all(|g| g.processes.is_empty()) {
        return;
    }
    let mut options = crate::backend::registry::BackendOptions::new(crate::paths::state_dir());
    options.kubernetes = crate::backend::kubernetes::KubeTarget {
        kubeconfig: global.kubeconfig.clone(),
        context: global.context.clone(),
        namespace: global.namespace.clone(),
        timeout: Some(Duration::from_secs(5)),
    };
    let in_pod = snapshot.gpus.iter().flat_map(|g| &g.processes).any(|p| p.pod_uid.is_some());
    let with_kubernetes =
        in_pod && crate::backend::registry::kubernetes_configured(global.kubeconfig.as_deref());
    let (backends, _) = crate::backend::registry::open_all(&options, with_kubernetes);
    let backends: Vec<&dyn crate::backend::Backend> = backends.iter().map(|b| b.as_ref()).collect();
    let owners = crate::backend::placement::owners(&backends).await;
    crate::model::gpu::assign_process_owners(&mut snapshot.gpus, &owners);
}

/// `watching`: JSON goes out compact, one document per line; `clear` wipes the terminal first.
fn print_snapshot(
    snapshot: &GpuSnapshot,
    json: bool,
    watching: bool,
    clear: bool,
) -> color_eyre::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let text = if watching {
            serde_json::to_string(snapshot)?
        } else {
            serde_json::to_string_pretty(snapshot)?
        };
        writeln!(out, "{text}")?;
    } else {
        if clear {
            write!(out, "\x1b[2J\x1b[H")?;
        }
        write!(out, "{}", gpus_text::render(snapshot))?;
        for warning in &snapshot.warnings {
            eprintln!("warning: {warning}");
        }
    }
    out.flush()?;
    Ok(())
}
