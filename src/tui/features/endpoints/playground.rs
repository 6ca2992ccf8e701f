//! The prompt playground (`p` on an endpoint): a multi-line prompt (`ratatui-textarea`), sent
//! to `/v1/chat/completions` with streaming; tokens appear as they arrive, with TTFT and the
//! decode speed. `Esc` cancels a running stream, then closes the pane.

use crate::tui::event::RunId;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};
use ratatui_textarea::TextArea;

use crate::engine::openai::{StreamEvent, StreamSummary};
use crate::tui::features::endpoints::view::latency;
use crate::tui::theme::Theme;

// One per open playground: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Editing,
    Streaming,
    Finished(StreamSummary),
    Cancelled,
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct Playground {
    pub endpoint_id: String,
    pub base_url: String,
    pub model: String,
    pub prompt: TextArea<'static>,
    pub output: String,
    pub status: Status,
    /// Text chunks received so far (one token each on vLLM and SGLang).
    pub tokens: u64,
    pub ttft_s: Option<f64>,
    pub last_token_s: Option<f64>,
    /// The stream whose events are expected; older streams' events are dropped.
    pub run: RunId,
    /// The run to cancel on Esc, while it goes.
    cancel: Option<RunId>,
}

/// What a key asks of the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOutcome {
    Nothing,
    Send,
    Close,
    /// Esc while a run goes: stop it (the runner cancels its token).
    Cancel(RunId),
}

impl Playground {
    pub fn new(endpoint_id: &str, base_url: &str, model: &str) -> Playground {
        let mut prompt = TextArea::default();
        prompt.set_cursor_line_style(Style::default());
        prompt.set_placeholder_text("Type a prompt; Ctrl-S sends it");
        Playground {
            endpoint_id: endpoint_id.to_string(),
            base_url: base_url.to_string(),
            model: model.to_string(),
            prompt,
            output: String::new(),
            status: Status::Editing,
            tokens: 0,
            ttft_s: None,
            last_token_s: None,
            run: RunId::default(),
            cancel: None,
        }
    }

    pub fn prompt_text(&self) -> String {
        self.prompt.lines().join("\n")
    }

    pub fn is_streaming(&self) -> bool {
        self.status == Status::Streaming
    }

    /// Decode speed so far: tokens after the first over the time after the first.
    pub fn tokens_per_s(&self) -> Option<f64> {
        if let Status::Finished(summary) = &self.status {
            return summary.tokens_per_s;
        }
        match (self.ttft_s, self.last_token_s) {
            (Some(first), Some(last)) if self.tokens > 1 && last > first => {
                Some((self.tokens - 1) as f64 / (last - first))
            }
            _ => None,
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> KeyOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc if self.is_streaming() => {
                self.status = Status::Cancelled;
                match self.cancel.take() {
                    Some(run) => KeyOutcome::Cancel(run),
                    None => KeyOutcome::Nothing,
                }
            }
            KeyCode::Esc => KeyOutcome::Close,
            KeyCode::Char('s') if ctrl && !self.is_streaming() => {
                if self.prompt_text().trim().is_empty() {
                    self.status = Status::Failed("the prompt is empty".into());
                    KeyOutcome::Nothing
                } else {
                    KeyOutcome::Send
                }
            }
            _ if self.is_streaming() => KeyOutcome::Nothing,
            _ => {
                self.prompt.input(key);
                KeyOutcome::Nothing
            }
        }
    }

    /// Starts showing stream `run` (Esc cancels it).
    pub fn started(&mut self, run: RunId) {
        self.run = run;
        self.cancel = Some(run);
        self.output.clear();
        self.tokens = 0;
        self.ttft_s = None;
        self.last_token_s = None;
        self.status = Status::Streaming;
    }

    pub fn apply(&mut self, run: RunId, event: StreamEvent) {
        if run != self.run {
            return;
        }
        match event {
            StreamEvent::Token { text, elapsed_s } => {
                if self.status != Status::Streaming {
                    return;
                }
                self.output.push_str(&text);
                self.tokens += 1;
                self.ttft_s.get_or_insert(elapsed_s);
                self.last_token_s = Some(elapsed_s);
            }
            StreamEvent::Finished(summary) => {
                self.cancel = None;
                if summary.cancelled || self.status == Status::Cancelled {
                    self.status = Status::Cancelled;
                    return;
                }
                // The summary has every token, also any the display channel dropped.
                self.output = summary.text.clone();
                self.tokens = summary.completion_tokens;
                self.ttft_s = summary.ttft_s;
                self.status = Status::Finished(summary);
            }
            StreamEvent::Failed(message) => {
                self.cancel = None;
                self.status = Status::Failed(message);
            }
        }
    }

    fn status_line(&self, theme: &Theme) -> Line<'static> {
        let speed = self.tokens_per_s().map(|t| format!("{t:.1}")).unwrap_or_else(|| "-".into());
        let figures =
            format!("TTFT {}  tokens {}  tok/s {speed}", latency(self.ttft_s), self.tokens);
        let (word, style) = match &self.status {
            Status::Editing => ("ready to send".to_string(), theme.muted),
            Status::Streaming => ("streaming…".to_string(), theme.info),
            Status::Finished(summary) => (
                format!(
                    "done ({}) in {}",
                    summary.finish_reason.as_deref().unwrap_or("end"),
                    latency(Some(summary.e2e_s))
                ),
                theme.ok,
            ),
            Status::Cancelled => ("cancelled".to_string(), theme.warning),
            Status::Failed(message) => (format!("failed: {message}"), theme.error),
        };
        Line::from(vec![
            Span::styled(format!("{word}  "), style),
            Span::styled(figures, theme.text),
        ])
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        frame.render_widget(Clear, area);
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(theme.border_focused)
            .title(Span::styled(
                format!(" Playground: {} · {} ", self.endpoint_id, self.model),
                theme.accent,
            ))
            .title_bottom(
                Line::styled(
                    format!(" POST {}/v1/chat/completions (stream) ", self.base_url),
                    theme.muted,
                )
                .right_aligned(),
            );
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let prompt_height = (inner.height / 3).max(3);
        let [prompt_label, prompt, status, output] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(prompt_height),
            Constraint::Length(1),
            Constraint::Fill(1),
        ])
        .areas(inner);
        frame.render_widget(Line::styled("Prompt", theme.accent), prompt_label);
        let mut editor = self.prompt.clone();
        editor.set_style(theme.text);
        editor.set_block(
            Block::bordered().border_type(BorderType::Plain).border_style(if self.is_streaming() {
                theme.border
            } else {
                theme.border_focused
            }),
        );
        frame.render_widget(&editor, prompt);
        frame.render_widget(self.status_line(theme), status);
        // Show the end of a long answer: the newest tokens are what the user watches.
        let text = Paragraph::new(self.output.clone()).style(theme.text).wrap(Wrap { trim: false });
        let height = wrapped_height(&self.output, output.width) as u16;
        let scroll = height.saturating_sub(output.height);
        frame.render_widget(text.scroll((scroll, 0)), output);
    }
}

/// Lines `text` takes wrapped at `width` (by characters; word wrapping may add a few, which
/// only scrolls the newest line a little less far).
fn wrapped_height(text: &str, width: u16) -> usize {
    let width = usize::from(width.max(1));
    text.split('\n').map(|line| line.chars().count().div_ceil(width).max(1)).sum()
}
