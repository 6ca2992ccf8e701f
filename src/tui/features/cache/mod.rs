//! The Cache view: the Hugging Face cache as `hf cache ls` sees it (repos, size on disk,
//! revisions, last use, interrupted downloads, the deployment holding each model), a detail
//! pane with revisions and the largest files, a pull with live progress, and safe deletes.

mod actions;

pub use actions::{CacheMsg, selected_repo, update};

use std::path::PathBuf;
use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use crate::cache::pull::{PullPhase, PullProgress};
use crate::cache::{DeletePlan, ModelHold, pyfmt::format_timesince};
use crate::model::cache::{CacheReport, CachedRepo, RepoType};
use crate::tui::theme::Theme;
use crate::tui::widgets::form::FormField;
use crate::tui::widgets::units;
use crate::tui::widgets::{Column, ConfirmDialog, Cut, Form, SortKey, TableCell, TableRow, gauge};

#[derive(Debug, Clone, Default)]
pub struct CacheState {
    /// The cache root (`--cache-dir`, config, `HF_HUB_CACHE`, `HF_HOME`, `~/.cache/...`).
    pub root: PathBuf,
    pub report: Option<Arc<CacheReport>>,
    /// Why the last scan failed, if it did.
    pub error: Option<String>,
    pub scanning: bool,
    /// The latest progress of the running (or last) pull.
    pub pull: Option<PullProgress>,
    pub pull_run: Option<crate::tui::event::RunId>,
    /// Models running deployments serve: deleting one asks twice.
    pub holds: Vec<ModelHold>,
    /// The time "last used" is measured against (the last tick's), in ms since the epoch.
    pub now_unix_ms: i64,
}

impl CacheState {
    pub fn pulling(&self) -> bool {
        self.pull_run.is_some()
    }

    pub fn repo(&self, row_id: &str) -> Option<&CachedRepo> {
        self.report.as_ref()?.repos.iter().find(|repo| row_key(repo) == row_id)
    }

    fn holders(&self, repo_id: &str) -> Vec<&str> {
        self.holds.iter().filter(|h| h.model == repo_id).map(|h| h.deployment.as_str()).collect()
    }
}

/// Rows are keyed by type and id: a model and a dataset may share a name.
pub fn row_key(repo: &CachedRepo) -> String {
    format!("{}:{}", repo.repo_type.as_str(), repo.repo_id)
}

/// Fixed columns fit 80 columns with 20 left for the repo id, so "LAST USED" ("3 weeks ago",
/// "11 months ago") is never cut.
pub fn columns() -> Vec<Column> {
    vec![
        Column::new("REPO", Constraint::Min(20)).cut(Cut::Model),
        Column::new("TYPE", Constraint::Length(7)),
        Column::new("SIZE", Constraint::Length(8)),
        Column::new("REVS", Constraint::Length(4)),
        Column::new("LAST USED", Constraint::Length(14)),
        Column::new("PARTIAL", Constraint::Length(7)),
        Column::new("HELD BY", Constraint::Length(10)),
    ]
}

pub fn rows(state: &CacheState, theme: &Theme) -> Vec<TableRow> {
    let Some(report) = &state.report else { return Vec::new() };
    let now = state.now_unix_ms as f64 / 1000.0;
    report
        .repos
        .iter()
        .map(|repo| {
            let holders = state.holders(&repo.repo_id).join(",");
            TableRow {
                id: row_key(repo),
                cells: vec![
                    TableCell::text(repo.repo_id.clone()),
                    TableCell::text(repo.repo_type.as_str()),
                    TableCell::number(
                        Some(repo.size_on_disk as f64),
                        units::bytes(repo.size_on_disk),
                    ),
                    TableCell::number(
                        Some(repo.revisions.len() as f64),
                        repo.revisions.len().to_string(),
                    ),
                    TableCell::number(
                        Some(-repo.last_accessed),
                        format_timesince(repo.last_accessed, now),
                    ),
                    TableCell::number(
                        Some(repo.incomplete_bytes as f64),
                        if repo.incomplete_bytes > 0 {
                            Line::styled(units::bytes(repo.incomplete_bytes), theme.warning)
                        } else {
                            Line::styled("-", theme.muted)
                        },
                    ),
                    TableCell::styled(
                        Line::styled(
                            if holders.is_empty() { "-".to_string() } else { holders.clone() },
                            theme.info,
                        ),
                        SortKey::Text(holders),
                    ),
                ],
            }
        })
        .collect()
}

pub fn empty_note(state: &CacheState) -> Vec<String> {
    let root = state.root.display();
    if let Some(error) = &state.error {
        return vec![format!("Cannot read the cache at {root}"), error.clone()];
    }
    match &state.report {
        None => vec![format!("Scanning the Hugging Face cache at {root}…")],
        Some(_) => vec![
            format!("The Hugging Face cache at {root} holds no models."),
            "Press P to pull one (or `aimdeck cache pull ORG/NAME`). The root comes from --cache-dir,".into(),
            "the config's cache_dir, HF_HUB_CACHE, HF_HOME/hub or ~/.cache/huggingface/hub.".into(),
        ],
    }
}

