//! The organisation's values: employee numbers, e-mail addresses, names, company codes and
//! employment status. Each constructor refuses what does not fit, naming the field.

use crate::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;

fn trimmed<'a>(field: &str, raw: &'a str, max: usize) -> Result<&'a str, FieldError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(FieldError::coded(field, "required", "is required"));
    }
    if s.chars().count() > max {
        return Err(FieldError::coded(field, "too-long", format!("is longer than {max} characters")).arg("max", max.to_string()));
    }
    if s.chars().any(char::is_control) {
        return Err(FieldError::coded(field, "control-characters", "contains control characters"));
    }
    Ok(s)
}

/// An employee number: letters, digits, `-` and `_`, at most 32 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmployeeNumber(String);

impl EmployeeNumber {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = trimmed("employee_number", raw, 32)?;
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(FieldError::coded("employee_number", "code-characters", "may hold only letters, digits, `-` and `_`"));
        }
        Ok(Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, kept in lower case. Checks the shape only; delivery proves the rest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = trimmed("email", raw, 254)?.to_lowercase();
        let bad = || FieldError::coded("email", "email", format!("`{s}` is not an e-mail address")).arg("value", s.clone());
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.len() < 3
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains('@')
            || s.chars().any(|c| c.is_whitespace() || c == '<' || c == '>' || c == ',' || c == ';')
        {
            return Err(bad());
        }
        Ok(Self(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's or a unit's display name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        Ok(Self(trimmed(field, raw, 200)?.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A short code for a company or department, e.g. `JAL-DT`: upper-case letters, digits, `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Code(String);

impl Code {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let s = trimmed(field, raw, 32)?.to_uppercase();
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(FieldError::coded(field, "code-characters", "may hold only letters, digits, `-` and `_`"));
        }
        Ok(Self(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmploymentStatus {
    Active,
    OnLeave,
    Left,
}

impl EmploymentStatus {
    pub const ALL: [EmploymentStatus; 3] = [EmploymentStatus::Active, EmploymentStatus::OnLeave, EmploymentStatus::Left];

    pub fn code(self) -> &'static str {
        match self {
            EmploymentStatus::Active => "active",
            EmploymentStatus::OnLeave => "on_leave",
            EmploymentStatus::Left => "left",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Ok(EmploymentStatus::Active);
        }
        Self::ALL
            .into_iter()
            .find(|v| v.code() == s)
            .ok_or_else(|| FieldError::coded("status", "status", format!("`{s}` is not one of active, on_leave, left")).arg("value", s))
    }
}

impl fmt::Display for EmploymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A calendar date typed as `YYYY-MM-DD`; empty means none.
pub fn parse_date(field: &str, raw: &str) -> Result<Option<jiff::civil::Date>, FieldError> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<jiff::civil::Date>().map(Some).map_err(|_| FieldError::coded(field, "date", format!("`{s}` is not a date (YYYY-MM-DD)")).arg("value", s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails() {
        assert_eq!(Email::parse(" Taro@Example.JP ").unwrap().as_str(), "taro@example.jp");
        for bad in ["", "taro", "@x.jp", "a@b", "a b@x.jp", "a@x.", "a@@x.jp"] {
            let e = Email::parse(bad).unwrap_err();
            assert_eq!(e.field, "email", "{bad}");
        }
    }

    #[test]
    fn employee_numbers() {
        assert!(EmployeeNumber::parse("E-00012").is_ok());
        assert_eq!(EmployeeNumber::parse("E 12").unwrap_err().field, "employee_number");
        assert!(EmployeeNumber::parse(&"9".repeat(33)).is_err());
    }

    #[test]
    fn dates_and_status() {
        assert_eq!(parse_date("joined_on", "").unwrap(), None);
        assert!(parse_date("joined_on", "2024-02-30").is_err());
        assert_eq!(EmploymentStatus::parse("").unwrap(), EmploymentStatus::Active);
        assert!(EmploymentStatus::parse("fired").is_err());
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,80}") {
            let _ = Email::parse(&s);
            let _ = EmployeeNumber::parse(&s);
            let _ = Code::parse("code", &s);
            let _ = parse_date("d", &s);
        }

        #[test]
        fn accepted_numbers_are_stable(s in "[A-Za-z0-9_-]{1,32}") {
            let n = EmployeeNumber::parse(&s).unwrap();
            prop_assert_eq!(EmployeeNumber::parse(n.as_str()).unwrap(), n);
        }
    }
}
