//! The Recipes view: every recipe (built-in and the user's), filterable by model, GPU, engine
//! and precision, the best one for this machine marked ★, and a detail pane with the rendered
//! engine command line and the memory-fit bars. `e` edits a recipe as YAML with live
//! validation at line:column and saves it to the user recipe directory.

mod actions;
mod first_use;

pub use actions::{RecipeMsg, update};
pub use first_use::LibraryRead;

use std::collections::BTreeSet;
use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Wrap};

use crate::model::gpu::GpuSnapshot;
use crate::recipes::fit::{self, FitReport};
use crate::recipes::load::{Library, LoadedRecipe, Origin};
use crate::recipes::select::{self, Hardware, SelectQuery};
use crate::recipes::{gpus, validate};
use crate::tui::theme::Theme;
use crate::tui::widgets::form::FormField;
use crate::tui::widgets::{Column, Cut, Form, SortKey, TableCell, TableRow, gauge};

#[derive(Debug, Clone, Default)]
pub struct RecipeState {
    pub library: Option<Arc<Library>>,
    /// This machine's GPUs as the selector sees them, from the latest discovery.
    pub hardware: Option<Hardware>,
    /// The best recipe of each model for `hardware`.
    pub best: BTreeSet<String>,
    /// The recipe being edited (its id), while the editor is open.
    pub editing: Option<String>,
    /// Where the library's read stands: it is read on first use (`first_use.rs`).
    pub read: LibraryRead,
}

pub fn columns() -> Vec<Column> {
    vec![
        Column::new("★", Constraint::Length(1)),
        // Recipe ids differ at their end (`…-h100-fp8-tp4`): cut at the start.
        Column::new("ID", Constraint::Min(28)).cut(Cut::Start),
        Column::new("MODEL", Constraint::Min(14)).cut(Cut::Model),
        Column::new("ENGINE", Constraint::Length(6)),
        Column::new("GPU", Constraint::Length(9)),
        Column::new("N", Constraint::Length(2)),
        Column::new("PREC", Constraint::Length(9)),
    ]
}

pub fn empty_note(library: Option<&Library>, read: &LibraryRead) -> Vec<String> {
    match (library, read) {
        (None, LibraryRead::Failed(cause)) => {
            vec![format!("Recipes could not be read: {cause}"), "Ctrl-R reads them again.".into()]
        }
        (None, _) => vec!["Loading recipes…".into()],
        (Some(_), _) => vec![
            "No recipes.".into(),
            "Built-ins are embedded; add YAML files to ~/.config/aimdeck/recipes or --recipes-dir."
                .into(),
        ],
    }
}

/// The selector's view of this machine, built the way `aimdeck recipes select` builds it.
pub fn hardware_from(snapshot: &GpuSnapshot) -> Option<Hardware> {
    Hardware::from_inventory(
        snapshot.gpus.iter().map(|g| (g.name.as_str(), g.memory_total_bytes, g.held_by.is_some())),
    )
}

/// The best recipe of every model in the library for `hardware`, by the same selector that
/// `aimdeck recipes select` uses.
pub fn best_ids(library: &Library, hardware: &Hardware) -> BTreeSet<String> {
    let models: BTreeSet<&str> =
        library.recipes.iter().map(|r| r.recipe.model.repo.as_str()).collect();
    models
        .into_iter()
        .filter_map(|model| {
            let query = SelectQuery { model: model.to_string(), ..SelectQuery::default() };
            select::select(library, &query, Some(hardware), None).best
        })
        .collect()
}

fn origin_word(origin: &Origin) -> &'static str {
    match origin {
        Origin::Builtin => "builtin",
        Origin::User { .. } => "user",
        Origin::Derived => "derived",
    }
}

pub fn rows(state: &RecipeState, theme: &Theme) -> Vec<TableRow> {
    let Some(library) = &state.library else { return Vec::new() };
    library
        .recipes
        .iter()
        .map(|loaded| {
            let recipe = &loaded.recipe;
            let best = state.best.contains(&recipe.id);
            TableRow {
                id: recipe.id.clone(),
                cells: vec![
                    TableCell::styled(
                        Line::styled(if best { "★" } else { " " }, theme.ok),
                        SortKey::Number(Some(if best { 0.0 } else { 1.0 })),
                    ),
                    TableCell::text(match loaded.origin {
                        Origin::User { .. } => format!("{} (user)", recipe.id),
                        _ => recipe.id.clone(),
                    }),
                    TableCell::text(
                        recipe
                            .model
                            .repo
                            .rsplit('/')
                            .next()
                            .unwrap_or(&recipe.model.repo)
                            .to_string(),
                    ),
                    TableCell::text(recipe.engine.as_str()),
                    TableCell::text(recipe.gpu.clone()),
                    TableCell::number(Some(recipe.gpu_count as f64), recipe.gpu_count.to_string()),
                    TableCell::text(recipe.precision.as_str()),
                ],
            }
        })
        .collect()
}

/// The estimate for a recipe on its own GPU model.
pub fn fit_of(loaded: &LoadedRecipe) -> Option<FitReport> {
    let gpu = gpus::by_name(&loaded.recipe.gpu)?;
    Some(fit::estimate(&validate::fit_input(&loaded.recipe, gpu)))
}

fn gib(bytes: f64) -> String {
    format!("{:.1} GiB", bytes / (1u64 << 30) as f64)
}

