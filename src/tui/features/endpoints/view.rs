//! The Endpoints view: every watched serving endpoint in one table (engine, model, state and
//! how long it has been in it, queue, KV cache, tokens/s, TTFT p95), and the panes opened from
//! a row: the detail with charts (`detail.rs`), the prompt playground
//! (`playground.rs`) and the smoke benchmark (`bench.rs`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::Block;

use crate::config::WatchedEndpoint;
use crate::engine::startup::StartupTracker;
use crate::model::{EndpointSample, EndpointState};
use crate::monitor::{EndpointHistories, EndpointHistory};
use crate::tui::ctx::Ctx;
use crate::tui::features::endpoints::bench::{BenchJob, BenchOutcome, BenchPane};
use crate::tui::features::endpoints::playground::Playground;
use crate::tui::theme::Theme;
use crate::tui::widgets::{Column, Cut, SortKey, TableCell, TableRow};

/// What the console starts watching: the config file's `endpoints:`.
#[derive(Debug, Clone, Default)]
pub struct EndpointSettings {
    pub watched: Vec<WatchedEndpoint>,
    /// Where they were read from (for the empty state).
    pub config_file: PathBuf,
}

/// Where a watched endpoint came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Config,
    /// `:add` in this session.
    Added,
    /// A replica of a deployment: polled like the others, shown in its deployment's row.
    Deployment,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    pub url: String,
    pub origin: Origin,
}

/// What the Endpoints view shows over (or instead of) its table.
#[derive(Debug, Clone, Default)]
pub enum Pane {
    #[default]
    Table,
    /// The detail of the selected row (`j`/`k` move to the next endpoint).
    Detail,
    Playground(Box<Playground>),
    Bench(Box<BenchPane>),
}

#[derive(Debug, Clone, Default)]
pub struct EndpointsState {
    pub settings: EndpointSettings,
    /// Watched endpoints by id (the config's name, or the URL for `:add URL`).
    pub watched: BTreeMap<String, Watched>,
    pub histories: EndpointHistories,
    pub pane: Pane,
    /// Hook for deployments: the GPU indices each endpoint holds, so the detail can show their
    /// utilisation, memory and power. A watched URL holds none that aimdeck knows of.
    pub gpu_indices: BTreeMap<String, Vec<u32>>,
    /// Hook for deployments: a starting replica's phase read from its log by the backend.
    pub startup: BTreeMap<String, StartupTracker>,
    /// The time views measure "time in state" against: the newest update's clock. Tests fix
    /// it for reproducible screens.
    pub now_unix_ms: i64,
    pub fixed_now_unix_ms: Option<i64>,
    /// The benchmark running in the background, if one is (`bench_runs`).
    pub bench_job: Option<BenchJob>,
    /// Each endpoint row's last finished benchmark, for its detail.
    pub bench_results: BTreeMap<String, BenchOutcome>,
    /// Polls arrived since the table was built (`joins::flush` rebuilds it).
    pub rows_stale: bool,
}

impl EndpointsState {
    pub fn new(settings: EndpointSettings) -> EndpointsState {
        EndpointsState {
            settings,
            histories: EndpointHistories::charting(crate::tui::joins::deployment_rows::is_charted),
            ..EndpointsState::default()
        }
    }

    pub fn names(&self) -> Vec<String> {
        self.watched.keys().cloned().collect()
    }

    /// The endpoints `:rm` can stop watching: the config's and `:add`'s. A deployment's
    /// replicas are watched for as long as it runs (their `deploy:` ids are internal).
    pub fn removable_names(&self) -> Vec<String> {
        self.watched
            .iter()
            .filter(|(_, watched)| watched.origin != Origin::Deployment)
            .map(|(id, _)| id.clone())
            .collect()
    }

    pub fn pane_open(&self) -> bool {
        !matches!(self.pane, Pane::Table)
    }

    pub fn now(&self) -> i64 {
        self.fixed_now_unix_ms.unwrap_or(self.now_unix_ms)
    }

    /// Hook for deployments: the GPUs `id` holds (replaces what was known).
    pub fn set_gpu_indices(&mut self, id: &str, indices: Vec<u32>) {
        self.gpu_indices.insert(id.to_string(), indices);
    }
}

