//! The GPUs table laid out for its width. At 80 columns the fixed columns leave HELD BY six
//! characters, which cut `unmanaged: pid 4242 python3 (71.2 GiB)` to `unmana`. When a holder
//! does not fit, HISTORY gives its width up (the detail pane and the MEMORY column carry the
//! rest), NAME shrinks to the short names, and each holder is written short (`pid 4242
//! python3 71.2G`, `llama/0 71.2G`) with an ellipsis on the right where even that is too long.
//! Rows, selection, sort and filter are the table's own; only the drawing changes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::Block;

use crate::model::gpu::{Gpu, GpuSnapshot};
use crate::tui::theme::Theme;
use crate::tui::widgets::table_layout::cut_line;
use crate::tui::widgets::{Cut, DataTable, TableCell, TableRow};

/// Columns besides HELD BY, the spacing between them, the highlight mark and the borders.
const FIXED_WIDTH: u16 = 2 + 10 + 8 + 11 + 15 + 4 + 5 + 8 + 8 + 1 + 2;
/// What NAME keeps and HISTORY is given up when narrow.
const NARROW_NAME: u16 = 7;
const GIB: f64 = (1u64 << 30) as f64;

/// Draws `table` in `area`, narrowed when some holder would not fit HELD BY.
pub fn render(
    frame: &mut Frame,
    area: Rect,
    block: Block<'_>,
    table: &DataTable,
    snapshot: &GpuSnapshot,
    theme: &Theme,
) {
    let held_width = area.width.saturating_sub(FIXED_WIDTH) as usize;
    let (Some(name), Some(history), Some(held)) =
        (column(table, "NAME"), column(table, "HISTORY"), column(table, "HELD BY"))
    else {
        return table.render(frame, area, block, theme);
    };
    let longest = table.rows().iter().map(|r| cell_width(&r.cells[held])).max().unwrap_or(0);
    if longest <= held_width {
        return table.render(frame, area, block, theme);
    }
    let mut narrow = table.clone();
    narrow.columns[name].width = Constraint::Length(NARROW_NAME);
    narrow.columns[history].width = Constraint::Length(0);
    narrow.columns[history].grow_to = None;
    let room = held_width + usize::from(10 - NARROW_NAME) + 8;
    let rows: Vec<TableRow> = table
        .rows()
        .iter()
        .map(|row| {
            let mut row = row.clone();
            let cell = &row.cells[held];
            if cell_width(cell) > room {
                let gpu = super::detail::selected(snapshot, Some(&row));
                let text = gpu.map(short_holder).unwrap_or_else(|| plain(cell));
                row.cells[held] = TableCell::styled(
                    Line::styled(ellipsize(&text, room), cell.content.style),
                    cell.sort.clone(),
                );
            }
            row
        })
        .collect();
    narrow.set_rows(rows);
    narrow.render(frame, area, block, theme);
}

fn column(table: &DataTable, title: &str) -> Option<usize> {
    table.columns.iter().position(|c| c.title == title)
}

fn plain(cell: &TableCell) -> String {
    cell.content.spans.iter().map(|s| s.content.as_ref()).collect()
}

fn cell_width(cell: &TableCell) -> usize {
    plain(cell).chars().count()
}

/// The holder in few characters: the replica (and unmanaged others), else the first process
/// aimdeck did not start by pid and name, each with the memory it uses.
pub fn short_holder(gpu: &Gpu) -> String {
    let memory = |bytes: u64| {
        if bytes > 0 { format!(" {:.1}G", bytes as f64 / GIB) } else { String::new() }
    };
    if let Some(holder) = &gpu.held_by {
        let used = gpu.memory_of(holder);
        let others = gpu.unmanaged().count();
        let others = if others > 0 { format!(" +{others}") } else { String::new() };
        return format!("{}/{}{}{others}", holder.deployment, holder.replica, memory(used));
    }
    match gpu.processes.iter().find(|p| p.holder.is_none()).or(gpu.processes.first()) {
        Some(process) => {
            let who = match &process.holder {
                Some(holder) => format!("{}/{}", holder.deployment, holder.replica),
                None => match &process.name {
                    Some(name) => format!("pid {} {name}", process.pid),
                    None => format!("pid {}", process.pid),
                },
            };
            format!("{who}{}", memory(process.used_memory_bytes.unwrap_or(0)))
        }
        None => "free".to_string(),
    }
}

/// `text` cut to `width` cells, the last one an ellipsis when anything was cut (the tables'
/// own cut, `table_layout::cut_line`).
pub fn ellipsize(text: &str, width: usize) -> String {
    let cut = cut_line(&Line::from(text.to_string()), width, Cut::End);
    cut.spans.iter().map(|s| s.content.as_ref()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::{GpuHolder, GpuProcess, GpuVendor};

    fn process(pid: u32, holder: Option<GpuHolder>) -> GpuProcess {
        GpuProcess {
            pid,
            name: Some("python3".into()),
            used_memory_bytes: Some(76_450_000_000),
            container_id: None,
            pod_uid: None,
            holder,
            parent_pids: Vec::new(),
        }
    }

    #[test]
    fn holders_shorten_and_cut_on_the_right() {
        let mut gpu = Gpu::new(4, GpuVendor::Nvidia, "NVIDIA H100 80GB HBM3");
        assert_eq!(short_holder(&gpu), "free");
        gpu.processes.push(process(4242, None));
        assert_eq!(short_holder(&gpu), "pid 4242 python3 71.2G");
        assert_eq!(ellipsize(&short_holder(&gpu), 17), "pid 4242 python3…");
        let holder = GpuHolder { deployment: "llama".into(), replica: 1 };
        gpu.held_by = Some(holder.clone());
        gpu.processes.push(process(5000, Some(holder)));
        assert_eq!(short_holder(&gpu), "llama/1 71.2G +1");
        assert_eq!(ellipsize("free", 17), "free");
    }
}
