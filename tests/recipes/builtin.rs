//! The built-in library: every recipe validates and fits its own hardware by the estimator,
//! and the library covers what issue 3 promises.

use std::collections::BTreeSet;

use aimdeck::model::EngineKind;
use aimdeck::model::deployment::GpuVendor;
use aimdeck::recipes::builtin::BUILTIN;
use aimdeck::recipes::{estimate, gpus, load_builtin, validate};

#[test]
fn every_builtin_validates_and_fits_its_hardware() {
    let library = load_builtin();
    let problems: Vec<String> = library.problems.iter().map(|p| p.to_string()).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(library.recipes.len(), BUILTIN.len(), "a built-in was dropped (duplicate id?)");
    for loaded in &library.recipes {
        let recipe = &loaded.recipe;
        let gpu = gpus::by_name(&recipe.gpu)
            .unwrap_or_else(|| panic!("{}: unknown GPU {}", recipe.id, recipe.gpu));
        let fit = estimate(&validate::fit_input(recipe, gpu));
        assert!(fit.fits, "{}: {}", recipe.id, fit.verdict);
        assert!(fit.max_concurrent_sequences >= 1, "{}", recipe.id);
    }
}

#[test]
fn library_covers_models_gpus_counts_precisions_and_engines() {
    let library = load_builtin();
    let recipes: Vec<_> = library.recipes.iter().map(|l| &l.recipe).collect();
    assert!(recipes.len() >= 40, "only {} recipes", recipes.len());
    let base_models: BTreeSet<String> =
        recipes.iter().map(|r| r.model.source.clone().unwrap_or_default()).collect();
    assert!(base_models.len() >= 10, "only {} models", base_models.len());
    let gpu_names: BTreeSet<&str> = recipes.iter().map(|r| r.gpu.as_str()).collect();
    for gpu in ["MI300X", "MI325X", "MI355X", "H100", "H200", "A100-80GB", "L40S"] {
        assert!(gpu_names.contains(gpu), "no recipe for {gpu}");
    }
    let vendors: Vec<GpuVendor> =
        recipes.iter().filter_map(|r| gpus::by_name(&r.gpu)).map(|g| g.vendor).collect();
    assert!(vendors.contains(&GpuVendor::Amd) && vendors.contains(&GpuVendor::Nvidia));
    let counts: BTreeSet<u32> = recipes.iter().map(|r| r.gpu_count).collect();
    for count in [1, 2, 4, 8] {
        assert!(counts.contains(&count), "no recipe on {count} GPUs");
    }
    let precisions: BTreeSet<_> = recipes.iter().map(|r| r.precision).collect();
    assert!(precisions.len() >= 4, "{precisions:?}");
    let engines: BTreeSet<_> = recipes.iter().map(|r| r.engine).collect();
    assert_eq!(engines.len(), EngineKind::ALL.len());
}

#[test]
fn every_builtin_says_where_its_architecture_figures_came_from() {
    for loaded in &load_builtin().recipes {
        let source = loaded.recipe.model.source.as_deref().unwrap_or("");
        assert!(
            source.starts_with("https://huggingface.co/") && source.ends_with("/config.json"),
            "{}: source `{source}` is not a config.json URL",
            loaded.recipe.id
        );
    }
}

#[test]
fn builtin_list_matches_the_recipes_directory() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    let embedded: BTreeSet<String> = BUILTIN.iter().map(|(name, _)| name.to_string()).collect();
    assert_eq!(on_disk, embedded, "src/recipes/builtin.rs is out of date with recipes/");
}

#[test]
fn recipe_ids_match_file_names() {
    for loaded in &load_builtin().recipes {
        assert_eq!(loaded.file, format!("builtin:recipes/{}.yaml", loaded.recipe.id));
    }
}

#[test]
fn editor_schema_names_exactly_the_recipe_fields() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/recipe.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let keys = |value: &serde_json::Value| -> BTreeSet<String> {
        value.as_object().unwrap().keys().cloned().collect()
    };
    let library = load_builtin();
    let recipe = serde_json::to_value(&library.recipes[0].recipe).unwrap();
    assert_eq!(keys(&schema["properties"]), keys(&recipe));
    assert_eq!(keys(&schema["properties"]["model"]["properties"]), keys(&recipe["model"]));
    let catalog: BTreeSet<String> = gpus::CATALOG.iter().map(|g| g.name.to_string()).collect();
    let in_schema: BTreeSet<String> = schema["properties"]["gpu"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(
        catalog.is_subset(&in_schema),
        "schema misses {:?}",
        catalog.difference(&in_schema).collect::<Vec<_>>()
    );
}

/// Issue 15: the command line of every built-in recipe, and of the recipe derived for each
/// built-in model on its recipe's GPU and engine, passes the real engines' parsers
/// (tests/fixtures/engines/, read from the vLLM 0.33.0 and SGLang 0.5.23 wheels): no unknown
/// flag, no abbreviation, no invalid choice, parser names the engine registers, and a
/// checkpoint method the engine loads.
#[test]
fn every_builtin_and_derived_command_line_passes_the_real_engines_parsers() {
    use aimdeck::engine::{argparse, launch_command};
    use aimdeck::recipes::derive::derive_recipe;
    use aimdeck::recipes::engine_check;
    use aimdeck::recipes::{Hardware, SelectQuery, to_deployment_spec};

    let library = load_builtin();
    let mut refused = Vec::new();
    let mut derived = 0;
    for loaded in &library.recipes {
        let recipe = &loaded.recipe;
        let spec = to_deployment_spec(recipe, "check", 1, 8000);
        let command = launch_command(&spec, 0).display();
        for problem in argparse::check_spec(&spec) {
            refused.push(format!("{}: {problem}\n    {command}", recipe.id));
        }
        for (field, message, _) in engine_check::check(recipe) {
            refused.push(format!("{}: {field}: {message}", recipe.id));
        }
        let gpu = gpus::by_name(&recipe.gpu).expect("catalog GPU");
        let hardware = Hardware { gpu: recipe.gpu.clone(), total: 8, free: 8, memory_bytes: None };
        let query = SelectQuery {
            model: recipe.model.repo.clone(),
            engine: Some(recipe.engine),
            precision: None,
            max_model_len: None,
            prefer: None,
        };
        match derive_recipe(&recipe.model, &query, &hardware, gpu, &library) {
            Ok(made) => {
                derived += 1;
                let spec = to_deployment_spec(&made, "check", 1, 8000);
                for problem in argparse::check_spec(&spec) {
                    refused.push(format!("{} (derived for {}): {problem}", made.id, recipe.id));
                }
            }
            // Too big for 8 GPUs at the derived context is the estimator's call, not a flag problem.
            Err(why) if why.contains("does not fit") => {}
            Err(why) => refused.push(format!("derived for {}: {why}", recipe.id)),
        }
    }
    assert!(refused.is_empty(), "{}", refused.join("\n"));
    assert!(derived >= library.recipes.len() / 2, "only {derived} recipes derived");
}

#[test]
fn sglang_commands_name_parallelism_in_full() {
    use aimdeck::engine::launch_command;
    use aimdeck::recipes::to_deployment_spec;
    let library = load_builtin();
    let recipe = &library.get("deepseek-v3-h200-x8-fp8-sglang").expect("built-in").recipe;
    let argv = launch_command(&to_deployment_spec(recipe, "ds", 1, 30000), 0).argv();
    assert!(argv.windows(2).any(|w| w == ["--tp-size", "8"]), "{argv:?}");
    assert!(!argv.iter().any(|a| a == "--tp" || a == "--quantization"), "{argv:?}");
}
