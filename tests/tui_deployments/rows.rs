//! A deployment's row and detail: its numbers across replicas, ages, the scale form and its
//! benchmark.

use super::*;

#[test]
fn a_deployment_row_adds_up_its_replicas_and_says_how_many_are_ready() {
    let mut app = busy_deployment();
    let row = cells(&app, "deploy:llama").unwrap();
    // REPL, STATE, then RUN and WAIT summed, KV% and TTFT p95 the worst replica's, tok/s summed.
    assert_eq!(row[4..], ["2/3", "2/3 ready", "7", "3", "70", "750", "420ms"]);

    // All three ready: `ready` for as long as the last one has been.
    app.update(listed(vec![deployment("llama", &[ReplicaState::Ready; 3])]));
    poll(
        &mut app,
        polled("deploy:llama/2", EndpointState::Ready, 5, Some(sample(1.0, 0.0, 0.10, 50.0, 90.0))),
    );
    let row = cells(&app, "deploy:llama").unwrap();
    assert_eq!(row[4..], ["3/3", "ready 5s", "8", "3", "70", "800", "420ms"]);

    // A replica that died makes the row say so even while others serve.
    let mut broken =
        deployment("llama", &[ReplicaState::Failed, ReplicaState::Failed, ReplicaState::Failed]);
    broken.replicas[0].detail = Some("exit code 1".into());
    app.update(listed(vec![broken]));
    assert_eq!(state_of(&app, "deploy:llama"), "failed");
}

#[test]
fn snapshot_deployment_rows_and_detail_list_each_replica() {
    let mut app = busy_deployment();
    snapshot("deployment_rows", &app);
    app.update(key(KeyCode::Enter));
    let shown = screen(&app, 160, 48);
    assert!(shown.contains("Deployment llama (charts: replica 0)"), "{shown}");
    for line in [":8101 llama-1", "llama-2", "starting", "2,3"] {
        assert!(shown.contains(line), "{line} in\n{shown}");
    }
    snapshot("deployment_detail", &app);
}

#[test]
fn the_scale_form_at_each_size() {
    let mut app = busy_deployment();
    app.update(key(KeyCode::Char('s')));
    assert!(matches!(app.mode, Mode::Form(..)), "{:?}", app.message);
    let shown = screen(&app, 80, 24);
    let row = shown.lines().find(|l| l.contains("Replicas")).unwrap_or_default();
    assert!(row.contains('3'), "the count beside its label: {row}");
    for (width, height) in [(80, 24), (120, 40), (200, 60)] {
        assert_screen(format!("form_scale_{width}x{height}"), screen(&app, width, height));
    }
}

#[test]
fn ages_come_from_the_backends_start_time_and_restart_with_the_replica() {
    let mut app = app();
    let started = |d: &mut Deployment, index: usize, s_ago: i64| {
        d.replicas[index].started_at_unix_ms = Some(NOW - s_ago * 1000)
    };
    let mut llama = deployment("llama", &[ReplicaState::Ready; 2]);
    started(&mut llama, 0, 600);
    started(&mut llama, 1, 240);
    app.update(listed(vec![llama.clone()]));
    // The console has only just seen them ready (it was started 10 s ago): the age is the
    // backend's, the younger replica's 4 minutes, not the console's 10 s.
    poll(
        &mut app,
        polled("deploy:llama", EndpointState::Ready, 10, Some(sample(1.0, 0.0, 0.1, 50.0, 90.0))),
    );
    poll(
        &mut app,
        polled("deploy:llama/1", EndpointState::Ready, 10, Some(sample(1.0, 0.0, 0.1, 50.0, 90.0))),
    );
    assert_eq!(state_of(&app, "deploy:llama"), "ready 4m");

    // A restart the monitor never saw go down (it still says ready for 10 s): the new start
    // time makes the age start again.
    started(&mut llama, 0, 3);
    started(&mut llama, 1, 2);
    app.update(listed(vec![llama]));
    poll(
        &mut app,
        polled("deploy:llama", EndpointState::Ready, 10, Some(sample(1.0, 0.0, 0.1, 50.0, 90.0))),
    );
    assert_eq!(state_of(&app, "deploy:llama"), "ready 2s");

    // And the detail's `ready for` is replica 0's own age from its start.
    app.update(key(KeyCode::Enter));
    let shown = screen(&app, 160, 48);
    assert!(shown.contains("ready for 3s"), "{shown}");
}

/// Issue 18: `b` on a deployment's row benchmarks the deployment, not its replica 0: the
/// requests go round its ready replicas (a starting one gets none), and the message names
/// them. With no replica ready, nothing starts and the line says why.
#[test]
fn a_deployments_benchmark_spreads_over_its_ready_replicas() {
    use aimdeck::tui::features::endpoints::EndpointCommand;
    let mut busy = busy_deployment();
    busy.update(key(KeyCode::Char('b')));
    let commands = busy.update(key(KeyCode::Enter));
    match &commands[..] {
        [Command::Endpoints(EndpointCommand::Bench { urls, model, .. })] => {
            assert_eq!(urls, &["http://127.0.0.1:8100", "http://127.0.0.1:8101"]);
            assert_eq!(model.as_deref(), Some("meta-llama/Llama-3.1-8B-Instruct"));
        }
        other => panic!("expected a bench command, got {other:?}"),
    }
    let text = &busy.message.as_ref().unwrap().text;
    assert!(text.contains("20 requests over 2 ready replicas"), "{text}");

    let mut starting = app();
    starting.update(listed(vec![deployment("llama", &[ReplicaState::Starting; 2])]));
    aimdeck::tui::joins::flush(&mut starting);
    starting.update(key(KeyCode::Char('b')));
    assert!(starting.endpoints.bench_job.is_none());
    assert!(!starting.endpoints.pane_open(), "no form opens");
    let text = &starting.message.as_ref().unwrap().text;
    assert!(text.contains("llama has no ready replica (0 of 2 ready)"), "{text}");
}
