//! `App::update`: where each event goes. Keys go to the keyboard modes (`key_modes.rs`), task
//! results to the action files of their domain; this file only routes and handles the few
//! events that belong to no domain (paste, resize, tick, signals, themes, GPU telemetry).

use crossterm::event::KeyEventKind;

use crate::tui::app::{App, Level, Mode};
use crate::tui::event::{Command, Event};
use crate::tui::features::cluster::{self, ClusterMsg};
use crate::tui::features::recipes as recipe_view;

impl App {
    /// The one entry point for change: routes `event`, then rebuilds the rows it made stale.
    pub fn update(&mut self, event: Event) -> Vec<Command> {
        let mut commands = self.route(event);
        commands.extend(self.recipes_on_first_use());
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
                self.cache.now_unix_ms = now.unix_ms;
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
            Event::Deploy(event) => self.on_deploy_event(event),
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
            Event::Gpus(update) => {
                self.on_gpus(update);
                Vec::new()
            }
            Event::Recipes(library) => {
                self.on_recipes_loaded(library);
                self.resume_pending_create()
            }
            Event::RecipesFailed(err) => {
                self.on_recipes_failed(err);
                self.resume_pending_create()
            }
            Event::CacheScanned(result) => {
                self.on_cache_scanned(result);
                Vec::new()
            }
            Event::PullProgress(progress) => {
                self.cache.pull = Some(progress);
                self.dirty = true;
                Vec::new()
            }
            Event::PullDone(result) => {
                self.on_pull_done(result);
                Vec::new()
            }
            Event::CacheDeleted { repo, result } => {
                self.on_cache_deleted(&repo, result);
                Vec::new()
            }
            Event::Endpoints(event) => crate::tui::features::endpoints::on_event(self, event),
            Event::RecipeSaved { id, result } => {
                self.on_recipe_saved(&id, result);
                Vec::new()
            }
        }
    }

    /// The cluster domain's update.
    pub(crate) fn cluster_update(&mut self, msg: ClusterMsg) -> Vec<Command> {
        self.dispatch(|app| &mut app.cluster, |state, ctx| cluster::update(state, msg, ctx))
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
            self.invalidate(crate::tui::joins::Stale::All);
            self.dirty = true;
        }
    }
}
