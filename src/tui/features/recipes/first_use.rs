//! The recipe library is read the first time something needs it (the Recipes view, the create
//! form), not as the console starts: reading 70 YAML files touches about 1 MB of the YAML
//! reader's code, resident from then on, which a console that only watches endpoints never
//! needs (docs/performance.md, "Idle memory"). A create submitted while the library is still
//! being read waits for it with its form open, then goes on as if just submitted (the shell's
//! `shell::forms`). The read itself is `RecipeMsg::FirstUse`.

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
