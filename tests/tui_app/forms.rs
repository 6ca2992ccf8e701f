//! The forms an operator fills in, at 80x24, 120x40 and 200x60: label and value on one row,
//! the focused field's hint or error under it, scrolling when the fields outgrow the screen,
//! errors only once a field was left, and a failed submit that keeps the form and its cause.

use std::sync::Arc;

use super::*;

pub const FORM_SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 60)];

pub fn form_snapshot(name: &str, app: &App) {
    for (width, height) in FORM_SIZES {
        assert_screen(format!("{name}_{width}x{height}"), screen(app, width, height));
    }
}

/// The console with the process backend named (nothing it returns is run here).
fn create_app() -> App {
    let backend: Arc<dyn aimdeck::backend::Backend> =
        Arc::new(aimdeck::backend::process::ProcessBackend::new("/nonexistent/state", Vec::new()));
    let mut app = App::new(Settings {
        header: HeaderInfo { backend: "process".into(), host: "testhost".into() },
        user_themes_dir: "/nonexistent/themes".into(),
        backends: aimdeck::backend::registry::Registry::new(vec![backend]),
        active_backend: "process".into(),
        ..Settings::default()
    });
    app.on_tick("12:34");
    // The recipe library is read on first use (`c` asks for it); answer as a runner would,
    // with an empty library: these tests create without recipes.
    app.update(Event::Recipes(Arc::new(aimdeck::recipes::load::Library::default())));
    app.update(ch('4'));
    app.update(ch('c'));
    app
}

#[test]
fn the_create_form_shows_what_was_typed_at_80x24_and_no_error_before_typing() {
    let mut app = create_app();
    let untouched = screen(&app, 80, 24);
    assert!(!untouched.contains('✗'), "no field is wrong before anything is typed:\n{untouched}");
    assert!(untouched.contains("a DNS label"), "the focused field's hint:\n{untouched}");
    type_text(&mut app, "web1");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "org/tiny-model");
    let shown = screen(&app, 80, 24);
    for line in ["Name", "web1", "Model", "org/tiny-model", "Replicas", "Port"] {
        assert!(shown.contains(line), "{line} on screen at 80x24:\n{shown}");
    }
    let row = shown.lines().find(|l| l.contains("web1")).unwrap();
    assert!(row.contains("Name"), "label and value on one row: {row}");
    form_snapshot("form_create", &app);
}

#[test]
fn a_field_error_shows_once_the_field_is_left_and_goes_when_fixed() {
    let mut app = create_app();
    // Typing in the first field, never left: no verdict yet.
    type_text(&mut app, "Bad_Name");
    assert!(!screen(&app, 80, 24).contains('✗'), "still typing: no verdict");
    app.update(key(KeyCode::Tab));
    let left = screen(&app, 80, 24);
    let row = left.lines().find(|l| l.contains("Bad_Name")).unwrap();
    assert!(row.contains('✗'), "the left field is marked: {row}");
    app.update(key(KeyCode::BackTab));
    let back = screen(&app, 80, 24);
    assert!(
        back.lines().any(|l| l.contains("✗ ") && !l.contains("Bad_Name")),
        "the focused field's error on the row under it:\n{back}"
    );
    for _ in 0.."Bad_Name".len() {
        app.update(key(KeyCode::Backspace));
    }
    type_text(&mut app, "good");
    app.update(key(KeyCode::Tab));
    let fixed = screen(&app, 80, 24);
    let row = fixed.lines().find(|l| l.contains("good")).unwrap();
    assert!(!row.contains('✗'), "fixed: no mark: {row}");
    // The model field was left empty on the way back: it is marked now, as it should be.
    assert!(fixed.lines().any(|l| l.contains("✗ Model")), "{fixed}");
}

#[test]
fn the_create_form_scrolls_to_the_focused_field_at_80x24() {
    let mut app = create_app();
    let all = screen(&app, 80, 24);
    for label in ["Name", "Replicas", "Pipeline parallel", "Extra args"] {
        assert!(all.contains(label), "every field fits at 80x24 before a failure:\n{all}");
    }
    // A long cause takes rows: the fields scroll to keep the focused one in view.
    type_text(&mut app, "web1");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "org/tiny-model");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, &"no-such-recipe ".repeat(20));
    app.update(key(KeyCode::Enter));
    assert!(matches!(app.mode, Mode::Form(..)), "{:?}", app.message);
    for _ in 0..9 {
        app.update(key(KeyCode::Tab));
    }
    let shown = screen(&app, 80, 24);
    assert!(shown.contains("Extra args"), "the last field scrolled into view:\n{shown}");
    assert!(shown.contains("field 12/12"), "where the form is:\n{shown}");
    form_snapshot("form_create_scrolled", &app);
}

#[test]
fn a_failed_submit_keeps_the_form_its_values_and_the_whole_cause() {
    let mut app = create_app();
    type_text(&mut app, "web1");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "org/tiny-model");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "no-such-recipe-for-this-model-anywhere");
    let commands = app.update(key(KeyCode::Enter));
    assert!(commands.is_empty(), "{commands:?}");
    let Mode::Form(form, FormPurpose::Create) = &app.mode else {
        panic!("the form stays open: {:?}", app.message)
    };
    assert_eq!(form.value("name").as_deref(), Some("web1"));
    assert_eq!(form.value("model").as_deref(), Some("org/tiny-model"));
    let cause = form.failure().expect("the cause is kept").to_string();
    assert!(cause.contains("no-such-recipe-for-this-model-anywhere"), "{cause}");
    for (width, height) in FORM_SIZES {
        let shown = screen(&app, width, height);
        assert!(all_words_shown(&shown, &cause), "the whole cause at {width}x{height}:\n{shown}");
    }
    assert!(app.history.iter().any(|m| m.text == cause), "and the history has it");
    form_snapshot("form_create_failed", &app);
}

/// Every word of `text` appears on screen (the cause wraps over rows inside the border).
fn all_words_shown(shown: &str, text: &str) -> bool {
    text.split_whitespace().all(|word| shown.contains(word))
}

#[test]
fn the_pull_form_at_each_size() {
    let mut app = app();
    app.update(ch('2'));
    app.update(ch('P'));
    assert!(matches!(app.mode, Mode::Form(_, FormPurpose::Pull)));
    type_text(&mut app, "Qwen/Qwen2.5-0.5B-Instruct");
    form_snapshot("form_pull", &app);
}

#[test]
fn a_multi_line_form_at_each_size() {
    let mut app = app();
    let form = Form::new(
        "Scale llama-70b",
        vec![
            FormField::line("replicas", "Replicas", "three").validate_with(|v| {
                v.parse::<u32>().map(|_| ()).map_err(|_| format!("`{v}` is not a whole number"))
            }),
            FormField::multi_line("note", "Note", "rolling out\nnew weights"),
        ],
    );
    app.mode = Mode::Form(form, FormPurpose::EditRecipe { id: "llama-70b".into() });
    // Submitting marks every field: the error shows.
    app.update(key(KeyCode::Enter));
    assert!(screen(&app, 80, 24).contains("`three` is not a whole number"));
    form_snapshot("form_multi_line", &app);
}
