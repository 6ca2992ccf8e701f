//! The contract between the shell and the domains (`tui::features::*`).
//!
//! A domain's `update(&mut State, Msg, &Ctx) -> Vec<Command>` changes its own state only. What
//! it needs of the rest of the console it reads from `Ctx` (read-only: the clock, the view on
//! screen, the other domains' state); what it wants of the shell (a message, an overlay, a
//! view switch, rows rebuilt) or of another domain (a backend chosen) it returns as
//! `Command::Shell`, which the shell carries out in the same update (`shell::apply`), before
//! the remaining commands go to the effects runner. Tests call `update` and compare the
//! commands it returns with `==`.

use std::cell::Cell;

use crate::tui::event::{Command, Now, RunId};
use crate::tui::features::cache::CacheState;
use crate::tui::features::cluster::ClusterState;
use crate::tui::features::deploy::DeployState;
use crate::tui::features::endpoints::view::EndpointsState;
use crate::tui::features::gpus::GpuState;
use crate::tui::features::recipes::RecipeState;
use crate::tui::joins::Stale;
use crate::tui::keymap::Keymap;
use crate::tui::messages::Level;
use crate::tui::mode::Mode;
use crate::tui::theme::Theme;
use crate::tui::views::ViewId;
use crate::tui::views::resources::ResourceView;

/// What a domain's `update` and `view` may read. The domain being updated holds its own state
/// through `&mut`; its slot here is an empty stand-in for the length of the call
/// (`App::dispatch`), so a domain never reads itself through `Ctx`.
pub struct Ctx<'a> {
    /// The time the last tick brought.
    pub now: Now,
    pub readonly: bool,
    /// The view on screen.
    pub view: ViewId,
    /// What has the keyboard (`Normal` while a key is being handled: the shell took it).
    pub mode: &'a Mode,
    pub keymap: &'a Keymap,
    pub theme: &'a Theme,
    /// Every view's table (its rows, selection and filter).
    pub views: &'a [ResourceView],
    pub gpus: &'a GpuState,
    pub cache: &'a CacheState,
    pub recipes: &'a RecipeState,
    pub deploy: &'a DeployState,
    pub endpoints: &'a EndpointsState,
    pub cluster: &'a ClusterState,
    pub(crate) runs: &'a Cell<u64>,
}

impl Ctx<'_> {
    /// A new run id, for a command that starts something cancellable.
    pub fn new_run(&self) -> RunId {
        self.runs.set(self.runs.get() + 1);
        RunId(self.runs.get())
    }

    /// A view's table, its rows and selection.
    pub fn view_state(&self, view: ViewId) -> &ResourceView {
        ResourceView::of(self.views, view)
    }

    /// The id of the row under the cursor in `view`.
    pub fn selected(&self, view: ViewId) -> Option<&str> {
        let state = self.views.iter().find(|v| v.id == view)?;
        Some(state.table.selected()?.id.as_str())
    }
}

/// What a domain asks of the shell, or tells the other domains. Carried out by the shell in the
/// update that returned it; the effects runner never sees one.
#[derive(Debug, Clone, PartialEq)]
pub enum ShellCommand {
    /// A message on the message line (and in `:messages`); with a subject, it replaces the
    /// line's message on the same subject (`App::notify_on`).
    Notify { level: Level, subject: Option<String>, text: String },
    /// A background message that never hides one of the same or a higher level still on screen.
    NotifyBehind { level: Level, text: String },
    /// Into `:messages` only: the screen already shows it in full.
    Remember { level: Level, text: String },
    /// The line's message about this subject goes (its action has since succeeded).
    ClearSubject(String),
    /// Gives the keyboard to an overlay (a form, a dialog, a pager, the logs, a picker).
    Open(Box<Mode>),
    /// The submitted form could not be carried out: it stays open with its values and the
    /// whole cause.
    RefuseForm(String),
    /// Shows a view.
    Show(ViewId),
    /// Sets a view's filter.
    Filter { view: ViewId, text: String },
    /// Rows to rebuild before the update returns (`joins`).
    Invalidate(Stale),
    /// The screen changed in a way no row rebuild covers.
    Redraw,
    /// What the header names as the place new deployments go.
    HeaderBackend(String),
    /// A fact other domains act on, routed by the shell.
    Announce(Notice),
    /// A key a domain's pane leaves to the shell (moving in the table, switching views, help,
    /// the command line): done as in the normal mode.
    Perform(crate::tui::keymap::Action),
}

