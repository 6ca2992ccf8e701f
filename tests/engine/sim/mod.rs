//! `aimdeck-sim` speaks the engines' wire formats: the tests check what a client of a real
//! vLLM or SGLang server would see.

use crate::sim_support;

use std::time::Duration;

use serde_json::{Value, json};
use sim_support::SimProcess;

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// The value of the one sample line `name{...labels} value` whose labels contain all of `labels`.
fn sample(page: &str, name: &str, labels: &[&str]) -> Vec<f64> {
    page.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} "))
        })
        .filter(|line| labels.iter().all(|l| line.contains(l)))
        .filter_map(|line| line.rsplit(' ').next()?.parse().ok())
        .collect()
}

mod command_line;
mod lifecycle;
mod metrics;
mod openai_api;
