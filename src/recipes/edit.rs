//! Support for the recipe editor: live validation of the text being typed, and saving a valid
//! recipe to the user recipe directory. A recipe with problems is never written.

use std::path::{Path, PathBuf};

use super::load::load_text;
use super::problem::Problem;

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("the recipe has {} problem(s); first: {}", .0.len(), .0.first().map(|p| p.to_string()).unwrap_or_default())]
    Invalid(Vec<Problem>),
    #[error("{path}: cannot write: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// Every problem in `text`, located by line and column; empty when the recipe is valid.
/// `file` is the name problems carry (the path it will be saved to, or `<editor>`).
pub fn check_text(file: &str, text: &str) -> Vec<Problem> {
    load_text(file, text).err().unwrap_or_default()
}

/// Validates `text` and writes it to `dir/ID.yaml` (creating `dir`), replacing a file of that
/// name. Written to a temporary file first and renamed, so a crash leaves the old file whole.
pub fn save_user_recipe(dir: &Path, text: &str) -> Result<PathBuf, SaveError> {
    let recipe = load_text("<editor>", text).map_err(SaveError::Invalid)?;
    let path = dir.join(format!("{}.yaml", recipe.id));
    let write = |target: &Path| -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let temporary = dir.join(format!(".{}.yaml.tmp", recipe.id));
        std::fs::write(&temporary, text)?;
        std::fs::rename(&temporary, target)
    };
    write(&path).map_err(|source| SaveError::Write { path: path.clone(), source })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipes::builtin::BUILTIN;

    #[test]
    fn valid_text_saves_under_its_id_and_invalid_text_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (_, text) = BUILTIN.iter().find(|(name, _)| name.starts_with("mistral-7b")).unwrap();
        let path = save_user_recipe(dir.path(), text).unwrap();
        assert!(path.file_name().unwrap().to_str().unwrap().starts_with("mistral-7b"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), *text);

        let broken = text.replace("gpu_count: 1", "gpu_count: 3");
        let problems = check_text("<editor>", &broken);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].field, "gpu_count");
        let other = tempfile::tempdir().unwrap();
        assert!(matches!(save_user_recipe(other.path(), &broken), Err(SaveError::Invalid(_))));
        assert_eq!(std::fs::read_dir(other.path()).unwrap().count(), 0);
    }
}
