//! aimdeck: a keyboard-driven terminal console for running LLM inference.
//!
//! Layers (each depends only on those above it):
//! - `model`: plain data, no I/O.
//! - `recipes`, `engine`, `hardware`, `cache`: domain logic over `model`.
//! - `backend`, `monitor`: deployments and live polling.
//! - `tui`, `cli`: the console and the headless subcommands.
//!
//! `docs/architecture.md` describes the layers and the event flow.

pub mod backend;
pub mod cache;
pub mod cli;
pub mod config;
pub mod engine;
#[doc(hidden)]
pub mod fuzz_entry;
pub mod hardware;
pub mod logging;
pub mod model;
pub mod monitor;
pub mod ops;
pub mod paths;
pub mod recipes;
pub mod tui;
