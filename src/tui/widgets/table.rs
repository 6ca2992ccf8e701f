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

#[derive(Debug, Clone)]
pub struct Column {
    pub title: &'static str,
    pub width: Constraint,
}

impl Column {
    pub fn new(title: &'static str, width: Constraint) -> Column {
        Column { title, width }
    }
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
}

impl TableCell {
    pub fn text(text: impl Into<String>) -> TableCell {
        let text = text.into();
        TableCell { sort: SortKey::Text(text.clone()), content: Line::from(text) }
    }

    pub fn number(value: Option<f64>, shown: impl Into<Line<'static>>) -> TableCell {
        TableCell { content: shown.into(), sort: SortKey::Number(value) }
    }

    pub fn styled(content: Line<'static>, sort: SortKey) -> TableCell {
        TableCell { content, sort }
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
        let header = Row::new(self.columns.iter().enumerate().map(|(i, column)| {
            let arrow = match self.sort {
                Some((c, true)) if c == i => " ▲",
                Some((c, false)) if c == i => " ▼",
                _ => "",
            };
            // A narrow fixed column keeps the arrow and loses the title's end.
            let title = match column.width {
                Constraint::Length(n)
                    if !arrow.is_empty() && column.title.chars().count() + 2 > n as usize =>
                {
                    let keep = (n as usize).saturating_sub(1);
                    let short: String = column.title.chars().take(keep).collect();
                    return CellWidget::from(format!("{short}{}", arrow.trim_start()));
                }
                _ => column.title,
            };
            CellWidget::from(format!("{title}{arrow}"))
        }))
        .style(theme.accent);
        // Only the rows that show are handed to ratatui (cloning all of them made a 2,000-row
        // table cost a millisecond per frame). The window is where ratatui's own scrolling puts
        // a fresh `TableState` (offset 0): the selection is the last row once past the page.
        let inner = block.inner(area);
        let (first, end) = shown_window(
            self.selected,
            self.visible.len(),
            usize::from(inner.height.saturating_sub(1)),
        );
        let rows = self.visible[first..end].iter().map(|&i| {
            Row::new(self.rows[i].cells.iter().map(|cell| CellWidget::from(cell.content.clone())))
                .style(theme.text)
        });
        let widths: Vec<Constraint> = self.columns.iter().map(|c| c.width).collect();
        let table = Table::new(rows, widths)
            .header(header)
            .block(block)
            .row_highlight_style(theme.selection)
            .highlight_symbol("▌")
            .column_spacing(1);
        let mut state = TableState::default().with_selected(if self.visible.is_empty() {
            None
        } else {
            Some(self.selected - first)
        });
        frame.render_stateful_widget(table, area, &mut state);
    }
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
mod tests {
    use super::*;

    fn table() -> DataTable {
        let mut table = DataTable::new(vec![
            Column::new("name", Constraint::Length(10)),
            Column::new("gpus", Constraint::Length(4)),
        ]);
        table.set_rows(
            [("llama", 8.0), ("qwen", 2.0), ("mistral", 1.0)]
                .into_iter()
                .map(|(name, gpus)| TableRow {
                    id: name.to_string(),
                    cells: vec![
                        TableCell::text(name),
                        TableCell::number(Some(gpus), gpus.to_string()),
                    ],
                })
                .collect(),
        );
        table
    }

    fn shown(table: &DataTable) -> Vec<String> {
        table.visible.iter().map(|&i| table.rows[i].id.clone()).collect()
    }

    #[test]
    fn sorts_numbers_numerically_and_reverses() {
        let mut table = table();
        table.sort_by(1, true);
        assert_eq!(shown(&table), ["mistral", "qwen", "llama"]);
        table.sort_reverse();
        assert_eq!(shown(&table), ["llama", "qwen", "mistral"]);
    }

    #[test]
    fn filter_matches_any_cell_case_insensitively() {
        let mut table = table();
        table.set_filter("QW");
        assert_eq!(shown(&table), ["qwen"]);
        table.set_filter("");
        assert_eq!(table.visible_len(), 3);
    }

    #[test]
    fn selection_follows_the_row_across_refreshes() {
        let mut table = table();
        table.move_by(1);
        assert_eq!(table.selected().map(|r| r.id.as_str()), Some("qwen"));
        table.sort_by(0, true);
        assert_eq!(table.selected().map(|r| r.id.as_str()), Some("qwen"));
        let rows = table.rows().to_vec();
        table.set_rows(rows.into_iter().rev().collect());
        assert_eq!(table.selected().map(|r| r.id.as_str()), Some("qwen"));
    }

    #[test]
    fn only_the_page_around_the_selection_is_drawn() {
        assert_eq!(shown_window(0, 2000, 40), (0, 40));
        assert_eq!(shown_window(39, 2000, 40), (0, 40));
        assert_eq!(shown_window(40, 2000, 40), (1, 41));
        assert_eq!(shown_window(1999, 2000, 40), (1960, 2000));
        assert_eq!(shown_window(2, 3, 40), (0, 3));
        assert_eq!(shown_window(0, 0, 40), (0, 0));
    }

    #[test]
    fn a_scrolled_table_draws_what_ratatui_would_with_every_row() {
        use ratatui::Terminal;
        use ratatui::backend::TestBackend;
        let mut table = DataTable::new(vec![Column::new("name", Constraint::Length(10))]);
        let rows = (0..50)
            .map(|i| TableRow {
                id: i.to_string(),
                cells: vec![TableCell::text(format!("row {i}"))],
            })
            .collect();
        table.set_rows(rows);
        table.move_by(30);
        let theme = Theme::default_theme();
        let mut terminal = Terminal::new(TestBackend::new(20, 12)).unwrap();
        terminal
            .draw(|frame| table.render(frame, frame.area(), Block::bordered(), &theme))
            .unwrap();
        // Ratatui with all 50 rows and a fresh state, as the table drew before windowing.
        let mut expected = Terminal::new(TestBackend::new(20, 12)).unwrap();
        expected
            .draw(|frame| {
                let rows = table.rows.iter().map(|r| {
                    Row::new(r.cells.iter().map(|c| CellWidget::from(c.content.clone())))
                        .style(theme.text)
                });
                let header = Row::new([CellWidget::from("name")]).style(theme.accent);
                let all = Table::new(rows, [Constraint::Length(10)])
                    .header(header)
                    .block(Block::bordered())
                    .row_highlight_style(theme.selection)
                    .highlight_symbol("▌")
                    .column_spacing(1);
                frame.render_stateful_widget(
                    all,
                    frame.area(),
                    &mut TableState::default().with_selected(Some(30)),
                );
            })
            .unwrap();
        assert_eq!(terminal.backend().buffer(), expected.backend().buffer());
        let shown: String =
            (0..20).map(|x| terminal.backend().buffer()[(x, 10)].symbol().to_string()).collect();
        assert!(shown.contains("row 30"), "the selection is the last row: {shown:?}");
    }

    #[test]
    fn movement_is_clamped_and_empty_tables_have_no_selection() {
        let mut table = table();
        table.move_by(-5);
        assert_eq!(table.selected_index(), 0);
        table.page_by(3);
        assert_eq!(table.selected_index(), 2);
        table.set_filter("nothing matches");
        assert!(table.selected().is_none());
    }
}
