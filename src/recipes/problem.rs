//! One thing wrong with a recipe file, located to the line and column, with the field and what
//! was expected: the unit every loader and validator reports in.

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file as the user named it, or `builtin:recipes/NAME.yaml` for a built-in.
    pub file: String,
    /// 1-based; 0 when the problem has no place in the file (e.g. it cannot be read).
    pub line: u64,
    pub column: u64,
    /// Dotted path of the field, e.g. `parallelism.tp`; empty when the problem is the whole file.
    pub field: String,
    pub message: String,
    /// What would have been accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
}

impl Problem {
    pub fn new(
        file: &str,
        line: u64,
        column: u64,
        field: &str,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            file: file.to_string(),
            line,
            column,
            field: field.to_string(),
            message: message.into(),
            expected: None,
        }
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Problem {
        self.expected = Some(expected.into());
        self
    }
}

/// `file:line:column: field: message (expected ...)`, the shape editors and terminals link.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        f.write_str(": ")?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)?;
        if let Some(expected) = &self.expected {
            write!(f, " (expected {expected})")?;
        }
        Ok(())
    }
}
