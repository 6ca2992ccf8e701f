//! What each `aimdeck k8s` command does once its arguments are read.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use color_eyre::eyre::{bail, eyre};
use futures::StreamExt;

use super::spec_args::{options_from_args, spec_from_file};
use super::{DeployArgs, JsonArg, LogsArgs, RenderArgs, RmArgs, ScaleArgs, connect, print_rows};
use crate::backend::kubernetes::{ApplyOptions, ClusterWatch, KubeBackend, PodLogOptions, render};
use crate::cli::GlobalArgs;

/// The spec for `k8s render|deploy`: a `--spec FILE`, or the flags resolved by `ops` as
/// `aimdeck render k8s` resolves them (recipe named or chosen for the nodes, flags over it).
async fn spec_for(
    args: &super::SpecArgs,
    global: &GlobalArgs,
    force: bool,
    live: bool,
) -> color_eyre::Result<crate::model::DeploymentSpec> {
    if let Some(path) = &args.spec {
        return spec_from_file(args, path);
    }
    let request = args.request(force)?;
    let config = crate::cli::deploy::backend_config(global, Default::default());
    let (target, _, _) =
        crate::cli::plan::target_for(&request, &config, args.gpu.as_deref(), args.count, live)
            .await?;
    let request = crate::ops::DeployRequest { target: target.clone(), ..request };
    let resolution = crate::cli::plan::resolve(&request, global)?;
    crate::cli::plan::print_resolution(&resolution);
    if let crate::ops::Target::Cluster { nodes } = &target {
        crate::ops::preflight::cluster(&resolution, nodes, force)?;
    }
    Ok(resolution.spec)
}

/// `render k8s|nimservice|aimservice|kserve`: no cluster needed.
pub(super) async fn render_k8s(
    args: RenderArgs,
    global: &GlobalArgs,
) -> color_eyre::Result<ExitCode> {
    let spec = spec_for(&args.spec, global, false, false).await?;
    let namespace = global.namespace.clone().unwrap_or_else(|| "default".into());
    let options = options_from_args(&args.options, &namespace, &spec)?;
    let values = crate::ops::k8s::objects(&args.target, &spec, &options).map_err(|e| eyre!(e))?;
    crate::cli::render::print_k8s_objects(&values, args.json)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn deploy_k8s(
    args: DeployArgs,
    global: &GlobalArgs,
) -> color_eyre::Result<ExitCode> {
    let spec = spec_for(&args.spec, global, args.force, true).await?;
    let backend = connect(global).await?;
    let mut options = options_from_args(&args.options, backend.namespace(), &spec)?;
    if options.gpu_product.is_none() {
        options.gpu_product = spec.gpu_product.clone();
    }
    let objects = render::render(&spec, &options)?;
    let report =
        backend.apply(&objects, ApplyOptions { dry_run: args.dry_run, force: args.force }).await?;
    if let Some(secs) = args.wait.filter(|_| !args.dry_run) {
        wait_ready(&backend, &spec.name, spec.replicas, Duration::from_secs(secs)).await?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let suffix = if report.dry_run { " (server dry run)" } else { "" };
        for object in &report.applied {
            println!("{object} applied{suffix}");
        }
        for skipped in &report.skipped {
            println!("skipped {skipped}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Waits on the watches (not by polling) until `replicas` pods of `name` are ready.
pub(super) async fn wait_ready(
    backend: &KubeBackend,
    name: &str,
    replicas: u32,
    timeout: Duration,
) -> color_eyre::Result<()> {
    let watch = ClusterWatch::start(backend);
    let mut changes = watch.changes();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let snapshot = watch.snapshot();
        if let Some(row) = snapshot.deployments.iter().find(|d| d.name == name)
            && row.ready >= replicas
            && row.pods.iter().filter(|p| p.ready).count() as u32 >= replicas
        {
            return Ok(());
        }
        match tokio::time::timeout_at(deadline, changes.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => bail!("the watches stopped while waiting for {name}"),
            Err(_) => {
                let reasons: Vec<String> = snapshot
                    .deployments
                    .iter()
                    .filter(|d| d.name == name)
                    .flat_map(|d| d.pods.iter())
                    .filter_map(|p| p.reason.as_ref().map(|r| format!("{}: {r}", p.name)))
                    .collect();
                bail!(
                    "{name}: not ready after {}s{}",
                    timeout.as_secs(),
                    if reasons.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", reasons.join("; "))
                    }
                );
            }
        }
    }
}

pub(super) async fn ls_k8s(args: JsonArg, global: &GlobalArgs) -> color_eyre::Result<ExitCode> {
    let rows = connect(global).await?.list_deployments().await?;
    print_rows(args.json, &rows, |r| {
        format!(
            "{:<28} {}/{} {:<8} {}",
            r.name,
            r.ready,
            r.desired,
            r.engine.clone().unwrap_or_default(),
            r.model.clone().unwrap_or_default()
        )
    })
}

pub(super) async fn scale_k8s(
    args: ScaleArgs,
    global: &GlobalArgs,
) -> color_eyre::Result<ExitCode> {
    connect(global).await?.scale(&args.name, args.replicas).await?;
    if args.json {
        println!("{}", serde_json::json!({"name": args.name, "replicas": args.replicas}));
    } else {
        println!("{} scaled to {}", args.name, args.replicas);
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn rm_k8s(args: RmArgs, global: &GlobalArgs) -> color_eyre::Result<ExitCode> {
    let report = connect(global).await?.delete(&args.name, args.include_cache).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for object in report.deleted {
            println!("{object} deleted");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn logs_k8s(args: LogsArgs, global: &GlobalArgs) -> color_eyre::Result<ExitCode> {
    let backend = connect(global).await?;
    let options = PodLogOptions {
        follow: args.follow,
        previous: args.previous,
        tail_lines: args.tail,
        since_seconds: None,
    };
    let mut stream = backend.deployment_logs(&args.name, &options).await?;
    let many = backend.deployment_pods(&args.name).await?.len() > 1;
    let mut out = std::io::stdout();
    while let Some(line) = stream.next().await {
        let line = line?;
        if many {
            writeln!(out, "[{}] {}", line.pod, line.text)?;
        } else {
            writeln!(out, "{}", line.text)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn nodes_k8s(args: JsonArg, global: &GlobalArgs) -> color_eyre::Result<ExitCode> {
    let rows = connect(global).await?.node_gpus().await?;
    print_rows(args.json, &rows, |r| {
        format!(
            "{:<24} {:<16} {}/{} used, {} capacity  {:<28} {:<10} {}{}",
            r.node,
            r.resource.clone().unwrap_or_default(),
            r.allocated,
            r.allocatable,
            r.capacity,
            r.product.clone().unwrap_or_default(),
            r.memory.clone().unwrap_or_default(),
            if r.ready { "Ready" } else { "NotReady" },
            if r.taints.is_empty() {
                String::new()
            } else {
                format!(" taints: {}", r.taints.join(" "))
            }
        )
    })
}
