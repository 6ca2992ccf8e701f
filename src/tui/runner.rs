//! Runs `Command`s as tokio tasks and sends their results back as `Event`s, so `App::update`
//! never waits on I/O.

use std::path::PathBuf;

use tokio::sync::mpsc;

use super::event::{Command, Event};
use super::theme::Theme;

#[derive(Debug, Clone)]
pub struct TaskRunner {
    events: mpsc::Sender<Event>,
    user_themes_dir: PathBuf,
}

impl TaskRunner {
    pub fn new(events: mpsc::Sender<Event>, user_themes_dir: PathBuf) -> TaskRunner {
        TaskRunner { events, user_themes_dir }
    }

    pub fn run(&self, command: Command) {
        let events = self.events.clone();
        match command {
            Command::LoadTheme(name) => {
                let dir = self.user_themes_dir.clone();
                tokio::spawn(async move {
                    let lookup = name.clone();
                    let result = tokio::task::spawn_blocking(move || Theme::load(&lookup, &dir).map_err(|e| e.to_string()))
                        .await
                        .unwrap_or_else(|join| Err(format!("theme loader failed: {join}")));
                    let _ = events.send(Event::ThemeLoaded { name, result }).await;
                });
            }
        }
    }
}
