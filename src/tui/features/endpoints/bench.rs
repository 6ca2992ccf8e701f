//! The smoke benchmark pane (`b` on an endpoint): a small form (requests, concurrency, input
//! and output tokens), a live progress gauge, then TTFT / ITL / end-to-end percentiles and
//! throughput, as `aimdeck bench` reports them.

use crate::tui::event::RunId;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Cell, Clear, Gauge, Paragraph, Row, Table, Wrap};

use crate::engine::bench::{BenchProgress, BenchReport, LatencyStats};
use crate::tui::features::endpoints::view::latency;
use crate::tui::theme::Theme;
use crate::tui::widgets::Form;
use crate::tui::widgets::form::{FormField, FormOutcome};

#[derive(Debug, Clone)]
pub enum Stage {
    Form(Form),
    Running { progress: BenchProgress, cancelled: bool },
    Done(Box<BenchReport>),
    Failed(String),
}

/// What the user asked for in the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchAsk {
    pub requests: u64,
    pub concurrency: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

#[derive(Debug, Clone)]
pub struct BenchPane {
    pub endpoint_id: String,
    pub base_url: String,
    pub model: Option<String>,
    pub stage: Stage,
    /// The run whose events are expected.
    pub run: RunId,
    /// The run to cancel on Esc, while it goes.
    cancel: Option<RunId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOutcome {
    Nothing,
    Start(BenchAsk),
    Close,
    /// Esc while a run goes: stop it (the runner cancels its token).
    Cancel(RunId),
}

fn whole(value: &str, max: u64) -> Result<(), String> {
    match value.trim().parse::<u64>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) if n > max => Err(format!("at most {max} for a smoke test")),
        Ok(_) => Ok(()),
        Err(_) => Err(format!("`{value}` is not a whole number")),
    }
}

pub fn form() -> Form {
    Form::new(
        "Smoke benchmark",
        vec![
            FormField::line("requests", "Requests", "20")
                .hint("how many in all, 1 to 10000")
                .validate_with(|v| whole(v, 10_000)),
            FormField::line("concurrency", "Concurrency", "4")
                .hint("in flight at once")
                .validate_with(|v| whole(v, 1_000)),
            FormField::line("input_tokens", "Input tokens", "128")
                .hint("per request, of a synthetic prompt")
                .validate_with(|v| whole(v, 131_072)),
            FormField::line("output_tokens", "Output tokens", "64")
                .hint("per request (max_tokens)")
                .validate_with(|v| whole(v, 32_768)),
        ],
    )
}

