//! `aimdeck-sim`: a test double for a vLLM or SGLang server (see `args::HELP`). It speaks the
//! engines' wire formats so aimdeck's production code paths run unchanged against it.

mod api;
mod args;
mod generate;
mod metrics_page;
mod reasoning;
mod state;

use std::process::ExitCode;
use std::sync::Arc;

use args::Parsed;
use state::{Fault, Sim};

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match args::parse(&argv) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Help) => {
            print!("{}", args::HELP);
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Version) => {
            println!("aimdeck-sim {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(refused) => {
            // The imitated engine's own words: argparse's usage and error lines.
            eprintln!("{}", refused.text);
            return ExitCode::from(refused.status);
        }
    };
    // Two worker threads are plenty for a stand-in, and keep 200 of them light on a small host.
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(runtime) => runtime,
            Err(err) => {
                eprintln!("aimdeck-sim: cannot start the async runtime: {err}");
                return ExitCode::FAILURE;
            }
        };
    runtime.block_on(serve(args))
}

async fn serve(args: args::SimArgs) -> ExitCode {
    let address = format!("{}:{}", args.host, args.port);
    let flavor = match args.flavor {
        args::Flavor::Vllm => "vllm",
        args::Flavor::Sglang => "sglang",
    };
    eprintln!(
        "aimdeck-sim (test double, flavor {flavor}) model {} loading for {:?}",
        args.served_model_name, args.startup_delay
    );
    // Like a real engine loading weights: nothing listens until loading is done. The log
    // lines are the engines' own milestones, so log-reading code sees a real start.
    let (loading, warming, ready) = match args.flavor {
        args::Flavor::Vllm => (
            format!("INFO [model_runner.py] Starting to load model {}...", args.model),
            "INFO [gpu_model_runner.py] Capturing CUDA graphs (decode, FULL)".to_string(),
            "INFO:     Application startup complete.".to_string(),
        ),
        args::Flavor::Sglang => (
            "[TP0] Load weight begin. avail mem=0.00 GB".to_string(),
            "[TP0] Capture cuda graph begin. This can take up to several minutes.".to_string(),
            "The server is fired up and ready to roll!".to_string(),
        ),
    };
    eprintln!("{loading}");
    tokio::time::sleep(args.startup_delay / 2).await;
    eprintln!("{warming}");
    tokio::time::sleep(args.startup_delay - args.startup_delay / 2).await;
    let listener = match tokio::net::TcpListener::bind(&address).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("aimdeck-sim: cannot listen on {address}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let bound = listener.local_addr().map(|a| a.to_string()).unwrap_or(address);
    let sim = Arc::new(Sim::new(args.clone()));
    schedule_faults(&sim, &args);
    // The line tests and backends wait for, as uvicorn prints it.
    eprintln!("{ready}");
    eprintln!("INFO:     Uvicorn running on http://{bound} (Press CTRL+C to quit)");
    let app = api::router(sim);
    match axum::serve(listener, app).with_graceful_shutdown(termination()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("aimdeck-sim: server error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// SIGTERM (`docker stop`, Kubernetes) or Ctrl-C. As a container's PID 1 a process without a
/// handler ignores SIGTERM, and the container would only stop when killed after the grace period.
async fn termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    eprintln!("INFO:     Shutting down");
}

fn schedule_faults(sim: &Arc<Sim>, args: &args::SimArgs) {
    for (after, fault) in [(args.fail_after, Fault::Failed), (args.hang_after, Fault::Hung)] {
        if let Some(after) = after {
            let sim = sim.clone();
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                sim.set_fault(fault);
            });
        }
    }
    if let Some(after) = args.exit_after {
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            eprintln!("aimdeck-sim: exiting as asked by --exit-after (a crashed engine)");
            std::process::exit(1);
        });
    }
}
