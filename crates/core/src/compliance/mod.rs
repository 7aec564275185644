//! Frameworks, controls and the Statement of Applicability as pure rules: the framework
//! and mapping file formats (YAML and CSV, every problem with its line), how a
//! requirement's state follows from its applicability and the controls behind it, and how
//! those states add up to an assessment. Risk scoring is in [`risk`].

pub mod format;
pub mod risk;

code_enum!(
    /// How far one of the group's own measures has come.
    ControlStatus, "status" {
        Planned => "planned",
        InProgress => "in_progress",
        Implemented => "implemented",
        NotApplicable => "not_applicable",
    }
);

code_enum!(
    /// How a requirement of one framework relates to one of another.
    Relation, "relation" {
        Equivalent => "equivalent",
        Subset => "subset",
        Superset => "superset",
        Intersects => "intersects",
    }
);

code_enum!(
    /// Where a requirement stands for one scope.
    Compliance, "compliance" {
        Met => "met",
        Partial => "partial",
        NotMet => "not_met",
        Excluded => "excluded",
    }
);

code_enum!(
    /// What a piece of evidence is: a stored file, a link, or a record another module keeps
    /// (a published document linked to the control).
    EvidenceKind, "kind" {
        File => "file",
        Link => "link",
        Record => "record",
    }
);

/// What is known about one requirement in one scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequirementFacts {
    /// The Statement of Applicability's decision; `None` until someone decides (counted as
    /// applicable: a requirement is in scope until excluded with a justification).
    pub applicable: Option<bool>,
    pub implemented: u32,
    pub in_progress: u32,
    pub planned: u32,
    /// Linked controls whose effectiveness review is overdue or which hold no evidence:
    /// they count as in progress, not as implemented.
    pub unproven: u32,
}

impl RequirementFacts {
    pub fn add(&mut self, status: ControlStatus, proven: bool) {
        match status {
            ControlStatus::Implemented if proven => self.implemented += 1,
            ControlStatus::Implemented => self.unproven += 1,
            ControlStatus::InProgress => self.in_progress += 1,
            ControlStatus::Planned => self.planned += 1,
            ControlStatus::NotApplicable => {}
        }
    }

    fn controls(&self) -> u32 {
        self.implemented + self.in_progress + self.planned + self.unproven
    }
}

/// A requirement is met when it has controls and every one of them is implemented and
/// proven; partly met when at least one is implemented or under way; not met otherwise.
/// Excluded requirements do not count.
pub fn compliance(f: &RequirementFacts) -> Compliance {
    if f.applicable == Some(false) {
        Compliance::Excluded
    } else if f.controls() == 0 {
        Compliance::NotMet
    } else if f.implemented == f.controls() {
        Compliance::Met
    } else if f.implemented + f.in_progress + f.unproven > 0 {
        Compliance::Partial
    } else {
        Compliance::NotMet
    }
}

/// Why a requirement is a gap, for the gap list.
pub fn gap_reason(f: &RequirementFacts) -> Option<&'static str> {
    match compliance(f) {
        Compliance::Met | Compliance::Excluded => None,
        _ if f.controls() == 0 => Some("no_control"),
        _ if f.unproven > 0 && f.in_progress + f.planned == 0 => Some("unproven"),
        _ if f.implemented + f.in_progress + f.unproven == 0 => Some("planned_only"),
        _ => Some("in_progress"),
    }
}

/// Counts of requirements by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, utoipa::ToSchema)]
#[schema(as = ComplianceTally)]
pub struct Tally {
    pub met: u32,
    pub partial: u32,
    pub not_met: u32,
    pub excluded: u32,
}

impl Tally {
    pub fn add(&mut self, c: Compliance) {
        match c {
            Compliance::Met => self.met += 1,
            Compliance::Partial => self.partial += 1,
            Compliance::NotMet => self.not_met += 1,
            Compliance::Excluded => self.excluded += 1,
        }
    }

    /// Requirements in scope: those not excluded.
    pub fn applicable(&self) -> u32 {
        self.met + self.partial + self.not_met
    }

