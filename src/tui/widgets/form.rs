//! A form of single-line fields (each with validation) and optional multi-line editors
//! (a YAML recipe, a prompt), on `ratatui-textarea`. Tab and Shift-Tab move between fields,
//! Enter submits from a one-line field, Ctrl-S submits from anywhere, Esc cancels.
//!
//! A field's error shows only once the field was left or a submit was tried (nothing is
//! wrong with a field nobody has typed into yet). A submit the caller could not carry out
//! (`Form::fail`) keeps the form, its values and the whole cause. Drawing is in `form_view.rs`.

use std::fmt;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Style;
use ratatui_textarea::TextArea;

use super::text_input::TextInput;

/// Checks a field's text; `Err` carries the message shown under the field.
pub type Validator = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

#[derive(Clone)]
pub(super) enum Editor {
    Line(TextInput),
    Multi(TextArea<'static>),
}

#[derive(Clone)]
pub struct FormField {
    pub name: &'static str,
    /// A few words, shown beside the value.
    pub label: String,
    /// What the field takes, shown under it while it has the focus.
    pub hint: String,
    pub(super) editor: Editor,
    validator: Option<Validator>,
    error: Option<String>,
    /// Left once or submitted: from then on its error shows.
    pub(super) touched: bool,
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

/// Fields compare by what they show and hold; a validator is code, so two fields with the
/// same text and error are equal whatever checks them.
impl PartialEq for FormField {
    fn eq(&self, other: &FormField) -> bool {
        (self.name, &self.label, &self.hint, self.value(), &self.error, self.touched)
            == (other.name, &other.label, &other.hint, other.value(), &other.error, other.touched)
    }
}

impl FormField {
    pub fn line(name: &'static str, label: impl Into<String>, initial: &str) -> FormField {
        FormField::new(name, label.into(), Editor::Line(TextInput::new(initial)))
    }

    pub fn multi_line(name: &'static str, label: impl Into<String>, initial: &str) -> FormField {
        let mut area = TextArea::new(initial.lines().map(str::to_string).collect());
        area.set_cursor_line_style(Style::default());
        FormField::new(name, label.into(), Editor::Multi(area))
    }

    fn new(name: &'static str, label: String, editor: Editor) -> FormField {
        FormField {
            name,
            label,
            hint: String::new(),
            editor,
            validator: None,
            error: None,
            touched: false,
        }
    }

    /// The line under the field while it has the focus: what it takes, what empty means.
    pub fn hint(mut self, hint: impl Into<String>) -> FormField {
        self.hint = hint.into();
        self
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

    /// The field's current problem, whether or not it shows yet.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The problem as the screen shows it: only once the field was left or submitted.
    pub fn shown_error(&self) -> Option<&str> {
        self.error.as_deref().filter(|_| self.touched)
    }

    pub(super) fn is_multi(&self) -> bool {
        matches!(self.editor, Editor::Multi(_))
    }

    fn revalidate(&mut self) {
        let value = self.value();
        self.error = self.validator.as_ref().and_then(|check| check(&value).err());
    }

    fn set_value(&mut self, value: &str) {
        match &mut self.editor {
            Editor::Line(input) => input.set_value(value),
            Editor::Multi(area) => {
                *area = TextArea::new(value.lines().map(str::to_string).collect());
                area.set_cursor_line_style(Style::default());
            }
        }
        self.revalidate();
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormOutcome {
    Editing,
    Submitted,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub title: String,
    pub fields: Vec<FormField>,
    pub(super) focus: usize,
    /// Set when the user tried to submit with invalid fields.
    pub(super) blocked: bool,
    /// Why the last submit failed once the form was handed over (a preflight, a backend
    /// gone): shown whole, wrapped, until the next submit.
    pub(super) failure: Option<String>,
}

impl Form {
    pub fn new(title: impl Into<String>, fields: Vec<FormField>) -> Form {
        Form { title: title.into(), fields, focus: 0, blocked: false, failure: None }
    }

    pub fn value(&self, name: &str) -> Option<String> {
        self.fields.iter().find(|f| f.name == name).map(FormField::value)
    }

    /// Fills a field (a form reopened from a draft); unknown names are ignored.
    pub fn set_value(&mut self, name: &str, value: &str) {
        if let Some(field) = self.fields.iter_mut().find(|f| f.name == name) {
            field.set_value(value);
        }
    }

    pub fn is_valid(&self) -> bool {
        self.fields.iter().all(|f| f.error.is_none())
    }

    pub fn focus(&self) -> usize {
        self.focus
    }

    /// The submit could not be carried out: the form stays, with `cause` shown in full.
    pub fn fail(&mut self, cause: impl Into<String>) {
        self.failure = Some(cause.into());
    }

    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> FormOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let count = self.fields.len().max(1);
        match key.code {
            KeyCode::Esc => return FormOutcome::Cancelled,
            KeyCode::Tab => self.move_focus((self.focus + 1) % count),
            KeyCode::BackTab => self.move_focus((self.focus + count - 1) % count),
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

    /// Leaving a field is when its error may show.
    fn move_focus(&mut self, to: usize) {
        if let Some(field) = self.fields.get_mut(self.focus) {
            field.touched = true;
        }
        self.focus = to;
    }

    fn try_submit(&mut self) -> FormOutcome {
        self.failure = None;
        for field in &mut self.fields {
            field.revalidate();
            field.touched = true;
        }
        if self.is_valid() {
            FormOutcome::Submitted
        } else {
            self.blocked = true;
            self.focus = self.fields.iter().position(|f| f.error.is_some()).unwrap_or(self.focus);
            FormOutcome::Editing
        }
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
    fn errors_show_only_once_the_field_was_left_or_submitted() {
        let mut form = replicas_form();
        form.handle_key(key(KeyCode::Tab));
        assert!(form.fields[1].error().is_some(), "known at once");
        assert_eq!(form.fields[1].shown_error(), None, "not shown before it was left");
        form.handle_key(key(KeyCode::Tab));
        assert!(form.fields[1].shown_error().is_some(), "shown once left");
        form.fail("backend docker is not open");
        assert_eq!(form.failure(), Some("backend docker is not open"));
        form.handle_key(key(KeyCode::Char('2')));
        form.handle_key(key(KeyCode::Tab));
        form.handle_key(key(KeyCode::Char('5')));
        assert_eq!(form.handle_key(key(KeyCode::Enter)), FormOutcome::Submitted);
        assert_eq!(form.failure(), None, "a new submit clears the old cause");
        assert_eq!(form.value("replicas").as_deref(), Some("5"));
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
