//! An engine that is unreachable, stops mid-create, stays down or wedges: named, bounded, rolled back, recovered.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_engine_is_named_in_the_error() {
    let backend =
        DockerBackend::new(Some("unix:///nonexistent/docker.sock"), Vec::new(), options());
    let err = backend.list().await.unwrap_err().to_string();
    assert!(
        err.starts_with("cannot reach the Docker engine at unix:///nonexistent/docker.sock"),
        "{err}"
    );
    let health = backend.health().await;
    assert!(!health.reachable);
}

/// The engine goes away while replica 1 is being created: the error says so, and once the
/// engine is back (here after 1 s, as a daemon restart) the rollback removes replica 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_stopping_mid_create_rolls_back_when_it_returns() {
    if !docker_available("the_engine_stopping_mid_create_rolls_back_when_it_returns") {
        return;
    }
    let proxy = support::engine_proxy::EngineProxy::start("/var/run/docker.sock");
    let backend = DockerBackend::new(Some(&proxy.url()), Vec::new(), options());
    let name = unique_name("flaky");
    let _cleanup = DockerCleanup(name.clone());
    proxy.fail_on(&format!("name=aimdeck-{name}-1"), Some(Duration::from_secs(1)));
    let err = backend.create(&image_spec(&name, free_ports(2), 2), None).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "creating `{name}` failed: cannot reach the Docker engine at {}",
            proxy.url()
        )),
        "{text}"
    );
    assert!(text.ends_with("everything it made was removed"), "{text}");
    assert!(containers_of(&name).is_empty());
}

