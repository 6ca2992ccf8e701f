//! Where a pull's Hub endpoint and token come from, as `huggingface_hub` looks them up.

use std::path::PathBuf;

/// `HF_TOKEN`, else the token file (`HF_TOKEN_PATH`, else `$HF_HOME/token`, else
/// `~/.cache/huggingface/token`), as `huggingface_hub.utils.get_token`. Never logged.
pub fn find_token(env: impl Fn(&str) -> Option<String>) -> Option<String> {
    let non_empty = |name: &str| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    if let Some(token) = non_empty("HF_TOKEN") {
        return Some(token);
    }
    let path = non_empty("HF_TOKEN_PATH").map(PathBuf::from).unwrap_or_else(|| {
        let home = non_empty("HF_HOME").map(PathBuf::from).unwrap_or_else(|| {
            let cache = non_empty("XDG_CACHE_HOME").map(PathBuf::from).unwrap_or_else(|| {
                PathBuf::from(non_empty("HOME").unwrap_or_else(|| "/root".into())).join(".cache")
            });
            cache.join("huggingface")
        });
        home.join("token")
    });
    let token = std::fs::read_to_string(path).ok()?;
    let token = token.trim();
    (!token.is_empty()).then(|| token.to_string())
}

/// `HF_ENDPOINT`, else the public Hub.
pub fn endpoint_from_env(env: impl Fn(&str) -> Option<String>) -> String {
    env("HF_ENDPOINT")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "https://huggingface.co".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comes_from_env_then_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("token"), "hf_file\n").expect("write");
        let home = dir.path().to_string_lossy().into_owned();
        let env = |pairs: Vec<(&'static str, String)>| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
        };
        assert_eq!(
            find_token(env(vec![("HF_TOKEN", "hf_env".into()), ("HF_HOME", home.clone())])),
            Some("hf_env".into())
        );
        assert_eq!(find_token(env(vec![("HF_HOME", home)])), Some("hf_file".into()));
        assert_eq!(find_token(env(vec![("HF_TOKEN_PATH", "/nonexistent/token".into())])), None);
    }
}