pub fn detail_lines(
    loaded: &LoadedRecipe,
    state: &RecipeState,
    theme: &Theme,
    bar_width: usize,
) -> Vec<Line<'static>> {
    let recipe = &loaded.recipe;
    let p = recipe.parallelism;
    let mut lines = vec![
        Line::from(vec![
            Span::styled(recipe.model.repo.clone(), theme.accent),
            Span::styled(
                format!(
                    "  {} x{} {} · {} · tp{} pp{} dp{}",
                    recipe.gpu, recipe.gpu_count, recipe.precision, recipe.engine, p.tp, p.pp, p.dp
                ),
                theme.text,
            ),
        ]),
        Line::styled(format!("{} ({})", loaded.file, origin_word(&loaded.origin)), theme.muted),
    ];
    if state.best.contains(&recipe.id) {
        lines.push(Line::styled("★ best recipe for this machine's GPUs", theme.ok));
    }
    match fit_of(loaded) {
        Some(report) => {
            let total = report.gpu_memory_bytes.max(1) as f64;
            let kv = report.kv_budget_bytes.max(0) as f64;
            lines.push(Line::styled(
                format!("Memory per GPU ({} of {})", recipe.gpu, gib(total)),
                theme.accent,
            ));
            let row = |label: &str, bytes: f64, style| {
                Line::from(vec![
                    Span::styled(format!("{label:<10}"), theme.muted),
                    Span::styled(gauge::bar_text(bytes / total, bar_width), style),
                    Span::styled(format!(" {}", gib(bytes)), theme.text),
                ])
            };
            lines.push(row("weights", report.weights_per_gpu_bytes as f64, theme.info));
            lines.push(row("overhead", report.overhead_bytes as f64, theme.muted));
            lines.push(row("KV cache", kv, theme.ok));
            lines.push(row("headroom", report.headroom_bytes as f64, theme.muted));
            lines.push(Line::styled(
                format!(
                    "{} KiB of KV cache per token · {} tokens · {} sequences of {}",
                    report.kv_bytes_per_token / 1024,
                    report.kv_capacity_tokens,
                    report.max_concurrent_sequences,
                    report.context_len
                ),
                theme.text,
            ));
            lines.push(Line::styled(
                report.verdict.clone(),
                if report.fits { theme.ok } else { theme.error },
            ));
        }
        None => lines.push(Line::styled(
            format!("GPU `{}` is not in the catalog: no estimate", recipe.gpu),
            theme.warning,
        )),
    }
    lines.push(Line::default());
    let spec = crate::recipes::to_spec::to_deployment_spec(recipe, "preview", 1, 8000);
    lines.push(Line::styled("Command", theme.accent));
    lines.push(Line::styled(crate::engine::launch_command(&spec, 0).display(), theme.text));
    lines.push(Line::default());
    if let Some(performance) = &recipe.performance {
        lines.push(Line::default());
        let tps = performance
            .output_tokens_per_second
            .map(|t| format!("{t:.0} output tok/s"))
            .unwrap_or_default();
        lines.push(Line::styled(
            format!("Published: {tps} (source: {})", performance.source),
            theme.muted,
        ));
    }
    lines
}

pub fn render_detail(
    frame: &mut Frame,
    area: Rect,
    loaded: &LoadedRecipe,
    state: &RecipeState,
    theme: &Theme,
) {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme.border)
        .title(Span::styled(format!(" {} ", loaded.recipe.id), theme.accent))
        .title_bottom(Line::styled(" e edit ", theme.muted).right_aligned());
    let width = block.inner(area).width.saturating_sub(22).clamp(8, 40) as usize;
    let paragraph = Paragraph::new(detail_lines(loaded, state, theme, width))
        .block(block)
        .wrap(Wrap { trim: false });
    frame.render_widget(paragraph, area);
}

/// The YAML a recipe is edited from: the built-in file's own text (comments and all), or the
/// recipe re-serialised when its file text is not at hand.
pub fn source_text(loaded: &LoadedRecipe) -> String {
    let builtin = crate::recipes::builtin::BUILTIN
        .iter()
        .find(|(name, _)| loaded.file.ends_with(name))
        .map(|(_, text)| text.to_string());
    builtin.unwrap_or_else(|| serde_saphyr::to_string(&loaded.recipe).unwrap_or_default())
}

/// Checks editor text the way `aimdeck recipes validate` does; the first problem at line:col.
pub fn check_yaml(text: &str) -> Result<(), String> {
    let problems = crate::recipes::edit::check_text("editor", text);
    let Some(first) = problems.first() else { return Ok(()) };
    let first = format!("{}:{} {}: {}", first.line, first.column, first.field, first.message);
    match problems.len() {
        1 => Err(first),
        n => Err(format!("{first} (+{} more)", n - 1)),
    }
}

pub fn editor(loaded: &LoadedRecipe) -> Form {
    let target = crate::paths::user_recipes_dir().join(format!("{}.yaml", loaded.recipe.id));
    Form::new(
        format!("Edit recipe → {}", target.display()),
        vec![
            FormField::multi_line(
                "yaml",
                "YAML (Ctrl-S saves to your recipe directory)",
                &source_text(loaded),
            )
            .validate_with(check_yaml),
        ],
    )
}

#[cfg(test)]
mod tests;
