//! Typed text: what a person may put into a field. A single line holds no control
//! character at all; text of several lines may break lines and hold tabs, nothing else.
//! A NUL in particular never reaches the database (PostgreSQL refuses it in text, and
//! other programs reading an export would stop at it).

use crate::FieldError;

/// Refuses any control character (a NUL, a newline, an escape).
pub fn single_line(field: &str, s: &str) -> Result<(), FieldError> {
    if s.chars().any(char::is_control) {
        return Err(FieldError::coded(field, "control-characters", "contains control characters"));
    }
    Ok(())
}

/// Refuses control characters other than line breaks and tabs.
pub fn multi_line(field: &str, s: &str) -> Result<(), FieldError> {
    if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(FieldError::coded(field, "control-characters", "contains control characters"));
    }
    Ok(())
}

const FORMULA: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as a spreadsheet will show it, never run it: a value a spreadsheet would run as
/// a formula gets an apostrophe before it. So that reading back is exact, a value that
/// already is apostrophes before such a start gets one more.
pub fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.trim_start_matches('\'').starts_with(FORMULA) { format!("'{cell}").into() } else { cell.into() }
}

/// A cell read back from a CSV this product wrote (or a spreadsheet saved from it): the
/// apostrophe `inert` added comes off again, so an export imported unchanged stores the
/// values it was made from. A value typed as `'quoted'` stays as it is.
pub fn typed(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.trim_start_matches('\'').starts_with(FORMULA) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_and_controls() {
        assert!(super::single_line("f", "東京 第1ターミナル").is_ok());
        for bad in ["a\0b", "a\nb", "a\u{1b}[31m", "a\u{7f}", "a\u{85}"] {
            assert!(super::single_line("f", bad).is_err(), "{bad:?}");
        }
        assert!(super::multi_line("f", "line one\r\nline\ttwo").is_ok());
        assert!(super::multi_line("f", "a\0b").is_err());
    }

    #[test]
    fn cells_read_back_as_written() {
        for v in ["=1+1", "'=1+1", "''@x", "-2", "plain", "'quoted'", "a=b", "\t=x", "'", ""] {
            let out = super::inert(v);
            assert!(!out.starts_with(super::FORMULA), "{v:?}");
            assert_eq!(super::typed(&out), v, "{v:?}");
        }
    }
}
