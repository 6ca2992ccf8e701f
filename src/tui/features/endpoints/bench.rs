//! The smoke benchmark as a background job (`b` on an endpoint's row). A small form asks for
//! requests, concurrency and token counts; on submit the console goes back to the table while
//! the run goes on, its progress in the footer (`x` stops it), and the report lands in the
//! endpoint's detail, on the definitions `aimdeck bench` uses. A deployment's run spreads its
//! requests over every ready replica, as `aimdeck bench DEPLOYMENT` does.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};

use crate::engine::bench::{BenchProgress, BenchReport, LatencyStats};
use crate::tui::event::{Now, RunId};
use crate::tui::features::endpoints::view::latency;
use crate::tui::joins::deployment_rows::shown_name;
use crate::tui::theme::Theme;
use crate::tui::widgets::Form;
use crate::tui::widgets::form::{FormField, FormOutcome};

/// What the user asked for in the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchAsk {
    pub requests: u64,
    pub concurrency: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// Where a run's requests go, and how the console names that to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchTargets {
    /// The first gets request 0, the next request 1, and so on round the list.
    pub urls: Vec<String>,
    /// `3 ready replicas`, `the Service (http://…)`, or the watched URL.
    pub label: String,
}

impl BenchTargets {
    /// A watched endpoint: its one URL.
    pub fn one(url: &str) -> BenchTargets {
        BenchTargets { urls: vec![url.to_string()], label: url.to_string() }
    }

    /// A deployment's ready replicas. On Kubernetes every replica answers behind the one
    /// Service address, so the run goes through it and the Service balances.
    pub fn replicas(urls: Vec<String>, through_service: bool) -> BenchTargets {
        let mut unique: Vec<String> = Vec::new();
        for url in urls {
            if !unique.contains(&url) {
                unique.push(url);
            }
        }
        let label = match (through_service, unique.len()) {
            (true, _) => format!("the Service ({})", unique.join(", ")),
            (false, 1) => format!("1 ready replica ({})", unique[0]),
            (false, n) => format!("{n} ready replicas"),
        };
        BenchTargets { urls: unique, label }
    }
}

/// The form, over the table, before a run starts.
#[derive(Debug, Clone)]
pub struct BenchPane {
    pub endpoint_id: String,
    pub targets: BenchTargets,
    pub model: Option<String>,
    pub form: Form,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOutcome {
    Nothing,
    Start(BenchAsk),
    Close,
}

fn whole(value: &str, max: u64) -> Result<(), String> {
    match value.trim().parse::<u64>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) if n > max => Err(format!("at most {max} for a smoke test")),
        Ok(_) => Ok(()),
        Err(_) => Err(format!("`{value}` is not a whole number")),
    }
}

pub fn form(endpoint_id: &str) -> Form {
    Form::new(
        format!("Smoke benchmark: {}", shown_name(endpoint_id)),
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
    pub fn new(endpoint_id: &str, targets: BenchTargets, model: Option<String>) -> BenchPane {
        BenchPane { endpoint_id: endpoint_id.into(), targets, model, form: form(endpoint_id) }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> KeyOutcome {
        match self.form.handle_key(key) {
            FormOutcome::Editing => KeyOutcome::Nothing,
            FormOutcome::Cancelled => KeyOutcome::Close,
            FormOutcome::Submitted => {
                let number = |name: &str| {
                    self.form.value(name).and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(1)
                };
                KeyOutcome::Start(BenchAsk {
                    requests: number("requests"),
                    concurrency: number("concurrency"),
                    input_tokens: number("input_tokens"),
                    output_tokens: number("output_tokens"),
                })
            }
        }
    }

    pub fn footer_hints(&self) -> Vec<(String, &'static str)> {
        vec![
            ("tab".to_string(), "next field"),
            ("enter".to_string(), "start"),
            ("esc".to_string(), "cancel"),
        ]
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        self.form.render(frame, area, theme);
    }
}

/// The run going on in the background. One at a time: two runs would measure each other.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchJob {
    pub endpoint_id: String,
    pub targets: BenchTargets,
    pub run: RunId,
    pub progress: BenchProgress,
    /// `x` was pressed: the requests in flight finish, then the report comes.
    pub stopping: bool,
}

impl BenchJob {
    /// The footer's text: `bench llama: 14/40 done, 1 failed, TTFT 41.2 ms, 812.5 tok/s`, or
    /// without the running figures where that does not fit in `width` columns.
    pub fn status_within(&self, width: usize) -> String {
        let verb = if self.stopping { "stopping bench" } else { "bench" };
        let full = format!("{verb} {}: {}", shown_name(&self.endpoint_id), self.progress.line());
        if crate::tui::widgets::text_width(&full) <= width {
            return full;
        }
        let p = &self.progress;
        format!(
            "{verb} {}: {}/{} done, {} failed",
            shown_name(&self.endpoint_id),
            p.done,
            p.total,
            p.failed
        )
    }
}

/// A finished run, kept for the endpoint's detail until the next run of it.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchOutcome {
    pub targets: BenchTargets,
    pub finished_unix_ms: i64,
    /// Stopped with `x`: the report covers the requests that ran.
    pub stopped: bool,
    pub result: Result<BenchReport, String>,
}

