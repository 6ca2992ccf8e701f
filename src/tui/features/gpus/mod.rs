//! The GPUs view: one row per GPU (utilisation and memory bars, temperature, power, a history
//! sparkline, the deployment holding it) above a topology matrix like `nvidia-smi topo -m`,
//! with NUMA and CPU affinity and the fully connected islands.

pub mod detail;
pub mod table;
mod update;

pub use update::{GpuMsg, update};

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use crate::model::gpu::{GpuSnapshot, Link};
use crate::monitor::gpu_poller::GpuUpdate;
use crate::tui::theme::Theme;
use crate::tui::widgets::gauge;
use crate::tui::widgets::{Column, Cut, Fit, SortKey, TableCell, TableRow};

/// What the console knows about this machine's GPUs.
#[derive(Debug, Clone, Default)]
pub struct GpuState {
    pub update: Option<Arc<GpuUpdate>>,
    /// `t` shows the topology over the whole body (16 GPUs at 80x24 need it).
    pub topology_full: bool,
    /// The last update with the backends' replicas joined in (holders and process owners),
    /// what the table and the detail show.
    pub joined: Option<Arc<GpuSnapshot>>,
    /// What the console's create and scale may place on beyond healthy whole GPUs
    /// (`placement_toggle`).
    pub placement: crate::backend::placement::PlacementPolicy,
}

/// Samples the HISTORY sparkline can show on a wide screen (the poller keeps 120).
const HISTORY_SAMPLES: usize = 60;

pub fn columns() -> Vec<Column> {
    vec![
        Column::new("#", Constraint::Length(2)),
        Column::new("NAME", Constraint::Length(10)),
        Column::new("HEALTH", Constraint::Length(8)),
        // On wide screens the bars and the sparkline take the spare width (as nvitop does).
        Column::new("UTIL", Constraint::Min(11)).grows_to(40),
        Column::new("MEMORY", Constraint::Min(15)).grows_to(40),
        Column::new("TEMP", Constraint::Length(4)),
        Column::new("POWER", Constraint::Length(5)),
        Column::new("HISTORY", Constraint::Min(8))
            .grows_to(HISTORY_SAMPLES as u16)
            .cut(Cut::Newest),
        Column::new("HELD BY", Constraint::Fill(1)),
    ]
}

/// The short name operators use ("H100", "MI300X"), or the tool's own when unknown.
pub fn short_name(product: &str) -> String {
    crate::recipes::gpus::normalize(product)
        .map(|gpu| gpu.name.to_string())
        .unwrap_or_else(|| product.to_string())
}

fn gib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 30) as f64
}

pub fn rows(update: &GpuUpdate, theme: &Theme) -> Vec<TableRow> {
    update
        .snapshot
        .gpus
        .iter()
        .map(|gpu| {
            let util = gpu.utilization_percent;
            let util_label = util.map(|u| format!("{u:>3.0}%")).unwrap_or_default();
            let memory_label = match (gpu.memory_used_bytes, gpu.memory_total_bytes) {
                (Some(used), Some(total)) => format!("{:.0}/{:.0}G", gib(used), gib(total)),
                (None, Some(total)) => format!("?/{:.0}G", gib(total)),
                _ => String::new(),
            };
            let history: Vec<f64> = update
                .history
                .utilization_sparkline(gpu.index, HISTORY_SAMPLES)
                .into_iter()
                .map(|v| v as f64)
                .collect();
            let temp = gpu.temperature_c;
            let temp_style = match temp {
                Some(t) if t >= 85.0 => theme.gauge_high,
                Some(t) if t >= 70.0 => theme.gauge_mid,
                _ => theme.text,
            };
            let held = crate::tui::features::gpus::detail::held_by(gpu);
            let held_style = if gpu.unmanaged().next().is_some() {
                theme.gauge_mid
            } else if gpu.held_by.is_some() {
                theme.info
            } else {
                theme.muted
            };
            let (health, health_style) =
                crate::tui::features::gpus::detail::health_cell(gpu, theme);
            TableRow {
                id: gpu.uuid.clone().unwrap_or_else(|| gpu.index.to_string()),
                cells: vec![
                    TableCell::number(Some(gpu.index as f64), gpu.index.to_string()),
                    TableCell::text(short_name(&gpu.name)),
                    TableCell::styled(
                        Line::styled(health.clone(), health_style),
                        SortKey::Text(health),
                    ),
                    TableCell::number(
                        util,
                        gauge::bar(util.map(|u| u / 100.0), 6, &util_label, theme),
                    )
                    .fitted(Fit::Bar { fraction: util.map(|u| u / 100.0), label: util_label }),
                    TableCell::number(
                        gpu.memory_fraction(),
                        gauge::bar(gpu.memory_fraction(), 5, &memory_label, theme),
                    )
                    .fitted(Fit::Bar { fraction: gpu.memory_fraction(), label: memory_label }),
                    TableCell::number(
                        temp,
                        Line::styled(
                            temp.map(|t| format!("{t:.0}C")).unwrap_or("n/a".into()),
                            temp_style,
                        ),
                    ),
                    TableCell::number(
                        gpu.power_watts,
                        gpu.power_watts.map(|p| format!("{p:.0}W")).unwrap_or("n/a".into()),
                    ),
                    TableCell::styled(
                        Line::styled(gauge::sparkline_text(&history, 8, Some(100.0)), theme.accent),
                        SortKey::Number(history.last().copied()),
                    )
                    .fitted(Fit::Spark {
                        values: history.clone(),
                        max: Some(100.0),
                        style: theme.accent,
                    }),
                    TableCell::styled(Line::styled(held.clone(), held_style), SortKey::Text(held)),
                ],
            }
        })
        .collect()
}

