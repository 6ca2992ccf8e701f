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
use crate::tui::ctx::{Ctx, Turn};
use crate::tui::event::{Command, RunId};
use crate::tui::features::endpoints::bench::{self as bench_view, BenchAsk};
use crate::tui::features::endpoints::playground::Playground;
use crate::tui::features::endpoints::view::EndpointsState;
use crate::tui::features::endpoints::view::{Origin, Pane, Watched};
use crate::tui::joins::Stale;
use crate::tui::keymap::Action;
use crate::tui::messages::Level;
use crate::tui::views::ViewId;

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

/// What the endpoints domain is told. Like `Event`, each is moved once to `update`: boxing
/// the poll update (the largest) would cost an allocation per poll for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum EndpointMsg {
    /// The console starts: the config file's endpoints are watched.
    Start,
    /// The monitor, a prompt stream or a benchmark answered.
    Event(EndpointEvent),
    /// `:add URL` or `:rm NAME`.
    Typed(Typed),
    /// Enter, `p` or `b` on a row of the table.
    RowAction(Action),
    /// `x` in the Endpoints view: stop the running benchmark.
    StopBench,
    /// A key while a pane is open (`captures_keys`).
    Key(KeyEvent),
}

pub fn update(state: &mut EndpointsState, msg: EndpointMsg, ctx: &Ctx) -> Vec<Command> {
    let mut turn = Turn::new(state, ctx);
    let commands = match msg {
        EndpointMsg::Start => start(&mut turn),
        EndpointMsg::Event(event) => on_event(&mut turn, event),
        EndpointMsg::Typed(typed) => on_typed(&mut turn, typed),
        EndpointMsg::RowAction(action) => on_row_action(&mut turn, action),
        EndpointMsg::StopBench => bench_runs::stop(&mut turn),
        EndpointMsg::Key(key) => on_key(&mut turn, key),
    };
    turn.finish(commands)
}

fn command(c: EndpointCommand) -> Command {
    Command::Endpoints(c)
}

