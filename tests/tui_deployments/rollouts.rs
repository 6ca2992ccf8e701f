//! Create, scale, restart and delete shown live on the row, and a refused create's cause.

use super::*;

/// The create form filled in for `name` on the process backend, up to its review.
fn review_create(app: &mut App, name: &str, replicas: &str) {
    app.update(key(KeyCode::Char('c')));
    type_text(app, name);
    app.update(key(KeyCode::Tab));
    type_text(app, "org/tiny-model");
    for _ in 0..4 {
        app.update(key(KeyCode::Tab));
    }
    app.update(key(KeyCode::Backspace));
    type_text(app, replicas);
    // The review is rendered by the backend (a command); its answer opens the pager.
    let backend = ProcessBackend::new("/nonexistent/aimdeck-state", Vec::new());
    for command in app.update(key(KeyCode::Enter)) {
        if let Command::Deploy(DeployCommand::Render { spec, create, header, .. }) = command {
            let rendered = aimdeck::tui::effects::deploy::render(&backend, spec, create, header);
            app.update(Event::Deploy(rendered));
        }
    }
    assert!(
        matches!(&app.mode, Mode::Pager(p) if p.create.is_some()),
        "the review opens: {:?}",
        app.message
    );
}

#[test]
fn a_rollout_shows_on_its_row_from_pull_to_ready() {
    let mut app = app();
    review_create(&mut app, "tiny", "2");
    let commands = app.update(key(KeyCode::Char('y')));
    assert!(
        matches!(&commands[..], [Command::Deploy(DeployCommand::Create { spec, .. })] if spec.name == "tiny" && spec.replicas == 2)
    );
    // Before the backend lists it, the row is there with what was asked.
    let row = cells(&app, "deploy:tiny").expect("a row for the new deployment");
    assert_eq!(row[..6], ["tiny", "vllm", "org/tiny-model", "process", "0/2", "creating"]);

    app.update(progress(
        "tiny",
        None,
        BackendEventKind::Pull { current: Some(45), total: Some(100) },
        "Downloading",
    ));
    assert_eq!(state_of(&app, "deploy:tiny"), "pulling 45%");
    snapshot("rollout_pulling", &app);
    app.update(progress(
        "tiny",
        Some(1),
        BackendEventKind::State { state: ReplicaState::Creating },
        "creating tiny-1",
    ));
    assert_eq!(state_of(&app, "deploy:tiny"), "creating 2/2");
    app.update(progress(
        "tiny",
        Some(1),
        BackendEventKind::State { state: ReplicaState::Starting },
        "tiny-1 started",
    ));
    assert_eq!(state_of(&app, "deploy:tiny"), "starting 0/2");

    // The backend returned; replicas come up one by one in its listing.
    app.update(done("deploy", "tiny", Ok(())));
    let mut tiny = deployment("tiny", &[ReplicaState::Ready, ReplicaState::Starting]);
    app.update(listed(vec![tiny.clone()]));
    assert_eq!(state_of(&app, "deploy:tiny"), "starting 1/2");
    app.update(key(KeyCode::Enter));
    assert!(screen(&app, 160, 48).contains("state starting 1/2"));
    app.update(key(KeyCode::Esc));
    tiny.replicas[1].state = ReplicaState::Ready;
    app.update(listed(vec![tiny]));
    assert_eq!(state_of(&app, "deploy:tiny"), "ready", "the rollout is over");
    assert!(app.deploy.rollouts.is_empty());
}

