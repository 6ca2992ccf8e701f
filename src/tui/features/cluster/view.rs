//! What only a cluster has, drawn under the views while a Kubernetes context is configured:
//! node GPU inventory under the GPUs, NIM/AIM operator services under the endpoints, cache
//! PVCs and operator caches under the cache. Read-only; `:ctx`/`:ns` choose the cluster.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Cell, Paragraph, Row, Table, Wrap};

use crate::backend::kubernetes::{CachePvcRow, NodeGpuInventory, OperatorResourceRow};
use crate::tui::features::cluster::{ClusterInventory, ClusterState};
use crate::tui::theme::Theme;
use crate::tui::views::ViewId;

/// Operator kinds that cache models rather than serve them.
const CACHE_KINDS: [&str; 2] = ["NIMCache", "AIMTemplateCache"];

/// Draws the cluster pane of `view` at the bottom of `area` when there is one, and returns
/// what is left for the view itself.
pub fn render_pane(
    state: &ClusterState,
    theme: &Theme,
    frame: &mut Frame,
    view: ViewId,
    area: Rect,
) -> Rect {
    let Some(inventory) = &state.inventory else { return area };
    let Some(pane) = pane_for(view, inventory, theme) else { return area };
    // At most half the body, so the view's own table stays usable.
    let height = (pane.rows.len().max(1) as u16 + 3).min(area.height / 2);
    if height < 4 {
        return area;
    }
    let [rest, bottom] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(height)]).areas(area);
    let title = Line::from(vec![
        Span::styled(format!(" {} ", pane.title), theme.accent),
        Span::styled(format!("[{}] {} ", pane.rows.len(), inventory.scope), theme.muted),
    ]);
    let block =
        Block::bordered().border_type(BorderType::Rounded).border_style(theme.border).title(title);
    match pane.error {
        Some(error) if pane.rows.is_empty() => {
            frame.render_widget(
                Paragraph::new(Line::styled(error, theme.warning))
                    .wrap(Wrap { trim: true })
                    .block(block),
                bottom,
            );
        }
        _ => {
            let header = Row::new(pane.header.iter().map(|h| Cell::from(*h))).style(theme.muted);
            let table =
                Table::new(pane.rows, pane.widths).header(header).block(block).column_spacing(2);
            frame.render_widget(table, bottom);
        }
    }
    rest
}

struct Pane<'a> {
    title: &'static str,
    header: &'static [&'static str],
    widths: Vec<Constraint>,
    rows: Vec<Row<'a>>,
    error: Option<String>,
}

fn pane_for<'a>(view: ViewId, inventory: &ClusterInventory, theme: &Theme) -> Option<Pane<'a>> {
    match view {
        ViewId::Gpus => {
            let (rows, error) =
                split(&inventory.nodes, |nodes| nodes.iter().map(|n| node_row(n, theme)).collect());
            // Names and products as wide as the longest, so the taints get what is left.
            let widest = |text: &dyn Fn(&NodeGpuInventory) -> usize, floor: usize| {
                let longest = inventory
                    .nodes
                    .as_ref()
                    .map(|n| n.iter().map(text).max().unwrap_or(0))
                    .unwrap_or(0);
                longest.clamp(floor, 40) as u16
            };
            Some(Pane {
                title: "Cluster nodes",
                // USED is allocated (pod requests) over allocatable; CAP is the node's capacity.
                header: &["NODE", "GPU", "USED", "CAP", "PRODUCT", "MEMORY", "STATUS", "TAINTS"],
                widths: vec![
                    Constraint::Length(widest(&|n| n.node.len(), 4)),
                    Constraint::Length(6),
                    Constraint::Length(5),
                    Constraint::Length(3),
                    Constraint::Length(widest(&|n| n.product.as_ref().map_or(1, String::len), 7)),
                    Constraint::Length(10),
                    Constraint::Length(8),
                    Constraint::Fill(1),
                ],
                rows,
                error,
            })
        }
        ViewId::Endpoints => {
            let services: Result<Vec<&OperatorResourceRow>, String> = inventory
                .operators
                .as_ref()
                .map(|rows| {
                    rows.iter().filter(|r| !CACHE_KINDS.contains(&r.kind.as_str())).collect()
                })
                .map_err(Clone::clone);
            // Nothing to say on a cluster without operators.
            if services.as_ref().is_ok_and(Vec::is_empty) {
                return None;
            }
            let (rows, error) = split(&services, |rows: &Vec<&OperatorResourceRow>| {
                rows.iter().map(|r| operator_row(r, theme)).collect()
            });
            let widths = operator_widths(services.iter().flatten().copied());
            Some(Pane {
                title: "Operator services (read-only)",
                header: OPERATOR_HEADER,
                widths,
                rows,
                error,
            })
        }
        ViewId::Cache => {
            let mut rows = Vec::new();
            let mut errors = Vec::new();
            match &inventory.caches {
                Ok(pvcs) => rows.extend(pvcs.iter().map(|p| pvc_row(p, theme))),
                Err(err) => errors.push(format!("cache PVCs: {err}")),
            }
            match &inventory.operators {
                Ok(resources) => rows.extend(
                    resources
                        .iter()
                        .filter(|r| CACHE_KINDS.contains(&r.kind.as_str()))
                        .map(|r| operator_row(r, theme)),
                ),
                Err(err) => errors.push(format!("operator caches: {err}")),
            }
            if rows.is_empty() && errors.is_empty() {
                return None;
            }
            let error = (!errors.is_empty()).then(|| errors.join("; "));
            let caches = inventory
                .operators
                .iter()
                .flatten()
                .filter(|r| CACHE_KINDS.contains(&r.kind.as_str()));
            let mut widths = operator_widths(caches);
            // PVC rows: the name and "size class" in the NAME and SOURCE columns.
            if let Ok(pvcs) = &inventory.caches {
                for pvc in pvcs {
                    widen(&mut widths[1], pvc.name.len());
                    widen(&mut widths[3], pvc_source(pvc).len());
                }
            }
            Some(Pane { title: "Cluster caches", header: OPERATOR_HEADER, widths, rows, error })
        }
        ViewId::Recipes => None,
    }
}

