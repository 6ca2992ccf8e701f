//! One endpoint in detail: its state, engine and models, the latest numbers, charts over time
//! (tokens/s, queue, KV cache, TTFT and ITL percentiles) from the history ring, the GPUs it
//! holds when a deployment told us, the startup phase of a starting endpoint and its recent
//! errors. A deployment's detail starts with its rollout and one line per replica.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Wrap};

use super::charts::{Series, chart_specs, render_chart, series};
use crate::model::gpu::HealthState;
use crate::model::{EndpointState, Replica};
use crate::monitor::EndpointHistory;
use crate::tui::ctx::Ctx;
use crate::tui::event::Now;
use crate::tui::features::endpoints::view::{EndpointsState, latency, short_age, state_style};
use crate::tui::joins::deployment_rows::deployment_part;
use crate::tui::theme::Theme;

/// `replica`: the backend's replica 0 of a deployment's row, whose start time the age uses.
fn summary_lines(
    id: &str,
    state: &EndpointsState,
    history: Option<&EndpointHistory>,
    replica: Option<&Replica>,
    backend: &str,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let now = state.now();
    let url = state.watched.get(id).map(|w| w.url.clone()).unwrap_or_default();
    let Some(history) = history else {
        return vec![Line::from(vec![
            Span::styled("waiting for the first poll of ", theme.muted),
            Span::styled(url, theme.text),
        ])];
    };
    let age = match replica {
        Some(replica) if history.state == EndpointState::Ready => {
            crate::tui::joins::deployment_rows::ready_age(replica, Some(history), now)
        }
        _ => (history.state_since_unix_ms > 0).then(|| history.seconds_in_state(now)),
    };
    let since = age.map(|age| format!(" for {}", short_age(age))).unwrap_or_default();
    let mut first = vec![
        Span::styled(format!("{}{since}", history.state), state_style(history.state, theme)),
        Span::styled("  engine ", theme.muted),
        Span::styled(
            history.engine.map(|e| e.to_string()).unwrap_or_else(|| "unknown".into()),
            theme.text,
        ),
        Span::styled("  backend ", theme.muted),
        Span::styled(backend.to_string(), theme.text),
        Span::styled("  ", theme.muted),
        Span::styled(url, theme.info),
    ];
    if !history.models.is_empty() {
        first.push(Span::styled("  models ", theme.muted));
        first.push(Span::styled(history.models.join(", "), theme.text));
    }
    let mut lines = vec![Line::from(first)];
    if history.state == EndpointState::Starting {
        let phase = match state.startup.get(id) {
            Some(tracker) => match tracker.phase {
                Some(phase) => format!(
                    "{}, {}",
                    phase.as_str(),
                    short_age((now - tracker.since_unix_ms).max(0) as f64 / 1000.0)
                ),
                None => format!(
                    "starting, {}",
                    short_age((now - tracker.since_unix_ms).max(0) as f64 / 1000.0)
                ),
            },
            // A watched URL has no log to read: health is all there is.
            None => format!(
                "waiting for /health to answer, {}",
                short_age(history.seconds_in_state(now))
            ),
        };
        lines.push(Line::from(vec![
            Span::styled("phase ", theme.muted),
            Span::styled(phase, theme.warning),
        ]));
    }
    if let Some(s) = history.latest() {
        let num = |v: Option<f64>, digits: usize| {
            v.map(|v| format!("{v:.digits$}")).unwrap_or_else(|| "-".into())
        };
        let pct =
            |v: Option<f64>| v.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_else(|| "-".into());
        let spans = vec![
            Span::styled("run ", theme.muted),
            Span::styled(num(s.requests_running, 0), theme.text),
            Span::styled("  wait ", theme.muted),
            Span::styled(num(s.requests_waiting, 0), theme.text),
            Span::styled("  KV ", theme.muted),
            Span::styled(pct(s.kv_cache_usage), theme.text),
            Span::styled("  tok/s in ", theme.muted),
            Span::styled(num(s.prompt_tokens_per_s, 0), theme.text),
            Span::styled(" out ", theme.muted),
            Span::styled(num(s.generation_tokens_per_s, 0), theme.text),
            Span::styled("  req/s ", theme.muted),
            Span::styled(num(s.requests_per_s, 1), theme.text),
            Span::styled("  prefix hit ", theme.muted),
            Span::styled(pct(s.prefix_cache_hit_rate), theme.text),
            Span::styled("  preempt/s ", theme.muted),
            Span::styled(num(s.preemptions_per_s, 1), theme.text),
        ];
        lines.push(Line::from(spans));
        let p = |name: &str, q: &crate::model::Percentiles| {
            vec![
                Span::styled(format!("{name} p50/95/99 "), theme.muted),
                Span::styled(
                    format!("{}/{}/{}  ", latency(q.p50), latency(q.p95), latency(q.p99)),
                    theme.text,
                ),
            ]
        };
        let mut spans = p("TTFT", &s.ttft);
        spans.extend(p("ITL", &s.itl));
        spans.extend(p("e2e", &s.e2e));
        lines.push(Line::from(spans));
    }
    lines
}

