//! The GPUs domain's `update`, driven without a runtime: telemetry changes state and asks for
//! nothing; the topology key toggles the full matrix.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::model::gpu::{Gpu, GpuSnapshot, GpuVendor};
use crate::monitor::gpu_poller::GpuUpdate;
use crate::tui::app::{App, Settings};
use crate::tui::event::Event;

#[test]
fn telemetry_is_stored_and_topology_toggles_without_commands() {
    let mut app =
        App::new(Settings { user_themes_dir: "/nonexistent/themes".into(), ..Settings::default() });
    let gpus = vec![Gpu::new(0, GpuVendor::Nvidia, "NVIDIA H100 80GB HBM3")];
    let update = GpuUpdate {
        pass: 1,
        snapshot: GpuSnapshot { gpus, ..Default::default() },
        history: crate::monitor::gpu_history::GpuHistory::new(4),
        took: std::time::Duration::ZERO,
    };
    assert_eq!(app.update(Event::Gpus(Arc::new(update))), vec![]);
    assert_eq!(app.gpus.joined.as_ref().map(|s| s.gpus.len()), Some(1));
    let topology = Event::Key(KeyEvent::new(KeyCode::Char('t'), KeyModifiers::NONE));
    assert_eq!(app.update(topology), vec![]);
    assert!(app.gpus.topology_full);
}

/// `A` flips a placement rule in the GPUs domain's state and says what create and scale now
/// place on, as a message command for the shell.
#[test]
fn a_placement_toggle_is_state_and_one_message() {
    use crate::tui::ctx::notify;
    use crate::tui::features::gpus::{GpuMsg, GpuState, update};
    use crate::tui::keymap::Action;
    use crate::tui::messages::Level;
    let app =
        App::new(Settings { user_themes_dir: "/nonexistent/themes".into(), ..Settings::default() });
    let mut state = GpuState::default();
    let commands = update(&mut state, GpuMsg::TogglePlacement(Action::AllowDegraded), &app.ctx());
    assert!(state.placement.allow_degraded);
    assert_eq!(
        commands,
        vec![notify(
            Level::Info,
            "create and scale place on: healthy whole GPUs, degraded GPUs (A); never on failed GPUs"
        )]
    );
}
