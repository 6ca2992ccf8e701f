//! Engine metrics: the Prometheus text parser, the metric names of vLLM and SGLang (current and
//! older releases), one page reduced to a `Snapshot`, and rates and percentiles between
//! snapshots (`window`).

pub mod histogram;
pub mod names;
pub mod parse;
pub mod rates;
pub mod snapshot;
pub mod window;

pub use histogram::Histogram;
pub use parse::{Page, ParseError, parse};
pub use snapshot::{Snapshot, detect_engine, snapshot};
pub use window::SampleWindow;
