//! Serving engines: how to launch vLLM and SGLang from a `DeploymentSpec`, how to tell which
//! engine an endpoint runs and whether it is healthy, its metrics, the OpenAI-compatible
//! streaming client (prompt playground) and the smoke benchmark.

pub mod argparse;
pub mod bench;
pub mod bench_stats;
pub mod detect;
pub mod facts;
pub mod health;
pub mod images;
pub mod launch;
pub mod metrics;
pub mod openai;
pub mod probe;
pub mod readiness;
pub mod startup;
pub mod stream_chunk;

pub use launch::{LaunchCommand, launch_command};
