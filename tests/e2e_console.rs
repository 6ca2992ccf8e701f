//! The release binary in a real terminal (tmux): start, switch views, help, filter, quit, and
//! the terminal is restored afterwards, also on SIGTERM and SIGHUP.

mod sim_support;
mod support;

use std::path::PathBuf;
use std::time::Duration;

use support::tmux::Tmux;

const WAIT: Duration = Duration::from_secs(15);

struct Console {
    tmux: Tmux,
    dir: tempfile::TempDir,
}

impl Console {
    /// Runs aimdeck with private config/state dirs; when it exits, the pane shows its exit
    /// code and whether the terminal is back in canonical (cooked) mode.
    fn start(name: &str, width: u16, height: u16, env: &[(&str, &str)]) -> Console {
        Console::start_with_args(name, width, height, env, "")
    }

    fn start_with_args(
        name: &str,
        width: u16,
        height: u16,
        env: &[(&str, &str)],
        args: &str,
    ) -> Console {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().display().to_string();
        let exports: String = env.iter().map(|(k, v)| format!("export {k}='{v}'\n")).collect();
        let script = format!(
            "export HOME='{root}' XDG_CONFIG_HOME='{root}/config' XDG_STATE_HOME='{root}/state'\n\
             unset NO_COLOR\n{exports}\
             '{bin}' {args}\n\
             echo \"EXIT=$?\"\n\
             stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | sed 's/^/TTY:/'\n\
             sleep 600\n",
            bin = env!("CARGO_BIN_EXE_aimdeck"),
        );
        let path = dir.path().join("run.sh");
        std::fs::write(&path, script).unwrap();
        let tmux = Tmux::start(name, width, height, &format!("sh '{}'", path.display()));
        Console { tmux, dir }
    }

    /// The aimdeck process: the child of the pane's shell.
    fn pid(&self) -> String {
        let shell = std::process::Command::new("tmux")
            .args([
                "-L",
                &self.socket(),
                "display-message",
                "-p",
                "-t",
                &self.tmux.session,
                "#{pane_pid}",
            ])
            .output()
            .unwrap();
        let shell = String::from_utf8_lossy(&shell.stdout).trim().to_string();
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .unwrap_or_default();
        children.split_whitespace().next().expect("aimdeck is running").to_string()
    }

    fn socket(&self) -> String {
        format!("aimdeck-test-{}-{}", self.tmux.session, std::process::id())
    }

    /// Waits for aimdeck to exit and checks the terminal it left behind.
    fn assert_exited_cleanly(&self) {
        // `stty` prints its lines one by one: wait for both, not the first.
        let screen = self.tmux.wait_until("the exit report", WAIT, |s| {
            s.contains("EXIT=") && s.lines().filter(|l| l.trim().starts_with("TTY:")).count() >= 2
        });
        assert!(screen.contains("EXIT=0"), "exit code 0:\n{screen}");
        assert!(
            screen.lines().any(|l| l.trim() == "TTY:icanon"),
            "canonical mode restored:\n{screen}"
        );
        assert!(screen.lines().any(|l| l.trim() == "TTY:echo"), "echo restored:\n{screen}");
        assert!(!screen.contains("1 GPUs"), "alternate screen left:\n{screen}");
    }

    fn log_dir(&self) -> PathBuf {
        self.dir.path().join("state/aimdeck")
    }
}

fn tmux_ok() -> bool {
    support::tool_available("tmux", "AIMDECK_REQUIRE_TMUX")
}

