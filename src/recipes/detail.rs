//! Plain data for showing recipes: a table row, a filter, and the detail of one recipe (its
//! engine command line and the fit as fractions of GPU memory for bars). No I/O: the console's
//! recipes view and `aimdeck recipes show` build from these.

use serde::Serialize;

use crate::engine::launch::launch_command;
use crate::model::{EngineKind, Precision};

use super::fit::{self, FitReport};
use super::gpus;
use super::load::{Library, LoadedRecipe, Origin, model_matches};
use super::to_spec::to_deployment_spec;
use super::validate::fit_input;

/// What the table may be narrowed to; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RecipeFilter {
    /// Repo id, alias or short name, or any part of one (case-insensitive).
    pub model: Option<String>,
    /// GPU name as the catalog or the vendor tools spell it.
    pub gpu: Option<String>,
    pub engine: Option<EngineKind>,
    pub precision: Option<Precision>,
}

impl RecipeFilter {
    pub fn matches(&self, loaded: &LoadedRecipe) -> bool {
        let recipe = &loaded.recipe;
        let model_ok = self.model.as_deref().is_none_or(|wanted| {
            let lower = wanted.to_ascii_lowercase();
            model_matches(recipe, wanted)
                || recipe.model.repo.to_ascii_lowercase().contains(&lower)
                || recipe.model.aliases.iter().any(|a| a.to_ascii_lowercase().contains(&lower))
        });
        let gpu_ok = self.gpu.as_deref().is_none_or(|wanted| {
            let name = gpus::normalize(wanted).map(|g| g.name).unwrap_or(wanted);
            recipe.gpu.eq_ignore_ascii_case(name)
        });
        model_ok
            && gpu_ok
            && self.engine.is_none_or(|e| recipe.engine == e)
            && self.precision.is_none_or(|p| recipe.precision == p)
    }
}

/// One line of the recipes table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecipeRow {
    pub id: String,
    pub model: String,
    pub engine: EngineKind,
    pub gpu: String,
    pub gpu_count: u32,
    pub precision: Precision,
    pub context: Option<u64>,
    /// `builtin`, `user`, `user*` (overrides another recipe) or `derived`.
    pub origin: &'static str,
    /// Set on the row the selector ranks first for this machine.
    pub best: bool,
}

pub fn origin_label(loaded: &LoadedRecipe) -> &'static str {
    match (&loaded.origin, &loaded.overrides) {
        (Origin::Builtin, _) => "builtin",
        (Origin::User { .. }, Some(_)) => "user*",
        (Origin::User { .. }, None) => "user",
        (Origin::Derived, _) => "derived",
    }
}

/// The table rows that pass `filter`, in id order; `best` marks the selector's pick.
pub fn rows(library: &Library, filter: &RecipeFilter, best: Option<&str>) -> Vec<RecipeRow> {
    library
        .recipes
        .iter()
        .filter(|loaded| filter.matches(loaded))
        .map(|loaded| {
            let r = &loaded.recipe;
            RecipeRow {
                id: r.id.clone(),
                model: r.model.repo.clone(),
                engine: r.engine,
                gpu: r.gpu.clone(),
                gpu_count: r.gpu_count,
                precision: r.precision,
                context: r.max_model_len,
                origin: origin_label(loaded),
                best: best == Some(r.id.as_str()),
            }
        })
        .collect()
}

/// GPU memory split into the parts a fit bar shows, each a fraction of the whole GPU (0..1,
/// summing to at most 1). `kv` is 0 and `over` positive when the model does not fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FitBars {
    pub weights: f64,
    pub activations: f64,
    pub kv_cache: f64,
    pub headroom: f64,
    /// How far weights and activations exceed the engine's share, as a fraction of the GPU.
    pub over: f64,
}

pub fn fit_bars(fit: &FitReport) -> FitBars {
    let total = fit.gpu_memory_bytes.max(1) as f64;
    let weights = fit.weights_per_gpu_bytes as f64 / total;
    let activations = fit.overhead_bytes as f64 / total;
    let kv_cache = fit.kv_budget_bytes.max(0) as f64 / total;
    let over = (-fit.kv_budget_bytes).max(0) as f64 / total;
    let headroom = fit.headroom_bytes as f64 / total;
    // Clamp so an oversized model still draws as one full bar plus an `over` figure.
    let shown_weights = weights.min(1.0);
    let used = (weights + activations).min(1.0);
    FitBars {
        weights: shown_weights,
        activations: used - shown_weights,
        kv_cache,
        headroom: headroom.min(1.0 - used).max(0.0),
        over,
    }
}

/// Everything the detail pane shows for one recipe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecipeDetail {
    pub loaded: LoadedRecipe,
    /// The engine command line for replica 0 on port 8000, as argv and as one pasteable line.
    pub command: Vec<String>,
    pub command_line: String,
    /// The estimate on the recipe's own GPU; `None` for a GPU outside the catalog.
    pub fit: Option<FitReport>,
    pub bars: Option<FitBars>,
}

pub fn detail(loaded: &LoadedRecipe) -> RecipeDetail {
    let recipe = &loaded.recipe;
    let spec = to_deployment_spec(recipe, "preview", 1, 8000);
    let command = launch_command(&spec, 0);
    let fit = gpus::by_name(&recipe.gpu).map(|gpu| fit::estimate(&fit_input(recipe, gpu)));
    let bars = fit.as_ref().map(fit_bars);
    RecipeDetail {
        loaded: loaded.clone(),
        command: command.argv(),
        command_line: command.display(),
        fit,
        bars,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipes::load_builtin;

    #[test]
    fn filter_narrows_by_model_part_gpu_product_name_engine_and_precision() {
        let library = load_builtin();
        let filter = RecipeFilter {
            model: Some("llama-3.1-70b".into()),
            gpu: Some("AMD Instinct MI300X".into()),
            engine: Some(EngineKind::Vllm),
            precision: None,
        };
        let found = rows(&library, &filter, Some("llama-3.1-70b-instruct-mi300x-x4-bf16-vllm"));
        let ids: Vec<&str> = found.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            vec![
                "llama-3.1-70b-instruct-mi300x-x1-fp8-vllm",
                "llama-3.1-70b-instruct-mi300x-x4-bf16-vllm",
                "llama-3.1-70b-instruct-mi300x-x8-bf16-vllm"
            ]
        );
        assert_eq!(found.iter().filter(|r| r.best).count(), 1);
        assert!(found[1].best);
    }

    #[test]
    fn bars_split_the_gpu_into_weights_activations_kv_and_headroom() {
        let library = load_builtin();
        let loaded = library.get("llama-3.1-8b-instruct-h100-x1-bf16-vllm").unwrap();
        let shown = detail(loaded);
        let bars = shown.bars.unwrap();
        // 16.06 GB of 85.52 GB; 2 GiB; the rest of the 90% share; the 10% left alone.
        assert!((bars.weights - 16.06e9 / 85_520_809_984.0).abs() < 1e-9);
        assert!((bars.headroom - 0.1).abs() < 1e-6, "{bars:?}");
        assert!(
            (bars.weights + bars.activations + bars.kv_cache + bars.headroom - 1.0).abs() < 1e-6,
            "{bars:?}"
        );
        assert_eq!(bars.over, 0.0);
        assert!(shown.command_line.starts_with("vllm serve meta-llama/Llama-3.1-8B-Instruct"));
    }
}
