//! Confirmation for destructive actions: the user types the resource's name, as k9s and GitHub
//! do, so a stray `d` + Enter can never delete a deployment.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

use super::text_input::TextInput;
use crate::tui::theme::Theme;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmOutcome {
    Pending,
    Confirmed,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmDialog {
    pub title: String,
    /// What will happen, in the user's words ("Delete deployment llama and its 4 containers").
    pub message: String,
    /// The text the user must type exactly.
    pub expected: String,
    input: TextInput,
    mismatch: bool,
}

impl ConfirmDialog {
    pub fn new(
        title: impl Into<String>,
        message: impl Into<String>,
        expected: impl Into<String>,
    ) -> ConfirmDialog {
        ConfirmDialog {
            title: title.into(),
            message: message.into(),
            expected: expected.into(),
            input: TextInput::default(),
            mismatch: false,
        }
    }

    pub fn typed(&self) -> &str {
        self.input.value()
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> ConfirmOutcome {
        match key.code {
            KeyCode::Esc => ConfirmOutcome::Cancelled,
            KeyCode::Enter if self.input.value() == self.expected => ConfirmOutcome::Confirmed,
            KeyCode::Enter => {
                self.mismatch = true;
                ConfirmOutcome::Pending
            }
            _ => {
                if self.input.handle_key(key) {
                    self.mismatch = false;
                }
                ConfirmOutcome::Pending
            }
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let popup = centered(area, 64, 9);
        frame.render_widget(Clear, popup);
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(theme.error)
            .title(Span::styled(format!(" {} ", self.title), theme.error));
        let inner = block.inner(popup);
        frame.render_widget(block, popup);
        let [message, prompt, input, hint] = Layout::vertical([
            Constraint::Min(2),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(inner);
        frame.render_widget(
            Paragraph::new(self.message.as_str()).style(theme.text).wrap(Wrap { trim: true }),
            message,
        );
        frame.render_widget(
            Line::from(vec![
                Span::styled("Type ", theme.muted),
                Span::styled(self.expected.as_str(), theme.accent),
                Span::styled(" to confirm:", theme.muted),
            ]),
            prompt,
        );
        frame.render_widget(self.input.widget(), input);
        let hint_line = if self.mismatch {
            Line::styled("That is not the name. Enter confirms, Esc cancels.", theme.warning)
        } else {
            Line::styled("Enter confirms, Esc cancels.", theme.muted)
        };
        frame.render_widget(hint_line, hint);
    }
}

/// A `width` x `height` rectangle in the middle of `area`, shrunk to fit.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn type_text(dialog: &mut ConfirmDialog, text: &str) {
        for c in text.chars() {
            dialog.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
    }

    #[test]
    fn only_the_exact_name_confirms() {
        let mut dialog = ConfirmDialog::new("Delete", "Delete llama", "llama");
        type_text(&mut dialog, "llam");
        assert_eq!(
            dialog.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
            ConfirmOutcome::Pending
        );
        type_text(&mut dialog, "a");
        assert_eq!(
            dialog.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
            ConfirmOutcome::Confirmed
        );
    }

    #[test]
    fn escape_cancels() {
        let mut dialog = ConfirmDialog::new("Delete", "Delete llama", "llama");
        assert_eq!(
            dialog.handle_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
            ConfirmOutcome::Cancelled
        );
    }
}
