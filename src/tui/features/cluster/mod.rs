//! Kubernetes in the console, the k9s way: `:ctx` lists the backends and every kubeconfig
//! context and switches where new deployments go (and which cluster the views show), `:ns`
//! switches the namespace. While a cluster is active the views also show what only a cluster
//! has: node GPU inventory (GPUs view), NIM/AIM operator resources (Endpoints view) and cache
//! PVCs (Cache view), reread every `REFRESH_TICKS` seconds in a task.
//!
//! A switch replaces the `k8s` backend handle with one for the new context or namespace; the
//! deployment list, the endpoint monitor and the inventory follow on their next pass.

pub mod view;

use std::path::PathBuf;

use crate::backend::kubernetes::adapter::NAME as K8S;
use crate::backend::kubernetes::{
    CachePvcRow, KubeContextInfo, KubeTarget, NodeGpuInventory, OperatorResourceRow,
};
use crate::tui::ctx::{Ctx, Notice, ShellCommand, invalidate, notify, open, redraw};
use crate::tui::event::Command;
use crate::tui::joins::Stale;
use crate::tui::messages::Level;
use crate::tui::mode::{Mode, PickPurpose};
use crate::tui::widgets::picker::{Picker, PickerItem};

/// Seconds between two reads of the cluster inventory.
pub const REFRESH_TICKS: u64 = 15;

/// What the console knows of the active cluster.
#[derive(Debug, Clone, Default)]
pub struct ClusterState {
    /// `--kubeconfig`; `KUBECONFIG` or `~/.kube/config` when unset.
    pub kubeconfig: Option<PathBuf>,
    pub inventory: Option<ClusterInventory>,
    pub refreshing: bool,
    /// Which list the user asked for with `:ctx`/`:ns`; its picker opens when the list arrives.
    pub waiting_for: Option<PickPurpose>,
    /// `:ctx NAME`: the context to switch to once the kubeconfig confirms it exists.
    pub switch_to: Option<String>,
    /// Bumped by every switch, so an inventory read for the old context is dropped.
    pub generation: u64,
    /// Where the Kubernetes backend points, when one is open.
    pub target: Option<KubeTarget>,
}

/// One read of the cluster, each part with its own error so a missing permission on nodes
/// does not hide the operator resources.
#[derive(Debug, Clone)]
pub struct ClusterInventory {
    /// `context/namespace`, as the header shows it.
    pub scope: String,
    pub nodes: Result<Vec<NodeGpuInventory>, String>,
    pub operators: Result<Vec<OperatorResourceRow>, String>,
    pub caches: Result<Vec<CachePvcRow>, String>,
}

/// Work on the active cluster, through the registry's cluster capability.
#[derive(Debug, Clone, PartialEq)]
pub enum ClusterCommand {
    Refresh {
        generation: u64,
    },
    Contexts {
        kubeconfig: Option<PathBuf>,
    },
    Namespaces,
    /// Replace the Kubernetes backend with one for this target (no I/O until first use).
    Switch(Target),
}

/// A Kubernetes target inside a command, compared by what it names.
#[derive(Debug, Clone)]
pub struct Target(pub KubeTarget);

impl PartialEq for Target {
    fn eq(&self, other: &Target) -> bool {
        let (a, b) = (&self.0, &other.0);
        (&a.kubeconfig, &a.context, &a.namespace, a.timeout)
            == (&b.kubeconfig, &b.context, &b.namespace, b.timeout)
    }
}

#[derive(Debug)]
pub enum ClusterEvent {
    Inventory { generation: u64, inventory: Box<ClusterInventory> },
    Contexts(Result<Vec<KubeContextInfo>, String>),
    Namespaces(Result<Vec<String>, String>),
}

/// `context/namespace` as given, for the header and messages.
pub fn scope_text(target: &KubeTarget) -> String {
    format!(
        "{}/{}",
        target.context.as_deref().unwrap_or("current"),
        target.namespace.as_deref().unwrap_or("default")
    )
}

