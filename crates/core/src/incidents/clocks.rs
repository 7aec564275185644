//! Regulatory clocks of a personal-data breach. Under Japan's APPI (Art. 26, with the
//! Commission's rules) a breach must be reported when personal data is involved and any
//! one trigger holds — sensitive ("special care-required") data, a risk of financial
//! damage, a possibly unlawful purpose such as unauthorized access, or more than 1,000
//! people — unless the data was protected by strong encryption. The preliminary report
//! is due promptly (this system's target: 3 days, configurable), the final report within
//! 30 days, 60 where the purpose may be unlawful; days are counted in Japan's calendar
//! from the day after the breach became known, ending at midnight. Individuals are told
//! promptly. Under the GDPR (Art. 33) the supervisory authority is told within 72 hours
//! of awareness when EU residents are affected.

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

/// What the case records about the data involved.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BreachFacts {
    pub personal_data: bool,
    /// Special care-required personal information (health, criminal record, ...).
    pub sensitive: bool,
    /// Data whose misuse may cause financial damage (card numbers, bank logins, ...).
    pub financial_damage_risk: bool,
    /// The breach may have an unlawful purpose (unauthorized access, theft, insider misuse).
    pub unlawful_purpose: bool,
    pub people_affected: Option<i64>,
    /// The data was protected by strong encryption whose keys were not exposed.
    pub strongly_encrypted: bool,
    pub eu_residents: bool,
}

code_enum!(
    /// Why the APPI reporting duty applies.
    Trigger, "trigger" {
        Sensitive => "sensitive",
        FinancialDamage => "financial_damage",
        UnlawfulPurpose => "unlawful_purpose",
        MoreThan1000 => "more_than_1000",
    }
);

code_enum!(
    /// One duty with a deadline (`custom`: a regime added in the configuration, stored as
    /// `custom:<code>`).
    ClockKind, "clock" {
        AppiPreliminary => "appi_preliminary",
        AppiFinal => "appi_final",
        AppiIndividuals => "appi_individuals",
        GdprAuthority => "gdpr_authority",
        Custom => "custom",
    }
);

code_enum!(
    /// What starts a configured regime's clock.
    RegimeTrigger, "trigger" {
        PersonalData => "personal_data",
        AppiDuty => "appi_duty",
        EuResidents => "eu_residents",
        Sensitive => "sensitive",
        MoreThan1000 => "more_than_1000",
    }
);

/// A further reporting duty an installation adds (a regulator abroad, a contractual notice
/// to a partner or a card brand): a code, a name, what starts it, and how many hours from
/// awareness it allows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Regime {
    pub code: String,
    pub name: String,
    pub trigger: RegimeTrigger,
    pub hours: i64,
}

/// The configured regimes that apply, as (stored kind, deadline). Strong encryption
/// exempts, as it does for the APPI.
pub fn custom_deadlines(f: &BreachFacts, known: Timestamp, regimes: &[Regime]) -> Vec<(String, Timestamp)> {
    let d = decide(f);
    regimes
        .iter()
        .filter(|r| {
            f.personal_data
                && !f.strongly_encrypted
                && match r.trigger {
                    RegimeTrigger::PersonalData => true,
                    RegimeTrigger::AppiDuty => d.appi,
                    RegimeTrigger::EuResidents => f.eu_residents,
                    RegimeTrigger::Sensitive => f.sensitive,
                    RegimeTrigger::MoreThan1000 => f.people_affected.is_some_and(|n| n > 1000),
                }
        })
        .map(|r| (format!("custom:{}", r.code), known.saturating_add(Span::new().hours(r.hours)).unwrap_or(known)))
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[schema(as = ReportingDecision)]
pub struct Decision {
    /// The APPI reporting duty applies.
    pub appi: bool,
    pub triggers: Vec<Trigger>,
    /// A trigger holds but strong encryption exempts the breach.
    pub exempt_by_encryption: bool,
    /// The 72-hour GDPR notification applies.
    pub gdpr: bool,
}

pub fn decide(f: &BreachFacts) -> Decision {
    let mut triggers = vec![];
    if f.personal_data {
        if f.sensitive {
            triggers.push(Trigger::Sensitive);
        }
        if f.financial_damage_risk {
            triggers.push(Trigger::FinancialDamage);
        }
        if f.unlawful_purpose {
            triggers.push(Trigger::UnlawfulPurpose);
        }
        if f.people_affected.is_some_and(|n| n > 1000) {
            triggers.push(Trigger::MoreThan1000);
        }
    }
    let exempt = !triggers.is_empty() && f.strongly_encrypted;
    Decision { appi: !triggers.is_empty() && !exempt, triggers, exempt_by_encryption: exempt, gdpr: f.personal_data && f.eu_residents && !f.strongly_encrypted }
}

/// The targets, configurable per installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub preliminary_days: i64,
    pub final_days: i64,
    pub final_days_unlawful: i64,
    pub individuals_days: i64,
    pub gdpr_hours: i64,
}

