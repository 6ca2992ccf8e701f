//! Semantic checks on a parsed recipe: things YAML types cannot say. Each problem points at the
//! field that has to change and says what would be accepted.

use crate::model::Recipe;
use crate::model::recipe::{KvCacheDtype, Precision};

use super::engine_check;
use super::fit::{self, FitInput};
use super::gpus;
use super::parse::Locations;
use super::problem::Problem;

/// Engine flags that the recipe sets through its own fields; a second copy in `engine_args`
/// would silently disagree with what the estimator and the view show.
const STRUCTURED_FLAGS: &[(&str, &str)] = &[
    ("tensor-parallel-size", "parallelism.tp"),
    ("tp", "parallelism.tp"),
    ("tp-size", "parallelism.tp"),
    ("pipeline-parallel-size", "parallelism.pp"),
    ("pp-size", "parallelism.pp"),
    ("data-parallel-size", "parallelism.dp"),
    ("dp", "parallelism.dp"),
    ("dp-size", "parallelism.dp"),
    ("max-model-len", "max_model_len"),
    ("context-length", "max_model_len"),
    ("gpu-memory-utilization", "gpu_memory_utilization"),
    ("mem-fraction-static", "gpu_memory_utilization"),
    ("kv-cache-dtype", "kv_cache_dtype"),
    ("quantization", "precision"),
    ("dtype", "precision"),
    ("port", "the deployment's port"),
    ("host", "the deployment's host"),
    ("model", "model.repo"),
    ("model-path", "model.repo"),
    ("served-model-name", "the deployment's served model name"),
];

