//! The Hugging Face token: read from `HF_TOKEN` or `$HF_HOME/token` (where `hf auth login`
//! writes it), passed to replicas, and never printed: renders show `HF_TOKEN=<redacted>`.

use std::collections::BTreeMap;
use std::path::PathBuf;

pub const HF_TOKEN: &str = "HF_TOKEN";
pub const REDACTED: &str = "<redacted>";

/// The token, from the environment first, then the token file. Whitespace is trimmed.
pub fn hf_token() -> Option<String> {
    hf_token_from(|name| std::env::var(name).ok())
}

/// `hf_token` with the environment passed in, so the lookup order can be tested.
pub fn hf_token_from(env: impl Fn(&str) -> Option<String>) -> Option<String> {
    let set = |name: &str| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    if let Some(token) = set(HF_TOKEN).or_else(|| set("HUGGING_FACE_HUB_TOKEN")) {
        return Some(token);
    }
    let home = set("HF_HOME").map(PathBuf::from).or_else(|| {
        let base = set("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| set("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("huggingface"))
    })?;
    let token = std::fs::read_to_string(home.join("token")).ok()?;
    Some(token.trim().to_string()).filter(|t| !t.is_empty())
}

/// Names whose values must never be shown.
pub fn is_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper == HF_TOKEN
        || upper == "HUGGING_FACE_HUB_TOKEN"
        || upper.ends_with("_TOKEN")
        || upper.ends_with("_API_KEY")
        || upper.ends_with("PASSWORD")
}

/// A copy of `env` with secret values replaced by `<redacted>`.
pub fn redact(env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    env.iter()
        .map(|(k, v)| (k.clone(), if is_secret(k) { REDACTED.to_string() } else { v.clone() }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comes_from_env_then_the_token_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "hf_file\n").unwrap();
        let home = dir.path().to_string_lossy().to_string();
        let with_env = |name: &str| match name {
            "HF_TOKEN" => Some("hf_env".to_string()),
            "HF_HOME" => Some(home.clone()),
            _ => None,
        };
        assert_eq!(hf_token_from(with_env).as_deref(), Some("hf_env"));
        let file_only = |name: &str| (name == "HF_HOME").then(|| home.clone());
        assert_eq!(hf_token_from(file_only).as_deref(), Some("hf_file"));
        assert_eq!(hf_token_from(|_| None), None);
    }

    #[test]
    fn redaction_hides_tokens_only() {
        let env = BTreeMap::from([
            ("HF_TOKEN".to_string(), "hf_secret".to_string()),
            ("VLLM_LOGGING_LEVEL".to_string(), "INFO".to_string()),
        ]);
        let shown = redact(&env);
        assert_eq!(shown["HF_TOKEN"], REDACTED);
        assert_eq!(shown["VLLM_LOGGING_LEVEL"], "INFO");
    }
}
