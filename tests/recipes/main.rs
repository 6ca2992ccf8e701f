//! Recipes: the built-in library against its schema, the CLI's select, validate, fit and import,
//! and every reader under arbitrary and damaged input (property tests). One test binary (each
//! module was one of its own).

mod builtin;
mod cli;
mod readers;
