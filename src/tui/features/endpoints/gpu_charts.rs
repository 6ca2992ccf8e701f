//! The endpoint detail's GPU pane as charts: the memory, utilisation, power and clock of the
//! GPUs the charted replica holds (replica 0 of a deployment, as the other charts), over the
//! same window and the same clock as the TTFT and tokens/s charts beside it. GPU samples
//! (`monitor::gpu_history`, `at_ms`) and endpoint samples (`monitor::timeline`) both carry unix
//! milliseconds, so each point is placed at `(at - now) / 1000` seconds with the endpoints'
//! own `now`. The memory is the GPU's, which the replica holds whole. Without room or samples
//! the pane keeps its text lines.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::charts::{CHART_SECONDS, ChartSpec, Series, render_chart};
use crate::monitor::gpu_history::{GpuHistory, GpuSample};
use crate::tui::ctx::Ctx;
use crate::tui::joins::deployment_rows::deployment_part;

/// Legend names for GPU indices (a dataset's name must outlive the frame).
const GPU_NAMES: [&str; 64] = [
    "GPU0", "GPU1", "GPU2", "GPU3", "GPU4", "GPU5", "GPU6", "GPU7", "GPU8", "GPU9", "GPU10",
    "GPU11", "GPU12", "GPU13", "GPU14", "GPU15", "GPU16", "GPU17", "GPU18", "GPU19", "GPU20",
    "GPU21", "GPU22", "GPU23", "GPU24", "GPU25", "GPU26", "GPU27", "GPU28", "GPU29", "GPU30",
    "GPU31", "GPU32", "GPU33", "GPU34", "GPU35", "GPU36", "GPU37", "GPU38", "GPU39", "GPU40",
    "GPU41", "GPU42", "GPU43", "GPU44", "GPU45", "GPU46", "GPU47", "GPU48", "GPU49", "GPU50",
    "GPU51", "GPU52", "GPU53", "GPU54", "GPU55", "GPU56", "GPU57", "GPU58", "GPU59", "GPU60",
    "GPU61", "GPU62", "GPU63",
];

/// Rows the text keeps above the charts, and the least a 2x2 grid of charts needs.
const TEXT_ROWS: u16 = 2;
const MIN_CHART_ROWS: u16 = 8;
const MIN_CHART_COLUMNS: u16 = 36;

/// The GPUs whose charts go beside the replica's: replica 0's for a deployment's row, the
/// endpoint's for a watched one.
pub fn charted_gpus(ctx: &Ctx, id: &str) -> Option<Vec<u32>> {
    match deployment_part(id) {
        Some(name) => Some(ctx.deploy.find(name)?.replicas.first()?.gpus.clone()),
        None => ctx.endpoints.gpu_indices.get(id).cloned(),
    }
}

/// `value` of each sample of GPU `index` in the last `CHART_SECONDS` before `now` (unix ms), as
/// (seconds before now, value): the endpoint charts' axis.
pub fn gpu_series(
    history: &GpuHistory,
    index: u32,
    now: i64,
    value: impl Fn(&GpuSample) -> Option<f64>,
) -> Vec<(f64, f64)> {
    let Some(samples) = history.samples(index) else { return Vec::new() };
    samples
        .iter()
        .filter_map(|s| Some(((s.at_ms as i64 - now) as f64 / 1000.0, value(s)?)))
        .filter(|(x, _)| (-CHART_SECONDS..=0.0).contains(x))
        .collect()
}

