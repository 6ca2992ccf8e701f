//! A form of single-line fields (each with live validation) and optional multi-line editors
//! (a YAML recipe, a prompt), on `ratatui-textarea`. Tab and Shift-Tab move between fields,
//! Enter submits from a one-line field, Ctrl-S submits from anywhere, Esc cancels.

use std::fmt;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear};
use ratatui_textarea::TextArea;

use super::confirm::centered;
use super::text_input::TextInput;
use crate::tui::theme::Theme;

/// Checks a field's text; `Err` carries the message shown under the field.
pub type Validator = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

#[derive(Clone)]
enum Editor {
    Line(TextInput),
    Multi(TextArea<'static>),
}

#[derive(Clone)]
pub struct FormField {
    pub name: &'static str,
    pub label: String,
    editor: Editor,
    validator: Option<Validator>,
    error: Option<String>,
}

impl fmt::Debug for FormField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FormField")
            .field("name", &self.name)
            .field("value", &self.value())
            .field("error", &self.error)
            .finish()
    }
}

impl FormField {
    pub fn line(name: &'static str, label: impl Into<String>, initial: &str) -> FormField {
        FormField {
            name,
            label: label.into(),
            editor: Editor::Line(TextInput::new(initial)),
            validator: None,
            error: None,
        }
    }

    pub fn multi_line(name: &'static str, label: impl Into<String>, initial: &str) -> FormField {
        let mut area = TextArea::new(initial.lines().map(str::to_string).collect());
        area.set_cursor_line_style(Style::default());
        FormField {
            name,
            label: label.into(),
            editor: Editor::Multi(area),
            validator: None,
            error: None,
        }
    }

    pub fn validate_with(
        mut self,
        validator: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static,
    ) -> FormField {
        self.validator = Some(Arc::new(validator));
        self.revalidate();
        self
    }

