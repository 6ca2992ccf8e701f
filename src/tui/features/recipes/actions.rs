//! The recipes domain's `update`: the library's reads (first use, Ctrl-R, loaded, failed), the
//! hardware the best recipes are chosen for, and the editor (open, submit, saved, cancelled).

use std::sync::Arc;

use crate::recipes::load::{Library, LoadedRecipe};
use crate::tui::ctx::{Ctx, invalidate, notify, open};
use crate::tui::event::Command;
use crate::tui::features::recipes::{self as recipe_view, LibraryRead, RecipeState};
use crate::tui::joins::Stale;
use crate::tui::messages::Level;
use crate::tui::mode::{FormPurpose, Mode};
use crate::tui::views::ViewId;
use crate::tui::widgets::Form;

/// What the recipes domain is told.
#[derive(Debug)]
pub enum RecipeMsg {
    /// After every event: the library's first read, once something on screen needs it.
    FirstUse,
    /// Ctrl-R in the Recipes view.
    Reload,
    Loaded(Arc<Library>),
    /// The read failed (its loader panicked): the view says why.
    Failed(String),
    /// This machine's GPUs as the selector sees them changed.
    Hardware(Option<crate::recipes::select::Hardware>),
    /// `e`: the selected recipe in the editor.
    Edit,
    /// The editor was submitted for the recipe `id`.
    Submitted {
        form: Form,
        id: String,
    },
    /// The editor was left without saving.
    Cancelled,
    Saved {
        id: String,
        result: Result<std::path::PathBuf, String>,
    },
}

pub fn update(state: &mut RecipeState, msg: RecipeMsg, ctx: &Ctx) -> Vec<Command> {
    match msg {
        RecipeMsg::FirstUse => first_use(state, ctx),
        RecipeMsg::Reload => {
            state.read = LibraryRead::Reading;
            vec![Command::LoadRecipes]
        }
        RecipeMsg::Loaded(library) => {
            let mut commands: Vec<Command> = library
                .problems
                .iter()
                .take(3)
                .map(|problem| notify(Level::Warning, format!("recipes: {problem}")))
                .collect();
            state.library = Some(library);
            state.read = LibraryRead::Read;
            recompute_best(state);
            commands.push(invalidate(Stale::All));
            commands
        }
        RecipeMsg::Failed(err) => {
            let commands = vec![notify(Level::Error, format!("recipes: {err}"))];
            state.read = LibraryRead::Failed(err);
            [commands, vec![invalidate(Stale::All)]].concat()
        }
        RecipeMsg::Hardware(hardware) => {
            if hardware != state.hardware {
                state.hardware = hardware;
                recompute_best(state);
            }
            Vec::new()
        }
        RecipeMsg::Edit => match state.selected(ctx) {
            Some(loaded) => {
                let form = recipe_view::editor(loaded);
                let id = loaded.recipe.id.clone();
                state.editing = Some(id.clone());
                vec![open(Mode::Form(form, FormPurpose::EditRecipe { id }))]
            }
            None => vec![notify(Level::Info, "edit: select a recipe first")],
        },
        RecipeMsg::Submitted { form, id } => {
            let yaml = form.value("yaml").unwrap_or_default();
            // Save under the id written in the YAML: renaming a recipe makes a new one.
            let id = crate::recipes::load::load_text("editor", &yaml).map(|r| r.id).unwrap_or(id);
            vec![
                notify(Level::Info, format!("saving recipe {id}…")),
                Command::SaveRecipe { id, yaml },
            ]
        }
        RecipeMsg::Cancelled => {
            state.editing = None;
            Vec::new()
        }
        RecipeMsg::Saved { id, result } => {
            state.editing = None;
            vec![match result {
                Ok(path) => notify(Level::Info, format!("recipe {id} saved to {}", path.display())),
                Err(err) => notify(Level::Error, format!("recipe {id} not saved: {err}")),
            }]
        }
    }
}

/// The library is read the first time the Recipes view or a form that needs it is open.
fn first_use(state: &mut RecipeState, ctx: &Ctx) -> Vec<Command> {
    let needed = ctx.view == ViewId::Recipes
        || matches!(ctx.mode, Mode::Form(_, FormPurpose::Create | FormPurpose::EditRecipe { .. }));
    if !needed || state.read != LibraryRead::NotAsked {
        return Vec::new();
    }
    state.read = LibraryRead::Reading;
    vec![Command::LoadRecipes]
}

fn recompute_best(state: &mut RecipeState) {
    state.best = match (&state.library, &state.hardware) {
        (Some(library), Some(hardware)) => recipe_view::best_ids(library, hardware),
        _ => Default::default(),
    };
}

impl RecipeState {
    /// The recipe under the cursor in the Recipes view.
    pub fn selected(&self, ctx: &Ctx) -> Option<&LoadedRecipe> {
        self.library.as_ref()?.get(ctx.selected(ViewId::Recipes)?)
    }

    /// Whether a create submitted now must wait for the library (its recipe picker and the
    /// resolution read it): it is being read and not there yet.
    pub fn create_must_wait(&self) -> bool {
        self.library.is_none() && self.read == LibraryRead::Reading
    }
}
