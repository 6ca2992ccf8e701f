//! `aimdeck recipes list|show|select|validate|import`: the recipe library, headless.

mod import_cmd;
mod validate_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use color_eyre::eyre::eyre;
use serde::Serialize;

use crate::config::Config;
use crate::model::EngineKind;
use crate::model::recipe::{Goal, ModelFacts, Precision};
use crate::recipes::fit::{FitReport, gib};
use crate::recipes::load::{Library, LoadedRecipe};
use crate::recipes::select::{Hardware, SelectQuery, has_recipe, select};
use crate::recipes::{Problem, gpus, hf_config};

use super::GlobalArgs;
use import_cmd::run_import;
use validate_cmd::run_validate;

#[derive(Debug, Args)]
pub struct RecipesArgs {
    /// Extra recipe directory, read after ~/.config/aimdeck/recipes (repeatable)
    #[arg(long, global = true, value_name = "DIR")]
    pub recipes_dir: Vec<PathBuf>,
    #[command(subcommand)]
    pub command: RecipesCommand,
}

#[derive(Debug, Subcommand)]
pub enum RecipesCommand {
    /// List recipes, optionally filtered
    List(ListArgs),
    /// Show one recipe: its fields, the engine command line and the memory fit
    Show(ShowArgs),
    /// Rank the recipes for a model on the given GPUs, with the reason for each rejection
    Select(SelectArgs),
    /// Check recipe files (or the whole library) and print every problem; exit 1 if any
    Validate(ValidateArgs),
    /// Convert AMD AIM profile files to aimdeck recipes
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Model repo id, alias or name (e.g. Llama-3.1-8B-Instruct)
    #[arg(long)]
    pub model: Option<String>,
    /// GPU model (MI300X, H100, ...)
    #[arg(long)]
    pub gpu: Option<String>,
    #[arg(long)]
    pub engine: Option<EngineKind>,
    #[arg(long)]
    pub precision: Option<Precision>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    pub id: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Model repo id or alias
    #[arg(long)]
    pub model: String,
    #[arg(long)]
    pub engine: Option<EngineKind>,
    #[arg(long)]
    pub precision: Option<Precision>,
    /// GPU model on this machine (catalog name or the product name nvidia-smi/amd-smi print)
    #[arg(long)]
    pub gpu: Option<String>,
    /// Number of GPUs of that model
    #[arg(long)]
    pub count: Option<u32>,
    /// How many of them are free [default: --count]
    #[arg(long)]
    pub free: Option<u32>,
    /// Context length to serve
    #[arg(long)]
    pub max_model_len: Option<u64>,
    /// latency or throughput [default: throughput]
    #[arg(long, value_parser = parse_goal)]
    pub prefer: Option<Goal>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Recipe files or directories [default: the whole library]
    pub paths: Vec<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// AIM profile files
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Write each recipe to the user recipe directory (or --out) instead of printing it
    #[arg(long)]
    pub write: bool,
    /// Directory to write to with --write [default: ~/.config/aimdeck/recipes]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

fn parse_goal(text: &str) -> Result<Goal, String> {
    match text.to_ascii_lowercase().as_str() {
        "latency" => Ok(Goal::Latency),
        "throughput" => Ok(Goal::Throughput),
        "balanced" => Ok(Goal::Balanced),
        other => {
            Err(format!("unknown preference `{other}`, expected latency, throughput or balanced"))
        }
    }
}

/// The library as the console sees it: built-ins, the user directory, the config's directories
/// and `--recipes-dir`.
pub fn library(
    global: &GlobalArgs,
    flag_dirs: &[PathBuf],
) -> color_eyre::Result<(Library, Config)> {
    // Already read by `cli::run`; a broken file was reported there and the defaults are used.
    let config = global.settings.clone();
    Ok((crate::ops::settings::library(&config, flag_dirs), config))
}

/// Facts for a model from the local Hugging Face cache, if its config.json is there.
pub fn cached_facts(config: &Config, model: &str) -> Option<ModelFacts> {
    let root = crate::paths::hf_hub_cache(config.cache_dir.as_deref());
    hf_config::facts_from_cache(&root, model).ok().flatten()
}

fn print_json<T: Serialize>(value: &T) -> color_eyre::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn warn_problems(problems: &[Problem]) {
    for problem in problems {
        eprintln!("warning: {problem}");
    }
}

pub fn run(args: RecipesArgs, global: &GlobalArgs) -> color_eyre::Result<ExitCode> {
    // Only `import --write` changes something (it writes recipe files); printing is looking.
    if global.readonly
        && matches!(&args.command, RecipesCommand::Import(ImportArgs { write: true, .. }))
    {
        color_eyre::eyre::bail!(
            "--readonly: refusing to write recipes (drop --write to print them)"
        );
    }
    match args.command {
        RecipesCommand::List(list) => run_list(list, global, &args.recipes_dir),
        RecipesCommand::Show(show) => run_show(show, global, &args.recipes_dir),
        RecipesCommand::Select(sel) => run_select(sel, global, &args.recipes_dir),
        RecipesCommand::Validate(val) => run_validate(val, global, &args.recipes_dir),
        RecipesCommand::Import(imp) => run_import(imp, global, &args.recipes_dir),
    }
}

/// One row of `recipes list --json`.
#[derive(Debug, Serialize)]
struct ListRow<'a> {
    id: &'a str,
    model: &'a str,
    engine: EngineKind,
    gpu: &'a str,
    gpu_count: u32,
    precision: Precision,
    kv_cache_dtype: &'static str,
    tp: u32,
    pp: u32,
    dp: u32,
    max_model_len: Option<u64>,
    goal: Goal,
    origin: &'a crate::recipes::Origin,
    file: &'a str,
}

