//! A deployment's rollout as the console follows it: what the user asked for (create, scale,
//! restart, delete), the phase the backend's progress events report (pulling 45%, creating 1/2,
//! starting 1/2) and, once the action returned, the wait until the listing shows every replica
//! ready. A failure keeps its cause on the deployment's row until the user dismisses it (Esc) or
//! acts on the deployment again. Pure state: the deploy domain (`events.rs`) feeds it events.

use crate::model::{BackendEvent, BackendEventKind, Deployment, ReplicaState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolloutAction {
    Create,
    Scale,
    Restart,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Sent to the backend; no progress reported yet.
    Requested,
    /// The backend pulls the image; the percent of the latest layer that reported sizes.
    Pulling {
        percent: Option<u8>,
    },
    /// The backend creates replica `replica` (0-based).
    Creating {
        replica: u32,
    },
    /// The backend started replicas; `/health` has not answered for all of them yet.
    Starting,
    /// The backend stops replicas (scale down, delete).
    Stopping,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    pub backend: String,
    pub action: RolloutAction,
    /// Replicas the deployment should have when the rollout is over.
    pub target: u32,
    pub phase: Phase,
    /// Whether the backend's action returned (create/scale/restart spawn replicas and return;
    /// readiness comes later, from the listing).
    pub returned: bool,
    /// For the row of a deployment the backend does not list (yet, or any more after a failed
    /// create rolled back): what it runs.
    pub engine: String,
    pub model: String,
}

impl Rollout {
    pub fn new(
        backend: &str,
        action: RolloutAction,
        target: u32,
        engine: &str,
        model: &str,
    ) -> Rollout {
        Rollout {
            backend: backend.to_string(),
            action,
            target,
            phase: Phase::Requested,
            returned: false,
            engine: engine.to_string(),
            model: model.to_string(),
        }
    }

    pub fn failed(&self) -> bool {
        matches!(self.phase, Phase::Failed(_))
    }

    /// A progress event from the backend while the action runs.
    pub fn on_progress(&mut self, event: &BackendEvent) {
        if self.failed() {
            return;
        }
        self.phase = match &event.kind {
            BackendEventKind::Pull { current: Some(current), total: Some(total) } if *total > 0 => {
                Phase::Pulling {
                    percent: Some((current.saturating_mul(100) / total).min(100) as u8),
                }
            }
            BackendEventKind::Pull { .. } => Phase::Pulling { percent: None },
            BackendEventKind::State { state: ReplicaState::Creating | ReplicaState::Pulling } => {
                Phase::Creating { replica: event.replica.unwrap_or(0) }
            }
            BackendEventKind::State { state: ReplicaState::Stopping } => Phase::Stopping,
            BackendEventKind::State { state: ReplicaState::Failed | ReplicaState::Exited } => {
                Phase::Failed(event.message.clone())
            }
            BackendEventKind::State { .. } => Phase::Starting,
            BackendEventKind::Other { .. } => return,
        };
    }

    /// The backend's action returned. `true` when the rollout is over (and goes away).
    pub fn on_done(&mut self, result: &Result<(), String>) -> bool {
        self.returned = true;
        match result {
            Err(err) => {
                self.phase = Phase::Failed(err.clone());
                false
            }
            Ok(()) if self.action == RolloutAction::Delete || self.target == 0 => true,
            Ok(()) => {
                self.phase = Phase::Starting;
                false
            }
        }
    }

    /// The backend listed its deployments (`None`: this one is not among them). `true` when the
    /// rollout is over: every wanted replica is ready, or the deployment went away after the
    /// action returned.
    pub fn on_listed(&mut self, deployment: Option<&Deployment>) -> bool {
        if !self.returned || self.failed() {
            return false;
        }
        let Some(deployment) = deployment else { return true };
        if let Some(dead) = deployment
            .replicas
            .iter()
            .find(|r| matches!(r.state, ReplicaState::Failed | ReplicaState::Exited))
        {
            let detail = dead.detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
            self.phase = Phase::Failed(format!("replica {} {}{detail}", dead.index, dead.state));
            return false;
        }
        deployment.replicas.len() == self.target as usize
            && deployment.ready_replicas() == self.target as usize
    }

    /// What the row's STATE column says: `pulling 45%`, `creating 1/2`, `starting 1/2`,
    /// `failed: <cause>`.
    pub fn text(&self, deployment: Option<&Deployment>) -> String {
        let ready = deployment.map_or(0, Deployment::ready_replicas);
        match &self.phase {
            Phase::Requested => match self.action {
                RolloutAction::Create => "creating".into(),
                RolloutAction::Scale => format!("scaling to {}", self.target),
                RolloutAction::Restart => "restarting".into(),
                RolloutAction::Delete => "deleting".into(),
            },
            Phase::Pulling { percent: Some(percent) } => format!("pulling {percent}%"),
            Phase::Pulling { percent: None } => "pulling".into(),
            Phase::Creating { replica } => {
                format!("creating {}/{}", replica + 1, self.target.max(replica + 1))
            }
            Phase::Starting => format!("starting {ready}/{}", self.target),
            Phase::Stopping => "stopping".into(),
            Phase::Failed(cause) => format!("failed: {cause}"),
        }
    }
}
