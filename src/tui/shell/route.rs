//! `App::update`: where each event goes. Keys go to the keyboard modes (`keys.rs`), task
//! results to their domain's `update` as its `Msg` (through `App::dispatch`, `apply.rs`); this
//! file only routes, and handles the few events that belong to no domain (paste, resize, the
//! tick's clock, signals, themes).

use crossterm::event::KeyEventKind;

use crate::tui::app::App;
use crate::tui::event::{Command, Event};
use crate::tui::features::cache::{self, CacheMsg};
use crate::tui::features::cluster::{self, ClusterMsg};
use crate::tui::features::deploy::{self, DeployMsg};
use crate::tui::features::endpoints::{self, EndpointMsg};
use crate::tui::features::gpus::{self, GpuMsg};
use crate::tui::features::recipes::{self as recipe_view, RecipeMsg};
use crate::tui::messages::Level;
use crate::tui::mode::Mode;

impl App {
    /// The one entry point for change: routes `event`, then rebuilds the rows it made stale.
    pub fn update(&mut self, event: Event) -> Vec<Command> {
        let mut commands = self.route(event);
        commands.extend(self.recipes_update(RecipeMsg::FirstUse));
        crate::tui::joins::rebuild(self);
        commands
    }

    fn route(&mut self, event: Event) -> Vec<Command> {
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
            Event::Tick(now) => {
                self.now = now;
                self.cache_update(CacheMsg::Tick);
                self.on_tick(&now.clock());
                crate::tui::joins::on_tick(self);
                // Backends are the source of truth: reread them every other second.
                let mut commands = if self.ticks.is_multiple_of(2) {
                    self.deploy.list_all(now.instant)
                } else {
                    Vec::new()
                };
                if self.ticks.is_multiple_of(crate::tui::features::cluster::REFRESH_TICKS) {
                    commands.extend(self.cluster_update(ClusterMsg::Refresh));
                }
                commands
            }
            Event::Deploy(event) => self.deploy_update(DeployMsg::Event(event)),
            Event::Cluster(event) => self.cluster_update(ClusterMsg::Answer(event)),
            Event::Shutdown(signal) => {
                tracing::info!("{signal}: leaving");
                self.should_quit = true;
                Vec::new()
            }
            Event::ThemeLoaded { name, result } => {
                match result {
                    Ok(theme) if self.no_color => {
                        let _ = theme;
                        self.notify(
                            Level::Warning,
                            format!("NO_COLOR is set: theme {name} not applied"),
                        );
                    }
                    Ok(theme) => {
                        self.theme = theme;
                        self.invalidate(crate::tui::joins::Stale::All);
                        self.notify(Level::Info, format!("theme: {name}"));
                    }
                    Err(err) => self.notify(Level::Error, err),
                }
                Vec::new()
            }
            Event::Gpus(update) => self.on_gpus(update),
            Event::Recipes(library) => {
                let mut commands = self.recipes_update(RecipeMsg::Loaded(library));
                commands.extend(self.resume_pending_create());
                commands
            }
            Event::RecipesFailed(err) => {
                let mut commands = self.recipes_update(RecipeMsg::Failed(err));
                commands.extend(self.resume_pending_create());
                commands
            }
            Event::CacheScanned(result) => self.cache_update(CacheMsg::Scanned(result)),
            Event::PullProgress(progress) => self.cache_update(CacheMsg::PullProgress(progress)),
            Event::PullDone(result) => self.cache_update(CacheMsg::PullDone(result)),
            Event::CacheDeleted { repo, result } => {
                self.cache_update(CacheMsg::Deleted { repo, result })
            }
            Event::Endpoints(event) => self.endpoints_update(EndpointMsg::Event(event)),
            Event::RecipeSaved { id, result } => {
                self.recipes_update(RecipeMsg::Saved { id, result })
            }
        }
    }

    /// The recipes domain's update.
    pub(crate) fn recipes_update(&mut self, msg: RecipeMsg) -> Vec<Command> {
        self.dispatch(|app| &mut app.recipes, |state, ctx| recipe_view::update(state, msg, ctx))
    }

    /// The deploy domain's update.
    pub(crate) fn deploy_update(&mut self, msg: DeployMsg) -> Vec<Command> {
        self.dispatch(|app| &mut app.deploy, |state, ctx| deploy::update(state, msg, ctx))
    }

    /// The endpoints domain's update.
    pub(crate) fn endpoints_update(&mut self, msg: EndpointMsg) -> Vec<Command> {
        self.dispatch(|app| &mut app.endpoints, |state, ctx| endpoints::update(state, msg, ctx))
    }

    /// The cache domain's update.
    pub(crate) fn cache_update(&mut self, msg: CacheMsg) -> Vec<Command> {
        self.dispatch(|app| &mut app.cache, |state, ctx| cache::update(state, msg, ctx))
    }

    /// The cluster domain's update.
    pub(crate) fn cluster_update(&mut self, msg: ClusterMsg) -> Vec<Command> {
        self.dispatch(|app| &mut app.cluster, |state, ctx| cluster::update(state, msg, ctx))
    }

    /// A GPU pass: the GPUs domain stores it, and the recipes domain learns the hardware its
    /// best recipes are chosen for.
    fn on_gpus(
        &mut self,
        update: std::sync::Arc<crate::monitor::gpu_poller::GpuUpdate>,
    ) -> Vec<Command> {
        let hardware = recipe_view::hardware_from(&update.snapshot);
        let mut commands = self.recipes_update(RecipeMsg::Hardware(hardware));
        commands.extend(self.gpus_update(GpuMsg::Polled(update)));
        commands
    }

    /// The GPUs domain's update.
    pub(crate) fn gpus_update(&mut self, msg: GpuMsg) -> Vec<Command> {
        self.dispatch(|app| &mut app.gpus, |state, ctx| gpus::update(state, msg, ctx))
    }
}
