//! The deploy domain's `update`: what the shell tells it (backend answers, row actions,
//! confirmed dialogs, submitted forms, the create review, the recipe picker, keys in the logs
//! overlay), handled by the `Turn<DeployState>` methods in `events.rs`, `create_form.rs` and
//! `guard.rs`.

use crossterm::event::{KeyCode, KeyEvent};

use crate::model::DeploymentSpec;
use crate::tui::ctx::{Ctx, Turn};
use crate::tui::event::Command;
use crate::tui::features::deploy::rollout::Rollout;
use crate::tui::features::deploy::{DeployEvent, DeployState};
use crate::tui::joins::Stale;
use crate::tui::joins::deployment_rows::deployment_part;
use crate::tui::keymap::Action;
use crate::tui::mode::Mode;
use crate::tui::views::ViewId;
use crate::tui::widgets::Form;

/// What the deploy domain is told.
#[derive(Debug)]
pub enum DeployMsg {
    /// A backend answered (listing, progress, a finished action, logs, render, journal).
    Event(DeployEvent),
    /// A deployment action on the selected row (`is_deploy_action` says which are).
    RowAction(Action),
    /// Esc on the row of this deployment, whose rollout failed (`selected_failure`): the
    /// failure has been read.
    DismissFailure(String),
    /// The typed delete was confirmed.
    DeleteConfirmed { backend: String, name: String },
    /// The scale to zero was confirmed.
    ScaleToZeroConfirmed { backend: String, name: String },
    /// The create form was submitted.
    CreateSubmitted(Form),
    /// The scale form was submitted with this replica count.
    ScaleSubmitted { backend: String, name: String, value: String },
    /// `y` or Enter in the create review.
    Reviewed { backend: String, spec: Box<DeploymentSpec> },
    /// The create's recipe picker chose (a recipe id or `NO_RECIPE`).
    RecipePicked(String),
    /// A key while the logs overlay is open.
    LogsKey(KeyEvent),
}

pub fn update(state: &mut DeployState, msg: DeployMsg, ctx: &Ctx) -> Vec<Command> {
    let mut turn = Turn::new(state, ctx);
    let commands = match msg {
        DeployMsg::Event(event) => turn.on_deploy_event(event),
        DeployMsg::RowAction(action) => turn.deploy_action(action),
        DeployMsg::DismissFailure(name) => {
            turn.state.rollouts.remove(&name);
            turn.invalidate(Stale::Endpoints);
            Vec::new()
        }
        DeployMsg::DeleteConfirmed { backend, name } => turn.delete_deployment(backend, name),
        DeployMsg::ScaleToZeroConfirmed { backend, name } => {
            turn.scale_to_zero_confirmed(backend, name)
        }
        DeployMsg::CreateSubmitted(form) => refused_or(&mut turn, |t| t.create_submitted(&form)),
        DeployMsg::ScaleSubmitted { backend, name, value } => {
            refused_or(&mut turn, |t| t.scale_submitted(backend, name, &value))
        }
        DeployMsg::Reviewed { backend, spec } => turn.create_reviewed(backend, spec),
        DeployMsg::RecipePicked(value) => turn.recipe_picked(value),
        DeployMsg::LogsKey(key) => turn.on_logs_key(key),
    };
    turn.finish(commands)
}

/// A submit's commands, or its refusal for the shell (the form stays open with the cause).
fn refused_or(
    turn: &mut Turn<'_, DeployState>,
    submit: impl FnOnce(&mut Turn<'_, DeployState>) -> Result<Vec<Command>, String>,
) -> Vec<Command> {
    submit(turn).unwrap_or_else(|cause| {
        turn.refuse_form(cause);
        Vec::new()
    })
}

/// Whether `action` in `view` is the deploy domain's: create (in the Endpoints and Recipes
/// views) and the actions on a deployment's row in the Endpoints view.
pub fn is_deploy_action(action: Action, view: ViewId) -> bool {
    match action {
        Action::Create => matches!(view, ViewId::Endpoints | ViewId::Recipes),
        Action::Scale
        | Action::ScaleUp
        | Action::ScaleDown
        | Action::Delete
        | Action::Restart
        | Action::Logs
        | Action::ShowConfig => view == ViewId::Endpoints,
        _ => false,
    }
}

/// The deployment under the cursor in the Endpoints view, when its rollout failed.
pub fn selected_failure(state: &DeployState, ctx: &Ctx) -> Option<String> {
    if ctx.view != ViewId::Endpoints {
        return None;
    }
    let name = deployment_part(ctx.selected(ViewId::Endpoints)?)?;
    state.rollouts.get(name).is_some_and(Rollout::failed).then(|| name.to_string())
}

impl Turn<'_, DeployState> {
    /// Keys in the logs view: scroll, `G` follows, `/` searches, `n`/`N` jump, `w` wraps; Esc
    /// closes it and stops its stream.
    fn on_logs_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let action = self.ctx.keymap.action_for(&key);
        let Some(logs) = self.state.logs.as_mut() else { return Vec::new() };
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
                    let run = logs.run;
                    self.state.logs = None;
                    return vec![Command::Cancel(run)];
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
        self.open(Mode::Logs);
        Vec::new()
    }
}
