//! Reading a replica's log file: the last lines, then (when following) new lines as they are
//! appended, like `tail -f`.

use std::collections::VecDeque;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

use futures::StreamExt;

use crate::backend::{BackendError, BoxStream, LogLine};

struct Tail {
    path: PathBuf,
    replica: u32,
    offset: u64,
    partial: String,
    ready: VecDeque<String>,
    follow: bool,
}

impl Tail {
    fn read_new(&mut self) -> Result<(), BackendError> {
        let mut file =
            std::fs::File::open(&self.path).map_err(|e| BackendError::state(&self.path, e))?;
        let len = file.metadata().map_err(|e| BackendError::state(&self.path, e))?.len();
        if len < self.offset {
            // Truncated or replaced: start over.
            self.offset = 0;
            self.partial.clear();
        }
        if len == self.offset {
            return Ok(());
        }
        file.seek(SeekFrom::Start(self.offset)).map_err(|e| BackendError::state(&self.path, e))?;
        let mut bytes = Vec::new();
        file.take(len - self.offset)
            .read_to_end(&mut bytes)
            .map_err(|e| BackendError::state(&self.path, e))?;
        self.offset = len;
        self.partial.push_str(&String::from_utf8_lossy(&bytes));
        while let Some(newline) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=newline).collect();
            self.ready.push_back(line.trim_end_matches(['\n', '\r']).to_string());
        }
        Ok(())
    }
}

/// Lines of `path` tagged with `replica`: the last `tail` lines (all when unset), then new ones
/// while `follow` is set.
pub fn stream(
    path: PathBuf,
    replica: u32,
    tail: Option<usize>,
    follow: bool,
) -> BoxStream<Result<LogLine, BackendError>> {
    let mut state =
        Tail { path, replica, offset: 0, partial: String::new(), ready: VecDeque::new(), follow };
    let first = state.read_new();
    if let Some(keep) = tail {
        while state.ready.len() > keep {
            state.ready.pop_front();
        }
    }
    if !follow && !state.partial.is_empty() {
        let rest = std::mem::take(&mut state.partial);
        state.ready.push_back(rest);
    }
    let initial_error = first.err();
    futures::stream::unfold((state, initial_error), |(mut state, error)| async move {
        if let Some(err) = error {
            return Some((Err(err), (state, None)));
        }
        loop {
            if let Some(text) = state.ready.pop_front() {
                let line = LogLine { replica: state.replica, text };
                return Some((Ok(line), (state, None)));
            }
            if !state.follow {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            if let Err(err) = state.read_new() {
                state.follow = false;
                return Some((Err(err), (state, None)));
            }
        }
    })
    .boxed()
}
