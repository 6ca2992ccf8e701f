//! Outages, a wedged API server and the autoscaler: the console says so and recovers.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_server_outage_shows_its_cause_and_the_views_recover_on_their_own() {
    let fake = cluster().await;
    let mut console = Console::start(&fake);
    console
        .until("the cluster inventory", |app| {
            app.cluster.inventory.as_ref().is_some_and(|i| i.nodes.is_ok())
        })
        .await;

    fake.fail("/nodes");
    // The console rereads the cluster on its clock; nobody presses anything.
    let ticks = |console: &mut Console| {
        for _ in 0..aimdeck::tui::features::cluster::REFRESH_TICKS {
            console.press(Event::Tick(aimdeck::tui::event::Now::read()));
        }
    };
    ticks(&mut console);
    console
        .until("the outage", |app| app.cluster.inventory.as_ref().is_some_and(|i| i.nodes.is_err()))
        .await;
    let down = console.screen(160, 48);
    assert!(down.contains("HTTP 500") && down.contains("etcdserver: request timed out"), "{down}");
    assert!(!console.app.should_quit);
    // What does not depend on nodes stays on screen meanwhile.
    console.press(key(KeyCode::Char('4')));
    assert!(console.screen(160, 48).contains("llama3-8b-nim"));

    fake.heal();
    ticks(&mut console);
    console
        .until("recovered", |app| app.cluster.inventory.as_ref().is_some_and(|i| i.nodes.is_ok()))
        .await;
    console.press(key(KeyCode::Char('1')));
    let up = console.screen(160, 48);
    assert!(up.lines().any(|l| l.contains("h100-a") && l.contains("2/8")), "{up}");
}

/// The picker opens when the kubeconfig has been read, long after the key that asked for it:
/// that answer alone must redraw, or an idle console never shows it.
#[test]
fn the_contexts_answer_alone_redraws_the_screen() {
    use aimdeck::tui::Event;
    use aimdeck::tui::features::cluster::ClusterEvent;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app =
        App::new(Settings { user_themes_dir: "/nonexistent/themes".into(), ..Settings::default() });
    let mut commands = Vec::new();
    for code in [':', 'c', 't', 'x'].map(KeyCode::Char).into_iter().chain([KeyCode::Enter]) {
        commands = app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
    assert_eq!(commands.len(), 1, "one read of the kubeconfig");
    app.take_dirty();
    app.update(Event::Cluster(ClusterEvent::Contexts(Err(
        "kubeconfig: $KUBECONFIG or ~/.kube/config: not found".into(),
    ))));
    assert!(matches!(app.mode, Mode::Pick(..)), "the picker opens with what there is");
    assert!(app.take_dirty(), "and is drawn");
}

/// A wedged API server (requests accepted, never answered) with the console's own bound: the
/// backend is `unreachable` within 10 s with its last rows kept, and back on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wedged_api_server_shows_unreachable_within_10_s_and_recovers() {
    use aimdeck::model::{DeploymentSpec, EngineKind};
    let fake = cluster().await;
    let mut options = BackendOptions::new("/nonexistent");
    options.kubernetes =
        KubeTarget { kubeconfig: Some(fake.kubeconfig_path()), ..Default::default() };
    let spec = DeploymentSpec::minimal("wedge", "Qwen/Qwen3-0.6B", EngineKind::Vllm, 1, 8000);
    open("k8s", &options).expect("opens").create(&spec, None).await.expect("create");
    let mut console = Console::bounded(&fake, aimdeck::tui::CONSOLE_CALL_TIMEOUT);
    console.until_ticking("the deployment listed", |app| app.deploy.find("wedge").is_some()).await;

    let wedged_at = std::time::Instant::now();
    fake.hang("/");
    console
        .until_ticking("the wedged server reported", |app| app.deploy.errors.contains_key("k8s"))
        .await;
    assert!(wedged_at.elapsed() < Duration::from_secs(10), "took {:?}", wedged_at.elapsed());
    assert!(
        console.app.deploy.errors["k8s"].contains("timed out after 5s"),
        "{}",
        console.app.deploy.errors["k8s"]
    );
    assert!(console.app.deploy.find("wedge").is_some(), "the last known row is kept");
    let states = console.app.deploy.backend_states(console.app.now.instant);
    assert!(
        states.iter().any(|(b, s)| b == "k8s" && s.starts_with("unreachable since ")),
        "{states:?}"
    );

    fake.heal();
    console
        .until_ticking("back", |app| {
            app.deploy.find("wedge").is_some() && app.deploy.errors.is_empty()
        })
        .await;
    assert!(
        console.app.deploy.backend_states(console.app.now.instant).is_empty(),
        "ok again: {:?}",
        console.app.deploy.backend_states(console.app.now.instant)
    );
}