/// Title line facts: root, total size, partial bytes, warnings.
pub fn summary(state: &CacheState) -> String {
    match &state.report {
        Some(report) => format!(
            " {} · {} on disk{}{} ",
            state.root.display(),
            units::bytes(report.size_on_disk),
            if report.incomplete_bytes > 0 {
                format!(" · {} partial", units::bytes(report.incomplete_bytes))
            } else {
                String::new()
            },
            if report.warnings.is_empty() {
                String::new()
            } else {
                format!(" · {} damaged", report.warnings.len())
            },
        ),
        None => format!(" {} ", state.root.display()),
    }
}

pub fn detail_lines(repo: &CachedRepo, state: &CacheState, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(vec![
        Span::styled(repo.repo_id.clone(), theme.accent),
        Span::styled(
            format!(
                "  {} · {} · {} files",
                repo.repo_type.as_str(),
                units::bytes(repo.size_on_disk),
                repo.nb_files
            ),
            theme.text,
        ),
    ])];
    let holders = state.holders(&repo.repo_id);
    if !holders.is_empty() {
        lines.push(Line::styled(format!("served by {}", holders.join(", ")), theme.info));
    }
    lines.push(Line::styled("Revisions", theme.accent));
    for revision in &repo.revisions {
        let refs = if revision.refs.is_empty() {
            "(detached)".to_string()
        } else {
            revision.refs.join(", ")
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!("  {} ", &revision.commit_hash[..revision.commit_hash.len().min(12)]),
                theme.info,
            ),
            Span::styled(
                format!(
                    "{:<16} {:>9} {:>5} files",
                    refs,
                    units::bytes(revision.size_on_disk),
                    revision.nb_files
                ),
                theme.text,
            ),
        ]));
    }
    let largest = repo.largest_files(5);
    if !largest.is_empty() {
        lines.push(Line::styled("Largest files", theme.accent));
        for file in largest {
            lines.push(Line::styled(
                format!("  {:>9}  {}", units::bytes(file.size_on_disk), file.relative_path),
                theme.text,
            ));
        }
    }
    if !repo.incomplete_files.is_empty() {
        let count = repo.incomplete_files.len();
        // The console pulls models only; `P` on a model with partial files offers to resume it.
        let resume = if repo.repo_type == RepoType::Model { " (P resumes them)" } else { "" };
        lines.push(Line::styled(
            format!(
                "Interrupted downloads: {count} file{}, {}{resume}",
                if count == 1 { "" } else { "s" },
                units::bytes(repo.incomplete_bytes)
            ),
            theme.warning,
        ));
    }
    lines
}

/// Rows the damaged-entries pane takes under the table: none when the scan found no damage,
/// otherwise up to `max_lines` warnings plus the borders.
pub fn warnings_height(state: &CacheState, max_lines: u16) -> u16 {
    match &state.report {
        Some(report) if !report.warnings.is_empty() => {
            (report.warnings.len() as u16).min(max_lines.max(1)) + 2
        }
        _ => 0,
    }
}

/// The damaged entries of the last scan (repos left out of the table, as `hf cache ls`
/// leaves them out), one per line, cut to the pane; what does not fit is counted.
pub fn warnings_lines(report: &CacheReport, rows: usize, theme: &Theme) -> Vec<Line<'static>> {
    let total = report.warnings.len();
    let shown = if total > rows { rows.saturating_sub(1) } else { total };
    let mut lines: Vec<Line<'static>> = report
        .warnings
        .iter()
        .take(shown)
        .map(|warning| Line::styled(warning.clone(), theme.warning))
        .collect();
    if shown < total {
        lines.push(Line::styled(
            format!("… {} more: `aimdeck cache ls` lists them all", total - shown),
            theme.muted,
        ));
    }
    lines
}

pub fn render_warnings(frame: &mut Frame, area: Rect, report: &CacheReport, theme: &Theme) {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme.border)
        .title(Span::styled(
            format!(" Damaged, not listed ({}) ", report.warnings.len()),
            theme.warning,
        ));
    let rows = block.inner(area).height as usize;
    frame.render_widget(Paragraph::new(warnings_lines(report, rows, theme)).block(block), area);
}

pub fn render_detail(
    frame: &mut Frame,
    area: Rect,
    repo: &CachedRepo,
    state: &CacheState,
    theme: &Theme,
) {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme.border)
        .title(Span::styled(" Detail ", theme.accent))
        .title_bottom(Line::styled(" P pull · d delete · R recipes ", theme.muted).right_aligned());
    frame.render_widget(Paragraph::new(detail_lines(repo, state, theme)).block(block), area);
}