/// Facts one domain tells the others through the shell (never by writing their state).
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// New deployments go to this backend from now on (`:ctx NAME`).
    BackendChosen(String),
    /// This backend now points elsewhere (another cluster context or namespace): what it
    /// listed before is not the new one's; it takes new deployments.
    BackendReplaced(String),
    /// The backends' deployments changed: the joins follow (the endpoint monitor watches the
    /// replicas, the cache guards the models they serve, every view's rows are rebuilt).
    DeploymentsChanged,
}

/// `Command::Shell(Notify)` without a subject.
pub fn notify(level: Level, text: impl Into<String>) -> Command {
    Command::Shell(ShellCommand::Notify { level, subject: None, text: text.into() })
}

/// `Command::Shell(Notify)` about `subject`.
pub fn notify_on(subject: &str, level: Level, text: impl Into<String>) -> Command {
    Command::Shell(ShellCommand::Notify {
        level,
        subject: Some(subject.to_string()),
        text: text.into(),
    })
}

/// `Command::Shell(Open)`.
pub fn open(mode: Mode) -> Command {
    Command::Shell(ShellCommand::Open(Box::new(mode)))
}

/// `Command::Shell(Invalidate)`.
pub fn invalidate(which: Stale) -> Command {
    Command::Shell(ShellCommand::Invalidate(which))
}

/// `Command::Shell(Redraw)`.
pub fn redraw() -> Command {
    Command::Shell(ShellCommand::Redraw)
}

/// One domain update in progress: the domain's own state (`&mut`), the rest of the console
/// (`&Ctx`), and the shell commands asked for so far, in order. For domains whose update runs
/// through many helpers (deploy, endpoints): the helpers are methods of `Turn<State>` and
/// ask the shell with `self.notify(..)` as they go; `finish` puts the asks before the commands
/// the helpers return, each kind in its own order.
pub struct Turn<'a, S> {
    pub state: &'a mut S,
    pub ctx: &'a Ctx<'a>,
    asked: Vec<Command>,
}

impl<'a, S> Turn<'a, S> {
    pub fn new(state: &'a mut S, ctx: &'a Ctx<'a>) -> Turn<'a, S> {
        Turn { state, ctx, asked: Vec::new() }
    }

    /// The shell commands asked for, then `commands`.
    pub fn finish(self, commands: Vec<Command>) -> Vec<Command> {
        let mut all = self.asked;
        all.extend(commands);
        all
    }

    fn ask(&mut self, command: ShellCommand) {
        self.asked.push(Command::Shell(command));
    }

    pub fn notify(&mut self, level: Level, text: impl Into<String>) {
        self.ask(ShellCommand::Notify { level, subject: None, text: text.into() });
    }

    pub fn notify_on(&mut self, subject: &str, level: Level, text: impl Into<String>) {
        let subject = Some(subject.to_string());
        self.ask(ShellCommand::Notify { level, subject, text: text.into() });
    }

    pub fn notify_behind(&mut self, level: Level, text: impl Into<String>) {
        self.ask(ShellCommand::NotifyBehind { level, text: text.into() });
    }

    pub fn remember(&mut self, level: Level, text: impl Into<String>) {
        self.ask(ShellCommand::Remember { level, text: text.into() });
    }

    pub fn clear_subject(&mut self, subject: &str) {
        self.ask(ShellCommand::ClearSubject(subject.to_string()));
    }

    pub fn open(&mut self, mode: Mode) {
        self.ask(ShellCommand::Open(Box::new(mode)));
    }

    pub fn show(&mut self, view: ViewId) {
        self.ask(ShellCommand::Show(view));
    }

    pub fn invalidate(&mut self, which: Stale) {
        self.ask(ShellCommand::Invalidate(which));
    }

    pub fn redraw(&mut self) {
        self.ask(ShellCommand::Redraw);
    }

    pub fn announce(&mut self, notice: Notice) {
        self.ask(ShellCommand::Announce(notice));
    }

    pub fn perform(&mut self, action: crate::tui::keymap::Action) {
        self.ask(ShellCommand::Perform(action));
    }

    /// A submitted form could not be carried out (`ShellCommand::RefuseForm`).
    pub fn refuse_form(&mut self, cause: String) {
        self.ask(ShellCommand::RefuseForm(cause));
    }
}
