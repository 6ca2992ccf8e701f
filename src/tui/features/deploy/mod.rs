//! Deployments in the console: the backends it drives, what they run (listed every 2 s), and
//! the actions on them: create (a form, then a review of the rendered config), scale, delete
//! (typed confirmation), restart, logs (follow, search, wrap) and the journal of every change.
//! Backends are the source of truth: the console keeps no state of its own about deployments.
//!
//! Everything that touches a backend runs as a `Command::Deploy` in a task and comes back as
//! `Event::Deploy`, so `App::update` never waits on Docker or a child process.

pub mod create_form;
mod events;
mod guard;
pub mod review;
pub mod rollout;
mod update;
pub mod view;

pub use create_form::live_gpus;
pub use update::{DeployMsg, is_deploy_action, selected_failure, update};

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::backend::AllocatableGpu;
use crate::backend::journal::Journal;
use crate::model::{BackendEvent, Deployment, DeploymentSpec};

use crate::tui::ctx::{Ctx, Notice};
use crate::tui::event::{Command, RunId};
use crate::tui::widgets::LogPane;

/// A list out longer than this marks its backend `slow` in the header.
pub const SLOW_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

/// Work on deployment backends, each named by its key; the effects runner (`effects::deploy`)
/// looks the backend up in its registry.
#[derive(Debug, Clone, PartialEq)]
pub enum DeployCommand {
    List {
        backend: String,
    },
    /// `place_on`: the GPUs the console saw, handed to the backend first so it places where
    /// `aimdeck deploy` would.
    Create {
        backend: String,
        spec: Box<DeploymentSpec>,
        place_on: Option<Vec<AllocatableGpu>>,
    },
    Scale {
        backend: String,
        name: String,
        replicas: u32,
        place_on: Option<Vec<AllocatableGpu>>,
    },
    Delete {
        backend: String,
        name: String,
    },
    Restart {
        backend: String,
        name: String,
    },
    /// Follows the logs until `Command::Cancel(run)`.
    Logs {
        backend: String,
        name: String,
        run: RunId,
    },
    ReadJournal,
    /// Start (or adopt) the demo's engines from `base_port` (a free base when `None`), then
    /// send them the demo's traffic until the console stops.
    StartDemo {
        state_dir: PathBuf,
        base_port: Option<u16>,
    },
    /// Whether the engine has the image under review (bounded: 5 s).
    ImagePresence {
        backend: String,
        image: String,
    },
    /// What `backend` would create for `spec` (it reads its state dir, /proc, token files),
    /// shown under `header`; with `create`, the review Enter creates from.
    Render {
        backend: String,
        spec: Box<DeploymentSpec>,
        create: bool,
        header: Vec<String>,
    },
}

#[derive(Debug)]
pub enum DeployEvent {
    Listed {
        backend: String,
        result: Result<Vec<Deployment>, String>,
    },
    Progress(BackendEvent),
    /// A create, scale, delete or restart finished. `deployment` names the deployment it was
    /// about (the demo's start is about several).
    Done {
        action: String,
        target: String,
        deployment: Option<String>,
        result: Result<(), String>,
    },
    LogLine {
        name: String,
        text: String,
    },
    LogEnded {
        name: String,
        error: Option<String>,
    },
    Journal(Result<Journal, String>),
    /// The answer to `DeployCommand::Render`: the rendered config's lines.
    Rendered {
        backend: String,
        spec: Box<DeploymentSpec>,
        create: bool,
        header: Vec<String>,
        result: Result<Vec<String>, String>,
    },
    ImagePresence {
        image: String,
        result: Result<crate::backend::ImagePresence, String>,
    },
}

