//! The console's state and its one entry point for change: `App::update(event)`. Update never
//! waits on I/O; whatever needs the outside world goes out as a `Command`, and its result comes
//! back later as an `Event`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::command_line::{self, Typed};
use super::event::{Command, Event};
use super::keymap::{Action, Keymap, Scope};
use super::theme::Theme;
use super::views::cache::{self as cache_view, CacheState};
use super::views::gpus::{self, GpuState};
use super::views::recipes::{self as recipe_view, RecipeState};
use super::views::resources::ResourceView;
use super::views::ViewId;
use super::widgets::confirm::ConfirmOutcome;
use super::widgets::form::FormOutcome;
use super::widgets::text_input::TextInput;
use super::widgets::{ConfirmDialog, Form};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// A line for the message bar. Toasts expire; errors stay longer.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub level: Level,
    expires_at_tick: u64,
}

/// What has the keyboard right now.
#[derive(Debug, Clone)]
pub enum Mode {
    Normal,
    Command { input: TextInput, candidates: Vec<String> },
    Filter { input: TextInput },
    Help { scroll: u16 },
    Confirm(ConfirmDialog, ConfirmPurpose),
    Form(Form, FormPurpose),
    /// A scrollable text: a rendered config to review (Enter creates) or the journal.
    Pager(Box<Pager>),
    /// The logs of `deploy.logs`.
    Logs,
    /// Choosing a context (`:ctx`) or a namespace (`:ns`).
    Pick(super::widgets::picker::Picker, super::cluster_flow::PickPurpose),
}

#[derive(Debug, Clone)]
pub struct Pager {
    pub title: String,
    pub pane: super::widgets::LogPane,
    /// Set when Enter creates this deployment (the create wizard's review step).
    pub create: Option<(super::deploy_flow::BackendHandle, Box<crate::model::DeploymentSpec>)>,
}

/// What a confirmed dialog does.
#[derive(Debug, Clone)]
pub enum ConfirmPurpose {
    /// Delete from the cache; `in_use_checked` once the second question (the model is
    /// served by a deployment) has been answered too.
    DeleteCache { plan: Box<crate::cache::DeletePlan>, in_use_checked: bool },
    /// Tear down a deployment (every replica) on a backend.
    DeleteDeployment { backend: String, name: String },
}

/// What a submitted form is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormPurpose {
    EditRecipe { id: String },
    Pull,
    Create,
    Scale { backend: String, name: String },
}

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
    /// Problems found while starting (config, theme, keys), shown in the message line.
    pub startup_warnings: Vec<String>,
    /// How often GPU telemetry is sampled.
    pub gpu_poll_interval: std::time::Duration,
    /// Recipe directories after the user's own: the config's, then `--recipes-dir`.
    pub recipe_dirs: Vec<crate::recipes::load::RecipeDir>,
    /// The Hugging Face cache root.
    pub cache_root: PathBuf,
    /// The deployment backends, opened by `tui::run` (none in tests unless given).
    pub backends: Vec<super::deploy_flow::BackendHandle>,
    /// Where new deployments go.
    pub active_backend: String,
    /// `--demo`: start the demo deployments.
    pub demo: bool,
    /// Endpoints to watch from the config file.
    pub endpoints: super::views::endpoints::EndpointSettings,
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
            startup_warnings: Vec::new(),
            gpu_poll_interval: std::time::Duration::from_secs(2),
            recipe_dirs: Vec::new(),
            cache_root: crate::paths::hf_hub_cache(None),
            backends: Vec::new(),
            active_backend: "docker".into(),
            demo: false,
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
    pub deploy: super::deploy_flow::DeployState,
    pub cluster: super::cluster_flow::ClusterState,
    demo: bool,
    pub endpoints: super::views::endpoints::EndpointsState,
    pub should_quit: bool,
    ticks: u64,
    dirty: bool,
}

