//! The console's state and its one entry point for change: `App::update(event)`. Update never
//! waits on I/O; whatever needs the outside world goes out as a `Command`, and its result comes
//! back later as an `Event`.
//!
//! This file holds the shell's state (mode, message line, keymap, theme, clock, tabs) and one
//! field per domain. How events reach the domains is in `shell/route.rs`, the keyboard modes in
//! `shell/keys.rs`, how a domain is lent its state and its shell commands carried out in
//! `shell/apply.rs`; each domain's state, messages, `update` and view are in
//! `features/<domain>/`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::tui::event::Command;
use crate::tui::features::cache::CacheState;
use crate::tui::features::gpus::GpuState;
use crate::tui::features::recipes::RecipeState;
use crate::tui::keymap::{Action, Keymap};
use crate::tui::theme::Theme;
use crate::tui::views::ViewId;
use crate::tui::views::resources::ResourceView;

use crate::tui::messages::{Level, Message};
use crate::tui::mode::Mode;

/// Facts for the header line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeaderInfo {
    pub backend: String,
    pub host: String,
}

/// What the console starts with, resolved from flags, config and environment by `tui::run`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub theme: Theme,
    pub no_color: bool,
    pub key_overrides: BTreeMap<String, Vec<String>>,
    pub readonly: bool,
    pub header: HeaderInfo,
    pub user_themes_dir: PathBuf,
    /// The themes `:theme` offers: built-ins, then the user's theme files (listed by
    /// `startup`, so `App::new` reads no directory).
    pub theme_names: Vec<String>,
    /// The time the console starts at; each `Event::Tick` brings the next.
    pub now: crate::tui::event::Now,
    /// Problems found while starting (config, theme, keys), shown in the message line.
    pub startup_warnings: Vec<String>,
    /// How often GPU telemetry is sampled.
    pub gpu_poll_interval: std::time::Duration,
    /// Recipe directories after the user's own: the config's, then `--recipes-dir`.
    pub recipe_dirs: Vec<crate::recipes::load::RecipeDir>,
    /// The Hugging Face cache root.
    pub cache_root: PathBuf,
    /// The deployment backends, opened by `tui::run` (none in tests unless given). The
    /// effects runner gets them; the state keeps their names.
    pub backends: crate::backend::registry::Registry,
    /// Where new deployments go.
    pub active_backend: String,
    /// `--demo`: start the demo deployments.
    pub demo: bool,
    /// `--demo-port`: the first port of the demo's engines (a free base when `None`).
    pub demo_port: Option<u16>,
    /// Endpoints to watch from the config file.
    pub endpoints: crate::tui::features::endpoints::view::EndpointSettings,
    /// `--kubeconfig`, for `:ctx`.
    pub kubeconfig: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            theme: Theme::default_theme(),
            no_color: false,
            key_overrides: BTreeMap::new(),
            readonly: false,
            header: HeaderInfo::default(),
            user_themes_dir: crate::paths::user_themes_dir(),
            theme_names: crate::tui::theme::BUILTIN
                .iter()
                .map(|(name, _)| name.to_string())
                .collect(),
            now: crate::tui::event::Now::read(),
            startup_warnings: Vec::new(),
            gpu_poll_interval: std::time::Duration::from_secs(2),
            recipe_dirs: Vec::new(),
            cache_root: crate::paths::hf_hub_cache(None),
            backends: Default::default(),
            active_backend: "docker".into(),
            demo: false,
            demo_port: None,
            endpoints: Default::default(),
            kubeconfig: None,
        }
    }
}

#[derive(Debug)]
pub struct App {
    pub view: ViewId,
    pub views: Vec<ResourceView>,
    pub mode: Mode,
    pub keymap: Keymap,
    pub theme: Theme,
    pub no_color: bool,
    pub readonly: bool,
    pub header: HeaderInfo,
    /// `HH:MM`, updated by the tick; minutes only, so an idle console redraws once a minute.
    pub clock: String,
    pub message: Option<Message>,
    /// Earlier messages, newest last (bounded).
    pub history: Vec<Message>,
    pub theme_names: Vec<String>,
    pub gpus: GpuState,
    pub recipes: RecipeState,
    pub cache: CacheState,
    pub deploy: crate::tui::features::deploy::DeployState,
    pub cluster: crate::tui::features::cluster::ClusterState,
    pub(super) demo: bool,
    pub(super) demo_port: Option<u16>,
    pub endpoints: crate::tui::features::endpoints::view::EndpointsState,
    pub should_quit: bool,
    /// The time the last tick brought.
    pub now: crate::tui::event::Now,
    pub(super) ticks: u64,
    pub(super) dirty: bool,
    /// The last run id handed out (`new_run`).
    pub(crate) runs: std::cell::Cell<u64>,
    /// A create submitted while the recipe library was being read (`shell::create_wait`).
    pub(crate) create_waiting: bool,
    /// Rows to rebuild before `update` returns (`joins`).
    pub(crate) stale: Option<crate::tui::joins::Stale>,
}

