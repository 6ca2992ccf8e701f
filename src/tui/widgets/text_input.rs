//! A one-line text input on `ratatui-textarea`: the command line, the filter, form fields and
//! the confirmation prompt all use it, so editing keys behave the same everywhere.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Style;
use ratatui_textarea::TextArea;

#[derive(Debug, Clone)]
pub struct TextInput {
    area: TextArea<'static>,
}

/// Two inputs are equal when they hold the same text (what the user typed; the cursor and
/// the undo history are the editor's own).
impl PartialEq for TextInput {
    fn eq(&self, other: &TextInput) -> bool {
        self.value() == other.value()
    }
}

impl Default for TextInput {
    fn default() -> Self {
        TextInput::new("")
    }
}

impl TextInput {
    pub fn new(initial: &str) -> TextInput {
        let mut area = TextArea::new(vec![initial.to_string()]);
        area.set_cursor_line_style(Style::default());
        area.move_cursor(ratatui_textarea::CursorMove::End);
        TextInput { area }
    }

    pub fn with_placeholder(mut self, placeholder: &str) -> TextInput {
        self.area.set_placeholder_text(placeholder);
        self
    }

    pub fn value(&self) -> &str {
        self.area.lines().first().map(String::as_str).unwrap_or("")
    }

    pub fn set_value(&mut self, value: &str) {
        *self = TextInput::new(value);
    }

    /// Feeds a key to the input. Enter and Tab are left to the caller (submit, complete); a
    /// newline can never enter a one-line field. Returns whether the text changed.
    pub fn handle_key(&mut self, key: KeyEvent) -> bool {
        match key.code {
            KeyCode::Enter | KeyCode::Tab | KeyCode::BackTab | KeyCode::Esc => false,
            KeyCode::Char('m') if key.modifiers.contains(KeyModifiers::CONTROL) => false,
            _ => {
                let before = self.value().to_string();
                self.area.input(key);
                before != self.value()
            }
        }
    }

    pub fn paste(&mut self, text: &str) {
        let first_line = text.lines().next().unwrap_or("");
        self.area.insert_str(first_line);
    }

    pub fn widget(&self) -> &TextArea<'static> {
        &self.area
    }

    pub fn set_style(&mut self, style: Style) {
        self.area.set_style(style);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn types_edits_and_ignores_enter() {
        let mut input = TextInput::new("gp");
        assert!(input.handle_key(key(KeyCode::Char('u'))));
        assert!(!input.handle_key(key(KeyCode::Enter)));
        assert!(input.handle_key(key(KeyCode::Backspace)));
        assert_eq!(input.value(), "gp");
        input.paste("us\nrm -rf /");
        assert_eq!(input.value(), "gpus");
    }
}
