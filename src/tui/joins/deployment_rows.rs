//! Deployment rows from replica polls: a deployment's row in the Endpoints view adds up its
//! replicas' newest numbers from the endpoint monitor's histories, with its rollout; the
//! detail lists each replica. A join of the deploy and endpoints domains, so it lives here.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::model::{Deployment, EndpointSample, EndpointState, Replica, ReplicaState};
use crate::monitor::EndpointHistory;
use crate::tui::features::deploy::DeployState;
use crate::tui::features::deploy::rollout::Rollout;
use crate::tui::features::endpoints::view::{
    EndpointsState, Live, RowFacts, endpoint_row, short_age,
};
use crate::tui::theme::Theme;
use crate::tui::widgets::TableRow;

/// The deployment's state in one word: the worst of its replicas.
pub fn state_word(deployment: &Deployment) -> &'static str {
    let states: Vec<ReplicaState> = deployment.replicas.iter().map(|r| r.state).collect();
    if states.is_empty() {
        "Scaled to 0"
    } else if states.iter().all(|s| *s == ReplicaState::Ready) {
        "Ready"
    } else if states.iter().any(|s| matches!(s, ReplicaState::Failed | ReplicaState::Exited)) {
        "Failed"
    } else if states.contains(&ReplicaState::Unhealthy) {
        "Unhealthy"
    } else {
        "Starting"
    }
}

/// The monitor's id for a replica: the deployment row's own id for replica 0.
pub fn replica_id(deployment: &str, replica: u32) -> String {
    if replica == 0 {
        format!("deploy:{deployment}")
    } else {
        format!("deploy:{deployment}/{replica}")
    }
}

/// What follows `deploy:` in a deployment row's id (`NAME`) or a replica's (`NAME/N`); `None`
/// for a watched endpoint's id. The inverse of `replica_id`.
pub fn deployment_part(id: &str) -> Option<&str> {
    id.strip_prefix("deploy:")
}

/// The name an operator knows a row by: a deployment's own name for its row (`deploy:NAME`)
/// and its replicas (`deploy:NAME/N` reads `NAME/N`), a watched endpoint's name as it is.
pub fn shown_name(id: &str) -> &str {
    deployment_part(id).unwrap_or(id)
}

/// Whether the console can draw `id`'s charts: a watched endpoint's, and a deployment's
/// replica 0 (its detail charts replica 0). Its other replicas (`deploy:NAME/N`) show only
/// their newest numbers, so their histories keep summary timelines (`Timeline::summary`).
pub fn is_charted(id: &str) -> bool {
    match deployment_part(id) {
        Some(rest) => rest.rsplit_once('/').is_none_or(|(_, n)| n.parse::<u32>().is_err()),
        None => true,
    }
}

/// Each replica's newest sample, by replica index.
fn replica_samples<'a>(
    deployment: &'a Deployment,
    endpoints: &'a EndpointsState,
) -> impl Iterator<Item = (&'a Replica, Option<&'a EndpointHistory>)> {
    deployment
        .replicas
        .iter()
        .map(|r| (r, endpoints.histories.get(&replica_id(&deployment.name, r.index))))
}

/// A deployment's numbers across its replicas: requests running and waiting and tokens/s add
/// up (the deployment serves all of them); KV-cache use and TTFT p95 are the highest replica's,
/// since the worst-off replica is what a user of the deployment can hit.
/// A replica that is gone (exited, failed, stopped, or no longer answering) adds nothing: its
/// last sample is history, not what it does now, so a deployment with no live replica shows
/// `-`, not the numbers it had or zeros.
pub fn aggregate(deployment: &Deployment, endpoints: &EndpointsState) -> Live {
    let samples: Vec<&EndpointSample> = replica_samples(deployment, endpoints)
        .filter(|(replica, history)| is_live(replica, *history))
        .filter_map(|(_, h)| h.and_then(EndpointHistory::latest))
        .collect();
    let each =
        |value: fn(&EndpointSample) -> Option<f64>| samples.iter().filter_map(move |s| value(s));
    let sum = |value: fn(&EndpointSample) -> Option<f64>| each(value).reduce(|a, b| a + b);
    let max = |value: fn(&EndpointSample) -> Option<f64>| each(value).reduce(f64::max);
    Live {
        running: sum(|s| s.requests_running),
        waiting: sum(|s| s.requests_waiting),
        tokens_per_s: sum(|s| s.generation_tokens_per_s),
        kv_cache: max(|s| s.kv_cache_usage),
        ttft_p95: max(|s| s.ttft.p95),
        ..Live::default()
    }
}

