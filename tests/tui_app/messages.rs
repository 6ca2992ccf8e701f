//! The message line and `:messages`: the newest message shows, an error is not hidden by a
//! later unrelated info, a message on the same subject replaces it (a create that succeeds
//! clears the earlier create's failure; a command that parses clears the mistyped one's), and
//! the history lists everything with its time, in full.

use aimdeck::tui::features::deploy::DeployEvent;

use super::*;

fn done(target: &str, result: Result<(), &str>) -> Event {
    Event::Deploy(DeployEvent::Done {
        action: "deploy".into(),
        target: target.into(),
        deployment: Some(target.into()),
        result: result.map_err(str::to_string),
    })
}

fn shown(app: &App) -> String {
    app.message.as_ref().map(|m| m.text.clone()).unwrap_or_default()
}

#[test]
fn a_mistyped_command_error_goes_once_a_good_command_runs() {
    let mut app = app();
    command(&mut app, "foo");
    assert!(shown(&app).contains("unknown command `foo`"), "{}", shown(&app));
    let commands = command(&mut app, "add http://127.0.0.1:9");
    assert!(!commands.is_empty(), "the add is run");
    assert!(!shown(&app).contains("foo"), "the error is gone: {}", shown(&app));
}

#[test]
fn a_successful_create_clears_the_earlier_create_failure() {
    let mut app = app();
    app.update(done("ux1", Err("image vllm/vllm-openai:v0 not found")));
    assert_eq!(app.message.as_ref().map(|m| m.level), Some(Level::Error));
    app.update(done("ux2", Ok(())));
    assert_eq!(shown(&app), "deploy ux2: done");
    assert!(app.history.iter().any(|m| m.text.contains("ux1") && m.level == Level::Error));
}

#[test]
fn an_error_is_not_hidden_by_a_later_unrelated_info_and_expires_on_ticks() {
    let mut app = app();
    app.notify(Level::Error, "docker: cannot connect to /var/run/docker.sock");
    app.notify(Level::Info, "rescanning the cache");
    assert!(shown(&app).starts_with("docker: cannot connect"), "{}", shown(&app));
    for _ in 0..29 {
        app.on_tick("12:34");
    }
    assert!(app.message.is_some(), "an error stays 30 s");
    app.on_tick("12:34");
    assert!(app.message.is_none(), "then goes");
}

#[test]
fn messages_lists_the_history_in_full_with_times() {
    let mut app = app();
    let long = format!("create web1: {}", "no GPU has 80 GiB free for this model; ".repeat(6));
    app.notify(Level::Error, long.clone());
    app.notify(Level::Info, "theme: dark");
    command(&mut app, "messages");
    let Mode::Pager(pager) = &app.mode else { panic!("a pager: {:?}", app.message) };
    assert!(pager.title.starts_with("Messages"), "{}", pager.title);
    let shown = screen(&app, 120, 40);
    let at = &app.history[0].at;
    assert!(at.len() == 8 && shown.contains(at.as_str()), "the time {at}:\n{shown}");
    let flat = shown.replace('│', " ");
    for word in long.split_whitespace() {
        assert!(flat.contains(word), "{word} of the full text:\n{shown}");
    }
    assert!(flat.contains("error") && flat.contains("theme: dark"), "{shown}");
    assert_screen("messages_history_120x40", mask_time(&shown, at));
}

/// The history's times are the real clock's: masked for the snapshot.
fn mask_time(shown: &str, at: &str) -> String {
    shown.replace(at, "HH:MM:SS")
}

fn command(app: &mut App, line: &str) -> Vec<Command> {
    app.update(ch(':'));
    let mut commands = type_text(app, line);
    commands.extend(app.update(key(KeyCode::Enter)));
    commands
}
