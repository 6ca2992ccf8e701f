//! The endpoint detail's charts over time: one table of what each chart shows
//! (`chart_specs`) and one way to draw a chart (`render_chart`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, BorderType, Chart, Dataset, GraphType, Paragraph};

use crate::monitor::{EndpointHistory, Metric};
use crate::tui::theme::Theme;

/// How far back the charts look.
pub const CHART_SECONDS: f64 = 300.0;

pub(crate) struct Series {
    pub(crate) name: &'static str,
    pub(crate) style: Style,
    pub(crate) points: Vec<(f64, f64)>,
}

/// `metric` over the last `CHART_SECONDS`, as (seconds before now, value times `scale`).
pub(crate) fn series(
    history: &EndpointHistory,
    now: i64,
    metric: Metric,
    scale: f64,
) -> Vec<(f64, f64)> {
    let since = now - (CHART_SECONDS * 1000.0) as i64;
    history
        .timeline
        .series_since(metric, since)
        .into_iter()
        .map(|(at, v)| ((at - now) as f64 / 1000.0, v * scale))
        .collect()
}

fn fmt_axis(value: f64, unit: &str) -> String {
    if unit == "ms" {
        return format!("{value:.0}ms");
    }
    if value >= 10_000.0 {
        format!("{:.0}k{unit}", value / 1000.0)
    } else if value >= 10.0 || value == 0.0 {
        format!("{value:.0}{unit}")
    } else {
        format!("{value:.1}{unit}")
    }
}

/// One chart of the detail: what it is called, its unit, its top when fixed (a percentage),
/// how its values are scaled from the history's, and its lines.
pub(crate) struct ChartSpec {
    title: &'static str,
    unit: &'static str,
    fixed_max: Option<f64>,
    pub(crate) scale: f64,
    pub(crate) lines: Vec<(&'static str, Style, Metric)>,
}

impl ChartSpec {
    /// A chart drawn from series made elsewhere (the GPU pane's): no metric lines of its own.
    pub(crate) fn plain(title: &'static str, unit: &'static str, fixed_max: Option<f64>) -> Self {
        ChartSpec { title, unit, fixed_max, scale: 1.0, lines: Vec::new() }
    }
}

/// The five charts, in screen order: tokens/s, queue, KV cache; TTFT, ITL. Latencies are kept
/// in seconds and charted in milliseconds; the KV cache as a fraction, charted in percent.
pub(crate) fn chart_specs(theme: &Theme) -> [ChartSpec; 5] {
    let latency = |title, [p50, p95, p99]: [Metric; 3]| ChartSpec {
        title,
        unit: "ms",
        fixed_max: None,
        scale: 1000.0,
        lines: vec![("p50", theme.ok, p50), ("p95", theme.warning, p95), ("p99", theme.error, p99)],
    };
    let counts = |title, lines| ChartSpec { title, unit: "", fixed_max: None, scale: 1.0, lines };
    [
        counts(
            "tokens/s",
            vec![
                ("out", theme.accent, Metric::GenerationTokensPerS),
                ("in", theme.info, Metric::PromptTokensPerS),
            ],
        ),
        counts(
            "queue",
            vec![
                ("running", theme.ok, Metric::RequestsRunning),
                ("waiting", theme.warning, Metric::RequestsWaiting),
            ],
        ),
        ChartSpec {
            title: "KV cache",
            unit: "%",
            fixed_max: Some(100.0),
            scale: 100.0,
            lines: vec![("KV %", theme.accent, Metric::KvCacheUsage)],
        },
        latency("TTFT", [Metric::TtftP50, Metric::TtftP95, Metric::TtftP99]),
        latency("ITL", [Metric::ItlP50, Metric::ItlP95, Metric::ItlP99]),
    ]
}

pub(crate) fn render_chart(
    frame: &mut Frame,
    area: Rect,
    chart: &ChartSpec,
    all: &[Series],
    theme: &Theme,
) {
    let (title, unit, fixed_max) = (chart.title, chart.unit, chart.fixed_max);
    // The legend goes in the title: a chart's own legend box hides the lines on small screens.
    let mut spans = vec![Span::styled(format!(" {title} "), theme.accent)];
    if all.len() > 1 {
        for s in all {
            spans.push(Span::styled(format!("{} ", s.name), s.style));
        }
    }
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme.border)
        .title(Line::from(spans));
    let has_points = all.iter().any(|s| !s.points.is_empty());
    if !has_points {
        frame.render_widget(
            Paragraph::new(Line::styled("no data yet", theme.muted).centered()).block(block),
            area,
        );
        return;
    }
    let top = fixed_max.unwrap_or_else(|| {
        all.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(0.0, f64::max)
    });
    let top = if top > 0.0 { top * if fixed_max.is_some() { 1.0 } else { 1.1 } } else { 1.0 };
    let datasets: Vec<Dataset> = all
        .iter()
        .map(|s| {
            Dataset::default()
                .name(s.name)
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(s.style)
                .data(&s.points)
        })
        .collect();
    let chart = Chart::new(datasets)
        .block(block)
        .x_axis(
            Axis::default()
                .bounds([-CHART_SECONDS, 0.0])
                .style(theme.muted)
                .labels([Line::from("-5m"), Line::from("now")]),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .style(theme.muted)
                .labels([Line::from(fmt_axis(0.0, unit)), Line::from(fmt_axis(top, unit))]),
        )
        .legend_position(None);
    frame.render_widget(chart, area);
}
