//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod tmux;

/// Whether a test that needs `tool` should run: true when it is installed; when it is not, the
/// test is skipped with a message, unless `require_var` is set (as CI does), which fails it.
pub fn tool_available(tool: &str, require_var: &str) -> bool {
    let found = std::process::Command::new(tool)
        .arg("-V")
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        if std::env::var_os(require_var).is_some_and(|v| v == "1") {
            panic!("{tool} is required ({require_var}=1) but is not installed");
        }
        eprintln!("skipped: {tool} is not installed (set {require_var}=1 to make this a failure)");
    }
    found
}