#[test]
fn views_help_filter_and_quit_leave_a_clean_terminal() {
    if !tmux_ok() {
        return;
    }
    let console = Console::start("walk", 120, 40, &[]);
    let tmux = &console.tmux;
    let screen = tmux.wait_for("1 GPUs", WAIT);
    for tab in ["2 Cache", "3 Recipes", "4 Endpoints"] {
        assert!(screen.contains(tab), "tab bar shows {tab}:\n{screen}");
    }
    assert!(screen.contains("GPUs [0]"));

    tmux.type_text(":rec");
    tmux.send(&["Tab"]);
    tmux.wait_for(":recipes", WAIT);
    tmux.send(&["Enter"]);
    // The built-in recipes load in the background and fill the table.
    tmux.wait_until("recipes listed", WAIT, |s| {
        s.contains("Recipes [") && !s.contains("Recipes [0]")
    });

    tmux.send(&["Tab"]);
    tmux.wait_for("Endpoints [", WAIT);
    tmux.send(&["BTab"]);
    tmux.wait_for("Recipes [", WAIT);

    tmux.type_text("?");
    let help = tmux.wait_for("Help: Recipes view", WAIT);
    assert!(help.contains("Recipes view") && help.contains("Edit"), "{help}");
    tmux.send(&["Escape"]);
    tmux.wait_for_absence("Help: Recipes view", WAIT);

    tmux.type_text("/llama-3.1-8b");
    tmux.wait_for("/llama-3.1-8b", WAIT);
    tmux.send(&["Enter"]);
    let filtered = tmux.wait_for("] /llama-3.1-8b", WAIT);
    assert!(
        filtered.contains("llama-3.1-8b-instruct"),
        "the filter keeps matching rows:\n{filtered}"
    );
    assert!(!filtered.contains("qwen"), "and hides the rest:\n{filtered}");
    // Wait for Escape to land before the next key: a terminal reads ESC quickly followed by
    // a letter as Alt+letter.
    tmux.send(&["Escape"]);
    tmux.wait_for_absence("] /llama", WAIT);

    tmux.type_text("q");
    console.assert_exited_cleanly();
    // The line logged before the first frame, kept until the writer thread started after it.
    let log = std::fs::read_to_string(console.log_dir().join("aimdeck.log"))
        .expect("logs go to a file in the state dir");
    assert!(log.contains("log file: "), "the start-up's lines reach the file: {log:?}");
}

/// The create form at 80x24 in a real terminal: what is typed is on screen beside its label,
/// and still there after growing the window to 200x60.
#[test]
fn the_create_form_at_80x24_shows_what_is_typed() {
    if !tmux_ok() {
        return;
    }
    let console = Console::start_with_args("form", 80, 24, &[], "--backend process");
    let tmux = &console.tmux;
    tmux.wait_for("1 GPUs", WAIT);
    tmux.type_text("4");
    tmux.wait_for("Endpoints [", WAIT);
    tmux.type_text("c");
    tmux.wait_for("Create a deployment", WAIT);
    tmux.type_text("web1");
    tmux.send(&["Tab"]);
    tmux.type_text("org/tiny-model");
    let screen = tmux.wait_for("org/tiny-model", WAIT);
    let row = |text: &str| screen.lines().find(|l| l.contains(text)).unwrap_or("").to_string();
    assert!(row("web1").contains("Name"), "name and its value on one row:\n{screen}");
    assert!(row("org/tiny-model").contains("Model"), "model on its row:\n{screen}");
    assert!(!screen.contains('✗'), "nothing marked wrong while typing:\n{screen}");
    tmux.resize(200, 60);
    let wide = tmux.wait_until("the form redrawn at 200x60", WAIT, |s| {
        s.lines().count() >= 59 && s.contains("web1") && s.contains("org/tiny-model")
    });
    assert!(wide.contains("Replicas") && wide.contains("Extra args"), "{wide}");
    tmux.send(&["Escape"]);
    tmux.wait_for_absence("Create a deployment", WAIT);
    tmux.type_text("q");
    console.assert_exited_cleanly();
}

/// Parameters of every SGR sequence (`ESC [ ... m`) in `text`.
fn sgr_parameters(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("\x1b[") {
        let tail = &rest[start + 2..];
        let end = tail.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(tail.len());
        if tail[end..].starts_with('m') {
            found.extend(tail[..end].split(';').map(str::to_string));
        }
        rest = &tail[end.min(tail.len())..];
    }
    found
}

fn has_colour(parameters: &[String]) -> bool {
    parameters
        .iter()
        .any(|p| matches!(p.parse::<u32>(), Ok(30..=37 | 38 | 40..=47 | 48 | 90..=97 | 100..=107)))
}

#[test]
fn no_color_shows_no_colour_escapes_but_the_default_theme_does() {
    if !tmux_ok() {
        return;
    }
    let plain = Console::start("nocolor", 80, 24, &[("NO_COLOR", "1")]);
    plain.tmux.wait_for("1 GPUs", WAIT);
    let escapes = plain.tmux.screen_with_escapes();
    assert!(
        !has_colour(&sgr_parameters(&escapes)),
        "NO_COLOR screen has colour codes:\n{escapes:?}"
    );

    let coloured = Console::start("colour", 80, 24, &[]);
    coloured.tmux.wait_for("1 GPUs", WAIT);
    assert!(
        has_colour(&sgr_parameters(&coloured.tmux.screen_with_escapes())),
        "the dark theme uses colour"
    );
}

