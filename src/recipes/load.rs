//! The recipe library: the built-ins embedded in the binary, then each user directory in order
//! (`~/.config/aimdeck/recipes`, the config file's `recipes_dirs`, `--recipes-dir`). A recipe in
//! a later place replaces one with the same id from an earlier place; two recipes with one id
//! in the same place are an error. A file with problems is left out and its problems kept.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::Recipe;

use super::builtin::BUILTIN;
use super::parse::{Locations, locations, parse_recipe_only};
use super::problem::Problem;
use super::validate::check_recipe;

/// Where a recipe came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Origin {
    Builtin,
    User {
        dir: PathBuf,
    },
    /// Made by the selector from model facts; not in any file.
    Derived,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadedRecipe {
    pub recipe: Recipe,
    pub origin: Origin,
    /// The file, as problems name it.
    pub file: String,
    /// Set when this user recipe replaced a built-in (or an earlier directory's) recipe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overrides: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Library {
    /// Sorted by id.
    pub recipes: Vec<LoadedRecipe>,
    pub problems: Vec<Problem>,
}

impl Library {
    pub fn get(&self, id: &str) -> Option<&LoadedRecipe> {
        self.recipes.iter().find(|loaded| loaded.recipe.id == id)
    }

    /// Recipes whose model is `name` (repo id or alias, case-insensitive).
    pub fn for_model<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a LoadedRecipe> + 'a {
        self.recipes.iter().filter(move |loaded| model_matches(&loaded.recipe, name))
    }
}

/// Whether `name` names this recipe's model: the repo id, an alias, or the repo's last part.
pub fn model_matches(recipe: &Recipe, name: &str) -> bool {
    let name = name.trim();
    let facts = &recipe.model;
    let short =
        |repo: &str| repo.rsplit('/').next().is_some_and(|short| short.eq_ignore_ascii_case(name));
    facts.repo.eq_ignore_ascii_case(name)
        || short(&facts.repo)
        || facts.aliases.iter().any(|alias| alias.eq_ignore_ascii_case(name) || short(alias))
}

/// One place recipes are read from, parsed and checked but not yet merged.
struct Batch {
    origin: Origin,
    recipes: Vec<(Recipe, String)>,
    problems: Vec<Problem>,
}

/// Parses and checks one file's text.
pub fn load_text(file: &str, text: &str) -> Result<Recipe, Vec<Problem>> {
    let recipe = parse_recipe_only(file, text).map_err(|problem| vec![problem])?;
    // Locating fields costs a second parse; only a recipe with problems needs it.
    if check_recipe(file, &recipe, &Locations::default()).is_empty() {
        return Ok(recipe);
    }
    Err(check_recipe(file, &recipe, &locations(text)))
}

fn builtin_batch() -> Batch {
    let mut batch = Batch { origin: Origin::Builtin, recipes: Vec::new(), problems: Vec::new() };
    for (name, text) in BUILTIN {
        let file = format!("builtin:recipes/{name}");
        match load_text(&file, text) {
            Ok(recipe) => batch.recipes.push((recipe, file)),
            Err(problems) => batch.problems.extend(problems),
        }
    }
    batch
}

/// The `.yaml`/`.yml` files of a directory, sorted so results do not depend on the file system.
pub fn recipe_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.is_file()
                && matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Reads one recipe file from disk.
pub fn load_file(path: &Path) -> Result<Recipe, Vec<Problem>> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => load_text(&file, &text),
        Err(err) => Err(vec![Problem::new(&file, 0, 0, "", format!("cannot read: {err}"))]),
    }
}

fn dir_batch(dir: &Path, required: bool) -> Batch {
    let mut batch = Batch {
        origin: Origin::User { dir: dir.to_path_buf() },
        recipes: Vec::new(),
        problems: Vec::new(),
    };
    let files = match recipe_files(dir) {
        Ok(files) => files,
        // The default user directory need not exist; one named on the command line must.
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && !required => return batch,
        Err(err) => {
            batch.problems.push(Problem::new(
                &dir.display().to_string(),
                0,
                0,
                "",
                format!("cannot read directory: {err}"),
            ));
            return batch;
        }
    };
    for path in files {
        match load_file(&path) {
            Ok(recipe) => batch.recipes.push((recipe, path.display().to_string())),
            Err(problems) => batch.problems.extend(problems),
        }
    }
    batch
}

/// A directory to read and whether it must exist.
#[derive(Debug, Clone)]
pub struct RecipeDir {
    pub path: PathBuf,
    pub required: bool,
}

/// The directories aimdeck reads, in order: the user directory, the config's extra ones, then
/// those given with `--recipes-dir`.
pub fn default_dirs(config_dirs: &[PathBuf], flag_dirs: &[PathBuf]) -> Vec<RecipeDir> {
    let mut dirs = vec![RecipeDir { path: crate::paths::user_recipes_dir(), required: false }];
    dirs.extend(config_dirs.iter().map(|path| RecipeDir { path: path.clone(), required: false }));
    dirs.extend(flag_dirs.iter().map(|path| RecipeDir { path: path.clone(), required: true }));
    dirs
}

/// Loads the built-ins and then `dirs`, later places overriding earlier ones.
pub fn load_library(dirs: &[RecipeDir]) -> Library {
    let mut batches = vec![builtin_batch()];
    batches.extend(dirs.iter().map(|dir| dir_batch(&dir.path, dir.required)));
    merge(batches)
}

/// Only the built-in recipes (what the benchmark and the built-in tests load).
pub fn load_builtin() -> Library {
    merge(vec![builtin_batch()])
}

fn merge(batches: Vec<Batch>) -> Library {
    let mut by_id: BTreeMap<String, LoadedRecipe> = BTreeMap::new();
    let mut problems = Vec::new();
    for batch in batches {
        problems.extend(batch.problems);
        let mut seen_here: BTreeMap<String, String> = BTreeMap::new();
        for (recipe, file) in batch.recipes {
            if let Some(first) = seen_here.get(&recipe.id) {
                problems.push(
                    Problem::new(
                        &file,
                        1,
                        1,
                        "id",
                        format!("duplicate id `{}`: {first} has the same id", recipe.id),
                    )
                    .expected("an id unique within its directory"),
                );
                continue;
            }
            seen_here.insert(recipe.id.clone(), file.clone());
            let overrides = by_id.get(&recipe.id).map(|earlier| earlier.file.clone());
            let id = recipe.id.clone();
            by_id
                .insert(id, LoadedRecipe { recipe, origin: batch.origin.clone(), file, overrides });
        }
    }
    Library { recipes: by_id.into_values().collect(), problems }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_loads_without_problems() {
        let library = load_builtin();
        let shown: Vec<String> = library.problems.iter().map(|p| p.to_string()).collect();
        assert!(library.problems.is_empty(), "{}", shown.join("\n"));
        assert_eq!(library.recipes.len(), BUILTIN.len());
    }
}
