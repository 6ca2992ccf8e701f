//! What a key does in each keyboard mode: normal (views and row actions), the command line,
//! the filter, help, confirm dialogs, forms, pagers and the logs view. Row actions of a domain
//! are handed to its action file (`cache_actions.rs`, `recipe_actions.rs`, `deploy_actions.rs`,
//! `endpoint_flow.rs`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::tui::app::{App, ConfirmPurpose, FormPurpose, Level, Mode, Pager, PickPurpose};
use crate::tui::event::Command;
use crate::tui::features::cache::CacheMsg;
use crate::tui::features::cluster::ClusterMsg;
use crate::tui::features::gpus::GpuMsg;
use crate::tui::features::recipes::RecipeMsg;
use crate::tui::keymap::Action;
use crate::tui::shell::command_line::{self, Typed};
use crate::tui::views::ViewId;
use crate::tui::widgets::Form;
use crate::tui::widgets::confirm::ConfirmOutcome;
use crate::tui::widgets::form::FormOutcome;
use crate::tui::widgets::picker::{PickOutcome, Picker};
use crate::tui::widgets::text_input::TextInput;

impl App {
    pub(crate) fn on_key(&mut self, key: KeyEvent) -> Vec<Command> {
        self.dirty = true;
        // Ctrl-C always quits, whatever has the keyboard.
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.should_quit = true;
            return Vec::new();
        }
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Normal if crate::tui::features::endpoints::captures_keys(self) => {
                crate::tui::features::endpoints::on_key(self, key)
            }
            Mode::Normal => self.on_normal_key(key),
            Mode::Command { mut input, candidates } => match key.code {
                KeyCode::Esc => Vec::new(),
                KeyCode::Enter => self.run_command_line(input.value().to_string()),
                KeyCode::Tab => {
                    let (line, candidates) = command_line::complete_with(
                        input.value(),
                        &self.theme_names,
                        &self.endpoints.removable_names(),
                    );
                    input.set_value(&line);
                    self.mode = Mode::Command { input, candidates };
                    Vec::new()
                }
                _ => {
                    input.handle_key(key);
                    self.mode = Mode::Command { input, candidates };
                    Vec::new()
                }
            },
            Mode::Filter { mut input } => {
                match key.code {
                    KeyCode::Esc => self.current_mut().table.set_filter(""),
                    KeyCode::Enter => {}
                    _ => {
                        input.handle_key(key);
                        self.mode = Mode::Filter { input };
                        self.after_filter_edit();
                    }
                }
                Vec::new()
            }
            Mode::Help { scroll } => {
                self.mode = match self.keymap.action_for(&key) {
                    Some(Action::Back | Action::Help | Action::Quit) => Mode::Normal,
                    Some(Action::Down) => Mode::Help { scroll: scroll.saturating_add(1) },
                    Some(Action::Up) => Mode::Help { scroll: scroll.saturating_sub(1) },
                    Some(Action::PageDown) => Mode::Help { scroll: scroll.saturating_add(10) },
                    Some(Action::PageUp) => Mode::Help { scroll: scroll.saturating_sub(10) },
                    Some(Action::Top) => Mode::Help { scroll: 0 },
                    _ => Mode::Help { scroll },
                };
                Vec::new()
            }
            Mode::Confirm(mut dialog, purpose) => match dialog.handle_key(key) {
                ConfirmOutcome::Pending => {
                    self.mode = Mode::Confirm(dialog, purpose);
                    Vec::new()
                }
                ConfirmOutcome::Cancelled => {
                    self.notify(Level::Info, "cancelled: nothing was changed");
                    Vec::new()
                }
                ConfirmOutcome::Confirmed => self.on_confirmed(purpose),
            },
            Mode::Pager(mut pager) => self.on_pager_key(key, &mut pager).unwrap_or_else(|| {
                self.mode = Mode::Pager(pager);
                Vec::new()
            }),
            Mode::Logs => self.on_logs_key(key),
            Mode::Pick(picker, purpose) => self.on_pick_key(picker, purpose, key),
            Mode::Form(mut form, purpose) => match form.handle_key(key) {
                FormOutcome::Editing => {
                    self.mode = Mode::Form(form, purpose);
                    Vec::new()
                }
                FormOutcome::Cancelled => {
                    self.recipes_update(RecipeMsg::Cancelled);
                    self.notify(Level::Info, "cancelled");
                    Vec::new()
                }
                FormOutcome::Submitted => self.on_form_submitted(form, purpose),
            },
        }
    }

    /// Keys while a picker is open; the choice goes to the domain that asked.
    fn on_pick_key(
        &mut self,
        mut picker: Picker,
        purpose: PickPurpose,
        key: KeyEvent,
    ) -> Vec<Command> {
        match picker.handle_key(key) {
            PickOutcome::Pending => {
                self.mode = Mode::Pick(picker, purpose);
                Vec::new()
            }
            PickOutcome::Cancelled => Vec::new(),
            PickOutcome::Chosen(value) => match purpose {
                PickPurpose::Context => self.cluster_update(ClusterMsg::Context(Some(value))),
                PickPurpose::Namespace => self.cluster_update(ClusterMsg::Namespace(Some(value))),
                PickPurpose::CreateRecipe => self.recipe_picked(value),
            },
        }
    }

    fn on_confirmed(&mut self, purpose: ConfirmPurpose) -> Vec<Command> {
        match purpose {
            ConfirmPurpose::DeleteCache { plan, in_use_checked } => {
                self.cache_update(CacheMsg::DeleteConfirmed { plan, in_use_checked })
            }
            ConfirmPurpose::DeleteDeployment { backend, name } => {
                self.delete_deployment(backend, name)
            }
            ConfirmPurpose::ScaleToZero { backend, name } => {
                self.scale_to_zero_confirmed(backend, name)
            }
        }
    }

    /// Keys in a pager. `Some` when the pager closed (with the commands to run).
    fn on_pager_key(&mut self, key: KeyEvent, pager: &mut Pager) -> Option<Vec<Command>> {
        match (key.code, self.keymap.action_for(&key)) {
            (KeyCode::Esc, _) | (_, Some(Action::Quit)) => Some(Vec::new()),
            // `y` or Enter in the create review creates; elsewhere Enter closes the pager.
            (KeyCode::Char('y'), _) if pager.create.is_some() => {
                pager.create.take().map(|(backend, spec)| self.create_reviewed(backend, spec))
            }
            (KeyCode::Enter, _) => match pager.create.take() {
                Some((backend, spec)) => Some(self.create_reviewed(backend, spec)),
                None => Some(Vec::new()),
            },
            (_, Some(Action::Down)) => {
                pager.pane.scroll_by(1);
                None
            }
            (_, Some(Action::Up)) => {
                pager.pane.scroll_by(-1);
                None
            }
            (_, Some(Action::PageDown)) => {
                pager.pane.scroll_by(10);
                None
            }
            (_, Some(Action::PageUp)) => {
                pager.pane.scroll_by(-10);
                None
            }
            (_, Some(Action::Top)) => {
                pager.pane.scroll_to_top();
                None
            }
            (_, Some(Action::Bottom)) => {
                pager.pane.scroll_to_bottom();
                None
            }
            _ => None,
        }
    }

    /// Keys in the logs view: scroll, `G` follows, `/` searches, `n`/`N` jump, `w` wraps.
    fn on_logs_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let action = self.keymap.action_for(&key);
        let Some(logs) = self.deploy.logs.as_mut() else { return Vec::new() };
        if let Some(query) = logs.searching.as_mut() {
            match key.code {
                KeyCode::Enter => {
                    let query = logs.searching.take().unwrap_or_default();
                    logs.pane.set_search(Some(query));
                }
                KeyCode::Esc => logs.searching = None,
                KeyCode::Backspace => {
                    query.pop();
                }
                KeyCode::Char(c) => query.push(c),
                _ => {}
            }
        } else {
            match (key.code, action) {
                (KeyCode::Esc, _) | (_, Some(Action::Quit)) => {
                    let run = logs.run;
                    self.deploy.logs = None;
                    self.mode = Mode::Normal;
                    return vec![Command::Cancel(run)];
                }
                (KeyCode::Char('/'), _) => logs.searching = Some(String::new()),
                (KeyCode::Char('n'), _) => {
                    logs.pane.find_next(true);
                }
                (KeyCode::Char('N'), _) => {
                    logs.pane.find_next(false);
                }
                (KeyCode::Char('w'), _) => logs.pane.wrap = !logs.pane.wrap,
                (_, Some(Action::Down)) => logs.pane.scroll_by(1),
                (_, Some(Action::Up)) => logs.pane.scroll_by(-1),
                (_, Some(Action::PageDown)) => logs.pane.scroll_by(20),
                (_, Some(Action::PageUp)) => logs.pane.scroll_by(-20),
                (_, Some(Action::Top)) => logs.pane.scroll_to_top(),
                (_, Some(Action::Bottom)) => logs.pane.scroll_to_bottom(),
                _ => {}
            }
        }
        self.mode = Mode::Logs;
        Vec::new()
    }

    /// A submit that cannot be carried out keeps the form open with its values and the whole
    /// cause (the message line would cut it); the history keeps it too.
    pub(crate) fn on_form_submitted(
        &mut self,
        mut form: Form,
        purpose: FormPurpose,
    ) -> Vec<Command> {
        if purpose == FormPurpose::Create && self.create_waits_for_recipes() {
            self.mode = Mode::Form(form, purpose);
            return Vec::new();
        }
        let result = match purpose.clone() {
            FormPurpose::Create => self.create_submitted(&form),
            FormPurpose::Scale { backend, name } => {
                let value = form.value("replicas").unwrap_or_default();
                self.scale_submitted(backend, name, &value)
            }
            FormPurpose::Pull => Ok(self.cache_update(CacheMsg::PullSubmitted(form.clone()))),
            FormPurpose::EditRecipe { id } => {
                Ok(self.recipes_update(RecipeMsg::Submitted { form: form.clone(), id }))
            }
        };
        result.unwrap_or_else(|cause| {
            self.remember(Level::Error, cause.clone());
            form.fail(cause);
            self.mode = Mode::Form(form, purpose);
            Vec::new()
        })
    }

    pub(crate) fn after_filter_edit(&mut self) {
        if let Mode::Filter { input } = &self.mode {
            let filter = input.value().to_string();
            self.current_mut().table.set_filter(&filter);
        }
    }

    fn on_normal_key(&mut self, key: KeyEvent) -> Vec<Command> {
        match self.keymap.action_for(&key) {
            Some(action) => self.on_normal_action(action),
            None => Vec::new(),
        }
    }

    /// What an action does in the normal mode (also for keys a domain's pane leaves to the
    /// shell: `ShellCommand::Perform`).
    pub(crate) fn on_normal_action(&mut self, action: Action) -> Vec<Command> {
        self.dirty = true;
        match action {
            Action::Quit => self.should_quit = true,
            Action::Help => self.mode = Mode::Help { scroll: 0 },
            Action::Back => {
                if !self.current().table.filter().is_empty() {
                    self.current_mut().table.set_filter("");
                } else if !self.dismiss_selected_failure() {
                    self.message = None;
                }
            }
            Action::CommandMode => {
                self.mode = Mode::Command { input: TextInput::default(), candidates: Vec::new() };
            }
            Action::NextView => self.view = self.view.next(),
            Action::PrevView => self.view = self.view.prev(),
            Action::ViewGpus => self.view = ViewId::Gpus,
            Action::ViewCache => self.view = ViewId::Cache,
            Action::ViewRecipes => self.view = ViewId::Recipes,
            Action::ViewEndpoints => self.view = ViewId::Endpoints,
            Action::Refresh => return self.refresh_view(),
            Action::AllowDegraded | Action::Partitions => {
                return self.gpus_update(GpuMsg::TogglePlacement(action));
            }
            Action::Filter => {
                let current = self.current().table.filter().to_string();
                self.mode = Mode::Filter { input: TextInput::new(&current) };
            }
            Action::Up => self.current_mut().table.move_by(-1),
            Action::Down => self.current_mut().table.move_by(1),
            Action::PageUp => self.current_mut().table.page_by(-1),
            Action::PageDown => self.current_mut().table.page_by(1),
            Action::Top => self.current_mut().table.select_first(),
            Action::Bottom => self.current_mut().table.select_last(),
            Action::SortNext => self.current_mut().table.sort_next(),
            Action::SortReverse => self.current_mut().table.sort_reverse(),
            other => return self.on_row_action(other),
        }
        Vec::new()
    }

    /// Open and the row actions: refused in read-only mode when they change anything, and
    /// explained when the view has no such action.
    fn on_row_action(&mut self, action: Action) -> Vec<Command> {
        if self.readonly && action.changes_something() {
            let refusal = self.keymap.refusal(action);
            self.notify(Level::Warning, refusal);
            return Vec::new();
        }
        if !self.current().actions.contains(&action) {
            let described = self.keymap.describe(action);
            self.notify(Level::Info, format!("{described}: not in the {} view", self.view));
            return Vec::new();
        }
        if let Some(commands) = self.deploy_action(action) {
            return commands;
        }
        match action {
            Action::Open | Action::Prompt | Action::Bench if self.view == ViewId::Endpoints => {
                return crate::tui::features::endpoints::on_row_action(self, action);
            }
            Action::Topology => return self.gpus_update(GpuMsg::ToggleTopology),
            Action::Pull => return self.cache_update(CacheMsg::OpenPullForm),
            Action::Cancel if self.view == ViewId::Endpoints => {
                return crate::tui::features::endpoints::bench_runs::stop(self);
            }
            Action::Cancel => return self.cache_update(CacheMsg::CancelPull),
            Action::Delete if self.view == ViewId::Cache => {
                return self.cache_update(CacheMsg::AskDelete);
            }
            Action::RecipesFor => return self.cache_update(CacheMsg::RecipesFor),
            Action::Edit if self.view == ViewId::Recipes => {
                return self.recipes_update(RecipeMsg::Edit);
            }
            _ => {}
        }
        Vec::new()
    }

    /// `ctrl-r`: reread the current view's source.
    fn refresh_view(&mut self) -> Vec<Command> {
        match self.view {
            ViewId::Cache => {
                self.notify(Level::Info, format!("rescanning {}", self.cache.root.display()));
                self.cache_update(CacheMsg::Scan)
            }
            ViewId::Recipes => self.recipes_update(RecipeMsg::Reload),
            view => {
                self.notify(Level::Info, format!("{view}: refreshes itself"));
                Vec::new()
            }
        }
    }

    fn run_command_line(&mut self, line: String) -> Vec<Command> {
        let typed = command_line::parse(&line);
        if typed.is_ok() {
            // The last mistyped command's error goes once a command parses.
            self.clear_subject("command");
        }
        match typed {
            Ok(Typed::View(view)) => self.view = view,
            Ok(Typed::Help) => self.mode = Mode::Help { scroll: 0 },
            Ok(Typed::Journal) => {
                return vec![Command::Deploy(
                    crate::tui::features::deploy::DeployCommand::ReadJournal,
                )];
            }
            Ok(Typed::Messages) => {
                let mut pane = crate::tui::widgets::LogPane::new(crate::tui::messages::HISTORY);
                pane.wrap = true;
                for line in self.messages_text() {
                    pane.push(line);
                }
                pane.scroll_to_bottom();
                let title = format!("Messages ({})", self.history.len());
                self.mode = Mode::Pager(Box::new(Pager { title, pane, create: None }));
            }
            Ok(Typed::Context(name)) => {
                return self.cluster_update(ClusterMsg::Context(name));
            }
            Ok(Typed::Namespace(name)) => {
                return self.cluster_update(ClusterMsg::Namespace(name));
            }
            Ok(Typed::Quit) => self.should_quit = true,
            Ok(Typed::Theme(None)) => {
                let names = self.theme_names.join(", ");
                self.notify(
                    Level::Info,
                    format!("theme: {} (available: {names})", self.theme.name),
                );
            }
            Ok(Typed::Theme(Some(name))) => return vec![Command::LoadTheme(name)],
            Ok(Typed::Endpoints(typed)) => {
                return crate::tui::features::endpoints::on_typed(self, typed);
            }
            Err(err) => self.notify_on("command", Level::Error, err),
        }
        Vec::new()
    }
}
