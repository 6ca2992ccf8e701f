//! How the shell hands an update to a domain and carries out what the domain asked of it: the
//! domain's state is lent to its `update` by `&mut`, everything else by `&Ctx`; the
//! `Command::Shell` it returns are done here, in order, and the rest go to the effects runner.

use crate::tui::app::App;
use crate::tui::ctx::{Ctx, Notice, ShellCommand};
use crate::tui::event::Command;
use crate::tui::messages::Level;

impl App {
    /// What the domains may read: every state but the one being updated (taken out of `App`
    /// for the call, so its slot is the empty stand-in).
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx {
            now: self.now,
            readonly: self.readonly,
            view: self.view,
            mode: &self.mode,
            keymap: &self.keymap,
            theme: &self.theme,
            views: &self.views,
            gpus: &self.gpus,
            cache: &self.cache,
            recipes: &self.recipes,
            deploy: &self.deploy,
            endpoints: &self.endpoints,
            cluster: &self.cluster,
            runs: &self.runs,
        }
    }

    /// Runs one domain's `update` on its own state (`slot`) and carries out its shell
    /// commands; returns the commands for the effects runner.
    pub(crate) fn dispatch<S: Default>(
        &mut self,
        slot: fn(&mut App) -> &mut S,
        update: impl FnOnce(&mut S, &Ctx) -> Vec<Command>,
    ) -> Vec<Command> {
        let commands = self.lend(slot, update);
        self.apply(commands)
    }

    /// Runs one domain's `update` on its own state; returns all it asked, shell commands
    /// included, for a caller that looks at some itself first (a submitted form's refusal).
    pub(crate) fn lend<S: Default>(
        &mut self,
        slot: fn(&mut App) -> &mut S,
        update: impl FnOnce(&mut S, &Ctx) -> Vec<Command>,
    ) -> Vec<Command> {
        let mut state = std::mem::take(slot(self));
        let commands = update(&mut state, &self.ctx());
        *slot(self) = state;
        commands
    }

    /// Carries out the shell commands among `commands`, in order; returns the others.
    pub(crate) fn apply(&mut self, commands: Vec<Command>) -> Vec<Command> {
        let mut effects = Vec::new();
        for command in commands {
            match command {
                Command::Shell(shell) => effects.extend(self.apply_shell(shell)),
                other => effects.push(other),
            }
        }
        effects
    }

    fn apply_shell(&mut self, command: ShellCommand) -> Vec<Command> {
        match command {
            ShellCommand::Notify { level, subject: None, text } => self.notify(level, text),
            ShellCommand::Notify { level, subject: Some(subject), text } => {
                self.notify_on(&subject, level, text)
            }
            ShellCommand::NotifyBehind { level, text } => self.notify_behind(level, text),
            ShellCommand::Remember { level, text } => self.remember(level, text),
            ShellCommand::ClearSubject(subject) => self.clear_subject(&subject),
            ShellCommand::Open(mode) => {
                self.mode = *mode;
                self.mark_dirty();
            }
            // Outside a submit (where `on_form_submitted` takes it first) there is no form to
            // keep open: the cause goes on the message line.
            ShellCommand::RefuseForm(cause) => self.notify(Level::Error, cause),
            ShellCommand::Show(view) => {
                self.view = view;
                self.mark_dirty();
            }
            ShellCommand::Filter { view, text } => {
                self.view_state_mut(view).table.set_filter(&text)
            }
            ShellCommand::Invalidate(which) => self.invalidate(which),
            ShellCommand::Redraw => self.mark_dirty(),
            ShellCommand::HeaderBackend(backend) => {
                self.header.backend = backend;
                self.mark_dirty();
            }
            ShellCommand::Announce(notice) => return self.announce(notice),
            ShellCommand::Perform(action) => return self.on_normal_action(action),
        }
        Vec::new()
    }

    /// Routes a domain's notice to the domains that act on it.
    fn announce(&mut self, notice: Notice) -> Vec<Command> {
        match notice {
            Notice::DeploymentsChanged => {
                let commands = crate::tui::joins::watch_replicas(self);
                crate::tui::joins::deployments_changed(self);
                commands
            }
            notice => {
                self.dispatch(|app| &mut app.deploy, |deploy, ctx| deploy.on_notice(notice, ctx))
            }
        }
    }
}
