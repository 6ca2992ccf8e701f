//! The recipe library is read the first time something needs it (the Recipes view, the create
//! form), not as the console starts: reading 70 YAML files touches about 1 MB of the YAML
//! reader's code, resident from then on, which a console that only watches endpoints never
//! needs (docs/performance.md, "Idle memory"). A create submitted while the library is still
//! being read waits for it with its form open, then goes on as if just submitted.

use crate::tui::app::{App, FormPurpose, Level, Mode};
use crate::tui::event::Command;
use crate::tui::views::ViewId;

/// Where the library's read stands. `RecipeState::library` holds it once read.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum LibraryRead {
    /// Nothing has needed it yet.
    #[default]
    NotAsked,
    /// `Command::LoadRecipes` is out; its event has not come back.
    Reading,
    /// The last read failed with this cause (Ctrl-R in the Recipes view reads it again).
    Failed(String),
    Read,
}

impl App {
    /// Called after every event: the library's first read, once something on screen needs it.
    pub(crate) fn recipes_on_first_use(&mut self) -> Vec<Command> {
        let needed = self.view == ViewId::Recipes
            || matches!(
                self.mode,
                Mode::Form(_, FormPurpose::Create | FormPurpose::EditRecipe { .. })
            );
        if !needed || self.recipes.read != LibraryRead::NotAsked {
            return Vec::new();
        }
        self.recipes.read = LibraryRead::Reading;
        vec![Command::LoadRecipes]
    }

    /// Whether a create submitted now must wait for the library (its recipe picker and the
    /// resolution read it); the form stays open and says so.
    pub(crate) fn create_waits_for_recipes(&mut self) -> bool {
        if self.recipes.library.is_some() || self.recipes.read != LibraryRead::Reading {
            return false;
        }
        self.recipes.pending_create = true;
        self.notify(
            Level::Info,
            "create: reading the recipe library; the create goes on when it is read",
        );
        true
    }

    /// The library's read ended (read or failed): a create that waited for it goes on.
    pub(crate) fn resume_pending_create(&mut self) -> Vec<Command> {
        if !std::mem::take(&mut self.recipes.pending_create) {
            return Vec::new();
        }
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Form(form, FormPurpose::Create) => {
                self.on_form_submitted(form, FormPurpose::Create)
            }
            // The operator left the form meanwhile: nothing to go on with.
            other => {
                self.mode = other;
                Vec::new()
            }
        }
    }
}