impl BenchPane {
    pub fn new(endpoint_id: &str, base_url: &str, model: Option<String>) -> BenchPane {
        BenchPane {
            endpoint_id: endpoint_id.into(),
            base_url: base_url.into(),
            model,
            stage: Stage::Form(form()),
            run: RunId::default(),
            cancel: None,
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self.stage, Stage::Running { .. })
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> KeyOutcome {
        match &mut self.stage {
            Stage::Form(form) => match form.handle_key(key) {
                FormOutcome::Editing => KeyOutcome::Nothing,
                FormOutcome::Cancelled => KeyOutcome::Close,
                FormOutcome::Submitted => {
                    let number = |name: &str| {
                        form.value(name).and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(1)
                    };
                    KeyOutcome::Start(BenchAsk {
                        requests: number("requests"),
                        concurrency: number("concurrency"),
                        input_tokens: number("input_tokens"),
                        output_tokens: number("output_tokens"),
                    })
                }
            },
            Stage::Running { cancelled, .. } => {
                if key.code == KeyCode::Esc && !*cancelled {
                    // The report still comes, covering the requests that ran.
                    *cancelled = true;
                    if let Some(run) = self.cancel.take() {
                        return KeyOutcome::Cancel(run);
                    }
                }
                KeyOutcome::Nothing
            }
            Stage::Done(_) | Stage::Failed(_) => match key.code {
                KeyCode::Esc | KeyCode::Enter => KeyOutcome::Close,
                _ => KeyOutcome::Nothing,
            },
        }
    }

    pub fn started(&mut self, run: RunId, total: u64) {
        self.run = run;
        self.cancel = Some(run);
        self.stage = Stage::Running {
            progress: BenchProgress { total, ..BenchProgress::default() },
            cancelled: false,
        };
    }

    pub fn progress(&mut self, run: RunId, update: BenchProgress) {
        if let (true, Stage::Running { progress, .. }) = (run == self.run, &mut self.stage) {
            *progress = update;
        }
    }

    pub fn finished(&mut self, run: RunId, result: Result<BenchReport, String>) {
        if run != self.run {
            return;
        }
        self.cancel = None;
        self.stage = match result {
            Ok(report) => Stage::Done(Box::new(report)),
            Err(err) => Stage::Failed(err),
        };
    }

    pub fn footer_hints(&self) -> Vec<(String, &'static str)> {
        let hint = |k: &str, w: &'static str| (k.to_string(), w);
        match self.stage {
            Stage::Form(_) => {
                vec![hint("tab", "next field"), hint("enter", "start"), hint("esc", "cancel")]
            }
            Stage::Running { .. } => vec![hint("esc", "stop")],
            Stage::Done(_) | Stage::Failed(_) => vec![hint("esc", "back")],
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        if let Stage::Form(form) = &self.stage {
            form.render(frame, area, theme);
            return;
        }
        frame.render_widget(Clear, area);
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(theme.border_focused)
            .title(Span::styled(format!(" Smoke benchmark: {} ", self.endpoint_id), theme.accent))
            .title_bottom(
                Line::styled(format!(" {} ", self.base_url), theme.muted).right_aligned(),
            );
        let inner = block.inner(area);
        frame.render_widget(block, area);
        match &self.stage {
            Stage::Form(_) => {}
            Stage::Running { progress, cancelled } => {
                let [gauge, note, _] = Layout::vertical([
                    Constraint::Length(3),
                    Constraint::Length(1),
                    Constraint::Fill(1),
                ])
                .areas(inner);
                let label = format!(
                    "{}/{} done, {} failed",
                    progress.done, progress.total, progress.failed
                );
                frame.render_widget(
                    Gauge::default()
                        .block(Block::bordered().border_style(theme.border).title(" progress "))
                        .gauge_style(theme.accent)
                        .ratio(progress.ratio().clamp(0.0, 1.0))
                        .label(label),
                    gauge,
                );
                let text = if *cancelled {
                    "stopping: waiting for the requests in flight…"
                } else {
                    "Esc stops the run; the report covers what finished."
                };
                frame.render_widget(Line::styled(text, theme.muted), note);
            }
            Stage::Failed(err) => {
                frame.render_widget(
                    Paragraph::new(Line::styled(format!("benchmark failed: {err}"), theme.error))
                        .wrap(Wrap { trim: true }),
                    inner,
                );
            }
            Stage::Done(report) => render_report(frame, inner, report, theme),
        }
    }
}

fn stat_row(name: &'static str, s: &LatencyStats) -> Row<'static> {
    Row::new(
        [
            name.to_string(),
            latency(s.mean),
            latency(s.p50),
            latency(s.p90),
            latency(s.p95),
            latency(s.p99),
            latency(s.max),
        ]
        .map(Cell::from),
    )
}

fn render_report(frame: &mut Frame, area: Rect, report: &BenchReport, theme: &Theme) {
    let mut lines = vec![
        Line::from(vec![
            Span::styled("model ", theme.muted),
            Span::styled(report.model.clone(), theme.text),
            Span::styled(
                format!(
                    "  {} requests ({} ok, {} failed), concurrency {}, {} in / {} out tokens, {:.1}s",
                    report.requests,
                    report.succeeded,
                    report.failed,
                    report.concurrency,
                    report.input_tokens,
                    report.output_tokens,
                    report.duration_s
                ),
                theme.muted,
            ),
        ]),
        Line::from(vec![
            Span::styled("throughput ", theme.muted),
            Span::styled(
                format!(
                    "{:.2} req/s  {:.1} output tok/s  {:.1} total tok/s",
                    report.requests_per_s, report.output_tokens_per_s, report.total_tokens_per_s
                ),
                theme.ok,
            ),
        ]),
    ];
    for err in &report.errors {
        lines.push(Line::styled(format!("error: {err}"), theme.error));
    }
    let [summary, table] =
        Layout::vertical([Constraint::Length(lines.len() as u16 + 1), Constraint::Fill(1)])
            .areas(area);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), summary);
    let header = Row::new(["", "mean", "p50", "p90", "p95", "p99", "max"].map(Cell::from))
        .style(theme.accent);
    let rows = vec![
        stat_row("TTFT", &report.ttft_s),
        stat_row("ITL", &report.itl_s),
        stat_row("E2E", &report.e2e_s),
    ];
    let widths = [
        Constraint::Length(5),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(8),
    ];
    frame.render_widget(
        Table::new(rows, widths).header(header).style(theme.text).column_spacing(1),
        table,
    );
}