/// All semantic problems of one recipe.
pub fn check_recipe(file: &str, recipe: &Recipe, at: &Locations) -> Vec<Problem> {
    let engine_findings = engine_check::check(recipe);
    let mut problems = Vec::new();
    let mut report = |field: &str, message: String, expected: Option<String>| {
        let (line, column) = at.at(field);
        let mut problem = Problem::new(file, line, column, field, message);
        if let Some(expected) = expected {
            problem = problem.expected(expected);
        }
        problems.push(problem);
    };

    if recipe.id.is_empty()
        || !recipe.id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        report(
            "id",
            format!("`{}` is not a usable recipe id", recipe.id),
            Some("letters, digits, `-`, `_` and `.`, e.g. `llama-3.1-8b-h100-x1-bf16-vllm`".into()),
        );
    }

    let facts = &recipe.model;
    for (field, value) in [
        ("model.layers", facts.layers),
        ("model.attention_heads", facts.attention_heads),
        ("model.kv_heads", facts.kv_heads),
        ("model.head_dim", facts.head_dim),
    ] {
        if value == 0 {
            report(
                field,
                "must be at least 1".into(),
                Some("the figure from the model's config.json".into()),
            );
        }
    }
    if facts.params_b <= 0.0 || !facts.params_b.is_finite() {
        report(
            "model.params_b",
            format!("{} is not a parameter count", facts.params_b),
            Some("billions of parameters, e.g. 8.03".into()),
        );
    }
    if facts.kv_heads > 0 && !facts.attention_heads.is_multiple_of(facts.kv_heads) {
        report(
            "model.kv_heads",
            format!(
                "{} KV heads do not divide {} attention heads",
                facts.kv_heads, facts.attention_heads
            ),
            Some("num_key_value_heads from config.json".into()),
        );
    }

    let p = recipe.parallelism;
    for (field, value) in
        [("parallelism.tp", p.tp), ("parallelism.pp", p.pp), ("parallelism.dp", p.dp)]
    {
        if value == 0 {
            report(field, "must be at least 1".into(), None);
        }
    }
    // In u128: tp x pp x dp of user figures fits neither a u32 nor a u64.
    let product = u128::from(p.tp) * u128::from(p.pp) * u128::from(p.dp);
    if u128::from(recipe.gpu_count) != product {
        report(
            "gpu_count",
            format!(
                "gpu_count is {} but tp {} x pp {} x dp {} uses {} GPUs",
                recipe.gpu_count, p.tp, p.pp, p.dp, product
            ),
            Some(format!("gpu_count: {product}")),
        );
    }
    if p.tp > 0 && facts.attention_heads > 0 && !facts.attention_heads.is_multiple_of(p.tp) {
        let divisors: Vec<String> = (1..=facts.attention_heads)
            .filter(|d| facts.attention_heads.is_multiple_of(*d) && *d <= 64)
            .map(|d| d.to_string())
            .collect();
        report(
            "parallelism.tp",
            format!(
                "tp {} does not divide the model's {} attention heads",
                p.tp, facts.attention_heads
            ),
            Some(format!("one of {}", divisors.join(", "))),
        );
    }

    if let Some(fraction) = recipe.gpu_memory_utilization
        && !(fraction > 0.0 && fraction <= 1.0)
    {
        report(
            "gpu_memory_utilization",
            format!("{fraction} is not a fraction of GPU memory"),
            Some("a number in (0, 1], e.g. 0.9".into()),
        );
    }
    if let Some(len) = recipe.max_model_len
        && facts.max_context > 0
        && len > facts.max_context
    {
        report(
            "max_model_len",
            format!("{len} is longer than the model's max_context of {}", facts.max_context),
            Some(format!("at most {}", facts.max_context)),
        );
    }

    for name in recipe.engine_args.keys() {
        if let Some((_, instead)) = STRUCTURED_FLAGS.iter().find(|(flag, _)| flag == name) {
            report(
                &format!("engine_args.{name}"),
                format!("`{name}` is set from the recipe's own fields, not engine_args"),
                Some(format!("set {instead} instead")),
            );
        }
    }

    // What the real engine would refuse (its flags, choices, parsers, quantization methods).
    for (field, message, expected) in engine_findings {
        report(&field, message, expected);
    }

    let Some(gpu) = gpus::by_name(&recipe.gpu) else {
        let hint = gpus::normalize(&recipe.gpu)
            .map(|g| format!("; did you mean `{}`?", g.name))
            .unwrap_or_default();
        report(
            "gpu",
            format!("unknown GPU model `{}`{hint}", recipe.gpu),
            Some(format!("one of {}", gpus::names().join(", "))),
        );
        return problems;
    };
    let needs_fp8 = recipe.precision == Precision::Fp8;
    if needs_fp8 && !gpu.fp8 {
        report(
            "precision",
            format!("fp8 is not supported on {} ({})", gpu.name, gpu.family),
            Some(
                "bf16, fp16, int8 or an int4 format; fp8 needs an MI300-class or H100-class GPU"
                    .into(),
            ),
        );
    }
    if recipe.precision == Precision::Mxfp4 && !gpu.mxfp4 {
        report(
            "precision",
            format!("mxfp4 is not supported on {}", gpu.name),
            Some("a GPU that runs gpt-oss".into()),
        );
    }
    if recipe.kv_cache_dtype == KvCacheDtype::Fp8 && !gpu.fp8 {
        report(
            "kv_cache_dtype",
            format!("an fp8 KV cache is not supported on {} ({})", gpu.name, gpu.family),
            Some("auto".into()),
        );
    }

    if problems.is_empty() {
        let report_fit = fit::estimate(&fit_input(recipe, gpu));
        if !report_fit.fits {
            let field = if report_fit.kv_budget_bytes > 0 && recipe.max_model_len.is_some() {
                "max_model_len"
            } else {
                "gpu_count"
            };
            let (line, column) = at.at(field);
            problems.push(
                Problem::new(
                    file,
                    line,
                    column,
                    field,
                    format!("the model {}", report_fit.verdict),
                )
                .expected("more GPUs, a smaller precision or a shorter max_model_len"),
            );
        }
    }
    problems
}

