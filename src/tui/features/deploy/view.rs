//! The deploy feature's overlays: the pager (a rendered config, the create review, the
//! journal) and the logs pane.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear};

use crate::tui::features::deploy::LogsView;
use crate::tui::mode::Pager;
use crate::tui::theme::Theme;

fn popup(area: Rect) -> Rect {
    Rect { x: area.x + 1, y: area.y, width: area.width.saturating_sub(2), height: area.height }
}

pub fn render_pager(frame: &mut Frame, area: Rect, pager: &Pager, theme: &Theme) {
    let area = popup(area);
    frame.render_widget(Clear, area);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(if pager.create.is_some() { theme.border_focused } else { theme.border })
        .title(Span::styled(format!(" {} ", pager.title), theme.accent));
    pager.pane.render(frame, area, block, theme);
}

pub fn render_logs(frame: &mut Frame, area: Rect, logs: &LogsView, theme: &Theme) {
    let area = popup(area);
    frame.render_widget(Clear, area);
    let mut bottom = vec![Span::styled(
        if logs.pane.follow { " following " } else { " paused (G follows) " },
        theme.muted,
    )];
    if let Some(query) = &logs.searching {
        bottom.push(Span::styled(format!(" /{query}▏"), theme.accent));
    } else if let Some(query) = logs.pane.search() {
        bottom.push(Span::styled(format!(" search: {query} "), theme.info));
    }
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme.border_focused)
        .title(Span::styled(format!(" Logs: {} ", logs.deployment), theme.accent))
        .title_bottom(Line::from(bottom));
    logs.pane.render(frame, area, block, theme);
}
