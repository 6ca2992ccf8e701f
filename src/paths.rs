//! Where aimdeck keeps its files, following the XDG base directory rules on every platform
//! (a console used over SSH on Linux servers; `~/.config` is what operators expect).

use std::path::PathBuf;

use etcetera::BaseStrategy;

fn strategy() -> Option<etcetera::base_strategy::Xdg> {
    etcetera::base_strategy::Xdg::new().ok()
}

/// `~/.config/aimdeck` (or `$XDG_CONFIG_HOME/aimdeck`).
pub fn config_dir() -> PathBuf {
    strategy()
        .map(|s| s.config_dir())
        .unwrap_or_else(|| PathBuf::from(".config"))
        .join("aimdeck")
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