fn row(loaded: &LoadedRecipe) -> ListRow<'_> {
    let r = &loaded.recipe;
    ListRow {
        id: &r.id,
        model: &r.model.repo,
        engine: r.engine,
        gpu: &r.gpu,
        gpu_count: r.gpu_count,
        precision: r.precision,
        kv_cache_dtype: r.kv_cache_dtype.as_str(),
        tp: r.parallelism.tp,
        pp: r.parallelism.pp,
        dp: r.parallelism.dp,
        max_model_len: r.max_model_len,
        goal: r.goal,
        origin: &loaded.origin,
        file: &loaded.file,
    }
}

fn origin_text(loaded: &LoadedRecipe) -> &'static str {
    crate::recipes::detail::origin_label(loaded)
}

fn run_list(args: ListArgs, global: &GlobalArgs, dirs: &[PathBuf]) -> color_eyre::Result<ExitCode> {
    let (library, _) = library(global, dirs)?;
    warn_problems(&library.problems);
    if let Some(name) = &args.gpu
        && gpus::normalize(name).is_none()
    {
        return Err(eyre!("unknown GPU `{name}`; known: {}", gpus::names().join(", ")));
    }
    // The same filter the console's recipes view applies.
    let filter = crate::recipes::RecipeFilter {
        model: args.model.clone(),
        gpu: args.gpu.clone(),
        engine: args.engine,
        precision: args.precision,
    };
    let rows: Vec<&LoadedRecipe> = library.recipes.iter().filter(|l| filter.matches(l)).collect();
    if args.json {
        print_json(&rows.iter().map(|l| row(l)).collect::<Vec<_>>())?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<48} {:<7} {:<10} {:>3} {:<9} {:>8} {:<8}",
        "ID", "ENGINE", "GPU", "N", "PRECISION", "CONTEXT", "ORIGIN"
    );
    for loaded in &rows {
        let r = &loaded.recipe;
        println!(
            "{:<48} {:<7} {:<10} {:>3} {:<9} {:>8} {:<8}",
            r.id,
            r.engine.as_str(),
            r.gpu,
            r.gpu_count,
            r.precision.as_str(),
            r.max_model_len.map(|l| l.to_string()).unwrap_or_else(|| "model".into()),
            origin_text(loaded)
        );
    }
    println!("{} recipe{}", rows.len(), if rows.len() == 1 { "" } else { "s" });
    Ok(ExitCode::SUCCESS)
}

/// `recipes show --json`: the recipe, where it came from, its command line, its fit and the
/// fit as fractions of GPU memory.
#[derive(Debug, Serialize)]
struct ShowOutput<'a> {
    recipe: &'a crate::model::Recipe,
    origin: &'a crate::recipes::Origin,
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    overrides: Option<&'a str>,
    command: &'a [String],
    command_line: &'a str,
    fit: Option<&'a FitReport>,
    bars: Option<crate::recipes::FitBars>,
}

