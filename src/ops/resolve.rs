//! The one place a `DeployRequest` becomes a `DeploymentSpec`: the chosen recipe applied field
//! by field, then each explicit flag over it, with a record of which fields came from where.
//! Pure: the caller gathers the target's GPUs and the environment first.

use serde::Serialize;

use crate::model::{DeploymentSpec, EngineKind, Recipe};
use crate::recipes::fit::{self, FitInput, FitReport};
use crate::recipes::gpus;
use crate::recipes::load::Library;

use super::choose::{Choice, RunnerUp, choose};
use super::error::ResolveError;
use super::request::{DeployRequest, Environment};
use super::target;

/// The spec and how it was reached. `--json` output carries `recipe`, `reason`, `overrides`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolution {
    pub spec: DeploymentSpec,
    /// The recipe applied, if any (a derived one's made-up id included).
    pub recipe: Option<String>,
    pub reason: String,
    pub derived: bool,
    /// Fields the recipe set.
    pub from_recipe: Vec<String>,
    /// Fields the flags set, over the recipe's value or the engine default.
    pub overrides: Vec<String>,
    pub runners_up: Vec<RunnerUp>,
    /// The memory estimate of the final spec on the target GPU (or the recipe's own).
    pub fit: Option<FitReport>,
}

pub fn resolve(
    request: &DeployRequest,
    library: &Library,
    env: &Environment,
) -> Result<Resolution, ResolveError> {
    if request.model.trim().is_empty() {
        return Err(ResolveError::Invalid(
            "--model: expected a Hugging Face repo id or a path, got nothing".into(),
        ));
    }
    let choice = choose(request, library, env)?;
    let (recipe, reason, derived, runners_up) = match choice {
        Choice::Recipe(chosen) => {
            (Some(chosen.recipe), chosen.reason, chosen.derived, chosen.runners_up)
        }
        Choice::Bare { reason } => (None, reason, false, Vec::new()),
    };
    let mut build =
        Build { spec: base_spec(request), from_recipe: Vec::new(), overrides: Vec::new() };
    match &recipe {
        Some(recipe) => build.apply_recipe(recipe, request),
        None => build.bare_gpus(request, env),
    }
    build.apply_overrides(request, recipe.as_ref())?;
    build.fill_defaults(request, env)?;
    let fit = recipe.as_ref().and_then(|r| fit_of(&build.spec, r, request));
    if let (Some(report), Some(recipe)) = (&fit, &recipe)
        && !report.fits
        && !request.force
        && !build.overrides.is_empty()
    {
        return Err(ResolveError::Contradiction(format!(
            "with {} changed, `{}` no longer fits: {}",
            build.overrides.join(", "),
            recipe.id,
            report.verdict
        )));
    }
    Ok(Resolution {
        recipe: build.spec.recipe_id.clone(),
        spec: build.spec,
        reason,
        derived,
        from_recipe: build.from_recipe,
        overrides: build.overrides,
        runners_up,
        fit,
    })
}

/// What every spec starts from: the name, model, replicas, and where the engine listens.
fn base_spec(request: &DeployRequest) -> DeploymentSpec {
    let mut spec = DeploymentSpec::minimal(
        &request.name,
        request.model.trim(),
        EngineKind::Vllm,
        request.replicas,
        0,
    );
    // In a pod the engine must listen on the pod's address; on a host only on loopback.
    spec.host = if request.on_cluster() { "0.0.0.0" } else { "127.0.0.1" }.into();
    spec
}

struct Build {
    spec: DeploymentSpec,
    from_recipe: Vec<String>,
    overrides: Vec<String>,
}

