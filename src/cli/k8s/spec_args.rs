//! `--spec FILE` and the deployment flags of `aimdeck k8s render|deploy` to a
//! `DeploymentSpec`, and the Kubernetes-only flags to `K8sRenderOptions`.

use std::path::PathBuf;

use clap::Args;
use color_eyre::eyre::{WrapErr, bail, eyre};

use crate::backend::kubernetes::autoscale::default_metric;
use crate::backend::kubernetes::{
    CacheVolume, HpaMetric, HpaOptions, K8sRenderOptions, KedaOptions, SecretKeyRef,
};
use crate::model::deployment::GpuVendor;
use crate::model::{DeploymentSpec, EngineKind};

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
    /// Recipe to follow [default: the best recipe for the cluster's nodes, or --gpu/--count]
    #[arg(long)]
    pub recipe: Option<String>,
    /// No recipe: the engine's defaults and only the flags given
    #[arg(long, conflicts_with = "recipe")]
    pub no_recipe: bool,
    /// GPU model of the target nodes, when the cluster is not reachable from here
    #[arg(long, value_name = "TYPE")]
    pub gpu: Option<String>,
    /// GPUs of --gpu on one node
    #[arg(long, value_name = "N", requires = "gpu")]
    pub count: Option<u32>,
    /// Environment for every replica, NAME=VALUE (repeatable; over the recipe's)
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
}

impl SpecArgs {
    /// The same request `aimdeck deploy`/`render` make from their flags (no `--spec` file).
    pub(super) fn request(&self, force: bool) -> color_eyre::Result<crate::ops::DeployRequest> {
        let name = self.name.clone().ok_or_else(|| eyre!("--name: required without --spec"))?;
        let model = self.model.clone().ok_or_else(|| eyre!("--model: required without --spec"))?;
        let mut request = crate::ops::DeployRequest::new(
            &name,
            &model,
            crate::backend::kubernetes::adapter::NAME,
        );
        request.recipe = self.recipe.clone();
        request.no_recipe = self.no_recipe;
        request.force = force;
        request.replicas = self.replicas.unwrap_or(1);
        let engine = match self.engine.as_deref() {
            None => None,
            Some(text) => Some(
                text.parse::<EngineKind>()
                    .map_err(|_| eyre!("--engine `{text}`: expected vllm or sglang"))?,
            ),
        };
        request.overrides = crate::ops::Overrides {
            engine,
            image: self.image.clone(),
            tp: self.tp,
            pp: self.pp,
            max_model_len: self.max_model_len,
            vendor: crate::cli::plan::parse_vendor(self.gpu_vendor.as_deref(), "--gpu-vendor")?,
            port: self.port,
            env: crate::cli::plan::parse_env(&self.env)?,
            extra_args: self.extra_args.clone(),
            ..Default::default()
        };
        Ok(request)
    }
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
    /// Autoscale on the engine's queue: hpa (autoscaling/v2 on a Prometheus-adapter metric) or keda
    #[arg(long, value_parser = ["hpa", "keda"])]
    pub autoscale: Option<String>,
    /// Engine metric to scale on [default: vllm:num_requests_waiting / sglang:num_queue_reqs]
    #[arg(long)]
    pub autoscale_metric: Option<String>,
    /// Metric value per replica above which replicas are added
    #[arg(long, default_value = "5")]
    pub autoscale_target: String,
    #[arg(long)]
    pub min_replicas: Option<i32>,
    #[arg(long)]
    pub max_replicas: Option<i32>,
    /// Prometheus address KEDA (and KServe) query
    #[arg(long, default_value = crate::backend::kubernetes::autoscale::DEFAULT_PROMETHEUS)]
    pub prometheus: String,
    /// Nodes per replica (default: as many as tp x pp needs at --gpus-per-node); > 1 makes a LeaderWorkerSet
    #[arg(long)]
    pub nodes: Option<u32>,
    /// GPUs one node has
    #[arg(long, default_value_t = 8)]
    pub gpus_per_node: u32,
    /// The cluster has spare GPUs for one extra pod during a rollout (maxSurge 1)
    #[arg(long)]
    pub surge: bool,
    /// Seconds a stopping engine may drain in-flight requests (terminationGracePeriodSeconds)
    #[arg(long, default_value_t = 120)]
    pub drain_seconds: u32,
    /// NIMService authSecret: a Secret with key NGC_API_KEY [default: ngc-api-secret]
    #[arg(long)]
    pub nim_auth_secret: Option<String>,
}

