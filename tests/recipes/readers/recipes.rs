//! The recipe reader over arbitrary text, YAML-shaped noise and mutated built-in recipes.

use super::*;

fn check_recipe(text: &str) {
    let result = timed("load_text", || aimdeck::recipes::load::load_text("prop.yaml", text));
    if let Err(problems) = result {
        assert!(!problems.is_empty(), "an error names at least one problem");
        // YAML breaks lines at `\r\n`, `\n` and a lone `\r` (as old Mac files do); +1 for "at
        // the end of input" after a final break.
        let lines = text.replace("\r\n", "\n").replace('\r', "\n").split('\n').count() as u64 + 1;
        for problem in &problems {
            assert_eq!(problem.file, "prop.yaml");
            assert!(!problem.message.trim().is_empty(), "problem without a message: {problem:?}");
            assert!(
                problem.line <= lines,
                "line {} past the end ({lines} lines): {problem}",
                problem.line
            );
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn recipe_reader_survives_arbitrary_text(text in "(?s).{0,600}") {
        check_recipe(&text);
    }

    #[test]
    fn recipe_reader_survives_yaml_shaped_noise(text in "([a-z_]{1,10}:( [-a-zA-Z0-9.\\[\\]{}\"']{0,12})?\n( {2,4})?){0,30}") {
        check_recipe(&text);
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn recipe_reader_survives_mutated_builtin_recipes(pick in any::<prop::sample::Index>(), edits in prop::collection::vec(mutation(), 1..5)) {
        let seeds = builtin_recipes();
        let (_, text) = &seeds[pick.index(seeds.len())];
        check_recipe(&apply(text, &edits));
    }
}

#[test]
fn every_builtin_recipe_seed_loads_unmutated() {
    // The seeds must be valid, or the mutation tests above would test only broken input.
    for (path, text) in builtin_recipes() {
        if let Err(problems) = aimdeck::recipes::load::load_text(&path, &text) {
            panic!("{path}: {problems:?}");
        }
    }
}
