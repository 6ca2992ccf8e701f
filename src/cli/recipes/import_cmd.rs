//! `aimdeck recipes import FILE...`: other tools' recipes as aimdeck recipes, printed or
//! written to the user's recipe folder.

use std::path::PathBuf;
use std::process::ExitCode;

use color_eyre::eyre::WrapErr;
use serde::Serialize;

use super::{GlobalArgs, ImportArgs, cached_facts, library, print_json};
use crate::recipes::import;

pub(super) fn run_import(
    args: ImportArgs,
    global: &GlobalArgs,
    dirs: &[PathBuf],
) -> color_eyre::Result<ExitCode> {
    let (library, config) = library(global, dirs)?;
    let lookup = |model: &str| cached_facts(&config, model);
    let results: Vec<import::Imported> =
        args.paths.iter().map(|path| import::import_file(path, &library, &lookup)).collect();
    let out_dir = args.out.clone().unwrap_or_else(crate::paths::user_recipes_dir);
    let mut failed = false;
    let mut written = Vec::new();
    for imported in &results {
        failed |= !imported.problems.is_empty() || imported.recipe.is_none();
        if args.write
            && imported.problems.is_empty()
            && let (Some(recipe), Some(yaml)) = (&imported.recipe, import::to_yaml(imported))
        {
            std::fs::create_dir_all(&out_dir)
                .wrap_err_with(|| format!("creating {}", out_dir.display()))?;
            let path = out_dir.join(format!("{}.yaml", recipe.id));
            std::fs::write(&path, yaml).wrap_err_with(|| format!("writing {}", path.display()))?;
            written.push(path);
        }
    }
    if args.json {
        #[derive(Serialize)]
        struct ImportOutput<'a> {
            imported: &'a [import::Imported],
            written: &'a [PathBuf],
        }
        print_json(&ImportOutput { imported: &results, written: &written })?;
    } else {
        for imported in &results {
            for line in &imported.unmapped {
                eprintln!("{}: not carried over: {line}", imported.file);
            }
            for problem in &imported.problems {
                eprintln!("{problem}");
            }
            if !args.write
                && imported.problems.is_empty()
                && let Some(yaml) = import::to_yaml(imported)
            {
                println!("---\n{yaml}");
            }
        }
        for path in &written {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
