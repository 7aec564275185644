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

pub const EN_FTL: &str = include_str!("../locales/en.ftl");
pub const JA_FTL: &str = include_str!("../locales/ja.ftl");

pub struct Catalogs {
    en: FluentBundle<FluentResource>,
    ja: FluentBundle<FluentResource>,
}

fn bundle(lang: &str, src: &str) -> Result<FluentBundle<FluentResource>, String> {
    let res = FluentResource::try_new(src.to_owned()).map_err(|(_, errs)| format!("{lang}.ftl: {errs:?}"))?;
    let id: unic_langid::LanguageIdentifier = lang.parse().map_err(|e| format!("{lang}: {e}"))?;
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // Isolation marks would show as stray characters in plain-text places (titles, CSV).
    b.set_use_isolating(false);
    b.add_resource(res).map_err(|errs| format!("{lang}.ftl: {errs:?}"))?;
    Ok(b)
}

impl Catalogs {
    pub fn load() -> Result<Self, String> {
        Ok(Self { en: bundle("en", EN_FTL)?, ja: bundle("ja", JA_FTL)? })
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
    fn both_languages_have_every_key() {
        let en = keys(EN_FTL);
        let ja = keys(JA_FTL);
        let missing_ja: Vec<_> = en.iter().filter(|k| !ja.contains(k)).collect();
        let missing_en: Vec<_> = ja.iter().filter(|k| !en.contains(k)).collect();
        assert!(missing_ja.is_empty(), "missing in ja.ftl: {missing_ja:?}");
        assert!(missing_en.is_empty(), "missing in en.ftl: {missing_en:?}");
        assert!(en.len() > 50);
    }

    #[test]
    fn catalogs_parse() {
        let c = Catalogs::load().unwrap();
        assert_eq!(c.get(Lang::En, "nav-people"), "People");
        assert_ne!(c.get(Lang::Ja, "nav-people"), "nav-people");
    }

    #[test]
    fn every_key_used_in_templates_and_code_exists() {
        // Keys appear as t("...") in templates and tr("...") in Rust code.
        let c = Catalogs::load().unwrap();
        let mut sources = vec![];
        for dir in ["templates", "src"] {
            let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            let mut stack = vec![base];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).unwrap() {
                    let p = e.unwrap().path();
                    if p.is_dir() {
                        stack.push(p);
                    } else {
                        sources.push((p.clone(), std::fs::read_to_string(&p).unwrap()));
                    }
                }
            }
        }
        let mut missing = vec![];
        for (path, text) in &sources {
            for pat in ["t(\"", "tr(\""] {
                for (i, _) in text.match_indices(pat) {
                    // `shell.t(` or ` t(`, not `sort(`.
                    if i > 0 && text.as_bytes()[i - 1].is_ascii_alphanumeric() || i > 0 && text.as_bytes()[i - 1] == b'_' {
                        continue;
                    }
                    let rest = &text[i + pat.len()..];
                    let Some(end) = rest.find('"') else { continue };
                    let key = &rest[..end];
                    if key.is_empty() || key.contains(' ') || key.contains('{') || key.contains('.') {
                        continue;
                    }
                    for lang in [Lang::En, Lang::Ja] {
                        if !c.has(lang, key) {
                            missing.push(format!("{}: {key} ({})", path.display(), lang.code()));
                        }
                    }
                }
            }
        }
        assert!(missing.is_empty(), "keys missing from catalogs:\n{}", missing.join("\n"));
    }

    #[test]
    fn every_enumerated_value_of_the_register_has_a_label() {
        use isms_core::assets::{Disposal, Egress, Medium, Rule, SupportKind};
        let c = Catalogs::load().unwrap();
        let mut keys: Vec<String> = vec![];
        keys.extend(Rule::ALL.iter().flat_map(|r| [format!("rule-{}", r.code()), format!("rule-why-{}", r.code())]));
        keys.extend(SupportKind::ALL.iter().map(|k| format!("kind-{}", k.code())));
        keys.extend(Egress::ALL.iter().map(|k| format!("egress-{}", k.code())));
        keys.extend(Medium::ALL.iter().map(|k| format!("medium-{}", k.code())));
        keys.extend(Disposal::ALL.iter().map(|k| format!("disposal-{}", k.code())));
        keys.extend((1..=4).map(|n| format!("severity-{n}")));
        keys.extend(["open", "accepted", "resolved"].iter().map(|s| format!("finding-{s}")));
        keys.extend(["requested", "approved", "rejected", "returned", "withdrawn", "outside"].iter().map(|s| format!("takeout-{s}")));
        keys.extend(isms_app::assets::takeouts::CHANNELS.iter().map(|s| format!("channel-{s}")));
        keys.extend(["create", "update"].iter().map(|s| format!("import-action-{s}")));
        use isms_core::policies::{DocKind, DocLang, ReviewOutcome, VersionState};
        keys.extend(DocKind::ALL.iter().map(|k| format!("doc-kind-{k}")));
        keys.extend(VersionState::ALL.iter().map(|k| format!("version-{k}")));
        keys.extend(DocLang::ALL.iter().map(|k| format!("lang-{k}")));
        keys.extend(ReviewOutcome::ALL.iter().map(|k| format!("review-{k}")));
        keys.extend(["overdue", "due_soon", "draft", "in_review", "retired"].iter().map(|s| format!("doc-filter-{s}")));
        keys.extend(["approve", "reject"].iter().map(|s| format!("decision-{s}")));
        keys.extend(["none", "pending", "sending", "sent", "failed"].iter().map(|s| format!("mail-{s}")));
        keys.extend(
            [
                "asset-review-due",
                "policy-approval",
                "policy-approved",
                "policy-rejected",
                "policy-acknowledge",
                "policy-acknowledge-reminder",
                "policy-review-due",
            ]
            .iter()
            .map(|s| format!("notice-{s}")),
        );
        use isms_core::incidents::{
            Exposure, Impact, IncidentType, Status,
            clocks::{ClockKind, Trigger},
        };
        keys.extend(IncidentType::ALL.iter().map(|k| format!("incident-kind-{k}")));
        keys.extend(Status::ALL.iter().map(|k| format!("incident-status-{k}")));
        keys.extend(Status::ALL.iter().skip(1).map(|k| format!("incident-move-{k}")));
        keys.extend((1..=4).map(|n| format!("incident-severity-{n}")));
        keys.extend(Impact::ALL.iter().map(|k| format!("impact-{k}")));
        keys.extend(Exposure::ALL.iter().map(|k| format!("exposure-{k}")));
        keys.extend(Trigger::ALL.iter().map(|k| format!("appi-trigger-{k}")));
        keys.extend(ClockKind::ALL.iter().map(|k| format!("clock-{k}")));
        keys.extend(
            ["sensitive", "financial_risk", "unlawful_purpose", "strongly_encrypted", "eu_residents"].iter().map(|k| format!("field-{}", k.replace('_', "-"))),
        );
        keys.extend(isms_core::incidents::observables::ObservableKind::ALL.iter().map(|k| format!("observable-{k}")));
        keys.extend(["open", "done", "verified"].iter().map(|k| format!("action-status-{k}")));
        keys.extend(isms_core::incidents::releases::ReleaseKind::ALL.iter().map(|k| format!("release-{k}")));
        keys.extend(["draft", "approved", "released"].iter().map(|k| format!("release-status-{k}")));
        keys.extend(["planned", "running", "held"].iter().map(|k| format!("drill-{k}")));
        keys.extend(["collected", "handed_over", "accessed"].iter().map(|k| format!("custody-{k}")));
        keys.extend(
            [
                "incident-escalated",
                "incident-reported",
                "incident-action",
                "incident-status",
                "incident-added",
                "incident-clock-due",
                "incident-clock-overdue",
                "audit-checkpoint",
            ]
            .iter()
            .map(|s| format!("notice-{s}")),
        );
        keys.extend(
            [
                "incident-skips",
                "incident-needs-severity",
                "incident-needs-personal",
                "incident-needs-review",
                "incident-needs-actions",
                "incident-needs-reason",
            ]
            .iter()
            .map(|s| format!("err-{s}")),
        );
        use isms_core::compliance::risk::{Rating, RiskStatus, Treatment};
        use isms_core::compliance::{Compliance, ControlStatus, EvidenceKind, Relation};
        keys.extend(ControlStatus::ALL.iter().map(|k| format!("control-status-{k}")));
        keys.extend(Compliance::ALL.iter().map(|k| format!("compliance-{k}")));
        keys.extend(EvidenceKind::ALL.iter().map(|k| format!("evidence-kind-{k}")));
        keys.extend(Relation::ALL.iter().map(|k| format!("relation-{k}")));
        keys.extend(Rating::ALL.iter().map(|k| format!("rating-{k}")));
        keys.extend(RiskStatus::ALL.iter().map(|k| format!("risk-status-{k}")));
        keys.extend(Treatment::ALL.iter().map(|k| format!("treatment-{k}")));
        keys.extend(["no_control", "planned_only", "in_progress", "unproven"].iter().map(|k| format!("gap-{k}")));
        keys.extend(["overdue", "due_soon", "expired"].iter().map(|k| format!("risk-filter-{k}")));
        use isms_core::monitoring::{AlertState, Resolution, Severity, SourceKind};
        keys.extend(AlertState::ALL.iter().map(|k| format!("alert-state-{k}")));
        keys.extend(["open", "all"].iter().map(|k| format!("alert-state-{k}")));
        keys.extend(Severity::ALL.iter().map(|k| format!("severity-{k}")));
        keys.extend(Severity::ALL.iter().map(|k| format!("severity-from-{k}")));
        keys.extend(Resolution::ALL.iter().map(|k| format!("resolution-{k}")));
        keys.extend(SourceKind::ALL.iter().map(|k| format!("source-kind-{k}")));
        keys.extend(["rule", "indicator", "silence"].iter().map(|k| format!("alert-kind-{k}")));
        keys.extend(["sigmahq", "custom"].iter().map(|k| format!("rule-origin-{k}")));
        keys.extend(["taxii", "stix", "misp-json", "misp-csv", "text"].iter().map(|k| format!("feed-format-{k}")));
        keys.extend(["none", "basic", "bearer"].iter().map(|k| format!("feed-auth-{k}")));
        keys.extend(isms_detect::intel::Tlp::ALL.iter().map(|t| format!("tlp-{}", t.code().replace('+', "-"))));
        keys.extend(isms_detect::intel::Kind::ALL.iter().map(|k| format!("indicator-kind-{}", k.code())));
        keys.extend(["feed-file", "feed-pull", "feed-url", "feed-not-taxii", "tlp-not-shared", "number"].iter().map(|s| format!("err-{s}")));
        keys.extend(isms_core::monitoring::Refused::ALL.iter().map(|r| format!("err-{}", r.code())));
        keys.extend(["on_call", "next", "lead"].iter().map(|k| format!("page-reason-{k}")));
        keys.extend(["alert-page", "alert-escalated", "privileged-grant"].iter().map(|s| format!("notice-{s}")));
        keys.extend(["likelihood", "impact"].iter().map(|k| format!("axis-{k}")));
        keys.extend(isms_app::findings::SOURCES.iter().map(|k| format!("finding-source-{k}")));
        keys.extend(["open", "closed", "all"].iter().map(|k| format!("review-finding-status-{k}")));
        keys.push("flash-checked".into());
        keys.extend(["risk-review-due", "risk-acceptance-expired", "risk-action-due", "control-review-due"].iter().map(|s| format!("notice-{s}")));
        keys.extend(
            [
                "frameworks-title",
                "framework-title",
                "requirement-title",
                "control-edit-title",
                "risk-title",
                "risk-edit-title",
                "nav-compliance",
                "nav-risks",
                "flash-imported",
                "soa-scope-line",
                "soa-generated-line",
            ]
            .map(String::from),
        );
        // Codes made at run time, out of reach of the coded-error scan.
        keys.extend(
            [
                "version-state",
                "approve-own",
                "not-approver",
                "already-decided",
                "file-name",
                "file-type",
                "file-empty",
                "file-too-large",
                "file-mismatch",
                "file-macros",
            ]
            .iter()
            .map(|s| format!("err-{s}")),
        );
        let mut missing = vec![];
        for k in &keys {
            for l in [Lang::En, Lang::Ja] {
                if !c.has(l, k) {
                    missing.push(format!("{k} ({})", l.code()));
                }
            }
        }
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn every_coded_error_has_a_message_in_both_languages() {
        let c = Catalogs::load().unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut missing = vec![];
        let mut seen = 0;
        let mut files = vec![];
        // Every crate's sources: the kernel, each domain and whatever comes next.
        let mut stack: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path().join("src")).filter(|p| p.is_dir()).collect();
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() { stack.push(p) } else { files.push(p) }
            }
        }
        {
            for p in files {
                let text = std::fs::read_to_string(&p).unwrap();
                for line in text.lines().filter(|l| l.contains("coded(") && l.contains('"') && !l.trim_start().starts_with("//") && !l.contains("fn ")) {
                    let literals: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
                    let found = literals.iter().any(|l| c.has(Lang::En, &format!("err-{l}")) && c.has(Lang::Ja, &format!("err-{l}")));
                    seen += 1;
                    if !found {
                        missing.push(format!("{}: {}", p.display(), line.trim()));
                    }
                }
            }
        }
        assert!(seen > 20, "found {seen} coded errors");
        assert!(missing.is_empty(), "coded errors without err-<code> in both catalogs:\n{}", missing.join("\n"));
    }

    #[test]
    fn accept_language() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9,ja;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("fr, ja;q=0.5"), Some(Lang::Ja));
        assert_eq!(Lang::from_accept_language("fr"), None);
    }
}
