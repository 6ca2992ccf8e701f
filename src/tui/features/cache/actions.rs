//! The console's Hugging Face cache actions (pull, cancel, delete, recipes for a model) and how
//! cache task results change its state. Kept apart from `app.rs` like `deploy_actions.rs`.

use std::sync::Arc;

use crate::cache::pull::PullSummary;
use crate::model::cache::CacheReport;
use crate::tui::app::{App, ConfirmPurpose, FormPurpose, Level, Mode};
use crate::tui::event::Command;
use crate::tui::features::cache as cache_view;
use crate::tui::views::ViewId;
use crate::tui::widgets::Form;

impl App {
    pub(crate) fn on_cache_scanned(&mut self, result: Result<Arc<CacheReport>, String>) {
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
        self.invalidate(crate::tui::joins::Stale::All);
    }

    pub(crate) fn on_pull_done(&mut self, result: Result<PullSummary, String>) {
        self.cache.pull_run = None;
        match result {
            Ok(summary) => self.notify(
                Level::Info,
                format!(
                    "pulled {}@{} ({} files) into {}",
                    summary.repo_id,
                    summary.revision,
                    summary.files,
                    summary.snapshot_path.display()
                ),
            ),
            Err(err) => self.notify(Level::Error, format!("pull: {err}")),
        }
    }

    pub(crate) fn on_cache_deleted(&mut self, repo: &str, result: Result<u64, String>) {
        match result {
            Ok(freed) => self.notify(
                Level::Info,
                format!("deleted {repo}: freed {}", crate::tui::widgets::units::bytes(freed)),
            ),
            Err(err) => self.notify(Level::Error, format!("delete {repo}: {err}")),
        }
    }

    /// The repo under the cursor in the Cache view.
    pub fn selected_cached_repo(&self) -> Option<&crate::model::cache::CachedRepo> {
        let id = &self.view_state(ViewId::Cache).table.selected()?.id;
        self.cache.repo(id)
    }

    pub(crate) fn ask_delete_cached(&mut self) -> Vec<Command> {
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

    /// A confirmed cache delete: a second question first when a deployment serves the model.
    pub(crate) fn delete_cache_confirmed(
        &mut self,
        plan: Box<crate::cache::DeletePlan>,
        in_use_checked: bool,
    ) -> Vec<Command> {
        if !plan.held_by.is_empty() && !in_use_checked {
            self.mode = Mode::Confirm(
                cache_view::confirm_delete_in_use(&plan),
                ConfirmPurpose::DeleteCache { plan, in_use_checked: true },
            );
            return Vec::new();
        }
        self.notify(Level::Info, format!("deleting {}…", plan.repo_id));
        vec![Command::DeleteFromCache { plan, root: self.cache.root.clone() }]
    }

    /// `P`: the pull form, unless a pull is running (one at a time).
    pub(crate) fn open_pull_form(&mut self) {
        if self.cache.pulling() {
            self.notify(Level::Info, "pull: one is running (x cancels it)");
        } else {
            self.mode = Mode::Form(
                cache_view::pull_form(
                    self.selected_cached_repo().filter(|_| self.view == ViewId::Cache),
                ),
                FormPurpose::Pull,
            );
        }
    }

    pub(crate) fn cancel_pull(&mut self) -> Vec<Command> {
        match self.cache.pull_run.take() {
            Some(run) => {
                self.notify(Level::Info, "pull cancelled; P resumes it");
                vec![Command::Cancel(run)]
            }
            None => {
                self.notify(Level::Info, "cancel: nothing is running");
                Vec::new()
            }
        }
    }

    pub(crate) fn pull_submitted(&mut self, form: &Form) -> Vec<Command> {
        let repo = form.value("repo").unwrap_or_default().trim().to_string();
        let revision = form.value("revision").unwrap_or_default().trim().to_string();
        let run = self.new_run();
        self.cache.pull_run = Some(run);
        self.cache.pull = None;
        self.notify(Level::Info, format!("pulling {repo}@{revision}…"));
        vec![Command::Pull { repo, revision, root: self.cache.root.clone(), run }]
    }

    /// The Recipes view, filtered to the selected cached model.
    pub(crate) fn show_recipes_for_cached(&mut self) {
        if let Some(repo) = self.selected_cached_repo() {
            let filter = repo.repo_id.rsplit('/').next().unwrap_or(&repo.repo_id).to_string();
            self.view = ViewId::Recipes;
            self.current_mut().table.set_filter(&filter);
        }
    }
}