/// The estimator's input for a recipe on its own GPU.
pub fn fit_input<'a>(recipe: &'a Recipe, gpu: &'a gpus::GpuModel) -> FitInput<'a> {
    FitInput {
        facts: &recipe.model,
        precision: recipe.precision,
        kv_cache_dtype: recipe.kv_cache_dtype,
        engine: recipe.engine,
        gpu,
        parallelism: recipe.parallelism,
        max_model_len: recipe.max_model_len,
        memory_fraction: recipe.gpu_memory_utilization,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipes::parse::parse_recipe;

    const BASE: &str = "\
id: qwen-7b
model:
  repo: Qwen/Qwen2.5-7B-Instruct
  params_b: 7.62
  layers: 28
  attention_heads: 28
  kv_heads: 4
  head_dim: 128
  max_context: 32768
engine: vllm
gpu: A100-80GB
gpu_count: 1
precision: bf16
parallelism:
  tp: 1
max_model_len: 32768
";

    fn problems(text: &str) -> Vec<Problem> {
        let (recipe, at) = parse_recipe("r.yaml", text).unwrap();
        check_recipe("r.yaml", &recipe, &at)
    }

    #[test]
    fn base_recipe_is_clean() {
        assert_eq!(problems(BASE), vec![]);
    }

    #[test]
    fn gpu_count_mismatch_points_at_gpu_count() {
        let found =
            problems(&BASE.replace("gpu_count: 1", "gpu_count: 4").replace("tp: 1", "tp: 2"));
        let mismatch = found.iter().find(|p| p.field == "gpu_count").expect("gpu_count problem");
        assert_eq!((mismatch.line, mismatch.column), (12, 12));
        assert!(mismatch.message.contains("tp 2 x pp 1 x dp 1 uses 2 GPUs"), "{mismatch}");
    }

    #[test]
    fn tp_must_divide_attention_heads() {
        let found =
            problems(&BASE.replace("gpu_count: 1", "gpu_count: 8").replace("tp: 1", "tp: 8"));
        let heads = found.iter().find(|p| p.field == "parallelism.tp").expect("tp problem");
        assert_eq!(heads.line, 15);
        assert!(
            heads.message.contains("does not divide the model's 28 attention heads"),
            "{heads}"
        );
        assert!(heads.expected.as_deref().unwrap().contains("4, 7"), "{heads}");
    }

    #[test]
    fn fp8_is_rejected_on_a100() {
        let found = problems(&BASE.replace("precision: bf16", "precision: fp8"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].field, "precision");
        assert_eq!(found[0].line, 13);
        assert!(found[0].message.contains("fp8 is not supported on A100-80GB"), "{}", found[0]);
    }

    #[test]
    fn unknown_gpu_lists_the_catalog_and_suggests() {
        let found = problems(&BASE.replace("gpu: A100-80GB", "gpu: AMD Instinct MI300X"));
        assert_eq!(found[0].field, "gpu");
        assert!(found[0].message.contains("did you mean `MI300X`"), "{}", found[0]);
        assert!(found[0].expected.as_deref().unwrap().contains("L40S"));
    }

    #[test]
    fn a_model_that_does_not_fit_is_an_error() {
        let big =
            BASE.replace("params_b: 7.62", "params_b: 72.7").replace("gpu: A100-80GB", "gpu: L40S");
        let found = problems(&big);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].field, "gpu_count");
        assert!(found[0].message.contains("does not fit"), "{}", found[0]);
    }

    #[test]
    fn parallelism_flags_in_engine_args_are_refused() {
        let text = format!("{BASE}engine_args:\n  tensor-parallel-size: 2\n");
        let found = problems(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].field, "engine_args.tensor-parallel-size");
        assert_eq!(found[0].line, 18);
        assert_eq!(found[0].expected.as_deref(), Some("set parallelism.tp instead"));
    }

    #[test]
    fn absurd_figures_are_reported_not_wrapped() {
        let text = BASE
            .replace("layers: 28", "layers: 4294967295")
            .replace("head_dim: 128", "head_dim: 4294967295")
            .replace("tp: 1", "tp: 4294967295\n  pp: 4294967295\n  dp: 4294967295");
        let found = problems(&text);
        let mismatch = found.iter().find(|p| p.field == "gpu_count").expect("gpu_count problem");
        assert!(mismatch.message.contains("uses 79228162458924105385300197375 GPUs"), "{mismatch}");
        assert!(found.iter().any(|p| p.field == "parallelism.tp"), "{found:?}");
    }

    #[test]
    fn pipeline_parallel_sglang_is_accepted_since_the_launcher_renders_pp_size() {
        let text = BASE
            .replace("engine: vllm", "engine: sglang")
            .replace("gpu_count: 1", "gpu_count: 2")
            .replace("tp: 1", "tp: 1\n  pp: 2");
        assert_eq!(problems(&text), vec![]);
    }

    #[test]
    fn an_unknown_engine_flag_is_refused_with_the_engines_words() {
        let text = format!("{BASE}engine_args:\n  no-such-flag: 3\n");
        let found = problems(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].field, "engine_args.no-such-flag");
        assert!(
            found[0].message.contains("unrecognized arguments: --no-such-flag 3"),
            "{}",
            found[0]
        );
    }
}
