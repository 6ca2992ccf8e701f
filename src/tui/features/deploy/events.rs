//! The deploy domain's actions on a deployment's row and how the backends' answers change its
//! state (`Turn<DeployState>` methods, called from `update.rs`).

use crate::model::{Deployment, DeploymentSpec};
use crate::tui::ctx::{Notice, Turn};
use crate::tui::event::Command;
use crate::tui::features::deploy::rollout::{Rollout, RolloutAction};
use crate::tui::features::deploy::{DeployCommand, DeployEvent, LogsView};
use crate::tui::features::deploy::{DeployState, live_gpus};
use crate::tui::joins::Stale;
use crate::tui::joins::deployment_rows::deployment_part;
use crate::tui::keymap::Action;
use crate::tui::messages::Level;
use crate::tui::mode::{ConfirmPurpose, FormPurpose, Mode, Pager};
use crate::tui::views::ViewId;
use crate::tui::widgets::{ConfirmDialog, LogPane};

impl Turn<'_, DeployState> {
    pub(crate) fn on_deploy_event(&mut self, event: DeployEvent) -> Vec<Command> {
        match event {
            DeployEvent::Listed { backend, result } => {
                self.state.listing.remove(&backend);
                self.state.listing_since.remove(&backend);
                match result {
                    Ok(deployments) => {
                        self.state.errors.remove(&backend);
                        self.state.unreachable_since.remove(&backend);
                        self.forget_settled_targets();
                        let rollouts_changed = self.follow_rollouts(&backend, &deployments);
                        if self.state.deployments.get(&backend) == Some(&deployments) {
                            if rollouts_changed {
                                self.invalidate(Stale::All);
                            }
                            return Vec::new();
                        }
                        self.state.deployments.insert(backend, deployments);
                        self.announce(Notice::DeploymentsChanged);
                        return Vec::new();
                    }
                    Err(err) => {
                        let new_error = self.state.errors.get(&backend) != Some(&err);
                        if new_error {
                            // Shown once per distinct error; a backend that is not set up here
                            // (no kubeconfig) must not hide a startup message.
                            self.notify_behind(Level::Warning, format!("{backend}: {err}"));
                            self.state.errors.insert(backend.clone(), err);
                        }
                        // The last rows stay, marked stale by the header's `unreachable since`:
                        // an outage must not look like every deployment vanished.
                        let newly_unreachable =
                            !self.state.unreachable_since.contains_key(&backend);
                        if newly_unreachable {
                            let since = self.ctx.now.time_of_day();
                            self.state.unreachable_since.insert(backend.clone(), since);
                        }
                        // The same failure every 2 s (no Docker daemon here) changes nothing on
                        // screen: redrawing it was 25 bytes to the terminal each time.
                        if !new_error && !newly_unreachable {
                            return Vec::new();
                        }
                    }
                }
                self.announce(Notice::DeploymentsChanged);
            }
            DeployEvent::Progress(event) => {
                if let Some(rollout) = self.state.rollouts.get_mut(&event.deployment) {
                    rollout.on_progress(&event);
                }
                self.notify(Level::Info, format!("{}: {}", event.deployment, event.message));
                // Only the Endpoints rows show rollouts: a fast pull's stream of events must not
                // rebuild every view.
                self.invalidate(Stale::Endpoints);
            }
            DeployEvent::Done { action, target, deployment, result } => {
                let mut commands = Vec::new();
                if let Some(name) = deployment.clone() {
                    if self
                        .state
                        .rollouts
                        .get_mut(&name)
                        .is_some_and(|rollout| rollout.on_done(&result))
                    {
                        self.state.rollouts.remove(&name);
                    }
                    commands = self.deployment_action_done(&name, result.is_ok());
                }
                match result {
                    Ok(()) => {
                        if let Some(name) = &deployment {
                            self.state.submitted.remove(name);
                        }
                        self.notify_on(&action, Level::Info, format!("{action} {target}: done"))
                    }
                    Err(err) => {
                        let cause = format!("{action} {target}: {err}");
                        let hint = match &deployment {
                            Some(name) => self.create_refused(name, &cause),
                            None => "",
                        };
                        self.notify_on(&action, Level::Error, format!("{cause}{hint}"))
                    }
                }
                self.invalidate(Stale::Endpoints);
                return commands;
            }
            DeployEvent::LogLine { name, text } => {
                if let Some(logs) = self.state.logs.as_mut().filter(|l| l.deployment == name) {
                    logs.pane.push(text);
                    self.redraw();
                }
            }
            DeployEvent::LogEnded { name, error } => {
                if let Some(logs) = self.state.logs.as_mut().filter(|l| l.deployment == name) {
                    logs.pane.push(match error {
                        Some(err) => format!("-- log stream ended: {err}"),
                        None => "-- log stream ended".to_string(),
                    });
                    self.redraw();
                }
            }
            DeployEvent::ImagePresence { image, result } => {
                return self.image_presence_known(&image, result);
            }
            DeployEvent::Rendered { backend, spec, create, header, result } => {
                return self.rendered(backend, spec, create, header, result);
            }
            DeployEvent::Journal(result) => match result {
                Ok(journal) => {
                    let mut pane = LogPane::new(10_000);
                    for entry in &journal.entries {
                        pane.push(format!(
                            "{}  {:<8} {:<8} {:<8} {}  {}",
                            entry.when,
                            entry.who,
                            entry.backend,
                            entry.action,
                            entry.target,
                            entry.result
                        ));
                    }
                    if journal.entries.is_empty() {
                        pane.push("No changes recorded yet: deploys, scales, restarts and deletes appear here.");
                    }
                    self.open(Mode::Pager(Box::new(Pager {
                        title: "Journal".into(),
                        pane,
                        create: None,
                    })));
                    self.state.journal = Some(journal);
                }
                Err(err) => self.notify(Level::Error, format!("journal: {err}")),
            },
        }
        Vec::new()
    }

    /// Moves the rollouts on `backend` on with its new listing; drops those that are over.
    /// Returns whether any changed.
    fn follow_rollouts(&mut self, backend: &str, deployments: &[Deployment]) -> bool {
        let mut changed = false;
        self.state.rollouts.retain(|name, rollout| {
            if rollout.backend != backend {
                return true;
            }
            let before = rollout.clone();
            let over = rollout.on_listed(deployments.iter().find(|d| &d.name == name));
            changed |= over || *rollout != before;
            !over
        });
        changed
    }

    /// Starts following what the user just asked of deployment `name` (replacing a failure
    /// still shown on its row).
    pub(crate) fn begin_rollout(
        &mut self,
        backend: &str,
        name: &str,
        action: RolloutAction,
        target: u32,
        spec: Option<&DeploymentSpec>,
    ) {
        let spec = spec.or_else(|| self.state.find(name).map(|d| &d.spec));
        let (engine, model) =
            spec.map(|s| (s.engine.as_str().to_string(), s.model.clone())).unwrap_or_default();
        self.state
            .rollouts
            .insert(name.to_string(), Rollout::new(backend, action, target, &engine, &model));
        self.invalidate(Stale::Endpoints);
    }

    /// Enter in the create review: the deployment is created and followed on its row.
    pub(crate) fn create_reviewed(
        &mut self,
        backend: String,
        spec: Box<DeploymentSpec>,
    ) -> Vec<Command> {
        if !self.claim_deployment(&spec.name, "creating") {
            return Vec::new();
        }
        self.state.review = None;
        if let Some(values) = self.state.review_values.take() {
            self.state.submitted.insert(spec.name.clone(), values);
        }
        self.notify_on("deploy", Level::Info, format!("creating {} on {backend}…", spec.name));
        self.begin_rollout(&backend, &spec.name, RolloutAction::Create, spec.replicas, Some(&spec));
        let place_on = live_gpus(self.ctx);
        vec![Command::Deploy(DeployCommand::Create { backend, spec, place_on })]
    }

    /// The deployment under the cursor in the Endpoints view.
    pub fn selected_deployment(&self) -> Option<&Deployment> {
        self.state.find(deployment_part(self.ctx.selected(ViewId::Endpoints)?)?)
    }

    fn selected_backend(&self) -> Option<(String, String)> {
        let deployment = self.selected_deployment()?;
        Some((self.state.backend(&deployment.backend)?.clone(), deployment.name.clone()))
    }

    /// Create, scale, delete, restart, logs, rendered config (`is_deploy_action`).
    pub(crate) fn deploy_action(&mut self, action: Action) -> Vec<Command> {
        if action == Action::Create {
            self.open_create_form();
            return Vec::new();
        }
        let Some((backend, name)) = self.selected_backend() else {
            self.notify(Level::Info, format!("{}: select a deployment first", action.name()));
            return Vec::new();
        };
        let replicas = self.state.find(&name).map(|d| d.replicas.len() as u32).unwrap_or(0);
        match action {
            Action::Scale => {
                let form = super::guard::scale_form(&name, replicas);
                self.open(Mode::Form(form, FormPurpose::Scale { backend, name }));
                Vec::new()
            }
            // From the last requested count; to 0 asks first (see deploy_guard).
            Action::ScaleUp => self.step_scale(backend, name, 1),
            Action::ScaleDown => self.step_scale(backend, name, -1),
            Action::Delete => {
                let dialog = ConfirmDialog::new(
                    "Delete deployment",
                    format!(
                        "Delete {name} on {backend}: its {replicas} replica(s) stop and are removed. Nothing else is touched."
                    ),
                    name.clone(),
                );
                self.open(Mode::Confirm(
                    dialog,
                    ConfirmPurpose::DeleteDeployment { backend, name },
                ));
                Vec::new()
            }
            Action::Restart if !self.claim_deployment(&name, "restarting") => Vec::new(),
            Action::Restart => {
                self.notify(Level::Info, format!("restarting {name}…"));
                self.begin_rollout(&backend, &name, RolloutAction::Restart, replicas, None);
                vec![Command::Deploy(DeployCommand::Restart { backend, name })]
            }
            Action::Logs => {
                let mut commands = Vec::new();
                if let Some(old) = self.state.logs.take() {
                    commands.push(Command::Cancel(old.run));
                }
                let run = self.ctx.new_run();
                self.state.logs = Some(LogsView {
                    deployment: name.clone(),
                    pane: LogPane::new(10_000),
                    run,
                    searching: None,
                });
                self.open(Mode::Logs);
                commands.push(Command::Deploy(DeployCommand::Logs { backend, name, run }));
                commands
            }
            _ => match self.state.find(&name) {
                Some(deployment) => vec![Command::Deploy(DeployCommand::Render {
                    backend,
                    spec: Box::new(deployment.spec.clone()),
                    create: false,
                    header: Vec::new(),
                })],
                None => Vec::new(),
            },
        }
    }

    pub(crate) fn delete_deployment(&mut self, backend: String, name: String) -> Vec<Command> {
        if self.state.backend(&backend).is_none() {
            self.notify(Level::Error, format!("backend {backend} is not open"));
            return Vec::new();
        }
        if !self.claim_deployment(&name, "deleting") {
            return Vec::new();
        }
        self.notify(Level::Info, format!("deleting {name}…"));
        self.begin_rollout(&backend, &name, RolloutAction::Delete, 0, None);
        vec![Command::Deploy(DeployCommand::Delete { backend, name })]
    }

    /// The create wizard's last step: how the spec was resolved (recipe and why, fields from
    /// the recipe, fields overridden, fit, image), then what the backend would create (a
    /// `Render` command: the backend reads its state to answer). Once the review is open, the
    /// engine is asked whether it has the image; the answer fills in the Image line.
    pub(crate) fn open_create_review(
        &mut self,
        backend: String,
        resolution: crate::ops::Resolution,
    ) -> Vec<Command> {
        let asks = Self::review_image(&backend, &resolution).is_some();
        let status = if asks { "asking the engine whether it has it…" } else { "" };
        let header = crate::tui::features::deploy::review::summary(&resolution, &backend, status);
        let spec = Box::new(resolution.spec.clone());
        self.state.review = Some(resolution);
        self.state.review_image_asked = false;
        vec![Command::Deploy(DeployCommand::Render { backend, spec, create: true, header })]
    }

    /// The image the engine is asked about: Docker's only.
    fn review_image(backend: &str, resolution: &crate::ops::Resolution) -> Option<String> {
        resolution.spec.image.clone().filter(|_| backend == crate::backend::docker::NAME)
    }

    /// The rendered config came back: the pager opens (for a create review, with Enter
    /// creating), and the engine is asked about the reviewed image once.
    fn rendered(
        &mut self,
        backend: String,
        spec: Box<DeploymentSpec>,
        create: bool,
        header: Vec<String>,
        result: Result<Vec<String>, String>,
    ) -> Vec<Command> {
        let lines = match result {
            Ok(lines) => lines,
            Err(err) => {
                self.notify(Level::Error, format!("render: {err}"));
                return Vec::new();
            }
        };
        if create && self.state.review.as_ref().is_none_or(|r| r.spec.name != spec.name) {
            // The review was left before its render came back.
            return Vec::new();
        }
        let mut pane = LogPane::new(5_000);
        pane.follow = false;
        for line in header.into_iter().chain(lines) {
            pane.push(line);
        }
        pane.scroll_to_top();
        let title = if create {
            format!("Review: {} on {backend} (y or enter creates, esc cancels)", spec.name)
        } else {
            format!("{} on {backend} (rendered config)", spec.name)
        };
        let mut commands = Vec::new();
        if create && !self.state.review_image_asked {
            self.state.review_image_asked = true;
            let image = self.state.review.as_ref().and_then(|r| Self::review_image(&backend, r));
            if let Some(image) = image {
                let backend = backend.clone();
                commands.push(Command::Deploy(DeployCommand::ImagePresence { backend, image }));
            }
        }
        let create = create.then_some((backend, spec));
        self.open(Mode::Pager(Box::new(Pager { title, pane, create })));
        commands
    }

    /// The engine's answer about the reviewed image: present (with its size) or to be pulled;
    /// the review is rendered again with it.
    fn image_presence_known(
        &mut self,
        image: &str,
        result: Result<crate::backend::ImagePresence, String>,
    ) -> Vec<Command> {
        let reviewing = matches!(self.ctx.mode, Mode::Pager(pager) if pager.create.as_ref().is_some_and(|(_, spec)| spec.image.as_deref() == Some(image)));
        let Some(resolution) = self.state.review.clone().filter(|_| reviewing) else {
            return Vec::new();
        };
        let status = match result {
            Ok(crate::backend::ImagePresence::Present { size_bytes: Some(bytes) }) => {
                format!("present on the engine ({})", bytesize::ByteSize::b(bytes))
            }
            Ok(crate::backend::ImagePresence::Present { size_bytes: None }) => {
                "present on the engine".to_string()
            }
            Ok(crate::backend::ImagePresence::Missing) => {
                "not on the engine: create pulls it".to_string()
            }
            Ok(crate::backend::ImagePresence::NotApplicable) => String::new(),
            Err(err) => format!("unknown ({err})"),
        };
        let Mode::Pager(pager) = self.ctx.mode else { return Vec::new() };
        let Some((backend, _)) = pager.create.clone() else { return Vec::new() };
        let header = crate::tui::features::deploy::review::summary(&resolution, &backend, &status);
        let spec = Box::new(resolution.spec);
        vec![Command::Deploy(DeployCommand::Render { backend, spec, create: true, header })]
    }
}
