//! `aimdeck recipes validate [PATH...]`: the library (or the files and folders given) checked,
//! each problem with its file, line and field.

use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use super::{GlobalArgs, ValidateArgs, library, print_json};
use crate::recipes::Problem;
use crate::recipes::load::{load_file, recipe_files};

/// `recipes validate --json`.
#[derive(Debug, Serialize)]
struct ValidateOutput {
    files: usize,
    recipes: usize,
    problems: Vec<Problem>,
}

pub(super) fn run_validate(
    args: ValidateArgs,
    global: &GlobalArgs,
    dirs: &[PathBuf],
) -> color_eyre::Result<ExitCode> {
    let output = if args.paths.is_empty() {
        let (library, _) = library(global, dirs)?;
        let files = library.recipes.len()
            + library
                .problems
                .iter()
                .map(|p| &p.file)
                .collect::<std::collections::BTreeSet<_>>()
                .len();
        ValidateOutput { files, recipes: library.recipes.len(), problems: library.problems }
    } else {
        validate_paths(&args.paths)
    };
    if args.json {
        print_json(&output)?;
    } else {
        for problem in &output.problems {
            println!("{problem}");
        }
        println!(
            "{} file{} checked, {} recipe{} valid, {} problem{}",
            output.files,
            if output.files == 1 { "" } else { "s" },
            output.recipes,
            if output.recipes == 1 { "" } else { "s" },
            output.problems.len(),
            if output.problems.len() == 1 { "" } else { "s" }
        );
    }
    Ok(if output.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn validate_paths(paths: &[PathBuf]) -> ValidateOutput {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        if path.is_dir() {
            match recipe_files(path) {
                Ok(found) => files.extend(found),
                Err(err) => problems.push(Problem::new(
                    &path.display().to_string(),
                    0,
                    0,
                    "",
                    format!("cannot read directory: {err}"),
                )),
            }
        } else {
            files.push(path.clone());
        }
    }
    let mut seen: std::collections::BTreeMap<String, String> = Default::default();
    let mut recipes = 0;
    for file in &files {
        match load_file(file) {
            Ok(recipe) => {
                let name = file.display().to_string();
                if let Some(first) = seen.get(&recipe.id) {
                    problems.push(Problem::new(
                        &name,
                        1,
                        1,
                        "id",
                        format!("duplicate id `{}`: {first} has the same id", recipe.id),
                    ));
                } else {
                    seen.insert(recipe.id.clone(), name);
                    recipes += 1;
                }
            }
            Err(found) => problems.extend(found),
        }
    }
    ValidateOutput { files: files.len(), recipes, problems }
}
