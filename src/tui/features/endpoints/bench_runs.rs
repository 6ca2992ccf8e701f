//! How a background benchmark moves through the console: `b` opens the form (or says why
//! not), submitting starts the job and returns to the table, progress events feed the footer,
//! `x` stops it, and the end keeps the report for the endpoint's detail and says so on the
//! message line. No I/O here: the run itself is `effects::endpoints`' task.

use crate::engine::bench::{BenchProgress, BenchReport};
use crate::tui::ctx::Turn;
use crate::tui::event::{Command, RunId};
use crate::tui::features::endpoints::EndpointCommand;
use crate::tui::features::endpoints::bench::{
    BenchAsk, BenchJob, BenchOutcome, BenchPane, BenchTargets,
};
use crate::tui::features::endpoints::view::{EndpointsState, Pane};
use crate::tui::joins::deployment_rows::{deployment_part, shown_name};
use crate::tui::keymap::Action;
use crate::tui::messages::Level;

/// The message line's subject for everything about the benchmark, so each message replaces
/// the one before it (started, stopping, done).
const SUBJECT: &str = "bench";

/// Where `id`'s requests would go: a deployment's ready replicas (through the Service on
/// Kubernetes), or a watched endpoint's URL.
pub fn targets(turn: &Turn<'_, EndpointsState>, id: &str) -> Result<BenchTargets, String> {
    if let Some(deployment) = deployment_part(id).and_then(|name| turn.ctx.deploy.find(name)) {
        let ready = deployment.ready_urls();
        if ready.is_empty() {
            return Err(format!(
                "bench: {} has no ready replica ({} of {} ready); try again when one is",
                deployment.name,
                deployment.ready_replicas(),
                deployment.replicas.len()
            ));
        }
        let on_kubernetes = deployment.backend == crate::backend::kubernetes::adapter::NAME;
        return Ok(BenchTargets::replicas(ready, on_kubernetes));
    }
    match turn.state.watched.get(id) {
        Some(watched) => Ok(BenchTargets::one(&watched.url)),
        None => Err(format!("bench: `{id}` is no longer watched")),
    }
}

/// `b` on a row: the form, unless a run is going or there is nothing to aim at.
pub fn open_form(turn: &mut Turn<'_, EndpointsState>, id: &str) {
    if turn.ctx.readonly {
        let refusal = turn.ctx.keymap.refusal(Action::Bench);
        turn.notify(Level::Warning, refusal);
        return;
    }
    if let Some(job) = &turn.state.bench_job {
        let text = format!(
            "bench: {} is being benchmarked ({}/{}); x stops it, or wait for its report",
            shown_name(&job.endpoint_id),
            job.progress.done,
            job.progress.total
        );
        turn.notify_on(SUBJECT, Level::Warning, text);
        return;
    }
    match targets(turn, id) {
        Ok(targets) => {
            let model = turn.state.histories.get(id).and_then(|h| h.models.first().cloned());
            turn.state.pane = Pane::Bench(Box::new(BenchPane::new(id, targets, model)));
        }
        Err(why) => turn.notify_on(SUBJECT, Level::Warning, why),
    }
}

/// The form was submitted: the job starts and the table comes back.
pub fn start(turn: &mut Turn<'_, EndpointsState>, pane: &BenchPane, ask: BenchAsk) -> Vec<Command> {
    let run = turn.ctx.new_run();
    let job = BenchJob {
        endpoint_id: pane.endpoint_id.clone(),
        targets: pane.targets.clone(),
        run,
        progress: BenchProgress { total: ask.requests, ..BenchProgress::default() },
        stopping: false,
    };
    let text = format!(
        "bench {} started: {} requests over {}; x stops it",
        shown_name(&job.endpoint_id),
        ask.requests,
        job.targets.label
    );
    turn.notify_on(SUBJECT, Level::Info, text);
    let command = EndpointCommand::Bench {
        run,
        urls: job.targets.urls.clone(),
        model: pane.model.clone(),
        ask,
    };
    turn.state.bench_job = Some(job);
    turn.state.pane = Pane::Table;
    vec![Command::Endpoints(command)]
}

/// `x` in the Endpoints view: stop the running job (the report covers what finished).
pub fn stop(turn: &mut Turn<'_, EndpointsState>) -> Vec<Command> {
    let Some(job) = turn.state.bench_job.as_mut() else {
        turn.notify(Level::Info, "cancel: no benchmark is running");
        return Vec::new();
    };
    if job.stopping {
        return Vec::new();
    }
    job.stopping = true;
    let (run, text) = (
        job.run,
        format!("bench {}: stopping after the requests in flight", shown_name(&job.endpoint_id)),
    );
    turn.notify_on(SUBJECT, Level::Info, text);
    vec![Command::Cancel(run)]
}

pub fn progress(turn: &mut Turn<'_, EndpointsState>, run: RunId, progress: BenchProgress) {
    if let Some(job) = turn.state.bench_job.as_mut().filter(|job| job.run == run) {
        job.progress = progress;
        // The footer shows it in every view.
        turn.redraw();
    }
}

pub fn finished(
    turn: &mut Turn<'_, EndpointsState>,
    run: RunId,
    result: Result<BenchReport, String>,
) {
    let Some(job) = turn.state.bench_job.take_if(|job| job.run == run) else { return };
    let outcome = BenchOutcome {
        targets: job.targets,
        finished_unix_ms: turn.ctx.now.unix_ms,
        stopped: job.stopping,
        result,
    };
    let level = match &outcome.result {
        Ok(report) if report.failed == 0 => Level::Info,
        Ok(_) => Level::Warning,
        Err(_) => Level::Error,
    };
    turn.notify_on(SUBJECT, level, outcome.summary(&job.endpoint_id));
    turn.state.bench_results.insert(job.endpoint_id, outcome);
    turn.redraw();
}
