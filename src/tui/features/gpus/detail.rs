//! The selected GPU under the GPUs table: its health verdict with every reason and the raw
//! counters behind it, the processes holding its memory (and whose replica they are), and its
//! partition or MIG layout. Also the cells the table shows for health and holder, and the
//! partition lines the topology pane draws inside each physical GPU.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Wrap};

use crate::model::gpu::{Gpu, GpuSnapshot, HealthState};
use crate::tui::theme::Theme;
use crate::tui::widgets::TableRow;

/// The detail pane's height when there is room, and the least worth drawing.
pub const HEIGHT: u16 = 9;
pub const MIN_HEIGHT: u16 = 4;

const GIB: f64 = (1u64 << 30) as f64;

/// The table's HEALTH cell: the state, styled by severity.
pub fn health_cell(gpu: &Gpu, theme: &Theme) -> (String, Style) {
    let state = gpu.health.state;
    let style = match state {
        HealthState::Ok => theme.ok,
        HealthState::Degraded => theme.warning,
        HealthState::Failed => theme.error,
        HealthState::Unknown => theme.muted,
    };
    (state.as_str().to_string(), style)
}

/// The table's HELD BY cell: the replica and the memory its processes use, else the first
/// process aimdeck did not start, else "free".
pub fn held_by(gpu: &Gpu) -> String {
    if let Some(holder) = &gpu.held_by {
        let used = gpu.memory_of(holder);
        let memory =
            if used > 0 { format!(" ({:.1} GiB)", used as f64 / GIB) } else { String::new() };
        let others = gpu.unmanaged().count();
        let others = if others > 0 { format!(" +{others} unmanaged") } else { String::new() };
        return format!("{}/{}{memory}{others}", holder.deployment, holder.replica);
    }
    if let Some(process) =
        gpu.processes.iter().find(|p| p.holder.is_none()).or(gpu.processes.first())
    {
        return process.describe();
    }
    "free".to_string()
}

/// The GPU of the selected row (rows are keyed by UUID, else index).
pub fn selected<'a>(snapshot: &'a GpuSnapshot, row: Option<&TableRow>) -> Option<&'a Gpu> {
    let id = &row?.id;
    snapshot.gpus.iter().find(|g| {
        g.uuid.as_deref() == Some(id.as_str()) || (g.uuid.is_none() && g.index.to_string() == *id)
    })
}

pub fn lines(gpu: &Gpu, theme: &Theme) -> Vec<Line<'static>> {
    let (state, style) = health_cell(gpu, theme);
    let mut head = vec![
        Span::styled(format!("GPU {} ", gpu.index), theme.accent),
        Span::styled(format!("{}  ", gpu.name), theme.text),
        Span::styled("health ", theme.muted),
        Span::styled(state, style),
    ];
    if let Some(partition) = &gpu.partition {
        let modes: Vec<&str> = [partition.compute.as_deref(), partition.memory.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let parent = partition.parent.map(|p| format!(" of GPU {p}")).unwrap_or_default();
        let id = partition.partition_id.map(|id| format!(" #{id}")).unwrap_or_default();
        head.push(Span::styled(
            format!("  partition {}{id}{parent}", modes.join("/")),
            theme.muted,
        ));
    }
    let mut out = vec![Line::from(head)];
    if gpu.health.state == HealthState::Unknown {
        out.push(Line::styled(
            "  no health reading: the tool gave none of the ECC, throttle or link fields",
            theme.muted,
        ));
    }
    for reason in &gpu.health.reasons {
        let style =
            if reason.severity == HealthState::Failed { theme.error } else { theme.warning };
        out.push(Line::from(vec![
            Span::styled(format!("  {} ", reason.severity.as_str()), style),
            Span::styled(reason.message.clone(), theme.text),
        ]));
    }
    for process in &gpu.processes {
        let style = if process.holder.is_some() { theme.info } else { theme.warning };
        out.push(Line::from(vec![
            Span::styled("  process ", theme.muted),
            Span::styled(process.describe(), style),
        ]));
    }
    if !gpu.mig_devices.is_empty() {
        let devices: Vec<String> =
            gpu.mig_devices.iter().map(|d| format!("{}:{}", d.device, d.profile)).collect();
        out.push(Line::from(vec![
            Span::styled("  MIG ", theme.muted),
            Span::styled(devices.join("  "), theme.text),
        ]));
    }
    if !gpu.health.counters.is_empty() {
        // The evidence, as the tool printed it; the kernel log lines of XIDs are in the reasons.
        let counters: Vec<String> = gpu
            .health
            .counters
            .iter()
            .filter(|(k, _)| !k.starts_with("xid."))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        out.push(Line::from(vec![
            Span::styled("  counters ", theme.muted),
            Span::styled(counters.join("  "), theme.muted),
        ]));
    }
    out
}

pub fn render(frame: &mut Frame, area: Rect, gpu: &Gpu, theme: &Theme) {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme.border)
        .title(Span::styled(" GPU detail ", theme.accent));
    frame.render_widget(
        Paragraph::new(lines(gpu, theme)).wrap(Wrap { trim: false }).block(block),
        area,
    );
}

