//! The memory-fit estimate: will this model, at this precision and parallelism, fit on these
//! GPUs, and how much KV cache is left for context and concurrent sequences?
//!
//! Per GPU (DESIGN.md section 3, "Memory fit"):
//! - weights = params x bytes per param / (tp x pp)
//! - KV bytes per token = 2 (K and V) x layers/pp x ceil(kv_heads/tp) x head_dim x KV bytes;
//!   with MLA one latent of (kv_lora_rank + qk_rope_head_dim) per layer, not split by tp.
//! - KV budget: vLLM reserves `gpu_memory_utilization` (default 0.9) of the GPU for weights,
//!   activations and KV cache, so budget = memory x utilization - weights - activations.
//!   SGLang's `mem_fraction_static` covers weights and KV pool only (activations live outside
//!   it), so budget = memory x fraction - weights.
//!
//! The model fits when one sequence of the served context length fits in the KV budget:
//! the same test both engines make at start-up.

use serde::Serialize;

use crate::model::EngineKind;
use crate::model::recipe::{KvCacheDtype, ModelFacts, Parallelism, Precision};

use super::gpus::GpuModel;

/// vLLM's `--gpu-memory-utilization` default.
pub const VLLM_DEFAULT_UTILIZATION: f64 = 0.9;
/// SGLang picks `--mem-fraction-static` from GPU memory and tp; 0.85 is its choice for the
/// large-memory datacenter GPUs this catalog holds (0.79..0.88 across versions).
pub const SGLANG_DEFAULT_FRACTION: f64 = 0.85;
/// Activation peak, CUDA/HIP graphs, NCCL/RCCL buffers and the runtime's own context, per GPU.
/// vLLM measures this with a profiling run; 2 GiB covers the default batch sizes.
pub const ACTIVATION_OVERHEAD_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// What to estimate. Plain data so the CLI, the selector and the view all build it the same way.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitInput<'a> {
    pub facts: &'a ModelFacts,
    pub precision: Precision,
    pub kv_cache_dtype: KvCacheDtype,
    pub engine: EngineKind,
    pub gpu: &'a GpuModel,
    pub parallelism: Parallelism,
    /// Served context length; the model's own maximum when `None`.
    pub max_model_len: Option<u64>,
    /// `--gpu-memory-utilization` / `--mem-fraction-static`; the engine default when `None`.
    pub memory_fraction: Option<f64>,
}

/// The estimate, every figure per GPU unless named otherwise. `Serialize` for `--json` and views.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitReport {
    pub gpu: String,
    pub gpu_memory_bytes: u64,
    pub memory_fraction: f64,
    /// GPU memory the engine may use: memory x fraction.
    pub usable_bytes: u64,
    pub weights_total_bytes: u64,
    pub weights_per_gpu_bytes: u64,
    /// Activations and runtime buffers inside the engine's share (vLLM only, 0 for SGLang).
    pub overhead_bytes: u64,
    /// Left for the KV cache; negative when the weights alone do not fit.
    pub kv_budget_bytes: i64,
    pub kv_bytes_per_token: u64,
    /// KV bytes per token for the whole model on one GPU (tp = pp = 1), for comparison.
    pub kv_bytes_per_token_unsplit: u64,
    pub context_len: u64,
    /// Tokens the KV budget holds, across all sequences.
    pub kv_capacity_tokens: u64,
    /// Sequences of `context_len` tokens that fit at once.
    pub max_concurrent_sequences: u64,
    /// The longest context one sequence can have: the KV capacity, capped at the model's maximum.
    pub max_context_that_fits: u64,
    /// Memory outside the engine's share: memory x (1 - fraction).
    pub headroom_bytes: u64,
    pub fits: bool,
    /// One sentence explaining the verdict.
    pub verdict: String,
}