    /// Per mille of applicable requirements met, partly met and not met; each rounded
    /// down, the rest given to "not met" so the three add up to 1000.
    pub fn per_mille(&self) -> (u32, u32, u32) {
        let n = self.applicable();
        if n == 0 {
            return (0, 0, 0);
        }
        let met = self.met * 1000 / n;
        let partial = self.partial * 1000 / n;
        (met, partial, 1000 - met - partial)
    }

    /// "72.5%"-style text of a per-mille figure.
    pub fn percent(per_mille: u32) -> String {
        format!("{}.{}%", per_mille / 10, per_mille % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn facts(applicable: Option<bool>, i: u32, p: u32, l: u32, u: u32) -> RequirementFacts {
        RequirementFacts { applicable, implemented: i, in_progress: p, planned: l, unproven: u }
    }

    #[test]
    fn states_follow_the_controls() {
        assert_eq!(compliance(&facts(None, 0, 0, 0, 0)), Compliance::NotMet);
        assert_eq!(gap_reason(&facts(None, 0, 0, 0, 0)), Some("no_control"));
        assert_eq!(compliance(&facts(Some(false), 0, 0, 0, 0)), Compliance::Excluded);
        assert_eq!(gap_reason(&facts(Some(false), 0, 0, 0, 0)), None);
        assert_eq!(compliance(&facts(Some(true), 2, 0, 0, 0)), Compliance::Met);
        assert_eq!(compliance(&facts(None, 1, 0, 1, 0)), Compliance::Partial);
        assert_eq!(compliance(&facts(None, 0, 0, 3, 0)), Compliance::NotMet);
        assert_eq!(gap_reason(&facts(None, 0, 0, 3, 0)), Some("planned_only"));
        assert_eq!(compliance(&facts(None, 0, 0, 0, 1)), Compliance::Partial);
        assert_eq!(gap_reason(&facts(None, 0, 0, 0, 1)), Some("unproven"));
        assert_eq!(gap_reason(&facts(None, 1, 1, 0, 0)), Some("in_progress"));
    }

    #[test]
    fn unproven_implementation_is_not_met() {
        let mut f = RequirementFacts::default();
        f.add(ControlStatus::Implemented, false);
        assert_eq!(compliance(&f), Compliance::Partial);
        f.add(ControlStatus::NotApplicable, true);
        assert_eq!(f.controls(), 1);
    }

    #[test]
    fn shares_add_up() {
        let t = Tally { met: 1, partial: 1, not_met: 1, excluded: 5 };
        assert_eq!(t.per_mille(), (333, 333, 334));
        assert_eq!(Tally::percent(725), "72.5%");
        assert_eq!(Tally::default().per_mille(), (0, 0, 0));
    }

    proptest! {
        /// One more proven implemented control never makes a requirement worse, and a
        /// requirement is met exactly when every control behind it is proven implemented.
        #[test]
        fn more_implementation_never_hurts(i in 0u32..4, p in 0u32..4, l in 0u32..4, u in 0u32..4, a in proptest::option::of(any::<bool>())) {
            let rank = |c: Compliance| match c { Compliance::NotMet => 0, Compliance::Partial => 1, Compliance::Met => 2, Compliance::Excluded => 3 };
            let before = facts(a, i, p, l, u);
            let mut after = before;
            after.add(ControlStatus::Implemented, true);
            if a == Some(false) {
                prop_assert_eq!(compliance(&after), Compliance::Excluded);
            } else {
                prop_assert!(rank(compliance(&after)) >= rank(compliance(&before)));
                prop_assert_eq!(compliance(&before) == Compliance::Met, i > 0 && p + l + u == 0);
            }
        }

        #[test]
        fn per_mille_sums_to_a_thousand(m in 0u32..500, p in 0u32..500, n in 0u32..500) {
            let t = Tally { met: m, partial: p, not_met: n, excluded: 0 };
            let (a, b, c) = t.per_mille();
            if m + p + n > 0 { prop_assert_eq!(a + b + c, 1000); }
        }
    }
}