/// The config file's endpoints, watched from the start. Bad URLs are reported, not watched.
fn start(turn: &mut Turn<'_, EndpointsState>) -> Vec<Command> {
    let mut commands = Vec::new();
    for endpoint in turn.state.settings.watched.clone() {
        match EndpointTarget::from_config(&endpoint) {
            Ok(target) => {
                turn.state.watched.insert(
                    target.id.clone(),
                    Watched { url: target.base_url.clone(), origin: Origin::Config },
                );
                commands.push(command(EndpointCommand::Watch(target)));
            }
            Err(err) => {
                let file = turn.state.settings.config_file.display().to_string();
                turn.notify(
                    Level::Warning,
                    format!("{file}: endpoint `{}` not watched: {err}", endpoint.name),
                );
            }
        }
    }
    turn.invalidate(Stale::Endpoints);
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

fn on_event(turn: &mut Turn<'_, EndpointsState>, event: EndpointEvent) -> Vec<Command> {
    // A stream or benchmark pane shows its progress at once; another view on screen draws
    // nothing new (a message sets `dirty` itself). Polls wait for the tick (`on_tick`).
    if !matches!(event, EndpointEvent::Update(_)) && turn.ctx.view == ViewId::Endpoints {
        turn.redraw();
    }
    match event {
        EndpointEvent::Update(update) => {
            // Updates of an endpoint unwatched a moment ago are late, not news.
            if !turn.state.watched.contains_key(&update.id) {
                return Vec::new();
            }
            let at = update.sample.as_ref().map_or(turn.ctx.now.unix_ms, |s| s.at_unix_ms);
            turn.state.now_unix_ms = turn.state.now_unix_ms.max(at);
            turn.state.histories.apply(update);
            turn.state.rows_stale = true;
        }
        EndpointEvent::Stream { run, event } => {
            if let Pane::Playground(playground) = &mut turn.state.pane {
                playground.apply(run, event);
            }
        }
        EndpointEvent::BenchProgress { run, progress } => bench_runs::progress(turn, run, progress),
        EndpointEvent::BenchDone { run, result } => bench_runs::finished(turn, run, result),
    }
    Vec::new()
}

/// `:add` and `:rm`.
fn on_typed(turn: &mut Turn<'_, EndpointsState>, typed: Typed) -> Vec<Command> {
    match typed {
        Typed::Add { name, url } => {
            let target = match EndpointTarget::parse(&url) {
                Ok(target) => target,
                Err(err) => {
                    turn.notify(Level::Error, format!(":add: {err}"));
                    return Vec::new();
                }
            };
            let target = EndpointTarget { id: name.unwrap_or(target.id), ..target };
            if let Some(existing) = turn.state.watched.get(&target.id) {
                turn.notify(
                    Level::Error,
                    format!(
                        ":add: `{}` is already watched ({}); :rm it first",
                        target.id, existing.url
                    ),
                );
                return Vec::new();
            }
            turn.state.watched.insert(
                target.id.clone(),
                Watched { url: target.base_url.clone(), origin: Origin::Added },
            );
            turn.notify(Level::Info, format!("watching {} ({})", target.id, target.base_url));
            turn.show(ViewId::Endpoints);
            turn.invalidate(Stale::Endpoints);
            vec![command(EndpointCommand::Watch(target))]
        }
        Typed::Remove(name) => {
            let deployment = turn.ctx.deploy.all().find(|d| d.name == name).map(|d| d.name.clone());
            let of_a_deployment = turn
                .state
                .watched
                .get(&name)
                .is_some_and(|watched| watched.origin == Origin::Deployment);
            if deployment.is_some() || of_a_deployment {
                let shown = deployment.unwrap_or_else(|| name.clone());
                turn.notify(
                    Level::Error,
                    format!(
                        ":rm: `{shown}` is a deployment's endpoint: it is watched while the \
                         deployment runs; to stop it, delete the deployment (`d` on its row)"
                    ),
                );
                return Vec::new();
            }
            if turn.state.watched.remove(&name).is_none() {
                let known = turn.state.removable_names().join(", ");
                turn.notify(
                    Level::Error,
                    format!(
                        ":rm: no watched endpoint `{name}` (watched: {})",
                        if known.is_empty() { "none" } else { &known }
                    ),
                );
                return Vec::new();
            }
            turn.state.histories.remove(&name);
            turn.state.pane = Pane::Table;
            turn.notify(Level::Info, format!("stopped watching {name}"));
            turn.invalidate(Stale::Endpoints);
            vec![command(EndpointCommand::Unwatch(name))]
        }
    }
}

/// Whether the Endpoints view's open pane takes the keys (instead of the table).
pub fn captures_keys(state: &EndpointsState, view: ViewId) -> bool {
    view == ViewId::Endpoints && state.pane_open()
}

/// Enter, `p` and `b` on a row of the table.
fn on_row_action(turn: &mut Turn<'_, EndpointsState>, action: Action) -> Vec<Command> {
    let Some(id) = turn.ctx.selected(ViewId::Endpoints).map(str::to_string) else {
        turn.notify(Level::Info, format!("{}: select an endpoint first", action.name()));
        return Vec::new();
    };
    open(turn, action, &id)
}

fn open(turn: &mut Turn<'_, EndpointsState>, action: Action, id: &str) -> Vec<Command> {
    let url = turn.state.watched.get(id).map(|w| w.url.clone()).unwrap_or_default();
    let model = turn.state.histories.get(id).and_then(|h| h.models.first().cloned());
    match action {
        Action::Open => turn.state.pane = Pane::Detail,
        Action::Prompt => match model {
            Some(model) => turn.state.pane = Pane::Playground(Box::new(Playground::new(id, &url, &model))),
            None => turn.notify(Level::Warning, format!("prompt: {id} has not told its model yet (GET /v1/models); try again when it is ready")),
        },
        Action::Bench => bench_runs::open_form(turn, id),
        _ => {}
    }
    Vec::new()
}

/// Keys while a pane is open.
fn on_key(turn: &mut Turn<'_, EndpointsState>, key: KeyEvent) -> Vec<Command> {
    match std::mem::take(&mut turn.state.pane) {
        Pane::Table => Vec::new(),
        Pane::Detail => {
            turn.state.pane = Pane::Detail;
            let Some(action) = turn.ctx.keymap.action_for(&key) else { return Vec::new() };
            match action {
                Action::Back => turn.state.pane = Pane::Table,
                // The table under the pane, the views, help and the command line: the shell's.
                Action::Quit
                | Action::Help
                | Action::CommandMode
                | Action::Down
                | Action::Up
                | Action::Top
                | Action::Bottom
                | Action::NextView
                | Action::PrevView
                | Action::ViewGpus
                | Action::ViewCache
                | Action::ViewRecipes => turn.perform(action),
                Action::Prompt | Action::Bench => return on_row_action(turn, action),
                Action::Cancel => return bench_runs::stop(turn),
                _ => {}
            }
            Vec::new()
        }
        Pane::Playground(mut pane) => match pane.handle_key(key) {
            playground::KeyOutcome::Nothing => {
                turn.state.pane = Pane::Playground(pane);
                Vec::new()
            }
            playground::KeyOutcome::Close => Vec::new(),
            playground::KeyOutcome::Cancel(run) => {
                turn.state.pane = Pane::Playground(pane);
                vec![Command::Cancel(run)]
            }
            playground::KeyOutcome::Send => {
                let run = turn.ctx.new_run();
                pane.started(run);
                let prompt = pane.prompt_text();
                let request = EndpointCommand::Prompt {
                    run,
                    base_url: pane.base_url.clone(),
                    model: pane.model.clone(),
                    prompt,
                };
                turn.state.pane = Pane::Playground(pane);
                vec![command(request)]
            }
        },
        Pane::Bench(mut pane) => match pane.handle_key(key) {
            bench_view::KeyOutcome::Nothing => {
                turn.state.pane = Pane::Bench(pane);
                Vec::new()
            }
            bench_view::KeyOutcome::Close => Vec::new(),
            bench_view::KeyOutcome::Start(ask) => bench_runs::start(turn, &pane, ask),
        },
    }
}

#[cfg(test)]
mod tests;
