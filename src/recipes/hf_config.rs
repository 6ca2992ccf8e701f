//! Model facts from a `config.json` in the local Hugging Face cache
//! (`models--ORG--NAME/snapshots/<commit>/config.json`), for models no recipe describes.
//! The parameter count is not in config.json: it comes from `model.safetensors.index.json`
//! (`metadata.total_size` bytes over the checkpoint dtype's width) when the snapshot has one,
//! otherwise it is estimated from the layer shapes.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::model::recipe::{Mla, ModelFacts};

#[derive(Debug, thiserror::Error)]
pub enum HfConfigError {
    #[error("{path}: cannot read: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: not JSON: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("{path}: `{field}` is missing or not a positive integer")]
    Field { path: PathBuf, field: &'static str },
}

/// The snapshot directory for `repo` in `cache_root`: the one `refs/main` names, else the
/// newest one that has a config.json. `None` when the model is not in the cache.
pub fn snapshot_dir(cache_root: &Path, repo: &str) -> Option<PathBuf> {
    let repo_dir = cache_root.join(format!("models--{}", repo.replace('/', "--")));
    let snapshots = repo_dir.join("snapshots");
    if let Ok(commit) = std::fs::read_to_string(repo_dir.join("refs").join("main")) {
        let dir = snapshots.join(commit.trim());
        if dir.join("config.json").is_file() {
            return Some(dir);
        }
    }
    let mut candidates: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&snapshots)
        .ok()?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.path())
        .filter(|dir| dir.join("config.json").is_file())
        .map(|dir| {
            (dir.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH), dir)
        })
        .collect();
    candidates.sort();
    candidates.pop().map(|(_, dir)| dir)
}

/// Facts for `repo` from the cache, `Ok(None)` when it is not cached.
pub fn facts_from_cache(
    cache_root: &Path,
    repo: &str,
) -> Result<Option<ModelFacts>, HfConfigError> {
    let Some(dir) = snapshot_dir(cache_root, repo) else {
        return Ok(None);
    };
    facts_from_snapshot(&dir, repo).map(Some)
}

fn read_json(path: &Path) -> Result<Value, HfConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| HfConfigError::Read { path: path.to_path_buf(), source })?;
    serde_json::from_str(&text)
        .map_err(|source| HfConfigError::Json { path: path.to_path_buf(), source })
}

