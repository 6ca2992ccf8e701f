//! The prompt playground and the smoke benchmark panes.

use super::*;

/// `b` then enter on the selected row with the form's defaults: the run it started.
fn start_bench(app: &mut App) -> RunId {
    app.update(key(KeyCode::Char('b')));
    match app.update(key(KeyCode::Enter)).first() {
        Some(Command::Endpoints(EndpointCommand::Bench { run, .. })) => *run,
        other => panic!("expected a bench command, got {other:?}"),
    }
}

fn prompt_command(commands: &[Command]) -> (RunId, String, String) {
    match commands {
        [Command::Endpoints(EndpointCommand::Prompt { run, base_url, model, prompt })] => {
            assert_eq!(base_url, "http://10.0.0.5:8000");
            (*run, model.clone(), prompt.clone())
        }
        other => panic!("expected one prompt command, got {other:?}"),
    }
}

#[test]
fn the_prompt_form_at_each_size() {
    let mut app = fleet();
    app.update(key(KeyCode::Char('p')));
    type_text(&mut app, "Why is the sky blue?");
    assert!(screen(&app, 80, 24).contains("Why is the sky blue?"));
    form_snapshot("endpoint_prompt_form", &app);
}

#[test]
fn playground_streams_tokens_with_ttft_and_speed_and_esc_cancels() {
    let mut app = fleet();
    app.update(key(KeyCode::Char('p')));
    assert!(matches!(app.endpoints.pane, Pane::Playground(_)));
    type_text(&mut app, "Why is the sky blue?");
    app.update(key(KeyCode::Enter));
    type_text(&mut app, "Answer briefly.");
    let (run, model, prompt) = prompt_command(&app.update(ctrl('s')));
    assert_eq!(model, "meta-llama/Llama-3.1-70B-Instruct");
    assert_eq!(prompt, "Why is the sky blue?\nAnswer briefly.");
    // Keys typed while streaming do not edit the prompt.
    type_text(&mut app, "xyz");
    for (i, word) in
        ["Rayleigh", " scattering", " favours", " short", " wavelengths."].iter().enumerate()
    {
        let event =
            StreamEvent::Token { text: word.to_string(), elapsed_s: 0.25 + 0.02 * i as f64 };
        app.update(Event::Endpoints(EndpointEvent::Stream { run, event }));
    }
    let Pane::Playground(pane) = &app.endpoints.pane else { panic!("playground") };
    assert_eq!(pane.output, "Rayleigh scattering favours short wavelengths.");
    assert_eq!(pane.prompt_text(), "Why is the sky blue?\nAnswer briefly.");
    assert_eq!((pane.tokens, pane.ttft_s), (5, Some(0.25)));
    assert!((pane.tokens_per_s().unwrap() - 50.0).abs() < 1e-6);
    snapshot("endpoint_playground_streaming", &app);
    let summary = StreamSummary {
        text: "Rayleigh scattering favours short wavelengths.".into(),
        chunks: 5,
        completion_tokens: 5,
        ttft_s: Some(0.25),
        e2e_s: 0.4,
        tokens_per_s: Some(50.0),
        finish_reason: Some("stop".into()),
        ..Default::default()
    };
    app.update(Event::Endpoints(EndpointEvent::Stream {
        run,
        event: StreamEvent::Finished(summary),
    }));
    let shown = screen(&app, 80, 24);
    assert!(
        shown.contains("done (stop)")
            && shown.contains("TTFT 250ms")
            && shown.contains("tok/s 50.0"),
        "{shown}"
    );

    // A second prompt, cancelled with esc: its token is cancelled and the pane says so.
    let (run2, _, _) = prompt_command(&app.update(ctrl('s')));
    assert!(run2 > run);
    app.update(Event::Endpoints(EndpointEvent::Stream {
        run: run2,
        event: StreamEvent::Token { text: "Light".into(), elapsed_s: 0.2 },
    }));
    assert_eq!(app.update(key(KeyCode::Esc)), vec![Command::Cancel(run2)]);
    let Pane::Playground(pane) = &app.endpoints.pane else {
        panic!("esc while streaming keeps the pane")
    };
    assert_eq!(pane.status, Status::Cancelled);
    // Events of the older stream are ignored.
    app.update(Event::Endpoints(EndpointEvent::Stream {
        run,
        event: StreamEvent::Failed("late".into()),
    }));
    let Pane::Playground(pane) = &app.endpoints.pane else { panic!("playground") };
    assert_eq!(pane.status, Status::Cancelled);
    app.update(key(KeyCode::Esc));
    assert!(matches!(app.endpoints.pane, Pane::Table));
}

