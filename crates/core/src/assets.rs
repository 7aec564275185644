//! Handling categories and the rules that say how information of each category must be
//! kept, and the conformance check that compares the asset register with those rules.
//! Pure: the caller loads categories, assets and supporting assets and stores the breaches.

use crate::FieldError;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

code_enum!(
    /// What holds information: the supporting assets of ISO/IEC 27005.
    SupportKind, "kind" {
        System => "system",
        CloudService => "cloud_service",
        Terminal => "terminal",
        PaperStorage => "paper_storage",
    }
);

code_enum!(
    /// Whether information may go somewhere: never, only with an approved request, or freely.
    Egress, "egress" {
        Never => "never",
        WithApproval => "with_approval",
        Allowed => "allowed",
    }
);

code_enum!(
    /// The medium an information asset is on.
    Medium, "medium" {
        Electronic => "electronic",
        Paper => "paper",
    }
);

code_enum!(
    /// How information of a category is destroyed at the end of its retention.
    Disposal, "disposal" {
        Shred => "shred",
        SecureErase => "secure_erase",
        CryptoErase => "crypto_erase",
        Delete => "delete",
    }
);

impl SupportKind {
    pub fn is_electronic(self) -> bool {
        self != SupportKind::PaperStorage
    }
}

/// The handling rules of one category. `customer_information` is a property, not a name:
/// every view and report tells customer information from the rest by it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HandlingRules {
    pub customer_information: bool,
    pub personal_information: bool,
    /// Access only for people who need it for their work (besides the roles below).
    pub need_to_know: bool,
    /// Role codes that may access information of this category; empty: anyone in the company.
    pub access_roles: Vec<String>,
    /// Where it may be stored.
    pub on_premises: bool,
    pub approved_cloud: bool,
    pub terminals: bool,
    pub paper_locked: bool,
    /// Whether it may leave the company, and by which ways.
    pub take_out: Egress,
    pub remote_work: Egress,
    pub email_outside: Egress,
    pub removable_media: Egress,
    /// Protection required of whatever holds it.
    pub encrypt_at_rest: bool,
    pub encrypt_in_transit: bool,
    pub mfa: bool,
    pub access_logging: bool,
    pub retention_months: Option<u32>,
    pub disposal: Disposal,
}

impl HandlingRules {
    /// Whether a kind of holder is an allowed place for this category.
    pub fn allows(&self, kind: SupportKind) -> bool {
        match kind {
            SupportKind::System => self.on_premises,
            SupportKind::CloudService => self.approved_cloud,
            SupportKind::Terminal => self.terminals,
            SupportKind::PaperStorage => self.paper_locked,
        }
    }

    /// Information that must not move freely: its terminals and paper are held to more.
    pub fn is_restricted(&self) -> bool {
        self.customer_information || self.personal_information || self.take_out != Egress::Allowed
    }

    /// The rules checked together, each error naming its field.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = vec![];
        for r in &self.access_roles {
            if r.parse::<crate::Role>().is_err() {
                errors.push(FieldError::coded("access_roles", "role", format!("unknown role `{r}`")).arg("value", r.clone()));
            }
        }
        if !(self.on_premises || self.approved_cloud || self.terminals || self.paper_locked) {
            errors.push(FieldError::coded("storage", "no-storage", "allow at least one place where the information may be stored"));
        }
        if self.customer_information && !self.personal_information {
            errors.push(FieldError::coded("personal_information", "customer-is-personal", "customer information is personal information"));
        }
        if self.customer_information && self.take_out == Egress::Allowed {
            errors.push(FieldError::coded("take_out", "customer-leaves-freely", "customer information may not leave the company without approval"));
        }
        if let Some(m) = self.retention_months
            && (m == 0 || m > 1200)
        {
            errors.push(FieldError::coded("retention_months", "retention-range", "must be between 1 and 1200 months").arg("value", m.to_string()));
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// What the register says about one supporting asset (a system, cloud service, terminal or
/// paper storage). Flags that do not apply to a kind are ignored for it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SupportFacts {
    pub id: String,
    pub kind: Option<SupportKind>,
    pub internet_exposed: bool,
    pub mfa: bool,
    pub access_logging: bool,
    /// Disk encryption on terminals.
    pub encrypted_at_rest: bool,
    pub encrypted_in_transit: bool,
    /// Cloud services: the categories the service is approved for.
    pub approved_categories: Vec<String>,
    pub endpoint_protection: bool,
    pub patched_on: Option<Date>,
    pub zero_trust: bool,
    /// Paper storage: locked.
    pub locked: bool,
}

/// What the register says about one information asset (borrowed: a whole register is
/// checked at once, and nothing here needs to own it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetFacts<'a> {
    pub id: &'a str,
    pub category_id: &'a str,
    pub owner: Option<&'a str>,
    pub medium: Medium,
    pub review_due: Option<Date>,
}

