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
}
