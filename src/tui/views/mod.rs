//! The views and the frame around them. Rendering is a pure function of `App`.

pub mod empty;
pub mod frame;
pub mod help;
pub mod resources;

use std::fmt;

/// The tabbed views, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViewId {
    Gpus,
    Cache,
    Recipes,
    Endpoints,
}

impl ViewId {
    pub const TABS: [ViewId; 4] = [ViewId::Gpus, ViewId::Cache, ViewId::Recipes, ViewId::Endpoints];

    pub fn title(self) -> &'static str {
        match self {
            ViewId::Gpus => "GPUs",
            ViewId::Cache => "Cache",
            ViewId::Recipes => "Recipes",
            ViewId::Endpoints => "Endpoints",
        }
    }

    pub fn command(self) -> &'static str {
        match self {
            ViewId::Gpus => "gpus",
            ViewId::Cache => "cache",
            ViewId::Recipes => "recipes",
            ViewId::Endpoints => "endpoints",
        }
    }

    fn position(self) -> usize {
        ViewId::TABS.iter().position(|&v| v == self).unwrap_or(0)
    }

    pub fn next(self) -> ViewId {
        ViewId::TABS[(self.position() + 1) % ViewId::TABS.len()]
    }

    pub fn prev(self) -> ViewId {
        ViewId::TABS[(self.position() + ViewId::TABS.len() - 1) % ViewId::TABS.len()]
    }
}

impl fmt::Display for ViewId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}
