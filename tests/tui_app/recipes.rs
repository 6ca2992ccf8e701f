//! The Recipes view: the best recipe for the detected GPUs, the editor and its save.

use super::gpus::gpu_app;
use super::*;

fn recipes_app(machine: &str) -> App {
    let mut app = if machine.is_empty() { app() } else { gpu_app(machine) };
    app.update(Event::Recipes(std::sync::Arc::new(aimdeck::recipes::load::load_builtin())));
    app.update(ch('3'));
    app
}

#[test]
fn recipes_view_marks_the_best_recipe_for_the_detected_gpus() {
    let mut app = recipes_app("mi300x-8-amdsmi-gpu-data");
    assert!(app.current().table.total() >= 40);
    assert!(app.recipes.best.iter().any(|id| id.contains("mi300x")), "{:?}", app.recipes.best);
    assert!(app.recipes.best.iter().all(|id| !id.contains("h100")), "{:?}", app.recipes.best);
    app.update(ch('/'));
    type_text(&mut app, "Llama-3.1-70B");
    app.update(key(KeyCode::Enter));
    // Sorting by the first column brings the ★ row to the top.
    app.update(ch('o'));
    app.update(ch('g'));
    let selected = app.current().table.selected().map(|r| r.id.clone()).unwrap();
    assert!(app.recipes.best.contains(&selected), "{selected}");
    let text = screen(&app, 160, 48);
    assert!(text.contains("★ best recipe for this machine"), "{text}");
    assert!(text.contains("Memory per GPU"), "{text}");
    let recipe = &app.selected_recipe().unwrap().recipe;
    let command = aimdeck::engine::launch_command(
        &aimdeck::recipes::to_spec::to_deployment_spec(recipe, "preview", 1, 8000),
        0,
    );
    let program_and_model: String =
        command.display().split(' ').take(2).collect::<Vec<_>>().join(" ");
    assert!(
        text.contains(&program_and_model),
        "the command line ({program_and_model}) is shown:\n{text}"
    );
    snapshot("view_recipes_mi300x", &app);
}

#[test]
fn recipe_editor_validates_live_and_saves_through_the_runner() {
    let mut app = recipes_app("");
    app.update(ch('e'));
    let Mode::Form(form, FormPurpose::EditRecipe { .. }) = &app.mode else { panic!("editor open") };
    assert!(form.is_valid(), "a built-in recipe starts valid");
    // Break the YAML: the editor shows the problem at its line and column and refuses to save.
    let mut app = recipes_app("");
    app.update(ch('e'));
    type_text(&mut app, "bogus_field: 1\n");
    let Mode::Form(form, _) = &app.mode else { panic!("still editing") };
    let error = form.fields[0].error().expect("an unknown field is reported").to_string();
    assert!(error.starts_with("1:1 "), "{error}");
    assert!(error.contains("bogus_field"), "{error}");
    snapshot("overlay_recipe_editor", &app);
    app.update(Event::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)));
    assert!(matches!(app.mode, Mode::Form(..)), "an invalid recipe is not saved");
}

#[test]
fn saving_a_recipe_asks_the_runner_to_write_it() {
    let mut app = recipes_app("");
    app.update(ch('e'));
    let commands = app.update(Event::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)));
    match commands.as_slice() {
        [Command::SaveRecipe { id, yaml }] => {
            assert_eq!(Some(id.as_str()), app.current().table.selected().map(|r| r.id.as_str()));
            assert!(yaml.contains("engine:"));
        }
        other => panic!("expected one SaveRecipe, got {other:?}"),
    }
}

#[test]
fn recipe_ids_keep_their_distinguishing_tail_at_80_columns() {
    let app = recipes_app("mi300x-8-amdsmi-gpu-data");
    let narrow = screen(&app, 80, 24);
    // Recipe ids differ at their end (GPU, count, precision, engine): that part stays.
    // The table's rows: from its header to its bottom border (the detail pane below repeats
    // the selected id in its title).
    let ids: Vec<&str> = narrow
        .lines()
        .skip_while(|l| !(l.contains(" ID ") && l.contains("MODEL")))
        .skip(1)
        .take_while(|l| !l.contains('╰'))
        .filter(|l| l.contains("-vllm") || l.contains("-sglang"))
        .filter_map(|l| {
            l.split_whitespace().find(|w| w.ends_with("-vllm") || w.ends_with("-sglang"))
        })
        .collect();
    assert!(ids.len() >= 5, "{narrow}");
    let distinct: std::collections::BTreeSet<&&str> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "every shown id differs: {ids:?}");
}