/// Partitions drawn inside their physical GPU, and MIG devices under their parent:
/// `GPU 0 [CPX/NPS4] |0|1|2|3|4|5|6|7| 24G each`. Empty when nothing is partitioned.
pub fn partition_lines(snapshot: &GpuSnapshot, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut parents: BTreeMap<u32, Vec<&Gpu>> = BTreeMap::new();
    for gpu in &snapshot.gpus {
        if let Some(parent) = gpu.partition.as_ref().filter(|p| p.is_split()).and_then(|p| p.parent)
        {
            parents.entry(parent).or_default().push(gpu);
        }
    }
    let mut out = Vec::new();
    for (parent, members) in &parents {
        let partition = members[0].partition.as_ref();
        let modes: Vec<&str> = [
            partition.and_then(|p| p.compute.as_deref()),
            partition.and_then(|p| p.memory.as_deref()),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut spans = vec![
            Span::styled(format!("GPU {parent} [{}] ", modes.join("/")), theme.accent),
            Span::styled("|", theme.border),
        ];
        for gpu in members {
            let style = match gpu.health.state {
                HealthState::Failed => theme.error,
                HealthState::Degraded => theme.warning,
                _ if gpu.held_by.is_some() || !gpu.processes.is_empty() => theme.info,
                _ => theme.text,
            };
            spans.push(Span::styled(gpu.index.to_string(), style));
            spans.push(Span::styled("|", theme.border));
        }
        if let Some(memory) = members[0].memory_total_bytes {
            spans.push(Span::styled(format!(" {:.0}G each", memory as f64 / GIB), theme.muted));
        }
        out.push(Line::from(spans));
    }
    for gpu in snapshot.gpus.iter().filter(|g| !g.mig_devices.is_empty()) {
        let mut spans = vec![
            Span::styled(format!("GPU {} [MIG] ", gpu.index), theme.accent),
            Span::styled("|", theme.border),
        ];
        for device in &gpu.mig_devices {
            spans.push(Span::styled(device.profile.clone(), theme.text));
            spans.push(Span::styled("|", theme.border));
        }
        out.push(Line::from(spans));
    }
    // One line per parent would push the legend off small screens: keep at most a few.
    let room = (width / 40).max(2);
    if out.len() > room * 2 {
        let hidden = out.len() - room * 2;
        out.truncate(room * 2);
        out.push(Line::styled(format!("… {hidden} more partitioned GPUs"), theme.muted));
    }
    out
}

/// Flags the Endpoints rows of deployments that hold a GPU now `failed`: the STATE cell says
/// which GPU, in the error style, so a replica serving from bad memory is seen where its
/// traffic is watched.
pub fn flag_failed_gpus<'a>(
    rows: &mut [TableRow],
    deployments: impl IntoIterator<Item = &'a crate::model::Deployment>,
    snapshot: &GpuSnapshot,
    theme: &Theme,
) {
    const STATE: usize = 5;
    for deployment in deployments {
        let mut failed: Vec<u32> = deployment
            .replicas
            .iter()
            .flat_map(|r| r.gpus.iter().copied())
            .filter(|&index| {
                snapshot.gpu(index).is_some_and(|g| g.health.state == HealthState::Failed)
            })
            .collect();
        failed.sort_unstable();
        failed.dedup();
        if failed.is_empty() {
            continue;
        }
        let id = crate::tui::joins::deployment_rows::replica_id(&deployment.name, 0);
        let Some(cell) = rows.iter_mut().find(|r| r.id == id).and_then(|r| r.cells.get_mut(STATE))
        else {
            continue;
        };
        let list: Vec<String> = failed.iter().map(u32::to_string).collect();
        let state: String = cell.content.spans.iter().map(|span| span.content.as_ref()).collect();
        let text = format!("{state} ! GPU {} failed", list.join(","));
        cell.content = Line::styled(text, theme.error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::GpuVendor;
    use crate::model::{Deployment, DeploymentSpec, EngineKind, Replica, ReplicaState};
    use crate::tui::widgets::TableCell;

    #[test]
    fn an_endpoints_row_on_a_failed_gpu_says_which() {
        let theme = Theme::default_theme();
        let mut gpus: Vec<Gpu> =
            (0..2).map(|i| Gpu::new(i, GpuVendor::Nvidia, "NVIDIA H100 80GB HBM3")).collect();
        gpus[1].health.add(HealthState::Failed, "xid_79", "XID 79: GPU has fallen off the bus");
        let snapshot = GpuSnapshot { gpus, ..Default::default() };
        let replica = Replica {
            index: 0,
            name: "llama-0".into(),
            port: 8000,
            gpus: vec![0, 1],
            state: ReplicaState::Ready,
            detail: None,
            handle: None,
            started_at_unix_ms: None,
        };
        let deployment = Deployment {
            name: "llama".into(),
            backend: "docker".into(),
            spec: DeploymentSpec::minimal("llama", "m", EngineKind::Vllm, 1, 8000),
            replicas: vec![replica],
            autoscaler: None,
        };
        let cells =
            (0..11).map(|i| TableCell::text(if i == 5 { "ready 3m" } else { "x" })).collect();
        let mut rows = vec![TableRow {
            id: crate::tui::joins::deployment_rows::replica_id("llama", 0),
            cells,
        }];
        flag_failed_gpus(&mut rows, [&deployment], &snapshot, &theme);
        assert_eq!(rows[0].cells[5].content.to_string(), "ready 3m ! GPU 1 failed");
    }
}