fn human_seconds(seconds: f64) -> String {
    let seconds = seconds.max(0.0).round() as u64;
    if seconds >= 3600 {
        format!("{}h{:02}m", seconds / 3600, (seconds % 3600) / 60)
    } else if seconds >= 60 {
        format!("{}m{:02}s", seconds / 60, seconds % 60)
    } else {
        format!("{seconds}s")
    }
}

/// The pull pane: total bar, rate, ETA, and the files in flight.
pub fn pull_lines(progress: &PullProgress, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let phase = match progress.phase {
        PullPhase::Resolving => "resolving",
        PullPhase::Downloading => "downloading",
        PullPhase::Finished => "finished",
        PullPhase::Cancelled => "cancelled (P resumes)",
        PullPhase::Failed => "failed",
    };
    let eta = progress.eta_seconds.map(human_seconds).unwrap_or_else(|| "-".into());
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{}@{} ", progress.repo_id, progress.revision), theme.accent),
            Span::styled(
                phase.to_string(),
                if progress.phase == PullPhase::Failed { theme.error } else { theme.text },
            ),
        ]),
        Line::from(vec![
            Span::styled(
                gauge::bar_text(progress.fraction(), width.saturating_sub(44).clamp(10, 60)),
                theme.ok,
            ),
            Span::styled(
                format!(
                    " {}/{} · {}/s · ETA {} · {}/{} files",
                    units::bytes(progress.done_bytes),
                    units::bytes(progress.total_bytes),
                    units::bytes(progress.bytes_per_second as u64),
                    eta,
                    progress.files_done,
                    progress.files_total
                ),
                theme.text,
            ),
        ]),
    ];
    for file in progress.files.iter().filter(|f| f.done_bytes < f.total_bytes).take(3) {
        let fraction = if file.total_bytes == 0 {
            0.0
        } else {
            file.done_bytes as f64 / file.total_bytes as f64
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<5.0}% ", fraction * 100.0), theme.muted),
            Span::styled(file.path.clone(), theme.text),
        ]));
    }
    lines
}

pub fn render_pull(frame: &mut Frame, area: Rect, progress: &PullProgress, theme: &Theme) {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme.border_focused)
        .title(Span::styled(" Pull ", theme.accent))
        .title_bottom(Line::styled(" x cancel ", theme.muted).right_aligned());
    let width = block.inner(area).width as usize;
    frame.render_widget(Paragraph::new(pull_lines(progress, width, theme)).block(block), area);
}

/// The pull form; `resume` (the selected repo, when it is a model with interrupted
/// downloads) fills in its id, so Enter resumes it.
pub fn pull_form(resume: Option<&CachedRepo>) -> Form {
    let repo_id = resume
        .filter(|repo| repo.repo_type == RepoType::Model && !repo.incomplete_files.is_empty())
        .map(|repo| repo.repo_id.as_str());
    Form::new(
        "Pull a model into the cache",
        vec![
            FormField::line("repo", "Repo id", repo_id.unwrap_or_default())
                .hint("org/name on the Hugging Face Hub")
                .validate_with(|v| {
                    let v = v.trim();
                    match v.split_once('/') {
                        Some((org, name))
                            if !org.is_empty()
                                && !name.is_empty()
                                && !name.contains('/')
                                && !v.contains(' ') =>
                        {
                            Ok(())
                        }
                        _ => Err("expected org/name, e.g. Qwen/Qwen2.5-0.5B-Instruct".into()),
                    }
                }),
            FormField::line("revision", "Revision", "main")
                .hint("branch, tag or commit")
                .validate_with(|v| {
                    if v.trim().is_empty() {
                        Err("a revision is needed (main)".into())
                    } else {
                        Ok(())
                    }
                }),
        ],
    )
}

/// The confirmation for a planned delete: type the repo id (and, when a deployment serves
/// the model, a second dialog asks again).
pub fn confirm_delete(plan: &DeletePlan) -> ConfirmDialog {
    let what = if plan.deletes_repo() {
        "the whole repo".to_string()
    } else {
        format!("{} revision(s)", plan.revisions.len())
    };
    ConfirmDialog::new(
        "Delete from the cache",
        format!(
            "Delete {what} of {}: frees {} (blobs other revisions use are kept).",
            plan.repo_id,
            units::bytes(plan.bytes_freed)
        ),
        plan.repo_id.clone(),
    )
}

pub fn confirm_delete_in_use(plan: &DeletePlan) -> ConfirmDialog {
    let first = plan.held_by.first().cloned().unwrap_or_default();
    ConfirmDialog::new(
        "Model in use",
        format!(
            "{} is served by {}. Deleting it breaks their next restart. Type the deployment name to delete anyway.",
            plan.repo_id,
            plan.held_by.join(", ")
        ),
        first,
    )
}

#[cfg(test)]
mod tests;