/// Where the view looked, for the empty state.
pub fn empty_note(update: Option<&GpuUpdate>) -> Vec<String> {
    match update {
        None => vec![
            "Looking for GPUs…".into(),
            "Reading nvidia-smi, amd-smi, rocm-smi and /sys/class/kfd.".into(),
        ],
        Some(update) => {
            let mut note = vec![
                "No GPUs found on this machine.".into(),
                "Looked for nvidia-smi, amd-smi and rocm-smi on PATH and AMD GPUs in /sys/class/kfd.".into(),
            ];
            note.extend(update.snapshot.warnings.iter().cloned());
            note
        }
    }
}

/// Compact link codes so 16 GPUs fit in 80 columns.
fn short_link(detail: &str) -> Cow<'_, str> {
    match detail {
        "XGMI" => "XG".into(),
        "NODE" => "ND".into(),
        "PCIE" => "PCI".into(),
        other if other.starts_with("NV") => format!("N{}", &other[2..]).into(),
        other => match other.char_indices().nth(3) {
            Some((cut, _)) => other[..cut].into(),
            None => other.into(),
        },
    }
}

fn link_style(link: Option<&Link>, theme: &Theme) -> Style {
    match link.map(Link::rank) {
        Some(0) => theme.link_fast,
        Some(1..=3) => theme.link_medium,
        Some(_) => theme.link_slow,
        None => theme.muted,
    }
}

/// The link between every pair of GPUs by position in `snapshot.gpus`, filled in one pass over
/// the links (looking each cell up in the link list made 64 GPUs cost 4 million comparisons).
struct LinkMatrix<'a> {
    size: usize,
    cells: Vec<Option<&'a Link>>,
}

impl<'a> LinkMatrix<'a> {
    fn new(snapshot: &'a GpuSnapshot) -> LinkMatrix<'a> {
        let size = snapshot.gpus.len();
        let position: HashMap<u32, usize> =
            snapshot.gpus.iter().enumerate().map(|(i, g)| (g.index, i)).collect();
        let mut cells = vec![None; size * size];
        // `GpuSnapshot::link` semantics: links are stored with a <= b, and the first one wins.
        for link in snapshot.links.iter().filter(|l| l.a <= l.b) {
            if let (Some(&a), Some(&b)) = (position.get(&link.a), position.get(&link.b)) {
                for cell in [a * size + b, b * size + a] {
                    cells[cell].get_or_insert(link);
                }
            }
        }
        LinkMatrix { size, cells }
    }

    fn get(&self, row: usize, column: usize) -> Option<&'a Link> {
        self.cells[row * self.size + column]
    }
}

