//! The catalogs against everything that names a key: every module's templates and code,
//! every enumerated value, every coded error. They read the modules the application
//! lists, so a new module's catalogs are checked the day it joins.

use isms_webkit::i18n::{Lang, keys};

fn load() -> isms_webkit::i18n::Catalogs {
    crate::catalogs().unwrap()
}

/// Every message id of a language, from the kernel and every module.
fn all_keys(lang: Lang) -> Vec<String> {
    let kernel = isms_webkit::i18n::SHELL.iter();
    let modules = crate::modules();
    let mut out = vec![];
    for (l, src) in kernel.copied().chain(modules.iter().flat_map(|m| m.catalogs.iter().copied())) {
        if l == lang {
            out.extend(keys(src));
        }
    }
    out
}

/// The directories `name` (templates, src) of every crate.
fn crate_dirs(name: &str) -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path().join(name)).filter(|p| p.is_dir()).collect()
}

/// Every file under the directories `name` of every crate, with its text.
fn files_in(name: &str) -> Vec<(std::path::PathBuf, String)> {
    let mut out = vec![];
    let mut stack = crate_dirs(name);
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let text = std::fs::read_to_string(&p).unwrap();
                out.push((p, text));
            }
        }
    }
    out
}

#[test]
fn both_languages_have_every_key() {
    let en = all_keys(Lang::En);
    let ja = all_keys(Lang::Ja);
    let missing_ja: Vec<_> = en.iter().filter(|k| !ja.contains(k)).collect();
    let missing_en: Vec<_> = ja.iter().filter(|k| !en.contains(k)).collect();
    assert!(missing_ja.is_empty(), "missing in ja.ftl: {missing_ja:?}");
    assert!(missing_en.is_empty(), "missing in en.ftl: {missing_en:?}");
    assert!(en.len() > 50);
}

#[test]
fn catalogs_parse() {
    let c = load();
    assert_eq!(c.get(Lang::En, "nav-people"), "People");
    assert_ne!(c.get(Lang::Ja, "nav-people"), "nav-people");
}