/// What the cluster domain is told: the `:ctx`/`:ns` commands (typed or picked), that the
/// inventory is due, and the answers of its commands.
#[derive(Debug)]
pub enum ClusterMsg {
    /// `:ctx` (a picker) or `:ctx NAME` (switch now).
    Context(Option<String>),
    /// `:ns` (a picker of the cluster's namespaces) or `:ns NAME`.
    Namespace(Option<String>),
    /// The inventory's periodic read is due (`REFRESH_TICKS`).
    Refresh,
    Answer(ClusterEvent),
}

pub fn update(state: &mut ClusterState, msg: ClusterMsg, ctx: &Ctx) -> Vec<Command> {
    match msg {
        ClusterMsg::Context(name) => on_context(state, name, ctx),
        ClusterMsg::Namespace(name) => on_namespace(state, name),
        ClusterMsg::Refresh => refresh(state),
        ClusterMsg::Answer(event) => on_event(state, event, ctx),
    }
}

/// The inventory read, when a cluster is configured and no read is in flight.
fn refresh(state: &mut ClusterState) -> Vec<Command> {
    if state.target.is_none() || state.refreshing {
        return Vec::new();
    }
    state.refreshing = true;
    vec![Command::Cluster(ClusterCommand::Refresh { generation: state.generation })]
}

fn on_context(state: &mut ClusterState, name: Option<String>, ctx: &Ctx) -> Vec<Command> {
    match name {
        Some(name) if ctx.deploy.backend(&name).is_some() && name != K8S => switch_local(&name),
        // A context name: check it against the kubeconfig, then switch.
        Some(name) => {
            state.waiting_for = None;
            // Switching needs the kubeconfig read first (to refuse a name it lacks); the
            // answer to this read switches.
            state.switch_to = Some(name.strip_prefix("k8s/").unwrap_or(&name).to_string());
            read_contexts(state)
        }
        None => {
            state.waiting_for = Some(PickPurpose::Context);
            read_contexts(state)
        }
    }
}

/// One read of the kubeconfig's contexts; `on_contexts` acts on the answer.
fn read_contexts(state: &ClusterState) -> Vec<Command> {
    vec![Command::Cluster(ClusterCommand::Contexts { kubeconfig: state.kubeconfig.clone() })]
}

fn on_namespace(state: &mut ClusterState, name: Option<String>) -> Vec<Command> {
    if state.target.is_none() {
        return vec![notify(
            Level::Warning,
            ":ns: no Kubernetes context is configured (--kubeconfig, KUBECONFIG or ~/.kube/config; :ctx lists them)",
        )];
    }
    match name {
        Some(namespace) => {
            let context = current_target(state).context;
            switch_kubernetes(state, context, Some(namespace))
        }
        None => {
            state.waiting_for = Some(PickPurpose::Namespace);
            vec![Command::Cluster(ClusterCommand::Namespaces)]
        }
    }
}

fn current_target(state: &ClusterState) -> KubeTarget {
    let mut target = state.target.clone().unwrap_or_default();
    if target.kubeconfig.is_none() {
        target.kubeconfig = state.kubeconfig.clone();
    }
    target
}

fn switch_local(name: &str) -> Vec<Command> {
    vec![
        Command::Shell(ShellCommand::Announce(Notice::BackendChosen(name.to_string()))),
        Command::Shell(ShellCommand::HeaderBackend(name.to_string())),
        notify(Level::Info, format!("context: {name} (new deployments go there)")),
    ]
}

/// Replaces the `k8s` backend with one for `context`/`namespace`, makes it active, and asks
/// the new context for its deployments (the deploy domain, told of the replacement) and its
/// inventory.
fn switch_kubernetes(
    state: &mut ClusterState,
    context: Option<String>,
    namespace: Option<String>,
) -> Vec<Command> {
    let mut target = current_target(state);
    target.timeout = target.timeout.or(Some(crate::tui::CONSOLE_CALL_TIMEOUT));
    target.context = context;
    target.namespace = namespace;
    state.target = Some(target.clone());
    state.inventory = None;
    state.refreshing = false;
    state.generation += 1;
    let scope = scope_text(&target);
    let mut commands = vec![
        Command::Shell(ShellCommand::HeaderBackend(format!("k8s/{scope}"))),
        notify(Level::Info, format!("context: k8s/{scope} (new deployments go there)")),
        invalidate(Stale::All),
        Command::Cluster(ClusterCommand::Switch(Target(target))),
    ];
    commands.extend(refresh(state));
    // After the switch command: the listing it brings goes to the new backend.
    commands.push(Command::Shell(ShellCommand::Announce(Notice::BackendReplaced(K8S.into()))));
    commands
}

