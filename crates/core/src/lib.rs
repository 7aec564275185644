//! Domain types and pure rules of isms: who may do what (roles, permissions, scope),
//! the values people type in (parsed, not validated later), and the audit chain's hashing.
//! Nothing here does IO.

/// A closed set of codes stored as text: parsing names the field, `ALL` lists them.
macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident, $field:literal { $($variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize, ::utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// Parses the stored or typed code; the error names `field`.
            pub fn parse_as(field: &str, s: &str) -> Result<Self, $crate::FieldError> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.code() == s).ok_or_else(|| {
                    let expected = Self::ALL.iter().map(|v| v.code()).collect::<Vec<_>>().join(", ");
                    $crate::FieldError::coded(field, "one-of", format!("`{s}` is not one of {expected}"))
                        .arg("value", s)
                        .arg("expected", expected)
                })
            }

            pub fn parse(s: &str) -> Result<Self, $crate::FieldError> {
                Self::parse_as($field, s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

pub mod assets;
pub mod audit;
pub mod calendar;
pub mod compliance;
pub mod drills;
pub mod ids;
pub mod incidents;
pub mod monitoring;
pub mod oncall;
pub mod org;
pub mod policies;
pub mod roles;
pub mod scope;
pub mod text;
pub mod training;

pub use ids::{CompanyId, DepartmentId, PersonId, UserId};
pub use roles::{Permission, Role};
pub use scope::{Access, Grant, Scope};

/// A value a person typed that does not fit its field. `field` names the field as the
/// API and the forms name it, so the message can be shown beside it. `code` names the
/// message in the catalogs (`err-<code>`, with `args`) so pages show it in the reader's
/// language; `message` is the English text for the API and the CLI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
    pub code: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl FieldError {
    /// An error whose message has no catalog entry (shown as given).
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into(), code: "", args: vec![] }
    }

    /// An error with a catalog message `err-<code>`.
    pub fn coded(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into(), code, args: vec![] }
    }

    pub fn arg(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push((name, value.into()));
        self
    }
}