#[test]
fn playground_needs_a_known_model_and_reports_failures() {
    let mut app = fleet();
    app.update(key(KeyCode::Char('G')));
    app.update(key(KeyCode::Char('p')));
    assert!(matches!(app.endpoints.pane, Pane::Table));
    assert!(app.message.as_ref().unwrap().text.contains("qwen-7b has not told its model yet"));
    app.update(key(KeyCode::Char('g')));
    app.update(key(KeyCode::Char('p')));
    assert!(app.update(ctrl('s')).is_empty(), "an empty prompt is not sent");
    type_text(&mut app, "hi");
    let (run, ..) = prompt_command(&app.update(ctrl('s')));
    let failure = "POST http://10.0.0.5:8000/v1/chat/completions: answered 404: The model `x` does not exist.";
    app.update(Event::Endpoints(EndpointEvent::Stream {
        run,
        event: StreamEvent::Failed(failure.into()),
    }));
    assert!(
        screen(&app, 160, 48)
            .contains("failed: POST http://10.0.0.5:8000/v1/chat/completions: answered 404")
    );
}

fn report() -> BenchReport {
    let stats = |base: f64| LatencyStats {
        mean: Some(base * 1.1),
        p50: Some(base),
        p90: Some(base * 1.5),
        p95: Some(base * 1.8),
        p99: Some(base * 2.5),
        max: Some(base * 3.0),
    };
    BenchReport {
        url: "http://10.0.0.5:8000".into(),
        model: "meta-llama/Llama-3.1-70B-Instruct".into(),
        requests: 20,
        concurrency: 4,
        input_tokens: 128,
        output_tokens: 64,
        succeeded: 20,
        failed: 0,
        duration_s: 6.4,
        requests_per_s: 3.125,
        output_tokens_per_s: 200.0,
        total_tokens_per_s: 600.0,
        prompt_tokens_sent: 2560,
        completion_tokens_received: 1280,
        ttft_s: stats(0.120),
        itl_s: stats(0.015),
        e2e_s: stats(1.1),
        errors: vec![],
        ..BenchReport::default()
    }
}

/// Issue 18: the benchmark is a background job. Submitting the form returns to the table;
/// the footer follows the run in every view; the report lands in the endpoint's detail and the
/// message line says it did.
#[test]
fn bench_runs_in_the_background_and_reports_in_the_detail() {
    let mut app = fleet();
    app.update(key(KeyCode::Char('b')));
    let shown = screen(&app, 80, 24);
    let row = shown.lines().find(|l| l.contains("Requests")).unwrap_or_default();
    assert!(row.contains("20"), "label and value on one row: {row}");
    form_snapshot("endpoint_bench_form", &app);
    // Replace the request count: 0 is refused, 40 accepted.
    app.update(key(KeyCode::Backspace));
    app.update(key(KeyCode::Backspace));
    type_text(&mut app, "0");
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert!(screen(&app, 80, 24).contains("must be at least 1"));
    app.update(key(KeyCode::Backspace));
    type_text(&mut app, "40");
    let commands = app.update(key(KeyCode::Enter));
    let run = match &commands[..] {
        [Command::Endpoints(EndpointCommand::Bench { run, urls, model, ask })] => {
            assert_eq!(urls, &["http://10.0.0.5:8000".to_string()]);
            assert_eq!(model.as_deref(), Some("meta-llama/Llama-3.1-70B-Instruct"));
            assert_eq!(
                (ask.requests, ask.concurrency, ask.input_tokens, ask.output_tokens),
                (40, 4, 128, 64)
            );
            *run
        }
        other => panic!("expected a bench command, got {other:?}"),
    };
    // Back on the table at once, with the run named on the message line.
    assert!(matches!(app.endpoints.pane, Pane::Table));
    let text = &app.message.as_ref().unwrap().text;
    assert!(text.contains("40 requests over http://10.0.0.5:8000"), "{text}");
    app.update(Event::Endpoints(EndpointEvent::BenchProgress {
        run,
        progress: BenchProgress {
            done: 14,
            failed: 1,
            total: 40,
            output_tokens: 896,
            ttft_mean_s: Some(0.0412),
            elapsed_s: 2.0,
        },
    }));
    let footer = |app: &App, w, h| screen(app, w, h).lines().last().unwrap_or_default().to_string();
    let narrow = footer(&app, 80, 24);
    assert!(narrow.contains("bench llama-70b: 14/40 done, 1 failed"), "{narrow}");
    let wide = footer(&app, 200, 60);
    assert!(wide.contains("14/40 done, 1 failed, TTFT 41.2 ms, 448.0 tok/s"), "{wide}");
    snapshot("endpoint_bench_running", &app);
    // The footer follows the run in the other views too.
    app.update(key(KeyCode::Char('1')));
    assert!(footer(&app, 120, 40).contains("14/40 done"));
    app.update(key(KeyCode::Char('4')));
    // One run at a time: a second `b` says what is running.
    app.update(key(KeyCode::Char('b')));
    assert!(matches!(app.endpoints.pane, Pane::Table));
    let text = &app.message.as_ref().unwrap().text;
    assert!(text.contains("llama-70b is being benchmarked (14/40)"), "{text}");
    // The detail shows the run while it goes.
    app.update(key(KeyCode::Enter));
    assert!(screen(&app, 160, 48).contains("benchmark over http://10.0.0.5:8000: 14/40 done"));
    app.update(Event::Endpoints(EndpointEvent::BenchDone { run, result: Ok(report()) }));
    let text = &app.message.as_ref().unwrap().text;
    assert!(text.contains("bench llama-70b done: 200.0 output tok/s, TTFT p50 120ms"), "{text}");
    assert!(!footer(&app, 200, 60).contains("done, "), "the footer lets go of a finished run");
    let shown = screen(&app, 160, 48);
    assert!(shown.contains("3.12 req/s") && shown.contains("200.0 output tok/s"), "{shown}");
    assert!(shown.contains("TTFT 120ms/300ms"), "p50 and p99 of TTFT:\n{shown}");
    snapshot("endpoint_bench_report", &app);
    // Esc leaves the detail; the report stays for the next visit.
    assert_eq!(app.update(key(KeyCode::Esc)), vec![]);
    app.update(key(KeyCode::Enter));
    assert!(screen(&app, 120, 40).contains("200.0 output tok/s"));
}

