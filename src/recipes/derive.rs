//! A recipe made from model facts when no recipe fits the hardware: the smallest tensor-parallel
//! size (a power of two that divides the attention heads and fits on the free GPUs) at which
//! the estimator fits the model with headroom, i.e. room for `MIN_SEQUENCES` full-length
//! sequences in the KV cache.

use crate::model::recipe::{Goal, KvCacheDtype, ModelFacts, Parallelism, Precision};
use crate::model::{EngineKind, Recipe};

use super::engine_check;
use super::fit::{self, FitInput};
use super::gpus::GpuModel;
use super::load::Library;
use super::select::{Hardware, SelectQuery};

/// Full-length sequences the KV cache must hold for a derived recipe to count as fitting.
pub const MIN_SEQUENCES: u64 = 4;
/// Context served when none is asked for and the model allows more.
pub const DEFAULT_CONTEXT: u64 = 32_768;

/// The precision to derive with: the one asked for, else the one the model's recipes use where
/// this GPU runs it (DeepSeek ships fp8 weights), else bf16.
fn precision_for(
    facts: &ModelFacts,
    query: &SelectQuery,
    gpu: &GpuModel,
    library: &Library,
) -> Precision {
    if let Some(precision) = query.precision {
        return precision;
    }
    // A pre-quantized checkpoint has one precision: its own (an AWQ repo is not served in bf16).
    if let Some(method) = facts.quant_method.as_deref() {
        let served =
            library.recipes.iter().find(|l| l.recipe.model.repo.eq_ignore_ascii_case(&facts.repo));
        return served.map(|l| l.recipe.precision).unwrap_or(match method {
            "awq" => Precision::Int4Awq,
            "gptq" => Precision::Int4Gptq,
            "mxfp4" => Precision::Mxfp4,
            _ => Precision::Fp8,
        });
    }
    let runnable = |p: Precision| match p {
        Precision::Fp8 => gpu.fp8,
        Precision::Mxfp4 => gpu.mxfp4,
        _ => true,
    };
    library
        .for_model(&facts.repo)
        .map(|loaded| loaded.recipe.precision)
        .find(|p| {
            runnable(*p)
                && matches!(p, Precision::Fp8 | Precision::Mxfp4)
                && library_is_native(facts, library, *p)
        })
        .unwrap_or(Precision::Bf16)
}

/// A precision is native when a recipe serves the base repo itself (not a quantized copy) in it.
fn library_is_native(facts: &ModelFacts, library: &Library, precision: Precision) -> bool {
    library.recipes.iter().any(|l| {
        l.recipe.precision == precision && l.recipe.model.repo.eq_ignore_ascii_case(&facts.repo)
    })
}

pub fn derive_recipe(
    facts: &ModelFacts,
    query: &SelectQuery,
    hardware: &Hardware,
    gpu: &GpuModel,
    library: &Library,
) -> Result<Recipe, String> {
    let engine = query.engine.unwrap_or(EngineKind::Vllm);
    let precision = precision_for(facts, query, gpu, library);
    let context = query.max_model_len.unwrap_or(facts.max_context.min(DEFAULT_CONTEXT));
    let free = hardware.free.max(1);
    let mut tried = Vec::new();
    let mut tp = 1u32;
    while tp <= free {
        if facts.attention_heads.is_multiple_of(tp) {
            let parallelism = Parallelism { tp, pp: 1, dp: 1 };
            let report = fit::estimate(&FitInput {
                facts,
                precision,
                kv_cache_dtype: KvCacheDtype::Auto,
                engine,
                gpu,
                parallelism,
                max_model_len: Some(context),
                memory_fraction: None,
            });
            if report.max_concurrent_sequences >= MIN_SEQUENCES {
                let short =
                    facts.repo.rsplit('/').next().unwrap_or(&facts.repo).to_ascii_lowercase();
                let recipe = Recipe {
                    id: format!(
                        "derived-{short}-{}-x{tp}-{precision}-{engine}",
                        gpu.name.to_ascii_lowercase()
                    ),
                    description: Some(format!(
                        "derived by aimdeck: tp {tp} is the smallest split of {} on {} that holds {MIN_SEQUENCES} sequences of {context} tokens",
                        facts.repo, gpu.name
                    )),
                    model: facts.clone(),
                    engine,
                    gpu: gpu.name.to_string(),
                    gpu_count: tp,
                    precision,
                    kv_cache_dtype: KvCacheDtype::Auto,
                    parallelism,
                    max_model_len: Some(context),
                    gpu_memory_utilization: None,
                    goal: query.prefer.unwrap_or(Goal::Throughput),
                    engine_args: Default::default(),
                    env: Default::default(),
                    image: Default::default(),
                    performance: None,
                };
                // A derived recipe is held to what the real engine accepts, like a written one.
                let refused: Vec<String> = engine_check::check(&recipe)
                    .into_iter()
                    .map(|(field, message, _)| format!("{field}: {message}"))
                    .collect();
                if !refused.is_empty() {
                    return Err(format!("{} with {engine}: {}", facts.repo, refused.join("; ")));
                }
                return Ok(recipe);
            }
            tried.push(format!("tp {tp}: {}", report.verdict));
        }
        match tp.checked_mul(2) {
            Some(next) => tp = next,
            None => break,
        }
    }
    Err(format!(
        "{} in {precision} does not fit {MIN_SEQUENCES} sequences of {context} tokens on {free} free {}: {}",
        facts.repo,
        gpu.name,
        tried.join("; ")
    ))
}