#[test]
fn sigterm_and_sighup_restore_the_terminal() {
    if !tmux_ok() {
        return;
    }
    for signal in ["TERM", "HUP"] {
        let console = Console::start(&format!("sig{signal}"), 100, 30, &[]);
        console.tmux.wait_for("1 GPUs", WAIT);
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(console.pid())
            .status()
            .unwrap();
        assert!(status.success());
        console.assert_exited_cleanly();
    }
}

#[test]
fn a_small_terminal_gets_a_clear_message_and_resizing_recovers() {
    if !tmux_ok() {
        return;
    }
    let console = Console::start("small", 70, 20, &[]);
    let screen = console.tmux.wait_for("Terminal too small", WAIT);
    assert!(screen.contains("70x20 here, aimdeck needs at least 80x24"), "{screen}");
    std::process::Command::new("tmux")
        .args([
            "-L",
            &console.socket(),
            "resize-window",
            "-t",
            &console.tmux.session,
            "-x",
            "100",
            "-y",
            "30",
        ])
        .status()
        .unwrap();
    console.tmux.wait_for("1 GPUs", WAIT);
    console.tmux.type_text("q");
    console.assert_exited_cleanly();
}

#[test]
fn a_broken_theme_falls_back_to_the_default_with_a_message() {
    if !tmux_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let theme = dir.path().join("broken.yaml");
    std::fs::write(&theme, "name: broken\ntext: reset\nmuted: nope\n").unwrap();
    let console =
        Console::start_with_args("theme", 160, 30, &[], &format!("--theme '{}'", theme.display()));
    let screen = console.tmux.wait_for("using the dark theme", WAIT);
    assert!(
        screen.contains(&format!("{}:3:8: `nope` is not a colour", theme.display())),
        "names file, line, column:\n{screen}"
    );
    console.tmux.type_text("q");
    console.assert_exited_cleanly();
}

/// One non-streaming completion, by hand over TCP (the test needs no HTTP client for it).
#[test]
fn watched_endpoints_show_ready_with_live_numbers_and_open_their_detail() {
    if !tmux_ok() {
        return;
    }
    let vllm = sim_support::SimProcess::ready(&[
        "serve",
        "org/llama-sim",
        "--tokens-per-second",
        "200",
        "--ttft-ms",
        "30",
    ]);
    let sglang = sim_support::SimProcess::ready(&[
        "-m",
        "sglang.launch_server",
        "--model-path",
        "org/qwen-sim",
    ]);
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "endpoints:\n  - name: a-vllm\n    url: {}\n  - name: b-sglang\n    url: {}/v1\n",
            vllm.url(),
            sglang.url()
        ),
    )
    .unwrap();
    // Steady traffic to the vLLM sim so its row has a token rate to show.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (stop, port) = (stop.clone(), vllm.port);
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                sim_support::complete_once(port, "org/llama-sim", 48);
            }
        })
    };
    let console = Console::start_with_args(
        "endpoints",
        160,
        48,
        &[],
        &format!("--config '{}'", config.display()),
    );
    let tmux = &console.tmux;
    tmux.wait_for("1 GPUs", WAIT);
    tmux.type_text("4");
    tmux.wait_for("Endpoints [2]", WAIT);
    let row =
        |screen: &str, id: &str| screen.lines().find(|l| l.contains(id)).unwrap_or("").to_string();
    // Row columns end with RUN WAIT KV% TOK/S TTFT95.
    let tokens_per_s = |line: &str| -> Option<f64> {
        let words: Vec<&str> = line.trim_end_matches(['│', ' ']).split_whitespace().collect();
        words.len().checked_sub(2).and_then(|i| words[i].parse().ok())
    };
    let screen = tmux.wait_until(
        "both ready, the vLLM one with a token rate",
        Duration::from_secs(30),
        |s| {
            let (a, b) = (row(s, "a-vllm"), row(s, "b-sglang"));
            a.contains("ready") && b.contains("ready") && tokens_per_s(&a).is_some_and(|t| t > 0.0)
        },
    );
    let a = row(&screen, "a-vllm");
    assert!(
        a.contains("vllm")
            && a.contains("org/llama-sim")
            && a.contains("watched")
            && a.contains("1/1"),
        "{a}"
    );
    let b = row(&screen, "b-sglang");
    assert!(b.contains("sglang") && b.contains("org/qwen-sim"), "{b}");

    tmux.send(&["Enter"]);
    // tmux may show a frame half written: wait for its last part, then check the rest.
    let parts = ["tokens/s", "queue", "KV cache", "TTFT", "ITL", "Recent errors"];
    let detail = tmux.wait_until("the detail", WAIT, |s| {
        s.contains("Endpoint a-vllm") && parts.iter().all(|p| s.contains(p))
    });
    for part in parts {
        assert!(detail.contains(part), "detail shows {part}:\n{detail}");
    }
    assert!(detail.contains(&vllm.url()), "{detail}");
    tmux.send(&["Escape"]);
    tmux.wait_for_absence("Endpoint a-vllm", WAIT);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    tmux.type_text("q");
    console.assert_exited_cleanly();
    let _ = load.join();
}

