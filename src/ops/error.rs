//! Why a request cannot become a deployment. Each message names the field and what was expected.

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResolveError {
    #[error("recipe `{id}` is not in the library{}", closest_text(closest))]
    UnknownRecipe { id: String, closest: Vec<String> },
    #[error("recipe `{id}` serves {serves}, not --model {asked}")]
    WrongModel { id: String, serves: String, asked: String },
    /// A flag that cannot hold together with the recipe (or with another flag).
    #[error("{0}")]
    Contradiction(String),
    /// The recipe's GPU (or enough of them) is not on the target.
    #[error("{0} (--force deploys anyway)")]
    GpuNotHere(String),
    #[error("no recipe for {model} fits {target}, and none could be derived (--no-recipe runs the bare engine):\n  {}", reasons.join("\n  "))]
    NothingFits { model: String, target: String, reasons: Vec<String> },
    /// Live GPU memory is short (preflight).
    #[error("{0} (--force deploys anyway)")]
    Preflight(String),
    #[error("{0}")]
    Invalid(String),
}

fn closest_text(closest: &[String]) -> String {
    if closest.is_empty() { String::new() } else { format!("; closest: {}", closest.join(", ")) }
}