/// An autoscaled deployment's detail says who owns its replica count: the HPA's current and
/// desired replicas, its bounds and its last `SuccessfulRescale` event, as the watch reads them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_detail_shows_the_autoscaler_and_its_last_scaling_event() {
    use aimdeck::backend::kubernetes::render::render;
    use aimdeck::backend::kubernetes::{
        ApplyOptions, HpaMetric, HpaOptions, K8sRenderOptions, KubeBackend,
    };

    let fake = FakeKube::start(FakeOptions::default()).await;
    let kube = KubeBackend::connect(&KubeTarget {
        kubeconfig: Some(fake.kubeconfig_path()),
        ..Default::default()
    })
    .await
    .expect("client");
    let spec: aimdeck::model::DeploymentSpec = serde_json::from_value(json!({
        "name": "qwen", "model": "Qwen/Qwen3-8B", "engine": "vllm", "gpu_vendor": "nvidia", "gpus_per_replica": 1, "replicas": 1, "port": 8000,
    }))
    .expect("spec");
    let options = K8sRenderOptions {
        namespace: NAMESPACE.into(),
        hpa: Some(HpaOptions {
            min_replicas: 1,
            max_replicas: 4,
            metric: HpaMetric::Pods {
                metric: "vllm:num_requests_waiting".into(),
                average_value: "5".into(),
            },
        }),
        ..Default::default()
    };
    kube.apply(&render(&spec, &options).expect("renders"), ApplyOptions::default())
        .await
        .expect("applies");
    // The HPA controller's part (the fake has none): status and event, as kube-controller-manager writes them.
    let mut hpa = fake.get("HorizontalPodAutoscaler", NAMESPACE, "qwen").expect("hpa");
    hpa["status"] = json!({"currentReplicas": 2, "desiredReplicas": 3, "lastScaleTime": "2026-12-01T12:01:03Z"});
    fake.put("HorizontalPodAutoscaler", NAMESPACE, hpa);
    fake.put("Event", NAMESPACE, json!({"metadata": {"name": "qwen.1"}, "involvedObject": {"kind": "HorizontalPodAutoscaler", "name": "qwen", "namespace": NAMESPACE},
        "reason": "SuccessfulRescale", "message": "New size: 3; reason: pods metric vllm:num_requests_waiting above target", "type": "Normal", "count": 1,
        "lastTimestamp": "2026-12-01T12:01:03Z"}));

    let mut console = Console::start(&fake);
    // The console relists every other tick; tick until a list has seen the HPA and its event.
    let scaled = |app: &App| {
        app.deploy
            .find("qwen")
            .and_then(|d| d.autoscaler.as_ref())
            .is_some_and(|s| s.desired == 3 && s.last_event.is_some())
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    while !scaled(&console.app) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no autoscaler on the deployment: {:?}",
            console.app.deploy.find("qwen")
        );
        console.press(Event::Tick(aimdeck::tui::event::Now::read()));
        console.press(Event::Tick(aimdeck::tui::event::Now::read()));
        if let Ok(Some(event)) =
            tokio::time::timeout(Duration::from_millis(100), console.events.recv()).await
        {
            console.press(event);
        }
        while let Ok(event) = console.events.try_recv() {
            console.press(event);
        }
    }
    console.press(key(KeyCode::Char('4')));
    console.press(key(KeyCode::Enter));
    let detail = console.screen(200, 48);
    assert!(detail.contains("Deployment qwen"), "{detail}");
    let line = detail
        .lines()
        .find(|l| l.contains("autoscaler"))
        .unwrap_or_else(|| panic!("an autoscaler line:\n{detail}"));
    assert!(
        line.contains(r#"autoscaler hpa: 2 → 3 (min 1, max 4) · last: SuccessfulRescale 12:01:03 "New size: 3; reason: pods metric vllm:num_requests_waiting above target""#),
        "{line}"
    );
}
