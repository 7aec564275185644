//! The isms detection engine: Sigma rules parsed from YAML, compiled, and matched against
//! events. Pure: it reads rule text and event values handed to it, and knows nothing of
//! HTTP, databases or files beyond what callers pass in.

pub mod condition;
pub mod correlation;
pub mod engine;
pub mod event;
pub mod logsource;
pub mod pattern;
pub mod prereq;
pub mod rule;

pub use engine::{Detection, Engine, LoadReport, Refusal};
pub use event::Event;
pub use logsource::LogSourceMap;
pub use rule::{Level, Rule};

/// Where in a YAML file something is (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Why a rule cannot be used, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{position}: {reason}")]
pub struct RuleError {
    pub position: Position,
    /// A short, stable category for the summary (e.g. `unknown-modifier`).
    pub kind: &'static str,
    pub reason: String,
}

impl RuleError {
    pub fn new(position: Position, kind: &'static str, reason: impl Into<String>) -> Self {
        Self { position, kind, reason: reason.into() }
    }
}