/// Facts from one snapshot directory holding `config.json`.
pub fn facts_from_snapshot(dir: &Path, repo: &str) -> Result<ModelFacts, HfConfigError> {
    let path = dir.join("config.json");
    let root = read_json(&path)?;
    // Multimodal models (Gemma 3, Llama 4) keep the language model under `text_config`.
    let config = root.get("text_config").filter(|v| v.is_object()).unwrap_or(&root);
    let int = |name: &str| config.get(name).and_then(Value::as_u64).filter(|v| *v > 0);
    let need = |name: &'static str| {
        int(name).ok_or(HfConfigError::Field { path: path.clone(), field: name })
    };

    let layers = need("num_hidden_layers")?;
    let heads = need("num_attention_heads")?;
    let hidden = need("hidden_size")?;
    let kv_heads = int("num_key_value_heads").unwrap_or(heads);
    let head_dim = int("head_dim").unwrap_or(hidden / heads);
    let max_context = int("max_position_embeddings").unwrap_or(4096);
    let mla = match (int("kv_lora_rank"), int("qk_rope_head_dim")) {
        (Some(rank), Some(rope)) => {
            Some(Mla { kv_lora_rank: to_u32(rank), qk_rope_head_dim: to_u32(rope) })
        }
        _ => None,
    };
    let experts =
        int("num_local_experts").or_else(|| int("num_experts")).or_else(|| int("n_routed_experts"));
    let experts_per_token = int("num_experts_per_tok").or_else(|| int("experts_per_token"));

    let estimated =
        estimate_params(config, layers, hidden, heads, kv_heads, head_dim, experts, None);
    let params = params_from_index(dir, &root).unwrap_or(estimated);
    let active = match (experts, experts_per_token) {
        (Some(_), Some(k)) => Some(estimate_params(
            config,
            layers,
            hidden,
            heads,
            kv_heads,
            head_dim,
            experts,
            Some(k),
        )),
        _ => None,
    };
    Ok(ModelFacts {
        repo: repo.to_string(),
        aliases: Vec::new(),
        params_b: round2(params / 1e9),
        active_params_b: active.map(|a| round2(a / 1e9)),
        layers: to_u32(layers),
        attention_heads: to_u32(heads),
        kv_heads: to_u32(kv_heads),
        head_dim: to_u32(head_dim),
        max_context,
        mla,
        source: Some(path.display().to_string()),
        // A pre-quantized checkpoint names its method; the engines read it from here too.
        quant_method: root
            .pointer("/quantization_config/quant_method")
            .or_else(|| config.pointer("/quantization_config/quant_method"))
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Parameters from the safetensors index: total bytes over the dtype width.
fn params_from_index(dir: &Path, config: &Value) -> Option<f64> {
    let index = read_json(&dir.join("model.safetensors.index.json")).ok()?;
    let total = index.get("metadata")?.get("total_size")?.as_f64()?;
    let dtype = config
        .get("torch_dtype")
        .or_else(|| config.get("dtype"))
        .and_then(Value::as_str)
        .unwrap_or("bfloat16");
    let width = match dtype {
        "float32" => 4.0,
        "float8_e4m3fn" | "int8" | "uint8" => 1.0,
        _ => 2.0,
    };
    Some(total / width)
}

/// Parameters from the shapes: embeddings, attention projections and (gated) MLPs. With
/// `active_experts` only that many experts count, giving the per-token active figure.
#[allow(clippy::too_many_arguments)]
fn estimate_params(
    config: &Value,
    layers: u64,
    hidden: u64,
    heads: u64,
    kv_heads: u64,
    head_dim: u64,
    experts: Option<u64>,
    active_experts: Option<u64>,
) -> f64 {
    let int = |name: &str| config.get(name).and_then(Value::as_u64);
    let vocab = int("vocab_size").unwrap_or(32_000) as f64;
    let tied = config.get("tie_word_embeddings").and_then(Value::as_bool).unwrap_or(false);
    let embeddings = vocab * hidden as f64 * if tied { 1.0 } else { 2.0 };
    let attention = (hidden * heads * head_dim * 2 + hidden * kv_heads * head_dim * 2) as f64;
    let expert_ffn = int("moe_intermediate_size")
        .or_else(|| int("intermediate_size"))
        .unwrap_or(4 * hidden) as f64;
    let mlp_one = 3.0 * hidden as f64 * expert_ffn;
    let mlp = match experts {
        Some(total) => mlp_one * active_experts.unwrap_or(total) as f64,
        None => 3.0 * hidden as f64 * int("intermediate_size").unwrap_or(4 * hidden) as f64,
    };
    embeddings + layers as f64 * (attention + mlp)
}

/// Out-of-range figures saturate; validation then reports them as implausible.
fn to_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn reads_llama_config_and_index_from_the_cache_layout() {
        let cache = tempfile::tempdir().unwrap();
        let repo_dir = cache.path().join("models--meta-llama--Llama-3.1-8B-Instruct");
        let snapshot = repo_dir.join("snapshots").join("0e9e39f249a16976918f6564b8830bc894c89659");
        write(&repo_dir.join("refs"), "main", "0e9e39f249a16976918f6564b8830bc894c89659");
        // Fields as published in meta-llama/Llama-3.1-8B-Instruct/config.json.
        write(
            &snapshot,
            "config.json",
            r#"{"architectures":["LlamaForCausalLM"],"hidden_size":4096,"intermediate_size":14336,
               "max_position_embeddings":131072,"num_attention_heads":32,"num_hidden_layers":32,
               "num_key_value_heads":8,"tie_word_embeddings":false,"torch_dtype":"bfloat16","vocab_size":128256}"#,
        );
        write(
            &snapshot,
            "model.safetensors.index.json",
            r#"{"metadata":{"total_size":16060522496},"weight_map":{}}"#,
        );
        let facts =
            facts_from_cache(cache.path(), "meta-llama/Llama-3.1-8B-Instruct").unwrap().unwrap();
        assert_eq!(
            (facts.layers, facts.attention_heads, facts.kv_heads, facts.head_dim),
            (32, 32, 8, 128)
        );
        assert_eq!(facts.max_context, 131_072);
        assert_eq!(facts.params_b, 8.03);
        assert!(facts.mla.is_none());
    }

    #[test]
    fn estimates_params_without_an_index() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "config.json",
            r#"{"hidden_size":4096,"intermediate_size":14336,"max_position_embeddings":131072,
               "num_attention_heads":32,"num_hidden_layers":32,"num_key_value_heads":8,"vocab_size":128256}"#,
        );
        let facts = facts_from_snapshot(dir.path(), "x/y").unwrap();
        // Shapes give 8.03B for Llama 3.1 8B (norms are negligible).
        assert!((facts.params_b - 8.03).abs() < 0.02, "{}", facts.params_b);
    }

    #[test]
    fn missing_model_is_none_and_broken_config_is_an_error() {
        let cache = tempfile::tempdir().unwrap();
        assert!(facts_from_cache(cache.path(), "a/b").unwrap().is_none());
        let snapshot = cache.path().join("models--a--b").join("snapshots").join("c");
        write(&snapshot, "config.json", r#"{"hidden_size":4096}"#);
        let err = facts_from_cache(cache.path(), "a/b").unwrap_err();
        assert!(err.to_string().contains("num_hidden_layers"), "{err}");
    }
}
