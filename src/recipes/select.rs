//! Choosing a recipe for a model on the hardware at hand: every recipe for the model becomes a
//! candidate; a candidate is rejected with a reason per failed condition, the rest are ranked
//! by how well they serve the stated preference. With no usable recipe but known model facts,
//! a recipe is derived (see `derive`).

use serde::{Deserialize, Serialize};

use crate::model::recipe::{Goal, ModelFacts, Precision};
use crate::model::{EngineKind, Recipe};

use super::derive::derive_recipe;
use super::fit::{self, FitReport};
use super::gpus::{self, GpuModel};
use super::load::{Library, Origin, model_matches};

/// The GPUs a recipe may use: detected by the hardware layer or declared on the command line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hardware {
    /// GPU model as the tools report it or as the catalog names it ("AMD Instinct MI300X", "MI300X").
    pub gpu: String,
    pub total: u32,
    pub free: u32,
    /// Memory per GPU as detected; the catalog's figure when `None`.
    #[serde(default)]
    pub memory_bytes: Option<u64>,
}

impl Hardware {
    /// Hardware from discovered GPUs, given as (product name, total memory, in use). A machine
    /// with mixed models is described by its most numerous catalog model (ties: the one with
    /// more memory); GPUs outside the catalog are left out. Memory is the smallest reported
    /// for that model, so a recipe that fits, fits on every one of them. `None` when no GPU is
    /// in the catalog. The console builds this from `model::gpu::Gpu`:
    /// `Hardware::from_inventory(gpus.iter().map(|g| (g.name.as_str(), g.memory_total_bytes, g.held_by.is_some())))`.
    pub fn from_inventory<'a>(
        gpus: impl IntoIterator<Item = (&'a str, Option<u64>, bool)>,
    ) -> Option<Hardware> {
        let mut by_model: std::collections::BTreeMap<&'static str, (u32, u32, Option<u64>, u64)> =
            Default::default();
        for (product, memory, busy) in gpus {
            let Some(model) = gpus::normalize(product) else { continue };
            let entry = by_model.entry(model.name).or_insert((0, 0, None, model.memory_bytes));
            entry.0 += 1;
            if !busy {
                entry.1 += 1;
            }
            if let Some(bytes) = memory.filter(|b| *b > 0) {
                entry.2 = Some(entry.2.map_or(bytes, |m: u64| m.min(bytes)));
            }
        }
        let (name, (total, free, memory, _)) = by_model
            .into_iter()
            .max_by_key(|(_, (total, _, _, catalog_memory))| (*total, *catalog_memory))?;
        Some(Hardware { gpu: name.to_string(), total, free, memory_bytes: memory })
    }
}

/// What the user asks for. Every field but `model` narrows the search when set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SelectQuery {
    pub model: String,
    #[serde(default)]
    pub engine: Option<EngineKind>,
    #[serde(default)]
    pub precision: Option<Precision>,
    /// Context length the deployment must serve; each recipe's own `max_model_len` when unset.
    #[serde(default)]
    pub max_model_len: Option<u64>,
    /// Latency (one request fast) or throughput (many at once); throughput when unset.
    #[serde(default)]
    pub prefer: Option<Goal>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub id: String,
    pub accepted: bool,
    /// 1-based position among the accepted candidates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<usize>,
    pub score: i64,
    /// Why it ranks where it does (accepted candidates).
    pub reasons: Vec<String>,
    /// Why it cannot be used here (rejected candidates).
    pub rejections: Vec<String>,
    /// Made from model facts, not from a recipe file.
    pub derived: bool,
    pub origin: Origin,
    pub file: String,
    /// The estimate on the target GPU at the served context length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fit: Option<FitReport>,
    pub recipe: Recipe,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Selection {
    pub model: String,
    pub hardware: Option<Hardware>,
    /// The catalog GPU the hardware was matched to.
    pub gpu: Option<String>,
    pub prefer: Goal,
    /// Id of the best accepted candidate.
    pub best: Option<String>,
    /// Accepted first, in rank order, then the rejected ones.
    pub candidates: Vec<Candidate>,
    /// Things the user should know that belong to no one candidate.
    pub notes: Vec<String>,
}