impl Build {
    /// The recipe's fields (`recipes::to_spec`, the one mapping of a recipe onto a spec), kept
    /// on this request's name, replicas and listening address.
    fn apply_recipe(&mut self, recipe: &Recipe, request: &DeployRequest) {
        let mut spec =
            crate::recipes::to_deployment_spec(recipe, &self.spec.name, self.spec.replicas, 0);
        spec.model = self.spec.model.clone();
        spec.host = self.spec.host.clone();
        let mut fields = vec![
            "engine",
            "gpus_per_replica",
            "tp",
            "pp",
            "dp",
            "precision",
            "kv_cache_dtype",
            "gpu_vendor",
        ];
        for (field, set) in [
            ("max_model_len", spec.max_model_len.is_some()),
            ("gpu_memory_utilization", spec.gpu_memory_utilization.is_some()),
            ("engine_args", !spec.engine_args.is_empty()),
            ("env", !spec.env.is_empty()),
        ] {
            if set {
                fields.push(field);
            }
        }
        // The process backend runs a program on the host: a container image means nothing there.
        if request.backend == crate::backend::process::NAME {
            spec.image = None;
        } else if spec.image.is_some() {
            fields.push("image");
        }
        if request.on_cluster()
            && let Some(model) = gpus::by_name(&recipe.gpu)
        {
            spec.gpu_product = Some(target::product_label_value(model, &request.target));
            fields.push("gpu_product");
        }
        self.spec = spec;
        self.from_recipe = fields.into_iter().map(String::from).collect();
    }

    /// Without a recipe, a replica holds tp x pp x dp GPUs. On a host without any GPU none (a
    /// CPU stand-in such as aimdeck-sim). On a cluster the local machine says nothing: GPUs
    /// are requested when the flags ask for a split or a vendor, or the nodes have GPUs; a
    /// bare model with none of these is a CPU pod.
    fn bare_gpus(&mut self, request: &DeployRequest, env: &Environment) {
        let o = &request.overrides;
        self.spec.parallelism.tp = o.tp.unwrap_or(1);
        self.spec.parallelism.pp = o.pp.unwrap_or(1);
        self.spec.parallelism.dp = o.dp.unwrap_or(1);
        let asked = o.vendor.is_some() || o.tp.is_some() || o.pp.is_some() || o.dp.is_some();
        let has_gpus = if request.on_cluster() {
            asked || target::target_vendor(&request.target).is_some()
        } else {
            request.target.has_gpus() || env.device_vendor.is_some()
        };
        let p = self.spec.parallelism;
        self.spec.gpus_per_replica = if has_gpus { p.tp * p.pp * p.dp } else { 0 };
    }

    fn apply_overrides(
        &mut self,
        request: &DeployRequest,
        recipe: Option<&Recipe>,
    ) -> Result<(), ResolveError> {
        let o = &request.overrides;
        let spec = &mut self.spec;
        let mut changed: Vec<&str> = Vec::new();
        macro_rules! set {
            ($field:literal, $value:expr, $target:expr) => {
                if let Some(value) = $value {
                    if $target != value {
                        $target = value;
                        changed.push($field);
                    } else if recipe.is_none() {
                        changed.push($field);
                    }
                }
            };
        }
        if let (Some(engine), Some(recipe)) = (o.engine, recipe)
            && engine != recipe.engine
        {
            return Err(ResolveError::Contradiction(format!(
                "--engine {engine} contradicts recipe `{}`, which runs {}; drop --engine or pick a {engine} recipe",
                recipe.id, recipe.engine
            )));
        }
        if let (Some(vendor), Some(recipe_vendor)) = (o.vendor, recipe.and(spec.gpu_vendor))
            && vendor != recipe_vendor
        {
            return Err(ResolveError::Contradiction(format!(
                "--vendor {} contradicts recipe `{}`, written for {} ({})",
                vendor.as_str(),
                spec.recipe_id.as_deref().unwrap_or_default(),
                recipe.map(|r| r.gpu.as_str()).unwrap_or_default(),
                recipe_vendor.as_str()
            )));
        }
        set!("engine", o.engine, spec.engine);
        set!("gpu_vendor", o.vendor.map(Some), spec.gpu_vendor);
        if recipe.is_some() {
            set!("tp", o.tp, spec.parallelism.tp);
            set!("pp", o.pp, spec.parallelism.pp);
            set!("dp", o.dp, spec.parallelism.dp);
        } else {
            for (field, value) in [("tp", o.tp), ("pp", o.pp), ("dp", o.dp)] {
                if value.is_some() {
                    changed.push(field);
                }
            }
        }
        set!("gpus_per_replica", o.gpus, spec.gpus_per_replica);
        set!("max_model_len", o.max_model_len.map(Some), spec.max_model_len);
        set!("precision", o.precision.map(Some), spec.precision);
        set!("image", o.image.clone().map(Some), spec.image);
        set!("command", o.command.clone().map(Some), spec.command);
        set!("port", o.port, spec.port);
        set!("served_model_name", o.served_model_name.clone().map(Some), spec.served_model_name);
        for (key, value) in &o.env {
            if spec.env.insert(key.clone(), value.clone()).as_ref() != Some(value)
                || recipe.is_none()
            {
                self.overrides.push(format!("env.{key}"));
            }
        }
        if !o.extra_args.is_empty() {
            spec.extra_args = o.extra_args.clone();
            changed.push("extra_args");
        }
        self.overrides.splice(0..0, changed.into_iter().map(String::from));
        if let Some(recipe) = recipe {
            check_parallelism(spec, recipe, o.gpus.is_some())?;
        }
        Ok(())
    }

