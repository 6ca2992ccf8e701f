//! A scrollable, searchable pane of log lines. It keeps a bounded history (old lines fall off),
//! follows the tail until the user scrolls up, and highlights search matches.

use std::cell::Cell;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::monitor::Ring;
use crate::tui::theme::Theme;

#[derive(Debug, Clone, PartialEq)]
pub struct LogPane {
    lines: Ring<String>,
    /// Index of the first line shown when not following.
    top: usize,
    pub follow: bool,
    pub wrap: bool,
    search: Option<String>,
    /// Lines on screen, learnt at the last render (a render-side cache, not state).
    height: Cell<usize>,
}

impl LogPane {
    pub fn new(capacity: usize) -> LogPane {
        LogPane {
            lines: Ring::new(capacity),
            top: 0,
            follow: true,
            wrap: false,
            search: None,
            height: Cell::new(10),
        }
    }

    pub fn push(&mut self, line: impl Into<String>) {
        let full = self.lines.len() == self.lines.capacity();
        self.lines.push(line.into());
        if full && !self.follow {
            // The oldest line fell off: keep the same lines in view.
            self.top = self.top.saturating_sub(1);
        }
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    fn last_top(&self) -> usize {
        self.lines.len().saturating_sub(self.height.get())
    }

    /// The first line index on screen.
    pub fn top(&self) -> usize {
        if self.follow { self.last_top() } else { self.top.min(self.last_top()) }
    }

    pub fn scroll_by(&mut self, delta: isize) {
        let top = (self.top() as isize + delta).clamp(0, self.last_top() as isize) as usize;
        self.top = top;
        self.follow = top >= self.last_top();
    }

    pub fn scroll_to_top(&mut self) {
        self.top = 0;
        self.follow = false;
    }

    pub fn scroll_to_bottom(&mut self) {
        self.follow = true;
    }

    pub fn set_search(&mut self, query: Option<String>) {
        self.search = query.filter(|q| !q.is_empty());
        self.find_next(true);
    }

    pub fn search(&self) -> Option<&str> {
        self.search.as_deref()
    }

    fn matches(&self, line: &str) -> bool {
        self.search.as_ref().is_some_and(|q| line.to_lowercase().contains(&q.to_lowercase()))
    }

    /// Scrolls so the next (or previous) matching line is at the top. Returns false if none.
    pub fn find_next(&mut self, forward: bool) -> bool {
        if self.search.is_none() {
            return false;
        }
        let start = self.top();
        let lines: Vec<&String> = self.lines.iter().collect();
        let found = if forward {
            (start + 1..lines.len())
                .chain(0..=start.min(lines.len().saturating_sub(1)))
                .find(|&i| self.matches(lines[i]))
        } else {
            (0..start).rev().chain((start..lines.len()).rev()).find(|&i| self.matches(lines[i]))
        };
        match found {
            Some(index) => {
                self.top = index;
                self.follow = false;
                true
            }
            None => false,
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, block: Block<'_>, theme: &Theme) {
        self.height.set(block.inner(area).height as usize);
        let top = self.top();
        let shown: Vec<Line> = self
            .lines
            .iter()
            .skip(top)
            .take(self.height.get().max(1))
            .map(|line| self.highlight(line, theme))
            .collect();
        let mut paragraph = Paragraph::new(shown).block(block).style(theme.text);
        if self.wrap {
            paragraph = paragraph.wrap(Wrap { trim: false });
        }
        frame.render_widget(paragraph, area);
    }

    fn highlight(&self, line: &str, theme: &Theme) -> Line<'static> {
        let Some(query) = self.search.as_ref().filter(|_| self.matches(line)) else {
            return Line::from(line.to_string());
        };
        // Split around each case-insensitive match; indices are valid because lowercasing
        // ASCII keeps byte offsets, and non-ASCII lines fall back to whole-line emphasis.
        if !line.is_ascii() || !query.is_ascii() {
            return Line::styled(line.to_string(), theme.selection);
        }
        let lower = line.to_ascii_lowercase();
        let needle = query.to_ascii_lowercase();
        let mut spans = Vec::new();
        let mut at = 0;
        while let Some(found) = lower[at..].find(&needle) {
            let begin = at + found;
            spans.push(Span::raw(line[at..begin].to_string()));
            spans
                .push(Span::styled(line[begin..begin + needle.len()].to_string(), theme.selection));
            at = begin + needle.len();
        }
        spans.push(Span::raw(line[at..].to_string()));
        Line::from(spans)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pane(n: usize) -> LogPane {
        let mut pane = LogPane::new(100);
        pane.height.set(5);
        for i in 0..n {
            pane.push(format!("line {i}{}", if i % 7 == 0 { " ERROR boom" } else { "" }));
        }
        pane
    }

    #[test]
    fn follows_the_tail_until_scrolled_up() {
        let mut pane = pane(20);
        assert_eq!(pane.top(), 15);
        pane.scroll_by(-3);
        assert!(!pane.follow);
        pane.push("new");
        assert_eq!(pane.top(), 12);
        pane.scroll_by(100);
        assert!(pane.follow);
    }

    #[test]
    fn search_jumps_between_matches_and_wraps() {
        let mut pane = pane(20);
        pane.scroll_to_top();
        pane.set_search(Some("error".into()));
        assert_eq!(pane.top(), 7);
        assert!(pane.find_next(true));
        assert_eq!(pane.top(), 14);
        assert!(pane.find_next(true));
        assert_eq!(pane.top(), 0, "wraps around to the first match");
        assert!(pane.find_next(false));
        assert_eq!(pane.top(), 14);
        pane.set_search(Some("absent".into()));
        assert!(!pane.find_next(true));
    }

    #[test]
    fn history_is_bounded() {
        let mut pane = LogPane::new(10);
        for i in 0..50 {
            pane.push(i.to_string());
        }
        assert_eq!(pane.len(), 10);
    }
}
