//! Drives the real `aimdeck` binary in a detached tmux session, as a person at a terminal would:
//! keys in with `send-keys`, the screen out with `capture-pane`.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub struct Tmux {
    /// A private tmux server per test, so tests never see each other's sessions.
    socket: String,
    pub session: String,
}

impl Tmux {
    /// Starts `command` (run by `sh -c`) in a `width` x `height` session.
    pub fn start(name: &str, width: u16, height: u16, command: &str) -> Tmux {
        let tmux = Tmux {
            socket: format!("aimdeck-test-{name}-{}", std::process::id()),
            session: name.to_string(),
        };
        let out = tmux.run(&[
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            command,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Keep the pane after the program exits, so the test can read what it left behind.
        tmux.run(&["set-option", "-t", name, "remain-on-exit", "on"]);
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("tmux runs")
    }

    /// Kills the tmux server: the pane's terminal goes away under what runs in it, as when
    /// an SSH link drops (it gets SIGHUP, and its terminal answers every write with an error).
    #[allow(dead_code)]
    pub fn close(&self) {
        self.run(&["kill-server"]);
    }

    /// Types keys (tmux key names like `Enter`, `Escape`, `Tab`, or literal text).
    pub fn send(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.session.as_str()];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Resizes the window (and so the pane): the program in it gets SIGWINCH.
    pub fn resize(&self, width: u16, height: u16) {
        let out = self.run(&[
            "resize-window",
            "-t",
            &self.session,
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
        ]);
        assert!(out.status.success(), "tmux resize: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Types text literally (no key-name lookup).
    pub fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", &self.session, "-l", text]);
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", &self.session]).stdout)
            .into_owned()
    }

    /// The screen with its escape sequences (`capture-pane -e`), to check colours.
    pub fn screen_with_escapes(&self) -> String {
        String::from_utf8_lossy(
            &self.run(&["capture-pane", "-p", "-e", "-t", &self.session]).stdout,
        )
        .into_owned()
    }

    /// Waits until the screen contains `text`; panics with the screen after `timeout`.
    pub fn wait_for(&self, text: &str, timeout: Duration) -> String {
        self.wait_until(&format!("{text:?} on screen"), timeout, |screen| screen.contains(text))
    }

    /// Waits until `text` is gone from the screen.
    pub fn wait_for_absence(&self, text: &str, timeout: Duration) -> String {
        self.wait_until(&format!("{text:?} gone"), timeout, |screen| !screen.contains(text))
    }

    pub fn wait_until(&self, what: &str, timeout: Duration, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            if start.elapsed() > timeout {
                panic!("timed out after {timeout:?} waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_for_file(&self, path: &Path, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(path)
                && !text.trim().is_empty()
            {
                return text;
            }
            if start.elapsed() > timeout {
                panic!("timed out waiting for {}; screen:\n{}", path.display(), self.screen());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}
