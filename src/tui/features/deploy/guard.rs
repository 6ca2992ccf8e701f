//! One action at a time per deployment, from the console's side: a scale asked for while
//! another is under way is queued (only its latest target is kept), a delete or restart is
//! refused with the reason, and `+`/`-` count from the last *requested* number so quick presses
//! coalesce into one scale to the final count. Scaling to 0 asks first, like a delete: it stops
//! every replica (the deployment is kept, stopped). Other processes are held off by the
//! backends' own locks (`backend::lock`); what they refuse comes back as the action's error.

use crate::backend::MAX_REPLICAS;
use crate::tui::ctx::Turn;
use crate::tui::event::Command;
use crate::tui::features::deploy::DeployCommand;
use crate::tui::features::deploy::rollout::RolloutAction;
use crate::tui::features::deploy::{DeployState, live_gpus};
use crate::tui::messages::Level;
use crate::tui::mode::{ConfirmPurpose, Mode};
use crate::tui::widgets::ConfirmDialog;

impl Turn<'_, DeployState> {
    /// The count `+`/`-` start from: the last one asked for, else what the backend listed.
    fn scale_base(&self, name: &str) -> u32 {
        self.state
            .requested
            .get(name)
            .copied()
            .or_else(|| self.state.find(name).map(|d| d.replicas.len() as u32))
            .unwrap_or(0)
    }

    /// `+` (`step` 1) or `-` (`step` -1) on a deployment's row.
    pub(crate) fn step_scale(&mut self, backend: String, name: String, step: i32) -> Vec<Command> {
        let base = self.scale_base(&name);
        let target = if step < 0 {
            if base == 0 {
                self.notify(Level::Info, format!("{name} has no replicas"));
                return Vec::new();
            }
            base - 1
        } else {
            base + 1
        };
        if target > MAX_REPLICAS {
            self.notify(
                Level::Error,
                format!("scale {name}: at most {MAX_REPLICAS} replicas per deployment"),
            );
            return Vec::new();
        }
        self.request_scale(backend, name, target)
    }

    /// A scale to `replicas` from `+`/`-` or the `s` form: to 0 it asks first; otherwise it runs
    /// now, or is queued behind the scale under way, or refused behind a delete or restart.
    pub(crate) fn request_scale(
        &mut self,
        backend: String,
        name: String,
        replicas: u32,
    ) -> Vec<Command> {
        if replicas == 0 {
            let dialog = ConfirmDialog::new(
                "Scale to zero",
                format!(
                    "Stop every replica of {name} on {backend}? The deployment is kept (0/0 stopped); scale it up to bring it back."
                ),
                name.clone(),
            );
            self.open(Mode::Confirm(dialog, ConfirmPurpose::ScaleToZero { backend, name }));
            return Vec::new();
        }
        self.scale_now_or_queue(backend, name, replicas)
    }

    /// The scale form's Enter; `Err` keeps the form open with the cause.
    pub(crate) fn scale_submitted(
        &mut self,
        backend: String,
        name: String,
        value: &str,
    ) -> Result<Vec<Command>, String> {
        let replicas =
            value.trim().parse::<u32>().map_err(|_| format!("`{value}` is not a number"))?;
        if self.state.backend(&backend).is_none() {
            return Err(format!("scale {name}: backend {backend} is not open"));
        }
        Ok(self.request_scale(backend, name, replicas))
    }

    pub(crate) fn scale_to_zero_confirmed(
        &mut self,
        backend: String,
        name: String,
    ) -> Vec<Command> {
        if self.state.backend(&backend).is_none() {
            self.notify(Level::Error, format!("backend {backend} is not open"));
            return Vec::new();
        }
        self.scale_now_or_queue(backend, name, 0)
    }

    fn scale_now_or_queue(&mut self, backend: String, name: String, replicas: u32) -> Vec<Command> {
        match self.state.in_flight.get(&name).copied() {
            Some("scaling") => {
                self.state.requested.insert(name.clone(), replicas);
                self.state.queued_scale.insert(name.clone(), replicas);
                self.notify(
                    Level::Info,
                    format!("scale {name} to {replicas}: queued behind the scale under way"),
                );
                Vec::new()
            }
            Some(other) => {
                self.notify(Level::Warning, format!("scale {name}: refused, {name} is {other}"));
                Vec::new()
            }
            None => {
                self.state.requested.insert(name.clone(), replicas);
                self.state.in_flight.insert(name.clone(), "scaling");
                self.notify(Level::Info, format!("scaling {name} to {replicas}…"));
                self.begin_rollout(&backend, &name, RolloutAction::Scale, replicas, None);
                let place_on = live_gpus(self.ctx);
                vec![Command::Deploy(DeployCommand::Scale { backend, name, replicas, place_on })]
            }
        }
    }

    /// Marks `name` busy with `doing` (`deleting`, `restarting`, `creating`); `false`, with a
    /// message saying why, when another action on it is under way.
    pub(crate) fn claim_deployment(&mut self, name: &str, doing: &'static str) -> bool {
        if let Some(other) = self.state.in_flight.get(name).copied() {
            let verb = doing.trim_end_matches("ing");
            self.notify(Level::Warning, format!("{verb} {name}: refused, {name} is {other}"));
            return false;
        }
        self.state.in_flight.insert(name.to_string(), doing);
        true
    }

    /// An action on `name` finished: the queued scale, if any, runs now.
    pub(crate) fn deployment_action_done(&mut self, name: &str, ok: bool) -> Vec<Command> {
        self.state.in_flight.remove(name);
        if let Some(replicas) = self.state.queued_scale.remove(name)
            && let Some(backend) =
                self.state.find(name).and_then(|d| self.state.backend(&d.backend)).cloned()
        {
            return self.scale_now_or_queue(backend, name.to_string(), replicas);
        }
        if !ok {
            // What was asked for did not happen: count from the backend's truth again.
            self.state.requested.remove(name);
        }
        Vec::new()
    }

    /// After a listing: targets of deployments with nothing under way or queued are the
    /// listing's now.
    pub(crate) fn forget_settled_targets(&mut self) {
        let busy = &self.state.in_flight;
        let queued = &self.state.queued_scale;
        self.state.requested.retain(|name, _| busy.contains_key(name) || queued.contains_key(name));
    }
}

/// The scale form (`s`), starting at the deployment's replica count.
pub(crate) fn scale_form(name: &str, replicas: u32) -> crate::tui::widgets::Form {
    use crate::tui::widgets::FormField;
    crate::tui::widgets::Form::new(
        format!("Scale {name}"),
        vec![
            FormField::line("replicas", "Replicas", &replicas.to_string())
                .hint("0 stops every replica and keeps the deployment")
                .validate_with(|v| match v.trim().parse::<u32>() {
                    Ok(n) if n <= crate::backend::MAX_REPLICAS => Ok(()),
                    _ => Err(format!("a whole number from 0 to {}", crate::backend::MAX_REPLICAS)),
                }),
        ],
    )
}