/// The engine stays down: the error names the container the rollback could not remove, and a
/// later `delete` (engine back) removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_staying_down_reports_what_was_left() {
    if !docker_available("the_engine_staying_down_reports_what_was_left") {
        return;
    }
    let proxy = support::engine_proxy::EngineProxy::start("/var/run/docker.sock");
    let backend = DockerBackend::new(Some(&proxy.url()), Vec::new(), options());
    let name = unique_name("down");
    let _cleanup = DockerCleanup(name.clone());
    proxy.fail_on(&format!("name=aimdeck-{name}-1"), None);
    let err =
        backend.create(&image_spec(&name, free_ports(2), 2), None).await.unwrap_err().to_string();
    assert!(
        err.ends_with(&format!(
            "these could not be removed and need cleaning up: aimdeck-{name}-0"
        )),
        "{err}"
    );
    proxy.up();
    assert_eq!(containers_of(&name), vec![format!("aimdeck-{name}-0")]);
    backend.delete(&name).await.unwrap();
    assert!(containers_of(&name).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_instance_sees_a_rollout_mid_way() {
    if !docker_available("a_new_instance_sees_a_rollout_mid_way") {
        return;
    }
    let name = unique_name("midway");
    let _cleanup = DockerCleanup(name.clone());
    let mut spec = image_spec(&name, free_ports(1), 1);
    spec.extra_args = vec!["--startup-delay".into(), "1500ms".into()];
    backend(0).create(&spec, None).await.unwrap();
    let other = backend_fresh();
    let seen = other.get(&name).await.unwrap();
    assert_eq!(seen.replicas[0].state, aimdeck::model::ReplicaState::Starting);
    assert_eq!(seen.replicas[0].name, format!("aimdeck-{name}-0"));
    wait_ready(&other, &name, READY, None).await.unwrap();
    other.delete(&name).await.unwrap();
    assert!(containers_of(&name).is_empty());
}

/// The console through an engine outage: the Deployments list says why it is empty while the
/// engine is away, the console keeps running, and the deployment is back on the next listing
/// once the engine answers, with nobody pressing anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_an_engine_outage_and_recovers_on_its_own() {
    use aimdeck::tui::app::{App, Settings};
    use aimdeck::tui::event::Event;
    if !docker_available("the_console_shows_an_engine_outage_and_recovers_on_its_own") {
        return;
    }
    let name = unique_name("outage");
    let _cleanup = DockerCleanup(name.clone());
    backend(0).create(&image_spec(&name, free_ports(1), 1), None).await.unwrap();

    let proxy = support::engine_proxy::EngineProxy::start("/var/run/docker.sock");
    let through_proxy: std::sync::Arc<dyn Backend> =
        std::sync::Arc::new(DockerBackend::new(Some(&proxy.url()), Vec::new(), options()));
    let cache = tempfile::tempdir().unwrap();
    let (tx, mut events) = tokio::sync::mpsc::channel(1024);
    let backends = aimdeck::backend::registry::Registry::new(vec![through_proxy]);
    let runner = aimdeck::tui::effects::Effects::new(
        tx,
        backends.clone(),
        "/nonexistent/themes".into(),
        Vec::new(),
    );
    let mut app = App::new(Settings {
        user_themes_dir: "/nonexistent/themes".into(),
        cache_root: cache.path().into(),
        backends,
        active_backend: "docker".into(),
        ..Settings::default()
    });
    for command in app.start() {
        runner.run(command);
    }
    // Feeds task results, and a clock tick whenever the console is idle, until `done`.
    async fn until(
        app: &mut App,
        runner: &aimdeck::tui::effects::Effects,
        events: &mut tokio::sync::mpsc::Receiver<Event>,
        what: &str,
        done: impl Fn(&App) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !done(app) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: not within 20 s; errors {:?}",
                app.deploy.errors
            );
            let event = match tokio::time::timeout(Duration::from_millis(200), events.recv()).await
            {
                Ok(Some(event)) => event,
                _ => Event::Tick(aimdeck::tui::event::Now::read()),
            };
            for command in app.update(event) {
                runner.run(command);
            }
        }
    }
    until(&mut app, &runner, &mut events, "the deployment listed", |app| {
        app.deploy.find(&name).is_some()
    })
    .await;

    proxy.fail_on("containers/json", None);
    until(&mut app, &runner, &mut events, "the outage reported", |app| {
        app.deploy.errors.contains_key("docker")
    })
    .await;
    // The last known rows stay, marked stale by the header's state for the backend.
    assert!(app.deploy.find(&name).is_some(), "the last known row is kept");
    assert!(
        app.deploy
            .backend_states(app.now.instant)
            .iter()
            .any(|(b, s)| b == "docker" && s.starts_with("unreachable since ")),
        "{:?}",
        app.deploy.backend_states(app.now.instant)
    );
    assert!(!app.should_quit);
    assert!(
        app.history.iter().any(|m| m.text.starts_with("docker: ")),
        "the cause is in the messages: {:?}",
        app.history
    );

    proxy.up();
    until(&mut app, &runner, &mut events, "the deployment back", |app| {
        app.deploy.find(&name).is_some() && app.deploy.errors.is_empty()
    })
    .await;
    assert!(
        app.deploy.backend_states(app.now.instant).is_empty(),
        "ok again: {:?}",
        app.deploy.backend_states(app.now.instant)
    );

    // A wedged engine (accepts, never answers): unreachable within 10 s, back on its own.
    let wedged_at = std::time::Instant::now();
    proxy.wedge();
    until(&mut app, &runner, &mut events, "the wedged engine reported", |app| {
        app.deploy.errors.contains_key("docker")
    })
    .await;
    assert!(wedged_at.elapsed() < Duration::from_secs(10), "took {:?}", wedged_at.elapsed());
    assert!(
        app.deploy.errors["docker"].contains("no answer from"),
        "{}",
        app.deploy.errors["docker"]
    );
    assert!(app.deploy.find(&name).is_some(), "the last known row is kept");
    proxy.unwedge();
    until(&mut app, &runner, &mut events, "back after the wedge", |app| {
        app.deploy.errors.is_empty() && app.deploy.backend_states(app.now.instant).is_empty()
    })
    .await;
    assert_eq!(
        containers_of(&name),
        vec![format!("aimdeck-{name}-0")],
        "the outage changed nothing on the engine"
    );
    backend(0).delete(&name).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wedged_engine_is_no_answer_within_the_bound() {
    // Accepts every connection and never answers: no engine will ever reply.
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("wedged.sock");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    let _held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let host = format!("unix://{}", socket.display());
    let backend = DockerBackend::new(Some(&host), Vec::new(), options()).with_state_dir(dir.path());
    let started = std::time::Instant::now();
    let err = backend.list().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(7), "took {:?}", started.elapsed());
    assert_eq!(err.to_string(), format!("docker: no answer from {host} in 5 s"));
    assert!(!backend.health().await.reachable);
}
