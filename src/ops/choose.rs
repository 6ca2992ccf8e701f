//! Which recipe a request uses: the one it names (checked against the model and the target),
//! the selector's best for the target's GPUs (the same ranking and reasons as
//! `aimdeck recipes select`), a recipe derived from the model's facts, or none.

use serde::Serialize;

use crate::model::Recipe;
use crate::recipes::fit::FitReport;
use crate::recipes::load::{Library, model_matches};
use crate::recipes::select::{self, SelectQuery, has_recipe};

use super::error::ResolveError;
use super::request::{DeployRequest, Environment};
use super::target;

/// A recipe that lost to the chosen one, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunnerUp {
    pub id: String,
    /// Ranked behind the chosen one (`false`: cannot be used on the target at all).
    pub accepted: bool,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    pub recipe: Recipe,
    /// Why this recipe: the selector's reasons, or that it was named.
    pub reason: String,
    pub derived: bool,
    pub fit: Option<FitReport>,
    pub runners_up: Vec<RunnerUp>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    Recipe(Box<Chosen>),
    /// No recipe: the engine's defaults and the flags given, with why.
    Bare {
        reason: String,
    },
}

pub fn choose(
    request: &DeployRequest,
    library: &Library,
    env: &Environment,
) -> Result<Choice, ResolveError> {
    if request.no_recipe {
        if let Some(id) = &request.recipe {
            return Err(ResolveError::Invalid(format!("--recipe {id} and --no-recipe: pick one")));
        }
        return Ok(Choice::Bare {
            reason: "--no-recipe: the engine's defaults and the flags given".into(),
        });
    }
    match &request.recipe {
        Some(id) => named(request, id, library).map(|c| Choice::Recipe(Box::new(c))),
        None => automatic(request, library, env),
    }
}

/// The recipe the user named, if it exists, serves the model asked for and its GPU is here.
fn named(request: &DeployRequest, id: &str, library: &Library) -> Result<Chosen, ResolveError> {
    let Some(loaded) = library.get(id) else {
        return Err(ResolveError::UnknownRecipe {
            id: id.to_string(),
            closest: closest_ids(library, id),
        });
    };
    let recipe = &loaded.recipe;
    if !request.model.trim().is_empty() && !model_matches(recipe, &request.model) {
        return Err(ResolveError::WrongModel {
            id: id.to_string(),
            serves: recipe.model.repo.clone(),
            asked: request.model.clone(),
        });
    }
    if !request.force
        && let Err(why) = target::check_recipe_gpu(recipe, &request.target)
    {
        return Err(ResolveError::GpuNotHere(why));
    }
    // The selector's verdict on this one recipe, for its fit and reasons on the target.
    let query = SelectQuery { model: request.model.clone(), ..Default::default() };
    let hardware = target::selector_hardware(&request.target);
    let selection = select::select(library, &query, hardware.as_ref(), None);
    let judged = selection.candidates.iter().find(|c| c.id == id);
    let mut reason = format!("named ({})", loaded.file);
    if let Some(candidate) = judged
        && !candidate.accepted
        && !candidate.rejections.is_empty()
    {
        reason.push_str(&format!(
            "; the selector would not pick it here: {}",
            candidate.rejections.join("; ")
        ));
    }
    Ok(Chosen {
        recipe: recipe.clone(),
        reason,
        derived: false,
        fit: judged.and_then(|c| c.fit.clone()),
        runners_up: Vec::new(),
    })
}

/// The best recipe for the target's GPUs, or a derived one, or a refusal with every reason.
/// Without any known GPU there is nothing to choose for: a bare engine, and a note saying so.
fn automatic(
    request: &DeployRequest,
    library: &Library,
    env: &Environment,
) -> Result<Choice, ResolveError> {
    let Some(hardware) = target::selector_hardware(&request.target) else {
        let reason = format!(
            "no recipe chosen: {} known for the target; name one with --recipe{}",
            target::describe(&request.target),
            if request.on_cluster() { " or give --gpu TYPE --count N" } else { "" }
        );
        return Ok(Choice::Bare { reason });
    };
    let o = &request.overrides;
    let query = SelectQuery {
        model: request.model.clone(),
        engine: o.engine,
        precision: o.precision,
        max_model_len: o.max_model_len,
        prefer: None,
    };
    let extra = if has_recipe(library, &request.model) { None } else { env.cached_facts.clone() };
    let selection = select::select(library, &query, Some(&hardware), extra);
    let Some(best) = selection.candidates.iter().find(|c| c.rank == Some(1)) else {
        let mut reasons: Vec<String> = selection
            .candidates
            .iter()
            .map(|c| format!("{}: {}", c.id, c.rejections.join("; ")))
            .collect();
        reasons.extend(selection.notes.iter().cloned());
        return Err(ResolveError::NothingFits {
            model: request.model.clone(),
            target: format!(
                "{} x {} ({} free)",
                hardware.total,
                selection.gpu.as_deref().unwrap_or(&hardware.gpu),
                hardware.free
            ),
            reasons,
        });
    };
    let runners_up = selection
        .candidates
        .iter()
        .filter(|c| c.id != best.id)
        .map(|c| RunnerUp {
            id: c.id.clone(),
            accepted: c.accepted,
            why: match c.rank {
                Some(rank) => format!("ranked #{rank}: {}", c.reasons.join("; ")),
                None => c.rejections.join("; "),
            },
        })
        .collect();
    let chosen = Chosen {
        recipe: best.recipe.clone(),
        reason: format!(
            "best of {} for {} on {} x {}: {}",
            selection.candidates.len(),
            request.model,
            hardware.total,
            selection.gpu.as_deref().unwrap_or(&hardware.gpu),
            best.reasons.join("; ")
        ),
        derived: best.derived,
        fit: best.fit.clone(),
        runners_up,
    };
    Ok(Choice::Recipe(Box::new(chosen)))
}

/// Up to three library ids nearest to a mistyped one.
fn closest_ids(library: &Library, id: &str) -> Vec<String> {
    let mut scored: Vec<(f64, &str)> = library
        .recipes
        .iter()
        .map(|l| (strsim::jaro_winkler(id, &l.recipe.id), l.recipe.id.as_str()))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored
        .into_iter()
        .take(3)
        .filter(|(score, _)| *score > 0.6)
        .map(|(_, id)| id.to_string())
        .collect()
}