/// Bytes per KV-cache element. `auto` follows the activation dtype, which is 16-bit for every
/// weight precision here (fp8 and int4 checkpoints still compute in bf16).
pub fn kv_bytes_per_element(kv: KvCacheDtype) -> u64 {
    match kv {
        KvCacheDtype::Fp8 => 1,
        KvCacheDtype::Auto | KvCacheDtype::Bf16 | KvCacheDtype::Fp16 => 2,
    }
}

fn div_ceil(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { a.div_ceil(b) }
}

/// KV-cache bytes one token takes on one GPU.
pub fn kv_bytes_per_token(facts: &ModelFacts, kv: KvCacheDtype, parallelism: Parallelism) -> u64 {
    let element = kv_bytes_per_element(kv);
    let layers = div_ceil(u64::from(facts.layers), u64::from(parallelism.pp.max(1)));
    match facts.mla {
        // The latent is shared by all heads, so every tp rank keeps the whole of it.
        Some(mla) => layers
            .saturating_mul(u64::from(mla.kv_lora_rank) + u64::from(mla.qk_rope_head_dim))
            .saturating_mul(element),
        None => {
            // Ranks beyond the KV head count hold a replica of one head each.
            let heads =
                div_ceil(u64::from(facts.kv_heads), u64::from(parallelism.tp.max(1))).max(1);
            // Saturating: figures come from user files and must not wrap into a false fit.
            2u64.saturating_mul(layers)
                .saturating_mul(heads)
                .saturating_mul(u64::from(facts.head_dim))
                .saturating_mul(element)
        }
    }
}

pub fn weights_total_bytes(facts: &ModelFacts, precision: Precision) -> u64 {
    (facts.params_b * 1e9 * precision.bytes_per_param()).round() as u64
}

pub fn default_memory_fraction(engine: EngineKind) -> f64 {
    match engine {
        EngineKind::Vllm => VLLM_DEFAULT_UTILIZATION,
        EngineKind::Sglang => SGLANG_DEFAULT_FRACTION,
    }
}

pub fn estimate(input: &FitInput<'_>) -> FitReport {
    let facts = input.facts;
    let parallelism = input.parallelism;
    let fraction = input
        .memory_fraction
        .unwrap_or_else(|| default_memory_fraction(input.engine))
        .clamp(0.0, 1.0);
    let memory = input.gpu.memory_bytes;
    let usable = (memory as f64 * fraction) as u64;
    let weights_total = weights_total_bytes(facts, input.precision);
    let shards = u64::from(parallelism.tp.max(1)) * u64::from(parallelism.pp.max(1));
    let weights_per_gpu = weights_total.div_ceil(shards);
    let overhead = match input.engine {
        EngineKind::Vllm => ACTIVATION_OVERHEAD_BYTES,
        EngineKind::Sglang => 0,
    };
    let budget = i64::try_from(usable)
        .unwrap_or(i64::MAX)
        .saturating_sub(i64::try_from(weights_per_gpu).unwrap_or(i64::MAX))
        .saturating_sub(overhead as i64);
    let per_token = kv_bytes_per_token(facts, input.kv_cache_dtype, parallelism);
    let unsplit = kv_bytes_per_token(facts, input.kv_cache_dtype, Parallelism::default());
    let context = input.max_model_len.unwrap_or(facts.max_context).max(1);
    let capacity = if budget > 0 && per_token > 0 { budget as u64 / per_token } else { 0 };
    let sequences = capacity / context;
    let fits = sequences >= 1;
    let verdict =
        verdict(input, weights_per_gpu, usable, overhead, budget, context, capacity, sequences);
    FitReport {
        gpu: input.gpu.name.to_string(),
        gpu_memory_bytes: memory,
        memory_fraction: fraction,
        usable_bytes: usable,
        weights_total_bytes: weights_total,
        weights_per_gpu_bytes: weights_per_gpu,
        overhead_bytes: overhead,
        kv_budget_bytes: budget,
        kv_bytes_per_token: per_token,
        kv_bytes_per_token_unsplit: unsplit,
        context_len: context,
        kv_capacity_tokens: capacity,
        max_concurrent_sequences: sequences,
        max_context_that_fits: capacity.min(facts.max_context),
        headroom_bytes: memory - usable,
        fits,
        verdict,
    }
}

