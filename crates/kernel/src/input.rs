//! Input fields as every use case reads them: optional values, required single lines and
//! texts with their length and character rules, and dates. The field errors these return
//! carry codes the catalogs translate.

use isms_core::FieldError;

/// An optional value: absent, empty or blank is `None`; otherwise trimmed.
pub fn blank_to_none(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A single line that must be given (a title, a name): at most `max` characters, no
/// control characters.
pub fn required(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize) -> String {
    given(errors, field, value, max, isms_core::text::single_line)
}

/// Text of one or more lines that must be given (a reason, a note).
pub fn required_text(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize) -> String {
    given(errors, field, value, max, isms_core::text::multi_line)
}

/// Trimmed; refused when blank, longer than `max` characters, or holding what `chars`
/// refuses.
fn given(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize, chars: fn(&str, &str) -> Result<(), FieldError>) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.push(FieldError::coded(field, "required", "is required"));
    } else if v.chars().count() > max {
        errors.push(FieldError::coded(field, "too-long", format!("is longer than {max} characters")).arg("max", max.to_string()));
    } else if let Err(e) = chars(field, v) {
        errors.push(e);
    }
    v.to_owned()
}

pub fn date_opt(errors: &mut Vec<FieldError>, field: &str, value: &Option<String>) -> Option<jiff::civil::Date> {
    isms_core::org::parse_date(field, value.as_deref().unwrap_or("")).map_err(|e| errors.push(e)).ok().flatten()
}

/// A whole number typed into a form: blank is `None`; `,` and `_` between digits are
/// ignored (「120,000」). Anything else is refused under `field` with the text that was
/// typed (so the form can show it again) and read as `None`, so that the rest of the form
/// is still checked and every refusal named at once.
pub fn whole<T: std::str::FromStr>(errors: &mut Vec<FieldError>, field: &str, value: &str) -> Option<T> {
    let t = value.trim();
    if t.is_empty() {
        return None;
    }
    match t.replace([',', '_'], "").parse::<T>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(FieldError::coded(field, "number", format!("`{t}` is not a whole number")).arg("value", t));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_number_reads_separators_and_names_what_it_refuses() {
        let mut errors = vec![];
        assert_eq!(whole::<i64>(&mut errors, "volume", " 120,000 "), Some(120_000));
        assert_eq!(whole::<i64>(&mut errors, "volume", ""), None);
        assert!(errors.is_empty());
        assert_eq!(whole::<i64>(&mut errors, "volume", "約12万件"), None);
        assert_eq!(whole::<i32>(&mut errors, "review_months", "1.5"), None);
        let fields: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.args[0].1.as_str())).collect();
        assert_eq!(fields, [("volume", "約12万件"), ("review_months", "1.5")]);
    }
}