impl Default for Rules {
    fn default() -> Self {
        Self { preliminary_days: 3, final_days: 30, final_days_unlawful: 60, individuals_days: 3, gdpr_hours: 72 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    pub kind: ClockKind,
    pub due: Timestamp,
}

/// The end (midnight) of the day `days` after the day `known` falls on in Japan.
fn end_of_day_after(known: Timestamp, days: i64, japan: &TimeZone) -> Timestamp {
    let day = known.to_zoned_datetime(japan.clone()).date().saturating_add(Span::new().days(days + 1));
    day.to_zoned_datetime(japan.clone()).map(|z| z.timestamp()).unwrap_or(known).saturating_sub(Span::new().milliseconds(1)).unwrap_or(known)
}

/// The deadlines that run from `known` (when the breach became known).
pub fn deadlines(f: &BreachFacts, known: Timestamp, rules: &Rules, japan: &TimeZone) -> Vec<Deadline> {
    let d = decide(f);
    let mut out = vec![];
    if d.appi {
        out.push(Deadline { kind: ClockKind::AppiPreliminary, due: end_of_day_after(known, rules.preliminary_days, japan) });
        let days = if d.triggers.contains(&Trigger::UnlawfulPurpose) { rules.final_days_unlawful } else { rules.final_days };
        out.push(Deadline { kind: ClockKind::AppiFinal, due: end_of_day_after(known, days, japan) });
        out.push(Deadline { kind: ClockKind::AppiIndividuals, due: end_of_day_after(known, rules.individuals_days, japan) });
    }
    if d.gdpr {
        out.push(Deadline { kind: ClockKind::GdprAuthority, due: known.saturating_add(Span::new().hours(rules.gdpr_hours)).unwrap_or(known) });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokyo() -> TimeZone {
        TimeZone::get("Asia/Tokyo").unwrap()
    }

    fn base() -> BreachFacts {
        BreachFacts { personal_data: true, ..Default::default() }
    }

    #[test]
    fn each_trigger_alone_starts_the_duty() {
        let cases: [(fn(&mut BreachFacts), Trigger); 4] = [
            (|f| f.sensitive = true, Trigger::Sensitive),
            (|f| f.financial_damage_risk = true, Trigger::FinancialDamage),
            (|f| f.unlawful_purpose = true, Trigger::UnlawfulPurpose),
            (|f| f.people_affected = Some(1001), Trigger::MoreThan1000),
        ];
        for (set, t) in cases {
            let mut f = base();
            set(&mut f);
            let d = decide(&f);
            assert!(d.appi, "{t}");
            assert_eq!(d.triggers, vec![t]);
        }
    }

    #[test]
    fn no_trigger_no_duty() {
        let mut f = base();
        f.people_affected = Some(1000);
        assert!(!decide(&f).appi, "1,000 people is not more than 1,000");
        assert!(!decide(&BreachFacts { sensitive: true, unlawful_purpose: true, people_affected: Some(5000), ..Default::default() }).appi, "no personal data");
    }

    #[test]
    fn combinations_and_the_encryption_exemption() {
        let f = BreachFacts { personal_data: true, sensitive: true, unlawful_purpose: true, people_affected: Some(20_000), ..Default::default() };
        let d = decide(&f);
        assert!(d.appi);
        assert_eq!(d.triggers, vec![Trigger::Sensitive, Trigger::UnlawfulPurpose, Trigger::MoreThan1000]);
        let d = decide(&BreachFacts { strongly_encrypted: true, eu_residents: true, ..f });
        assert!(!d.appi && d.exempt_by_encryption && !d.gdpr);
        assert!(deadlines(&BreachFacts { strongly_encrypted: true, ..base() }, Timestamp::UNIX_EPOCH, &Rules::default(), &tokyo()).is_empty());
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn thirty_or_sixty_days_counted_in_japan() {
        // Known at 23:30 on 31 March in Tokyo (14:30 UTC): the days count from 1 April.
        let known = at("2026-03-31T14:30:00Z");
        let mut f = base();
        f.people_affected = Some(2000);
        let d = deadlines(&f, known, &Rules::default(), &tokyo());
        let due = |k: ClockKind| d.iter().find(|x| x.kind == k).unwrap().due.to_zoned_datetime(tokyo()).strftime("%Y-%m-%d %H:%M:%S").to_string();
        assert_eq!(due(ClockKind::AppiPreliminary), "2026-04-03 23:59:59");
        assert_eq!(due(ClockKind::AppiFinal), "2026-04-30 23:59:59");
        assert_eq!(due(ClockKind::AppiIndividuals), "2026-04-03 23:59:59");
        // Counted in UTC the same moment would be 31 March, a day earlier.
        f.unlawful_purpose = true;
        let d = deadlines(&f, known, &Rules::default(), &tokyo());
        let final_due = d.iter().find(|x| x.kind == ClockKind::AppiFinal).unwrap().due.to_zoned_datetime(tokyo()).strftime("%Y-%m-%d").to_string();
        assert_eq!(final_due, "2026-05-30");
    }

    #[test]
    fn gdpr_is_72_hours_from_awareness() {
        let known = at("2026-06-01T09:15:00Z");
        let f = BreachFacts { personal_data: true, eu_residents: true, ..Default::default() };
        let d = deadlines(&f, known, &Rules::default(), &tokyo());
        assert_eq!(d, vec![Deadline { kind: ClockKind::GdprAuthority, due: at("2026-06-04T09:15:00Z") }]);
    }

    #[test]
    fn configured_regimes() {
        let regimes = vec![
            Regime { code: "PARTNER".into(), name: "Notice to the alliance partner".into(), trigger: RegimeTrigger::PersonalData, hours: 24 },
            Regime { code: "UK-ICO".into(), name: "UK ICO".into(), trigger: RegimeTrigger::EuResidents, hours: 72 },
        ];
        let known = at("2026-06-01T00:00:00Z");
        let f = BreachFacts { personal_data: true, ..Default::default() };
        assert_eq!(custom_deadlines(&f, known, &regimes), vec![("custom:PARTNER".to_owned(), at("2026-06-02T00:00:00Z"))]);
        assert_eq!(custom_deadlines(&BreachFacts { eu_residents: true, ..f.clone() }, known, &regimes).len(), 2);
        assert!(custom_deadlines(&BreachFacts { strongly_encrypted: true, ..f.clone() }, known, &regimes).is_empty());
        assert!(custom_deadlines(&BreachFacts::default(), known, &regimes).is_empty());
    }

    #[test]
    fn configured_targets() {
        let rules = Rules { preliminary_days: 5, ..Rules::default() };
        let d = deadlines(&BreachFacts { sensitive: true, ..base() }, at("2026-01-10T00:00:00Z"), &rules, &tokyo());
        assert_eq!(d[0].due.to_zoned_datetime(tokyo()).strftime("%Y-%m-%d").to_string(), "2026-01-15");
    }
}
