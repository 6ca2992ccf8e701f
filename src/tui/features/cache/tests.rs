//! The cache domain's `update`, driven without a runtime: the commands it returns are compared
//! with `==`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::tui::app::testing::key;
use crate::tui::app::{App, Settings};
use crate::tui::event::{Command, Event, RunId};
use crate::tui::mode::Mode;
use crate::tui::views::ViewId;

fn console() -> App {
    let mut app = App::new(Settings {
        user_themes_dir: "/nonexistent/themes".into(),
        cache_root: "/cache".into(),
        ..Settings::default()
    });
    app.view = ViewId::Cache;
    app
}

#[test]
fn the_start_and_ctrl_r_scan_the_cache() {
    let mut app = console();
    let scan = Command::ScanCache { root: "/cache".into() };
    assert!(app.start().contains(&scan));
    let ctrl_r = Event::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL));
    assert_eq!(app.update(ctrl_r), vec![scan]);
}

#[test]
fn a_pull_is_a_run_and_x_cancels_it_through_the_runner() {
    let mut app = console();
    app.update(key(KeyCode::Char('P')));
    assert!(matches!(app.mode, Mode::Form(..)));
    for c in "org/model".chars() {
        app.update(key(KeyCode::Char(c)));
    }
    let run = RunId(1);
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        vec![Command::Pull {
            repo: "org/model".into(),
            revision: "main".into(),
            root: "/cache".into(),
            run
        }]
    );
    assert_eq!(app.update(key(KeyCode::Char('x'))), vec![Command::Cancel(run)]);
    // Nothing runs any more: a second `x` cancels nothing.
    assert_eq!(app.update(key(KeyCode::Char('x'))), vec![]);
}

/// The cache domain's `update` on its own: a pull starts with a new run id and a message, and
/// its cancel names that run; what the shell shows comes back as commands.
#[test]
fn a_pull_and_its_cancel_are_commands_with_one_run_id() {
    use crate::tui::ctx::notify;
    use crate::tui::features::cache::{CacheMsg, CacheState, pull_form, update};
    use crate::tui::messages::Level;
    let app = console();
    let mut state = CacheState { root: "/cache".into(), ..Default::default() };
    let ctx = app.ctx();
    assert_eq!(
        update(&mut state, CacheMsg::CancelPull, &ctx),
        vec![notify(Level::Info, "cancel: nothing is running")]
    );
    let mut form = pull_form(None);
    form.set_value("repo", " acme/tiny ");
    let pulled = update(&mut state, CacheMsg::PullSubmitted(form), &ctx);
    assert_eq!(
        pulled,
        vec![
            notify(Level::Info, "pulling acme/tiny@main…"),
            Command::Pull {
                repo: "acme/tiny".into(),
                revision: "main".into(),
                root: "/cache".into(),
                run: RunId(1)
            },
        ]
    );
    assert_eq!(
        update(&mut state, CacheMsg::CancelPull, &ctx),
        vec![notify(Level::Info, "pull cancelled; P resumes it"), Command::Cancel(RunId(1))]
    );
}