/// The logs pane of one deployment.
#[derive(Debug, Clone)]
pub struct LogsView {
    pub deployment: String,
    pub pane: LogPane,
    /// The stream's run, cancelled when the pane closes.
    pub run: RunId,
    /// Typing a search (`/` inside the logs).
    pub searching: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct DeployState {
    /// The open backends, by key (the effects runner holds the backends themselves).
    pub backends: Vec<String>,
    /// The backend new deployments go to.
    pub active: String,
    /// Deployments by backend, as last listed.
    pub deployments: BTreeMap<String, Vec<Deployment>>,
    /// Backends whose last list failed, and why.
    pub errors: BTreeMap<String, String>,
    pub logs: Option<LogsView>,
    pub journal: Option<Journal>,
    /// Rollouts the console follows, by deployment name: shown on the rows until ready, or
    /// with the failure's cause until dismissed.
    pub rollouts: BTreeMap<String, crate::tui::features::deploy::rollout::Rollout>,
    pub state_dir: PathBuf,
    /// Backends with a list request in flight.
    pub listing: std::collections::BTreeSet<String>,
    /// When each in-flight list was sent: one out longer than [`SLOW_AFTER`] is `slow`.
    pub listing_since: BTreeMap<String, std::time::Instant>,
    /// Backends whose lists fail, since when (`HH:MM:SS`): their last rows stay, stale.
    pub unreachable_since: BTreeMap<String, String>,
    /// Deployments with a create, scale, delete or restart under way, and which: one at a time
    /// per deployment from this console (the backends' locks hold other processes off).
    pub in_flight: BTreeMap<String, &'static str>,
    /// The replica count last asked for, by deployment: `+`/`-` count from here, not from the
    /// listing, so `- -` from 3 ends at 1. Cleared by the first listing once nothing is queued.
    pub requested: BTreeMap<String, u32>,
    /// A scale asked for while another was under way: only the latest target is kept, and it
    /// runs when the current one finishes (three quick `+` make two scales, not three).
    pub queued_scale: BTreeMap<String, u32>,
    /// The create form's values while its recipe picker is open.
    pub draft: Option<crate::tui::features::deploy::create_form::FormValues>,
    /// The form values behind the open create review: kept with the create when it is sent.
    pub review_values: Option<crate::tui::features::deploy::create_form::FormValues>,
    /// The form values of each create under way, by deployment: a create the backend refuses
    /// reopens its form with them and the cause.
    pub submitted: BTreeMap<String, crate::tui::features::deploy::create_form::FormValues>,
    /// A refused create's values and cause, kept for `c` when another screen was open as the
    /// refusal came.
    pub retry: Option<(crate::tui::features::deploy::create_form::FormValues, String)>,
    /// The resolution shown in the create review, until it is created or left.
    pub review: Option<crate::ops::Resolution>,
    /// Whether the engine was asked about the reviewed image yet.
    pub review_image_asked: bool,
}

impl DeployState {
    /// New deployments go to `name` from now on.
    pub fn make_active(&mut self, name: &str) {
        self.active = name.to_string();
    }

    /// Backend `name` now points elsewhere (another cluster context or namespace) and takes
    /// new deployments: what it listed before is not the new one's.
    pub fn backend_replaced(&mut self, name: &str) {
        if self.backend(name).is_none() {
            self.backends.push(name.to_string());
        }
        self.deployments.remove(name);
        self.errors.remove(name);
        self.listing.remove(name);
        self.make_active(name);
    }

    /// Another domain's news that changes where deployments go (`:ctx`).
    pub fn on_notice(&mut self, notice: Notice, ctx: &Ctx) -> Vec<Command> {
        match notice {
            Notice::BackendChosen(name) => {
                self.make_active(&name);
                Vec::new()
            }
            Notice::BackendReplaced(name) => {
                self.backend_replaced(&name);
                self.list_all(ctx.now.instant)
            }
            Notice::DeploymentsChanged => Vec::new(),
        }
    }

    /// The backend's key, when it is open.
    pub fn backend(&self, name: &str) -> Option<&String> {
        self.backends.iter().find(|b| *b == name)
    }

    pub fn all(&self) -> impl Iterator<Item = &Deployment> {
        self.deployments.values().flatten()
    }

    pub fn find(&self, name: &str) -> Option<&Deployment> {
        self.all().find(|d| d.name == name)
    }

    /// `slow` or `unreachable since HH:MM:SS` for each backend not answering well, for the
    /// header; backends that answer are not named.
    pub fn backend_states(&self, now: std::time::Instant) -> Vec<(String, String)> {
        let mut states = Vec::new();
        for name in &self.backends {
            let slow =
                |sent: &std::time::Instant| now.saturating_duration_since(*sent) >= SLOW_AFTER;
            if let Some(since) = self.unreachable_since.get(name) {
                states.push((name.to_string(), format!("unreachable since {since}")));
            } else if self.listing_since.get(name).is_some_and(slow) {
                states.push((name.to_string(), "slow".to_string()));
            }
        }
        states
    }

    /// Commands that refresh the deployment lists, skipping backends whose last list has not
    /// answered yet, so a slow cluster never piles up requests.
    pub fn list_all(&mut self, now: std::time::Instant) -> Vec<Command> {
        let mut commands = Vec::new();
        for backend in &self.backends {
            if self.listing.insert(backend.clone()) {
                self.listing_since.insert(backend.clone(), now);
                commands.push(Command::Deploy(DeployCommand::List { backend: backend.clone() }));
            }
        }
        commands
    }
}

#[cfg(test)]
mod tests;