code_enum!(
    /// The rules of the conformance check; the code names the rule in findings and catalogs.
    Rule, "rule" {
        OwnerMissing => "owner-missing",
        ReviewOverdue => "review-overdue",
        LocationMissing => "location-missing",
        MediumMismatch => "medium-mismatch",
        PlaceNotAllowed => "place-not-allowed",
        CloudNotApproved => "cloud-not-approved",
        MfaMissing => "mfa-missing",
        AccessLoggingMissing => "access-logging-missing",
        EncryptionAtRestMissing => "encryption-at-rest-missing",
        EncryptionInTransitMissing => "encryption-in-transit-missing",
        TerminalUnencrypted => "terminal-unencrypted",
        TerminalUnprotected => "terminal-unprotected",
        TerminalUnpatched => "terminal-unpatched",
        TerminalNotEnrolled => "terminal-not-enrolled",
        PaperNotLocked => "paper-not-locked",
        ReturnOverdue => "return-overdue",
    }
);

impl Rule {
    /// How bad a breach of this rule is when the information is not customer information;
    /// every breach on customer information is raised one level (see [`Breach::severity`]).
    fn base_severity(self) -> u8 {
        match self {
            Rule::OwnerMissing | Rule::ReviewOverdue | Rule::LocationMissing | Rule::MediumMismatch => 1,
            Rule::TerminalUnpatched | Rule::TerminalNotEnrolled | Rule::PaperNotLocked | Rule::ReturnOverdue => 2,
            _ => 3,
        }
    }
}

/// One way the register breaks the rules. `key` identifies it across re-checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Breach<'a> {
    pub rule: Rule,
    pub asset_id: &'a str,
    pub support_id: Option<&'a str>,
    pub customer_information: bool,
}

impl Breach<'_> {
    pub fn key(&self) -> String {
        format!("{}|{}|{}", self.rule.code(), self.asset_id, self.support_id.unwrap_or(""))
    }

    /// 1 low, 2 medium, 3 high, 4 critical.
    pub fn severity(&self) -> u8 {
        self.rule.base_severity() + u8::from(self.customer_information)
    }
}

/// Settings of the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckSettings {
    pub today: Date,
    /// A terminal whose last patch is older than this is unpatched.
    pub patch_max_age_days: i32,
}

/// Every breach of one asset against its category's rules and the holders it is linked to.
pub fn check_asset<'a>(asset: &AssetFacts<'a>, rules: &HandlingRules, supports: &[&'a SupportFacts], s: CheckSettings) -> Vec<Breach<'a>> {
    let mut out = vec![];
    let asset_id = asset.id;
    let mut add = |rule: Rule, support: Option<&'a str>| {
        out.push(Breach { rule, asset_id, support_id: support, customer_information: rules.customer_information });
    };
    if asset.owner.is_none() {
        add(Rule::OwnerMissing, None);
    }
    if asset.review_due.is_some_and(|d| d < s.today) {
        add(Rule::ReviewOverdue, None);
    }
    if supports.is_empty() {
        add(Rule::LocationMissing, None);
    }
    for sup in supports {
        let Some(kind) = sup.kind else { continue };
        let id = Some(sup.id.as_str());
        if (asset.medium == Medium::Paper) == kind.is_electronic() {
            add(Rule::MediumMismatch, id);
        }
        if !rules.allows(kind) {
            add(Rule::PlaceNotAllowed, id);
        }
        match kind {
            SupportKind::System | SupportKind::CloudService => {
                if kind == SupportKind::CloudService && rules.approved_cloud && !sup.approved_categories.iter().any(|c| c == asset.category_id) {
                    add(Rule::CloudNotApproved, id);
                }
                if rules.mfa && !sup.mfa {
                    add(Rule::MfaMissing, id);
                }
                if rules.access_logging && !sup.access_logging {
                    add(Rule::AccessLoggingMissing, id);
                }
                if rules.encrypt_at_rest && !sup.encrypted_at_rest {
                    add(Rule::EncryptionAtRestMissing, id);
                }
                // Anything reachable from the internet carries its traffic encrypted when
                // the category asks for it; internal systems too.
                if rules.encrypt_in_transit && !sup.encrypted_in_transit {
                    add(Rule::EncryptionInTransitMissing, id);
                }
            }
            SupportKind::Terminal => {
                // A terminal leaves the building with its user: information that may not
                // leave freely needs its disk encrypted even where the category is silent.
                if (rules.encrypt_at_rest || rules.is_restricted()) && !sup.encrypted_at_rest {
                    add(Rule::TerminalUnencrypted, id);
                }
                if rules.is_restricted() {
                    if !sup.endpoint_protection {
                        add(Rule::TerminalUnprotected, id);
                    }
                    let stale = match sup.patched_on {
                        None => true,
                        Some(p) => p.saturating_add(jiff::Span::new().days(s.patch_max_age_days)) < s.today,
                    };
                    if stale {
                        add(Rule::TerminalUnpatched, id);
                    }
                }
                if rules.customer_information && !sup.zero_trust {
                    add(Rule::TerminalNotEnrolled, id);
                }
            }
            SupportKind::PaperStorage => {
                if rules.is_restricted() && !sup.locked {
                    add(Rule::PaperNotLocked, id);
                }
            }
        }
    }
    out
}

