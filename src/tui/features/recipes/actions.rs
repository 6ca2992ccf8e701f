//! The console's recipe actions (the editor) and how a loaded or saved library changes its
//! state. Kept apart from `app.rs` like `deploy_actions.rs`.

use std::sync::Arc;

use crate::recipes::load::Library;
use crate::tui::app::{App, FormPurpose, Level, Mode};
use crate::tui::event::Command;
use crate::tui::features::recipes as recipe_view;
use crate::tui::views::ViewId;
use crate::tui::widgets::Form;

impl App {
    pub(crate) fn on_recipes_loaded(&mut self, library: Arc<Library>) {
        for problem in library.problems.iter().take(3) {
            self.notify(Level::Warning, format!("recipes: {problem}"));
        }
        self.recipes.library = Some(library);
        self.recipes.read = recipe_view::LibraryRead::Read;
        self.recompute_best_recipes();
        self.invalidate(crate::tui::joins::Stale::All);
    }

    /// The read failed: the Recipes view says why (Ctrl-R reads again).
    pub(crate) fn on_recipes_failed(&mut self, err: String) {
        self.notify(Level::Error, format!("recipes: {err}"));
        self.recipes.read = recipe_view::LibraryRead::Failed(err);
        self.invalidate(crate::tui::joins::Stale::All);
    }

    pub(crate) fn on_recipe_saved(&mut self, id: &str, result: Result<std::path::PathBuf, String>) {
        self.recipes.editing = None;
        match result {
            Ok(path) => {
                self.notify(Level::Info, format!("recipe {id} saved to {}", path.display()))
            }
            Err(err) => self.notify(Level::Error, format!("recipe {id} not saved: {err}")),
        }
    }

    pub(crate) fn recompute_best_recipes(&mut self) {
        self.recipes.best = match (&self.recipes.library, &self.recipes.hardware) {
            (Some(library), Some(hardware)) => recipe_view::best_ids(library, hardware),
            _ => Default::default(),
        };
    }

    /// The recipe under the cursor in the Recipes view.
    pub fn selected_recipe(&self) -> Option<&crate::recipes::load::LoadedRecipe> {
        let id = &self.view_state(ViewId::Recipes).table.selected()?.id;
        self.recipes.library.as_ref()?.get(id)
    }

    /// `e`: the selected recipe's YAML in the editor form.
    pub(crate) fn edit_selected_recipe(&mut self) {
        match self.selected_recipe() {
            Some(loaded) => {
                let form = recipe_view::editor(loaded);
                let id = loaded.recipe.id.clone();
                self.recipes.editing = Some(id.clone());
                self.mode = Mode::Form(form, FormPurpose::EditRecipe { id });
            }
            None => self.notify(Level::Info, "edit: select a recipe first"),
        }
    }

    pub(crate) fn recipe_submitted(&mut self, form: &Form, id: String) -> Vec<Command> {
        let yaml = form.value("yaml").unwrap_or_default();
        // Save under the id written in the YAML: renaming a recipe makes a new one.
        let id = crate::recipes::load::load_text("editor", &yaml).map(|r| r.id).unwrap_or(id);
        self.notify(Level::Info, format!("saving recipe {id}…"));
        vec![Command::SaveRecipe { id, yaml }]
    }
}
