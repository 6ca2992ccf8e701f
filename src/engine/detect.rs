//! Which engine an endpoint runs, for servers aimdeck did not deploy: `/v1/models` says
//! `owned_by: "vllm"` or `"sglang"`; failing that, the prefix of its metric names.

use serde::{Deserialize, Serialize};

use crate::model::EngineKind;

/// One entry of `/v1/models`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub id: String,
    #[serde(default)]
    pub owned_by: Option<String>,
    #[serde(default)]
    pub max_model_len: Option<u64>,
    #[serde(default)]
    pub root: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ModelList {
    data: Vec<ModelCard>,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    #[error("GET {url}: {reason}")]
    Request { url: String, reason: String },
    #[error("GET {url}: answered {status}")]
    Status { url: String, status: u16 },
    #[error("GET {url}: not an OpenAI model list ({reason})")]
    Shape { url: String, reason: String },
}

/// Reads an OpenAI `/v1/models` answer.
pub fn parse_models(body: &[u8]) -> Result<Vec<ModelCard>, String> {
    serde_json::from_slice::<ModelList>(body).map(|list| list.data).map_err(|err| err.to_string())
}

/// `GET {base}/v1/models`.
pub async fn fetch_models(
    client: &reqwest::Client,
    base_url: &str,
) -> Result<Vec<ModelCard>, ModelsError> {
    let url = format!("{}/v1/models", base_url.trim_end_matches('/'));
    let response = client.get(&url).send().await.map_err(|err| ModelsError::Request {
        url: url.clone(),
        reason: super::health::error_chain(&err),
    })?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(ModelsError::Status { url, status });
    }
    let body = response.bytes().await.map_err(|err| ModelsError::Request {
        url: url.clone(),
        reason: super::health::error_chain(&err),
    })?;
    parse_models(&body).map_err(|reason| ModelsError::Shape { url, reason })
}

/// The engine from the model list's `owned_by`, else from the metrics page's names.
pub fn detect(models: &[ModelCard], from_metrics: Option<EngineKind>) -> Option<EngineKind> {
    models
        .iter()
        .find_map(|card| match card.owned_by.as_deref()? {
            "vllm" => Some(EngineKind::Vllm),
            "sglang" => Some(EngineKind::Sglang),
            _ => None,
        })
        .or(from_metrics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_by_names_the_engine_and_metrics_break_the_tie() {
        let vllm = parse_models(br#"{"object":"list","data":[{"id":"m","object":"model","owned_by":"vllm","max_model_len":4096}]}"#).unwrap();
        assert_eq!(detect(&vllm, None), Some(EngineKind::Vllm));
        assert_eq!(vllm[0].max_model_len, Some(4096));
        // A proxy in front (LiteLLM says "openai") hides the engine; the metrics tell.
        let proxied = parse_models(br#"{"data":[{"id":"m","owned_by":"openai"}]}"#).unwrap();
        assert_eq!(detect(&proxied, Some(EngineKind::Sglang)), Some(EngineKind::Sglang));
        assert_eq!(detect(&proxied, None), None);
        assert!(parse_models(b"<html>").is_err());
    }
}