/// The GPUs the endpoint holds, joined with the GPU poller's latest readings.
fn gpu_lines(ctx: &Ctx, id: &str) -> Vec<Line<'static>> {
    let theme = &ctx.theme;
    // A deployment's replicas say what they hold (all replicas: the row is the deployment).
    let held = deployment_part(id).and_then(|name| ctx.deploy.find(name)).map(|d| d.gpus());
    let Some(indices) = held.or_else(|| ctx.endpoints.gpu_indices.get(id).cloned()) else {
        return vec![
            Line::styled("not known", theme.muted),
            Line::styled(
                "aimdeck did not deploy this endpoint, so it cannot tell which GPUs it holds.",
                theme.muted,
            ),
        ];
    };
    if indices.is_empty() {
        return vec![Line::styled("none: the deployment asked for no GPUs", theme.muted)];
    }
    let Some(update) = &ctx.gpus.update else {
        return vec![Line::styled("waiting for GPU telemetry", theme.muted)];
    };
    indices
        .iter()
        .map(|&index| match update.snapshot.gpus.iter().find(|g| g.index == index) {
            Some(gpu) => {
                let util = gpu
                    .utilization_percent
                    .map(|u| format!("{u:.0}%"))
                    .unwrap_or_else(|| "n/a".into());
                let mem = gpu
                    .memory_fraction()
                    .map(|m| format!("{:.0}%", m * 100.0))
                    .unwrap_or_else(|| "n/a".into());
                let power =
                    gpu.power_watts.map(|p| format!("{p:.0}W")).unwrap_or_else(|| "n/a".into());
                let mut spans = vec![
                    Span::styled(format!("GPU{index} "), theme.accent),
                    Span::styled(format!("util {util}  mem {mem}  power {power}"), theme.text),
                ];
                // A replica on a failing GPU is the first thing to see here (issue 20).
                if matches!(gpu.health.state, HealthState::Failed | HealthState::Degraded)
                    && let Some(summary) = gpu.health.summary()
                {
                    let style = if gpu.health.state == HealthState::Failed {
                        theme.error
                    } else {
                        theme.warning
                    };
                    spans.push(Span::styled(format!("  {summary}"), style));
                }
                Line::from(spans)
            }
            None => {
                Line::styled(format!("GPU{index}: not on this machine's GPU list"), theme.warning)
            }
        })
        .collect()
}

fn error_lines(
    history: Option<&EndpointHistory>,
    rows: usize,
    now: &Now,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let Some(history) = history.filter(|h| !h.errors.is_empty()) else {
        return vec![Line::styled("none", theme.muted)];
    };
    history
        .errors
        .iter()
        .rev()
        .take(rows.max(1))
        .map(|e| {
            let at = now.time_of_day_of(e.at_unix_ms);
            let repeats =
                if e.repeats > 0 { format!(" (x{})", e.repeats + 1) } else { String::new() };
            Line::from(vec![
                Span::styled(format!("{at} "), theme.muted),
                Span::styled(format!("{}{repeats}", e.message), theme.error),
            ])
        })
        .collect()
}

/// Rows `lines` take wrapped at `width` columns.
fn wrapped_height(lines: &[Line], width: u16) -> u16 {
    lines.iter().map(|line| line.width().div_ceil(usize::from(width.max(1))).max(1) as u16).sum()
}