/// Whether a replica's newest sample says what it does now.
fn is_live(replica: &Replica, history: Option<&EndpointHistory>) -> bool {
    let gone = matches!(
        replica.state,
        ReplicaState::Exited | ReplicaState::Failed | ReplicaState::Stopping
    );
    !gone && history.is_some_and(|h| h.state != EndpointState::Down)
}

/// Seconds a ready replica has been up: from the start time its backend reports (so it
/// restarts with the replica and survives a console restart), else from when the monitor saw
/// it become ready.
pub fn ready_age(
    replica: &Replica,
    history: Option<&EndpointHistory>,
    now_unix_ms: i64,
) -> Option<f64> {
    match replica.started_at_unix_ms {
        Some(started) if replica.state == ReplicaState::Ready => {
            Some((now_unix_ms - started).max(0) as f64 / 1000.0)
        }
        _ => history
            .filter(|h| h.state == EndpointState::Ready && h.state_since_unix_ms > 0)
            .map(|h| h.seconds_in_state(now_unix_ms)),
    }
}

/// The STATE column of a deployment: its rollout while one runs (or the failure it ended
/// in), else `ready 5m`, `2/3 ready`, or the worst replica's state.
fn state_cell(
    deployment: Option<&Deployment>,
    rollout: Option<&Rollout>,
    endpoints: &EndpointsState,
    theme: &Theme,
) -> (String, Style) {
    if let Some(rollout) = rollout {
        return (
            rollout.text(deployment),
            if rollout.failed() { theme.error } else { theme.warning },
        );
    }
    let Some(deployment) = deployment else { return ("gone".into(), theme.muted) };
    let (ready, all) = (deployment.ready_replicas(), deployment.replicas.len());
    match state_word(deployment) {
        _ if all == 0 => ("scaled to 0".into(), theme.muted),
        "Ready" => {
            // How long the deployment has been up: its youngest replica's age (no age until
            // every replica has one).
            let age = replica_samples(deployment, endpoints)
                .map(|(r, h)| ready_age(r, h, endpoints.now()))
                .collect::<Option<Vec<f64>>>()
                .and_then(|ages| ages.into_iter().reduce(f64::min));
            let text = match age {
                Some(age) => format!("ready {}", short_age(age)),
                None => "ready".into(),
            };
            (text, theme.ok)
        }
        _ if ready > 0 => (format!("{ready}/{all} ready"), theme.warning),
        "Starting" => ("starting".into(), theme.warning),
        word => (word.to_ascii_lowercase(), theme.error),
    }
}

/// One Endpoints row per deployment, in that table's columns, with the numbers of all its
/// replicas (`aggregate`); then a row for each rollout whose deployment the backend does not
/// list: one being created, or a create that failed and was rolled back.
pub fn rows(state: &DeployState, endpoints: &EndpointsState, theme: &Theme) -> Vec<TableRow> {
    let mut rows: Vec<TableRow> = state
        .all()
        .map(|d| {
            let id = replica_id(&d.name, 0);
            let (state_text, state_style) =
                state_cell(Some(d), state.rollouts.get(&d.name), endpoints, theme);
            endpoint_row(RowFacts {
                id: &id,
                name: &d.name,
                engine: Some(d.spec.engine.as_str()),
                model: Some(&d.spec.model),
                backend: &d.backend,
                ready: d.ready_replicas() as u32,
                desired: d.spec.replicas.max(d.replicas.len() as u32),
                history: endpoints.histories.get(&id),
                live: Live { state_text, state_style, ..aggregate(d, endpoints) },
            })
        })
        .collect();
    for (name, rollout) in state.rollouts.iter().filter(|(name, _)| state.find(name).is_none()) {
        let id = replica_id(name, 0);
        let (state_text, state_style) = state_cell(None, Some(rollout), endpoints, theme);
        rows.push(endpoint_row(RowFacts {
            id: &id,
            name,
            engine: Some(&rollout.engine),
            model: Some(&rollout.model),
            backend: &rollout.backend,
            ready: 0,
            desired: rollout.target,
            history: None,
            live: Live { state_text, state_style, ..Live::default() },
        }));
    }
    rows
}