#[test]
fn a_failed_create_keeps_its_cause_on_the_row_until_esc() {
    let mut app = app();
    review_create(&mut app, "clash", "1");
    app.update(key(KeyCode::Enter));
    app.update(progress(
        "clash",
        Some(0),
        BackendEventKind::State { state: ReplicaState::Creating },
        "creating clash-0",
    ));
    app.update(done("deploy", "clash", Err("port 8000 on 127.0.0.1 is already in use")));
    // Issue 18: the form comes back as it was sent, with the whole cause, to fix and resend.
    assert!(matches!(app.mode, Mode::Form(..)), "the create form reopens");
    let shown = screen(&app, 80, 24);
    assert!(shown.contains("clash") && shown.contains("org/tiny-model"), "{shown}");
    assert!(shown.contains("port 8000 on 127.0.0.1 is already in use"), "{shown}");
    for (width, height) in [(80, 24), (120, 40), (200, 60)] {
        assert_screen(format!("create_refused_form_{width}x{height}"), screen(&app, width, height));
    }
    app.update(key(KeyCode::Esc));
    // The backend rolled back: it lists nothing, yet the row stays with the cause.
    app.update(listed(Vec::new()));
    assert_eq!(state_of(&app, "deploy:clash"), "failed: port 8000 on 127.0.0.1 is already in use");
    assert_eq!(cells(&app, "deploy:clash").unwrap()[4], "0/1");
    snapshot("rollout_failed", &app);
    // Esc: read, gone.
    app.update(key(KeyCode::Esc));
    assert!(cells(&app, "deploy:clash").is_none());

    // Refused while another screen is open (here the help): that screen stays, and `c` brings
    // the form back with its values and the cause.
    review_create(&mut app, "clash2", "1");
    app.update(key(KeyCode::Enter));
    app.update(key(KeyCode::Char('?')));
    app.update(done("deploy", "clash2", Err("port 8000 on 127.0.0.1 is already in use")));
    assert!(matches!(app.mode, Mode::Help { .. }));
    let text = &app.message.as_ref().unwrap().text;
    assert!(text.ends_with("c reopens the create form with its values"), "{text}");
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Char('c')));
    assert!(matches!(app.mode, Mode::Form(..)));
    let shown = screen(&app, 120, 40);
    assert!(shown.contains("clash2") && shown.contains("already in use"), "{shown}");
    // Once: the next `c` is a fresh form.
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Char('c')));
    let Mode::Form(form, _) = &app.mode else { panic!("the create form") };
    assert_eq!(form.value("name").as_deref(), Some(""));
}

#[test]
fn scale_restart_and_delete_show_on_the_row_and_a_replica_dying_fails_the_rollout() {
    let mut app = app();
    app.update(listed(vec![deployment("llama", &[ReplicaState::Ready])]));
    app.update(key(KeyCode::Char('+')));
    assert_eq!(state_of(&app, "deploy:llama"), "scaling to 2");
    app.update(done("scale", "llama", Ok(())));
    let mut two = deployment("llama", &[ReplicaState::Ready, ReplicaState::Starting]);
    app.update(listed(vec![two.clone()]));
    assert_eq!(state_of(&app, "deploy:llama"), "starting 1/2");
    two.replicas[1].state = ReplicaState::Exited;
    two.replicas[1].detail = Some("exit code 2".into());
    app.update(listed(vec![two.clone()]));
    assert_eq!(state_of(&app, "deploy:llama"), "failed: replica 1 exited (exit code 2)");

    // The next action replaces the failure.
    app.update(key(KeyCode::Char('r')));
    assert_eq!(state_of(&app, "deploy:llama"), "restarting");
    app.update(progress(
        "llama",
        Some(0),
        BackendEventKind::State { state: ReplicaState::Stopping },
        "stopping llama-0",
    ));
    assert_eq!(state_of(&app, "deploy:llama"), "stopping");
    app.update(done("restart", "llama", Ok(())));
    app.update(listed(vec![deployment("llama", &[ReplicaState::Ready, ReplicaState::Ready])]));
    assert_eq!(state_of(&app, "deploy:llama"), "ready");

    app.update(key(KeyCode::Char('d')));
    type_text(&mut app, "llama");
    app.update(key(KeyCode::Enter));
    assert_eq!(state_of(&app, "deploy:llama"), "deleting");
    app.update(done("rm", "llama", Ok(())));
    app.update(listed(Vec::new()));
    assert!(cells(&app, "deploy:llama").is_none());
}
