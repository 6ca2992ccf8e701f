//! Deployments in the Endpoints view: one row per deployment of every open backend (replicas
//! ready/desired, state, GPUs), the pager for rendered configs and the journal, and the logs.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear};
use ratatui::Frame;

use crate::model::{Deployment, ReplicaState};
use crate::tui::app::Pager;
use crate::tui::deploy_flow::{DeployState, LogsView};
use crate::tui::theme::Theme;
use crate::tui::views::endpoints::{endpoint_row, EndpointsState, RowFacts};
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
    } else if states.iter().any(|s| *s == ReplicaState::Unhealthy) {
        "Unhealthy"
    } else {
        "Starting"
    }
}

/// The monitor's id for a replica: the deployment row's own id for replica 0.
pub fn replica_id(deployment: &str, replica: u32) -> String {
    if replica == 0 { format!("deploy:{deployment}") } else { format!("deploy:{deployment}/{replica}") }
}

/// One Endpoints row per deployment, in that table's columns, with replica 0's live numbers.
pub fn rows(state: &DeployState, endpoints: &EndpointsState, theme: &Theme) -> Vec<TableRow> {
    state
        .all()
        .map(|d| {
            let id = replica_id(&d.name, 0);
            endpoint_row(
                RowFacts {
                    id: &id,
                    name: &d.name,
                    engine: Some(d.spec.engine.as_str()),
                    model: Some(&d.spec.model),
                    backend: &d.backend,
                    ready: d.ready_replicas() as u32,
                    desired: d.spec.replicas.max(d.replicas.len() as u32),
                    history: endpoints.histories.get(&id),
                },
                endpoints.now(),
                theme,
            )
        })
        .collect()
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

fn popup(area: Rect) -> Rect {
    Rect { x: area.x + 1, y: area.y, width: area.width.saturating_sub(2), height: area.height }
}

pub fn render_pager(frame: &mut Frame, area: Rect, pager: &Pager, theme: &Theme) {
    let area = popup(area);
    frame.render_widget(Clear, area);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(if pager.create.is_some() { theme.border_focused } else { theme.border })
        .title(Span::styled(format!(" {} ", pager.title), theme.accent));
    pager.pane.render(frame, area, block, theme);
}

pub fn render_logs(frame: &mut Frame, area: Rect, logs: &LogsView, theme: &Theme) {
    let area = popup(area);
    frame.render_widget(Clear, area);
    let mut bottom = vec![Span::styled(if logs.pane.follow { " following " } else { " paused (G follows) " }, theme.muted)];
    if let Some(query) = &logs.searching {
        bottom.push(Span::styled(format!(" /{query}▏"), theme.accent));
    } else if let Some(query) = logs.pane.search() {
        bottom.push(Span::styled(format!(" search: {query} "), theme.info));
    }
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme.border_focused)
        .title(Span::styled(format!(" Logs: {} ", logs.deployment), theme.accent))
        .title_bottom(Line::from(bottom));
    logs.pane.render(frame, area, block, theme);
}