/// The target GPU: the catalog entry for the hardware, with its detected memory when given.
pub fn target_gpu(hardware: &Hardware) -> Option<GpuModel> {
    let mut gpu = *gpus::normalize(&hardware.gpu)?;
    if let Some(bytes) = hardware.memory_bytes.filter(|b| *b > 0) {
        gpu.memory_bytes = bytes;
    }
    Some(gpu)
}

/// Architecture facts for `model` from any recipe that names it.
pub fn known_facts(library: &Library, model: &str) -> Option<ModelFacts> {
    library.for_model(model).next().map(|loaded| {
        let mut facts = loaded.recipe.model.clone();
        // A quantized variant's recipe names the base model as an alias; derive for the name asked.
        if !facts.repo.eq_ignore_ascii_case(model)
            && facts.aliases.iter().any(|a| a.eq_ignore_ascii_case(model))
        {
            facts.aliases.retain(|a| !a.eq_ignore_ascii_case(model));
            facts.aliases.push(facts.repo.clone());
            facts.repo = model.to_string();
        }
        facts
    })
}

/// Ranks the library's recipes for `query` on `hardware`. `extra_facts` are facts found
/// elsewhere (a config.json in the local cache) for deriving when no recipe names the model.
pub fn select(
    library: &Library,
    query: &SelectQuery,
    hardware: Option<&Hardware>,
    extra_facts: Option<ModelFacts>,
) -> Selection {
    let prefer = query.prefer.unwrap_or(Goal::Throughput);
    let target = hardware.and_then(target_gpu);
    let mut notes = Vec::new();
    if let Some(hw) = hardware
        && target.is_none()
    {
        notes.push(format!(
            "GPU `{}` is not in the catalog; known GPUs: {}",
            hw.gpu,
            gpus::names().join(", ")
        ));
    }
    if hardware.is_none() {
        notes.push("no hardware given: recipes are checked on their own GPUs only".into());
    }

    let mut candidates: Vec<Candidate> = library
        .for_model(&query.model)
        .map(|loaded| {
            let mut candidate = Candidate {
                id: loaded.recipe.id.clone(),
                accepted: false,
                rank: None,
                score: 0,
                reasons: Vec::new(),
                rejections: Vec::new(),
                derived: false,
                origin: loaded.origin.clone(),
                file: loaded.file.clone(),
                fit: None,
                recipe: loaded.recipe.clone(),
            };
            judge(&mut candidate, query, hardware, target.as_ref(), prefer);
            candidate
        })
        .collect();

    if !candidates.iter().any(|c| c.accepted) {
        let facts = known_facts(library, &query.model).or(extra_facts);
        match (facts, hardware, target.as_ref()) {
            (Some(facts), Some(hw), Some(gpu)) => {
                match derive_recipe(&facts, query, hw, gpu, library) {
                    Ok(recipe) => {
                        let mut candidate = Candidate {
                        id: recipe.id.clone(),
                        accepted: false,
                        rank: None,
                        score: 0,
                        reasons: vec!["derived from the model's architecture: smallest tp that fits with headroom".into()],
                        rejections: Vec::new(),
                        derived: true,
                        origin: Origin::Derived,
                        file: String::new(),
                        fit: None,
                        recipe,
                    };
                        judge(&mut candidate, query, hardware, target.as_ref(), prefer);
                        candidates.push(candidate);
                    }
                    Err(why) => notes.push(format!("no recipe could be derived: {why}")),
                }
            }
            (None, _, _) if candidates.is_empty() => notes.push(format!(
                "no recipe names `{}` and its config.json is not in the local Hugging Face cache",
                query.model
            )),
            (Some(_), None, _) => {
                notes.push("give the GPU model and count to derive a recipe".into())
            }
            _ => {}
        }
    }

    candidates.sort_by(|a, b| {
        b.accepted.cmp(&a.accepted).then(b.score.cmp(&a.score)).then(a.id.cmp(&b.id))
    });
    for (rank, candidate) in (1..).zip(candidates.iter_mut().filter(|c| c.accepted)) {
        candidate.rank = Some(rank);
    }
    Selection {
        model: query.model.clone(),
        hardware: hardware.cloned(),
        gpu: target.map(|g| g.name.to_string()),
        prefer,
        best: candidates.iter().find(|c| c.accepted).map(|c| c.id.clone()),
        candidates,
        notes,
    }
}

