//! Logs go to a file in the XDG state directory, never to the terminal under the console.

use std::path::PathBuf;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Lines waiting for the log file's writer thread.
const LOG_QUEUE_LINES: usize = 4096;

/// Starts file logging at `level` (`AIMDECK_LOG` overrides with a full filter). Returns the
/// guard that flushes the file when dropped, and the log file's path.
pub fn init(level: Option<&str>) -> Option<(WorkerGuard, PathBuf)> {
    let dir = crate::paths::state_dir();
    crate::paths::create_private_dir(&dir).ok()?;
    let file_name = "aimdeck.log";
    // Made here so it is the user's alone; the appender then appends to it as it is.
    crate::paths::private_file().create(true).append(true).open(dir.join(file_name)).ok()?;
    let appender = tracing_appender::rolling::never(&dir, file_name);
    // The default queue holds 128,000 lines, and crossbeam's bounded channel writes every slot
    // up front: 4 MB resident from the start, a quarter of the idle console. The console logs
    // a few lines a minute; 4,096 queued lines (128 KB) is room for any burst, and when full
    // the writer drops lines rather than blocking the UI (the crate's lossy default).
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .finish(appender);
    let builder = tracing_subscriber::fmt().with_writer(writer).with_ansi(false);
    // `AIMDECK_LOG` takes EnvFilter's whole syntax. The level alone needs only a target
    // filter: EnvFilter parses even `aimdeck=info` with regexes, whose code (about 0.6 MB of
    // pages) the idle console would otherwise keep resident.
    let started = match std::env::var("AIMDECK_LOG").ok().and_then(|f| EnvFilter::try_new(f).ok()) {
        Some(filter) => builder.with_env_filter(filter).try_init().is_ok(),
        None => {
            let level =
                level.and_then(|l| l.parse::<LevelFilter>().ok()).unwrap_or(LevelFilter::INFO);
            builder.finish().with(Targets::new().with_target("aimdeck", level)).try_init().is_ok()
        }
    };
    if !started {
        return None;
    }
    Some((guard, dir.join(file_name)))
}
