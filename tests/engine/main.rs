//! The engines as a client sees them: the sim's wire formats against the real releases' facts,
//! the CLI's probe and bench, metrics parsing, the OpenAI stream, the endpoint monitor and its
//! faults. One test binary (each module was one of its own).

#[path = "../sim_support/mod.rs"]
mod sim_support;

mod cli;
mod faults;
mod metrics;
mod monitor;
mod openai;
mod sim;
