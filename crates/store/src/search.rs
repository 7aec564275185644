//! Text search in the registers: one helper, so every list finds the same rows on SQLite
//! and PostgreSQL. The words are compared without case (`lower(column)`), `%`, `_` and `\`
//! match themselves, and control characters are dropped before anything is built (a NUL
//! is not valid in PostgreSQL text and ends a string in SQLite's full-text syntax).

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, DbBackend};

/// The search text as typed, trimmed and without control characters; `None` when nothing
/// is left to look for.
pub fn cleaned(raw: Option<&str>) -> Option<String> {
    let s: String = raw?.chars().filter(|c| !c.is_control()).collect();
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// `%text%` for LIKE, lower-cased and with the pattern characters escaped by `\`.
pub fn contains_pattern(text: &str) -> String {
    format!("%{}%", text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// `lower(column) LIKE '%text%'`.
pub fn contains(column: impl ColumnTrait, text: &str) -> SimpleExpr {
    Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(contains_pattern(text)).escape('\\'))
}

/// The text is found in any of `columns`.
pub fn any_contains<C: ColumnTrait + Copy>(columns: &[C], text: &str) -> Condition {
    columns.iter().fold(Condition::any(), |c, col| c.add(contains(*col, text)))
}

/// Every word of the text (at most eight) is found in one of `columns`.
pub fn every_word<C: ColumnTrait + Copy>(columns: &[C], text: &str) -> Condition {
    text.split_whitespace().take(8).fold(Condition::all(), |c, w| c.add(any_contains(columns, w)))
}

/// The text in any of `columns`; on SQLite with three characters or more through the
/// table's trigram index (`<table>_fts`, kept by triggers over the same columns), which
/// finds the same rows without reading every one.
pub fn indexed_contains<C: ColumnTrait + Copy>(backend: DbBackend, table: &str, columns: &[C], text: &str) -> Condition {
    if backend == DbBackend::Sqlite && text.chars().count() >= 3 {
        let phrase = format!("\"{}\"", text.replace('"', "\"\""));
        Condition::all().add(Expr::cust_with_values(format!("{table}.rowid IN (SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH ?)"), [phrase]))
    } else {
        any_contains(columns, text)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_dropped_and_blanks_are_nothing() {
        assert_eq!(super::cleaned(Some(" ab\0cd\t")).as_deref(), Some("abcd"));
        assert_eq!(super::cleaned(Some(" \0 ")), None);
        assert_eq!(super::contains_pattern("50%_a\\B"), "%50\\%\\_a\\\\b%");
    }
}