    pub fn value(&self) -> String {
        match &self.editor {
            Editor::Line(input) => input.value().to_string(),
            Editor::Multi(area) => area.lines().join("\n"),
        }
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn is_multi(&self) -> bool {
        matches!(self.editor, Editor::Multi(_))
    }

    fn revalidate(&mut self) {
        let value = self.value();
        self.error = self.validator.as_ref().and_then(|check| check(&value).err());
    }

    fn handle_key(&mut self, key: KeyEvent) {
        let changed = match &mut self.editor {
            Editor::Line(input) => input.handle_key(key),
            Editor::Multi(area) => area.input(key),
        };
        if changed {
            self.revalidate();
        }
    }

    /// Editor lines: one for a line field; a multi-line editor gets `multi` (what is left).
    fn height(&self, multi: u16) -> u16 {
        if self.is_multi() { multi } else { 1 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormOutcome {
    Editing,
    Submitted,
    Cancelled,
}

#[derive(Debug, Clone)]
pub struct Form {
    pub title: String,
    pub fields: Vec<FormField>,
    focus: usize,
    /// Set when the user tried to submit with invalid fields.
    blocked: bool,
}

impl Form {
    pub fn new(title: impl Into<String>, fields: Vec<FormField>) -> Form {
        Form { title: title.into(), fields, focus: 0, blocked: false }
    }

    pub fn value(&self, name: &str) -> Option<String> {
        self.fields.iter().find(|f| f.name == name).map(FormField::value)
    }

    pub fn is_valid(&self) -> bool {
        self.fields.iter().all(|f| f.error.is_none())
    }

    pub fn focus(&self) -> usize {
        self.focus
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> FormOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let count = self.fields.len().max(1);
        match key.code {
            KeyCode::Esc => return FormOutcome::Cancelled,
            KeyCode::Tab => self.focus = (self.focus + 1) % count,
            KeyCode::BackTab => self.focus = (self.focus + count - 1) % count,
            KeyCode::Char('s') if ctrl => return self.try_submit(),
            KeyCode::Enter if !self.fields.get(self.focus).is_some_and(FormField::is_multi) => {
                return self.try_submit();
            }
            _ => {
                if let Some(field) = self.fields.get_mut(self.focus) {
                    field.handle_key(key);
                }
            }
        }
        FormOutcome::Editing
    }

    fn try_submit(&mut self) -> FormOutcome {
        for field in &mut self.fields {
            field.revalidate();
        }
        if self.is_valid() {
            FormOutcome::Submitted
        } else {
            self.blocked = true;
            self.focus = self.fields.iter().position(|f| f.error.is_some()).unwrap_or(self.focus);
            FormOutcome::Editing
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let multi_count = self.fields.iter().filter(|f| f.is_multi()).count() as u16;
        let fixed: u16 = self.fields.iter().map(|f| 2 + u16::from(!f.is_multi())).sum::<u16>() + 3;
        // Multi-line editors share whatever the screen has left, at least 3 lines each.
        let multi =
            area.height.saturating_sub(fixed + 2).checked_div(multi_count).map_or(0, |n| n.max(3));
        let body: u16 = self.fields.iter().map(|f| f.height(multi) + 2).sum();
        if multi_count == 0 && body + 3 > area.height {
            return self.render_compact(frame, area, theme);
        }
        let width = if multi_count > 0 {
            area.width.saturating_sub(4)
        } else {
            area.width.saturating_sub(8).min(96)
        };
        let popup = centered(area, width, body + 3);
        let inner = self.render_frame(frame, popup, theme);
        let mut constraints: Vec<Constraint> =
            self.fields.iter().map(|f| Constraint::Length(f.height(multi) + 2)).collect();
        constraints.push(Constraint::Length(1));
        let areas = Layout::vertical(constraints).split(inner);
        for (i, field) in self.fields.iter().enumerate() {
            let focused = i == self.focus;
            let [label, editor, message] = Layout::vertical([
                Constraint::Length(1),
                Constraint::Length(field.height(multi)),
                Constraint::Length(1),
            ])
            .areas(areas[i]);
            let label_style = if focused { theme.accent } else { theme.muted };
            frame.render_widget(
                Line::styled(
                    format!("{}{}", if focused { "› " } else { "  " }, field.label),
                    label_style,
                ),
                label,
            );
            let editor_area =
                Rect { x: editor.x + 2, width: editor.width.saturating_sub(2), ..editor };
            match &field.editor {
                Editor::Line(input) => frame.render_widget(input.widget(), editor_area),
                Editor::Multi(text) => frame.render_widget(text, editor_area),
            }
            let note = match &field.error {
                Some(error) => Line::styled(format!("  ✗ {error}"), theme.error),
                None if field.validator.is_some() => Line::styled("  ✓", theme.ok),
                None => Line::default(),
            };
            frame.render_widget(note, message);
        }
        let hint = if self.blocked && !self.is_valid() {
            Line::styled(
                "Fix the fields marked ✗ first. Tab next field · Ctrl-S save · Esc cancel",
                theme.warning,
            )
        } else {
            Line::styled("Tab next field · Enter/Ctrl-S submit · Esc cancel", theme.muted)
        };
        frame.render_widget(hint, areas[self.fields.len()]);
    }
}

impl Form {
    /// The cleared popup with its titled border; returns the area inside.
    fn render_frame(&self, frame: &mut Frame, popup: Rect, theme: &Theme) -> Rect {
        frame.render_widget(Clear, popup);
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(theme.border_focused)
            .title(Span::styled(format!(" {} ", self.title), theme.accent));
        let inner = block.inner(popup);
        frame.render_widget(block, popup);
        inner
    }

    /// One row per field when the screen is too short for label, editor and note on three
    /// (the create form at 80x24): a short label column, the editor, a mark; the focused
    /// field's full label and its error at the bottom.
    fn render_compact(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let popup =
            centered(area, area.width.saturating_sub(2).min(96), self.fields.len() as u16 + 5);
        let inner = self.render_frame(frame, popup, theme);
        let mut constraints: Vec<Constraint> =
            self.fields.iter().map(|_| Constraint::Length(1)).collect();
        constraints.extend([Constraint::Length(1), Constraint::Length(1), Constraint::Length(1)]);
        let rows = Layout::vertical(constraints).split(inner);
        let label_width = (inner.width / 3).clamp(8, 24);
        for (i, field) in self.fields.iter().enumerate() {
            let focused = i == self.focus;
            let [label, editor, mark] = Layout::horizontal([
                Constraint::Length(label_width),
                Constraint::Min(1),
                Constraint::Length(2),
            ])
            .areas(rows[i]);
            let short: String =
                field.label.chars().take(label_width.saturating_sub(3) as usize).collect();
            let style = if focused { theme.accent } else { theme.muted };
            frame.render_widget(
                Line::styled(format!("{}{short}", if focused { "› " } else { "  " }), style),
                label,
            );
            if let Editor::Line(input) = &field.editor {
                frame.render_widget(input.widget(), editor);
            }
            let note = match &field.error {
                Some(_) => Line::styled("✗", theme.error),
                None if field.validator.is_some() => Line::styled("✓", theme.ok),
                None => Line::default(),
            };
            frame.render_widget(note, mark);
        }
        let n = self.fields.len();
        if let Some(field) = self.fields.get(self.focus) {
            let about = match &field.error {
                Some(error) => Line::styled(format!("✗ {error}"), theme.error),
                None => Line::styled(field.label.clone(), theme.text),
            };
            frame.render_widget(about, rows[n + 1]);
        }
        let hint = if self.blocked && !self.is_valid() {
            "Fix the fields marked ✗ first · Esc cancel"
        } else {
            "Tab next field · Enter submit · Esc cancel"
        };
        frame.render_widget(Line::styled(hint, theme.muted), rows[n + 2]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn replicas_form() -> Form {
        Form::new(
            "Scale",
            vec![
                FormField::line("name", "Name", "llama"),
                FormField::line("replicas", "Replicas", "").validate_with(|v| {
                    v.parse::<u32>().map(|_| ()).map_err(|_| format!("`{v}` is not a whole number"))
                }),
            ],
        )
    }

    #[test]
    fn invalid_fields_block_submit_and_focus_the_problem() {
        let mut form = replicas_form();
        assert_eq!(form.handle_key(key(KeyCode::Enter)), FormOutcome::Editing);
        assert_eq!(form.focus(), 1);
        assert!(form.fields[1].error().is_some());
        form.handle_key(key(KeyCode::Char('3')));
        assert!(form.fields[1].error().is_none());
        assert_eq!(form.handle_key(key(KeyCode::Enter)), FormOutcome::Submitted);
        assert_eq!(form.value("replicas").as_deref(), Some("3"));
    }

    #[test]
    fn multi_line_fields_take_enter_as_newline() {
        let mut form = Form::new("Recipe", vec![FormField::multi_line("yaml", "YAML", "id: a")]);
        form.handle_key(key(KeyCode::Enter));
        form.handle_key(key(KeyCode::Char('x')));
        // The cursor starts at the top left, so Enter opens a line above the text.
        assert_eq!(form.value("yaml").as_deref(), Some("\nxid: a"));
        assert_eq!(
            form.handle_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)),
            FormOutcome::Submitted
        );
    }
}