pub fn gib(bytes: f64) -> String {
    format!("{:.1} GiB", bytes / (1024.0 * 1024.0 * 1024.0))
}

#[allow(clippy::too_many_arguments)]
fn verdict(
    input: &FitInput<'_>,
    weights_per_gpu: u64,
    usable: u64,
    overhead: u64,
    budget: i64,
    context: u64,
    capacity: u64,
    sequences: u64,
) -> String {
    let gpus = input.parallelism.tp.max(1) * input.parallelism.pp.max(1);
    if weights_per_gpu.saturating_add(overhead) >= usable {
        return format!(
            "does not fit: {} of {} weights per GPU (over {gpus} GPU{}) plus {} of activations exceed the {} the engine may use on a {}",
            gib(weights_per_gpu as f64),
            input.precision,
            if gpus == 1 { "" } else { "s" },
            gib(overhead as f64),
            gib(usable as f64),
            input.gpu.name,
        );
    }
    if sequences == 0 {
        return format!(
            "does not fit: the KV cache budget of {} holds {capacity} tokens, less than one sequence of {context}",
            gib(budget as f64),
        );
    }
    format!(
        "fits: {} weights and {} KV cache per GPU; {capacity} tokens, {sequences} sequence{} of {context}",
        gib(weights_per_gpu as f64),
        gib(budget as f64),
        if sequences == 1 { "" } else { "s" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::recipe::Mla;
    use crate::recipes::gpus::by_name;

    fn llama_8b() -> ModelFacts {
        ModelFacts {
            repo: "meta-llama/Llama-3.1-8B-Instruct".into(),
            aliases: vec![],
            params_b: 8.03,
            active_params_b: None,
            layers: 32,
            attention_heads: 32,
            kv_heads: 8,
            head_dim: 128,
            max_context: 131_072,
            mla: None,
            source: None,
            quant_method: None,
        }
    }

    fn llama_70b() -> ModelFacts {
        ModelFacts { params_b: 70.6, layers: 80, attention_heads: 64, ..llama_8b() }
    }

    fn input<'a>(facts: &'a ModelFacts, gpu: &'a GpuModel, tp: u32) -> FitInput<'a> {
        FitInput {
            facts,
            precision: Precision::Bf16,
            kv_cache_dtype: KvCacheDtype::Auto,
            engine: EngineKind::Vllm,
            gpu,
            parallelism: Parallelism { tp, pp: 1, dp: 1 },
            max_model_len: Some(8192),
            memory_fraction: None,
        }
    }

    #[test]
    fn llama_8b_bf16_needs_128_kib_per_token() {
        // 2 (K,V) x 32 layers x 8 KV heads x 128 dims x 2 bytes = 131072 bytes.
        assert_eq!(
            kv_bytes_per_token(&llama_8b(), KvCacheDtype::Auto, Parallelism::default()),
            128 * 1024
        );
        // fp8 cache halves it; tp 2 splits the 8 KV heads 4 per GPU.
        assert_eq!(
            kv_bytes_per_token(&llama_8b(), KvCacheDtype::Fp8, Parallelism::default()),
            64 * 1024
        );
        let tp2 = Parallelism { tp: 2, pp: 1, dp: 1 };
        assert_eq!(kv_bytes_per_token(&llama_8b(), KvCacheDtype::Auto, tp2), 64 * 1024);
    }

    #[test]
    fn tp_beyond_kv_heads_replicates_one_head() {
        let tp16 = Parallelism { tp: 16, pp: 1, dp: 1 };
        // 8 KV heads over 16 ranks: each rank still keeps one head: 2 x 32 x 1 x 128 x 2.
        assert_eq!(kv_bytes_per_token(&llama_8b(), KvCacheDtype::Auto, tp16), 16 * 1024);
    }

    #[test]
    fn mla_latent_is_not_split_by_tp() {
        let mut deepseek = llama_8b();
        deepseek.layers = 61;
        deepseek.mla = Some(Mla { kv_lora_rank: 512, qk_rope_head_dim: 64 });
        let tp8 = Parallelism { tp: 8, pp: 1, dp: 1 };
        // 61 layers x 576 values x 2 bytes = 70272 bytes on every rank.
        assert_eq!(kv_bytes_per_token(&deepseek, KvCacheDtype::Auto, tp8), 70_272);
    }

    #[test]
    fn llama_8b_on_one_h100_by_hand() {
        let facts = llama_8b();
        let h100 = by_name("H100").unwrap();
        let report = estimate(&input(&facts, h100, 1));
        // 81559 MiB = 85,520,809,984 bytes; x 0.9 = 76,968,728,985 usable.
        let usable = (81_559u64 * 1024 * 1024) as f64 * 0.9;
        assert_eq!(report.usable_bytes, usable as u64);
        assert_eq!(report.weights_per_gpu_bytes, 16_060_000_000);
        let budget = usable as i64 - 16_060_000_000 - ACTIVATION_OVERHEAD_BYTES as i64;
        assert_eq!(report.kv_budget_bytes, budget);
        assert_eq!(report.kv_capacity_tokens, budget as u64 / 131_072);
        // 76,968,728,985 - 16,060,000,000 - 2 GiB = 58,761,245,337 bytes / 128 KiB = 448,312
        // tokens: 54 sequences of 8192.
        assert_eq!(report.kv_capacity_tokens, 448_312);
        assert_eq!(report.max_concurrent_sequences, 54);
        assert!(report.fits, "{}", report.verdict);
    }

    #[test]
    fn llama_70b_bf16_does_not_fit_one_h100_but_fits_four() {
        let facts = llama_70b();
        let h100 = by_name("H100").unwrap();
        let one = estimate(&input(&facts, h100, 1));
        assert!(!one.fits);
        assert!(one.verdict.contains("does not fit"), "{}", one.verdict);
        assert!(one.kv_budget_bytes < 0);
        let four = estimate(&input(&facts, h100, 4));
        assert!(four.fits, "{}", four.verdict);
        assert_eq!(four.weights_per_gpu_bytes, 141_200_000_000 / 4);
        // 2 x 80 x 2 heads x 128 x 2 bytes per token per GPU.
        assert_eq!(four.kv_bytes_per_token, 81_920);
    }

    #[test]
    fn context_longer_than_budget_does_not_fit() {
        let facts = llama_70b();
        let a100 = by_name("A100-80GB").unwrap();
        // tp 2 on 80 GiB: 77,309,411,328 usable - 70.6 GB weights - 2 GiB = 4,561,927,680 bytes of
        // cache at 163,840 bytes per token: 27,843 tokens.
        let mut long = input(&facts, a100, 2);
        long.max_model_len = Some(131_072);
        let report = estimate(&long);
        assert!(!report.fits);
        assert!(report.verdict.contains("less than one sequence of 131072"), "{}", report.verdict);
        // What does fit: the capacity in tokens, well short of the model's 131072.
        assert_eq!(report.max_context_that_fits, report.kv_capacity_tokens);
        assert_eq!(report.max_context_that_fits, 27_843);
    }

    #[test]
    fn sglang_fraction_excludes_activations() {
        let facts = llama_8b();
        let h100 = by_name("H100").unwrap();
        let mut sglang = input(&facts, h100, 1);
        sglang.engine = EngineKind::Sglang;
        sglang.memory_fraction = Some(0.8);
        let report = estimate(&sglang);
        assert_eq!(report.overhead_bytes, 0);
        let usable = ((81_559u64 * 1024 * 1024) as f64 * 0.8) as i64;
        assert_eq!(report.kv_budget_bytes, usable - 16_060_000_000);
    }
}
