//! The `?` overlay: every binding in force, generated from the keymap, grouped by scope.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use crate::tui::app::App;
use crate::tui::keymap::{Action, Scope};
use crate::tui::widgets::confirm::centered;

pub fn lines(app: &App) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let mut lines = Vec::new();
    for scope in [Scope::Global, Scope::Table, Scope::Resource] {
        if !lines.is_empty() {
            lines.push(Line::default());
        }
        lines.push(Line::styled(scope.title().to_string(), theme.accent));
        for &action in Action::ALL.iter().filter(|a| a.scope() == scope) {
            let keys = app.keymap.label(action);
            let keys = if keys.is_empty() { "(unbound)".to_string() } else { keys };
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<18}"), theme.info),
                Span::styled(action.help().to_string(), theme.text),
            ]));
        }
    }
    lines
}

pub fn render(frame: &mut Frame, area: Rect, app: &App, scroll: u16) {
    let theme = &app.theme;
    let lines = lines(app);
    let popup = centered(area, 76, area.height.saturating_sub(4).max(10));
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme.border_focused)
        .title(Span::styled(" Help: keys ", theme.accent))
        .title_bottom(Line::styled(" j/k scroll · esc close ", theme.muted).right_aligned());
    let visible = block.inner(popup).height;
    let max_scroll = (lines.len() as u16).saturating_sub(visible);
    frame.render_widget(
        Paragraph::new(lines).block(block).scroll((scroll.min(max_scroll), 0)),
        popup,
    );
}