/// Fills in a candidate's rejections, fit, reasons and score.
fn judge(
    candidate: &mut Candidate,
    query: &SelectQuery,
    hardware: Option<&Hardware>,
    target: Option<&GpuModel>,
    prefer: Goal,
) {
    let recipe = &candidate.recipe;
    let mut rejections = Vec::new();
    if let Some(engine) = query.engine
        && recipe.engine != engine
    {
        rejections.push(format!("engine is {}; {engine} was asked for", recipe.engine));
    }
    if let Some(precision) = query.precision
        && recipe.precision != precision
    {
        rejections.push(format!("precision is {}; {precision} was asked for", recipe.precision));
    }
    let own_gpu = gpus::by_name(&recipe.gpu).copied();
    let gpu = match (target, hardware) {
        (Some(target), Some(_)) => {
            if !recipe.gpu.eq_ignore_ascii_case(target.name) {
                rejections
                    .push(format!("written for {}; the GPUs here are {}", recipe.gpu, target.name));
            }
            Some(*target)
        }
        _ => own_gpu,
    };
    if let Some(hw) = hardware
        && recipe.gpu_count > hw.free
    {
        rejections.push(format!(
            "needs {} GPUs, {} {} free",
            recipe.gpu_count,
            hw.free,
            if hw.free == 1 { "is" } else { "are" }
        ));
    }
    if let Some(gpu) = gpu.as_ref() {
        if recipe.precision == Precision::Fp8 && !gpu.fp8 {
            rejections.push(format!("fp8 is not supported on {}", gpu.name));
        }
        if recipe.precision == Precision::Mxfp4 && !gpu.mxfp4 {
            rejections.push(format!("mxfp4 is not supported on {}", gpu.name));
        }
    }
    if let Some(len) = query.max_model_len
        && len > recipe.model.max_context
    {
        rejections.push(format!(
            "the model supports at most {} tokens of context, {len} were asked for",
            recipe.model.max_context
        ));
    }
    let fit = gpu.as_ref().map(|gpu| {
        let mut input = super::validate::fit_input(recipe, gpu);
        if query.max_model_len.is_some() {
            input.max_model_len = query.max_model_len;
        }
        fit::estimate(&input)
    });
    if let Some(report) = &fit
        && !report.fits
    {
        rejections.push(format!("at {} tokens the model {}", report.context_len, report.verdict));
    }

    candidate.accepted = rejections.is_empty();
    candidate.rejections = rejections;
    if candidate.accepted {
        let (score, reasons) = score(recipe, hardware, fit.as_ref(), prefer);
        candidate.score = score;
        candidate.reasons.extend(reasons);
    }
    candidate.fit = fit;
}

