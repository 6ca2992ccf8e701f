//! The message line and its history (`:messages`). The newest message shows, unless an error
//! or warning the user has not had time to read would be hidden by a less important one; a
//! message about the same subject (`notify_on`: a create, the command line) always replaces
//! the last one, so a create that succeeds clears the earlier create's failure. Messages
//! expire on ticks (the clock comes in `Tick(now)`; nothing here reads it).

use crate::tui::app::App;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Info,
    Warning,
    Error,
}

impl Level {
    pub fn word(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// A line for the message bar. Toasts expire; errors stay longer.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub level: Level,
    /// What it is about (`create`, `command`); a newer message on it replaces this one.
    pub subject: Option<String>,
    /// `HH:MM:SS` of the tick it came in, for `:messages`.
    pub at: String,
    expires_at_tick: u64,
}

impl Message {
    pub(crate) fn expired(&self, ticks: u64) -> bool {
        self.expires_at_tick <= ticks
    }
}

/// How many messages `:messages` keeps.
pub const HISTORY: usize = 200;

/// Ticks (seconds) a message stays on the line.
fn lifetime(level: Level) -> u64 {
    match level {
        Level::Info => 5,
        Level::Warning => 15,
        Level::Error => 30,
    }
}

impl App {
    pub fn notify(&mut self, level: Level, text: impl Into<String>) {
        self.show(level, None, text.into());
    }

    /// A message about `subject`: it replaces the line's message on the same subject whatever
    /// their levels (the earlier create's failure goes when the next create starts or ends).
    pub fn notify_on(&mut self, subject: &str, level: Level, text: impl Into<String>) {
        self.show(level, Some(subject.to_string()), text.into());
    }

    fn show(&mut self, level: Level, subject: Option<String>, text: String) {
        let message = self.message_now(level, subject, text, lifetime(level));
        self.record(message.clone());
        let keep_current = self.message.as_ref().is_some_and(|current| {
            let same_subject = current.subject.is_some() && current.subject == message.subject;
            // A newer info never hides an error the user has not had time to read.
            !same_subject && current.level > message.level && !current.expired(self.ticks)
        });
        if !keep_current {
            self.message = Some(message);
        }
        self.dirty = true;
    }

    /// Clears the line's message when it is about `subject` (its action has since succeeded).
    pub fn clear_subject(&mut self, subject: &str) {
        if self.message.as_ref().is_some_and(|m| m.subject.as_deref() == Some(subject)) {
            self.message = None;
            self.dirty = true;
        }
    }

    /// Into the history (`:messages`) only: what another part of the screen already shows
    /// in full (a failed submit's cause inside its form).
    pub fn remember(&mut self, level: Level, text: impl Into<String>) {
        let message = self.message_now(level, None, text.into(), 0);
        self.record(message);
        self.dirty = true;
    }

    /// Like `notify`, but a message of the same or a higher level still on screen stays: the
    /// new one goes to the history (`:messages`) only. For background warnings (a backend that
    /// cannot be listed) that must not hide what the user is reading.
    pub fn notify_behind(&mut self, level: Level, text: impl Into<String>) {
        let busy = self
            .message
            .as_ref()
            .is_some_and(|current| current.level >= level && !current.expired(self.ticks));
        if busy { self.remember(level, text) } else { self.notify(level, text) }
    }

    fn message_now(
        &self,
        level: Level,
        subject: Option<String>,
        text: String,
        life: u64,
    ) -> Message {
        Message {
            text,
            level,
            subject,
            at: self.now.time_of_day(),
            expires_at_tick: self.ticks + life,
        }
    }

    fn record(&mut self, message: Message) {
        tracing::info!(level = ?message.level, "{}", message.text);
        self.history.push(message);
        if self.history.len() > HISTORY {
            self.history.remove(0);
        }
    }

    /// `:messages`: the history, oldest first, each with its time and level, in full.
    pub fn messages_text(&self) -> Vec<String> {
        if self.history.is_empty() {
            return vec!["No messages yet.".to_string()];
        }
        self.history
            .iter()
            .map(|m| format!("{}  {:<7}  {}", m.at, m.level.word(), m.text))
            .collect()
    }
}
