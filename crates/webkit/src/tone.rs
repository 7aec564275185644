//! One colour scheme for every badge in the product. A module says which tone each of its
//! states, severities and ratings takes (`Module::tones`); pages draw a badge with the
//! `badge` or `state` component, which writes the words beside the colour, so no meaning
//! rests on colour alone. The stylesheet has one rule per tone and no module's own family.

use std::collections::HashMap;

/// The tones a badge can take, from quiet to loud. `Customer` marks customer
/// information wherever it appears; the four TLP tones follow FIRST's TLP 2.0 colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Neutral,
    Muted,
    Info,
    Ok,
    Warn,
    Bad,
    Critical,
    Review,
    Customer,
    TlpRed,
    TlpAmber,
    TlpGreen,
    TlpClear,
}

impl Tone {
    /// The stylesheet's class suffix (`tone-<css>`).
    pub fn css(self) -> &'static str {
        match self {
            Tone::Neutral => "neutral",
            Tone::Muted => "muted",
            Tone::Info => "info",
            Tone::Ok => "ok",
            Tone::Warn => "warn",
            Tone::Bad => "bad",
            Tone::Critical => "critical",
            Tone::Review => "review",
            Tone::Customer => "customer",
            Tone::TlpRed => "tlp-red",
            Tone::TlpAmber => "tlp-amber",
            Tone::TlpGreen => "tlp-green",
            Tone::TlpClear => "tlp-clear",
        }
    }
}

/// A family of values (`incident-status`, `risk-rating`, …) and the tone of each code.
pub type Family = (&'static str, &'static [(&'static str, Tone)]);

/// Every module's families, merged.
#[derive(Debug, Default)]
pub struct Tones(HashMap<(&'static str, &'static str), Tone>);

impl Tones {
    /// Merges the modules' families; a family two modules both define is refused, named.
    pub fn load<'a>(families: impl IntoIterator<Item = (&'static str, &'a Family)>) -> Result<Self, String> {
        let mut map = HashMap::new();
        let mut owner: HashMap<&str, &str> = HashMap::new();
        for (module, (family, codes)) in families {
            if let Some(first) = owner.insert(family, module)
                && first != module
            {
                return Err(format!("badge family `{family}` is defined by both {first} and {module}"));
            }
            for (code, tone) in codes.iter() {
                map.insert((*family, *code), *tone);
            }
        }
        Ok(Tones(map))
    }

    /// The tone of a code; an unknown one is neutral (its words still show).
    pub fn of(&self, family: &str, code: &str) -> Tone {
        self.0.get(&(family, code)).copied().unwrap_or(Tone::Neutral)
    }
}

/// The families several modules share: severities (1–4 of findings, the monitoring
/// levels by name) and TLP.
pub const SHARED: &[Family] = &[
    (
        "severity",
        &[
            ("1", Tone::Muted),
            ("2", Tone::Warn),
            ("3", Tone::Bad),
            ("4", Tone::Critical),
            ("informational", Tone::Muted),
            ("low", Tone::Warn),
            ("medium", Tone::Warn),
            ("high", Tone::Bad),
            ("critical", Tone::Critical),
        ],
    ),
    ("tlp", &[("red", Tone::TlpRed), ("amber", Tone::TlpAmber), ("amber+strict", Tone::TlpAmber), ("green", Tone::TlpGreen), ("clear", Tone::TlpClear)]),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_belongs_to_one_module() {
        const A: Family = ("x-status", &[("open", Tone::Bad)]);
        let t = Tones::load([("a", &A), ("a", &A)]).unwrap();
        assert_eq!(t.of("x-status", "open"), Tone::Bad);
        assert_eq!(t.of("x-status", "other"), Tone::Neutral);
        let err = Tones::load([("a", &A), ("b", &A)]).unwrap_err();
        assert!(err.contains("x-status") && err.contains('a') && err.contains('b'), "{err}");
    }
}
