//! Logs go to a file in the XDG state directory, never to the terminal under the console.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing_appender::non_blocking::{NonBlocking, WorkerGuard};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Lines waiting for the log file's writer thread.
const LOG_QUEUE_LINES: usize = 4096;
/// What is kept of the lines logged before the writer thread starts (a start-up's worth).
const EARLY_BYTES: usize = 64 * 1024;

/// The console's log file. Lines are formatted from the start; the thread that writes them
/// starts once the first frame is out (`start_writer`): on a small VM creating a thread costs
/// 0.5-1 ms, a tenth of the time to the first frame. Until then lines wait in memory.
pub struct LogFile {
    pub path: PathBuf,
    sink: Arc<Mutex<Sink>>,
    guard: Option<WorkerGuard>,
}

enum Sink {
    /// Before the writer thread: the lines so far (at most `EARLY_BYTES`).
    Early(Vec<u8>),
    Writing(NonBlocking),
}

/// One event's line, handed to the sink as a whole.
struct SinkWriter(Arc<Mutex<Sink>>);

impl Write for SinkWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut sink = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match &mut *sink {
            Sink::Early(lines) => {
                // Dropped when full, as the writer's own queue drops rather than block the UI.
                if lines.len() + buf.len() <= EARLY_BYTES {
                    lines.extend_from_slice(buf);
                }
                Ok(buf.len())
            }
            Sink::Writing(writer) => writer.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) {
            Sink::Early(_) => Ok(()),
            Sink::Writing(writer) => writer.flush(),
        }
    }
}

impl LogFile {
    /// Creates the file (the user's alone; the appender then appends to it as it is).
    fn create(path: PathBuf) -> Option<LogFile> {
        crate::paths::private_file().create(true).append(true).open(&path).ok()?;
        Some(LogFile { path, sink: Arc::new(Mutex::new(Sink::Early(Vec::new()))), guard: None })
    }

    /// Starts the writer thread and hands it the lines logged so far. Called once the first
    /// frame is on screen; a second call does nothing.
    pub fn start_writer(&mut self) {
        let mut sink = self.sink.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Sink::Early(early) = &mut *sink else { return };
        let early = std::mem::take(early);
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let name = self.path.file_name().unwrap_or_default();
        let appender = tracing_appender::rolling::never(dir, name);
        // The default queue holds 128,000 lines, and crossbeam's bounded channel writes every
        // slot up front: 4 MB resident from the start, a quarter of the idle console. The
        // console logs a few lines a minute; 4,096 queued lines (128 KB) is room for any burst,
        // and when full the writer drops lines rather than blocking the UI (the crate's lossy
        // default).
        let (mut writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
            .buffered_lines_limit(LOG_QUEUE_LINES)
            .finish(appender);
        let _ = writer.write_all(&early);
        *sink = Sink::Writing(writer);
        self.guard = Some(guard);
    }
}

impl Drop for LogFile {
    /// A console that ends before its first frame (a terminal error) still leaves its lines.
    fn drop(&mut self) {
        let sink = self.sink.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Sink::Early(early) = &*sink
            && !early.is_empty()
            && let Ok(mut file) = crate::paths::private_file().append(true).open(&self.path)
        {
            let _ = file.write_all(early);
        }
        // `guard`, dropped after this, flushes the writer thread's queue.
    }
}

/// Starts file logging at `level` (`AIMDECK_LOG` overrides with a full filter). Returns the
/// log file, whose writer thread `LogFile::start_writer` starts.
pub fn init(level: Option<&str>) -> Option<LogFile> {
    let dir = crate::paths::state_dir();
    crate::paths::create_private_dir(&dir).ok()?;
    let log = LogFile::create(dir.join("aimdeck.log"))?;
    let for_events = log.sink.clone();
    let builder = tracing_subscriber::fmt()
        .with_writer(move || SinkWriter(for_events.clone()))
        .with_ansi(false);
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
    started.then_some(log)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_line(log: &LogFile, line: &str) {
        SinkWriter(log.sink.clone()).write_all(line.as_bytes()).unwrap();
    }

    #[test]
    fn lines_logged_before_the_writer_starts_reach_the_file_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = LogFile::create(dir.path().join("aimdeck.log")).unwrap();
        log_line(&log, "before the first frame\n");
        log.start_writer();
        log_line(&log, "after it\n");
        log.start_writer(); // a second call changes nothing
        let path = log.path.clone();
        drop(log);
        let text = std::fs::read_to_string(path).unwrap();
        assert_eq!(text, "before the first frame\nafter it\n");
    }

    #[test]
    fn a_console_that_never_drew_still_leaves_its_lines_in_a_private_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let log = LogFile::create(dir.path().join("aimdeck.log")).unwrap();
        log_line(&log, "terminal error\n");
        let path = log.path.clone();
        drop(log);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "terminal error\n");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn the_early_buffer_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let log = LogFile::create(dir.path().join("aimdeck.log")).unwrap();
        let line = "x".repeat(1000) + "\n";
        for _ in 0..200 {
            log_line(&log, &line);
        }
        let Sink::Early(early) = &*log.sink.lock().unwrap() else { panic!("not started") };
        assert!(early.len() <= EARLY_BYTES && early.len() > EARLY_BYTES - line.len());
    }
}
