//! Flags to an `ops::DeployRequest`, the target's GPUs gathered, resolved in `ops`, and the
//! outcome told: which recipe and why, what lost, which fields the flags changed. Shared by
//! `deploy`, `render` and `k8s render|deploy`.

use std::collections::BTreeMap;

use color_eyre::eyre::{Result, bail};
use serde_json::{Value, json};

use super::GlobalArgs;
use super::deploy::{DeployArgs, backend_config};
use crate::backend::placement::PlacementPolicy;
use crate::model::GpuVendor;
use crate::model::gpu::GpuClaim;
use crate::ops::gather::{self, HostGpus};
use crate::ops::{self, BackendConfig, DeployRequest, Environment, Overrides, Resolution, Target};

pub struct Plan {
    pub resolution: Resolution,
    pub backend: String,
    pub config: BackendConfig,
    host: Option<HostGpus>,
    claims: Vec<(String, GpuClaim)>,
    force: bool,
}

pub fn parse_vendor(text: Option<&str>, flag: &str) -> Result<Option<GpuVendor>> {
    Ok(match text {
        None => None,
        Some("amd") => Some(GpuVendor::Amd),
        Some("nvidia") => Some(GpuVendor::Nvidia),
        Some(other) => bail!("{flag}: unknown `{other}`, expected amd or nvidia"),
    })
}

pub fn parse_env(pairs: &[String]) -> Result<BTreeMap<String, String>> {
    let mut env = BTreeMap::new();
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--env `{pair}`: expected NAME=VALUE");
        };
        env.insert(key.to_string(), value.to_string());
    }
    Ok(env)
}

pub fn parse_command(line: Option<&str>) -> Result<Option<Vec<String>>> {
    let Some(line) = line else { return Ok(None) };
    let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    if words.is_empty() {
        bail!("--command: expected a program, got nothing");
    }
    Ok(Some(words))
}

/// What the flags ask for, without the target's GPUs.
pub fn request_from(args: &DeployArgs, backend: &str) -> Result<DeployRequest> {
    let mut request = DeployRequest::new(&args.name, &args.model, backend);
    request.recipe = args.recipe.clone();
    request.no_recipe = args.no_recipe;
    request.force = args.force;
    request.replicas = args.replicas;
    request.placement =
        PlacementPolicy { allow_degraded: args.allow_degraded, partitions: args.partitions };
    request.overrides = Overrides {
        engine: args.engine,
        image: args.image.clone(),
        gpus: args.gpus_per_replica,
        tp: args.tp,
        pp: args.pp,
        dp: args.dp,
        max_model_len: args.max_model_len,
        precision: args.precision,
        vendor: parse_vendor(args.vendor.as_deref(), "--vendor")?,
        port: args.port,
        served_model_name: args.served_model_name.clone(),
        command: parse_command(args.command.as_deref())?,
        env: parse_env(&args.env)?,
        extra_args: args.extra_args.clone(),
    };
    Ok(request)
}

/// The request's target and environment, then the resolution. `live`: about to create, so
/// the backends are listed for who holds which GPU and a cluster is asked for its nodes (a
/// render or dry run reaches no cluster and counts every local GPU free).
pub async fn plan(
    args: &DeployArgs,
    global: &GlobalArgs,
    backend: &str,
    live: bool,
) -> Result<Plan> {
    let mut config = backend_config(global, args.network);
    let mut request = request_from(args, backend)?;
    let (target, host, claims) =
        target_for(&request, &config, args.gpu.as_deref(), args.count, live).await?;
    if let Some(host) = &host {
        config.gpus = host.inventory.clone();
    }
    request.target = target;
    let resolution = resolve(&request, global)?;
    Ok(Plan { resolution, backend: backend.to_string(), config, host, claims, force: args.force })
}