const HISTORY: usize = 50;

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
            theme_names: Theme::names(&settings.user_themes_dir),
            gpus: GpuState::default(),
            recipes: RecipeState::default(),
            cache: CacheState { root: settings.cache_root.clone(), ..CacheState::default() },
            deploy: super::deploy_flow::DeployState {
                backends: settings.backends.clone(),
                active: settings.active_backend.clone(),
                state_dir: crate::paths::state_dir(),
                ..Default::default()
            },
            cluster: super::cluster_flow::ClusterState { kubeconfig: settings.kubeconfig.clone(), ..Default::default() },
            demo: settings.demo,
            endpoints: super::views::endpoints::EndpointsState::new(settings.endpoints),
            should_quit: false,
            ticks: 0,
            dirty: true,
        };
        for warning in settings.startup_warnings.into_iter().chain(key_warnings) {
            app.notify(Level::Warning, warning);
        }
        app
    }

    /// What the console asks for as it starts: the recipe library.
    pub fn start(&mut self) -> Vec<Command> {
        self.cache.scanning = true;
        let mut commands = vec![Command::LoadRecipes, Command::ScanCache { root: self.cache.root.clone() }];
        commands.extend(self.deploy.list_all());
        if self.demo {
            let state_dir = self.deploy.state_dir.join("demo");
            commands.push(Command::Deploy(super::deploy_flow::DeployCommand::StartDemo { state_dir }));
            self.notify(Level::Info, "demo: starting aimdeck-sim engines on a recorded 8-GPU topology…");
        }
        commands.extend(super::endpoint_flow::start(self));
        commands.extend(super::cluster_flow::refresh(self));
        commands
    }

    pub(crate) fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// Whether the screen needs drawing; clears the flag.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    pub fn current(&self) -> &ResourceView {
        self.view_state(self.view)
    }

    pub fn view_state(&self, id: ViewId) -> &ResourceView {
        self.views.iter().find(|v| v.id == id).unwrap_or(&self.views[0])
    }

    pub fn view_state_mut(&mut self, id: ViewId) -> &mut ResourceView {
        let index = self.views.iter().position(|v| v.id == id).unwrap_or(0);
        &mut self.views[index]
    }

    fn current_mut(&mut self) -> &mut ResourceView {
        self.view_state_mut(self.view)
    }

    pub fn notify(&mut self, level: Level, text: impl Into<String>) {
        let lifetime = match level {
            Level::Info => 5,
            Level::Warning => 15,
            Level::Error => 30,
        };
        let message = Message { text: text.into(), level, expires_at_tick: self.ticks + lifetime };
        tracing::info!(level = ?message.level, "{}", message.text);
        self.history.push(message.clone());
        if self.history.len() > HISTORY {
            self.history.remove(0);
        }
        // A newer info never hides an error the user has not had time to read.
        let keep_current = self
            .message
            .as_ref()
            .is_some_and(|current| current.level > message.level && current.expires_at_tick > self.ticks);
        if !keep_current {
            self.message = Some(message);
        }
        self.dirty = true;
    }

    /// Like `notify`, but a message of the same or a higher level still on screen stays: the
    /// new one goes to the history (`:messages`) only. For background warnings (a backend that
    /// cannot be listed) that must not hide what the user is reading.
    pub fn notify_behind(&mut self, level: Level, text: impl Into<String>) {
        let busy = self.message.as_ref().is_some_and(|current| current.level >= level && current.expires_at_tick > self.ticks);
        if !busy {
            self.notify(level, text);
            return;
        }
        let message = Message { text: text.into(), level, expires_at_tick: self.ticks };
        tracing::info!(level = ?message.level, "{}", message.text);
        self.history.push(message);
        if self.history.len() > HISTORY {
            self.history.remove(0);
        }
        self.dirty = true;
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

    pub fn update(&mut self, event: Event) -> Vec<Command> {
        match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.on_key(key),
            Event::Key(_) => Vec::new(),
            Event::Paste(text) => {
                match &mut self.mode {
                    Mode::Command { input, .. } | Mode::Filter { input } => input.paste(&text),
                    _ => {}
                }
                self.after_filter_edit();
                self.dirty = true;
                Vec::new()
            }
            Event::Resize(..) => {
                self.dirty = true;
                Vec::new()
            }
            Event::Tick => {
                self.on_tick(&current_clock());
                super::endpoint_flow::on_tick(self);
                // Backends are the source of truth: reread them every other second.
                let mut commands = if self.ticks % 2 == 0 { self.deploy.list_all() } else { Vec::new() };
                if self.ticks % super::cluster_flow::REFRESH_TICKS == 0 {
                    commands.extend(super::cluster_flow::refresh(self));
                }
                commands
            }
            Event::Deploy(event) => self.on_deploy_event(event),
            Event::Cluster(event) => super::cluster_flow::on_event(self, event),
            Event::Shutdown(signal) => {
                tracing::info!("{signal}: leaving");
                self.should_quit = true;
                Vec::new()
            }
            Event::ThemeLoaded { name, result } => {
                match result {
                    Ok(theme) if self.no_color => {
                        let _ = theme;
                        self.notify(Level::Warning, format!("NO_COLOR is set: theme {name} not applied"));
                    }
                    Ok(theme) => {
                        self.theme = theme;
                        self.refresh_rows();
                        self.notify(Level::Info, format!("theme: {name}"));
                    }
                    Err(err) => self.notify(Level::Error, err),
                }
                Vec::new()
            }
            Event::Gpus(update) => {
                self.on_gpus(update);
                Vec::new()
            }
            Event::Recipes(library) => {
                for problem in library.problems.iter().take(3) {
                    self.notify(Level::Warning, format!("recipes: {problem}"));
                }
                self.recipes.library = Some(library);
                self.recompute_best_recipes();
                self.refresh_rows();
                Vec::new()
            }
            Event::CacheScanned(result) => {
                self.cache.scanning = false;
                match result {
                    Ok(report) => {
                        if self.cache.report.as_ref().map(|r| &r.warnings) != Some(&report.warnings) {
                            for warning in report.warnings.iter().take(3) {
                                self.notify(Level::Warning, format!("cache: {warning}"));
                            }
                        }
                        self.cache.error = None;
                        self.cache.report = Some(report);
                    }
                    Err(err) => {
                        self.notify(Level::Error, format!("cache: {err}"));
                        self.cache.error = Some(err);
                    }
                }
                self.refresh_rows();
                Vec::new()
            }
            Event::PullProgress(progress) => {
                self.cache.pull = Some(progress);
                self.dirty = true;
                Vec::new()
            }
            Event::PullDone(result) => {
                self.cache.pull_cancel = None;
                match result {
                    Ok(summary) => self.notify(
                        Level::Info,
                        format!("pulled {}@{} ({} files) into {}", summary.repo_id, summary.revision, summary.files, summary.snapshot_path.display()),
                    ),
                    Err(err) => self.notify(Level::Error, format!("pull: {err}")),
                }
                Vec::new()
            }
            Event::CacheDeleted { repo, result } => {
                match result {
                    Ok(freed) => self.notify(Level::Info, format!("deleted {repo}: freed {}", crate::cache::format_size(freed))),
                    Err(err) => self.notify(Level::Error, format!("delete {repo}: {err}")),
                }
                Vec::new()
            }
            Event::Endpoints(event) => super::endpoint_flow::on_event(self, event),
            Event::RecipeSaved { id, result } => {
                self.recipes.editing = None;
                match result {
                    Ok(path) => self.notify(Level::Info, format!("recipe {id} saved to {}", path.display())),
                    Err(err) => self.notify(Level::Error, format!("recipe {id} not saved: {err}")),
                }
                Vec::new()
            }
        }
    }

    fn on_gpus(&mut self, update: std::sync::Arc<crate::monitor::gpu_poller::GpuUpdate>) {
        let previous = self.gpus.update.as_ref();
        let same_snapshot = previous.is_some_and(|p| p.snapshot == update.snapshot);
        let new_warnings: Vec<String> = update
            .snapshot
            .warnings
            .iter()
            .filter(|w| !previous.is_some_and(|p| p.snapshot.warnings.contains(w)))
            .cloned()
            .collect();
        // With no GPUs and nothing new to say, an identical pass draws nothing.
        let unchanged = same_snapshot && update.snapshot.gpus.is_empty();
        let hardware = recipe_view::hardware_from(&update.snapshot);
        self.gpus.update = Some(update);
        if hardware != self.recipes.hardware {
            self.recipes.hardware = hardware;
            self.recompute_best_recipes();
        }
        for warning in new_warnings {
            self.notify(Level::Warning, format!("gpus: {warning}"));
        }
        if !unchanged {
            self.refresh_rows();
            self.dirty = true;
        }
    }

    fn recompute_best_recipes(&mut self) {
        self.recipes.best = match (&self.recipes.library, &self.recipes.hardware) {
            (Some(library), Some(hardware)) => recipe_view::best_ids(library, hardware),
            _ => Default::default(),
        };
    }

    /// Rebuilds every view's rows from the domain state (after new data or a theme change,
    /// since rows carry styled cells).
    pub(crate) fn refresh_rows(&mut self) {
        let theme = self.theme.clone();
        if let Some(update) = self.gpus.update.clone() {
            // Join what the backends say each replica holds onto the discovered GPUs.
            let mut joined = (*update).clone();
            crate::model::gpu::assign_holders(&mut joined.snapshot.gpus, &self.deploy.gpu_claims());
            let view = self.view_state_mut(ViewId::Gpus);
            view.table.set_rows(gpus::rows(&joined, &theme));
            view.empty_note = gpus::empty_note(Some(&update));
        }
        let rows = cache_view::rows(&self.cache, &theme);
        let note = cache_view::empty_note(&self.cache);
        let view = self.view_state_mut(ViewId::Cache);
        view.table.set_rows(rows);
        view.empty_note = note;
        let rows = recipe_view::rows(&self.recipes, &theme);
        let note = recipe_view::empty_note(self.recipes.library.as_deref());
        let view = self.view_state_mut(ViewId::Recipes);
        view.table.set_rows(rows);
        view.empty_note = note;
        super::endpoint_flow::refresh(self);
        self.dirty = true;
    }

    /// The repo under the cursor in the Cache view.
    pub fn selected_cached_repo(&self) -> Option<&crate::model::cache::CachedRepo> {
        let id = &self.view_state(ViewId::Cache).table.selected()?.id;
        self.cache.repo(id)
    }

    fn ask_delete_cached(&mut self) -> Vec<Command> {
        let Some(repo) = self.selected_cached_repo() else {
            self.notify(Level::Info, "delete: select a repo first");
            return Vec::new();
        };
        let (repo_type, repo_id) = (repo.repo_type, repo.repo_id.clone());
        let Some(report) = self.cache.report.clone() else { return Vec::new() };
        match crate::cache::plan_delete(&report, repo_type, &repo_id, &[], &self.cache.holds) {
            Ok(plan) => {
                self.mode = Mode::Confirm(
                    cache_view::confirm_delete(&plan),
                    ConfirmPurpose::DeleteCache { plan: Box::new(plan), in_use_checked: false },
                );
            }
            Err(err) => self.notify(Level::Error, format!("delete: {err}")),
        }
        Vec::new()
    }

    /// `ctrl-r`: reread the current view's source.
    fn refresh_view(&mut self) -> Vec<Command> {
        match self.view {
            ViewId::Cache => {
                self.cache.scanning = true;
                self.notify(Level::Info, format!("rescanning {}", self.cache.root.display()));
                vec![Command::ScanCache { root: self.cache.root.clone() }]
            }
            ViewId::Recipes => vec![Command::LoadRecipes],
            view => {
                self.notify(Level::Info, format!("{view}: refreshes itself"));
                Vec::new()
            }
        }
    }

    /// The recipe under the cursor in the Recipes view.
    pub fn selected_recipe(&self) -> Option<&crate::recipes::load::LoadedRecipe> {
        let id = &self.view_state(ViewId::Recipes).table.selected()?.id;
        self.recipes.library.as_ref()?.get(id)
    }

    /// Advances the clock; redraws only when the shown minute changes or a message expires.
    pub fn on_tick(&mut self, clock: &str) {
        self.ticks += 1;
        if self.clock != clock {
            self.clock = clock.to_string();
            self.dirty = true;
        }
        if self.message.as_ref().is_some_and(|m| m.expires_at_tick <= self.ticks) {
            self.message = None;
            self.dirty = true;
        }
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Command> {
        self.dirty = true;
        // Ctrl-C always quits, whatever has the keyboard.
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.should_quit = true;
            return Vec::new();
        }
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Normal if super::endpoint_flow::captures_keys(self) => super::endpoint_flow::on_key(self, key),
            Mode::Normal => self.on_normal_key(key),
            Mode::Command { mut input, candidates } => match key.code {
                KeyCode::Esc => Vec::new(),
                KeyCode::Enter => self.run_command_line(input.value().to_string()),
                KeyCode::Tab => {
                    let (line, candidates) = command_line::complete_with(input.value(), &self.theme_names, &self.endpoints.names());
                    input.set_value(&line);
                    self.mode = Mode::Command { input, candidates };
                    Vec::new()
                }
                _ => {
                    input.handle_key(key);
                    self.mode = Mode::Command { input, candidates };
                    Vec::new()
                }
            },
            Mode::Filter { mut input } => {
                match key.code {
                    KeyCode::Esc => self.current_mut().table.set_filter(""),
                    KeyCode::Enter => {}
                    _ => {
                        input.handle_key(key);
                        self.mode = Mode::Filter { input };
                        self.after_filter_edit();
                    }
                }
                Vec::new()
            }
            Mode::Help { scroll } => {
                self.mode = match self.keymap.action_for(&key) {
                    Some(Action::Back | Action::Help | Action::Quit) => Mode::Normal,
                    Some(Action::Down) => Mode::Help { scroll: scroll.saturating_add(1) },
                    Some(Action::Up) => Mode::Help { scroll: scroll.saturating_sub(1) },
                    Some(Action::PageDown) => Mode::Help { scroll: scroll.saturating_add(10) },
                    Some(Action::PageUp) => Mode::Help { scroll: scroll.saturating_sub(10) },
                    Some(Action::Top) => Mode::Help { scroll: 0 },
                    _ => Mode::Help { scroll },
                };
                Vec::new()
            }
            Mode::Confirm(mut dialog, purpose) => match dialog.handle_key(key) {
                ConfirmOutcome::Pending => {
                    self.mode = Mode::Confirm(dialog, purpose);
                    Vec::new()
                }
                ConfirmOutcome::Cancelled => {
                    self.notify(Level::Info, "cancelled: nothing was changed");
                    Vec::new()
                }
                ConfirmOutcome::Confirmed => self.on_confirmed(purpose),
            },
            Mode::Pager(mut pager) => self.on_pager_key(key, &mut pager).unwrap_or_else(|| {
                self.mode = Mode::Pager(pager);
                Vec::new()
            }),
            Mode::Logs => {
                self.on_logs_key(key);
                Vec::new()
            }
            Mode::Pick(picker, purpose) => super::cluster_flow::on_pick_key(self, picker, purpose, key),
            Mode::Form(mut form, purpose) => match form.handle_key(key) {
                FormOutcome::Editing => {
                    self.mode = Mode::Form(form, purpose);
                    Vec::new()
                }
                FormOutcome::Cancelled => {
                    self.recipes.editing = None;
                    self.notify(Level::Info, "cancelled");
                    Vec::new()
                }
                FormOutcome::Submitted => self.on_form_submitted(form, purpose),
            },
        }
    }

    fn on_confirmed(&mut self, purpose: ConfirmPurpose) -> Vec<Command> {
        match purpose {
            ConfirmPurpose::DeleteCache { plan, in_use_checked } => {
                if !plan.held_by.is_empty() && !in_use_checked {
                    self.mode = Mode::Confirm(cache_view::confirm_delete_in_use(&plan), ConfirmPurpose::DeleteCache { plan, in_use_checked: true });
                    return Vec::new();
                }
                self.notify(Level::Info, format!("deleting {}…", plan.repo_id));
                vec![Command::DeleteFromCache { plan, root: self.cache.root.clone() }]
            }
            ConfirmPurpose::DeleteDeployment { backend, name } => self.delete_deployment(backend, name),
        }
    }

    /// Keys in a pager. `Some` when the pager closed (with the commands to run).
    fn on_pager_key(&mut self, key: KeyEvent, pager: &mut Pager) -> Option<Vec<Command>> {
        match (key.code, self.keymap.action_for(&key)) {
            (KeyCode::Esc, _) | (_, Some(Action::Quit)) => Some(Vec::new()),
            (KeyCode::Enter, _) => match pager.create.take() {
                Some((backend, spec)) => {
                    self.notify(Level::Info, format!("creating {} on {}…", spec.name, backend.0.name()));
                    Some(vec![Command::Deploy(super::deploy_flow::DeployCommand::Create { backend, spec })])
                }
                None => Some(Vec::new()),
            },
            (_, Some(Action::Down)) => {
                pager.pane.scroll_by(1);
                None
            }
            (_, Some(Action::Up)) => {
                pager.pane.scroll_by(-1);
                None
            }
            (_, Some(Action::PageDown)) => {
                pager.pane.scroll_by(10);
                None
            }
            (_, Some(Action::PageUp)) => {
                pager.pane.scroll_by(-10);
                None
            }
            (_, Some(Action::Top)) => {
                pager.pane.scroll_to_top();
                None
            }
            (_, Some(Action::Bottom)) => {
                pager.pane.scroll_to_bottom();
                None
            }
            _ => None,
        }
    }

    /// Keys in the logs view: scroll, `G` follows, `/` searches, `n`/`N` jump, `w` wraps.
    fn on_logs_key(&mut self, key: KeyEvent) {
        let action = self.keymap.action_for(&key);
        let Some(logs) = self.deploy.logs.as_mut() else { return };
        if let Some(query) = logs.searching.as_mut() {
            match key.code {
                KeyCode::Enter => {
                    let query = logs.searching.take().unwrap_or_default();
                    logs.pane.set_search(Some(query));
                }
                KeyCode::Esc => logs.searching = None,
                KeyCode::Backspace => {
                    query.pop();
                }
                KeyCode::Char(c) => query.push(c),
                _ => {}
            }
        } else {
            match (key.code, action) {
                (KeyCode::Esc, _) | (_, Some(Action::Quit)) => {
                    logs.cancel.cancel();
                    self.deploy.logs = None;
                    self.mode = Mode::Normal;
                    return;
                }
                (KeyCode::Char('/'), _) => logs.searching = Some(String::new()),
                (KeyCode::Char('n'), _) => {
                    logs.pane.find_next(true);
                }
                (KeyCode::Char('N'), _) => {
                    logs.pane.find_next(false);
                }
                (KeyCode::Char('w'), _) => logs.pane.wrap = !logs.pane.wrap,
                (_, Some(Action::Down)) => logs.pane.scroll_by(1),
                (_, Some(Action::Up)) => logs.pane.scroll_by(-1),
                (_, Some(Action::PageDown)) => logs.pane.scroll_by(20),
                (_, Some(Action::PageUp)) => logs.pane.scroll_by(-20),
                (_, Some(Action::Top)) => logs.pane.scroll_to_top(),
                (_, Some(Action::Bottom)) => logs.pane.scroll_to_bottom(),
                _ => {}
            }
        }
        self.mode = Mode::Logs;
    }

    fn on_form_submitted(&mut self, form: Form, purpose: FormPurpose) -> Vec<Command> {
        match purpose {
            FormPurpose::Create => self.create_submitted(&form),
            FormPurpose::Scale { backend, name } => {
                let value = form.value("replicas").unwrap_or_default();
                self.scale_submitted(backend, name, &value)
            }
            FormPurpose::Pull => {
                let repo = form.value("repo").unwrap_or_default().trim().to_string();
                let revision = form.value("revision").unwrap_or_default().trim().to_string();
                let cancel = tokio_util::sync::CancellationToken::new();
                self.cache.pull_cancel = Some(cancel.clone());
                self.cache.pull = None;
                self.notify(Level::Info, format!("pulling {repo}@{revision}…"));
                vec![Command::Pull { repo, revision, root: self.cache.root.clone(), cancel }]
            }
            FormPurpose::EditRecipe { id } => {
                let yaml = form.value("yaml").unwrap_or_default();
                // Save under the id written in the YAML: renaming a recipe makes a new one.
                let id = crate::recipes::load::load_text("editor", &yaml).map(|r| r.id).unwrap_or(id);
                self.notify(Level::Info, format!("saving recipe {id}…"));
                vec![Command::SaveRecipe { id, yaml }]
            }
        }
    }

    fn after_filter_edit(&mut self) {
        if let Mode::Filter { input } = &self.mode {
            let filter = input.value().to_string();
            self.current_mut().table.set_filter(&filter);
        }
    }

    fn on_normal_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let Some(action) = self.keymap.action_for(&key) else {
            return Vec::new();
        };
        match action {
            Action::Quit => self.should_quit = true,
            Action::Help => self.mode = Mode::Help { scroll: 0 },
            Action::Back => {
                if !self.current().table.filter().is_empty() {
                    self.current_mut().table.set_filter("");
                } else {
                    self.message = None;
                }
            }
            Action::CommandMode => {
                self.mode = Mode::Command { input: TextInput::default(), candidates: Vec::new() };
            }
            Action::NextView => self.view = self.view.next(),
            Action::PrevView => self.view = self.view.prev(),
            Action::ViewGpus => self.view = ViewId::Gpus,
            Action::ViewCache => self.view = ViewId::Cache,
            Action::ViewRecipes => self.view = ViewId::Recipes,
            Action::ViewEndpoints => self.view = ViewId::Endpoints,
            Action::Refresh => return self.refresh_view(),
            Action::Filter => {
                let current = self.current().table.filter().to_string();
                self.mode = Mode::Filter { input: TextInput::new(&current) };
            }
            Action::Up => self.current_mut().table.move_by(-1),
            Action::Down => self.current_mut().table.move_by(1),
            Action::PageUp => self.current_mut().table.page_by(-1),
            Action::PageDown => self.current_mut().table.page_by(1),
            Action::Top => self.current_mut().table.select_first(),
            Action::Bottom => self.current_mut().table.select_last(),
            Action::SortNext => self.current_mut().table.sort_next(),
            Action::SortReverse => self.current_mut().table.sort_reverse(),
            other => return self.on_row_action(other),
        }
        Vec::new()
    }

    /// Open and the row actions: refused in read-only mode when they change anything, and
    /// explained when the view has no such action.
    fn on_row_action(&mut self, action: Action) -> Vec<Command> {
        let mutating = !matches!(action, Action::Open | Action::Logs | Action::ShowConfig | Action::Prompt);
        if self.readonly && mutating && action.scope() == Scope::Resource {
            self.notify(Level::Warning, format!("{}: refused, aimdeck is read-only (--readonly)", action.name()));
            return Vec::new();
        }
        if !self.current().actions.contains(&action) {
            self.notify(Level::Info, format!("{}: not available in the {} view", action.name(), self.view));
            return Vec::new();
        }
        if let Some(commands) = self.deploy_action(action) {
            return commands;
        }
        match action {
            Action::Open | Action::Prompt | Action::Bench if self.view == ViewId::Endpoints => {
                return super::endpoint_flow::on_row_action(self, action);
            }
            Action::Topology => self.gpus.topology_full = !self.gpus.topology_full,
            Action::Pull => {
                if self.cache.pulling() {
                    self.notify(Level::Info, "pull: one is running (x cancels it)");
                } else {
                    self.mode = Mode::Form(cache_view::pull_form(), FormPurpose::Pull);
                }
            }
            Action::Cancel => match self.cache.pull_cancel.take() {
                Some(cancel) => {
                    cancel.cancel();
                    self.notify(Level::Info, "pull cancelled; P resumes it");
                }
                None => self.notify(Level::Info, "cancel: nothing is running"),
            },
            Action::Delete if self.view == ViewId::Cache => return self.ask_delete_cached(),
            Action::RecipesFor => {
                if let Some(repo) = self.selected_cached_repo() {
                    let filter = repo.repo_id.rsplit('/').next().unwrap_or(&repo.repo_id).to_string();
                    self.view = ViewId::Recipes;
                    self.current_mut().table.set_filter(&filter);
                }
            }
            Action::Edit if self.view == ViewId::Recipes => match self.selected_recipe() {
                Some(loaded) => {
                    let form = recipe_view::editor(loaded);
                    let id = loaded.recipe.id.clone();
                    self.recipes.editing = Some(id.clone());
                    self.mode = Mode::Form(form, FormPurpose::EditRecipe { id });
                }
                None => self.notify(Level::Info, "edit: select a recipe first"),
            },
            _ => {}
        }
        Vec::new()
    }

    fn run_command_line(&mut self, line: String) -> Vec<Command> {
        match command_line::parse(&line) {
            Ok(Typed::View(view)) => self.view = view,
            Ok(Typed::Help) => self.mode = Mode::Help { scroll: 0 },
            Ok(Typed::Journal) => return vec![Command::Deploy(super::deploy_flow::DeployCommand::ReadJournal)],
            Ok(Typed::Context(name)) => return super::cluster_flow::on_context(self, name),
            Ok(Typed::Namespace(name)) => return super::cluster_flow::on_namespace(self, name),
            Ok(Typed::Quit) => self.should_quit = true,
            Ok(Typed::Theme(None)) => {
                let names = self.theme_names.join(", ");
                self.notify(Level::Info, format!("theme: {} (available: {names})", self.theme.name));
            }
            Ok(Typed::Theme(Some(name))) => return vec![Command::LoadTheme(name)],
            Ok(Typed::Endpoints(typed)) => return super::endpoint_flow::on_typed(self, typed),
            Err(err) => self.notify(Level::Error, err),
        }
        Vec::new()
    }
}

fn current_clock() -> String {
    let now = jiff::Zoned::now();
    now.strftime("%H:%M").to_string()
}
