//! How the console's state changes for the Endpoints view: monitor updates, `:add`/`:rm`, the
//! keys of the detail, playground and benchmark panes, and their results. Called by
//! `App::update`; like it, these functions do no I/O and return `Command`s for the runner.

pub mod bench;
pub mod bench_runs;
mod charts;
pub mod detail;
mod gpu_charts;
pub mod playground;
pub mod view;

use crossterm::event::KeyEvent;

use crate::engine::bench::{BenchProgress, BenchReport};
use crate::engine::openai::StreamEvent;
use crate::model::EndpointUpdate;
use crate::monitor::EndpointTarget;
use crate::tui::app::{App, Level, Mode};
use crate::tui::event::{Command, RunId};
use crate::tui::features::endpoints::bench::{self as bench_view, BenchAsk};
use crate::tui::features::endpoints::playground::Playground;
use crate::tui::features::endpoints::view::{Origin, Pane, Watched};
use crate::tui::keymap::Action;
use crate::tui::views::ViewId;
use crate::tui::widgets::text_input::TextInput;

/// Results from the endpoint effects.
// Moved once through the channel, like `Event`: boxing the update (the largest) would cost an
// allocation per poll for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum EndpointEvent {
    Update(EndpointUpdate),
    Stream { run: RunId, event: StreamEvent },
    BenchProgress { run: RunId, progress: BenchProgress },
    BenchDone { run: RunId, result: Result<BenchReport, String> },
}

/// Work for the endpoint effects (`effects::endpoints`). A prompt or benchmark is a run:
/// `Command::Cancel(run)` stops it.
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointCommand {
    Watch(EndpointTarget),
    Unwatch(String),
    Prompt {
        run: RunId,
        base_url: String,
        model: String,
        prompt: String,
    },
    /// Request `i` goes to `urls[i mod n]`: a deployment's ready replicas share the run.
    Bench {
        run: RunId,
        urls: Vec<String>,
        model: Option<String>,
        ask: BenchAsk,
    },
}

impl EndpointCommand {
    /// The run this command starts, when it is one.
    pub fn run(&self) -> Option<RunId> {
        match self {
            EndpointCommand::Prompt { run, .. } | EndpointCommand::Bench { run, .. } => Some(*run),
            EndpointCommand::Watch(_) | EndpointCommand::Unwatch(_) => None,
        }
    }
}

/// A `:` command of this view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Typed {
    /// `:add [NAME] URL`
    Add { name: Option<String>, url: String },
    /// `:rm NAME` / `:unwatch NAME`
    Remove(String),
}

fn command(c: EndpointCommand) -> Command {
    Command::Endpoints(c)
}

/// The config file's endpoints, watched from the start. Bad URLs are reported, not watched.
pub fn start(app: &mut App) -> Vec<Command> {
    let mut commands = Vec::new();
    for endpoint in app.endpoints.settings.watched.clone() {
        match EndpointTarget::from_config(&endpoint) {
            Ok(target) => {
                app.endpoints.watched.insert(
                    target.id.clone(),
                    Watched { url: target.base_url.clone(), origin: Origin::Config },
                );
                commands.push(command(EndpointCommand::Watch(target)));
            }
            Err(err) => {
                let file = app.endpoints.settings.config_file.display().to_string();
                app.notify(
                    Level::Warning,
                    format!("{file}: endpoint `{}` not watched: {err}", endpoint.name),
                );
            }
        }
    }
    app.invalidate(crate::tui::joins::Stale::Endpoints);
    commands
}

/// What a row of the Endpoints view offers: the endpoint panes, then the deployment actions.
pub const ROW_ACTIONS: &[Action] = &[
    Action::Open,
    Action::Prompt,
    Action::Bench,
    Action::Cancel,
    Action::Create,
    Action::Scale,
    Action::ScaleUp,
    Action::ScaleDown,
    Action::Delete,
    Action::Restart,
    Action::Logs,
    Action::ShowConfig,
];

