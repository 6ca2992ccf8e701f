//! The GPUs view on a 64-GPU machine (8 NVLink islands of 8, as 8 nodes' worth): the table
//! lists every GPU, and the topology pane (`t`) shows the part of the 64 x 64 link matrix that
//! fits the screen, laid out exactly as if the whole matrix had been drawn and cut at the edge.

#[path = "support/gpu_fleet.rs"]
mod gpu_fleet;

use std::sync::Arc;
use std::time::Duration;

use aimdeck::hardware::{merge::merge, nvidia};
use aimdeck::monitor::gpu_history::GpuHistory;
use aimdeck::monitor::gpu_poller::GpuUpdate;
use aimdeck::tui::app::{App, HeaderInfo, Settings};
use aimdeck::tui::event::Event;
use aimdeck::tui::views::frame::render;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const GPUS: usize = 64;

/// Two passes of the generated tool output through the production parsers and merge.
fn app_with_64_gpus() -> App {
    let mut app = App::new(Settings {
        header: HeaderInfo { backend: "local".into(), host: "testhost".into() },
        user_themes_dir: "/nonexistent/themes".into(),
        ..Settings::default()
    });
    app.on_tick("12:34");
    let mut history = GpuHistory::new(120);
    for pass in 1..=2u64 {
        let (csv, topo) = gpu_fleet::nvidia_outputs(GPUS, pass as usize);
        let snapshot = merge(vec![nvidia::assemble(&csv, Some(&topo))], None, Vec::new());
        assert_eq!(snapshot.gpus.len(), GPUS);
        history.record(&snapshot, pass * 2000);
        app.update(Event::Gpus(Arc::new(GpuUpdate {
            pass,
            snapshot,
            history: history.clone(),
            took: Duration::ZERO,
        })));
    }
    app
}

fn screen_lines(app: &App, width: u16, height: u16) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| render(app, frame)).unwrap();
    let buffer = terminal.backend().buffer();
    (0..height).map(|y| (0..width).map(|x| buffer[(x, y)].symbol()).collect()).collect()
}

/// The matrix row of GPU `row` as `nvidia-smi topo -m` would give it in compact codes, for the
/// first `columns` GPUs.
fn expected_row(row: usize, columns: usize) -> String {
    let cells: String = (0..columns)
        .map(|col| {
            if col == row {
                "X   "
            } else if col / 8 == row / 8 {
                "N18 "
            } else {
                "SYS "
            }
        })
        .collect();
    format!("{:<6}{cells}", format!("G{row}"))
}

#[test]
fn the_topology_pane_of_64_gpus_shows_the_corner_that_fits_the_screen() {
    let mut app = app_with_64_gpus();
    assert_eq!(app.current().table.total(), GPUS, "the table lists every GPU");
    app.update(Event::Key(KeyEvent::new(KeyCode::Char('t'), KeyModifiers::NONE)));
    for (width, height) in [(80u16, 24u16), (120, 40), (160, 48), (200, 60)] {
        let lines = screen_lines(&app, width, height);
        insta::assert_snapshot!(format!("gpus_64_topology_{width}x{height}"), lines.join("\n"));
        // Inside the pane's border: 6 columns of row labels, then 4 per GPU to the edge.
        let inner = usize::from(width) - 2;
        let columns = (inner - 6).div_ceil(4);
        let header =
            lines.iter().find(|l| l.starts_with("│      G0  G1")).expect("the matrix header");
        assert!(header.contains(&format!("G{}", columns - 1)), "{header}");
        assert!(!header.contains(&format!("G{columns} ")), "no column past the edge: {header}");
        // Every row that fits, in order, with the island pattern: NVLink within each group of 8.
        // Less the header bar, the tabs, the pane's two borders, the message line, the footer and
        // the matrix header.
        let rows = usize::from(height) - 7;
        for row in 0..rows {
            let line = &lines[4 + row];
            let expected: String = expected_row(row, columns).chars().take(inner).collect();
            assert_eq!(
                &line.chars().skip(1).take(inner).collect::<String>(),
                &expected,
                "row of GPU {row}"
            );
        }
    }
}
