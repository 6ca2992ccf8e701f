//! `aimdeck k8s ...`: the Kubernetes backend headless. Temporary home until these fold into
//! the shared `render`/`deploy`/`ls`/`scale`/`rm`/`logs` commands as `--backend k8s`; each
//! subcommand is one public function so the fold is a call.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use color_eyre::eyre::{WrapErr, bail, eyre};
use futures::StreamExt;

use super::GlobalArgs;
use crate::backend::kubernetes::operators::{self, OperatorTarget};
use crate::backend::kubernetes::{
    ApplyOptions, CacheVolume, ClusterWatch, HpaMetric, HpaOptions, K8sRenderOptions, KubeBackend, KubeTarget,
    PodLogOptions, PrepullRequest, SecretKeyRef, list_contexts, render,
};
use crate::model::deployment::GpuVendor;
use crate::model::{DeploymentSpec, EngineKind, Parallelism};

#[derive(Debug, Args)]
pub struct K8sArgs {
    #[command(subcommand)]
    pub command: K8sCommand,
}

#[derive(Debug, Subcommand)]
pub enum K8sCommand {
    /// Print the objects a deployment becomes: k8s (Deployment, Service, ...), nimservice, aimservice, kserve
    Render(RenderArgs),
    /// Apply a deployment with server-side apply (field manager `aimdeck`)
    Deploy(DeployArgs),
    /// List aimdeck deployments in the namespace with their pods
    Ls(JsonArg),
    /// Set a deployment's replicas through the scale subresource
    Scale(ScaleArgs),
    /// Delete everything aimdeck made for a deployment (foreground propagation)
    Rm(RmArgs),
    /// Show a deployment's pod logs
    Logs(LogsArgs),
    /// Restart a deployment's pods like `kubectl rollout restart`
    Restart(NameArg),
    /// Node GPU inventory: capacity, allocatable, allocated, product, memory, taints
    Nodes(JsonArg),
    /// Contexts of the kubeconfig
    Contexts(JsonArg),
    /// PVCs labelled as aimdeck model caches
    Caches(JsonArg),
    /// Start a Job that pre-pulls a model into a cache PVC
    Prepull(PrepullArgs),
    /// NIM Operator and AMD AIM resources (read-only)
    Operators(JsonArg),
    /// Optional APIs the cluster serves
    Apis(JsonArg),
}