/// Draws the pane: `lines` (the GPUs' one-line state) on top, then memory, utilisation,
/// power and clock charts when the pane has room and the GPUs have samples.
pub fn render(
    ctx: &Ctx,
    frame: &mut Frame,
    area: Rect,
    id: &str,
    block: Block<'_>,
    lines: Vec<Line<'static>>,
) {
    let inner = block.inner(area);
    let gpus = charted_gpus(ctx, id).unwrap_or_default();
    let history = ctx.gpus.update.as_ref().map(|u| &u.history);
    let now = ctx.endpoints.now();
    let has_samples = history.is_some_and(|h| {
        gpus.iter().any(|&g| !gpu_series(h, g, now, |s| s.utilization_percent).is_empty())
    });
    let roomy = inner.height >= TEXT_ROWS + MIN_CHART_ROWS && inner.width >= MIN_CHART_COLUMNS;
    let (Some(history), true, true) = (history, has_samples, roomy) else {
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }).block(block), area);
        return;
    };
    frame.render_widget(block, area);
    let [text, charts] =
        Layout::vertical([Constraint::Length(TEXT_ROWS), Constraint::Fill(1)]).areas(inner);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), text);
    let [top, bottom] = Layout::vertical([Constraint::Fill(1); 2]).areas(charts);
    let [memory, util] = Layout::horizontal([Constraint::Fill(1); 2]).areas(top);
    let [power, clock] = Layout::horizontal([Constraint::Fill(1); 2]).areas(bottom);
    let theme = &ctx.theme;
    let palette = [theme.accent, theme.info, theme.ok, theme.warning];
    let per_gpu = |value: &dyn Fn(&GpuSample) -> Option<f64>| -> Vec<Series> {
        gpus.iter()
            .enumerate()
            .map(|(n, &index)| Series {
                name: GPU_NAMES.get(index as usize).copied().unwrap_or("GPU"),
                style: palette[n % palette.len()],
                points: gpu_series(history, index, now, value),
            })
            .collect()
    };
    const GIB: f64 = (1u64 << 30) as f64;
    let gib = |s: &GpuSample| s.memory_used_bytes.map(|b| b as f64 / GIB);
    render_chart(frame, memory, &ChartSpec::plain("GPU memory", "G", None), &per_gpu(&gib), theme);
    let util_of = |s: &GpuSample| s.utilization_percent;
    render_chart(
        frame,
        util,
        &ChartSpec::plain("GPU util", "%", Some(100.0)),
        &per_gpu(&util_of),
        theme,
    );
    render_chart(
        frame,
        power,
        &ChartSpec::plain("GPU power", "W", None),
        &per_gpu(&|s| s.power_watts),
        theme,
    );
    render_chart(
        frame,
        clock,
        &ChartSpec::plain("GPU clock", "MHz", None),
        &per_gpu(&|s| s.clock_mhz),
        theme,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::{Gpu, GpuSnapshot, GpuVendor};

    /// A GPU sample and an endpoint sample taken at the same moment land at the same x.
    #[test]
    fn gpu_samples_sit_on_the_endpoint_charts_time_axis() {
        let now: i64 = 1_700_000_300_000;
        let mut history = GpuHistory::new(10);
        for (ago_s, util) in [(400, 5.0), (60, 90.0), (0, 95.0)] {
            let mut gpu = Gpu::new(3, GpuVendor::Nvidia, "NVIDIA H100 80GB HBM3");
            gpu.utilization_percent = Some(util);
            gpu.clock_mhz = Some(1980.0);
            history.record(
                &GpuSnapshot { gpus: vec![gpu], ..Default::default() },
                (now - ago_s * 1000) as u64,
            );
        }
        let util = gpu_series(&history, 3, now, |s| s.utilization_percent);
        assert_eq!(util, vec![(-60.0, 90.0), (0.0, 95.0)], "older than the window is left out");
        assert_eq!(gpu_series(&history, 3, now, |s| s.clock_mhz).len(), 2);
        assert!(gpu_series(&history, 4, now, |s| s.clock_mhz).is_empty());
    }

    /// With room and samples the pane draws the four charts under the GPUs' line; without
    /// samples it stays the text it was.
    #[test]
    fn the_pane_draws_memory_util_power_and_clock_charts() {
        let now: i64 = 1_700_000_300_000;
        let mut history = GpuHistory::new(10);
        let mut gpu = Gpu::new(3, GpuVendor::Nvidia, "NVIDIA H100 80GB HBM3");
        gpu.utilization_percent = Some(95.0);
        gpu.power_watts = Some(612.0);
        gpu.clock_mhz = Some(1980.0);
        gpu.memory_used_bytes = Some(62114 << 20);
        let snapshot = GpuSnapshot { gpus: vec![gpu], ..Default::default() };
        history.record(&snapshot, (now - 30_000) as u64);
        history.record(&snapshot, now as u64);
        let mut app = crate::tui::App::new(crate::tui::app::Settings::default());
        app.endpoints.gpu_indices.insert("ep".into(), vec![3]);
        app.endpoints.fixed_now_unix_ms = Some(now);
        let screen = |app: &crate::tui::App| {
            let mut terminal =
                ratatui::Terminal::new(ratatui::backend::TestBackend::new(60, 16)).unwrap();
            terminal
                .draw(|frame| {
                    let lines = vec![Line::from("GPU3 util 95%")];
                    render(&app.ctx(), frame, frame.area(), "ep", Block::bordered(), lines)
                })
                .unwrap();
            let buffer = terminal.backend().buffer().clone();
            buffer.content.iter().map(|c| c.symbol()).collect::<String>()
        };
        let update = crate::monitor::gpu_poller::GpuUpdate {
            pass: 1,
            snapshot: GpuSnapshot::default(),
            history: GpuHistory::new(10),
            took: std::time::Duration::ZERO,
        };
        app.gpus.update = Some(std::sync::Arc::new(update.clone()));
        assert!(!screen(&app).contains("GPU clock"), "no samples: text only");
        app.gpus.update =
            Some(std::sync::Arc::new(crate::monitor::gpu_poller::GpuUpdate { history, ..update }));
        let text = screen(&app);
        for title in ["GPU3 util 95%", "GPU memory", "GPU util", "GPU power", "GPU clock"] {
            assert!(text.contains(title), "{title} missing: {text}");
        }
    }
}
