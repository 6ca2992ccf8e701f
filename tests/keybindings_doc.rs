//! `docs/keybindings.md` must list every action with every default key, so the doc can never
//! fall behind the keymap.

use aimdeck::tui::keymap::{Action, Keymap};

#[test]
fn every_binding_is_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/keybindings.md"))
        .unwrap();
    let keymap = Keymap::default();
    let mut missing = Vec::new();
    for &action in Action::ALL {
        let row = doc.lines().find(|line| line.starts_with(&format!("| `{}` |", action.name())));
        match row {
            None => missing.push(format!("action `{}` has no row", action.name())),
            Some(row) => {
                for key in keymap.keys_for(action) {
                    if !row.contains(&format!("`{key}`")) {
                        missing.push(format!(
                            "action `{}`: key `{key}` not in its row",
                            action.name()
                        ));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "docs/keybindings.md is out of date:\n{}", missing.join("\n"));
}

// The console's architecture rules, checked over the source text (this binary already reads
// the repository's files). See docs/architecture.md, "Where things go".

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn source_dir(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The code of a file without comments and without its unit tests (which may build fixtures
/// on disk): what runs in the console.
fn shipped_code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(tests) => &text[..tests],
        None => text,
    };
    text.lines().map(|line| line.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// What a feature module must not name: I/O, processes, the network, the environment, tasks,
/// and the clocks. Effects belong to `tui::effects`; the time comes with `Event::Tick`.
const EFFECTS: &[&str] = &[
    "std::fs",
    "tokio::fs",
    "std::process",
    "tokio::process",
    "std::net",
    "tokio::net",
    "std::env",
    "env::var",
    "Instant::now",
    "SystemTime",
    "Utc::now",
    "Local::now",
    "Zoned::now",
    "Timestamp::now",
    "reqwest",
    "tokio::spawn",
    "spawn_blocking",
    "tokio::time",
    "std::thread",
    "File::open",
    "read_to_string",
    "CancellationToken",
];

fn effects_in(code: &str) -> Vec<&'static str> {
    EFFECTS.iter().copied().filter(|name| code.contains(name)).collect()
}

/// The other features a feature's file names (`features::OTHER` or a `super::super::` path
/// out of its folder).
fn other_features_in(code: &str, own: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices("features::") {
        let name: String = code[at + "features::".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && name != own && !found.contains(&name) {
            found.push(name);
        }
    }
    if code.contains("super::super::") {
        found.push("super::super".to_string());
    }
    found
}

/// Which of `cli`/`tui` a file of the other names.
fn names_module(code: &str, module: &str) -> bool {
    code.contains(&format!("crate::{module}::")) || code.contains(&format!("crate::{module};"))
}

/// Where `update` and the views run: the features, the shell that routes to them and carries
/// out their shell commands, the joins, the frame and its widgets, and the shell's own state.
/// (`tui::effects`, `sources`, `startup` and `terminal` are the effects side.)
const UPDATE_AND_VIEW: &[&str] = &[
    "src/tui/features",
    "src/tui/shell",
    "src/tui/joins",
    "src/tui/views",
    "src/tui/widgets",
    "src/tui/app.rs",
    "src/tui/ctx.rs",
    "src/tui/keymap.rs",
    "src/tui/messages.rs",
    "src/tui/placement_toggle.rs",
];

#[test]
fn features_do_no_io_and_read_no_clock() {
    let mut found = Vec::new();
    let files = UPDATE_AND_VIEW.iter().flat_map(|place| {
        let path = source_dir(place);
        if path.is_dir() { rust_files(&path) } else { vec![path] }
    });
    for file in files {
        let code = shipped_code(&std::fs::read_to_string(&file).unwrap());
        for name in effects_in(&code) {
            found.push(format!("{}: {name}", file.display()));
        }
    }
    assert!(
        found.is_empty(),
        "effects where the console updates or draws (move them to tui::effects):\n{}",
        found.join("\n")
    );
}

#[test]
fn no_feature_imports_another() {
    let root = source_dir("src/tui/features");
    let mut found = Vec::new();
    for file in rust_files(&root) {
        let relative = file.strip_prefix(&root).unwrap();
        let own = relative.components().next().unwrap().as_os_str().to_string_lossy().to_string();
        if relative.components().count() == 1 || is_unit_test_file(&file) {
            continue; // features/mod.rs declares them all; unit tests may name any.
        }
        let code = shipped_code(&std::fs::read_to_string(&file).unwrap());
        for other in other_features_in(&code, &own) {
            found.push(format!("{}: {other}", file.display()));
        }
    }
    assert!(
        found.is_empty(),
        "a feature names another (go through tui::joins or the shell):\n{}",
        found.join("\n")
    );
}

/// A `tests.rs` file: a module compiled only under `#[cfg(test)]` (declared so in its parent).
fn is_unit_test_file(file: &Path) -> bool {
    file.file_name().is_some_and(|name| name == "tests.rs")
}

/// Whether `code` names the shell: its type `App` (as a word: `AppState` or `apply` do not
/// count) or its modules `tui::app` and `tui::shell` (the modes and messages a domain uses have
/// their own modules, `tui::mode` and `tui::messages`).
fn names_the_shell(code: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let names_app = code.match_indices("App").any(|(at, _)| {
        !code[..at].chars().next_back().is_some_and(ident)
            && !code[at + "App".len()..].chars().next().is_some_and(ident)
    });
    names_app || code.contains("tui::app") || code.contains("tui::shell")
}

/// Each domain's `update` gets its own state by `&mut` and the rest of the console as a
/// read-only `Ctx`, and asks the shell for everything else with `Command::Shell`; its views
/// draw from its state and a `Ctx`. A feature that names `App` could write any domain's state
/// or the shell's, so none does (unit tests, `tests.rs` files, may build an `App` to drive it).
#[test]
fn no_feature_names_the_shell() {
    let mut found = Vec::new();
    for file in rust_files(&source_dir("src/tui/features")) {
        if is_unit_test_file(&file) {
            continue;
        }
        let code = shipped_code(&std::fs::read_to_string(&file).unwrap());
        if names_the_shell(&code) {
            found.push(file.display().to_string());
        }
    }
    assert!(
        found.is_empty(),
        "features that name App (take your state by &mut and read the rest from tui::ctx::Ctx):\n{}",
        found.join("\n")
    );
}

#[test]
fn cli_and_tui_import_each_other_in_one_direction_at_most() {
    let names = |dir: &str, module: &str| {
        rust_files(&source_dir(dir))
            .into_iter()
            .filter(|file| names_module(&std::fs::read_to_string(file).unwrap(), module))
            .map(|file| file.display().to_string())
            .collect::<Vec<_>>()
    };
    let (cli_to_tui, tui_to_cli) = (names("src/cli", "tui"), names("src/tui", "cli"));
    assert!(
        cli_to_tui.is_empty() || tui_to_cli.is_empty(),
        "cli and tui import each other:\ncli -> tui: {cli_to_tui:?}\ntui -> cli: {tui_to_cli:?}"
    );
}

/// The checks above fail on what they forbid.
#[test]
fn the_architecture_checks_catch_what_they_forbid() {
    let update = "fn update() { let t = std::time::Instant::now(); std::fs::read(\"x\"); }";
    assert_eq!(effects_in(&shipped_code(update)), ["std::fs", "Instant::now"]);
    // Comments and unit tests do not count.
    let commented =
        "// std::fs is not used here\nfn f() {}\n#[cfg(test)]\nmod tests { std::fs::read(\"x\"); }";
    assert!(effects_in(&shipped_code(commented)).is_empty());
    let imports =
        "use crate::tui::features::deploy::DeployState;\nuse crate::tui::features::cache::X;";
    assert_eq!(other_features_in(imports, "cache"), ["deploy"]);
    assert_eq!(other_features_in("use super::super::gpus::X;", "cache"), ["super::super"]);
    assert!(names_module("pub fn run() { crate::tui::run(options) }", "tui"));
    assert!(!names_module("use crate::tuitorial::X;", "tui"));
    assert!(names_the_shell("pub fn open(app: &mut App) {}"));
    assert!(names_the_shell("impl App {"));
    assert!(!names_the_shell("fn apply(state: &mut AppState) -> Applied {}"));
    assert!(names_the_shell("use crate::tui::app::Level;"));
    assert!(names_the_shell("use crate::tui::shell::command_line::Typed;"));
    assert!(!names_the_shell("use crate::tui::mode::{Mode, Pager};"));
}