pub(super) fn secret_ref(text: &str) -> SecretKeyRef {
    match text.split_once(':') {
        Some((name, key)) => SecretKeyRef { name: name.into(), key: key.into() },
        None => SecretKeyRef { name: text.into(), key: "HF_TOKEN".into() },
    }
}

/// A spec given whole with `--spec FILE`, the flags over its fields. (Without a file the
/// flags are a request that `ops` resolves: see `SpecArgs::request`.)
pub(super) fn spec_from_file(
    args: &SpecArgs,
    path: &std::path::Path,
) -> color_eyre::Result<DeploymentSpec> {
    let text = std::fs::read_to_string(path)
        .wrap_err_with(|| format!("cannot read {}", path.display()))?;
    let mut spec = crate::config::parse_yaml_file::<DeploymentSpec>(path, &text)?;
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
    if args.tp.is_some() || args.pp.is_some() {
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

/// `--autoscale hpa|keda` with its metric, target and bounds; the older `--hpa-*` flags
/// still make an HPA on their own.
fn autoscale_from_args(
    args: &K8sOptionArgs,
    spec: &DeploymentSpec,
) -> color_eyre::Result<(Option<HpaOptions>, Option<KedaOptions>)> {
    let Some(kind) = &args.autoscale else { return Ok((None, None)) };
    if args.hpa_cpu.is_some() || args.hpa_metric.is_some() {
        bail!("--autoscale and --hpa-cpu/--hpa-metric: pick one");
    }
    let metric =
        args.autoscale_metric.clone().unwrap_or_else(|| default_metric(spec.engine).to_string());
    if args.autoscale_target.parse::<f64>().is_err() {
        bail!(
            "--autoscale-target `{}`: expected a number (the metric's value per replica)",
            args.autoscale_target
        );
    }
    let min = args.min_replicas.or(args.hpa_min).unwrap_or(1);
    let max = args.max_replicas.or(args.hpa_max).unwrap_or((spec.replicas as i32).max(min) * 2);
    Ok(match kind.as_str() {
        "hpa" => (
            Some(HpaOptions {
                min_replicas: min,
                max_replicas: max,
                metric: HpaMetric::Pods { metric, average_value: args.autoscale_target.clone() },
            }),
            None,
        ),
        _ => (
            None,
            Some(KedaOptions {
                min_replicas: min,
                max_replicas: max,
                metric,
                target: args.autoscale_target.clone(),
                prometheus: args.prometheus.clone(),
            }),
        ),
    })
}

pub(super) fn options_from_args(
    args: &K8sOptionArgs,
    namespace: &str,
    spec: &DeploymentSpec,
) -> color_eyre::Result<K8sRenderOptions> {
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
            Some(HpaOptions {
                min_replicas: min,
                max_replicas: args.hpa_max.unwrap_or(min.max(1) * 2),
                metric,
            })
        }
    };
    let (autoscale_hpa, keda) = autoscale_from_args(args, spec)?;
    Ok(K8sRenderOptions {
        namespace: namespace.to_string(),
        hpa: hpa.or(autoscale_hpa),
        keda,
        gpus_per_node: args.gpus_per_node,
        nodes: args.nodes,
        surge: args.surge,
        drain_secs: args.drain_seconds,
        nim_auth_secret: args.nim_auth_secret.clone(),
        cache,
        hf_token_secret: args.hf_token_secret.as_deref().map(secret_ref),
        gpu_product: args.gpu_product.clone(),
        shm_size: args.shm_size.clone(),
        startup_budget_secs: args.startup_budget,
        pdb: args.pdb,
        service_monitor: args.service_monitor,
        service_type: args.service_type.clone(),
        image_pull_secret: args.image_pull_secret.clone(),
    })
}
