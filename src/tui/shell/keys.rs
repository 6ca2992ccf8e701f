//! What a key does in each keyboard mode: normal (views and row actions), the command line,
//! the filter, help, confirm dialogs, forms, pagers and the logs view. A row action, a confirmed
//! dialog or a submitted form goes to its domain as that domain's `Msg` (`App::NAME_update`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::tui::app::App;
use crate::tui::ctx::ShellCommand;
use crate::tui::event::Command;
use crate::tui::features::cache::{self, CacheMsg};
use crate::tui::features::cluster::ClusterMsg;
use crate::tui::features::deploy::{self, DeployMsg};
use crate::tui::features::endpoints::EndpointMsg;
use crate::tui::features::gpus::GpuMsg;
use crate::tui::features::recipes::{self, RecipeMsg};
use crate::tui::keymap::Action;
use crate::tui::messages::Level;
use crate::tui::mode::{ConfirmPurpose, FormPurpose, Mode, Pager, PickPurpose};
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
            Mode::Normal
                if crate::tui::features::endpoints::captures_keys(&self.endpoints, self.view) =>
            {
                self.endpoints_update(EndpointMsg::Key(key))
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
            Mode::Logs => self.deploy_update(DeployMsg::LogsKey(key)),
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
                PickPurpose::CreateRecipe => self.deploy_update(DeployMsg::RecipePicked(value)),
            },
        }
    }

    fn on_confirmed(&mut self, purpose: ConfirmPurpose) -> Vec<Command> {
        match purpose {
            ConfirmPurpose::DeleteCache { plan, in_use_checked } => {
                self.cache_update(CacheMsg::DeleteConfirmed { plan, in_use_checked })
            }
            ConfirmPurpose::DeleteDeployment { backend, name } => {
                self.deploy_update(DeployMsg::DeleteConfirmed { backend, name })
            }
            ConfirmPurpose::ScaleToZero { backend, name } => {
                self.deploy_update(DeployMsg::ScaleToZeroConfirmed { backend, name })
            }
        }
    }

    /// Keys in a pager. `Some` when the pager closed (with the commands to run).
    fn on_pager_key(&mut self, key: KeyEvent, pager: &mut Pager) -> Option<Vec<Command>> {
        match (key.code, self.keymap.action_for(&key)) {
            (KeyCode::Esc, _) | (_, Some(Action::Quit)) => Some(Vec::new()),
            // `y` or Enter in the create review creates; elsewhere Enter closes the pager.
            (KeyCode::Char('y'), _) if pager.create.is_some() => pager
                .create
                .take()
                .map(|(backend, spec)| self.deploy_update(DeployMsg::Reviewed { backend, spec })),
            (KeyCode::Enter, _) => match pager.create.take() {
                Some((backend, spec)) => {
                    Some(self.deploy_update(DeployMsg::Reviewed { backend, spec }))
                }
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
        let submitted = form.clone();
        let commands = match purpose.clone() {
            FormPurpose::Create => {
                let msg = DeployMsg::CreateSubmitted(submitted);
                self.lend(|app| &mut app.deploy, |state, ctx| deploy::update(state, msg, ctx))
            }
            FormPurpose::Scale { backend, name } => {
                let value = form.value("replicas").unwrap_or_default();
                let msg = DeployMsg::ScaleSubmitted { backend, name, value };
                self.lend(|app| &mut app.deploy, |state, ctx| deploy::update(state, msg, ctx))
            }
            FormPurpose::Pull => {
                let msg = CacheMsg::PullSubmitted(submitted);
                self.lend(|app| &mut app.cache, |state, ctx| cache::update(state, msg, ctx))
            }
            FormPurpose::EditRecipe { id } => {
                let msg = RecipeMsg::Submitted { form: submitted, id };
                self.lend(|app| &mut app.recipes, |state, ctx| recipes::update(state, msg, ctx))
            }
        };
        // A refused submit: the cause into the history and the form, which stays open.
        let (refusals, commands): (Vec<_>, Vec<_>) = commands
            .into_iter()
            .partition(|c| matches!(c, Command::Shell(ShellCommand::RefuseForm(_))));
        let commands = self.apply(commands);
        if let Some(Command::Shell(ShellCommand::RefuseForm(cause))) = refusals.into_iter().last() {
            self.remember(Level::Error, cause.clone());
            form.fail(cause);
            self.mode = Mode::Form(form, purpose);
        }
        commands
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
                } else if let Some(name) = deploy::selected_failure(&self.deploy, &self.ctx()) {
                    return self.deploy_update(DeployMsg::DismissFailure(name));
                } else {
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
        if deploy::is_deploy_action(action, self.view) {
            return self.deploy_update(DeployMsg::RowAction(action));
        }
        match action {
            Action::Open | Action::Prompt | Action::Bench if self.view == ViewId::Endpoints => {
                return self.endpoints_update(EndpointMsg::RowAction(action));
            }
            Action::Topology => return self.gpus_update(GpuMsg::ToggleTopology),
            Action::Pull => return self.cache_update(CacheMsg::OpenPullForm),
            Action::Cancel if self.view == ViewId::Endpoints => {
                return self.endpoints_update(EndpointMsg::StopBench);
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
                return self.endpoints_update(EndpointMsg::Typed(typed));
            }
            Err(err) => self.notify_on("command", Level::Error, err),
        }
        Vec::new()
    }
}