    /// Vendor, image, port and cache for what neither the recipe nor a flag decided.
    fn fill_defaults(
        &mut self,
        request: &DeployRequest,
        env: &Environment,
    ) -> Result<(), ResolveError> {
        let spec = &mut self.spec;
        if spec.gpu_vendor.is_none() {
            spec.gpu_vendor = target::target_vendor(&request.target).or(if request.on_cluster() {
                None
            } else {
                env.device_vendor
            });
        }
        if spec.port == 0 {
            spec.port = match spec.engine {
                EngineKind::Vllm => 8000,
                EngineKind::Sglang => 30000,
            };
        }
        if request.backend == crate::backend::docker::NAME {
            if spec.image.is_none() {
                spec.image = Some(crate::engine::images::default_image(spec.engine, spec.gpu_vendor).ok_or_else(|| {
                    ResolveError::Invalid(
                        "--image: SGLang's ROCm images are tagged per release and GPU; name one, e.g. lmsysorg/sglang:v0.5.5-rocm700-mi30x"
                            .into(),
                    )
                })?);
            }
            spec.cache_dir = env.cache_home.clone();
        }
        Ok(())
    }
}

/// A replica's GPUs are what the engine splits over: tp x pp x dp of them. A flag that breaks
/// that with a recipe's GPU count is a contradiction, named with the way out.
fn check_parallelism(
    spec: &DeploymentSpec,
    recipe: &Recipe,
    gpus_given: bool,
) -> Result<(), ResolveError> {
    let p = spec.parallelism;
    let split = p.tp * p.pp * p.dp.max(1);
    if spec.gpus_per_replica == 0 || split == spec.gpus_per_replica {
        return Ok(());
    }
    let count = if gpus_given { "--gpus-per-replica" } else { "the recipe's GPU count" };
    Err(ResolveError::Contradiction(format!(
        "tp {} x pp {} x dp {} = {split} GPUs contradicts {count} ({} per replica) for `{}`; change --tp/--pp together with --gpus-per-replica, or use --no-recipe",
        p.tp, p.pp, p.dp, spec.gpus_per_replica, recipe.id
    )))
}

/// The estimate for the spec as it will run, on the recipe's GPU (the catalog's memory).
fn fit_of(spec: &DeploymentSpec, recipe: &Recipe, request: &DeployRequest) -> Option<FitReport> {
    let hardware = target::selector_hardware(&request.target);
    let mut gpu = *gpus::by_name(&recipe.gpu)?;
    if let Some(hw) =
        hardware.filter(|hw| gpus::normalize(&hw.gpu).is_some_and(|m| m.name == gpu.name))
        && let Some(bytes) = hw.memory_bytes
    {
        gpu.memory_bytes = bytes;
    }
    Some(fit::estimate(&FitInput {
        facts: &recipe.model,
        precision: spec.precision.unwrap_or(recipe.precision),
        kv_cache_dtype: spec.kv_cache_dtype,
        engine: spec.engine,
        gpu: &gpu,
        parallelism: spec.parallelism,
        max_model_len: spec.max_model_len,
        memory_fraction: spec.gpu_memory_utilization,
    }))
}
