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

use crossterm::event::KeyEvent;

use crate::backend::kubernetes::adapter::NAME as K8S;
use crate::backend::kubernetes::{
    CachePvcRow, KubeContextInfo, KubeTarget, NodeGpuInventory, OperatorResourceRow,
};
use crate::tui::app::{App, Level, Mode, PickPurpose};
use crate::tui::event::Command;
use crate::tui::widgets::picker::{PickOutcome, Picker, PickerItem};

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

/// The inventory read, when a cluster is configured and no read is in flight.
pub fn refresh(app: &mut App) -> Vec<Command> {
    if app.cluster.target.is_none() || app.cluster.refreshing {
        return Vec::new();
    }
    app.cluster.refreshing = true;
    vec![Command::Cluster(ClusterCommand::Refresh { generation: app.cluster.generation })]
}

/// `:ctx` (a picker) or `:ctx NAME` (switch now).
pub fn on_context(app: &mut App, name: Option<String>) -> Vec<Command> {
    match name {
        Some(name) if app.deploy.backend(&name).is_some() && name != K8S => {
            switch_local(app, &name);
            Vec::new()
        }
        // A context name: check it against the kubeconfig, then switch.
        Some(name) => {
            app.cluster.waiting_for = None;
            // Switching needs the kubeconfig read first (to refuse a name it lacks); the
            // answer to this read switches.
            app.cluster.switch_to = Some(name.strip_prefix("k8s/").unwrap_or(&name).to_string());
            read_contexts(app)
        }
        None => {
            app.cluster.waiting_for = Some(PickPurpose::Context);
            read_contexts(app)
        }
    }
}

/// One read of the kubeconfig's contexts; `on_contexts` acts on the answer.
fn read_contexts(app: &App) -> Vec<Command> {
    vec![Command::Cluster(ClusterCommand::Contexts { kubeconfig: app.cluster.kubeconfig.clone() })]
}

/// `:ns` (a picker of the cluster's namespaces) or `:ns NAME`.
pub fn on_namespace(app: &mut App, name: Option<String>) -> Vec<Command> {
    if app.cluster.target.is_none() {
        app.notify(Level::Warning, ":ns: no Kubernetes context is configured (--kubeconfig, KUBECONFIG or ~/.kube/config; :ctx lists them)");
        return Vec::new();
    }
    match name {
        Some(namespace) => switch_kubernetes(app, current_target(app).context, Some(namespace)),
        None => {
            app.cluster.waiting_for = Some(PickPurpose::Namespace);
            vec![Command::Cluster(ClusterCommand::Namespaces)]
        }
    }
}

fn current_target(app: &App) -> KubeTarget {
    let mut target = app.cluster.target.clone().unwrap_or_default();
    if target.kubeconfig.is_none() {
        target.kubeconfig = app.cluster.kubeconfig.clone();
    }
    target
}

fn switch_local(app: &mut App, name: &str) {
    app.deploy.make_active(name);
    app.header.backend = name.to_string();
    app.notify(Level::Info, format!("context: {name} (new deployments go there)"));
}

/// Replaces the `k8s` backend with one for `context`/`namespace`, makes it active, and asks
/// the new context for its deployments and inventory.
fn switch_kubernetes(
    app: &mut App,
    context: Option<String>,
    namespace: Option<String>,
) -> Vec<Command> {
    let mut target = current_target(app);
    target.timeout = target.timeout.or(Some(crate::tui::CONSOLE_CALL_TIMEOUT));
    target.context = context;
    target.namespace = namespace;
    app.cluster.target = Some(target.clone());
    app.cluster.inventory = None;
    app.cluster.refreshing = false;
    app.cluster.generation += 1;
    app.deploy.backend_replaced(K8S);
    let scope = scope_text(&target);
    app.header.backend = format!("k8s/{scope}");
    app.notify(Level::Info, format!("context: k8s/{scope} (new deployments go there)"));
    app.invalidate(crate::tui::joins::Stale::All);
    let mut commands = vec![Command::Cluster(ClusterCommand::Switch(Target(target)))];
    commands.extend(refresh(app));
    commands.extend(app.deploy.list_all());
    commands
}

pub fn on_event(app: &mut App, event: ClusterEvent) -> Vec<Command> {
    // A picker opening or a refusal is news on screen even when nothing else changed.
    app.mark_dirty();
    match event {
        ClusterEvent::Inventory { generation, inventory } => {
            // An answer from before a switch is about the old context.
            if generation != app.cluster.generation {
                return Vec::new();
            }
            app.cluster.refreshing = false;
            app.cluster.inventory = Some(*inventory);
            app.invalidate(crate::tui::joins::Stale::All);
            Vec::new()
        }
        ClusterEvent::Contexts(result) => on_contexts(app, result),
        ClusterEvent::Namespaces(result) => {
            if app.cluster.waiting_for.take() != Some(PickPurpose::Namespace) {
                return Vec::new();
            }
            match result {
                Ok(namespaces) => {
                    let current = current_target(app).namespace.or_else(|| {
                        app.cluster
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
                    app.mode = Mode::Pick(Picker::new("Namespaces", items), PickPurpose::Namespace);
                }
                Err(err) => app.notify(Level::Error, format!(":ns: {err}")),
            }
            Vec::new()
        }
    }
}

fn on_contexts(app: &mut App, result: Result<Vec<KubeContextInfo>, String>) -> Vec<Command> {
    if let Some(wanted) = app.cluster.switch_to.take() {
        return match result {
            Ok(contexts) if contexts.iter().any(|c| c.name == wanted) => {
                let namespace =
                    contexts.iter().find(|c| c.name == wanted).and_then(|c| c.namespace.clone());
                switch_kubernetes(app, Some(wanted), namespace)
            }
            Ok(contexts) => {
                let known: Vec<String> = app
                    .deploy
                    .backends
                    .iter()
                    .filter(|n| *n != K8S)
                    .cloned()
                    .chain(contexts.into_iter().map(|c| c.name))
                    .collect();
                app.notify(
                    Level::Error,
                    format!(
                        ":ctx: no backend or context named `{wanted}` (known: {})",
                        known.join(", ")
                    ),
                );
                Vec::new()
            }
            Err(err) => {
                app.notify(Level::Error, format!(":ctx {wanted}: {err}"));
                Vec::new()
            }
        };
    }
    if app.cluster.waiting_for.take() != Some(PickPurpose::Context) {
        return Vec::new();
    }
    let active_context = app.cluster.target.as_ref().and_then(|t| t.context.clone());
    let mut items: Vec<PickerItem> = app
        .deploy
        .backends
        .iter()
        .filter(|name| *name != K8S)
        .cloned()
        .map(|name| PickerItem {
            current: app.deploy.active == name,
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
                let in_use = app.deploy.active == K8S
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
    app.mode = Mode::Pick(Picker::new("Contexts", items).with_note(note), PickPurpose::Context);
    Vec::new()
}

/// Keys while a picker is open.
pub fn on_pick_key(
    app: &mut App,
    mut picker: Picker,
    purpose: PickPurpose,
    key: KeyEvent,
) -> Vec<Command> {
    match picker.handle_key(key) {
        PickOutcome::Pending => {
            app.mode = Mode::Pick(picker, purpose);
            Vec::new()
        }
        PickOutcome::Cancelled => Vec::new(),
        PickOutcome::Chosen(value) => match purpose {
            PickPurpose::Context => on_context(app, Some(value)),
            PickPurpose::Namespace => on_namespace(app, Some(value)),
            PickPurpose::CreateRecipe => app.recipe_picked(value),
        },
    }
}

#[cfg(test)]
mod tests;
