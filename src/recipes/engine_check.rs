//! Recipe checks against what the real engine accepts (`engine::facts`, read from the newest
//! supported release): the checkpoint's quantization method must be one the engine loads,
//! the precision must agree with the checkpoint, and the command line aimdeck renders for the
//! recipe must pass the engine's own parser (full flag names, valid choices and parser names).

use crate::engine::{argparse, facts};
use crate::model::recipe::{KvCacheDtype, Precision};
use crate::model::{EngineKind, Recipe};

use super::to_spec::to_deployment_spec;

/// One problem: the recipe field to change, what is wrong, what would be accepted.
pub type Finding = (String, String, Option<String>);

pub fn check(recipe: &Recipe) -> Vec<Finding> {
    let engine = facts::newest(recipe.engine);
    let release = format!("{} {}", engine.engine, engine.version);
    let mut found: Vec<Finding> = Vec::new();
    let method = recipe.model.quant_method.as_deref();
    match (recipe.precision, method) {
        (Precision::Int4Awq | Precision::Int4Gptq | Precision::Mxfp4 | Precision::Int8, None) => found.push((
            "model.quant_method".into(),
            format!("{} weights cannot be quantized on the fly: the recipe must name its checkpoint's method", recipe.precision),
            Some("quantization_config.quant_method from the repo's config.json, e.g. awq, gptq, mxfp4".into()),
        )),
        (Precision::Bf16 | Precision::Fp16, Some(method)) => found.push((
            "precision".into(),
            format!("the checkpoint is quantized ({method}) but the recipe says {}", recipe.precision),
            Some("the checkpoint's precision, or a bf16 repo".into()),
        )),
        _ => {}
    }
    if let Some(method) = method
        && !engine.knows_quantization(method)
    {
        let other = match recipe.engine {
            EngineKind::Vllm => EngineKind::Sglang,
            EngineKind::Sglang => EngineKind::Vllm,
        };
        let hint = if facts::newest(other).knows_quantization(method) {
            format!(", or engine: {other}")
        } else {
            String::new()
        };
        found.push((
            "model.quant_method".into(),
            format!("{release} does not load `{method}` checkpoints"),
            Some(format!(
                "a checkpoint in one of {}{hint}",
                engine.registries.quantization_methods.values.join(", ")
            )),
        ));
    }
    if recipe.engine == EngineKind::Sglang && recipe.kv_cache_dtype == KvCacheDtype::Fp16 {
        found.push((
            "kv_cache_dtype".into(),
            format!("{release} has no fp16 KV cache"),
            Some("auto, bf16 or fp8".into()),
        ));
    }
    let spec = to_deployment_spec(recipe, "check", 1, 8000);
    for problem in argparse::check_spec(&spec) {
        let field = recipe
            .engine_args
            .keys()
            .find(|name| problem.contains(&format!("--{name}")))
            .map(|name| format!("engine_args.{name}"))
            .unwrap_or_else(|| "engine".into());
        found.push((field, format!("the engine would refuse its command line: {problem}"), None));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipes::load_builtin;

    fn recipe(id: &str) -> Recipe {
        load_builtin().get(id).expect("built-in").recipe.clone()
    }

    #[test]
    fn sglang_refuses_fbgemm_fp8_checkpoints_and_says_which_engine_loads_them() {
        let mut r = recipe("llama-3.1-405b-instruct-h200-x8-fp8-sglang");
        r.model.quant_method = Some("fbgemm_fp8".into());
        let found = check(&r);
        let (field, message, expected) =
            found.iter().find(|f| f.0 == "model.quant_method").expect("refused");
        assert_eq!(field, "model.quant_method");
        assert_eq!(message, "sglang 0.5.23 does not load `fbgemm_fp8` checkpoints");
        assert!(expected.as_deref().unwrap().ends_with(", or engine: vllm"), "{expected:?}");
    }

    #[test]
    fn wrong_parser_names_point_at_the_engine_arg() {
        let mut r = recipe("deepseek-r1-h200-x8-fp8-vllm");
        r.engine_args
            .insert("reasoning-parser".into(), crate::model::ArgValue::Text("deepseek-r1".into()));
        let found = check(&r);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "engine_args.reasoning-parser");
        assert!(found[0].1.contains("invalid reasoning parser: deepseek-r1"), "{}", found[0].1);
    }

    #[test]
    fn awq_without_the_checkpoint_method_is_refused() {
        let mut r = recipe("qwen2.5-7b-instruct-a100-40gb-x1-int4-awq-vllm");
        r.model.quant_method = None;
        assert!(check(&r).iter().any(|f| f.0 == "model.quant_method"));
    }
}
