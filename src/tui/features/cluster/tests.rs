//! The cluster domain's `update`, driven without a runtime: the commands it returns are
//! compared with `==`.

use crate::tui::app::testing::command_line;
use crate::tui::app::{App, Settings};
use crate::tui::event::Command;
use crate::tui::features::cluster::ClusterCommand;
use crate::tui::messages::Level;

fn console() -> App {
    App::new(Settings {
        user_themes_dir: "/nonexistent/themes".into(),
        kubeconfig: Some("/nonexistent/kubeconfig".into()),
        ..Settings::default()
    })
}

#[test]
fn ctx_reads_the_kubeconfig_and_ns_needs_a_cluster() {
    let mut app = console();
    let contexts = Command::Cluster(ClusterCommand::Contexts {
        kubeconfig: Some("/nonexistent/kubeconfig".into()),
    });
    assert_eq!(command_line(&mut app, "ctx"), vec![contexts.clone()]);
    assert_eq!(command_line(&mut app, "ctx prod"), vec![contexts]);
    // No Kubernetes backend is open: no cluster to ask, and a warning saying why.
    assert_eq!(command_line(&mut app, "ns"), vec![]);
    assert_eq!(app.message.as_ref().map(|m| m.level), Some(Level::Warning));
    // No cluster, no inventory read.
    assert_eq!(app.cluster_update(crate::tui::features::cluster::ClusterMsg::Refresh), vec![]);
}

/// `:ctx NAME` of a local backend: the cluster domain writes no other domain's state; it tells
/// the deploy domain (a notice), the header and the message line, all as commands.
#[test]
fn switching_to_a_local_backend_is_three_requests_to_the_shell() {
    use crate::tui::ctx::{Notice, ShellCommand, notify};
    use crate::tui::features::cluster::{ClusterMsg, ClusterState, update};
    let mut app = console();
    app.deploy.backends = vec!["process".into(), "docker".into()];
    let mut state = ClusterState::default();
    let commands = update(&mut state, ClusterMsg::Context(Some("process".into())), &app.ctx());
    assert_eq!(
        commands,
        vec![
            Command::Shell(ShellCommand::Announce(Notice::BackendChosen("process".into()))),
            Command::Shell(ShellCommand::HeaderBackend("process".into())),
            notify(Level::Info, "context: process (new deployments go there)"),
        ]
    );
    // Through the shell, the deploy domain acts on the notice.
    command_line(&mut app, "ctx process");
    assert_eq!(app.deploy.active, "process");
    assert_eq!(app.header.backend, "process");
}

/// `:ns NAME` on a cluster: a new target, the old context's inventory dropped, and the
/// deploy domain told its `k8s` backend was replaced (it lists the new one).
#[test]
fn a_namespace_switch_replaces_the_backend_through_a_notice() {
    use crate::backend::kubernetes::KubeTarget;
    use crate::tui::ctx::{Notice, ShellCommand, invalidate, notify};
    use crate::tui::features::cluster::{ClusterMsg, ClusterState, Target, update};
    use crate::tui::features::deploy::DeployCommand;
    use crate::tui::joins::Stale;
    let app = console();
    let mut state = ClusterState {
        kubeconfig: Some("/nonexistent/kubeconfig".into()),
        target: Some(KubeTarget::default()),
        generation: 4,
        ..Default::default()
    };
    let commands = update(&mut state, ClusterMsg::Namespace(Some("team-b".into())), &app.ctx());
    let target = KubeTarget {
        kubeconfig: Some("/nonexistent/kubeconfig".into()),
        namespace: Some("team-b".into()),
        timeout: Some(crate::tui::CONSOLE_CALL_TIMEOUT),
        ..Default::default()
    };
    assert_eq!(
        commands,
        vec![
            Command::Shell(ShellCommand::HeaderBackend("k8s/current/team-b".into())),
            notify(Level::Info, "context: k8s/current/team-b (new deployments go there)"),
            invalidate(Stale::All),
            Command::Cluster(ClusterCommand::Switch(Target(target.clone()))),
            Command::Cluster(ClusterCommand::Refresh { generation: 5 }),
            Command::Shell(ShellCommand::Announce(Notice::BackendReplaced("k8s".into()))),
        ]
    );
    assert_eq!(state.target.map(Target), Some(Target(target)));
    // The shell hands the notice to the deploy domain, which lists the new backend.
    let mut app = console();
    app.cluster.target = Some(KubeTarget::default());
    let listed = command_line(&mut app, "ns team-b");
    assert!(
        listed.contains(&Command::Deploy(DeployCommand::List { backend: "k8s".into() })),
        "{listed:?}"
    );
    assert_eq!(app.deploy.active, "k8s");
}
