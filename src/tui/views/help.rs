//! The `?` overlay, like k9s: the current view's keys first (its row actions, then the table
//! keys), the logs pane's keys where logs open, then the global keys and the `:` commands. Every
//! line comes from the keymap, the view's action list and the command table, so it cannot go
//! stale; under `--readonly` the actions it refuses say so.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use super::resources::offered;
use crate::tui::app::App;
use crate::tui::keymap::{Action, LOG_KEYS, Scope};
use crate::tui::shell::command_line::COMMANDS;
use crate::tui::widgets::confirm::centered;

/// The sections of the help in the current view: a title and its (keys, what) rows.
pub fn sections(app: &App) -> Vec<(String, Vec<(String, String)>)> {
    let row = |action: Action| {
        let keys = app.keymap.label(action);
        let keys = if keys.is_empty() { "(unbound)".to_string() } else { keys };
        let mut what = action.help().to_string();
        if app.readonly && action.changes_something() {
            what.push_str(" (refused: read-only)");
        }
        (keys, what)
    };
    let view_actions = offered(app.view);
    let mut own: Vec<(String, String)> = view_actions.iter().map(|&a| row(a)).collect();
    own.extend(
        Action::ALL
            .iter()
            .filter(|a| a.scope() == Scope::Table && **a != Action::Open)
            .map(|&a| row(a)),
    );
    let mut sections = vec![(format!("{} view", app.view.title()), own)];
    if view_actions.contains(&Action::Logs) {
        let mut keys: Vec<(String, String)> =
            LOG_KEYS.iter().map(|(key, what)| (key.to_string(), what.to_string())).collect();
        keys.push(("j/k".into(), "Scroll".into()));
        keys.push((app.keymap.label(Action::Back), "Close the logs".into()));
        sections.push((format!("Logs pane ({})", app.keymap.label(Action::Logs)), keys));
    }
    sections.push((
        "Global".into(),
        Action::ALL.iter().filter(|a| a.scope() == Scope::Global).map(|&a| row(a)).collect(),
    ));
    sections.push((
        "Commands".into(),
        COMMANDS.iter().map(|(word, what)| (format!(":{word}"), what.to_string())).collect(),
    ));
    sections
}

pub fn lines(app: &App) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let mut lines = Vec::new();
    for (title, rows) in sections(app) {
        if !lines.is_empty() {
            lines.push(Line::default());
        }
        lines.push(Line::styled(title, theme.accent));
        for (keys, what) in rows {
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<18}"), theme.info),
                Span::styled(what, theme.text),
            ]));
        }
    }
    lines
}

pub fn render(frame: &mut Frame, area: Rect, app: &App, scroll: u16) {
    let theme = &app.theme;
    let lines = lines(app);
    let popup = centered(
        area,
        area.width.saturating_sub(2).min(100),
        area.height.saturating_sub(4).max(10),
    );
    frame.render_widget(Clear, popup);
    let title = format!(" Help: {} view, then global ", app.view.title());
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme.border_focused)
        .title(Span::styled(title, theme.accent))
        .title_bottom(Line::styled(" j/k scroll · esc close ", theme.muted).right_aligned());
    let visible = block.inner(popup).height;
    let max_scroll = (lines.len() as u16).saturating_sub(visible);
    frame.render_widget(
        Paragraph::new(lines).block(block).scroll((scroll.min(max_scroll), 0)),
        popup,
    );
}