/// Where the GPUs are: declared with `--gpu/--count`, a cluster's nodes, or this host's.
pub async fn target_for(
    request: &DeployRequest,
    config: &BackendConfig,
    gpu: Option<&str>,
    count: Option<u32>,
    live: bool,
) -> Result<(Target, Option<HostGpus>, Vec<(String, GpuClaim)>)> {
    if let Some(declared) = gather::declared(gpu, count)? {
        return Ok((declared, None, Vec::new()));
    }
    // A render talks to no cluster: its target is `--gpu/--count` or unknown.
    if request.on_cluster() && !live {
        return Ok((Target::Unknown, None, Vec::new()));
    }
    if request.on_cluster() {
        return Ok(match gather::cluster_nodes(config).await {
            Ok(target) => (target, None, Vec::new()),
            Err(why) => {
                if request.recipe.is_none() && !request.no_recipe {
                    eprintln!(
                        "aimdeck: cluster GPUs unknown ({why}): give --gpu TYPE --count N to choose a recipe"
                    );
                }
                (Target::Unknown, None, Vec::new())
            }
        });
    }
    let listed = if live {
        let (backends, _) = config.open_all(false);
        gather::listed(&backends).await
    } else {
        gather::Listed::default()
    };
    let host = gather::host_gpus(&listed, request.placement).await;
    Ok((host.target.clone(), Some(host), listed.claims))
}

/// The library and environment as the console has them (config `recipes_dirs`, `cache_dir`).
pub fn resolve(request: &DeployRequest, global: &GlobalArgs) -> Result<Resolution> {
    let config = &global.settings;
    let library = ops::settings::library(config, &[]);
    for problem in &library.problems {
        eprintln!("aimdeck: warning: {problem}");
    }
    let hub = ops::settings::hub_cache(None, config);
    let cached_facts = if crate::recipes::select::has_recipe(&library, &request.model) {
        None
    } else {
        crate::recipes::hf_config::facts_from_cache(&hub, &request.model).ok().flatten()
    };
    let env = Environment {
        cache_home: hub.parent().map(std::path::Path::to_path_buf),
        device_vendor: Environment::detect_device_vendor(),
        cached_facts,
    };
    Ok(ops::resolve(request, &library, &env)?)
}

impl Plan {
    /// The live check before creating: GPU memory on a host, nodes on a cluster.
    pub fn preflight(&self, _args: &DeployArgs) -> Result<()> {
        if let Some(host) = &self.host {
            let held = gather::holders_on(&self.backend, &self.claims);
            let Target::Host { gpus } = &host.target else { return Ok(()) };
            ops::preflight::host(&self.resolution, &host.inventory, &held, gpus, self.force)?;
        }
        Ok(())
    }
}

/// On stderr: the recipe and why, the runners-up and why they lost, the fields overridden.
pub fn print_resolution(resolution: &Resolution) {
    match &resolution.recipe {
        Some(id) => eprintln!("recipe: {id}{}", if resolution.derived { " (derived)" } else { "" }),
        None => eprintln!("recipe: none"),
    }
    eprintln!("  why: {}", resolution.reason);
    if !resolution.overrides.is_empty() {
        eprintln!("  overridden by flags: {}", resolution.overrides.join(", "));
    }
    const SHOWN: usize = 5;
    for runner in resolution.runners_up.iter().take(SHOWN) {
        eprintln!("  not {}: {}", runner.id, runner.why);
    }
    if resolution.runners_up.len() > SHOWN {
        eprintln!(
            "  ... and {} more (aimdeck recipes select lists them all)",
            resolution.runners_up.len() - SHOWN
        );
    }
    if let Some(fit) = &resolution.fit {
        eprintln!("  fit: {}", fit.verdict);
    }
}

/// The resolution's fields for `--json` output.
pub fn resolution_json(resolution: &Resolution) -> Value {
    json!({
        "recipe": resolution.recipe,
        "reason": resolution.reason,
        "derived": resolution.derived,
        "overrides": resolution.overrides,
        "from_recipe": resolution.from_recipe,
        "runners_up": resolution.runners_up,
        "fit": resolution.fit,
    })
}

/// Adds `recipe`, `reason`, `overrides` (and the rest of the resolution) to a JSON object.
pub fn add_resolution(value: &mut Value, resolution: &Resolution) {
    if let (Some(object), Value::Object(extra)) =
        (value.as_object_mut(), resolution_json(resolution))
    {
        object.extend(extra);
    }
}