/// The deployment part of its detail pane: where it runs, its rollout, and one line per
/// replica with that replica's own numbers.
pub fn detail_lines(
    deploy: &DeployState,
    endpoints: &EndpointsState,
    name: &str,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let deployment = deploy.find(name);
    let rollout = deploy.rollouts.get(name);
    let mut lines = Vec::new();
    let (state_text, state_style) = state_cell(deployment, rollout, endpoints, theme);
    let (backend, ready) = match (deployment, rollout) {
        (Some(d), _) => (d.backend.clone(), format!("{} ready", d.ready_summary())),
        (None, Some(r)) => (r.backend.clone(), "not on the backend".into()),
        (None, None) => {
            return vec![Line::styled(format!("{name}: not listed by any backend"), theme.muted)];
        }
    };
    lines.push(Line::from(vec![
        Span::styled("deployment ", theme.muted),
        Span::styled(name.to_string(), theme.accent),
        Span::styled("  backend ", theme.muted),
        Span::styled(format!("{backend} ({ready})"), theme.text),
        Span::styled("  state ", theme.muted),
        Span::styled(state_text, state_style),
    ]));
    if rollout.is_some_and(Rollout::failed) {
        lines.push(Line::styled("esc dismisses the failure", theme.muted));
    }
    let Some(deployment) = deployment.filter(|d| !d.replicas.is_empty()) else { return lines };
    lines.push(Line::styled(
        format!(
            "{:<3} {:<10} {:<24} {:<8} {:>4} {:>4} {:>4} {:>6}",
            "#", "STATE", "PORT/NAME", "GPUS", "RUN", "WAIT", "KV%", "TOK/S"
        ),
        theme.accent,
    ));
    for (replica, history) in replica_samples(deployment, endpoints) {
        let latest = history.and_then(EndpointHistory::latest);
        let num =
            |value: Option<f64>| value.map(|v| format!("{v:.0}")).unwrap_or_else(|| "-".into());
        let gpus = if replica.gpus.is_empty() {
            "-".to_string()
        } else {
            replica.gpus.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
        };
        let style = match replica.state {
            ReplicaState::Ready => theme.ok,
            ReplicaState::Failed | ReplicaState::Exited | ReplicaState::Unhealthy => theme.error,
            _ => theme.warning,
        };
        let mut spans = vec![
            Span::styled(format!("{:<3} ", replica.index), theme.text),
            Span::styled(format!("{:<10} ", replica.state.as_str()), style),
            Span::styled(
                format!(
                    "{:<24} {:<8} {:>4} {:>4} {:>4} {:>6}",
                    format!(":{} {}", replica.port, replica.name),
                    gpus,
                    num(latest.and_then(|s| s.requests_running)),
                    num(latest.and_then(|s| s.requests_waiting)),
                    num(latest.and_then(|s| s.kv_cache_usage).map(|k| k * 100.0)),
                    num(latest.and_then(|s| s.generation_tokens_per_s)),
                ),
                theme.text,
            ),
        ];
        if let Some(detail) = &replica.detail {
            spans.push(Span::styled(format!("  {detail}"), theme.muted));
        }
        lines.push(Line::from(spans));
    }
    lines
}

pub fn empty_note(state: &DeployState) -> Vec<String> {
    let mut note = vec![
        "No deployments.".to_string(),
        format!(
            "Press c to create one on {} (or `aimdeck deploy NAME --model ORG/NAME`); `aimdeck --demo` shows a live demo.",
            state.active
        ),
    ];
    for (backend, error) in &state.errors {
        note.push(format!("{backend}: {error}"));
    }
    note
}

#[cfg(test)]
mod tests {
    #[test]
    fn replica_zero_and_watched_endpoints_are_charted_the_other_replicas_not() {
        use super::{is_charted, replica_id};
        assert!(is_charted(&replica_id("llama", 0)));
        assert!(!is_charted(&replica_id("llama", 1)));
        assert!(!is_charted(&replica_id("llama", 12)));
        assert!(is_charted("sim-3"));
        assert!(is_charted("http://10.0.0.5:8000/v1"));
    }
}
