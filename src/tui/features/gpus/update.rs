//! The GPUs domain's `update`: telemetry from the poller, the topology toggle, and the
//! placement rules `A` and `M` flip for the console's create and scale (`--allow-degraded`,
//! `--partitions`: `placement_toggle`).

use std::sync::Arc;

use crate::monitor::gpu_poller::GpuUpdate;
use crate::tui::ctx::{Ctx, invalidate, notify, redraw};
use crate::tui::event::Command;
use crate::tui::features::gpus::GpuState;
use crate::tui::joins::Stale;
use crate::tui::keymap::Action;
use crate::tui::messages::Level;

/// What the GPUs domain is told.
#[derive(Debug)]
pub enum GpuMsg {
    /// A discovery pass finished.
    Polled(Arc<GpuUpdate>),
    /// `t`: the topology over the whole body, or back.
    ToggleTopology,
    /// `A` or `M`: flip a placement rule.
    TogglePlacement(Action),
}

pub fn update(state: &mut GpuState, msg: GpuMsg, _ctx: &Ctx) -> Vec<Command> {
    match msg {
        GpuMsg::Polled(update) => polled(state, update),
        GpuMsg::ToggleTopology => {
            state.topology_full = !state.topology_full;
            Vec::new()
        }
        GpuMsg::TogglePlacement(action) => {
            let policy = &mut state.placement;
            match action {
                Action::AllowDegraded => policy.allow_degraded = !policy.allow_degraded,
                Action::Partitions => policy.partitions = !policy.partitions,
                _ => return Vec::new(),
            }
            vec![notify(Level::Info, crate::tui::placement_toggle::describe(*policy))]
        }
    }
}

fn polled(state: &mut GpuState, update: Arc<GpuUpdate>) -> Vec<Command> {
    let previous = state.update.as_ref();
    let same_snapshot = previous.is_some_and(|p| p.snapshot == update.snapshot);
    let new_warnings: Vec<Command> = update
        .snapshot
        .warnings
        .iter()
        .filter(|w| !previous.is_some_and(|p| p.snapshot.warnings.contains(w)))
        .map(|warning| notify(Level::Warning, format!("gpus: {warning}")))
        .collect();
    // With no GPUs and nothing new to say, an identical pass draws nothing.
    let unchanged = same_snapshot && update.snapshot.gpus.is_empty();
    state.update = Some(update);
    let mut commands = new_warnings;
    if !unchanged {
        commands.extend([invalidate(Stale::All), redraw()]);
    }
    commands
}