/// The pids of every replica the process backend recorded under `dir`.
fn recorded_pids(dir: &std::path::Path) -> Vec<u32> {
    let mut pids = Vec::new();
    for deployment in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(deployment.path()).into_iter().flatten().flatten() {
            if file.path().extension().is_some_and(|e| e == "json") {
                let record: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(file.path()).unwrap_or_default())
                        .unwrap_or_default();
                pids.extend(record["pid"].as_u64().map(|p| p as u32));
            }
        }
    }
    pids
}

/// A demo console with its three deployments ready: the pids of their four replicas.
fn demo_with_engines(name: &str) -> (Console, Vec<u32>) {
    let console = Console::start_with_args(name, 120, 40, &[], "--demo");
    let tmux = &console.tmux;
    let screen = tmux.wait_for("demo deployments: done", Duration::from_secs(30));
    // The header names the backend the deployments go to (the demo's are processes).
    assert!(screen.contains("ctx: process"), "{screen}");
    tmux.send(&["4"]);
    tmux.wait_until("the demo's deployments ready", WAIT, |s| {
        s.contains("llama-70b") && s.contains("qwen-small") && s.contains("ready")
    });
    let pids = recorded_pids(&console.dir.path().join("state/aimdeck/demo/process"));
    assert_eq!(pids.len(), 4, "three demo deployments, four replicas: {pids:?}");
    assert!(pids.iter().all(|&pid| support::pid_alive(pid)));
    (console, pids)
}

#[test]
fn quitting_the_demo_stops_its_engines() {
    if !tmux_ok() {
        return;
    }
    let (console, pids) = demo_with_engines("demo");
    let tmux = &console.tmux;

    // The recorded GPUs follow the demo's traffic: a GPU held by a serving deployment is busy
    // and its memory taken, and the footer names the recording as the source.
    tmux.send(&["1"]);
    tmux.wait_until("held GPUs busy, source: recording", WAIT, |s| {
        s.contains("source: recording")
            && s.lines()
                .any(|l| l.contains("llama-8b") && !l.contains(" 0% ") && !l.contains(" 0/"))
    });

    tmux.type_text("q");
    console.assert_exited_cleanly();
    let left: Vec<u32> = pids.into_iter().filter(|&pid| support::pid_alive(pid)).collect();
    assert!(left.is_empty(), "the demo's engines end with the console; still running: {left:?}");
}

/// The terminal goes away under the demo (an SSH link drops): the console gets SIGHUP and
/// every write to its terminal fails. Restoring the terminal must not panic on the way out
/// (ratatui reports a failed restore with `eprintln!`, which panics on a gone stderr), so the
/// demo's engines are still stopped.
#[test]
fn a_demo_whose_terminal_goes_away_stops_its_engines() {
    if !tmux_ok() {
        return;
    }
    let (console, pids) = demo_with_engines("demo-gone");
    console.tmux.close();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut left = pids.clone();
    while !left.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        left.retain(|&pid| support::pid_alive(pid));
    }
    assert!(left.is_empty(), "the demo's engines end with the terminal; still running: {left:?}");
}
