//! The cluster domain's `update`, driven without a runtime: the commands it returns are
//! compared with `==`.

use crate::tui::app::testing::command_line;
use crate::tui::app::{App, Level, Settings};
use crate::tui::event::Command;
use crate::tui::features::cluster::ClusterCommand;

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
    assert_eq!(crate::tui::features::cluster::refresh(&mut app), vec![]);
}
