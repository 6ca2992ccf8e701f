//! A table with a selected row, sorting by any column and a substring filter. Views rebuild its
//! rows whenever their data changes; the selection follows the row's id, not its position, so a
//! live update does not move the cursor to another deployment.

use std::cell::Cell;
use std::cmp::Ordering;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell as CellWidget, Row, Table, TableState};

use crate::tui::theme::Theme;
use crate::tui::widgets::gauge;
pub use crate::tui::widgets::table_column::Column;
use crate::tui::widgets::table_layout::{Cut, Need, cut_line, text_width, widths};

/// A cell drawn for the width its column gets: a bar fills it, a sparkline shows as many
/// samples as fit. `TableCell::content` is the same at its default width.
#[derive(Debug, Clone, PartialEq)]
pub enum Fit {
    /// A bar of `fraction` (0..=1, `None`: not known) followed by its label.
    Bar { fraction: Option<f64>, label: String },
    /// The newest samples, scaled to `max` (else to the largest).
    Spark { values: Vec<f64>, max: Option<f64>, style: ratatui::style::Style },
}

/// What a column sorts by: numbers numerically (unknown last), text case-insensitively.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    Text(String),
    Number(Option<f64>),
}

impl SortKey {
    fn compare(&self, other: &SortKey) -> Ordering {
        match (self, other) {
            (SortKey::Number(a), SortKey::Number(b)) => match (a, b) {
                (Some(a), Some(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
            (SortKey::Text(a), SortKey::Text(b)) => a.to_lowercase().cmp(&b.to_lowercase()),
            (SortKey::Number(_), SortKey::Text(_)) => Ordering::Less,
            (SortKey::Text(_), SortKey::Number(_)) => Ordering::Greater,
        }
    }
}

#[derive(Debug, Clone)]
pub struct TableCell {
    pub content: Line<'static>,
    pub sort: SortKey,
    /// Drawn to the column's width instead of `content` when set.
    pub fit: Option<Fit>,
}

impl TableCell {
    pub fn text(text: impl Into<String>) -> TableCell {
        let text = text.into();
        TableCell { sort: SortKey::Text(text.clone()), content: Line::from(text), fit: None }
    }

    pub fn number(value: Option<f64>, shown: impl Into<Line<'static>>) -> TableCell {
        TableCell { content: shown.into(), sort: SortKey::Number(value), fit: None }
    }

    pub fn styled(content: Line<'static>, sort: SortKey) -> TableCell {
        TableCell { content, sort, fit: None }
    }

    /// This cell drawn as `fit` at its column's width (`content` stays its default look).
    pub fn fitted(mut self, fit: Fit) -> TableCell {
        self.fit = Some(fit);
        self
    }

    /// The cell as drawn `width` cells wide in a column cut on `cut`'s side.
    fn drawn(&self, width: u16, cut: Cut, theme: &Theme) -> Line<'static> {
        let width = usize::from(width);
        match &self.fit {
            Some(Fit::Bar { fraction, label }) => {
                let bar = width.saturating_sub(text_width(label) + 1).max(1);
                cut_line(&gauge::bar(*fraction, bar, label, theme), width, Cut::End)
            }
            Some(Fit::Spark { values, max, style }) => {
                Line::styled(gauge::sparkline_text(values, width, *max), *style)
            }
            None => cut_line(&self.content, width, cut),
        }
    }

    fn plain_text(&self) -> String {
        self.content.spans.iter().map(|s| s.content.as_ref()).collect()
    }
}

#[derive(Debug, Clone)]
pub struct TableRow {
    /// Stable identity (a GPU uuid, a repo id, a deployment name).
    pub id: String,
    pub cells: Vec<TableCell>,
}

#[derive(Debug, Clone)]
pub struct DataTable {
    pub columns: Vec<Column>,
    rows: Vec<TableRow>,
    /// Indices into `rows` of the rows shown, in display order.
    visible: Vec<usize>,
    filter: String,
    sort: Option<(usize, bool)>,
    selected: usize,
    /// The selected row's id, kept across data refreshes.
    selected_id: Option<String>,
    /// Rows per page, learnt at the last render (a render-side cache, not state).
    page: Cell<usize>,
}

impl DataTable {
    pub fn new(columns: Vec<Column>) -> DataTable {
        DataTable {
            columns,
            rows: Vec::new(),
            visible: Vec::new(),
            filter: String::new(),
            sort: None,
            selected: 0,
            selected_id: None,
            page: Cell::new(10),
        }
    }

    pub fn set_rows(&mut self, rows: Vec<TableRow>) {
        self.rows = rows;
        self.refresh();
    }

    pub fn rows(&self) -> &[TableRow] {
        &self.rows
    }

    pub fn total(&self) -> usize {
        self.rows.len()
    }

    pub fn visible_len(&self) -> usize {
        self.visible.len()
    }

    pub fn filter(&self) -> &str {
        &self.filter
    }

    pub fn set_filter(&mut self, filter: &str) {
        self.filter = filter.to_string();
        self.refresh();
    }

    /// The selected row, if any row is shown.
    pub fn selected(&self) -> Option<&TableRow> {
        self.visible.get(self.selected).map(|&i| &self.rows[i])
    }

    pub fn selected_index(&self) -> usize {
        self.selected
    }

    /// Current sort column and whether it is ascending.
    pub fn sort(&self) -> Option<(usize, bool)> {
        self.sort
    }

    /// Sorts by the next column (after none, the first); ascending each time. Columns without
    /// a title (a marker column) are skipped: the sort must be visible in the header.
    pub fn sort_next(&mut self) {
        let count = self.columns.len().max(1);
        let start = self.sort.map_or(0, |(column, _)| column + 1);
        let next = (0..count)
            .map(|step| (start + step) % count)
            .find(|&c| self.columns.get(c).is_some_and(|col| !col.title.is_empty()))
            .unwrap_or(0);
        self.sort = Some((next, true));
        self.refresh();
    }

    pub fn sort_reverse(&mut self) {
        self.sort = Some(match self.sort {
            None => {
                let first = self.columns.iter().position(|c| !c.title.is_empty()).unwrap_or(0);
                (first, false)
            }
            Some((column, ascending)) => (column, !ascending),
        });
        self.refresh();
    }

    /// `NAME ▲` for the title: the sorted column and its direction, where a narrow header
    /// cell could cut the arrow.
    pub fn sort_label(&self) -> Option<String> {
        let (column, ascending) = self.sort?;
        let title = self.columns.get(column)?.title;
        Some(format!("{title} {}", if ascending { "▲" } else { "▼" }))
    }

    pub fn sort_by(&mut self, column: usize, ascending: bool) {
        self.sort = Some((column, ascending));
        self.refresh();
    }

    pub fn move_by(&mut self, delta: isize) {
        if self.visible.is_empty() {
            return;
        }
        let last = self.visible.len() as isize - 1;
        self.selected = (self.selected as isize + delta).clamp(0, last) as usize;
        self.remember_selection();
    }

    pub fn page_by(&mut self, pages: isize) {
        self.move_by(pages * self.page.get().max(1) as isize);
    }

    pub fn select_first(&mut self) {
        self.selected = 0;
        self.remember_selection();
    }

    pub fn select_last(&mut self) {
        self.selected = self.visible.len().saturating_sub(1);
        self.remember_selection();
    }

    fn remember_selection(&mut self) {
        self.selected_id = self.selected().map(|row| row.id.clone());
    }

    fn refresh(&mut self) {
        let needle = self.filter.to_lowercase();
        self.visible = (0..self.rows.len())
            .filter(|&i| {
                needle.is_empty()
                    || self.rows[i]
                        .cells
                        .iter()
                        .any(|cell| cell.plain_text().to_lowercase().contains(&needle))
            })
            .collect();
        if let Some((column, ascending)) = self.sort {
            let rows = &self.rows;
            self.visible.sort_by(|&a, &b| {
                let key = |i: usize| rows[i].cells.get(column).map(|c| &c.sort);
                match (key(a), key(b)) {
                    // Unknown numbers stay last whichever way the column is sorted.
                    (Some(SortKey::Number(None)), Some(SortKey::Number(Some(_)))) => {
                        Ordering::Greater
                    }
                    (Some(SortKey::Number(Some(_))), Some(SortKey::Number(None))) => Ordering::Less,
                    (Some(x), Some(y)) if ascending => x.compare(y),
                    (Some(x), Some(y)) => x.compare(y).reverse(),
                    _ => Ordering::Equal,
                }
            });
        }
        let by_id = self
            .selected_id
            .as_ref()
            .and_then(|id| self.visible.iter().position(|&i| &self.rows[i].id == id));
        self.selected = by_id.unwrap_or(self.selected.min(self.visible.len().saturating_sub(1)));
        self.remember_selection();
    }

    /// Draws the table in `area` inside `block`. Remembers the page height for PageUp/PageDown.
    pub fn render(&self, frame: &mut Frame, area: Rect, block: Block<'_>, theme: &Theme) {
        self.page.set(area.height.saturating_sub(3).max(1) as usize);
        // Only the rows that show are handed to ratatui (cloning all of them made a 2,000-row
        // table cost a millisecond per frame). The window is where ratatui's own scrolling puts
        // a fresh `TableState` (offset 0): the selection is the last row once past the page.
        let inner = block.inner(area);
        let (first, end) = shown_window(
            self.selected,
            self.visible.len(),
            usize::from(inner.height.saturating_sub(1)),
        );
        let shown = &self.visible[first..end];
        let widths = self.layout(shown, inner.width.saturating_sub(HIGHLIGHT));
        let header = Row::new(
            self.columns
                .iter()
                .enumerate()
                .filter(|(i, _)| widths[*i].is_some())
                .map(|(i, column)| header_cell(column, self.sort, i)),
        )
        .style(theme.accent);
        let rows = shown.iter().map(|&i| {
            let cells = self.rows[i].cells.iter().zip(&self.columns).zip(&widths).filter_map(
                |((cell, column), width)| {
                    width.map(|w| CellWidget::from(cell.drawn(w, column.cut, theme)))
                },
            );
            Row::new(cells).style(theme.text)
        });
        let constraints: Vec<Constraint> =
            widths.iter().flatten().map(|w| Constraint::Length(*w)).collect();
        let table = Table::new(rows, constraints)
            .header(header)
            .block(block)
            .row_highlight_style(theme.selection)
            .highlight_symbol("▌")
            .column_spacing(SPACING);
        let mut state = TableState::default().with_selected(if self.visible.is_empty() {
            None
        } else {
            Some(self.selected - first)
        });
        frame.render_stateful_widget(table, area, &mut state);
    }

    /// Each column's width for the rows `shown` in `available` cells (`None`: hidden).
    fn layout(&self, shown: &[usize], available: u16) -> Vec<Option<u16>> {
        let needs: Vec<Need> = self
            .columns
            .iter()
            .enumerate()
            .map(|(c, column)| {
                let widest = shown
                    .iter()
                    .filter_map(|&i| self.rows[i].cells.get(c))
                    .map(natural_width)
                    .max()
                    .unwrap_or(0);
                column.need(widest.min(u16::MAX as usize) as u16)
            })
            .collect();
        widths(&needs, available, SPACING)
    }
}

/// Between columns.
const SPACING: u16 = 1;
/// The selection mark's column.
const HIGHLIGHT: u16 = 1;

/// A column's title with the sort arrow when the table is sorted by it.
fn header_cell(column: &Column, sort: Option<(usize, bool)>, index: usize) -> CellWidget<'static> {
    let arrow = match sort {
        Some((c, true)) if c == index => " ▲",
        Some((c, false)) if c == index => " ▼",
        _ => "",
    };
    // A narrow fixed column keeps the arrow and loses the title's end.
    if let Constraint::Length(n) = column.width
        && !arrow.is_empty()
        && column.title.chars().count() + 2 > n as usize
    {
        let keep = (n as usize).saturating_sub(1);
        let short: String = column.title.chars().take(keep).collect();
        return CellWidget::from(format!("{short}{}", arrow.trim_start()));
    }
    CellWidget::from(format!("{}{}", column.title, arrow))
}

/// How wide a cell would like to be: its default look (bars and sparklines get more only as
/// spare width, `Column::grows_to`).
fn natural_width(cell: &TableCell) -> usize {
    cell.content.width()
}

/// The rows `[first, end)` a table of `len` rows with `body` one-line rows of room shows with
/// `selected` in view. With no room at all every row is passed and ratatui decides.
fn shown_window(selected: usize, len: usize, body: usize) -> (usize, usize) {
    if body == 0 {
        return (0, len);
    }
    let first = (selected + 1).saturating_sub(body).min(len);
    (first, (first + body).min(len))
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
