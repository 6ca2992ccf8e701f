//! The honest empty state: what the view looked for and how to get data, never fake rows.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::tui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, block: Block<'_>, note: &[String], theme: &Theme) {
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = note.len() as u16 + 2;
    let [_, middle, _] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(height), Constraint::Fill(1)])
            .areas(inner);
    let lines: Vec<Line> = note
        .iter()
        .enumerate()
        .map(|(i, text)| {
            Line::styled(text.as_str(), if i == 0 { theme.accent } else { theme.muted }).centered()
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), middle);
}
