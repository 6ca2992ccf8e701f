//! AMD AIM profile files to aimdeck recipes. A profile (github.com/amd-enterprise-ai/aim-build,
//! `profiles/ORG/MODEL/ENGINE-GPU-PRECISION-tpN-METRIC.yaml`) has `aim_id`, `model_id`,
//! `metadata` (`engine`, `gpu`, `precision`, `gpu_count`, `metric`, `type`,
//! `manual_selection_only`), `engine_args` (a `null` value is a bare flag) and `env_vars`.
//! AIM profiles carry no architecture facts: they come from a built-in recipe for the same
//! model, or from its config.json in the local Hugging Face cache.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::recipe::{ArgValue, Goal, KvCacheDtype, ModelFacts, Parallelism, Precision};
use crate::model::{EngineKind, Recipe};

use super::gpus;
use super::load::Library;
use super::parse::{Locations, yaml_problem};
use super::problem::Problem;
use super::select::known_facts;
use super::validate::check_recipe;

#[derive(Debug, Deserialize)]
struct AimProfile {
    #[serde(default)]
    aim_id: Option<String>,
    model_id: String,
    metadata: AimMetadata,
    #[serde(default)]
    engine_args: BTreeMap<String, Value>,
    #[serde(default)]
    env_vars: BTreeMap<String, Value>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
struct AimMetadata {
    engine: String,
    gpu: String,
    precision: String,
    gpu_count: u32,
    #[serde(default)]
    metric: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

/// The outcome for one profile: the recipe, and what did not carry over.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Imported {
    pub file: String,
    pub recipe: Option<Recipe>,
    /// Profile fields with no place in a recipe, with what happened to them.
    pub unmapped: Vec<String>,
    /// Why no recipe came out, or what is wrong with the one that did.
    pub problems: Vec<Problem>,
}

/// Reads and converts one profile file. `cache_facts` looks a model up in the local cache.
pub fn import_file(
    path: &Path,
    library: &Library,
    cache_facts: &dyn Fn(&str) -> Option<ModelFacts>,
) -> Imported {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => import_text(&file, &text, library, cache_facts),
        Err(err) => Imported {
            file: file.clone(),
            recipe: None,
            unmapped: Vec::new(),
            problems: vec![Problem::new(&file, 0, 0, "", format!("cannot read: {err}"))],
        },
    }
}

