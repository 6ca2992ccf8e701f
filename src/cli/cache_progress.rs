//! The `cache pull` progress bar: one line on stderr redrawn with `\r` on a terminal; when
//! stderr is not a terminal (logs, CI), only the final line.

use std::io::Write;

use crate::cache::format_size;
use crate::cache::pull::{PullPhase, PullProgress};

pub struct ProgressBar {
    interactive: bool,
    width: usize,
}

impl ProgressBar {
    pub fn new(interactive: bool) -> ProgressBar {
        ProgressBar { interactive, width: 0 }
    }

    pub fn draw(&mut self, progress: &PullProgress) {
        if !self.interactive {
            return;
        }
        let line = render_line(progress, 24);
        // Pad over what the previous, possibly longer, line left behind.
        let pad = self.width.saturating_sub(line.chars().count());
        self.width = line.chars().count();
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}{}", " ".repeat(pad));
        let _ = err.flush();
    }

    pub fn finish(&mut self, progress: &PullProgress) {
        let line = render_line(progress, 24);
        let mut err = std::io::stderr().lock();
        if self.interactive {
            let pad = self.width.saturating_sub(line.chars().count());
            let _ = writeln!(err, "\r{line}{}", " ".repeat(pad));
        } else {
            let _ = writeln!(err, "{line}");
        }
    }
}

/// `main [#########-----------]  38% 1.2G/3.2G 45.0M/s ETA 44s 3/7 files`.
pub fn render_line(progress: &PullProgress, bar_width: usize) -> String {
    let label = progress
        .commit_hash
        .as_deref()
        .map_or(progress.revision.as_str(), |c| &c[..c.len().min(8)]);
    let filled = (progress.fraction() * bar_width as f64).round() as usize;
    let bar = format!(
        "{}{}",
        "#".repeat(filled.min(bar_width)),
        "-".repeat(bar_width - filled.min(bar_width))
    );
    let status = match progress.phase {
        PullPhase::Resolving => "resolving".to_string(),
        PullPhase::Downloading => match progress.eta_seconds {
            Some(eta) => format!(
                "{}/s ETA {}",
                format_size(progress.bytes_per_second as u64),
                format_eta(eta)
            ),
            None => format!("{}/s", format_size(progress.bytes_per_second as u64)),
        },
        PullPhase::Finished => "done".to_string(),
        PullPhase::Cancelled => "cancelled (run again to resume)".to_string(),
        PullPhase::Failed => "failed".to_string(),
    };
    format!(
        "{} {label} [{bar}] {:>3.0}% {}/{} {status} {}/{} files",
        progress.repo_id,
        progress.fraction() * 100.0,
        format_size(progress.done_bytes),
        format_size(progress.total_bytes),
        progress.files_done,
        progress.files_total
    )
}

fn format_eta(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::pull::PullProgress;

    #[test]
    fn line_shows_fraction_rate_and_eta() {
        let progress = PullProgress {
            repo_id: "org/m".into(),
            revision: "main".into(),
            commit_hash: Some("0123456789abcdef".into()),
            phase: PullPhase::Downloading,
            files: Vec::new(),
            files_done: 1,
            files_total: 4,
            done_bytes: 250_000,
            total_bytes: 1_000_000,
            bytes_per_second: 50_000.0,
            eta_seconds: Some(75.0),
        };
        assert_eq!(
            render_line(&progress, 8),
            "org/m 01234567 [##------]  25% 250.0K/1.0M 50.0K/s ETA 1m15s 1/4 files"
        );
    }
}
