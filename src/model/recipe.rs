//! A recipe: how to serve one model on one kind of GPU, a GPU count and a precision.
//! The YAML schema is documented field by field in `docs/recipes.md`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The serving engine a recipe or deployment runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    Vllm,
    Sglang,
}

impl EngineKind {
    pub const ALL: [EngineKind; 2] = [EngineKind::Vllm, EngineKind::Sglang];

    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Vllm => "vllm",
            EngineKind::Sglang => "sglang",
        }
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EngineKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "vllm" => Ok(EngineKind::Vllm),
            "sglang" => Ok(EngineKind::Sglang),
            other => Err(format!("unknown engine `{other}`, expected `vllm` or `sglang`")),
        }
    }
}

/// Weight precision. Byte widths follow DESIGN.md section 3 (memory fit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Precision {
    #[serde(rename = "bf16")]
    Bf16,
    #[serde(rename = "fp16")]
    Fp16,
    #[serde(rename = "fp8")]
    Fp8,
    #[serde(rename = "int8")]
    Int8,
    #[serde(rename = "int4-awq")]
    Int4Awq,
    #[serde(rename = "int4-gptq")]
    Int4Gptq,
    /// OpenAI's 4-bit microscaling format, the native precision of gpt-oss.
    #[serde(rename = "mxfp4")]
    Mxfp4,
}

impl Precision {
    pub const ALL: [Precision; 7] = [
        Precision::Bf16,
        Precision::Fp16,
        Precision::Fp8,
        Precision::Int8,
        Precision::Int4Awq,
        Precision::Int4Gptq,
        Precision::Mxfp4,
    ];

    /// Bytes per weight parameter.
    pub fn bytes_per_param(self) -> f64 {
        match self {
            Precision::Bf16 | Precision::Fp16 => 2.0,
            Precision::Fp8 | Precision::Int8 => 1.0,
            Precision::Int4Awq | Precision::Int4Gptq | Precision::Mxfp4 => 0.5,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Bf16 => "bf16",
            Precision::Fp16 => "fp16",
            Precision::Fp8 => "fp8",
            Precision::Int8 => "int8",
            Precision::Int4Awq => "int4-awq",
            Precision::Int4Gptq => "int4-gptq",
            Precision::Mxfp4 => "mxfp4",
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Precision::ALL.into_iter().find(|p| p.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| {
            let names: Vec<_> = Precision::ALL.iter().map(|p| p.as_str()).collect();
            format!("unknown precision `{s}`, expected one of {}", names.join(", "))
        })
    }
}

/// Tensor, pipeline and data parallelism. `gpu_count` must equal `tp * pp * dp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parallelism {
    #[serde(default = "one")]
    pub tp: u32,
    #[serde(default = "one")]
    pub pp: u32,
    #[serde(default = "one")]
    pub dp: u32,
}

fn one() -> u32 {
    1
}

impl Default for Parallelism {
    fn default() -> Self {
        Parallelism { tp: 1, pp: 1, dp: 1 }
    }
}

impl Parallelism {
    pub fn gpus(&self) -> u32 {
        self.tp * self.pp * self.dp
    }
}

/// One engine flag's value. `true` renders as a bare `--flag`, `false` omits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ArgValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl fmt::Display for ArgValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgValue::Bool(b) => write!(f, "{b}"),
            ArgValue::Int(i) => write!(f, "{i}"),
            ArgValue::Float(x) => write!(f, "{x}"),
            ArgValue::Text(s) => f.write_str(s),
        }
    }
}

/// Engine flags by name without the leading dashes (`max-num-seqs: 256`), sorted so a rendered
/// command line is stable.
pub type EngineArgs = BTreeMap<String, ArgValue>;

/// Architecture facts the memory estimator needs, from the model's published `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFacts {
    /// Hugging Face repo id, e.g. `meta-llama/Llama-3.1-8B-Instruct`.
    pub repo: String,
    /// Other names that select this model (other repos with the same weights, short names).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Total parameters, in billions.
    pub params_b: f64,
    /// Parameters active per token for mixture-of-experts models, in billions.
    #[serde(default)]
    pub active_params_b: Option<f64>,
    pub layers: u32,
    pub attention_heads: u32,
    pub kv_heads: u32,
    pub head_dim: u32,
    /// Longest context the model supports (`max_position_embeddings`).
    pub max_context: u64,
    /// Multi-head latent attention (DeepSeek-V3/R1): the KV cache holds one compressed latent
    /// of `kv_lora_rank + qk_rope_head_dim` values per token and layer instead of K and V per head.
    #[serde(default)]
    pub mla: Option<Mla>,
    /// Where these figures came from (the config.json URL).
    #[serde(default)]
    pub source: Option<String>,
    /// `quantization_config.quant_method` in this repo's config.json, for a pre-quantized
    /// checkpoint (`fp8`, `compressed-tensors`, `fbgemm_fp8`, `awq`, `gptq`, `mxfp4`). The
    /// engines read it from the checkpoint; unset means bf16/fp16 weights.
    #[serde(default)]
    pub quant_method: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mla {
    pub kv_lora_rank: u32,
    pub qk_rope_head_dim: u32,
}

/// Container images per GPU vendor; the engine's default image is used where one is missing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Images {
    #[serde(default)]
    pub amd: Option<String>,
    #[serde(default)]
    pub nvidia: Option<String>,
}

/// A published performance figure and where it was published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Performance {
    #[serde(default)]
    pub output_tokens_per_second: Option<f64>,
    #[serde(default)]
    pub ttft_ms: Option<f64>,
    #[serde(default)]
    pub concurrency: Option<u32>,
    pub source: String,
}

/// KV-cache element type. `auto` follows the model dtype.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KvCacheDtype {
    #[default]
    Auto,
    Fp8,
    Bf16,
    Fp16,
}

impl KvCacheDtype {
    pub fn as_str(self) -> &'static str {
        match self {
            KvCacheDtype::Auto => "auto",
            KvCacheDtype::Fp8 => "fp8",
            KvCacheDtype::Bf16 => "bf16",
            KvCacheDtype::Fp16 => "fp16",
        }
    }
}

/// Whether a recipe is tuned for answering one request fast or many at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Goal {
    Latency,
    #[default]
    Throughput,
    Balanced,
}

impl Goal {
    pub fn as_str(self) -> &'static str {
        match self {
            Goal::Latency => "latency",
            Goal::Throughput => "throughput",
            Goal::Balanced => "balanced",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    pub model: ModelFacts,
    pub engine: EngineKind,
    /// GPU model name as aimdeck knows it: MI300X, MI325X, MI355X, H100, H200, A100-80GB, L40S ...
    pub gpu: String,
    pub gpu_count: u32,
    pub precision: Precision,
    #[serde(default)]
    pub kv_cache_dtype: KvCacheDtype,
    #[serde(default)]
    pub parallelism: Parallelism,
    /// Context length to serve (`--max-model-len` / `--context-length`); the model's own if unset.
    #[serde(default)]
    pub max_model_len: Option<u64>,
    /// Fraction of GPU memory the engine may take (`--gpu-memory-utilization` /
    /// `--mem-fraction-static`); the engine's default if unset.
    #[serde(default)]
    pub gpu_memory_utilization: Option<f64>,
    #[serde(default)]
    pub goal: Goal,
    #[serde(default)]
    pub engine_args: EngineArgs,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub image: Images,
    #[serde(default)]
    pub performance: Option<Performance>,
}
