//! The user's config file, `~/.config/aimdeck/config.yaml` (or `--config PATH`).
//! A missing file is fine; a broken one is an error naming file, line and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Theme name or path; `--theme` overrides it.
    #[serde(default)]
    pub theme: Option<String>,
    /// Key overrides: action name -> list of keys, e.g. `quit: ["q", "ctrl-c"]`.
    #[serde(default)]
    pub keys: BTreeMap<String, Vec<String>>,
    /// Seconds between GPU telemetry samples (default 2).
    #[serde(default)]
    pub gpu_poll_interval_secs: Option<f64>,
    /// Endpoints to watch even though aimdeck did not deploy them.
    #[serde(default)]
    pub endpoints: Vec<WatchedEndpoint>,
    /// Extra recipe directories, after `~/.config/aimdeck/recipes`.
    #[serde(default)]
    pub recipes_dirs: Vec<PathBuf>,
    /// Hugging Face cache root, overriding `HF_HUB_CACHE` / `HF_HOME`.
    #[serde(default)]
    pub cache_dir: Option<PathBuf>,
    /// Default backend for new deployments (docker, process, k8s).
    #[serde(default)]
    pub backend: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchedEndpoint {
    pub name: String,
    pub url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}:{column}: {message}")]
    Parse { path: PathBuf, line: u64, column: u64, message: String },
}

/// Reads a YAML document into `T`, turning every failure into `file:line:column: message`.
/// Shared by the config, theme and keymap readers.
pub fn parse_yaml_file<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, ConfigError> {
    serde_saphyr::from_str::<T>(text).map_err(|err| {
        let (line, column) =
            err.location().map(|location| (location.line(), location.column())).unwrap_or((1, 1));
        ConfigError::Parse {
            path: path.to_path_buf(),
            line,
            column,
            message: first_line(&err.to_string()),
        }
    })
}

/// serde-saphyr renders `error: line L column C: message` and a source snippet below; we print
/// our own `file:line:column:` prefix, so keep only the message of the first line.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or(message).trim();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    match line.strip_prefix("line ").and_then(|rest| rest.split_once(": ")) {
        Some((position, rest)) if position.contains(" column ") => rest.to_string(),
        _ => line.to_string(),
    }
}

impl Config {
    /// Loads `path`, or the default file when `path` is `None`. A missing default file gives
    /// the defaults; a missing file that was named explicitly is an error.
    pub fn load(path: Option<&Path>) -> Result<(Config, PathBuf), ConfigError> {
        let explicit = path.is_some();
        let path = path.map(Path::to_path_buf).unwrap_or_else(crate::paths::default_config_file);
        match std::fs::read_to_string(&path) {
            Ok(text) if text.trim().is_empty() => Ok((Config::default(), path)),
            Ok(text) => Ok((parse_yaml_file(&path, &text)?, path)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && !explicit => {
                Ok((Config::default(), path))
            }
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_names_line_and_column() {
        let text = "theme: dark\nkeyz:\n  quit: [q]\n";
        let err = parse_yaml_file::<Config>(Path::new("c.yaml"), text).unwrap_err();
        let shown = err.to_string();
        assert!(shown.starts_with("c.yaml:2:1:"), "{shown}");
        assert!(shown.contains("keyz"), "{shown}");
    }

    #[test]
    fn wrong_type_names_line() {
        let text = "theme: dark\ngpu_poll_interval_secs: fast\n";
        let err = parse_yaml_file::<Config>(Path::new("c.yaml"), text).unwrap_err();
        assert!(err.to_string().starts_with("c.yaml:2:"), "{err}");
    }

    #[test]
    fn reads_endpoints_and_keys() {
        let text =
            "keys:\n  quit: [\"x\"]\nendpoints:\n  - name: a\n    url: http://127.0.0.1:8000\n";
        let config: Config = parse_yaml_file(Path::new("c.yaml"), text).unwrap();
        assert_eq!(config.keys["quit"], vec!["x".to_string()]);
        assert_eq!(config.endpoints[0].url, "http://127.0.0.1:8000");
    }

    #[test]
    fn missing_default_file_is_fine_but_missing_explicit_file_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.yaml");
        assert!(Config::load(Some(&missing)).is_err());
    }
}