#[test]
fn every_key_used_in_templates_and_code_exists() {
    // Keys appear as t("...") in templates and tr("...") in Rust code.
    let c = load();
    let mut sources = files_in("templates");
    sources.extend(files_in("src"));
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
    let c = load();
    let mut keys: Vec<String> = vec![];
    keys.extend(Rule::ALL.iter().flat_map(|r| [format!("rule-{}", r.code()), format!("rule-why-{}", r.code())]));
    keys.extend(SupportKind::ALL.iter().map(|k| format!("kind-{}", k.code())));
    keys.extend(Egress::ALL.iter().map(|k| format!("egress-{}", k.code())));
    keys.extend(Medium::ALL.iter().map(|k| format!("medium-{}", k.code())));
    keys.extend(Disposal::ALL.iter().map(|k| format!("disposal-{}", k.code())));
    keys.extend((1..=4).map(|n| format!("severity-{n}")));
    keys.extend(["open", "accepted", "resolved"].iter().map(|s| format!("finding-{s}")));
    keys.extend(["requested", "approved", "rejected", "returned", "withdrawn", "outside"].iter().map(|s| format!("takeout-{s}")));
    keys.extend(isms_assets::takeouts::CHANNELS.iter().map(|s| format!("channel-{s}")));
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
        ["asset-review-due", "policy-approval", "policy-approved", "policy-rejected", "policy-acknowledge", "policy-acknowledge-reminder", "policy-review-due"]
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
        ["incident-skips", "incident-needs-severity", "incident-needs-personal", "incident-needs-review", "incident-needs-actions", "incident-needs-reason"]
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
    keys.extend(isms_compliance::findings::SOURCES.iter().map(|k| format!("finding-source-{k}")));
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
    let c = load();
    let mut missing = vec![];
    let mut seen = 0;
    // Every crate's sources: the kernel, each domain and whatever comes next.
    {
        for (p, text) in files_in("src") {
            for line in text
                .lines()
                .filter(|l| (l.contains("coded(") || l.contains("conflict(\"")) && l.contains('"') && !l.trim_start().starts_with("//") && !l.contains("fn "))
            {
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
fn every_badge_family_has_its_words_and_every_drawn_family_a_tone() {
    let c = load();
    let modules = crate::modules();
    let families: Vec<&isms_webkit::tone::Family> = isms_webkit::tone::SHARED.iter().chain(modules.iter().flat_map(|m| m.tones.iter())).collect();
    let mut problems = vec![];
    for (family, codes) in &families {
        for (code, _) in codes.iter() {
            let key = if *family == "tlp" { format!("tlp-{}", code.replace('+', "-")) } else { format!("{family}-{code}") };
            for lang in [Lang::En, Lang::Ja] {
                if !c.has(lang, &key) {
                    problems.push(format!("{key} has no words ({})", lang.code()));
                }
            }
        }
    }
    // Templates draw badges with `ui::state(shell, "<family>", …)` or `shell.tone("<family>", …)`.
    for dir in crate_dirs("templates") {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let text = std::fs::read_to_string(&p).unwrap();
            for pat in ["ui::state(shell, \"", "shell.tone(\""] {
                for (i, _) in text.match_indices(pat) {
                    let rest = &text[i + pat.len()..];
                    let family = &rest[..rest.find('"').unwrap()];
                    if !families.iter().any(|(f, _)| *f == family) {
                        problems.push(format!("{}: badge family `{family}` has no tones", p.display()));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every action the audit trail records has a name in both languages: the literal
/// action codes in every crate's code (`"risks.risk.accept"`), and those made with
/// `format!` from a known set of steps.
#[test]
fn every_audit_action_has_a_label() {
    const DOMAINS: &[&str] = &[
        "auth",
        "people",
        "org",
        "accounts",
        "audit",
        "assets",
        "policies",
        "incidents",
        "compliance",
        "risks",
        "findings",
        "monitoring",
        "settings",
        "training",
        "drills",
    ];
    let c = load();
    let mut codes = std::collections::BTreeSet::new();
    let mut jobs = std::collections::BTreeSet::new();
    for (_, text) in files_in("src") {
        // Code only: a file's tests may name made-up actions.
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        for (i, _) in text.match_indices("Job::new(\"") {
            let rest = &text[i + 10..];
            jobs.insert(rest[..rest.find('"').unwrap_or(0)].to_owned());
        }
        for lit in text.split('"').skip(1).step_by(2) {
            let parts: Vec<&str> = lit.split('.').collect();
            let file = ["csv", "xlsx", "html", "pdf", "json", "ftl", "toml"].contains(parts.last().unwrap_or(&""));
            if parts.len() >= 2
                && DOMAINS.contains(&parts[0])
                && !file
                && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
            {
                codes.insert(lit.to_owned());
            }
        }
    }
    for (prefix, steps) in
        [("monitoring.alert", &["acknowledge", "close"][..]), ("incidents.action", &["done", "verified"]), ("assets.takeout", &["returned", "withdrawn"])]
    {
        codes.extend(steps.iter().map(|s| format!("{prefix}.{s}")));
    }
    let mut missing = vec![];
    for code in codes.iter().filter(|c| !jobs.contains(*c)) {
        let key = format!("action-{}", code.replace(['.', '_'], "-"));
        for lang in [Lang::En, Lang::Ja] {
            if !c.has(lang, &key) {
                missing.push(format!("{code} ({})", lang.code()));
            }
        }
    }
    assert!(codes.len() > 100, "only {} action codes found", codes.len());
    assert!(missing.is_empty(), "audit actions without a name:\n{}", missing.join("\n"));
}

/// A notification's states, severities and clocks read as words, and its moments as
/// Japan's time, in the reader's language: never as codes.
#[test]
fn notices_say_codes_in_words() {
    use isms_kernel::notify::{moment, word};
    let c = load();
    let args = serde_json::json!({"ref": "INC-2026-0004", "title": "t", "status": word("incident-status-triage")});
    let ja = isms_webkit::notices::text(&c, Lang::Ja, "incident-status", &args);
    assert!(ja.contains("初動評価") && !ja.contains("triage"), "{ja}");
    let en = isms_webkit::notices::text(&c, Lang::En, "incident-status", &args);
    assert!(en.contains("Triage") || en.contains("triage"), "{en}");
    let args = serde_json::json!({"ref": "INC-1", "clock": word("clock-appi_final"), "due": moment(1_767_193_200_000)});
    let ja = isms_webkit::notices::text(&c, Lang::Ja, "incident-clock-due", &args);
    assert!(ja.contains("個人情報保護委員会への確報") && ja.contains("2026-01-01 00:00"), "{ja}");
    let args = serde_json::json!({"ref": "INC-1", "title": "t", "severity": word("incident-severity-4"), "playbook": "p"});
    assert!(isms_webkit::notices::text(&c, Lang::Ja, "incident-escalated", &args).contains("重大度「重大」"));
}