fn on_event(state: &mut ClusterState, event: ClusterEvent, ctx: &Ctx) -> Vec<Command> {
    // A picker opening or a refusal is news on screen even when nothing else changed.
    let mut commands = vec![redraw()];
    match event {
        ClusterEvent::Inventory { generation, inventory } => {
            // An answer from before a switch is about the old context.
            if generation == state.generation {
                state.refreshing = false;
                state.inventory = Some(*inventory);
                commands.push(invalidate(Stale::All));
            }
        }
        ClusterEvent::Contexts(result) => commands.extend(on_contexts(state, result, ctx)),
        ClusterEvent::Namespaces(result) => commands.extend(on_namespaces(state, result)),
    }
    commands
}

fn on_namespaces(state: &mut ClusterState, result: Result<Vec<String>, String>) -> Vec<Command> {
    if state.waiting_for.take() != Some(PickPurpose::Namespace) {
        return Vec::new();
    }
    match result {
        Ok(namespaces) => {
            let current = current_target(state).namespace.or_else(|| {
                state
                    .inventory
                    .as_ref()
                    .and_then(|i| i.scope.split_once('/').map(|(_, ns)| ns.to_string()))
            });
            let items = namespaces
                .into_iter()
                .map(|ns| PickerItem {
                    current: current.as_deref() == Some(ns.as_str()),
                    label: ns.clone(),
                    value: ns,
                    detail: String::new(),
                })
                .collect();
            vec![open(Mode::Pick(Picker::new("Namespaces", items), PickPurpose::Namespace))]
        }
        Err(err) => vec![notify(Level::Error, format!(":ns: {err}"))],
    }
}

fn on_contexts(
    state: &mut ClusterState,
    result: Result<Vec<KubeContextInfo>, String>,
    ctx: &Ctx,
) -> Vec<Command> {
    let local_backends = || ctx.deploy.backends.iter().filter(|n| *n != K8S).cloned();
    if let Some(wanted) = state.switch_to.take() {
        return match result {
            Ok(contexts) if contexts.iter().any(|c| c.name == wanted) => {
                let namespace =
                    contexts.iter().find(|c| c.name == wanted).and_then(|c| c.namespace.clone());
                switch_kubernetes(state, Some(wanted), namespace)
            }
            Ok(contexts) => {
                let known: Vec<String> =
                    local_backends().chain(contexts.into_iter().map(|c| c.name)).collect();
                vec![notify(
                    Level::Error,
                    format!(
                        ":ctx: no backend or context named `{wanted}` (known: {})",
                        known.join(", ")
                    ),
                )]
            }
            Err(err) => vec![notify(Level::Error, format!(":ctx {wanted}: {err}"))],
        };
    }
    if state.waiting_for.take() != Some(PickPurpose::Context) {
        return Vec::new();
    }
    let active = &ctx.deploy.active;
    let active_context = state.target.as_ref().and_then(|t| t.context.clone());
    let mut items: Vec<PickerItem> = local_backends()
        .map(|name| PickerItem {
            current: *active == name,
            detail: if name == "docker" {
                "containers on this host".into()
            } else {
                "processes on this host".into()
            },
            label: name.clone(),
            value: name,
        })
        .collect();
    let note = match result {
        Ok(contexts) => {
            for context in contexts {
                let in_use = active == K8S
                    && active_context.as_deref().map_or(context.current, |a| a == context.name);
                items.push(PickerItem {
                    value: format!("k8s/{}", context.name),
                    label: format!("k8s/{}", context.name),
                    detail: format!(
                        "cluster {} · namespace {}",
                        context.cluster,
                        context.namespace.as_deref().unwrap_or("default")
                    ),
                    current: in_use,
                });
            }
            None
        }
        Err(err) => Some(format!("no Kubernetes contexts: {err}")),
    };
    vec![open(Mode::Pick(Picker::new("Contexts", items).with_note(note), PickPurpose::Context))]
}

#[cfg(test)]
mod tests;
