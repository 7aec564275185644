//! Message catalogs in Fluent syntax, one per language, compiled into the binary. Every
//! visible string in the pages comes from here; a test fails when either language lacks a key.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().get(..2).map(|p| p.to_ascii_lowercase()).as_deref() {
            Some("ja") => Some(Lang::Ja),
            Some("en") => Some(Lang::En),
            _ => None,
        }
    }

    /// The first supported language in an `Accept-Language` header, by its q-values.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim();
            let q = it.find_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.parse::<f32>().ok())).unwrap_or(1.0);
            if let Some(l) = Lang::parse(tag)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, l));
            }
        }
        best.map(|(_, l)| l)
    }
}

/// The kernel's own messages: the layout, shared words, field and error messages.
pub const SHELL: &[(Lang, &str)] = &[(Lang::Ja, include_str!("../locales/ja/shell.ftl")), (Lang::En, include_str!("../locales/en/shell.ftl"))];

pub struct Catalogs {
    en: FluentBundle<FluentResource>,
    ja: FluentBundle<FluentResource>,
}

fn bundle(lang: Lang) -> FluentBundle<FluentResource> {
    let id: unic_langid::LanguageIdentifier = lang.code().parse().unwrap_or_default();
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // Isolation marks would show as stray characters in plain-text places (titles, CSV).
    b.set_use_isolating(false);
    b
}

impl Catalogs {
    /// The kernel's catalogs and every module's, as the application serves them.
    pub fn of(modules: &[crate::Module]) -> Result<Self, String> {
        Self::load(modules.iter().flat_map(|m| m.catalogs.iter().map(move |c| (m.name, c.0, c.1))))
    }

    /// One bundle per language from every module's sources (`module`, language, Fluent
    /// text) and the kernel's own; a source that does not parse, or a key two modules
    /// both define, is an error naming the module.
    pub fn load<'a>(sources: impl IntoIterator<Item = (&'a str, Lang, &'a str)>) -> Result<Self, String> {
        let (mut en, mut ja) = (bundle(Lang::En), bundle(Lang::Ja));
        let kernel = SHELL.iter().map(|(l, s)| ("shell", *l, *s));
        for (module, lang, src) in kernel.chain(sources) {
            let name = format!("{}/{module}.ftl", lang.code());
            let res = FluentResource::try_new(src.to_owned()).map_err(|(_, errs)| format!("{name}: {errs:?}"))?;
            let b = match lang {
                Lang::En => &mut en,
                Lang::Ja => &mut ja,
            };
            b.add_resource(res).map_err(|errs| format!("{name}: {errs:?}"))?;
        }
        Ok(Self { en, ja })
    }

    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        match lang {
            Lang::En => &self.en,
            Lang::Ja => &self.ja,
        }
    }

    /// The message, or its key when missing (the catalog test keeps that from shipping).
    pub fn get(&self, lang: Lang, key: &str) -> String {
        self.format(lang, key, None)
    }

    pub fn get_with(&self, lang: Lang, key: &str, args: &[(&str, String)]) -> String {
        let mut a = FluentArgs::new();
        for (k, v) in args {
            a.set(*k, FluentValue::from(v.clone()));
        }
        self.format(lang, key, Some(&a))
    }

    fn format(&self, lang: Lang, key: &str, args: Option<&FluentArgs>) -> String {
        let b = self.bundle(lang);
        let Some(pattern) = b.get_message(key).and_then(|m| m.value()) else {
            return key.to_owned();
        };
        let mut errors = vec![];
        let s: Cow<str> = b.format_pattern(pattern, args, &mut errors);
        s.into_owned()
    }

    pub fn has(&self, lang: Lang, key: &str) -> bool {
        self.bundle(lang).has_message(key)
    }
}

/// Message ids defined in a catalog source.
pub fn keys(src: &str) -> Vec<String> {
    src.lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with('#') && !l.starts_with('.'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_owned()))
        .filter(|k| !k.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9,ja;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("fr, ja;q=0.5"), Some(Lang::Ja));
        assert_eq!(Lang::from_accept_language("fr"), None);
    }

    #[test]
    fn a_key_defined_twice_names_the_module() {
        let twice = Catalogs::load([("x", Lang::En, "save = Again\n")]).err().unwrap_or_default();
        assert!(twice.contains("en/x.ftl"), "{twice}");
    }
}
