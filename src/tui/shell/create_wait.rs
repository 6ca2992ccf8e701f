//! A create submitted while the recipe library is still being read (it is read on first use:
//! `features/recipes/first_use.rs`) waits with its form open, then goes on by itself as if just
//! submitted. The wait joins two domains (the deploy domain's form, the recipes domain's read),
//! so the shell keeps it.

use crate::tui::app::App;
use crate::tui::event::Command;
use crate::tui::messages::Level;
use crate::tui::mode::{FormPurpose, Mode};

impl App {
    /// Whether a create submitted now must wait for the library (its recipe picker and the
    /// resolution read it); the form stays open and says so.
    pub(crate) fn create_waits_for_recipes(&mut self) -> bool {
        if !self.recipes.create_must_wait() {
            return false;
        }
        self.create_waiting = true;
        self.notify(
            Level::Info,
            "create: reading the recipe library; the create goes on when it is read",
        );
        true
    }

    /// The library's read ended (read or failed): a create that waited for it goes on.
    pub(crate) fn resume_pending_create(&mut self) -> Vec<Command> {
        if !std::mem::take(&mut self.create_waiting) {
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
