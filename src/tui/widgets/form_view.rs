//! Drawing a `Form`: each one-line field on one row (label, then the value), the focused
//! field's hint or error on the row under it, multi-line editors sharing the height left, and
//! the rows scrolled so the focused field shows whatever the screen's height. A failed
//! submit's cause is wrapped in full above the key hints.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear};

use super::confirm::centered;
use super::form::{Editor, Form, FormField};
use crate::tui::theme::Theme;

/// Widest the popup gets without a multi-line editor: label and value read as one line.
const MAX_WIDTH: u16 = 100;

/// Greedy word wrap to `width` columns (a word longer than the width is cut into pieces).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let mut word: Vec<char> = word.chars().collect();
            while word.len() > width {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                lines.push(word.drain(..width).collect());
            }
            let word: String = word.into_iter().collect();
            let needed =
                line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
            if needed > width && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&word);
        }
        lines.push(line);
    }
    lines
}

impl Form {
    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let multi_count = self.fields.iter().filter(|f| f.is_multi()).count() as u16;
        // Over the view's inside whole (up to MAX_WIDTH), so nothing behind shows at its sides.
        let width = if multi_count > 0 {
            area.width.saturating_sub(2)
        } else {
            area.width.saturating_sub(2).min(MAX_WIDTH)
        };
        let inner_width = width.saturating_sub(4);
        let failure: Vec<String> = self
            .failure
            .as_deref()
            .map(|cause| wrap(&format!("✗ {cause}"), inner_width as usize))
            .unwrap_or_default();
        // Borders, the failure, the key hints.
        let chrome = 2 + failure.len() as u16 + 1;
        let room = area.height.saturating_sub(chrome).max(1);
        let line_rows: u16 = self.fields.iter().filter(|f| !f.is_multi()).count() as u16;
        // Label rows of multi-line editors, and the focused field's note row.
        let fixed = line_rows + multi_count + 1;
        let multi = room.saturating_sub(fixed).checked_div(multi_count).map_or(0, |n| n.max(3));
        let heights: Vec<u16> = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let own = if f.is_multi() { 1 + multi } else { 1 };
                own + u16::from(i == self.focus)
            })
            .collect();
        let total: u16 = heights.iter().sum();
        let visible = total.min(room);
        // Scroll just enough that the focused field (and its note) is in view.
        let start: u16 = heights[..self.focus.min(heights.len())].iter().sum();
        let end = start + heights.get(self.focus).copied().unwrap_or(0);
        let offset = if end > visible { (end - visible).min(start) } else { 0 };

        let popup = centered(area, width, visible + chrome);
        frame.render_widget(Clear, popup);
        let mut block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(theme.border_focused)
            .title(Span::styled(format!(" {} ", self.title), theme.accent));
        if total > visible {
            block = block.title_bottom(
                Line::styled(
                    format!(" field {}/{} · tab scrolls ", self.focus + 1, self.fields.len()),
                    theme.muted,
                )
                .right_aligned(),
            );
        }
        let framed = block.inner(popup);
        frame.render_widget(block, popup);
        // A column of air inside each border.
        let inner = Rect { x: framed.x + 1, width: framed.width.saturating_sub(2), ..framed };
        let label_width = self.label_width(inner.width);
        let body = Rect { height: visible.min(inner.height), ..inner };
        let mut y = 0u16;
        for (i, field) in self.fields.iter().enumerate() {
            let rows = heights[i];
            self.render_field(frame, body, (y, offset), label_width, i, field, rows, theme);
            y += rows;
        }
        let mut row = inner.y + body.height;
        for line in failure {
            frame.render_widget(
                Line::styled(line, theme.error),
                Rect { y: row, height: 1, ..inner },
            );
            row += 1;
        }
        let hint = if self.blocked && !self.is_valid() {
            Line::styled("Fix the fields marked ✗ · Tab next field · Esc cancel", theme.warning)
        } else {
            Line::styled("Tab next field · Enter/Ctrl-S submit · Esc cancel", theme.muted)
        };
        if row < inner.y + inner.height {
            frame.render_widget(hint, Rect { y: row, height: 1, ..inner });
        }
    }

    /// Room for the longest label and its mark, at most half the width.
    fn label_width(&self, inner: u16) -> u16 {
        let longest = self.fields.iter().map(|f| f.label.chars().count()).max().unwrap_or(0);
        (longest as u16 + 3).clamp(8, (inner / 2).max(8))
    }

    /// One field's rows, `at` = (its first row, the scroll offset) in form rows; rows above
    /// the offset or below the body are not drawn.
    #[allow(clippy::too_many_arguments)]
    fn render_field(
        &self,
        frame: &mut Frame,
        body: Rect,
        at: (u16, u16),
        label_width: u16,
        index: usize,
        field: &FormField,
        rows: u16,
        theme: &Theme,
    ) {
        let (first, offset) = at;
        let focused = index == self.focus;
        let row_rect = |row: u16, height: u16| -> Option<Rect> {
            let top = (first + row).checked_sub(offset)?;
            (top < body.height).then(|| Rect {
                y: body.y + top,
                height: height.min(body.height - top),
                ..body
            })
        };
        let error = field.shown_error();
        let (mark, mark_style) = match (focused, error) {
            (_, Some(_)) => ("✗ ", theme.error),
            (true, None) => ("› ", theme.accent),
            (false, None) => ("  ", theme.muted),
        };
        let label_style = if focused { theme.accent } else { theme.muted };
        // A multi-line editor's label has its row to itself.
        let room = if field.is_multi() { body.width } else { label_width };
        let label: String = field.label.chars().take(room.saturating_sub(3) as usize).collect();
        let label_line =
            Line::from(vec![Span::styled(mark, mark_style), Span::styled(label, label_style)]);
        let note_row = rows - 1;
        match &field.editor {
            Editor::Line(input) => {
                if let Some(rect) = row_rect(0, 1) {
                    frame.render_widget(label_line, rect);
                    let value = Rect {
                        x: rect.x + label_width,
                        width: rect.width.saturating_sub(label_width),
                        ..rect
                    };
                    let mut widget = input.widget().clone();
                    if !focused {
                        widget.set_cursor_style(Style::default());
                    }
                    frame.render_widget(&widget, value);
                }
            }
            Editor::Multi(text) => {
                if let Some(rect) = row_rect(0, 1) {
                    frame.render_widget(label_line, rect);
                }
                let editor_rows = rows - 1 - u16::from(focused);
                if let Some(rect) = row_rect(1, editor_rows) {
                    let rect = Rect { x: rect.x + 2, width: rect.width.saturating_sub(2), ..rect };
                    let mut widget = text.clone();
                    if !focused {
                        widget.set_cursor_style(Style::default());
                    }
                    frame.render_widget(&widget, rect);
                }
            }
        }
        if focused && let Some(rect) = row_rect(note_row, 1) {
            let indent = if field.is_multi() { 2 } else { label_width };
            let rect =
                Rect { x: rect.x + indent, width: rect.width.saturating_sub(indent), ..rect };
            let note = match error {
                Some(error) => Line::styled(format!("✗ {error}"), theme.error),
                None => Line::styled(field.hint.clone(), theme.muted),
            };
            frame.render_widget(note, rect);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_keeps_every_word_and_cuts_only_what_cannot_fit() {
        assert_eq!(wrap("no GPU has 80 GiB free", 10), ["no GPU has", "80 GiB", "free"]);
        assert_eq!(wrap("abcdefghijkl", 5), ["abcde", "fghij", "kl"]);
        assert_eq!(wrap("a\nb", 5), ["a", "b"]);
    }
}