/// The topology matrix, legend, affinity and islands, cut to `width` x `height`: only the rows
/// and columns that show are laid out, so 64 GPUs cost what the screen holds, not 64 x 64.
pub fn topology_lines(
    snapshot: &GpuSnapshot,
    width: u16,
    height: u16,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let gpus: Vec<u32> = snapshot.gpus.iter().map(|g| g.index).collect();
    let max_lines = usize::from(height);
    if gpus.is_empty() || max_lines == 0 {
        return Vec::new();
    }
    let width = usize::from(width);
    let longest = snapshot.links.iter().map(|l| l.detail.len()).max().unwrap_or(1).max(3);
    let full_cell = longest + 1;
    let compact = 5 + gpus.len() * full_cell + 22 > width;
    let cell = if compact { 4 } else { full_cell.max(5) };
    // Columns that start inside the width (the last may be cut by the paragraph), and whether
    // the NUMA and affinity column starts inside it too.
    let shown_columns = width.saturating_sub(6).div_ceil(cell).min(gpus.len());
    let affinity_shows = 6 + gpus.len() * cell < width;
    let label = |i: u32| if compact { format!("G{i}") } else { format!("GPU{i}") };
    let mut lines = Vec::with_capacity(max_lines.min(gpus.len() + 4));
    // Partitions and MIG devices inside their parents come first: a 64-partition matrix would
    // push them off any screen.
    lines.extend(crate::tui::features::gpus::detail::partition_lines(snapshot, width, theme));
    let mut header = vec![Span::styled(format!("{:<6}", ""), theme.muted)];
    for &i in &gpus[..shown_columns] {
        header.push(Span::styled(format!("{:<cell$}", label(i)), theme.accent));
    }
    if affinity_shows {
        header.push(Span::styled(format!("{:<6}{}", "NUMA", "CPU affinity"), theme.accent));
    }
    lines.push(Line::from(header));
    let matrix = LinkMatrix::new(snapshot);
    for (row_at, gpu) in
        snapshot.gpus.iter().enumerate().take(max_lines.saturating_sub(lines.len()))
    {
        let mut row = vec![Span::styled(format!("{:<6}", label(gpu.index)), theme.accent)];
        // Neighbouring cells of one style share a span (an island's links, the links across
        // islands): a few spans per row instead of one per GPU.
        let mut run: Option<(Style, String)> = None;
        for (column_at, &other) in gpus[..shown_columns].iter().enumerate() {
            let (text, style) = if other == gpu.index {
                (Cow::Borrowed("X"), theme.muted)
            } else {
                let link = matrix.get(row_at, column_at);
                let text = link.map_or(Cow::Borrowed("?"), |l| {
                    if compact { short_link(&l.detail) } else { Cow::Borrowed(l.detail.as_str()) }
                });
                (text, link_style(link, theme))
            };
            match &mut run {
                Some((run_style, run_text)) if *run_style == style => {
                    let _ = write!(run_text, "{text:<cell$}");
                }
                _ => {
                    if let Some((run_style, run_text)) = run.take() {
                        row.push(Span::styled(run_text, run_style));
                    }
                    run = Some((style, format!("{text:<cell$}")));
                }
            }
        }
        if let Some((run_style, run_text)) = run {
            row.push(Span::styled(run_text, run_style));
        }
        if affinity_shows {
            let numa = gpu.numa_node.map(|n| n.to_string()).unwrap_or("n/a".into());
            row.push(Span::styled(
                format!("{numa:<6}{}", gpu.cpu_affinity.as_deref().unwrap_or("n/a")),
                theme.text,
            ));
        }
        lines.push(Line::from(row));
    }
    if lines.len() >= max_lines {
        return lines;
    }
    lines.push(Line::default());
    lines.push(Line::from(vec![
        Span::styled("Legend: ", theme.muted),
        Span::styled("NV#/XGMI", theme.link_fast),
        Span::styled(" direct GPU link  ", theme.muted),
        Span::styled("PIX/PXB/PHB", theme.link_medium),
        Span::styled(" PCIe switch/host bridge  ", theme.muted),
        Span::styled("NODE/SYS", theme.link_slow),
        Span::styled(" across NUMA/sockets", theme.muted),
    ]));
    let islands: Vec<String> = snapshot
        .islands
        .iter()
        .filter(|island| island.gpus.len() > 1)
        .map(|island| {
            let members: Vec<String> = island.gpus.iter().map(|g| g.to_string()).collect();
            format!("{{{}}} {}", members.join(","), island.kind.map(|k| k.as_str()).unwrap_or(""))
        })
        .collect();
    lines.push(Line::from(vec![
        Span::styled("Islands (fully connected, for tensor parallelism): ", theme.muted),
        Span::styled(
            if islands.is_empty() {
                "none: no direct GPU links".to_string()
            } else {
                islands.join("  ")
            },
            theme.text,
        ),
    ]));
    lines.truncate(max_lines);
    lines
}

/// Where the readings came from: ` source: amd-smi `, ` sources: nvidia-smi, kfd-sysfs `;
/// `--demo` says ` source: recording `.
fn sources_label(sources: &[String]) -> String {
    let noun = if sources.len() == 1 { "source" } else { "sources" };
    format!(" {noun}: {} ", sources.join(", "))
}

/// Draws the topology pane under the GPU table.
pub fn render_topology(frame: &mut Frame, area: Rect, snapshot: &GpuSnapshot, theme: &Theme) {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme.border)
        .title(Span::styled(" Topology ", theme.accent))
        .title_bottom(Line::styled(sources_label(&snapshot.sources), theme.muted).right_aligned());
    let inner = block.inner(area);
    frame.render_widget(
        Paragraph::new(topology_lines(snapshot, inner.width, inner.height, theme)).block(block),
        area,
    );
}

/// Splits the body between the table, the selected GPU's detail and the topology. The table
/// gets all its rows first; the detail what is left up to its height; the matrix the rest when
/// that holds it whole (GPUs + 6 lines), else `t` shows it.
pub fn split(area: Rect, gpu_count: usize) -> (Rect, Option<Rect>, Option<Rect>) {
    let table_height = (gpu_count as u16 + 3)
        .min(area.height.saturating_sub(crate::tui::features::gpus::detail::MIN_HEIGHT));
    let topology_height = gpu_count as u16 + 6;
    let left = area.height.saturating_sub(table_height);
    let detail_height = left.min(crate::tui::features::gpus::detail::HEIGHT);
    let topology_fits = gpu_count >= 2 && left >= detail_height + topology_height;
    let [table, detail, topology] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(if detail_height >= crate::tui::features::gpus::detail::MIN_HEIGHT {
            detail_height
        } else {
            0
        }),
        Constraint::Length(if topology_fits { topology_height } else { 0 }),
    ])
    .areas(area);
    (table, (detail.height > 0).then_some(detail), topology_fits.then_some(topology))
}

#[cfg(test)]
mod tests;
