//! The table's sorting, filtering, selection and drawing.
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
                cells: vec![TableCell::text(name), TableCell::number(Some(gpus), gpus.to_string())],
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
        .map(|i| TableRow { id: i.to_string(), cells: vec![TableCell::text(format!("row {i}"))] })
        .collect();
    table.set_rows(rows);
    table.move_by(30);
    let theme = Theme::default_theme();
    let mut terminal = Terminal::new(TestBackend::new(20, 12)).unwrap();
    terminal.draw(|frame| table.render(frame, frame.area(), Block::bordered(), &theme)).unwrap();
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
