//! Recipes: how to serve one model on one kind of GPU. The built-in library and user
//! directories (`load`), validation with file:line:column (`parse`, `validate`), the GPU catalog
//! (`gpus`), the memory-fit estimate (`fit`), selection for the hardware at hand (`select`,
//! `derive`), AIM profile import (`import`) and the bridge to deployments (`to_spec`).
//! `docs/recipes.md` explains every field of the schema.

pub mod builtin;
pub mod derive;
pub mod detail;
pub mod edit;
pub mod engine_check;
pub mod fit;
pub mod gpus;
pub mod hf_config;
pub mod import;
pub mod load;
pub mod parse;
pub mod problem;
pub mod select;
pub mod to_spec;
pub mod validate;

pub use detail::{FitBars, RecipeDetail, RecipeFilter, RecipeRow, detail, rows};
pub use fit::{FitInput, FitReport, estimate};
pub use gpus::{GpuModel, normalize};
pub use load::{Library, LoadedRecipe, Origin, RecipeDir, load_builtin, load_library};
pub use problem::Problem;
pub use select::{Candidate, Hardware, SelectQuery, Selection, select};
pub use to_spec::to_deployment_spec;
