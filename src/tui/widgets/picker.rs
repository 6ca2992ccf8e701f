//! A list to choose one entry from (`:ctx`, `:ns`): `j`/`k` or the arrows move, typing narrows
//! the list, Enter chooses, Esc cancels. The entry in use is marked, as k9s marks the current
//! context.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

use super::confirm::centered;
use crate::tui::theme::Theme;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickerItem {
    /// What Enter hands back, e.g. `docker` or `k8s/prod`.
    pub value: String,
    /// What the user reads.
    pub label: String,
    /// Shown dimmed after the label (cluster, namespace, ...).
    pub detail: String,
    /// The entry in use now.
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickOutcome {
    Pending,
    Chosen(String),
    Cancelled,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Picker {
    pub title: String,
    pub items: Vec<PickerItem>,
    /// A line under the list: why something is missing, or a hint.
    pub note: Option<String>,
    filter: String,
    /// Index into `visible()`.
    selected: usize,
}

impl Picker {
    /// Starts on the current entry, so Enter alone changes nothing.
    pub fn new(title: impl Into<String>, items: Vec<PickerItem>) -> Picker {
        let selected = items.iter().position(|i| i.current).unwrap_or(0);
        Picker { title: title.into(), items, note: None, filter: String::new(), selected }
    }

    pub fn with_note(mut self, note: Option<String>) -> Picker {
        self.note = note;
        self
    }

    /// The entries the filter lets through, in order.
    pub fn visible(&self) -> Vec<&PickerItem> {
        let filter = self.filter.to_lowercase();
        self.items
            .iter()
            .filter(|i| filter.is_empty() || i.label.to_lowercase().contains(&filter))
            .collect()
    }

    pub fn selected(&self) -> Option<&PickerItem> {
        self.visible().get(self.selected).copied()
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> PickOutcome {
        let count = self.visible().len();
        match key.code {
            KeyCode::Esc => return PickOutcome::Cancelled,
            KeyCode::Enter => {
                return match self.selected() {
                    Some(item) => PickOutcome::Chosen(item.value.clone()),
                    None => PickOutcome::Pending,
                };
            }
            KeyCode::Down | KeyCode::Char('j')
                if self.filter.is_empty() || key.code == KeyCode::Down =>
            {
                self.selected = (self.selected + 1).min(count.saturating_sub(1));
            }
            KeyCode::Up | KeyCode::Char('k')
                if self.filter.is_empty() || key.code == KeyCode::Up =>
            {
                self.selected = self.selected.saturating_sub(1);
            }
            KeyCode::Backspace => {
                self.filter.pop();
                self.selected = 0;
            }
            KeyCode::Char(c) => {
                self.filter.push(c);
                self.selected = 0;
            }
            _ => {}
        }
        PickOutcome::Pending
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let visible = self.visible();
        let rows = visible.len().clamp(1, 16) as u16;
        // A note (why no contexts) may be long: two wrapped lines.
        let note_height = if self.note.is_some() { 2 } else { 0 };
        let popup = centered(area, 72, rows + 4 + note_height);
        frame.render_widget(Clear, popup);
        let title = if self.filter.is_empty() {
            format!(" {} ", self.title)
        } else {
            format!(" {} /{} ", self.title, self.filter)
        };
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(theme.border_focused)
            .title(Span::styled(title, theme.accent));
        let inner = block.inner(popup);
        frame.render_widget(block, popup);
        let [list, note, hint] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length(note_height),
            Constraint::Length(1),
        ])
        .areas(inner);
        // Keep the cursor on screen in a long list.
        let skip = self.selected.saturating_sub(usize::from(list.height).saturating_sub(1));
        let lines: Vec<Line> = visible
            .iter()
            .enumerate()
            .skip(skip)
            .take(usize::from(list.height))
            .map(|(index, item)| {
                let marker = if item.current { "* " } else { "  " };
                let style = if index == self.selected { theme.selection } else { theme.text };
                Line::from(vec![
                    Span::styled(format!("{marker}{}", item.label), style),
                    Span::styled(format!("  {}", item.detail), theme.muted),
                ])
            })
            .collect();
        if lines.is_empty() {
            frame.render_widget(Line::styled("  nothing matches", theme.muted), list);
        } else {
            frame.render_widget(Paragraph::new(lines), list);
        }
        if let Some(text) = &self.note {
            frame.render_widget(
                Paragraph::new(Line::styled(text.as_str(), theme.warning))
                    .wrap(Wrap { trim: true }),
                note,
            );
        }
        frame.render_widget(
            Line::styled("Enter switches · type to narrow · Esc cancels   (* in use)", theme.muted),
            hint,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn item(value: &str, current: bool) -> PickerItem {
        PickerItem { value: value.into(), label: value.into(), detail: String::new(), current }
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn starts_on_the_current_entry_and_typing_narrows() {
        let mut picker = Picker::new(
            "Contexts",
            vec![item("docker", false), item("k8s/prod", true), item("k8s/staging", false)],
        );
        assert_eq!(picker.selected().unwrap().value, "k8s/prod");
        assert_eq!(picker.handle_key(key(KeyCode::Down)), PickOutcome::Pending);
        assert_eq!(
            picker.handle_key(key(KeyCode::Enter)),
            PickOutcome::Chosen("k8s/staging".into())
        );
        for c in "dock".chars() {
            picker.handle_key(key(KeyCode::Char(c)));
        }
        assert_eq!(picker.visible().len(), 1);
        assert_eq!(picker.handle_key(key(KeyCode::Enter)), PickOutcome::Chosen("docker".into()));
        for _ in 0..4 {
            picker.handle_key(key(KeyCode::Char('z')));
        }
        assert_eq!(
            picker.handle_key(key(KeyCode::Enter)),
            PickOutcome::Pending,
            "nothing matches, nothing chosen"
        );
        assert_eq!(picker.handle_key(key(KeyCode::Esc)), PickOutcome::Cancelled);
    }
}