fn run_show(args: ShowArgs, global: &GlobalArgs, dirs: &[PathBuf]) -> color_eyre::Result<ExitCode> {
    let (library, _) = library(global, dirs)?;
    warn_problems(&library.problems);
    let Some(loaded) = library.get(&args.id) else {
        let close: Vec<&str> = library
            .recipes
            .iter()
            .map(|l| l.recipe.id.as_str())
            .filter(|id| id.contains(&args.id) || args.id.contains(*id))
            .take(5)
            .collect();
        let hint = if close.is_empty() {
            String::new()
        } else {
            format!("; similar: {}", close.join(", "))
        };
        return Err(eyre!("no recipe with id `{}`{hint} (see `aimdeck recipes list`)", args.id));
    };
    let shown = crate::recipes::detail(loaded);
    let recipe = &loaded.recipe;
    if args.json {
        print_json(&ShowOutput {
            recipe,
            origin: &loaded.origin,
            file: &loaded.file,
            overrides: loaded.overrides.as_deref(),
            command: &shown.command,
            command_line: &shown.command_line,
            fit: shown.fit.as_ref(),
            bars: shown.bars,
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}", recipe.id);
    if let Some(description) = &recipe.description {
        println!("  {description}");
    }
    println!(
        "  file:        {}{}",
        loaded.file,
        loaded.overrides.as_ref().map(|o| format!(" (overrides {o})")).unwrap_or_default()
    );
    println!("  model:       {}", recipe.model.repo);
    println!("  engine:      {}", recipe.engine);
    println!("  gpu:         {} x {}", recipe.gpu_count, recipe.gpu);
    println!("  precision:   {} (KV cache {})", recipe.precision, recipe.kv_cache_dtype.as_str());
    println!(
        "  parallelism: tp {} pp {} dp {}",
        recipe.parallelism.tp, recipe.parallelism.pp, recipe.parallelism.dp
    );
    if let Some(source) = &recipe.model.source {
        println!("  facts from:  {source}");
    }
    println!("  command:     {}", shown.command_line);
    for (name, value) in &recipe.env {
        println!("  env:         {name}={value}");
    }
    if let Some(fit) = &shown.fit {
        print_fit(fit);
    }
    Ok(ExitCode::SUCCESS)
}

/// The fit as lines a person reads: the three parts of GPU memory and the verdict.
pub fn print_fit(fit: &FitReport) {
    println!(
        "  fit per GPU ({}, {} total, engine share {:.0}%):",
        fit.gpu,
        gib(fit.gpu_memory_bytes as f64),
        fit.memory_fraction * 100.0
    );
    println!("    weights        {}", gib(fit.weights_per_gpu_bytes as f64));
    if fit.overhead_bytes > 0 {
        println!("    activations    {}", gib(fit.overhead_bytes as f64));
    }
    println!(
        "    KV cache       {} ({} bytes per token)",
        gib(fit.kv_budget_bytes.max(0) as f64),
        fit.kv_bytes_per_token
    );
    println!("    headroom       {}", gib(fit.headroom_bytes as f64));
    println!("    longest context one sequence can have: {} tokens", fit.max_context_that_fits);
    println!("    {}", fit.verdict);
}

fn run_select(
    args: SelectArgs,
    global: &GlobalArgs,
    dirs: &[PathBuf],
) -> color_eyre::Result<ExitCode> {
    let (library, config) = library(global, dirs)?;
    warn_problems(&library.problems);
    let hardware = match (&args.gpu, args.count) {
        (Some(gpu), count) => {
            if gpus::normalize(gpu).is_none() {
                return Err(eyre!("unknown GPU `{gpu}`; known: {}", gpus::names().join(", ")));
            }
            let total = count.unwrap_or(1);
            Some(Hardware {
                gpu: gpu.clone(),
                total,
                free: args.free.unwrap_or(total).min(total),
                memory_bytes: None,
            })
        }
        (None, Some(_)) => {
            return Err(eyre!("--count needs --gpu: name the GPU model (MI300X, H100, ...)"));
        }
        (None, None) => None,
    };
    let query = SelectQuery {
        model: args.model.clone(),
        engine: args.engine,
        precision: args.precision,
        max_model_len: args.max_model_len,
        prefer: args.prefer,
    };
    let extra =
        if has_recipe(&library, &args.model) { None } else { cached_facts(&config, &args.model) };
    let selection = select(&library, &query, hardware.as_ref(), extra);
    if args.json {
        print_json(&selection)?;
    } else {
        if let Some(hw) = &selection.hardware {
            println!(
                "{} on {} x {} ({} free), preferring {}",
                selection.model,
                hw.total,
                selection.gpu.as_deref().unwrap_or(&hw.gpu),
                hw.free,
                selection.prefer.as_str()
            );
        }
        for candidate in &selection.candidates {
            let mark = match candidate.rank {
                Some(1) => "best".to_string(),
                Some(rank) => format!("#{rank}"),
                None => "no".to_string(),
            };
            let derived = if candidate.derived { " (derived)" } else { "" };
            println!("{mark:>4}  {}{derived}", candidate.id);
            for reason in
                if candidate.accepted { &candidate.reasons } else { &candidate.rejections }
            {
                println!("        {reason}");
            }
        }
        for note in &selection.notes {
            println!("note: {note}");
        }
    }
    Ok(if selection.best.is_some() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
