//! GPU discovery from recorded tool outputs: the CLI's gpus, health, partitions, holders and
//! placement. One test binary (each module was one of its own).

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod library;
