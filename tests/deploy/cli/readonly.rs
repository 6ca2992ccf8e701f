//! Issue 21, item 5: `--readonly` refuses every subcommand that changes something (a
//! deployment, the model cache, the cluster, the recipe library) and nothing else. The list of
//! subcommands is the CLI's own (clap's tree): a new subcommand without an entry below fails
//! `every_subcommand_is_classified`, so it cannot slip past read-only mode.

use super::*;
use clap::CommandFactory;

/// What a leaf subcommand does, by its path (`cache rm`): the arguments it is run with under
/// `--readonly` when it changes something, and, for those with a mode that only looks, the
/// arguments of that mode (which `--readonly` must let through).
enum Kind {
    ReadsOnly,
    Changes { args: &'static [&'static str], looking: Option<&'static [&'static str]> },
}

fn kind(path: &str) -> Option<Kind> {
    use Kind::*;
    Some(match path {
        "cache ls" | "completions" | "recipes list" | "recipes show" | "recipes select"
        | "recipes validate" | "fit" | "gpus" | "probe" | "bench" | "ls" | "logs"
        | "render k8s" | "render docker" | "render process" | "render" | "k8s render"
        | "k8s ls" | "k8s logs" | "k8s nodes" | "k8s contexts" | "k8s caches" | "k8s operators"
        | "k8s apis" => ReadsOnly,
        "deploy" => Changes {
            args: &["web", "--model", "org/m", "--backend", "process", "--command", "true"],
            looking: Some(&[
                "web",
                "--model",
                "org/m",
                "--backend",
                "process",
                "--command",
                "true",
                "--dry-run",
            ]),
        },
        "scale" => Changes { args: &["web", "2"], looking: None },
        "restart" => Changes { args: &["web"], looking: None },
        "rm" => Changes { args: &["web", "--yes"], looking: None },
        "cache rm" => {
            Changes { args: &["acme/tiny", "--yes"], looking: Some(&["acme/tiny", "--dry-run"]) }
        }
        "cache pull" => Changes { args: &["acme/tiny"], looking: None },
        "recipes import" => {
            Changes { args: &["profile.yaml", "--write"], looking: Some(&["profile.yaml"]) }
        }
        "k8s deploy" => Changes {
            args: &["--name", "web", "--model", "org/m"],
            looking: Some(&["--name", "web", "--model", "org/m", "--dry-run"]),
        },
        "k8s scale" => Changes { args: &["web", "2"], looking: None },
        "k8s rm" => Changes { args: &["web"], looking: None },
        "k8s restart" => Changes { args: &["web"], looking: None },
        "k8s prepull" => Changes { args: &["--pvc", "cache", "--model", "org/m"], looking: None },
        _ => return None,
    })
}

/// Every leaf of the CLI's tree, as `parent child` paths.
fn leaves(command: &clap::Command, prefix: &str, out: &mut Vec<String>) {
    let mut children = command.get_subcommands().filter(|c| c.get_name() != "help").peekable();
    if children.peek().is_none() {
        out.push(prefix.trim().to_string());
    }
    for child in children {
        leaves(child, &format!("{prefix} {}", child.get_name()), out);
    }
}

fn all_paths() -> Vec<String> {
    let mut out = Vec::new();
    for top in aimdeck::cli::Cli::command().get_subcommands().filter(|c| c.get_name() != "help") {
        leaves(top, top.get_name(), &mut out);
    }
    out
}

#[test]
fn every_subcommand_is_classified() {
    let missing: Vec<String> = all_paths().into_iter().filter(|p| kind(p).is_none()).collect();
    assert!(
        missing.is_empty(),
        "classify these for --readonly in tests/deploy/cli/readonly.rs: {missing:?}"
    );
    assert!(all_paths().len() >= 25, "{:?}", all_paths());
}

/// Under `--readonly` each changing subcommand is refused, in so many words, before it touches
/// anything: no state, no journal, no cache change, no cluster (none is configured here, so a
/// command that got past the check would fail differently). Its looking mode is let through.
#[test]
fn readonly_refuses_every_changing_subcommand_and_nothing_else() {
    let state = tempfile::tempdir().unwrap();
    let profile = state.path().join("profile.yaml");
    std::fs::write(&profile, "aim_id: x\n").unwrap();
    let mut refused = Vec::new();
    for path in all_paths() {
        let Some(Kind::Changes { args, looking }) = kind(&path) else { continue };
        let mut argv: Vec<String> = vec!["--readonly".into()];
        argv.extend(path.split(' ').map(String::from));
        let run = |extra: &[&str]| {
            let mut full = argv.clone();
            full.extend(extra.iter().map(|a| a.to_string()));
            let out = aimdeck(state.path()).current_dir(state.path()).args(&full).output().unwrap();
            (out.status.success(), String::from_utf8_lossy(&out.stderr).to_string())
        };
        let (ok, stderr) = run(args);
        assert!(
            !ok && stderr.contains("--readonly: refusing"),
            "`{path}` under --readonly: {stderr}"
        );
        refused.push(path.clone());
        if let Some(looking) = looking {
            let (_, stderr) = run(looking);
            // Let through: neither refused nor a usage error (the arguments above are valid).
            assert!(
                !stderr.contains("--readonly") && !stderr.contains("Usage:"),
                "`{path}` looking mode: {stderr}"
            );
        }
    }
    assert!(refused.len() >= 12, "{refused:?}");
    // Nothing was written: no journal, no deployment records, no recipe written.
    let aimdeck_state = state.path().join("aimdeck");
    assert!(!aimdeck_state.join("journal.jsonl").exists());
    assert!(!state.path().join("hf").exists(), "the cache was touched");
    let written: Vec<_> = walk(state.path())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml") && p != &profile)
        .collect();
    assert!(written.is_empty(), "{written:?}");
}