impl App {
    pub fn new(settings: Settings) -> App {
        let (keymap, key_warnings) = Keymap::with_overrides(&settings.key_overrides);
        let mut app = App {
            view: ViewId::Gpus,
            views: ViewId::TABS.iter().map(|&id| ResourceView::new(id)).collect(),
            mode: Mode::Normal,
            keymap,
            theme: if settings.no_color { Theme::monochrome() } else { settings.theme },
            no_color: settings.no_color,
            readonly: settings.readonly,
            header: settings.header,
            clock: String::new(),
            message: None,
            history: Vec::new(),
            theme_names: settings.theme_names,
            gpus: GpuState::default(),
            recipes: RecipeState::default(),
            cache: CacheState {
                root: settings.cache_root.clone(),
                now_unix_ms: settings.now.unix_ms,
                ..CacheState::default()
            },
            deploy: crate::tui::features::deploy::DeployState {
                backends: settings.backends.names(),
                active: settings.active_backend.clone(),
                state_dir: crate::paths::state_dir(),
                ..Default::default()
            },
            cluster: crate::tui::features::cluster::ClusterState {
                kubeconfig: settings.kubeconfig.clone(),
                target: settings.backends.cluster().map(|k| k.target().clone()),
                ..Default::default()
            },
            demo: settings.demo,
            demo_port: settings.demo_port,
            endpoints: crate::tui::features::endpoints::view::EndpointsState::new(
                settings.endpoints,
            ),
            should_quit: false,
            now: settings.now,
            ticks: 0,
            dirty: true,
            runs: Default::default(),
            create_waiting: false,
            stale: None,
        };
        for warning in settings.startup_warnings.into_iter().chain(key_warnings) {
            app.notify(Level::Warning, warning);
        }
        app
    }

    /// What the console asks for as it starts: the cache scan and the backends' listings (the
    /// recipe library waits for its first use: `features/recipes/first_use.rs`).
    pub fn start(&mut self) -> Vec<Command> {
        let mut commands = self.cache_update(crate::tui::features::cache::CacheMsg::Scan);
        commands.extend(self.recipes_update(crate::tui::features::recipes::RecipeMsg::FirstUse));
        commands.extend(self.deploy.list_all(self.now.instant));
        if self.demo {
            let state_dir = self.deploy.state_dir.join("demo");
            commands.push(Command::Deploy(
                crate::tui::features::deploy::DeployCommand::StartDemo {
                    state_dir,
                    base_port: self.demo_port,
                },
            ));
            self.notify(
                Level::Info,
                "demo: starting aimdeck-sim engines on a recorded 8-GPU topology…",
            );
        }
        commands.extend(self.endpoints_update(crate::tui::features::endpoints::EndpointMsg::Start));
        commands.extend(self.cluster_update(crate::tui::features::cluster::ClusterMsg::Refresh));
        crate::tui::joins::rebuild(self);
        commands
    }

    pub(crate) fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// Whether the screen needs drawing; clears the flag.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// The recipe under the cursor in the Recipes view.
    pub fn selected_recipe(&self) -> Option<&crate::recipes::load::LoadedRecipe> {
        self.recipes.selected(&self.ctx())
    }

    pub fn current(&self) -> &ResourceView {
        self.view_state(self.view)
    }

    pub fn view_state(&self, id: ViewId) -> &ResourceView {
        ResourceView::of(&self.views, id)
    }

    pub fn view_state_mut(&mut self, id: ViewId) -> &mut ResourceView {
        let index = self.views.iter().position(|v| v.id == id).unwrap_or(0);
        &mut self.views[index]
    }

    pub(super) fn current_mut(&mut self) -> &mut ResourceView {
        self.view_state_mut(self.view)
    }

    /// Actions that work in the current view, for the footer.
    pub fn available_actions(&self) -> Vec<Action> {
        let mut actions = vec![Action::Help, Action::CommandMode, Action::NextView];
        if self.current().table.total() > 0 {
            actions.extend([Action::Filter, Action::Down, Action::SortNext]);
        }
        actions.extend(self.current().actions.iter().copied());
        actions.push(Action::Quit);
        actions
    }

    /// Advances the clock; redraws only when the shown minute changes or a message expires.
    pub fn on_tick(&mut self, clock: &str) {
        self.ticks += 1;
        if self.clock != clock {
            self.clock = clock.to_string();
            self.dirty = true;
        }
        if self.message.as_ref().is_some_and(|m| m.expired(self.ticks)) {
            self.message = None;
            self.dirty = true;
        }
    }
}

/// Drives `App::update` from unit tests without a runtime.
#[cfg(test)]
pub(crate) mod testing {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::App;
    use crate::tui::event::{Command, Event};

    pub(crate) fn key(code: KeyCode) -> Event {
        Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    /// Types `:LINE` and Enter; the commands the Enter returned.
    pub(crate) fn command_line(app: &mut App, line: &str) -> Vec<Command> {
        app.update(key(KeyCode::Char(':')));
        for c in line.chars() {
            app.update(key(KeyCode::Char(c)));
        }
        app.update(key(KeyCode::Enter))
    }
}
