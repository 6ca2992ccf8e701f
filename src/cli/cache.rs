//! `aimdeck cache ls|rm|pull`: the Hugging Face cache, headless.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use color_eyre::eyre::{WrapErr, bail, eyre};
use tokio_util::sync::CancellationToken;

use crate::cache::pull::{self, HubClient, PullRequest};
use crate::cache::{self, DeletePlan, ModelHold, format_size, pyfmt::format_timesince};
use crate::model::cache::{CacheReport, RepoType};

use super::GlobalArgs;
use super::cache_progress::ProgressBar;
use crate::backend::docker::NetworkMode;
use crate::backend::registry;

#[derive(Debug, Args)]
pub struct CacheArgs {
    /// Cache root [default: $HF_HUB_CACHE, $HF_HOME/hub, $XDG_CACHE_HOME/huggingface/hub or ~/.cache/huggingface/hub]
    #[arg(long, global = true, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: CacheCommand,
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// List cached repos with their size, revisions and interrupted downloads
    Ls(LsArgs),
    /// Delete a cached repo or one revision of it
    Rm(RmArgs),
    /// Download a repo revision from the Hub into the cache
    Pull(PullArgs),
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Print JSON (field names as in huggingface_hub)
    #[arg(long)]
    pub json: bool,
    /// One row per revision
    #[arg(long)]
    pub revisions: bool,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// `org/name` for the whole repo, `org/name@REVISION` (branch, refs/pr/N, or commit hash) for one revision
    #[arg(value_name = "REPO[@REVISION]")]
    pub target: String,
    #[arg(long, default_value = "model", value_parser = parse_repo_type)]
    pub repo_type: RepoType,
    /// Show what would be deleted and the bytes freed; delete nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// With --yes: delete even a model that a deployment serves
    #[arg(long)]
    pub force: bool,
    /// Print the plan as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Repo id, `org/name`
    pub repo: String,
    /// Branch, tag, refs/pr/N or commit hash
    #[arg(long, default_value = "main")]
    pub revision: String,
    #[arg(long, default_value = "model", value_parser = parse_repo_type)]
    pub repo_type: RepoType,
    /// Files downloaded at once
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub max_workers: u16,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

fn parse_repo_type(text: &str) -> Result<RepoType, String> {
    RepoType::ALL
        .into_iter()
        .find(|kind| kind.as_str() == text || kind.plural() == text)
        .ok_or_else(|| format!("unknown repo type `{text}`, expected model, dataset or space"))
}

pub async fn run(args: CacheArgs, global: &GlobalArgs) -> color_eyre::Result<ExitCode> {
    let root = crate::paths::hf_hub_cache(args.cache_dir.as_deref());
    let mutates = matches!(
        &args.command,
        CacheCommand::Pull(_) | CacheCommand::Rm(RmArgs { dry_run: false, .. })
    );
    if global.readonly && mutates {
        bail!("--readonly: refusing to change the cache (use `cache rm --dry-run` to see a plan)");
    }
    match args.command {
        CacheCommand::Ls(ls) => run_ls(&root, &ls),
        CacheCommand::Rm(rm) => run_rm(&root, &rm, &models_in_use(global).await),
        CacheCommand::Pull(pull) => run_pull(&root, &pull).await,
    }
}

fn run_ls(root: &std::path::Path, args: &LsArgs) -> color_eyre::Result<ExitCode> {
    let mut report = cache::scan_cache_dir(root)?;
    if args.json {
        // The per-file lists are for the console; the JSON stays one screen per repo.
        for repo in &mut report.repos {
            repo.revisions.iter_mut().for_each(|rev| rev.files.clear());
        }
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    write!(out, "{}", render_table(&report, args.revisions, now()))?;
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(ExitCode::SUCCESS)
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The `hf cache ls` table: ID, SIZE, LAST_ACCESSED, LAST_MODIFIED, REFS (per revision with
/// `--revisions`), then a summary line.
pub fn render_table(report: &CacheReport, revisions: bool, now: f64) -> String {
    let mut rows: Vec<[String; 5]> = vec![if revisions {
        ["ID".into(), "REVISION".into(), "SIZE".into(), "LAST_MODIFIED".into(), "REFS".into()]
    } else {
        ["ID".into(), "SIZE".into(), "LAST_ACCESSED".into(), "LAST_MODIFIED".into(), "REFS".into()]
    }];
    for repo in &report.repos {
        let id = format!("{}/{}", repo.repo_type, repo.repo_id);
        if revisions {
            for rev in &repo.revisions {
                rows.push([
                    id.clone(),
                    rev.commit_hash.clone(),
                    format_size(rev.size_on_disk),
                    format_timesince(rev.last_modified, now),
                    rev.refs.join(" "),
                ]);
            }
        } else {
            rows.push([
                id,
                format_size(repo.size_on_disk),
                format_timesince(repo.last_accessed, now),
                format_timesince(repo.last_modified, now),
                repo.refs().join(" "),
            ]);
        }
    }
    let widths: Vec<usize> = (0..5)
        .map(|col| rows.iter().map(|row| row[col].chars().count()).max().unwrap_or(0))
        .collect();
    let size_col = if revisions { 2 } else { 1 };
    let mut text = String::new();
    for (index, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(col, cell)| {
                if col == size_col && index > 0 {
                    format!("{cell:>w$}", w = widths[col])
                } else {
                    format!("{cell:<w$}", w = widths[col])
                }
            })
            .collect();
        text.push_str(cells.join(" ").trim_end());
        text.push('\n');
        if index == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            text.push_str(&rule.join(" "));
            text.push('\n');
        }
    }
    text.push_str(&format!(
        "\nFound {} repo(s) for a total of {} revision(s) and {} on disk.\n",
        report.repos.len(),
        report.repos.iter().map(|r| r.revisions.len()).sum::<usize>(),
        format_size(report.size_on_disk)
    ));
    if report.incomplete_bytes > 0 {
        text.push_str(&format!(
            "Interrupted downloads: {} (resume with `aimdeck cache pull`).\n",
            format_size(report.incomplete_bytes)
        ));
    }
    if !report.warnings.is_empty() {
        text.push_str(&format!(
            "Got {} warning(s) while scanning (printed on stderr).\n",
            report.warnings.len()
        ));
    }
    text
}

/// How long `cache rm` waits for one backend's list before deleting without its answer.
const LIST_TIMEOUT: Duration = Duration::from_secs(5);

/// Models served by deployments on every backend this host drives (Docker, processes, and
/// Kubernetes where a kubeconfig exists), asked side by side. A backend that cannot answer is
/// reported on stderr: its deployments cannot be protected.
async fn models_in_use(global: &GlobalArgs) -> Vec<ModelHold> {
    let options = super::deploy::backend_options(global, NetworkMode::default());
    let with_kubernetes = registry::kubernetes_configured(global.kubeconfig.as_deref());
    let (backends, warnings) = registry::open_all(&options, with_kubernetes);
    let lists = backends.iter().map(|backend| async move {
        (backend.name(), tokio::time::timeout(LIST_TIMEOUT, backend.list()).await)
    });
    let mut holds = Vec::new();
    let mut unchecked = warnings;
    for (name, listed) in futures::future::join_all(lists).await {
        match listed {
            Ok(Ok(deployments)) => holds.extend(
                deployments
                    .into_iter()
                    .map(|d| ModelHold { model: d.spec.model, deployment: d.name }),
            ),
            Ok(Err(err)) => unchecked.push(format!("{name}: {err}")),
            Err(_) => unchecked.push(format!("{name}: no answer in {} s", LIST_TIMEOUT.as_secs())),
        }
    }
    for problem in unchecked {
        eprintln!("note: could not check deployments on {problem}");
    }
    holds
}

fn run_rm(
    root: &std::path::Path,
    args: &RmArgs,
    holds: &[ModelHold],
) -> color_eyre::Result<ExitCode> {
    let (repo_id, revision) = match args.target.split_once('@') {
        Some((repo, rev)) if !rev.is_empty() => (repo, Some(rev)),
        Some(_) => bail!("`{}`: nothing after `@`; expected REPO@REVISION", args.target),
        None => (args.target.as_str(), None),
    };
    let report = cache::scan_cache_dir(root)?;
    let revisions: Vec<&str> = revision.into_iter().collect();
    let plan = cache::plan_delete(&report, args.repo_type, repo_id, &revisions, holds)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        print!("{}", describe_plan(&plan, args.dry_run));
    }
    if args.dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    if args.yes && !args.force && !plan.held_by.is_empty() {
        bail!(
            "`{}` is in use by {}; nothing deleted. Pass --force as well to delete it anyway",
            plan.repo_id,
            plan.held_by.join(", ")
        );
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            bail!(
                "refusing to delete without confirmation: standard input is not a terminal; pass --yes"
            );
        }
        if !confirm("Delete? [y/N] ")? {
            eprintln!("Nothing deleted.");
            return Ok(ExitCode::FAILURE);
        }
        if !plan.held_by.is_empty() {
            let question = format!(
                "`{}` is in use by {}. Type the repo id to delete it anyway: ",
                plan.repo_id,
                plan.held_by.join(", ")
            );
            if ask(&question)? != plan.repo_id {
                eprintln!("Nothing deleted.");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    cache::execute(&plan, &report.root)?;
    eprintln!("Deleted; freed {}.", format_size(plan.bytes_freed));
    Ok(ExitCode::SUCCESS)
}

fn describe_plan(plan: &DeletePlan, dry_run: bool) -> String {
    let what = if plan.deletes_repo() {
        format!("{} {} (all {} revision(s))", plan.repo_type, plan.repo_id, plan.revisions.len())
    } else {
        format!(
            "{} revision(s) of {} {}: {}",
            plan.revisions.len(),
            plan.repo_type,
            plan.repo_id,
            plan.revisions.join(", ")
        )
    };
    let mut text = format!(
        "{} {what}\n  snapshots: {}, refs: {}, blobs: {}\n  frees {} ({} bytes)\n",
        if dry_run { "Would delete" } else { "Will delete" },
        if plan.deletes_repo() { plan.revisions.len() } else { plan.snapshots.len() },
        plan.refs.len(),
        plan.blobs.len(),
        format_size(plan.bytes_freed),
        plan.bytes_freed
    );
    if !plan.held_by.is_empty() {
        text.push_str(&format!("  in use by: {}\n", plan.held_by.join(", ")));
    }
    text
}

fn ask(question: &str) -> color_eyre::Result<String> {
    eprint!("{question}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_string())
}

fn confirm(question: &str) -> color_eyre::Result<bool> {
    Ok(matches!(ask(question)?.to_ascii_lowercase().as_str(), "y" | "yes"))
}

async fn run_pull(root: &std::path::Path, args: &PullArgs) -> color_eyre::Result<ExitCode> {
    let env = |name: &str| std::env::var(name).ok();
    let endpoint = pull::endpoint_from_env(env);
    let hub = HubClient::new(&endpoint, pull::find_token(env))?;
    let mut request = PullRequest::new(&args.repo, &args.revision, root);
    request.repo_type = args.repo_type;
    request.max_parallel = usize::from(args.max_workers);
    std::fs::create_dir_all(root)
        .wrap_err_with(|| format!("cannot create the cache directory {}", root.display()))?;

    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });
    let mut bar = ProgressBar::new(std::io::stderr().is_terminal());
    let drawer = tokio::spawn(async move {
        let mut last = None;
        while let Some(progress) = rx.recv().await {
            bar.draw(&progress);
            last = Some(progress);
        }
        if let Some(progress) = &last {
            bar.finish(progress);
        }
    });
    let result = pull::pull(&hub, &request, Some(tx), cancel).await;
    drawer.await.map_err(|err| eyre!("progress display failed: {err}"))?;
    let summary = result?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!("{}", summary.snapshot_path.display());
    }
    Ok(ExitCode::SUCCESS)
}
