//! The journal: every mutating action (who, when, backend, what, result) appended as one JSON
//! line to `journal.jsonl` in the state directory, and read back for the `:journal` view.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::BackendError;

pub const FILE_NAME: &str = "journal.jsonl";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// `$USER` (or `unknown`).
    pub who: String,
    /// RFC 3339.
    pub when: String,
    pub backend: String,
    /// `deploy`, `scale`, `rm`, `restart`.
    pub action: String,
    /// The deployment, with details such as `demo -> 3 replicas`.
    pub target: String,
    /// `ok`, or `error: <message>`.
    pub result: String,
}

impl JournalEntry {
    pub fn new(
        backend: &str,
        action: &str,
        target: impl Into<String>,
        result: &Result<impl Sized, impl std::fmt::Display>,
    ) -> Self {
        JournalEntry {
            who: who(),
            when: super::now_rfc3339(),
            backend: backend.to_string(),
            action: action.to_string(),
            target: target.into(),
            result: match result {
                Ok(_) => "ok".to_string(),
                Err(err) => format!("error: {err}"),
            },
        }
    }

    pub fn ok(&self) -> bool {
        self.result == "ok"
    }
}

/// `$USER`, else `$LOGNAME`, else the numeric uid (CI runners and containers often set neither).
fn who() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        // SAFETY: getuid always succeeds and touches no memory.
        .unwrap_or_else(|| format!("uid {}", unsafe { libc::getuid() }))
}

pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE_NAME)
}

/// Appends one entry. One `write` of a whole line with `O_APPEND`, so concurrent consoles do not
/// interleave partial lines.
pub fn append(state_dir: &Path, entry: &JournalEntry) -> Result<(), BackendError> {
    let file = path(state_dir);
    crate::paths::create_private_dir(state_dir).map_err(|e| BackendError::state(state_dir, e))?;
    let mut line = serde_json::to_string(entry).map_err(|e| BackendError::state(&file, e))?;
    line.push('\n');
    let mut handle = crate::paths::private_file()
        .create(true)
        .append(true)
        .open(&file)
        .map_err(|e| BackendError::state(&file, e))?;
    handle.write_all(line.as_bytes()).map_err(|e| BackendError::state(&file, e))
}

/// What the journal holds, oldest first, plus lines that could not be read (with their line
/// numbers) so a damaged journal is visible rather than silently shortened.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Journal {
    pub entries: Vec<JournalEntry>,
    pub bad_lines: Vec<String>,
}

/// Reads the whole journal; a missing file is an empty journal.
pub fn read(state_dir: &Path) -> Result<Journal, BackendError> {
    let file = path(state_dir);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Journal::default()),
        Err(err) => return Err(BackendError::state(&file, err)),
    };
    Ok(parse(&text, &file))
}

/// The journal in `text` (the file's contents); `file` names it in the bad lines' reports.
pub fn parse(text: &str, file: &Path) -> Journal {
    let mut journal = Journal::default();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<JournalEntry>(line) {
            Ok(entry) => journal.entries.push(entry),
            Err(err) => journal.bad_lines.push(format!("{}:{}: {err}", file.display(), number + 1)),
        }
    }
    journal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_appended_and_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let ok: Result<(), String> = Ok(());
        let failed: Result<(), String> = Err("port 8000 taken".into());
        append(dir.path(), &JournalEntry::new("docker", "deploy", "demo", &ok)).unwrap();
        append(dir.path(), &JournalEntry::new("docker", "scale", "demo -> 3", &failed)).unwrap();
        let journal = read(dir.path()).unwrap();
        assert_eq!(journal.entries.len(), 2);
        assert_eq!(journal.entries[0].action, "deploy");
        assert!(journal.entries[0].ok());
        assert_eq!(journal.entries[1].result, "error: port 8000 taken");
        assert!(journal.bad_lines.is_empty());
    }

    #[test]
    fn a_damaged_line_is_reported_with_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let ok: Result<(), String> = Ok(());
        append(dir.path(), &JournalEntry::new("process", "rm", "demo", &ok)).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(path(dir.path()))
            .unwrap()
            .write_all(b"{not json\n")
            .unwrap();
        let journal = read(dir.path()).unwrap();
        assert_eq!(journal.entries.len(), 1);
        assert_eq!(journal.bad_lines.len(), 1);
        assert!(journal.bad_lines[0].contains("journal.jsonl:2:"), "{:?}", journal.bad_lines);
    }
}
