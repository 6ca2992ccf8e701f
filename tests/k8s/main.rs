//! The Kubernetes backend against a fake API server as strict as the real one (recorded schemas),
//! the CLI's k8s subcommands, the operators' exports, and a real cluster when one is given. One
//! test binary (each module was one of its own).

#[path = "../support/fake_kube/mod.rs"]
mod fake_kube;

mod adapter;
mod backend;
mod cli;
mod exports;
mod real_cluster;
