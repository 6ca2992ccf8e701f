//! Resolves the console's starting settings from flags, the config file and the environment.
//! Nothing here is fatal: a broken config or theme becomes a warning and a safe default.

use std::sync::Arc;

use crate::backend::Backend;
use crate::backend::registry::Registry;
use crate::config::Config;

use crate::tui::app::{HeaderInfo, Settings};
use crate::tui::theme::{DEFAULT_THEME, Theme, no_color_requested};

pub fn settings(global: &crate::tui::ConsoleOptions) -> Settings {
    let mut warnings = Vec::new();
    // The same reading and the same warning as the headless commands (`ops::settings`).
    let loaded = crate::ops::settings::load_config(global.config.as_deref());
    warnings.extend(loaded.warning);
    let (config, config_file) = (loaded.config, loaded.path);
    let user_themes_dir = crate::paths::user_themes_dir();
    let theme_name =
        global.theme.clone().or(config.theme.clone()).unwrap_or_else(|| DEFAULT_THEME.to_string());
    let theme = match Theme::load(&theme_name, &user_themes_dir) {
        Ok(theme) => theme,
        Err(err) => {
            warnings.push(format!("{err}; using the {DEFAULT_THEME} theme"));
            Theme::default_theme()
        }
    };
    let state_dir = crate::paths::state_dir();
    let (backends, backend_warnings) = open_backends(global.demo, global, &state_dir);
    warnings.extend(backend_warnings);
    let active_backend = if global.demo {
        "process".to_string()
    } else {
        crate::ops::settings::backend_name(global.backend.as_deref(), &config)
    };
    // The header names the backend new deployments go to, as the `:ctx` picker marks it.
    let backend = match &global.context {
        Some(context) => format!("{active_backend}/{context}"),
        None => active_backend.clone(),
    };
    Settings {
        theme,
        no_color: no_color_requested(),
        key_overrides: config.keys.clone(),
        readonly: global.readonly,
        header: HeaderInfo {
            backend,
            host: hostname::get()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_else(|_| "?".into()),
        },
        theme_names: Theme::names(&user_themes_dir),
        user_themes_dir,
        now: crate::tui::event::Now::read(),
        startup_warnings: warnings,
        gpu_poll_interval: gpu_poll_interval(&config),
        endpoints: crate::tui::features::endpoints::view::EndpointSettings {
            watched: config.endpoints.clone(),
            config_file,
        },
        recipe_dirs: crate::ops::settings::recipe_dirs(&config, &global.recipes_dirs),
        cache_root: crate::ops::settings::hub_cache(global.cache_dir.as_deref(), &config),
        backends,
        active_backend,
        demo: global.demo,
        demo_port: global.demo_port,
        kubeconfig: global.kubeconfig.clone(),
    }
}

/// The configured GPU sampling interval, kept within 0.2 s .. 1 h (default 2 s).
fn gpu_poll_interval(config: &Config) -> std::time::Duration {
    let seconds =
        config.gpu_poll_interval_secs.filter(|s| s.is_finite()).unwrap_or(2.0).clamp(0.2, 3600.0);
    std::time::Duration::from_secs_f64(seconds)
}

/// The backends the console drives: the demo's process backend in `--demo`, otherwise Docker,
/// the process backend (placing on this host's GPUs once `Effects::with_host_gpus` found
/// them), and Kubernetes where a kubeconfig exists. Opened
/// from one `ops::BackendConfig` as the CLI opens them, each journaling its own changes.
pub fn open_backends(
    demo: bool,
    global: &crate::tui::ConsoleOptions,
    state_dir: &std::path::Path,
) -> (Registry, Vec<String>) {
    if demo {
        let backend: Arc<dyn Backend> =
            Arc::new(crate::backend::demo::demo_backend(&state_dir.join("demo")));
        let backend = crate::ops::journaled::Journaled::wrap(backend, state_dir);
        return (Registry::new(vec![backend]), Vec::new());
    }
    let mut config = crate::ops::BackendConfig::new(state_dir);
    config.docker_host = global.docker_host.clone();
    // The console lists every 2 s: from watches, so a large namespace costs one stream.
    config.kube_watches = true;
    config.kubeconfig = global.kubeconfig.clone();
    config.context = global.context.clone();
    config.namespace = global.namespace.clone();
    config.kube_timeout = Some(crate::tui::CONSOLE_CALL_TIMEOUT);
    // No `config.gpus` here: the runner detects them off the first frame's path
    // (`Effects::with_host_gpus`) and hands them to the backends before any placement.
    let wants_kubernetes =
        crate::backend::registry::kubernetes_configured(global.kubeconfig.as_deref())
            || global.backend.as_deref() == Some("k8s");
    config.open_registry(wants_kubernetes)
}