pub fn on_event(app: &mut App, event: EndpointEvent) -> Vec<Command> {
    // A stream or benchmark pane shows its progress at once; another view on screen draws
    // nothing new (a message sets `dirty` itself). Polls wait for the tick (`on_tick`).
    if !matches!(event, EndpointEvent::Update(_)) && app.view == ViewId::Endpoints {
        app.mark_dirty();
    }
    match event {
        EndpointEvent::Update(update) => {
            // Updates of an endpoint unwatched a moment ago are late, not news.
            if !app.endpoints.watched.contains_key(&update.id) {
                return Vec::new();
            }
            let at = update.sample.as_ref().map_or(app.now.unix_ms, |s| s.at_unix_ms);
            app.endpoints.now_unix_ms = app.endpoints.now_unix_ms.max(at);
            app.endpoints.histories.apply(update);
            app.endpoints.rows_stale = true;
        }
        EndpointEvent::Stream { run, event } => {
            if let Pane::Playground(playground) = &mut app.endpoints.pane {
                playground.apply(run, event);
            }
        }
        EndpointEvent::BenchProgress { run, progress } => bench_runs::progress(app, run, progress),
        EndpointEvent::BenchDone { run, result } => bench_runs::finished(app, run, result),
    }
    Vec::new()
}

/// `:add` and `:rm`.
pub fn on_typed(app: &mut App, typed: Typed) -> Vec<Command> {
    match typed {
        Typed::Add { name, url } => {
            let target = match EndpointTarget::parse(&url) {
                Ok(target) => target,
                Err(err) => {
                    app.notify(Level::Error, format!(":add: {err}"));
                    return Vec::new();
                }
            };
            let target = EndpointTarget { id: name.unwrap_or(target.id), ..target };
            if let Some(existing) = app.endpoints.watched.get(&target.id) {
                app.notify(
                    Level::Error,
                    format!(
                        ":add: `{}` is already watched ({}); :rm it first",
                        target.id, existing.url
                    ),
                );
                return Vec::new();
            }
            app.endpoints.watched.insert(
                target.id.clone(),
                Watched { url: target.base_url.clone(), origin: Origin::Added },
            );
            app.notify(Level::Info, format!("watching {} ({})", target.id, target.base_url));
            app.view = ViewId::Endpoints;
            app.invalidate(crate::tui::joins::Stale::Endpoints);
            vec![command(EndpointCommand::Watch(target))]
        }
        Typed::Remove(name) => {
            let deployment = app.deploy.all().find(|d| d.name == name).map(|d| d.name.clone());
            let of_a_deployment = app
                .endpoints
                .watched
                .get(&name)
                .is_some_and(|watched| watched.origin == Origin::Deployment);
            if deployment.is_some() || of_a_deployment {
                let shown = deployment.unwrap_or_else(|| name.clone());
                app.notify(
                    Level::Error,
                    format!(
                        ":rm: `{shown}` is a deployment's endpoint: it is watched while the \
                         deployment runs; to stop it, delete the deployment (`d` on its row)"
                    ),
                );
                return Vec::new();
            }
            if app.endpoints.watched.remove(&name).is_none() {
                let known = app.endpoints.removable_names().join(", ");
                app.notify(
                    Level::Error,
                    format!(
                        ":rm: no watched endpoint `{name}` (watched: {})",
                        if known.is_empty() { "none" } else { &known }
                    ),
                );
                return Vec::new();
            }
            app.endpoints.histories.remove(&name);
            app.endpoints.pane = Pane::Table;
            app.notify(Level::Info, format!("stopped watching {name}"));
            app.invalidate(crate::tui::joins::Stale::Endpoints);
            vec![command(EndpointCommand::Unwatch(name))]
        }
    }
}

/// Whether the Endpoints view's open pane takes the keys (instead of the table).
pub fn captures_keys(app: &App) -> bool {
    app.view == ViewId::Endpoints && app.endpoints.pane_open()
}

