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

use crate::tui::theme::Theme;

// Each event is moved once, through the channel, to `update`: boxing the endpoint update (the
// largest) would cost an allocation per poll for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    Paste(String),
    Resize(u16, u16),
    /// Once a second: the clock and message expiry. Carries the time, so `update` reads no clock.
    Tick(Now),
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
    /// Loading the recipe library failed (its loader panicked): shown as an error.
    RecipesFailed(String),
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
    Deploy(crate::tui::features::deploy::DeployEvent),
    /// A cache delete finished: bytes freed, or why not.
    CacheDeleted {
        repo: String,
        result: Result<u64, String>,
    },
    /// Endpoint monitor updates, playground tokens, benchmark progress and reports.
    Endpoints(crate::tui::features::endpoints::EndpointEvent),
    /// The active cluster answered: its inventory, its contexts or its namespaces.
    Cluster(crate::tui::features::cluster::ClusterEvent),
}

/// Names one cancellable run (a pull, a log stream, a prompt, a benchmark). The effects runner
/// keeps the run's cancellation token; `Command::Cancel(run)` stops it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(pub u64);

/// The time, read by the tick's source (or fixed by a test) and carried by `Event::Tick`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Now {
    /// For durations (how long a listing has been out).
    pub instant: std::time::Instant,
    /// Wall-clock milliseconds since the epoch (ages, time in state).
    pub unix_ms: i64,
    /// The local time of day, for the header clock and `unreachable since`.
    pub local: jiff::civil::Time,
    /// The local zone's offset from UTC when read: past stamps (errors, benchmark reports) are
    /// shown in the header clock's time, without the view reading the zone.
    pub offset: jiff::tz::Offset,
}

impl Now {
    /// Reads the clocks. Called by the tick source, startup and tests, never by `update`.
    pub fn read() -> Now {
        let zoned = jiff::Timestamp::now().to_zoned(crate::tui::local_zone::local_zone().clone());
        Now {
            instant: std::time::Instant::now(),
            unix_ms: zoned.timestamp().as_millisecond(),
            local: zoned.time(),
            offset: zoned.offset(),
        }
    }

    /// `HH:MM`, for the header.
    pub fn clock(&self) -> String {
        self.local.strftime("%H:%M").to_string()
    }

    /// `HH:MM:SS`.
    pub fn time_of_day(&self) -> String {
        self.local.strftime("%H:%M:%S").to_string()
    }

    /// `HH:MM:SS` in local time of a stamp in milliseconds since the epoch; empty for a stamp
    /// out of range.
    pub fn time_of_day_of(&self, unix_ms: i64) -> String {
        jiff::Timestamp::from_millisecond(unix_ms)
            .map(|t| {
                t.to_zoned(jiff::tz::TimeZone::fixed(self.offset)).strftime("%H:%M:%S").to_string()
            })
            .unwrap_or_default()
    }
}

/// Work for the effects runner (`effects`). Plain data: a backend is named by its key, a
/// cancellable run by its `RunId`, so tests compare commands with `==`. Each command's result
/// comes back as an `Event`.
#[derive(Debug, Clone, PartialEq)]
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
    Deploy(crate::tui::features::deploy::DeployCommand),
    /// Kubernetes-only reads: node inventory, contexts, namespaces.
    Cluster(crate::tui::features::cluster::ClusterCommand),
    Pull {
        repo: String,
        revision: String,
        root: std::path::PathBuf,
        run: RunId,
    },
    DeleteFromCache {
        plan: Box<DeletePlan>,
        root: std::path::PathBuf,
    },
    /// Watch/unwatch an endpoint, stream a prompt, run a smoke benchmark.
    Endpoints(crate::tui::features::endpoints::EndpointCommand),
    /// Stops a run started by an earlier command (its token is cancelled by the runner).
    Cancel(RunId),
    /// For the shell, not the runner: what a domain asks of the shell or tells the others
    /// (`tui::ctx`). Done by the shell in the update that returned it.
    Shell(crate::tui::ctx::ShellCommand),
}

#[cfg(test)]
mod tests {
    use super::Now;

    /// A stamp is shown in the header clock's zone, not in UTC: an operator two hours east of
    /// Greenwich reads the error of 10:15:30 UTC as 12:15:30, as the clock beside it says.
    #[test]
    fn past_stamps_read_in_local_time() {
        let mut now = Now::read();
        let stamp =
            jiff::civil::date(2026, 12, 3).at(10, 15, 30, 0).to_zoned(jiff::tz::TimeZone::UTC);
        let ms = stamp.unwrap().timestamp().as_millisecond();
        now.offset = jiff::tz::offset(2);
        assert_eq!(now.time_of_day_of(ms), "12:15:30");
        now.offset = jiff::tz::Offset::UTC;
        assert_eq!(now.time_of_day_of(ms), "10:15:30");
        assert_eq!(now.time_of_day_of(i64::MAX), "", "out of range");
    }
}
