//! Fault injection on the real console in a real terminal (tmux) (issue 9, item 3): a panic
//! after the first frame (`AIMDECK_FAULT=panic-after-first-frame`, see `src/tui/fault.rs`),
//! and SIGHUP/SIGTERM arriving while the console is busy with typed input. Every time the
//! terminal must come back in cooked mode with echo on and the main screen shown.
//! (Plain SIGTERM/SIGHUP at idle are in `tests/e2e_console.rs`.)

mod support;

use std::time::Duration;

use support::tmux::Tmux;

const WAIT: Duration = Duration::from_secs(15);

/// Runs aimdeck in tmux with private dirs; after it exits, the pane shows its exit code and
/// the terminal's `icanon`/`echo` flags, then `TTY-END` (so a check sees both flag lines).
fn start(name: &str, env: &str) -> (Tmux, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    let script = format!(
        "export HOME='{root}' XDG_CONFIG_HOME='{root}/config' XDG_STATE_HOME='{root}/state' RUST_BACKTRACE=0\n\
         {env}\n\
         '{bin}' 2>'{root}/stderr.txt'\n\
         echo \"EXIT=$?\"\n\
         stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | sed 's/^/TTY:/'\n\
         echo TTY-END\n\
         sleep 600\n",
        bin = env!("CARGO_BIN_EXE_aimdeck"),
    );
    let path = dir.path().join("run.sh");
    std::fs::write(&path, script).unwrap();
    let tmux = Tmux::start(name, 100, 30, &format!("sh '{}'", path.display()));
    (tmux, dir)
}

fn assert_terminal_restored(screen: &str) {
    assert!(screen.lines().any(|l| l.trim() == "TTY:icanon"), "canonical mode restored:\n{screen}");
    assert!(screen.lines().any(|l| l.trim() == "TTY:echo"), "echo restored:\n{screen}");
    assert!(
        !screen.contains("GPUs"),
        "alternate screen left (the console's tab bar is still shown):\n{screen}"
    );
}

fn pane_child(tmux: &Tmux) -> String {
    let socket = format!("aimdeck-test-{}-{}", tmux.session, std::process::id());
    let shell = std::process::Command::new("tmux")
        .args(["-L", &socket, "display-message", "-p", "-t", &tmux.session, "#{pane_pid}"])
        .output()
        .unwrap();
    let shell = String::from_utf8_lossy(&shell.stdout).trim().to_string();
    let children =
        std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap_or_default();
    children.split_whitespace().next().expect("aimdeck is running").to_string()
}

#[test]
fn a_panic_after_the_first_frame_restores_the_terminal_and_says_why() {
    if !support::tool_available("tmux", "AIMDECK_REQUIRE_TMUX") {
        return;
    }
    let (tmux, dir) = start("faultpanic", "export AIMDECK_FAULT=panic-after-first-frame");
    let screen = tmux.wait_for("TTY-END", WAIT);
    assert!(screen.contains("EXIT=101"), "a panic exits with Rust's panic code 101:\n{screen}");
    assert_terminal_restored(&screen);
    let stderr = std::fs::read_to_string(dir.path().join("stderr.txt")).unwrap_or_default();
    assert!(
        stderr.contains("fault injected: AIMDECK_FAULT=panic-after-first-frame"),
        "the panic message is readable: {stderr}"
    );
}

#[test]
fn an_unknown_fault_value_changes_nothing() {
    if !support::tool_available("tmux", "AIMDECK_REQUIRE_TMUX") {
        return;
    }
    let (tmux, _dir) = start("faultnone", "export AIMDECK_FAULT=please-panic");
    tmux.wait_for("GPUs", WAIT);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!tmux.screen().contains("EXIT="), "still running:\n{}", tmux.screen());
    tmux.send(&["q"]);
    let screen = tmux.wait_for("TTY-END", WAIT);
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert_terminal_restored(&screen);
}

#[test]
fn sighup_and_sigterm_mid_command_restore_the_terminal() {
    if !support::tool_available("tmux", "AIMDECK_REQUIRE_TMUX") {
        return;
    }
    for signal in ["HUP", "TERM"] {
        let (tmux, _dir) = start(&format!("faultsig{signal}"), "");
        tmux.wait_for("GPUs", WAIT);
        // Half-typed command line and an open help overlay: state that must not block exit.
        tmux.send(&["?"]);
        tmux.send(&[":"]);
        tmux.type_text("reci");
        std::thread::sleep(Duration::from_millis(200));
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pane_child(&tmux))
            .status()
            .unwrap();
        assert!(status.success());
        let screen = tmux.wait_for("TTY-END", WAIT);
        assert!(screen.contains("EXIT=0"), "SIG{signal}: a clean exit:\n{screen}");
        assert_terminal_restored(&screen);
    }
}