pub fn columns() -> Vec<Column> {
    vec![
        Column::new("NAME", Constraint::Min(8)),
        Column::new("ENGINE", Constraint::Length(6)),
        // At least `…/` and 14 characters of the name, so two models of one family differ;
        // at 80 columns BACKEND makes way for it (the header names the backend).
        Column::new("MODEL", Constraint::Min(16)).cut(Cut::Model).shrinks_first(),
        Column::new("BACKEND", Constraint::Length(7)).optional(),
        Column::new("REPL", Constraint::Length(4)),
        // As wide as its text: a failed rollout says why here (cut with an ellipsis when
        // narrow; the detail wraps the whole cause).
        Column::new("STATE", Constraint::Min(12)).shrinks_first(),
        Column::new("RUN", Constraint::Length(3)),
        Column::new("WAIT", Constraint::Length(4)),
        Column::new("KV%", Constraint::Length(3)),
        Column::new("TOK/S", Constraint::Length(5)),
        Column::new("TTFT95", Constraint::Length(6)),
    ]
}

/// `45s`, `12m`, `3h`, `2d`: how long, to the unit that matters.
pub fn short_age(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// Seconds as `850ms` or `1.25s`.
pub fn latency(seconds: Option<f64>) -> String {
    match seconds {
        Some(s) if s < 1.0 => format!("{:.0}ms", s * 1000.0),
        Some(s) => format!("{s:.2}s"),
        None => "-".into(),
    }
}

fn count(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.0}")).unwrap_or_else(|| "-".into())
}

pub fn state_style(state: EndpointState, theme: &Theme) -> ratatui::style::Style {
    match state {
        EndpointState::Ready => theme.ok,
        EndpointState::Starting => theme.warning,
        EndpointState::Unhealthy | EndpointState::Down => theme.error,
    }
}

fn sample_value(
    sample: Option<&EndpointSample>,
    value: impl Fn(&EndpointSample) -> Option<f64>,
) -> Option<f64> {
    sample.and_then(value)
}

/// What one table row says: who it is, and its live state and numbers. A watched URL is one
/// replica with backend `watched`; a deployment gives its own name, backend, replica counts and
/// numbers aggregated over its replicas.
#[derive(Debug, Clone)]
pub struct RowFacts<'a> {
    /// The row's identity (the selection follows it); also the history id for the panes.
    pub id: &'a str,
    pub name: &'a str,
    pub engine: Option<&'a str>,
    pub model: Option<&'a str>,
    pub backend: &'a str,
    pub ready: u32,
    pub desired: u32,
    /// Where the engine and model come from when the row does not say.
    pub history: Option<&'a EndpointHistory>,
    pub live: Live,
}

/// The STATE column and the numbers of a row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Live {
    pub state_text: String,
    pub state_style: ratatui::style::Style,
    pub running: Option<f64>,
    pub waiting: Option<f64>,
    /// 0..1.
    pub kv_cache: Option<f64>,
    pub tokens_per_s: Option<f64>,
    pub ttft_p95: Option<f64>,
}

impl Live {
    /// One endpoint's state (with how long it has been in it) and its newest numbers.
    pub fn of(history: Option<&EndpointHistory>, now: i64, theme: &Theme) -> Live {
        let state = history.map_or(EndpointState::Starting, |h| h.state);
        let age = history
            .filter(|h| h.state_since_unix_ms > 0)
            .map(|h| short_age(h.seconds_in_state(now)));
        let state_text = match age {
            Some(age) => format!("{state} {age}"),
            None => state.to_string(),
        };
        let mut live =
            Live { state_text, state_style: state_style(state, theme), ..Live::default() };
        live.set_numbers(history.and_then(EndpointHistory::latest));
        live
    }

    pub fn set_numbers(&mut self, latest: Option<&EndpointSample>) {
        self.running = sample_value(latest, |s| s.requests_running);
        self.waiting = sample_value(latest, |s| s.requests_waiting);
        self.kv_cache = sample_value(latest, |s| s.kv_cache_usage);
        self.tokens_per_s = sample_value(latest, |s| s.generation_tokens_per_s);
        self.ttft_p95 = sample_value(latest, |s| s.ttft.p95);
    }
}

fn row(id: &str, history: Option<&EndpointHistory>, now: i64, theme: &Theme) -> TableRow {
    let ready = u32::from(history.is_some_and(|h| h.state == EndpointState::Ready));
    let live = Live::of(history, now, theme);
    endpoint_row(RowFacts {
        id,
        name: id,
        engine: None,
        model: None,
        backend: "watched",
        ready,
        desired: 1,
        history,
        live,
    })
}