fn split<'a, T>(
    result: &Result<T, String>,
    rows: impl FnOnce(&T) -> Vec<Row<'a>>,
) -> (Vec<Row<'a>>, Option<String>) {
    match result {
        Ok(value) => (rows(value), None),
        Err(err) => (Vec::new(), Some(err.clone())),
    }
}

fn node_row<'a>(node: &NodeGpuInventory, theme: &Theme) -> Row<'a> {
    let status = match (node.ready, node.unschedulable) {
        (true, false) => Span::styled("Ready", theme.ok),
        (true, true) => Span::styled("Cordoned", theme.warning),
        (false, _) => Span::styled("NotReady", theme.error),
    };
    let used_style =
        if node.allocatable > 0 && node.free() == 0 { theme.warning } else { theme.text };
    Row::new(vec![
        Cell::from(node.node.clone()),
        Cell::from(node.vendor.map_or("-", |v| v.as_str())),
        Cell::from(Span::styled(format!("{}/{}", node.allocated, node.allocatable), used_style)),
        Cell::from(node.capacity.to_string()),
        Cell::from(match (&node.product, &node.partition) {
            (Some(product), Some(partition)) => format!("{product} ({partition})"),
            (product, _) => product.clone().unwrap_or_else(|| "-".into()),
        }),
        Cell::from(node.memory.clone().unwrap_or_else(|| "-".into())),
        Cell::from(status),
        // Problem conditions and health labels next to the taints: what keeps GPUs from work.
        Cell::from({
            let health = node.health_labels.iter().map(|(k, v)| format!("{k}={v}"));
            let notes: Vec<String> = node
                .taints
                .iter()
                .cloned()
                .chain(node.problems.iter().cloned())
                .chain(health)
                .collect();
            if notes.is_empty() { "-".to_string() } else { notes.join(" ") }
        }),
    ])
}

const OPERATOR_HEADER: &[&str] = &["KIND", "NAME", "STATE", "SOURCE", "CONDITIONS"];

/// KIND, NAME, STATE and SOURCE as wide as their longest entry; CONDITIONS take the rest.
fn operator_widths<'r>(rows: impl Iterator<Item = &'r OperatorResourceRow>) -> Vec<Constraint> {
    let mut widths = vec![
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(5),
        Constraint::Length(6),
        Constraint::Fill(1),
    ];
    for row in rows {
        widen(&mut widths[0], row.kind.len());
        widen(&mut widths[1], row.name.len());
        widen(&mut widths[2], row.state.as_ref().map_or(1, String::len));
        widen(&mut widths[3], row.source.as_ref().map_or(1, String::len));
    }
    widths
}

fn widen(width: &mut Constraint, len: usize) {
    if let Constraint::Length(current) = width {
        *current = (*current).max(len.min(48) as u16);
    }
}

fn pvc_source(pvc: &CachePvcRow) -> String {
    let size = pvc.capacity.clone().or_else(|| pvc.requested.clone()).unwrap_or_else(|| "?".into());
    format!("{size} {}", pvc.storage_class.clone().unwrap_or_default()).trim().to_string()
}

fn state_style(state: &str, theme: &Theme) -> ratatui::style::Style {
    match state {
        "Ready" | "Bound" | "Running" => theme.ok,
        "Failed" | "Lost" | "NotReady" => theme.error,
        _ => theme.warning,
    }
}

fn operator_row<'a>(resource: &OperatorResourceRow, theme: &Theme) -> Row<'a> {
    let state = resource.state.clone().unwrap_or_else(|| "-".into());
    Row::new(vec![
        Cell::from(resource.kind.clone()),
        Cell::from(resource.name.clone()),
        Cell::from(Span::styled(state.clone(), state_style(&state, theme))),
        Cell::from(resource.source.clone().unwrap_or_else(|| "-".into())),
        Cell::from(resource.conditions.join("; ")),
    ])
}

fn pvc_row<'a>(pvc: &CachePvcRow, theme: &Theme) -> Row<'a> {
    let models =
        if pvc.models.is_empty() { "no models yet".to_string() } else { pvc.models.join(", ") };
    Row::new(vec![
        Cell::from("PVC"),
        Cell::from(pvc.name.clone()),
        Cell::from(Span::styled(pvc.phase.clone(), state_style(&pvc.phase, theme))),
        Cell::from(pvc_source(pvc)),
        Cell::from(models),
    ])
}
