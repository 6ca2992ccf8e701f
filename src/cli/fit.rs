//! `aimdeck fit`: will a model fit on these GPUs, and how much context and concurrency is left?

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use color_eyre::eyre::eyre;
use serde::Serialize;

use crate::model::EngineKind;
use crate::model::recipe::{KvCacheDtype, ModelFacts, Parallelism, Precision};
use crate::recipes::fit::{FitInput, FitReport, estimate};
use crate::recipes::gpus;
use crate::recipes::select::known_facts;

use super::GlobalArgs;
use super::recipes::{cached_facts, library, print_fit};

#[derive(Debug, Args)]
pub struct FitArgs {
    /// Model repo id or alias (facts from a recipe, or config.json in the local Hugging Face cache)
    #[arg(long)]
    pub model: String,
    /// GPU model (catalog name or product name)
    #[arg(long)]
    pub gpu: String,
    /// GPUs to split the model over (tensor parallel)
    #[arg(long, default_value_t = 1)]
    pub count: u32,
    #[arg(long, default_value = "bf16")]
    pub precision: Precision,
    /// Context length to serve [default: the model's maximum]
    #[arg(long)]
    pub max_model_len: Option<u64>,
    #[arg(long, default_value = "vllm")]
    pub engine: EngineKind,
    /// KV-cache dtype: auto or fp8
    #[arg(long, default_value = "auto", value_parser = parse_kv)]
    pub kv_cache_dtype: KvCacheDtype,
    /// --gpu-memory-utilization / --mem-fraction-static [default: the engine's]
    #[arg(long)]
    pub memory_fraction: Option<f64>,
    /// Extra recipe directory to look the model up in
    #[arg(long, value_name = "DIR")]
    pub recipes_dir: Vec<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

fn parse_kv(text: &str) -> Result<KvCacheDtype, String> {
    match text.to_ascii_lowercase().as_str() {
        "auto" => Ok(KvCacheDtype::Auto),
        "fp8" => Ok(KvCacheDtype::Fp8),
        "bf16" => Ok(KvCacheDtype::Bf16),
        "fp16" => Ok(KvCacheDtype::Fp16),
        other => Err(format!("unknown KV-cache dtype `{other}`, expected auto, fp8, bf16 or fp16")),
    }
}

/// `aimdeck fit --json`.
#[derive(Debug, Serialize)]
struct FitOutput<'a> {
    model: &'a ModelFacts,
    gpu: &'a str,
    count: u32,
    precision: Precision,
    engine: EngineKind,
    /// Problems that make the split itself impossible, whatever the memory says.
    warnings: Vec<String>,
    #[serde(flatten)]
    fit: FitReport,
}

pub fn run(args: FitArgs, global: &GlobalArgs) -> color_eyre::Result<ExitCode> {
    let gpu = gpus::normalize(&args.gpu)
        .ok_or_else(|| eyre!("unknown GPU `{}`; known: {}", args.gpu, gpus::names().join(", ")))?;
    let (library, config) = library(global, &args.recipes_dir)?;
    let facts = known_facts(&library, &args.model).or_else(|| cached_facts(&config, &args.model)).ok_or_else(|| {
        eyre!(
            "no architecture facts for `{}`: no recipe names it and its config.json is not in the local Hugging Face cache ({})",
            args.model,
            crate::paths::hf_hub_cache(config.cache_dir.as_deref()).display()
        )
    })?;
    if args.count == 0 {
        return Err(eyre!("--count must be at least 1"));
    }
    let mut warnings = Vec::new();
    if facts.attention_heads % args.count != 0 {
        warnings.push(format!(
            "tp {} does not divide the model's {} attention heads; the engine will refuse it",
            args.count, facts.attention_heads
        ));
    }
    if args.precision == Precision::Fp8 && !gpu.fp8 {
        warnings.push(format!("fp8 is not supported on {}", gpu.name));
    }
    if let Some(len) = args.max_model_len
        && len > facts.max_context
    {
        warnings
            .push(format!("{len} is longer than the model's max_context of {}", facts.max_context));
    }
    let report = estimate(&FitInput {
        facts: &facts,
        precision: args.precision,
        kv_cache_dtype: args.kv_cache_dtype,
        engine: args.engine,
        gpu,
        parallelism: Parallelism { tp: args.count, pp: 1, dp: 1 },
        max_model_len: args.max_model_len,
        memory_fraction: args.memory_fraction,
    });
    let fits = report.fits && warnings.is_empty();
    if args.json {
        let output = FitOutput {
            model: &facts,
            gpu: gpu.name,
            count: args.count,
            precision: args.precision,
            engine: args.engine,
            warnings,
            fit: report,
        };
        println!("{}", serde_json::to_string_pretty(&output)?);
    } else {
        println!(
            "{} in {} on {} x {} with {}",
            facts.repo, args.precision, args.count, gpu.name, args.engine
        );
        print_fit(&report);
        for warning in &warnings {
            println!("  warning: {warning}");
        }
    }
    Ok(if fits { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
