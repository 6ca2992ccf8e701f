//! The cache domain's `update`: its task results (scan, pull progress, pull, delete) and its
//! actions (pull, cancel, delete with the in-use question, recipes for a model, rescan).

use std::sync::Arc;

use crate::cache::DeletePlan;
use crate::cache::pull::{PullProgress, PullSummary};
use crate::model::cache::{CacheReport, CachedRepo};
use crate::tui::ctx::{Ctx, ShellCommand, invalidate, notify, open, redraw};
use crate::tui::event::Command;
use crate::tui::features::cache::{CacheState, confirm_delete, confirm_delete_in_use, pull_form};
use crate::tui::joins::Stale;
use crate::tui::messages::Level;
use crate::tui::mode::{ConfirmPurpose, FormPurpose, Mode};
use crate::tui::views::ViewId;
use crate::tui::widgets::Form;

/// What the cache domain is told.
#[derive(Debug)]
pub enum CacheMsg {
    /// The console starts, or Ctrl-R in the Cache view: (re)scan the cache.
    Scan,
    /// The clock moved: "last used" is measured against the tick's time.
    Tick,
    Scanned(Result<Arc<CacheReport>, String>),
    PullProgress(PullProgress),
    PullDone(Result<PullSummary, String>),
    Deleted {
        repo: String,
        result: Result<u64, String>,
    },
    /// `d` on the selected repo.
    AskDelete,
    /// A delete dialog was confirmed (`in_use_checked` once the in-use question was answered).
    DeleteConfirmed {
        plan: Box<DeletePlan>,
        in_use_checked: bool,
    },
    /// `P`: the pull form.
    OpenPullForm,
    /// The pull form was submitted.
    PullSubmitted(Form),
    /// `x`: cancel the running pull.
    CancelPull,
    /// `r`: the Recipes view, filtered to the selected model.
    RecipesFor,
}

pub fn update(state: &mut CacheState, msg: CacheMsg, ctx: &Ctx) -> Vec<Command> {
    match msg {
        CacheMsg::Scan => {
            state.scanning = true;
            vec![Command::ScanCache { root: state.root.clone() }]
        }
        CacheMsg::Tick => {
            state.now_unix_ms = ctx.now.unix_ms;
            Vec::new()
        }
        CacheMsg::Scanned(result) => scanned(state, result),
        CacheMsg::PullProgress(progress) => {
            state.pull = Some(progress);
            vec![redraw()]
        }
        CacheMsg::PullDone(result) => {
            state.pull_run = None;
            vec![match result {
                Ok(summary) => notify(
                    Level::Info,
                    format!(
                        "pulled {}@{} ({} files) into {}",
                        summary.repo_id,
                        summary.revision,
                        summary.files,
                        summary.snapshot_path.display()
                    ),
                ),
                Err(err) => notify(Level::Error, format!("pull: {err}")),
            }]
        }
        CacheMsg::Deleted { repo, result } => vec![match result {
            Ok(freed) => notify(
                Level::Info,
                format!("deleted {repo}: freed {}", crate::tui::widgets::units::bytes(freed)),
            ),
            Err(err) => notify(Level::Error, format!("delete {repo}: {err}")),
        }],
        CacheMsg::AskDelete => ask_delete(state, ctx),
        CacheMsg::DeleteConfirmed { plan, in_use_checked } => {
            delete_confirmed(state, plan, in_use_checked)
        }
        CacheMsg::OpenPullForm => {
            if state.pulling() {
                vec![notify(Level::Info, "pull: one is running (x cancels it)")]
            } else {
                let selected = selected_repo(state, ctx).filter(|_| ctx.view == ViewId::Cache);
                vec![open(Mode::Form(pull_form(selected), FormPurpose::Pull))]
            }
        }
        CacheMsg::PullSubmitted(form) => {
            let repo = form.value("repo").unwrap_or_default().trim().to_string();
            let revision = form.value("revision").unwrap_or_default().trim().to_string();
            let run = ctx.new_run();
            state.pull_run = Some(run);
            state.pull = None;
            vec![
                notify(Level::Info, format!("pulling {repo}@{revision}…")),
                Command::Pull { repo, revision, root: state.root.clone(), run },
            ]
        }
        CacheMsg::CancelPull => match state.pull_run.take() {
            Some(run) => {
                vec![notify(Level::Info, "pull cancelled; P resumes it"), Command::Cancel(run)]
            }
            None => vec![notify(Level::Info, "cancel: nothing is running")],
        },
        CacheMsg::RecipesFor => match selected_repo(state, ctx) {
            Some(repo) => {
                let text = repo.repo_id.rsplit('/').next().unwrap_or(&repo.repo_id).to_string();
                vec![
                    Command::Shell(ShellCommand::Show(ViewId::Recipes)),
                    Command::Shell(ShellCommand::Filter { view: ViewId::Recipes, text }),
                ]
            }
            None => Vec::new(),
        },
    }
}

fn scanned(state: &mut CacheState, result: Result<Arc<CacheReport>, String>) -> Vec<Command> {
    state.scanning = false;
    let mut commands = Vec::new();
    match result {
        Ok(report) => {
            if state.report.as_ref().map(|r| &r.warnings) != Some(&report.warnings) {
                for warning in report.warnings.iter().take(3) {
                    commands.push(notify(Level::Warning, format!("cache: {warning}")));
                }
            }
            state.error = None;
            state.report = Some(report);
        }
        Err(err) => {
            commands.push(notify(Level::Error, format!("cache: {err}")));
            state.error = Some(err);
        }
    }
    commands.push(invalidate(Stale::All));
    commands
}

/// The repo under the cursor in the Cache view.
pub fn selected_repo<'a>(state: &'a CacheState, ctx: &Ctx) -> Option<&'a CachedRepo> {
    state.repo(ctx.selected(ViewId::Cache)?)
}

fn ask_delete(state: &CacheState, ctx: &Ctx) -> Vec<Command> {
    let Some(repo) = selected_repo(state, ctx) else {
        return vec![notify(Level::Info, "delete: select a repo first")];
    };
    let Some(report) = &state.report else { return Vec::new() };
    match crate::cache::plan_delete(report, repo.repo_type, &repo.repo_id, &[], &state.holds) {
        Ok(plan) => vec![open(Mode::Confirm(
            confirm_delete(&plan),
            ConfirmPurpose::DeleteCache { plan: Box::new(plan), in_use_checked: false },
        ))],
        Err(err) => vec![notify(Level::Error, format!("delete: {err}"))],
    }
}

/// A confirmed cache delete: a second question first when a deployment serves the model.
fn delete_confirmed(
    state: &CacheState,
    plan: Box<DeletePlan>,
    in_use_checked: bool,
) -> Vec<Command> {
    if !plan.held_by.is_empty() && !in_use_checked {
        return vec![open(Mode::Confirm(
            confirm_delete_in_use(&plan),
            ConfirmPurpose::DeleteCache { plan, in_use_checked: true },
        ))];
    }
    vec![
        notify(Level::Info, format!("deleting {}…", plan.repo_id)),
        Command::DeleteFromCache { plan, root: state.root.clone() },
    ]
}