pub fn render(ctx: &Ctx, frame: &mut Frame, area: Rect, id: &str) {
    let theme = &ctx.theme;
    let state = &ctx.endpoints;
    let history = state.histories.get(id);
    // A deployment's row: its replicas and rollout first; the charts are replica 0's.
    let deployment = deployment_part(id);
    let title = match deployment {
        Some(name) => format!(" Deployment {name} (charts: replica 0) "),
        None => format!(" Endpoint {id} "),
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme.border_focused)
        .title(Line::from(vec![Span::styled(title, theme.accent)]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let summary = match deployment {
        Some(name) => {
            let mut lines =
                crate::tui::joins::deployment_rows::detail_lines(ctx.deploy, state, name, theme);
            // Under the deployment's line: who owns the replica count when an autoscaler does.
            if let Some(scaler) = ctx.deploy.find(name).and_then(|d| d.autoscaler.as_ref()) {
                let line = Line::from(vec![
                    Span::styled("autoscaler ", theme.muted),
                    Span::styled(scaler.summary(), theme.text),
                ]);
                lines.insert(lines.len().min(1), line);
            }
            let found = ctx.deploy.find(name);
            let backend = found.map(|d| format!("{} (replica 0)", d.backend));
            if let (Some(backend), Some(_)) = (backend, history) {
                // On a small screen the replica list says enough; the charts need the rows.
                let keep = if inner.height >= 30 { usize::MAX } else { 1 };
                let replica = found.and_then(|d| d.replicas.first());
                lines.extend(
                    summary_lines(id, state, history, replica, &backend, theme)
                        .into_iter()
                        .take(keep),
                );
            }
            lines
        }
        None => summary_lines(id, state, history, None, "watched (1/1 replica)", theme),
    };
    let error_rows: u16 = if inner.height >= 30 { 5 } else { 2 };
    // The background benchmark of this row: its progress, or its last report.
    let job = state.bench_job.as_ref().filter(|job| job.endpoint_id == id);
    let outcome = state.bench_results.get(id);
    let bench_lines = super::bench::detail_lines(job, outcome, inner.height < 30, &ctx.now, theme);
    let table = outcome
        .filter(|_| job.is_none() && inner.height >= 40)
        .and_then(|outcome| outcome.result.as_ref().ok());
    let table_rows = if table.is_some() { super::bench::TABLE_ROWS } else { 0 };
    let [top, bench, charts, errors] = Layout::vertical([
        Constraint::Length(wrapped_height(&summary, inner.width)),
        Constraint::Length(wrapped_height(&bench_lines, inner.width) + table_rows),
        Constraint::Fill(1),
        Constraint::Length(error_rows + 1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(summary).wrap(Wrap { trim: true }), top);
    if let Some(report) = table {
        let [text, rows] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(table_rows)]).areas(bench);
        frame.render_widget(Paragraph::new(bench_lines).wrap(Wrap { trim: true }), text);
        super::bench::render_table(frame, rows, report, theme);
    } else {
        frame.render_widget(Paragraph::new(bench_lines).wrap(Wrap { trim: true }), bench);
    }
    let [row1, row2] = Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(charts);
    let [tokens, queue, kv] = Layout::horizontal([Constraint::Fill(1); 3]).areas(row1);
    let [ttft, itl, gpus] = Layout::horizontal([Constraint::Fill(1); 3]).areas(row2);
    let now = state.now();
    for (chart, area) in chart_specs(theme).iter().zip([tokens, queue, kv, ttft, itl]) {
        let lines: Vec<Series> = chart
            .lines
            .iter()
            .map(|&(name, style, metric)| Series {
                name,
                style,
                points: history.map(|h| series(h, now, metric, chart.scale)).unwrap_or_default(),
            })
            .collect();
        render_chart(frame, area, chart, &lines, theme);
    }
    let gpu_block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme.border)
        .title(Span::styled(" GPUs held ", theme.accent));
    super::gpu_charts::render(ctx, frame, gpus, id, gpu_block, gpu_lines(ctx, id));
    let mut lines = vec![Line::styled("Recent errors", theme.accent)];
    lines.extend(error_lines(history, error_rows as usize, &ctx.now, theme));
    frame.render_widget(Paragraph::new(lines), errors);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::{Gpu, GpuSnapshot, GpuVendor};
    use crate::monitor::gpu_poller::GpuUpdate;

    /// The GPU pane says when a GPU the endpoint holds is failed or degraded; a healthy one
    /// keeps its plain line (the existing snapshots).
    #[test]
    fn the_gpu_pane_names_a_failed_gpu_the_endpoint_holds() {
        let mut gpus: Vec<Gpu> =
            (0..2).map(|i| Gpu::new(i, GpuVendor::Nvidia, "NVIDIA H100 80GB HBM3")).collect();
        gpus[1].health.add(HealthState::Failed, "xid_79", "XID 79: GPU has fallen off the bus");
        let mut app = crate::tui::App::new(crate::tui::app::Settings::default());
        app.endpoints.gpu_indices.insert("ep".into(), vec![0, 1]);
        let update = GpuUpdate {
            pass: 1,
            snapshot: GpuSnapshot { gpus, ..Default::default() },
            history: crate::monitor::gpu_history::GpuHistory::new(4),
            took: std::time::Duration::ZERO,
        };
        app.gpus.update = Some(std::sync::Arc::new(update));
        let text: Vec<String> = gpu_lines(&app.ctx(), "ep").iter().map(|l| l.to_string()).collect();
        assert_eq!(text[0], "GPU0 util n/a  mem n/a  power n/a");
        assert_eq!(
            text[1],
            "GPU1 util n/a  mem n/a  power n/a  failed: XID 79: GPU has fallen off the bus"
        );
    }
}