/// `x` stops the running benchmark from the table or the detail; the report of what ran
/// still comes. Read-only refuses to start one.
#[test]
fn bench_x_stops_the_run_and_read_only_refuses_it() {
    let mut app = fleet();
    let run = start_bench(&mut app);
    assert_eq!(app.update(key(KeyCode::Char('x'))), vec![Command::Cancel(run)]);
    assert!(screen(&app, 80, 24).contains("stopping bench llama-70b"));
    // A second `x` has nothing more to stop.
    assert_eq!(app.update(key(KeyCode::Char('x'))), vec![]);
    app.update(Event::Endpoints(EndpointEvent::BenchDone { run, result: Ok(report()) }));
    let text = &app.message.as_ref().unwrap().text;
    assert!(text.contains("bench llama-70b stopped"), "{text}");
    app.update(key(KeyCode::Enter));
    assert!(screen(&app, 200, 60).contains("stopped early"));
    // Nothing runs now: `x` says so.
    assert_eq!(app.update(key(KeyCode::Char('x'))), vec![]);
    assert!(app.message.as_ref().unwrap().text.contains("no benchmark is running"));

    let mut settings = settings(&[("llama", "http://10.0.0.5:8000")]);
    settings.readonly = true;
    let mut app = App::new(settings);
    app.start();
    app.update(key(KeyCode::Char('4')));
    app.update(key(KeyCode::Char('b')));
    assert!(matches!(app.endpoints.pane, Pane::Table));
    assert!(app.message.as_ref().unwrap().text.contains("read-only"));
}

/// A run that cannot start (no server answers `/v1/models`) says why on the message line and
/// in the detail.
#[test]
fn a_failed_bench_says_why() {
    let mut app = fleet();
    let run = start_bench(&mut app);
    let cause = "GET http://10.0.0.5:8000/v1/models: connection refused";
    app.update(Event::Endpoints(EndpointEvent::BenchDone { run, result: Err(cause.into()) }));
    let message = app.message.as_ref().unwrap();
    assert_eq!(message.level, Level::Error);
    assert!(message.text.contains(cause), "{}", message.text);
    app.update(key(KeyCode::Enter));
    assert!(screen(&app, 160, 48).contains(&format!("failed: {cause}")));
}

/// Issue 20: the GPU pane charts the endpoint's own GPUs beside its TTFT and tokens/s, on the
/// same five minutes ending at the same `now`: GPU samples two minutes back ramp up with the
/// endpoint's load, so both rise together across the charts.
#[test]
fn detail_charts_the_endpoints_gpus_on_the_ttft_time_axis() {
    use aimdeck::model::gpu::{Gpu, GpuSnapshot, GpuVendor};
    use aimdeck::monitor::gpu_history::GpuHistory;
    use aimdeck::monitor::gpu_poller::GpuUpdate;
    let mut app = fleet();
    app.update(key(KeyCode::Enter));
    app.endpoints.set_gpu_indices("llama-70b", vec![0, 1]);
    let mut history = GpuHistory::new(120);
    let mut gpus = GpuSnapshot::default();
    for ago in (0..=120).rev().step_by(4) {
        let load = (120 - ago) as f64 / 120.0;
        gpus.gpus = (0..2)
            .map(|i| {
                let mut gpu = Gpu::new(i, GpuVendor::Nvidia, "NVIDIA H100 80GB HBM3");
                gpu.memory_total_bytes = Some(81559 << 20);
                gpu.memory_used_bytes = Some((40_000.0 + 22_000.0 * load) as u64 * (1 << 20));
                gpu.utilization_percent = Some(100.0 * load);
                gpu.power_watts = Some(90.0 + 520.0 * load);
                gpu.clock_mhz = Some(345.0 + 1635.0 * load);
                gpu
            })
            .collect();
        history.record(&gpus, (NOW - ago * 1000) as u64);
    }
    app.update(Event::Gpus(std::sync::Arc::new(GpuUpdate {
        pass: 31,
        snapshot: gpus,
        history,
        took: std::time::Duration::ZERO,
    })));
    let shown = screen(&app, 160, 48);
    for title in ["GPU memory", "GPU util", "GPU power", "GPU clock", "TTFT", "tokens/s"] {
        assert!(shown.contains(title), "{title}: {shown}");
    }
    snapshot("endpoint_detail_gpu_charts", &app);
}