/// Enter, `p` and `b` on a row of the table.
pub fn on_row_action(app: &mut App, action: Action) -> Vec<Command> {
    let Some(id) = app.view_state(ViewId::Endpoints).table.selected().map(|row| row.id.clone())
    else {
        app.notify(Level::Info, format!("{}: select an endpoint first", action.name()));
        return Vec::new();
    };
    open(app, action, &id)
}

fn open(app: &mut App, action: Action, id: &str) -> Vec<Command> {
    let url = app.endpoints.watched.get(id).map(|w| w.url.clone()).unwrap_or_default();
    let model = app.endpoints.histories.get(id).and_then(|h| h.models.first().cloned());
    match action {
        Action::Open => app.endpoints.pane = Pane::Detail,
        Action::Prompt => match model {
            Some(model) => app.endpoints.pane = Pane::Playground(Box::new(Playground::new(id, &url, &model))),
            None => app.notify(Level::Warning, format!("prompt: {id} has not told its model yet (GET /v1/models); try again when it is ready")),
        },
        Action::Bench => bench_runs::open_form(app, id),
        _ => {}
    }
    Vec::new()
}

/// Keys while a pane is open.
pub fn on_key(app: &mut App, key: KeyEvent) -> Vec<Command> {
    match std::mem::take(&mut app.endpoints.pane) {
        Pane::Table => Vec::new(),
        Pane::Detail => {
            app.endpoints.pane = Pane::Detail;
            let Some(action) = app.keymap.action_for(&key) else { return Vec::new() };
            match action {
                Action::Back => app.endpoints.pane = Pane::Table,
                Action::Quit => app.should_quit = true,
                Action::Help => app.mode = Mode::Help { scroll: 0 },
                Action::CommandMode => {
                    app.mode = Mode::Command { input: TextInput::default(), candidates: Vec::new() }
                }
                Action::Down => app.view_state_mut(ViewId::Endpoints).table.move_by(1),
                Action::Up => app.view_state_mut(ViewId::Endpoints).table.move_by(-1),
                Action::Top => app.view_state_mut(ViewId::Endpoints).table.select_first(),
                Action::Bottom => app.view_state_mut(ViewId::Endpoints).table.select_last(),
                Action::NextView => app.view = app.view.next(),
                Action::PrevView => app.view = app.view.prev(),
                Action::ViewGpus => app.view = ViewId::Gpus,
                Action::ViewCache => app.view = ViewId::Cache,
                Action::ViewRecipes => app.view = ViewId::Recipes,
                Action::Prompt | Action::Bench => return on_row_action(app, action),
                Action::Cancel => return bench_runs::stop(app),
                _ => {}
            }
            Vec::new()
        }
        Pane::Playground(mut pane) => match pane.handle_key(key) {
            playground::KeyOutcome::Nothing => {
                app.endpoints.pane = Pane::Playground(pane);
                Vec::new()
            }
            playground::KeyOutcome::Close => Vec::new(),
            playground::KeyOutcome::Cancel(run) => {
                app.endpoints.pane = Pane::Playground(pane);
                vec![Command::Cancel(run)]
            }
            playground::KeyOutcome::Send => {
                let run = app.new_run();
                pane.started(run);
                let prompt = pane.prompt_text();
                let request = EndpointCommand::Prompt {
                    run,
                    base_url: pane.base_url.clone(),
                    model: pane.model.clone(),
                    prompt,
                };
                app.endpoints.pane = Pane::Playground(pane);
                vec![command(request)]
            }
        },
        Pane::Bench(mut pane) => match pane.handle_key(key) {
            bench_view::KeyOutcome::Nothing => {
                app.endpoints.pane = Pane::Bench(pane);
                Vec::new()
            }
            bench_view::KeyOutcome::Close => Vec::new(),
            bench_view::KeyOutcome::Start(ask) => bench_runs::start(app, &pane, ask),
        },
    }
}

#[cfg(test)]
mod tests;