#[derive(Debug, Args)]
pub struct JsonArg {
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct NameArg {
    pub name: String,
}

/// The deployment: a spec file, or flags.
#[derive(Debug, Clone, Args)]
pub struct SpecArgs {
    /// A DeploymentSpec as YAML (flags below override its fields)
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    #[arg(long)]
    pub name: Option<String>,
    /// Hugging Face repo id
    #[arg(long)]
    pub model: Option<String>,
    /// vllm or sglang
    #[arg(long)]
    pub engine: Option<String>,
    /// amd or nvidia
    #[arg(long)]
    pub gpu_vendor: Option<String>,
    #[arg(long)]
    pub tp: Option<u32>,
    #[arg(long)]
    pub pp: Option<u32>,
    #[arg(long)]
    pub replicas: Option<u32>,
    #[arg(long)]
    pub port: Option<u16>,
    #[arg(long)]
    pub image: Option<String>,
    #[arg(long)]
    pub max_model_len: Option<u64>,
    /// Extra engine flag, repeatable (`--extra-arg=--enable-prefix-caching`)
    #[arg(long = "extra-arg", allow_hyphen_values = true)]
    pub extra_args: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct K8sOptionArgs {
    /// PVC for the Hugging Face cache (created with the deployment when --cache-size is given)
    #[arg(long)]
    pub cache_pvc: Option<String>,
    #[arg(long)]
    pub cache_size: Option<String>,
    #[arg(long)]
    pub storage_class: Option<String>,
    #[arg(long, default_value = "ReadWriteOnce")]
    pub access_mode: String,
    /// Node directory for the Hugging Face cache instead of a PVC
    #[arg(long)]
    pub cache_host_path: Option<String>,
    /// Secret holding HF_TOKEN, as NAME or NAME:KEY [key default: HF_TOKEN]
    #[arg(long)]
    pub hf_token_secret: Option<String>,
    /// GPU product label value to select nodes (e.g. NVIDIA-H100-80GB-HBM3)
    #[arg(long)]
    pub gpu_product: Option<String>,
    #[arg(long, default_value = "16Gi")]
    pub shm_size: String,
    /// Seconds the engine may take to start before the startup probe fails
    #[arg(long)]
    pub startup_budget: Option<u32>,
    #[arg(long)]
    pub hpa_min: Option<i32>,
    #[arg(long)]
    pub hpa_max: Option<i32>,
    /// HPA on average CPU utilisation (percent)
    #[arg(long)]
    pub hpa_cpu: Option<i32>,
    /// HPA on a Pods metric from a metrics adapter, as NAME=AVERAGE (e.g. vllm:num_requests_waiting=5)
    #[arg(long)]
    pub hpa_metric: Option<String>,
    /// Add a PodDisruptionBudget (maxUnavailable 1)
    #[arg(long)]
    pub pdb: bool,
    /// Add a ServiceMonitor (applied only when the cluster has the CRD)
    #[arg(long)]
    pub service_monitor: bool,
    #[arg(long, default_value = "ClusterIP")]
    pub service_type: String,
    #[arg(long)]
    pub image_pull_secret: Option<String>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// k8s, nimservice, aimservice or kserve
    pub target: String,
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub options: K8sOptionArgs,
    /// JSON (a v1 List) instead of YAML
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub options: K8sOptionArgs,
    /// Server-side dry run: the API server validates, nothing is stored
    #[arg(long)]
    pub dry_run: bool,
    /// Take over fields another field manager owns
    #[arg(long)]
    pub force: bool,
    /// Wait until every replica is ready, up to this many seconds
    #[arg(long, value_name = "SECS")]
    pub wait: Option<u64>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ScaleArgs {
    pub name: String,
    pub replicas: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    pub name: String,
    /// Also delete the cache PVC made with this deployment
    #[arg(long)]
    pub include_cache: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    pub name: String,
    #[arg(short, long)]
    pub follow: bool,
    /// The previous (crashed) container's log
    #[arg(long)]
    pub previous: bool,
    #[arg(long)]
    pub tail: Option<i64>,
}

#[derive(Debug, Args)]
pub struct PrepullArgs {
    #[arg(long)]
    pub pvc: String,
    #[arg(long)]
    pub model: String,
    #[arg(long)]
    pub revision: Option<String>,
    #[arg(long, default_value = "vllm/vllm-openai:latest")]
    pub image: String,
    #[arg(long)]
    pub hf_token_secret: Option<String>,
}

pub async fn run(args: K8sArgs, global: &GlobalArgs) -> color_eyre::Result<ExitCode> {
    let mutating = matches!(
        args.command,
        K8sCommand::Deploy(_) | K8sCommand::Scale(_) | K8sCommand::Rm(_) | K8sCommand::Restart(_) | K8sCommand::Prepull(_)
    );
    if mutating && global.readonly {
        bail!("--readonly: refusing to change the cluster");
    }
    match args.command {
        K8sCommand::Render(a) => render_k8s(a, global),
        K8sCommand::Deploy(a) => deploy_k8s(a, global).await,
        K8sCommand::Ls(a) => ls_k8s(a, global).await,
        K8sCommand::Scale(a) => scale_k8s(a, global).await,
        K8sCommand::Rm(a) => rm_k8s(a, global).await,
        K8sCommand::Logs(a) => logs_k8s(a, global).await,
        K8sCommand::Restart(a) => {
            connect(global).await?.restart(&a.name).await?;
            println!("restarted {}", a.name);
            Ok(ExitCode::SUCCESS)
        }
        K8sCommand::Nodes(a) => nodes_k8s(a, global).await,
        K8sCommand::Contexts(a) => {
            let contexts = list_contexts(global.kubeconfig.as_deref())?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&contexts)?);
            } else {
                for c in contexts {
                    let mark = if c.current { "*" } else { " " };
                    println!("{mark} {:<24} {:<20} {}", c.name, c.cluster, c.namespace.unwrap_or_else(|| "default".into()));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        K8sCommand::Caches(a) => {
            let rows = connect(global).await?.cache_pvcs().await?;
            print_rows(a.json, &rows, |r| format!("{:<32} {:<8} {:<10} {}", r.name, r.phase, r.capacity.clone().or(r.requested.clone()).unwrap_or_default(), r.models.join(",")))
        }
        K8sCommand::Prepull(a) => {
            let request = PrepullRequest {
                pvc: a.pvc,
                model: a.model,
                revision: a.revision,
                image: a.image,
                hf_token_secret: a.hf_token_secret.as_deref().map(secret_ref),
            };
            let job = connect(global).await?.start_prepull(&request).await?;
            println!("job/{job} started");
            Ok(ExitCode::SUCCESS)
        }
        K8sCommand::Operators(a) => {
            let rows = connect(global).await?.operator_resources().await?;
            print_rows(a.json, &rows, |r| format!("{:<18} {:<32} {:<10} {}", r.kind, r.name, r.state.clone().unwrap_or_default(), r.source.clone().unwrap_or_default()))
        }
        K8sCommand::Apis(_) => {
            let apis = connect(global).await?.discover().await?;
            println!("{}", serde_json::to_string_pretty(&apis)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_rows<T: serde::Serialize>(json: bool, rows: &[T], line: impl Fn(&T) -> String) -> color_eyre::Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string_pretty(rows)?);
    } else {
        for row in rows {
            println!("{}", line(row));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn connect(global: &GlobalArgs) -> color_eyre::Result<KubeBackend> {
    let target = KubeTarget {
        kubeconfig: global.kubeconfig.clone(),
        context: global.context.clone(),
        namespace: global.namespace.clone(),
        timeout: None,
    };
    Ok(KubeBackend::connect(&target).await?)
}

fn secret_ref(text: &str) -> SecretKeyRef {
    match text.split_once(':') {
        Some((name, key)) => SecretKeyRef { name: name.into(), key: key.into() },
        None => SecretKeyRef { name: text.into(), key: "HF_TOKEN".into() },
    }
}

/// Builds the spec from `--spec FILE` and the flags.
pub fn spec_from_args(args: &SpecArgs) -> color_eyre::Result<DeploymentSpec> {
    let mut spec = match &args.spec {
        Some(path) => {
            let text = std::fs::read_to_string(path).wrap_err_with(|| format!("cannot read {}", path.display()))?;
            crate::config::parse_yaml_file::<DeploymentSpec>(path, &text)?
        }
        None => {
            let name = args.name.clone().ok_or_else(|| eyre!("--name: required without --spec"))?;
            let model = args.model.clone().ok_or_else(|| eyre!("--model: required without --spec"))?;
            DeploymentSpec {
                name,
                model,
                served_model_name: None,
                engine: EngineKind::Vllm,
                recipe_id: None,
                image: None,
                command: None,
                gpu_vendor: None,
                gpus_per_replica: 1,
                parallelism: Parallelism::default(),
                replicas: 1,
                precision: None,
                kv_cache_dtype: Default::default(),
                max_model_len: None,
                gpu_memory_utilization: None,
                port: 8000,
                host: "0.0.0.0".into(),
                engine_args: Default::default(),
                extra_args: Vec::new(),
                env: Default::default(),
                cache_dir: None,
            }
        }
    };
    if let Some(name) = &args.name {
        spec.name = name.clone();
    }
    if let Some(model) = &args.model {
        spec.model = model.clone();
    }
    if let Some(engine) = &args.engine {
        spec.engine = match engine.as_str() {
            "vllm" => EngineKind::Vllm,
            "sglang" => EngineKind::Sglang,
            other => bail!("--engine `{other}`: expected vllm or sglang"),
        };
    }
    if let Some(vendor) = &args.gpu_vendor {
        spec.gpu_vendor = Some(match vendor.as_str() {
            "amd" => GpuVendor::Amd,
            "nvidia" => GpuVendor::Nvidia,
            other => bail!("--gpu-vendor `{other}`: expected amd or nvidia"),
        });
    }
    if let Some(tp) = args.tp {
        spec.parallelism.tp = tp;
    }
    if let Some(pp) = args.pp {
        spec.parallelism.pp = pp;
    }
    if args.tp.is_some() || args.pp.is_some() || args.spec.is_none() {
        spec.gpus_per_replica = spec.parallelism.tp.max(1) * spec.parallelism.pp.max(1);
    }
    if let Some(replicas) = args.replicas {
        spec.replicas = replicas;
    }
    if let Some(port) = args.port {
        spec.port = port;
    }
    if let Some(image) = &args.image {
        spec.image = Some(image.clone());
    }
    if let Some(len) = args.max_model_len {
        spec.max_model_len = Some(len);
    }
    spec.extra_args.extend(args.extra_args.iter().cloned());
    Ok(spec)
}

pub fn options_from_args(args: &K8sOptionArgs, namespace: &str) -> color_eyre::Result<K8sRenderOptions> {
    let cache = match (&args.cache_pvc, &args.cache_host_path) {
        (Some(_), Some(_)) => bail!("--cache-pvc and --cache-host-path: pick one"),
        (Some(claim), None) => CacheVolume::Pvc {
            claim: claim.clone(),
            size: args.cache_size.clone(),
            storage_class: args.storage_class.clone(),
            access_mode: args.access_mode.clone(),
        },
        (None, Some(path)) => CacheVolume::HostPath { path: path.clone() },
        (None, None) => {
            if args.cache_size.is_some() {
                bail!("--cache-size needs --cache-pvc NAME");
            }
            CacheVolume::None
        }
    };
    let hpa = match (args.hpa_cpu, &args.hpa_metric) {
        (None, None) => None,
        (Some(_), Some(_)) => bail!("--hpa-cpu and --hpa-metric: pick one"),
        (cpu, metric) => {
            let metric = match (cpu, metric) {
                (Some(utilization), _) => HpaMetric::Cpu { utilization },
                (_, Some(text)) => {
                    let (name, value) = text
                        .split_once('=')
                        .ok_or_else(|| eyre!("--hpa-metric `{text}`: expected NAME=AVERAGE, e.g. vllm:num_requests_waiting=5"))?;
                    HpaMetric::Pods { metric: name.into(), average_value: value.into() }
                }
                _ => unreachable!("one of them is set"),
            };
            let min = args.hpa_min.unwrap_or(1);
            Some(HpaOptions { min_replicas: min, max_replicas: args.hpa_max.unwrap_or(min.max(1) * 2), metric })
        }
    };
    Ok(K8sRenderOptions {
        namespace: namespace.to_string(),
        cache,
        hf_token_secret: args.hf_token_secret.as_deref().map(secret_ref),
        gpu_product: args.gpu_product.clone(),
        shm_size: args.shm_size.clone(),
        startup_budget_secs: args.startup_budget,
        hpa,
        pdb: args.pdb,
        service_monitor: args.service_monitor,
        service_type: args.service_type.clone(),
        image_pull_secret: args.image_pull_secret.clone(),
    })
}

/// `render k8s|nimservice|aimservice|kserve`: no cluster needed.
pub fn render_k8s(args: RenderArgs, global: &GlobalArgs) -> color_eyre::Result<ExitCode> {
    let spec = spec_from_args(&args.spec)?;
    let namespace = global.namespace.clone().unwrap_or_else(|| "default".into());
    let options = options_from_args(&args.options, &namespace)?;
    let values = if args.target == "k8s" {
        render::render(&spec, &options)?.to_values()?
    } else {
        let target: OperatorTarget = args.target.parse().map_err(|e: String| eyre!("render {e} (or k8s)"))?;
        vec![operators::render_operator(target, &spec, &options)?]
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": values});
        writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
    } else {
        write!(out, "{}", render::values_to_yaml(&values)?)?;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn deploy_k8s(args: DeployArgs, global: &GlobalArgs) -> color_eyre::Result<ExitCode> {
    let spec = spec_from_args(&args.spec)?;
    let backend = connect(global).await?;
    let options = options_from_args(&args.options, backend.namespace())?;
    let objects = render::render(&spec, &options)?;
    let report = backend.apply(&objects, ApplyOptions { dry_run: args.dry_run, force: args.force }).await?;
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
pub async fn wait_ready(backend: &KubeBackend, name: &str, replicas: u32, timeout: Duration) -> color_eyre::Result<()> {
    let watch = ClusterWatch::start(backend);
    let mut changes = watch.changes();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let snapshot = watch.snapshot();
        if let Some(row) = snapshot.deployments.iter().find(|d| d.name == name) {
            if row.ready >= replicas && row.pods.iter().filter(|p| p.ready).count() as u32 >= replicas {
                return Ok(());
            }
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
                bail!("{name}: not ready after {}s{}", timeout.as_secs(), if reasons.is_empty() { String::new() } else { format!(" ({})", reasons.join("; ")) });
            }
        }
    }
}

pub async fn ls_k8s(args: JsonArg, global: &GlobalArgs) -> color_eyre::Result<ExitCode> {
    let rows = connect(global).await?.list_deployments().await?;
    print_rows(args.json, &rows, |r| {
        format!("{:<28} {}/{} {:<8} {}", r.name, r.ready, r.desired, r.engine.clone().unwrap_or_default(), r.model.clone().unwrap_or_default())
    })
}

pub async fn scale_k8s(args: ScaleArgs, global: &GlobalArgs) -> color_eyre::Result<ExitCode> {
    connect(global).await?.scale(&args.name, args.replicas).await?;
    if args.json {
        println!("{}", serde_json::json!({"name": args.name, "replicas": args.replicas}));
    } else {
        println!("{} scaled to {}", args.name, args.replicas);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn rm_k8s(args: RmArgs, global: &GlobalArgs) -> color_eyre::Result<ExitCode> {
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

pub async fn logs_k8s(args: LogsArgs, global: &GlobalArgs) -> color_eyre::Result<ExitCode> {
    let backend = connect(global).await?;
    let options = PodLogOptions { follow: args.follow, previous: args.previous, tail_lines: args.tail, since_seconds: None };
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

pub async fn nodes_k8s(args: JsonArg, global: &GlobalArgs) -> color_eyre::Result<ExitCode> {
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
            if r.taints.is_empty() { String::new() } else { format!(" taints: {}", r.taints.join(" ")) }
        )
    })
}