impl BenchOutcome {
    /// The message line's summary when the run ends.
    pub fn summary(&self, endpoint_id: &str) -> String {
        let endpoint_id = shown_name(endpoint_id);
        match &self.result {
            Ok(r) => format!(
                "bench {endpoint_id}{}: {:.1} output tok/s, TTFT p50 {}, {}/{} ok; the report \
                 is in its detail (enter)",
                if self.stopped { " stopped" } else { " done" },
                r.output_tokens_per_s,
                latency(r.ttft_s.p50),
                r.succeeded,
                r.requests,
            ),
            Err(err) => format!("bench {endpoint_id} failed: {err}"),
        }
    }
}

/// The detail's benchmark section: the running job's progress, or the last report in a few
/// lines (what ran, throughput, the p50/p99 of each latency). `compact`, for a short screen
/// where the charts need the rows: the report in one line.
pub fn detail_lines(
    job: Option<&BenchJob>,
    outcome: Option<&BenchOutcome>,
    compact: bool,
    now: &Now,
    theme: &Theme,
) -> Vec<Line<'static>> {
    if let Some(job) = job {
        return vec![Line::from(vec![
            Span::styled("benchmark ", theme.accent),
            Span::styled(format!("over {}: ", job.targets.label), theme.muted),
            Span::styled(job.progress.line(), theme.text),
            Span::styled(if job.stopping { "  stopping…" } else { "  x stops it" }, theme.muted),
        ])];
    }
    let Some(outcome) = outcome else { return Vec::new() };
    let when = now.time_of_day_of(outcome.finished_unix_ms);
    let report = match &outcome.result {
        Ok(report) => report,
        Err(err) => {
            return vec![Line::from(vec![
                Span::styled(format!("benchmark {when} "), theme.accent),
                Span::styled(format!("failed: {err}"), theme.error),
            ])];
        }
    };
    let latencies = [("TTFT", &report.ttft_s), ("ITL", &report.itl_s), ("E2E", &report.e2e_s)];
    let p50_p99 = |names: usize| {
        latencies[..names]
            .iter()
            .map(|(name, s)| format!("{name} {}/{}", latency(s.p50), latency(s.p99)))
            .collect::<Vec<_>>()
            .join("  ")
    };
    if compact {
        return vec![Line::from(vec![
            Span::styled(format!("benchmark {when} "), theme.accent),
            Span::styled(format!("{:.1} output tok/s", report.output_tokens_per_s), theme.ok),
            Span::styled(
                format!(
                    "  {}/{} ok  p50/p99 {}{}",
                    report.succeeded,
                    report.requests,
                    p50_p99(1),
                    if outcome.stopped { "  stopped early" } else { "" }
                ),
                theme.muted,
            ),
        ])];
    }
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("benchmark {when} "), theme.accent),
            Span::styled(
                format!(
                    "{} over {}: {} requests ({} ok, {} failed), concurrency {}, {} in / {} out \
                     tokens, {:.1}s{}",
                    report.model,
                    outcome.targets.label,
                    report.requests,
                    report.succeeded,
                    report.failed,
                    report.concurrency,
                    report.input_tokens,
                    report.output_tokens,
                    report.duration_s,
                    if outcome.stopped { ", stopped early" } else { "" }
                ),
                theme.muted,
            ),
        ]),
        Line::from(vec![
            Span::styled(
                format!(
                    "{:.2} req/s  {:.1} output tok/s  {:.1} total tok/s",
                    report.requests_per_s, report.output_tokens_per_s, report.total_tokens_per_s
                ),
                theme.ok,
            ),
            Span::styled("  p50/p99 ", theme.muted),
            Span::styled(p50_p99(latencies.len()), theme.text),
        ]),
    ];
    if report.targets.len() > 1 {
        let shares = report
            .targets
            .iter()
            .map(|t| format!("{} {} ok/{} failed", t.url, t.succeeded, t.failed))
            .collect::<Vec<_>>()
            .join(", ");
        lines.push(Line::styled(format!("spread: {shares}"), theme.muted));
    }
    for err in &report.errors {
        lines.push(Line::styled(format!("error: {err}"), theme.error));
    }
    lines
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

/// Rows a full percentile table takes (header and four latencies).
pub const TABLE_ROWS: u16 = 5;

/// The report's percentiles in full, where the detail has the rows for them.
pub fn render_table(frame: &mut Frame, area: Rect, report: &BenchReport, theme: &Theme) {
    let header = Row::new(["", "mean", "p50", "p90", "p95", "p99", "max"].map(Cell::from))
        .style(theme.accent);
    let rows = vec![
        stat_row("TTFT", &report.ttft_s),
        stat_row("TPOT", &report.tpot_s),
        stat_row("ITL", &report.itl_s),
        stat_row("E2E", &report.e2e_s),
    ];
    // The latency's name, then six figures.
    let widths =
        std::iter::once(Constraint::Length(5)).chain(std::iter::repeat_n(Constraint::Length(8), 6));
    frame.render_widget(
        Table::new(rows, widths).header(header).style(theme.text).column_spacing(1),
        area,
    );
}
