//! The user's config as every front end reads it: `--config PATH` or
//! `~/.config/aimdeck/config.yaml`. A broken file is a warning naming file:line:column and
//! the defaults are used, in the console and headless alike.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::recipes::load::{Library, RecipeDir, default_dirs, load_library};

pub struct Loaded {
    pub config: Config,
    pub path: PathBuf,
    /// `config ignored: FILE:LINE:COLUMN: message`, when the file could not be used.
    pub warning: Option<String>,
}

pub fn load_config(path: Option<&Path>) -> Loaded {
    match Config::load(path) {
        Ok((config, path)) => Loaded { config, path, warning: None },
        Err(err) => Loaded {
            config: Config::default(),
            path: path.map(Path::to_path_buf).unwrap_or_else(crate::paths::default_config_file),
            warning: Some(format!("config ignored: {err}")),
        },
    }
}

/// The backend new deployments go to: the flag, else the config's `backend:`, else Docker.
pub fn backend_name(flag: Option<&str>, config: &Config) -> String {
    flag.map(str::to_string)
        .or(config.backend.clone())
        .unwrap_or_else(|| crate::backend::docker::NAME.to_string())
}

/// The recipe directories: the user's, the config's `recipes_dirs`, then the flags'.
pub fn recipe_dirs(config: &Config, flag_dirs: &[PathBuf]) -> Vec<RecipeDir> {
    default_dirs(&config.recipes_dirs, flag_dirs)
}

pub fn library(config: &Config, flag_dirs: &[PathBuf]) -> Library {
    load_library(&recipe_dirs(config, flag_dirs))
}

/// The Hugging Face hub cache: the flag, else the config's `cache_dir`, else the environment's.
pub fn hub_cache(flag: Option<&Path>, config: &Config) -> PathBuf {
    crate::paths::hf_hub_cache(flag.or(config.cache_dir.as_deref()))
}
