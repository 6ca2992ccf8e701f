//! Everything that can happen to the console arrives as one `Event` on one bounded channel:
//! terminal input, the clock tick, signals, and the results of background tasks. Everything the
//! console wants done outside itself leaves as a `Command` for the task runner.

use std::sync::Arc;

use crossterm::event::KeyEvent;

use crate::cache::DeletePlan;
use crate::cache::pull::{PullProgress, PullSummary};
use crate::model::cache::CacheReport;
use crate::monitor::gpu_poller::GpuUpdate;
use crate::recipes::load::Library;

use super::theme::Theme;

#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    Paste(String),
    Resize(u16, u16),
    /// Once a second: the clock and message expiry.
    Tick,
    /// SIGTERM, SIGHUP (the SSH session dropped) or SIGINT: leave cleanly.
    Shutdown(&'static str),
    /// A theme asked for with `:theme NAME`, read from disk by the runner.
    ThemeLoaded {
        name: String,
        result: Result<Theme, String>,
    },
    /// A GPU discovery pass finished.
    Gpus(Arc<GpuUpdate>),
    /// The recipe library (built-ins plus the user's directories) was (re)loaded.
    Recipes(Arc<Library>),
    /// A recipe from the editor was written (or not) to the user recipe directory.
    RecipeSaved {
        id: String,
        result: Result<std::path::PathBuf, String>,
    },
    /// A scan of the Hugging Face cache finished.
    CacheScanned(Result<Arc<CacheReport>, String>),
    /// A pull moved on (each replaces the previous).
    PullProgress(PullProgress),
    PullDone(Result<PullSummary, String>),
    /// A deployment backend answered (listing, rollout progress, logs, journal).
    Deploy(super::deploy_flow::DeployEvent),
    /// A cache delete finished: bytes freed, or why not.
    CacheDeleted {
        repo: String,
        result: Result<u64, String>,
    },
    /// Endpoint monitor updates, playground tokens, benchmark progress and reports.
    Endpoints(super::endpoint_flow::EndpointEvent),
    /// The active cluster answered: its inventory, its contexts or its namespaces.
    Cluster(super::cluster_flow::ClusterEvent),
}

/// Work for the task runner. Each command's result comes back as an `Event`.
#[derive(Debug, Clone)]
pub enum Command {
    LoadTheme(String),
    LoadRecipes,
    SaveRecipe {
        id: String,
        yaml: String,
    },
    ScanCache {
        root: std::path::PathBuf,
    },
    Deploy(super::deploy_flow::DeployCommand),
    /// Kubernetes-only reads: node inventory, contexts, namespaces.
    Cluster(super::cluster_flow::ClusterCommand),
    Pull {
        repo: String,
        revision: String,
        root: std::path::PathBuf,
        cancel: tokio_util::sync::CancellationToken,
    },
    DeleteFromCache {
        plan: Box<DeletePlan>,
        root: std::path::PathBuf,
    },
    /// Watch/unwatch an endpoint, stream a prompt, run a smoke benchmark.
    Endpoints(super::endpoint_flow::EndpointCommand),
}