/// The shipped handling categories: (code, English name, Japanese name, rules). The group
/// edits them; they are a starting point that already separates customer information.
pub fn default_categories() -> Vec<(&'static str, &'static str, &'static str, HandlingRules)> {
    let strict = HandlingRules {
        customer_information: true,
        personal_information: true,
        need_to_know: true,
        access_roles: vec![],
        on_premises: true,
        approved_cloud: true,
        terminals: false,
        paper_locked: true,
        take_out: Egress::Never,
        remote_work: Egress::Never,
        email_outside: Egress::Never,
        removable_media: Egress::Never,
        encrypt_at_rest: true,
        encrypt_in_transit: true,
        mfa: true,
        access_logging: true,
        retention_months: Some(84),
        disposal: Disposal::CryptoErase,
    };
    let employee = HandlingRules {
        customer_information: false,
        terminals: true,
        take_out: Egress::WithApproval,
        remote_work: Egress::WithApproval,
        email_outside: Egress::WithApproval,
        retention_months: Some(60),
        ..strict.clone()
    };
    let confidential = HandlingRules {
        personal_information: false,
        need_to_know: true,
        access_logging: false,
        retention_months: Some(120),
        disposal: Disposal::SecureErase,
        ..employee.clone()
    };
    let internal = HandlingRules {
        need_to_know: false,
        take_out: Egress::WithApproval,
        remote_work: Egress::Allowed,
        email_outside: Egress::WithApproval,
        removable_media: Egress::WithApproval,
        encrypt_at_rest: false,
        mfa: false,
        retention_months: None,
        disposal: Disposal::Delete,
        ..confidential.clone()
    };
    let public = HandlingRules {
        take_out: Egress::Allowed,
        remote_work: Egress::Allowed,
        email_outside: Egress::Allowed,
        removable_media: Egress::Allowed,
        encrypt_in_transit: false,
        paper_locked: true,
        ..internal.clone()
    };
    vec![
        ("CUSTOMER-PI", "Customer personal information", "顧客個人情報", strict),
        ("EMPLOYEE-PI", "Employee personal information", "従業員個人情報", employee),
        ("CONFIDENTIAL", "Confidential", "機密情報", confidential),
        ("INTERNAL", "Internal", "社内情報", internal),
        ("PUBLIC", "Public", "公開情報", public),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> Date {
        jiff::civil::date(2026, 11, 26)
    }

    fn settings() -> CheckSettings {
        CheckSettings { today: today(), patch_max_age_days: 60 }
    }

    fn rules(code: &str) -> HandlingRules {
        default_categories().into_iter().find(|c| c.0 == code).unwrap().3
    }

    fn asset(category: &str) -> AssetFacts<'_> {
        AssetFacts { id: "a1", category_id: category, owner: Some("p1"), medium: Medium::Electronic, review_due: Some(jiff::civil::date(2027, 1, 1)) }
    }

    fn hardened(kind: SupportKind, category: &str) -> SupportFacts {
        SupportFacts {
            id: "s1".into(),
            kind: Some(kind),
            internet_exposed: true,
            mfa: true,
            access_logging: true,
            encrypted_at_rest: true,
            encrypted_in_transit: true,
            approved_categories: vec![category.into()],
            endpoint_protection: true,
            patched_on: Some(today()),
            zero_trust: true,
            locked: true,
        }
    }

    fn rules_of(b: &[Breach]) -> Vec<Rule> {
        b.iter().map(|b| b.rule).collect()
    }

    #[test]
    fn defaults_are_valid_and_separate_customer_information() {
        let cats = default_categories();
        for (code, _, _, r) in &cats {
            assert_eq!(r.validate(), Ok(()), "{code}");
        }
        let customer: Vec<_> = cats.iter().filter(|c| c.3.customer_information).map(|c| c.0).collect();
        assert_eq!(customer, ["CUSTOMER-PI"]);
    }

    #[test]
    fn customer_information_in_an_unapproved_cloud_is_a_breach() {
        let mut cloud = hardened(SupportKind::CloudService, "OTHER");
        cloud.id = "c9".into();
        let b = check_asset(&asset("CUST"), &rules("CUSTOMER-PI"), &[&cloud], settings());
        assert_eq!(rules_of(&b), [Rule::CloudNotApproved]);
        assert_eq!(b[0].support_id, Some("c9"));
        assert_eq!(b[0].severity(), 4);
        assert_eq!(b[0].key(), "cloud-not-approved|a1|c9");
    }

    #[test]
    fn a_system_without_mfa_or_logging_may_not_hold_customer_information() {
        let mut sys = hardened(SupportKind::System, "CUST");
        sys.mfa = false;
        sys.access_logging = false;
        let b = check_asset(&asset("CUST"), &rules("CUSTOMER-PI"), &[&sys], settings());
        assert_eq!(rules_of(&b), [Rule::MfaMissing, Rule::AccessLoggingMissing]);
        // The same system may hold internal information.
        assert!(check_asset(&asset("INT"), &rules("INTERNAL"), &[&sys], settings()).is_empty());
    }

    #[test]
    fn restricted_information_on_an_unencrypted_terminal() {
        let mut t = hardened(SupportKind::Terminal, "EMP");
        t.encrypted_at_rest = false;
        let b = check_asset(&asset("EMP"), &rules("EMPLOYEE-PI"), &[&t], settings());
        assert_eq!(rules_of(&b), [Rule::TerminalUnencrypted]);
        // Public information on the same terminal is fine.
        assert!(check_asset(&asset("PUB"), &rules("PUBLIC"), &[&t], settings()).is_empty());
        // Customer information may not be on terminals at all, and needs zero trust.
        t.zero_trust = false;
        let b = check_asset(&asset("CUST"), &rules("CUSTOMER-PI"), &[&t], settings());
        assert_eq!(rules_of(&b), [Rule::PlaceNotAllowed, Rule::TerminalUnencrypted, Rule::TerminalNotEnrolled]);
    }

    #[test]
    fn patches_older_than_the_limit_count_as_unpatched() {
        let mut t = hardened(SupportKind::Terminal, "EMP");
        t.patched_on = Some(jiff::civil::date(2026, 9, 27));
        assert!(check_asset(&asset("EMP"), &rules("EMPLOYEE-PI"), &[&t], settings()).is_empty());
        t.patched_on = Some(jiff::civil::date(2026, 9, 26));
        assert_eq!(rules_of(&check_asset(&asset("EMP"), &rules("EMPLOYEE-PI"), &[&t], settings())), [Rule::TerminalUnpatched]);
        t.patched_on = None;
        assert_eq!(rules_of(&check_asset(&asset("EMP"), &rules("EMPLOYEE-PI"), &[&t], settings())), [Rule::TerminalUnpatched]);
    }

    #[test]
    fn owner_review_location_and_medium() {
        let mut a = asset("INT");
        a.owner = None;
        a.review_due = Some(jiff::civil::date(2026, 11, 25));
        let b = check_asset(&a, &rules("INTERNAL"), &[], settings());
        assert_eq!(rules_of(&b), [Rule::OwnerMissing, Rule::ReviewOverdue, Rule::LocationMissing]);
        a.medium = Medium::Paper;
        a.owner = Some("p");
        a.review_due = Some(today());
        let sys = hardened(SupportKind::System, "INT");
        assert_eq!(rules_of(&check_asset(&a, &rules("INTERNAL"), &[&sys], settings())), [Rule::MediumMismatch]);
        let mut cabinet = hardened(SupportKind::PaperStorage, "INT");
        cabinet.locked = false;
        assert_eq!(rules_of(&check_asset(&a, &rules("INTERNAL"), &[&cabinet], settings())), [Rule::PaperNotLocked]);
    }

    #[test]
    fn validation_names_the_field() {
        let mut r = rules("CUSTOMER-PI");
        r.personal_information = false;
        r.take_out = Egress::Allowed;
        r.on_premises = false;
        r.approved_cloud = false;
        r.paper_locked = false;
        r.access_roles = vec!["pilot".into()];
        r.retention_months = Some(0);
        let fields: Vec<_> = r.validate().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["access_roles", "storage", "personal_information", "take_out", "retention_months"]);
    }

    #[test]
    fn codes_round_trip() {
        for r in Rule::ALL {
            assert_eq!(Rule::parse(r.code()).unwrap(), *r);
        }
        assert_eq!(SupportKind::parse(" terminal ").unwrap(), SupportKind::Terminal);
        let e = Egress::parse("sometimes").unwrap_err();
        assert_eq!(e.field, "egress");
        assert!(e.message.contains("never, with_approval, allowed"));
    }

    fn arb_support() -> impl Strategy<Value = SupportFacts> {
        (0usize..4, proptest::collection::vec(any::<bool>(), 9), proptest::option::of(0i32..200)).prop_map(|(k, f, age)| SupportFacts {
            id: "s".into(),
            kind: Some(SupportKind::ALL[k]),
            internet_exposed: f[0],
            mfa: f[1],
            access_logging: f[2],
            encrypted_at_rest: f[3],
            encrypted_in_transit: f[4],
            approved_categories: if f[5] { vec!["C".into()] } else { vec![] },
            endpoint_protection: f[6],
            patched_on: age.map(|d| today().saturating_sub(jiff::Span::new().days(d))),
            zero_trust: f[7],
            locked: f[8],
        })
    }

    fn arb_rules() -> impl Strategy<Value = HandlingRules> {
        (proptest::collection::vec(any::<bool>(), 11), 0usize..3).prop_map(|(f, e)| HandlingRules {
            customer_information: f[0] && f[1],
            personal_information: f[1],
            need_to_know: f[2],
            access_roles: vec![],
            on_premises: f[3],
            approved_cloud: f[4],
            terminals: f[5],
            paper_locked: f[6],
            take_out: Egress::ALL[e],
            remote_work: Egress::ALL[e],
            email_outside: Egress::ALL[e],
            removable_media: Egress::ALL[e],
            encrypt_at_rest: f[7],
            encrypt_in_transit: f[8],
            mfa: f[9],
            access_logging: f[10],
            retention_months: None,
            disposal: Disposal::Delete,
        })
    }

    proptest! {
        /// Adding a protection to a holder never adds a breach.
        #[test]
        fn more_protection_never_adds_breaches(r in arb_rules(), s in arb_support(), which in 0usize..8) {
            let a = asset("C");
            let before = check_asset(&a, &r, &[&s], settings());
            let mut better = s.clone();
            match which {
                0 => better.mfa = true,
                1 => better.access_logging = true,
                2 => better.encrypted_at_rest = true,
                3 => better.encrypted_in_transit = true,
                4 => better.endpoint_protection = true,
                5 => better.zero_trust = true,
                6 => better.locked = true,
                _ => better.patched_on = Some(today()),
            }
            let after = check_asset(&a, &r, &[&better], settings());
            prop_assert!(after.iter().all(|b| before.contains(b)), "{before:?} -> {after:?}");
        }

        /// Marking a category as customer information never removes a breach.
        #[test]
        fn customer_information_is_never_held_to_less(r in arb_rules(), s in arb_support()) {
            let a = asset("C");
            let plain = HandlingRules { customer_information: false, ..r.clone() };
            let customer = HandlingRules { customer_information: true, personal_information: true, ..r };
            let before = check_asset(&a, &plain, &[&s], settings());
            let after = check_asset(&a, &customer, &[&s], settings());
            for b in &before {
                prop_assert!(after.iter().any(|x| x.key() == b.key()), "{b:?} vanished");
            }
            prop_assert!(after.iter().all(|b| b.customer_information && b.severity() > b.rule.base_severity()));
        }

        /// A holder with every protection that is allowed for the category never breaks a rule.
        #[test]
        fn a_hardened_allowed_holder_is_clean(r in arb_rules(), k in 0usize..4) {
            let kind = SupportKind::ALL[k];
            prop_assume!(r.allows(kind));
            let mut a = asset("C");
            a.medium = if kind.is_electronic() { Medium::Electronic } else { Medium::Paper };
            let s = hardened(kind, "C");
            prop_assert_eq!(check_asset(&a, &r, &[&s], settings()), vec![]);
        }
    }
}
