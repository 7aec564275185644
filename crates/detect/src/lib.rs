//! The isms detection engine: Sigma rules parsed from YAML, compiled, and matched against
//! events. Pure: it reads rule text and event values handed to it, and knows nothing of
//! HTTP, databases or files beyond what callers pass in.

pub mod condition;
pub mod correlation;
pub mod engine;
pub mod event;
pub mod intel;
pub mod logsource;
pub mod pattern;
pub mod prereq;
pub mod rule;

pub use engine::{Detection, Engine, LoadReport, Refusal};

/// The Sigma rule files (`.yml`, `.yaml`) at `path`: the file itself, or every such file
/// under the folder, in name order. A path that does not exist is an error.
pub fn rule_files(path: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    fn walk(path: &std::path::Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
        if path.is_dir() {
            let mut entries = std::fs::read_dir(path)?.map(|e| e.map(|e| e.path())).collect::<std::io::Result<Vec<_>>>()?;
            entries.sort();
            for p in entries {
                walk(&p, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path.to_path_buf());
        } else if !path.exists() {
            return Err(std::io::Error::new(std::io::ErrorKind::NotFound, format!("{} does not exist", path.display())));
        }
        Ok(())
    }
    let mut out = vec![];
    walk(path, &mut out)?;
    Ok(out)
}
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
