//! Where aimdeck keeps its files, following the XDG base directory rules on every platform
//! (a console used over SSH on Linux servers; `~/.config` is what operators expect).

use std::path::{Path, PathBuf};

use etcetera::BaseStrategy;

fn strategy() -> Option<etcetera::base_strategy::Xdg> {
    etcetera::base_strategy::Xdg::new().ok()
}

/// `~/.config/aimdeck` (or `$XDG_CONFIG_HOME/aimdeck`).
pub fn config_dir() -> PathBuf {
    strategy().map(|s| s.config_dir()).unwrap_or_else(|| PathBuf::from(".config")).join("aimdeck")
}

/// Creates `dir` and its missing parents for the user alone (`0700`): the state holds
/// deployment records, engine logs and the journal, which other users of a shared GPU server
/// have no business reading.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Open options for a state file only the user can read: `0600` when the file is created.
pub fn private_file() -> std::fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.mode(0o600);
    options
}

/// `~/.local/state/aimdeck` (or `$XDG_STATE_HOME/aimdeck`): logs, the journal, process state.
pub fn state_dir() -> PathBuf {
    strategy()
        .and_then(|s| s.state_dir())
        .unwrap_or_else(|| PathBuf::from(".local/state"))
        .join("aimdeck")
}

/// The default config file, `~/.config/aimdeck/config.yaml`.
pub fn default_config_file() -> PathBuf {
    config_dir().join("config.yaml")
}

/// The user's recipe directory, `~/.config/aimdeck/recipes`.
pub fn user_recipes_dir() -> PathBuf {
    config_dir().join("recipes")
}

/// The user's theme directory, `~/.config/aimdeck/themes`.
pub fn user_themes_dir() -> PathBuf {
    config_dir().join("themes")
}

/// The Hugging Face hub cache root, resolved as `huggingface_hub` does: `HF_HUB_CACHE`, else
/// `HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`.
/// `override_dir` (`--cache-dir`, or the config file's `cache_dir`) wins over all of them.
pub fn hf_hub_cache(override_dir: Option<&std::path::Path>) -> PathBuf {
    hf_hub_cache_from(override_dir, |name| std::env::var_os(name))
}

/// `hf_hub_cache` with the environment passed in, so the precedence can be tested.
pub fn hf_hub_cache_from(
    override_dir: Option<&std::path::Path>,
    env: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> PathBuf {
    if let Some(dir) = override_dir {
        return dir.to_path_buf();
    }
    let non_empty = |name: &str| env(name).filter(|value| !value.is_empty()).map(PathBuf::from);
    if let Some(dir) = non_empty("HF_HUB_CACHE") {
        return dir;
    }
    if let Some(home) = non_empty("HF_HOME") {
        return home.join("hub");
    }
    if let Some(xdg) = non_empty("XDG_CACHE_HOME") {
        return xdg.join("huggingface").join("hub");
    }
    let home = non_empty("HOME").unwrap_or_else(|| PathBuf::from("/root"));
    home.join(".cache").join("huggingface").join("hub")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| OsString::from(v))
    }

    #[test]
    fn hub_cache_precedence_matches_huggingface_hub() {
        let all =
            [("HF_HUB_CACHE", "/a"), ("HF_HOME", "/b"), ("XDG_CACHE_HOME", "/c"), ("HOME", "/h")];
        assert_eq!(hf_hub_cache_from(None, env(&all)), PathBuf::from("/a"));
        assert_eq!(hf_hub_cache_from(None, env(&all[1..])), PathBuf::from("/b/hub"));
        assert_eq!(hf_hub_cache_from(None, env(&all[2..])), PathBuf::from("/c/huggingface/hub"));
        assert_eq!(
            hf_hub_cache_from(None, env(&all[3..])),
            PathBuf::from("/h/.cache/huggingface/hub")
        );
        assert_eq!(
            hf_hub_cache_from(Some(std::path::Path::new("/o")), env(&all)),
            PathBuf::from("/o")
        );
    }
}