pub fn import_text(
    file: &str,
    text: &str,
    library: &Library,
    cache_facts: &dyn Fn(&str) -> Option<ModelFacts>,
) -> Imported {
    let mut out = Imported {
        file: file.to_string(),
        recipe: None,
        unmapped: Vec::new(),
        problems: Vec::new(),
    };
    let profile: AimProfile = match serde_saphyr::from_str(text) {
        Ok(profile) => profile,
        Err(err) => {
            out.problems.push(yaml_problem(file, text, &err));
            return out;
        }
    };
    let fail = |field: &str, message: String, expected: &str| {
        Problem::new(file, 1, 1, field, message).expected(expected)
    };

    let engine = match profile.metadata.engine.parse::<EngineKind>() {
        Ok(engine) => engine,
        Err(message) => {
            out.problems.push(fail("metadata.engine", message, "vllm or sglang"));
            return out;
        }
    };
    let Some(gpu) = gpus::normalize(&profile.metadata.gpu) else {
        out.problems.push(fail(
            "metadata.gpu",
            format!("unknown GPU model `{}`", profile.metadata.gpu),
            &format!("one of {}", gpus::names().join(", ")),
        ));
        return out;
    };
    let precision = match aim_precision(&profile.metadata.precision) {
        Some(precision) => precision,
        None => {
            out.problems.push(fail(
                "metadata.precision",
                format!("precision `{}` has no aimdeck equivalent", profile.metadata.precision),
                "fp16, bf16, fp8, int8, int4-awq or int4-gptq",
            ));
            return out;
        }
    };
    let facts = [Some(&profile.model_id), profile.aim_id.as_ref()]
        .into_iter()
        .flatten()
        .find_map(|name| known_facts(library, name).or_else(|| cache_facts(name)));
    let Some(mut facts) = facts else {
        out.problems.push(fail(
            "model_id",
            format!("no architecture facts for `{}`: no recipe names it and its config.json is not in the local Hugging Face cache", profile.model_id),
            "a cached model (`hf download MODEL config.json`) or a built-in model",
        ));
        return out;
    };
    // Serve the checkpoint the profile names (e.g. the FP8 copy); select by the base id too.
    if !facts.repo.eq_ignore_ascii_case(&profile.model_id) {
        let base = std::mem::replace(&mut facts.repo, profile.model_id.clone());
        if !facts.aliases.iter().any(|a| a.eq_ignore_ascii_case(&base)) {
            facts.aliases.push(base);
        }
    }
    // A 16-bit profile loads unquantized weights, whatever checkpoint the facts came from.
    if matches!(precision, Precision::Bf16 | Precision::Fp16) {
        facts.quant_method = None;
    }
    if let Some(aim_id) = &profile.aim_id
        && !aim_id.eq_ignore_ascii_case(&facts.repo)
        && !facts.aliases.iter().any(|a| a.eq_ignore_ascii_case(aim_id))
    {
        facts.aliases.push(aim_id.clone());
    }

    let mut parallelism = Parallelism { tp: profile.metadata.gpu_count.max(1), pp: 1, dp: 1 };
    let mut max_model_len = None;
    let mut memory_fraction = None;
    let mut kv_cache_dtype = KvCacheDtype::Auto;
    let mut engine_args = BTreeMap::new();
    let mut tp_given = false;
    for (raw_key, value) in &profile.engine_args {
        // vLLM's argument parser treats `_` and `-` alike; recipes use the dashed form.
        let key = raw_key.replace('_', "-");
        let as_u64 = value.as_u64().or_else(|| value.as_str().and_then(|s| s.parse().ok()));
        match key.as_str() {
            "tensor-parallel-size" | "tp" | "tp-size" => {
                if let Some(n) = as_u64 {
                    parallelism.tp = to_u32(n);
                    tp_given = true;
                }
            }
            "pipeline-parallel-size" | "pp-size" => parallelism.pp = to_u32(as_u64.unwrap_or(1)),
            "data-parallel-size" | "dp" | "dp-size" => parallelism.dp = to_u32(as_u64.unwrap_or(1)),
            "max-model-len" | "context-length" => max_model_len = as_u64,
            "gpu-memory-utilization" | "mem-fraction-static" => {
                memory_fraction = value.as_f64().or_else(|| value.as_str().and_then(|s| s.parse().ok()))
            }
            "kv-cache-dtype" => match value.as_str().unwrap_or("auto") {
                "auto" => {}
                s if s.starts_with("fp8") => kv_cache_dtype = KvCacheDtype::Fp8,
                other => out.unmapped.push(format!("engine_args.{raw_key}: `{other}` is not an aimdeck KV-cache dtype; left at auto")),
            },
            "dtype" | "quantization" => out
                .unmapped
                .push(format!("engine_args.{raw_key}: `{}` is implied by precision {precision}; dropped", scalar_text(value))),
            "host" | "port" | "model" | "served-model-name" => {
                out.unmapped.push(format!("engine_args.{raw_key}: set per deployment in aimdeck; dropped"))
            }
            // AIM profiles were written for older releases: a flag the supported release
            // does not have (vLLM 0.33 has no --swap-space) would stop the engine at start.
            _ if crate::engine::facts::newest(engine).flag(&format!("--{key}")).is_none() => {
                let facts = crate::engine::facts::newest(engine);
                out.unmapped.push(format!("engine_args.{raw_key}: not a flag of {} {}; dropped", facts.engine, facts.version))
            }
            _ => match arg_value(value) {
                Some(arg) => {
                    engine_args.insert(key, arg);
                }
                None => out.unmapped.push(format!("engine_args.{raw_key}: a list or map value cannot be a flag; dropped")),
            },
        }
    }
    if !tp_given {
        parallelism.tp = profile.metadata.gpu_count.max(1)
            / parallelism.pp.saturating_mul(parallelism.dp).max(1);
    }
    let env: BTreeMap<String, String> =
        profile.env_vars.iter().map(|(k, v)| (k.clone(), scalar_text(v))).collect();

    let goal = match profile.metadata.metric.as_deref() {
        Some("latency") => Goal::Latency,
        Some("throughput") | None => Goal::Throughput,
        Some(other) => {
            out.unmapped.push(format!("metadata.metric: `{other}` is neither latency nor throughput; recipe goal is throughput"));
            Goal::Throughput
        }
    };
    for (key, value) in &profile.metadata.other {
        out.unmapped
            .push(format!("metadata.{key}: `{}` has no recipe field; dropped", scalar_text(value)));
    }
    for key in profile.other.keys() {
        out.unmapped.push(format!("{key}: not part of an AIM profile or a recipe; dropped"));
    }
    let kind = profile.metadata.kind.clone();
    let stem = Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("profile")
        .to_ascii_lowercase();
    let short = facts.repo.rsplit('/').next().unwrap_or(&facts.repo).to_ascii_lowercase();
    let recipe = Recipe {
        id: format!("aim-{short}-{stem}"),
        description: Some(format!(
            "imported from AIM profile {}{}",
            Path::new(file).file_name().and_then(|s| s.to_str()).unwrap_or(file),
            kind.map(|k| format!(" (AIM type: {k})")).unwrap_or_default()
        )),
        model: facts,
        engine,
        gpu: gpu.name.to_string(),
        gpu_count: profile.metadata.gpu_count,
        precision,
        kv_cache_dtype,
        parallelism,
        max_model_len,
        gpu_memory_utilization: memory_fraction,
        goal,
        engine_args,
        env,
        image: Default::default(),
        performance: None,
    };
    out.problems = check_recipe(file, &recipe, &Locations::default());
    out.recipe = Some(recipe);
    out
}

/// AIM precision names: `fp16`, `bf16`, `fp8`, `int8`, `int4` (AWQ in AIM's profiles).
fn aim_precision(name: &str) -> Option<Precision> {
    match name.to_ascii_lowercase().as_str() {
        "int4" | "awq" => Some(Precision::Int4Awq),
        "gptq" => Some(Precision::Int4Gptq),
        other => other.parse().ok(),
    }
}

/// A profile flag value: `null` is a bare flag (`--no-enable-prefix-caching`).
fn arg_value(value: &Value) -> Option<ArgValue> {
    match value {
        Value::Null => Some(ArgValue::Bool(true)),
        Value::Bool(b) => Some(ArgValue::Bool(*b)),
        Value::Number(n) => {
            n.as_i64().map(ArgValue::Int).or_else(|| n.as_f64().map(ArgValue::Float))
        }
        Value::String(s) => Some(ArgValue::Text(s.clone())),
        Value::Array(_) | Value::Object(_) => None,
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The recipe as YAML, with a header naming where it came from.
pub fn to_yaml(imported: &Imported) -> Option<String> {
    let recipe = imported.recipe.as_ref()?;
    let body = serde_saphyr::to_string(recipe).ok()?;
    let mut header = format!("# Imported by `aimdeck recipes import` from {}\n", imported.file);
    for line in &imported.unmapped {
        header.push_str(&format!("# not carried over: {line}\n"));
    }
    Some(header + &body)
}

/// Out-of-range figures saturate; validation then reports them as implausible.
fn to_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}