/// Higher is better. The goal match dominates; within it, throughput favours total KV capacity
/// over the replicas that fit on the free GPUs, latency favours a wider tensor-parallel split.
fn score(
    recipe: &Recipe,
    hardware: Option<&Hardware>,
    fit: Option<&FitReport>,
    prefer: Goal,
) -> (i64, Vec<String>) {
    let mut score = 0i64;
    let mut reasons = Vec::new();
    if recipe.goal == prefer {
        score += 1000;
        reasons.push(format!("tuned for {}, as preferred", goal_name(prefer)));
    } else if recipe.goal == Goal::Balanced {
        score += 500;
        reasons.push("tuned for balance between latency and throughput".into());
    } else {
        reasons.push(format!("tuned for {}, not {}", goal_name(recipe.goal), goal_name(prefer)));
    }
    let free = hardware.map(|hw| hw.free).unwrap_or(recipe.gpu_count).max(1);
    let replicas = (free / recipe.gpu_count.max(1)).max(1);
    match prefer {
        Goal::Latency => {
            score += i64::from(recipe.parallelism.tp).saturating_mul(20);
            reasons.push(format!(
                "tp {} splits each request over {} GPUs",
                recipe.parallelism.tp, recipe.parallelism.tp
            ));
        }
        Goal::Throughput | Goal::Balanced => {
            if let Some(fit) = fit {
                // Total KV tokens over all replicas: comparable across recipes that serve
                // different context lengths, unlike a count of sequences.
                let copies = u64::from(replicas) * u64::from(recipe.parallelism.dp.max(1));
                let tokens = fit.kv_capacity_tokens.saturating_mul(copies);
                // log2 so doubling capacity is worth the same at any size.
                score += (((tokens + 1) as f64).log2() * 20.0) as i64;
                reasons.push(format!(
                    "{replicas} replica{} on {free} free GPUs hold{} {} tokens of KV cache ({} sequences of {})",
                    if replicas == 1 { "" } else { "s" },
                    if replicas == 1 { "s" } else { "" },
                    tokens,
                    fit.max_concurrent_sequences.saturating_mul(copies),
                    fit.context_len
                ));
            }
        }
    }
    if let Some(hw) = hardware {
        let used = recipe.gpu_count.saturating_mul(replicas);
        if used < hw.free {
            reasons.push(format!("leaves {} of {} free GPUs unused", hw.free - used, hw.free));
        }
    }
    (score, reasons)
}

fn goal_name(goal: Goal) -> &'static str {
    goal.as_str()
}

/// Whether a recipe for `model` exists in the library.
pub fn has_recipe(library: &Library, model: &str) -> bool {
    library.recipes.iter().any(|loaded| model_matches(&loaded.recipe, model))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipes::load_builtin;

    #[test]
    fn hardware_from_discovered_gpus_counts_the_main_model_and_free_ones() {
        let gib = 1024u64 * 1024 * 1024;
        let found = vec![
            ("AMD Instinct MI300X", Some(192 * gib), false),
            ("AMD Instinct MI300X", Some(191 * gib), true),
            ("AMD Instinct MI300X", None, false),
            ("Matrox G200eR2", None, false),
            ("NVIDIA L4", Some(22 * gib), false),
        ];
        let hardware = Hardware::from_inventory(found).unwrap();
        assert_eq!(
            hardware,
            Hardware { gpu: "MI300X".into(), total: 3, free: 2, memory_bytes: Some(191 * gib) }
        );
        assert!(Hardware::from_inventory(vec![("Matrox G200eR2", None, false)]).is_none());
    }

    #[test]
    fn detected_memory_smaller_than_the_catalog_can_reject_a_recipe() {
        let library = load_builtin();
        let query = SelectQuery { model: "openai/gpt-oss-120b".into(), ..Default::default() };
        let full =
            Hardware { gpu: "NVIDIA H100 80GB HBM3".into(), total: 1, free: 1, memory_bytes: None };
        let best = select(&library, &query, Some(&full), None).best;
        assert_eq!(best.as_deref(), Some("gpt-oss-120b-h100-x1-mxfp4-vllm"));
        // A GPU partitioned to 60 GiB cannot hold 58.4 GB of weights plus a 131072-token sequence.
        let small = Hardware { memory_bytes: Some(60 * 1024 * 1024 * 1024), ..full };
        let selection = select(&library, &query, Some(&small), None);
        let x1 = selection
            .candidates
            .iter()
            .find(|c| c.id == "gpt-oss-120b-h100-x1-mxfp4-vllm")
            .unwrap();
        assert!(!x1.accepted);
        assert!(x1.rejections.iter().any(|r| r.contains("does not fit")), "{:?}", x1.rejections);
    }

    #[test]
    fn without_hardware_recipes_are_judged_on_their_own_gpus() {
        let library = load_builtin();
        let query = SelectQuery {
            model: "Mistral-7B-Instruct-v0.3".into(),
            prefer: Some(Goal::Throughput),
            ..Default::default()
        };
        let selection = select(&library, &query, None, None);
        assert_eq!(selection.candidates.len(), 3);
        assert!(selection.candidates.iter().all(|c| c.accepted), "{:?}", selection.candidates);
        assert!(selection.notes[0].contains("no hardware given"));
    }
}
