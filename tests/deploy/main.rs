//! Deployments from the CLI on the process and Docker backends: lifecycle, listing, read-only mode,
//! secrets, concurrency and the demo. One test binary (each module was one of its own).

#[path = "../support/cache_tree.rs"]
mod cache_tree;
#[path = "../support/mod.rs"]
mod support;

mod cli;
mod concurrency;
mod demo;
mod docker;