/// One row of the Endpoints table in its columns; the engine and model fall back to what the
/// endpoint itself reported.
pub fn endpoint_row(facts: RowFacts<'_>) -> TableRow {
    let RowFacts { id, name, history, ready, desired, backend, live, .. } = facts;
    let engine = facts
        .engine
        .map(str::to_string)
        .or_else(|| history.and_then(|h| h.engine).map(|e| e.to_string()))
        .unwrap_or_else(|| "?".into());
    let model = facts
        .model
        .map(str::to_string)
        .or_else(|| history.and_then(|h| h.models.first().cloned()))
        .unwrap_or_else(|| "-".into());
    let kv = live.kv_cache.map(|f| f * 100.0);
    TableRow {
        id: id.to_string(),
        cells: vec![
            TableCell::text(name),
            TableCell::text(engine),
            TableCell::text(model),
            TableCell::text(backend),
            TableCell::number(Some(f64::from(ready)), format!("{ready}/{desired}")),
            TableCell::styled(
                Line::styled(live.state_text.clone(), live.state_style),
                SortKey::Text(live.state_text),
            ),
            TableCell::number(live.running, count(live.running)),
            TableCell::number(live.waiting, count(live.waiting)),
            TableCell::number(kv, count(kv)),
            TableCell::number(live.tokens_per_s, count(live.tokens_per_s)),
            TableCell::number(live.ttft_p95, latency(live.ttft_p95)),
        ],
    }
}

/// One row per watched URL, with its newest sample (the deployments' rows come after them,
/// from `views::deployments::rows`).
pub fn rows(state: &EndpointsState, theme: &Theme) -> Vec<TableRow> {
    let now = state.now();
    state
        .watched
        .iter()
        .filter(|(_, watched)| watched.origin != Origin::Deployment)
        .map(|(id, _)| row(id, state.histories.get(id), now, theme))
        .collect()
}

/// Where the view looked and how to add an endpoint.
pub fn empty_note(settings: &EndpointSettings) -> Vec<String> {
    // Before the settings are known, the documented default rather than this machine's path.
    let file = if settings.config_file.as_os_str().is_empty() {
        PathBuf::from("~/.config/aimdeck/config.yaml")
    } else {
        settings.config_file.clone()
    };
    vec![
        "No endpoints are watched.".into(),
        format!("Looked under `endpoints:` in {} (none listed).", file.display()),
        "Watch a server now with :add http://host:port (or :add NAME http://host:port).".into(),
    ]
}

/// Draws the view's body: the table, or the open pane.
pub fn render(ctx: &Ctx, frame: &mut Frame, area: Rect, block: Block<'_>) {
    let state = &ctx.endpoints;
    let table = &ctx.view_state(crate::tui::views::ViewId::Endpoints).table;
    match &state.pane {
        Pane::Table => table.render(frame, area, block, ctx.theme),
        Pane::Detail => match table.selected() {
            Some(row) => crate::tui::features::endpoints::detail::render(ctx, frame, area, &row.id),
            None => table.render(frame, area, block, ctx.theme),
        },
        Pane::Playground(playground) => playground.render(frame, area, ctx.theme),
        Pane::Bench(bench) => bench.render(frame, area, ctx.theme),
    }
}

/// Footer hints while a pane has the keyboard.
pub fn footer_hints(ctx: &Ctx) -> Vec<(String, &'static str)> {
    let hint = |k: &str, w: &'static str| (k.to_string(), w);
    match &ctx.endpoints.pane {
        Pane::Table => Vec::new(),
        Pane::Detail => {
            let mut hints = vec![hint("j/k", "next endpoint"), hint("p", "prompt")];
            hints.push(match ctx.endpoints.bench_job {
                Some(_) => hint("x", "stop bench"),
                None => hint("b", "bench"),
            });
            hints.extend([hint("esc", "back"), hint("q", "quit")]);
            hints
        }
        Pane::Playground(playground) if playground.is_streaming() => vec![hint("esc", "cancel")],
        Pane::Playground(_) => vec![hint("ctrl-s", "send"), hint("esc", "back")],
        Pane::Bench(bench) => bench.footer_hints(),
    }
}
