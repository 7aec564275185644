//! Incidents as the CSIRT runs them: their types, the severity matrix, the lifecycle from
//! report to close as a pure state machine, and (in `clocks`) the regulatory reporting
//! duties that personal-data breaches start. Nothing here does IO.

pub mod clocks;
pub mod drills;
pub mod observables;
pub mod playbooks;
pub mod releases;

use crate::FieldError;

code_enum!(
    /// What kind of incident it is (the Risk Management Manual's types).
    IncidentType, "kind" {
        UnauthorizedAccess => "unauthorized_access",
        Malware => "malware",
        DataLeak => "data_leak",
        LossTheft => "loss_theft",
        Phishing => "phishing",
        DenialOfService => "dos",
        Insider => "insider",
        Vendor => "vendor",
        Other => "other",
    }
);

code_enum!(
    /// Where a case stands. Each step is recorded with who and when.
    Status, "status" {
        Reported => "reported",
        Triage => "triage",
        Containment => "containment",
        Eradication => "eradication",
        Recovery => "recovery",
        Review => "review",
        Closed => "closed",
    }
);

code_enum!(
    /// How far the harm reaches (one axis of the severity matrix).
    Impact, "impact" {
        Limited => "limited",
        Significant => "significant",
        Severe => "severe",
    }
);

code_enum!(
    /// The most sensitive information involved (the other axis).
    Exposure, "exposure" {
        NoInformation => "none",
        Internal => "internal",
        Personal => "personal",
        Customer => "customer",
    }
);

/// Severity 1 (low) to 4 (critical), from the matrix below. Written out so that triage
/// is the same whoever does it:
///
/// | impact \ information | none | internal | personal (employees) | customer |
/// |---|---|---|---|---|
/// | limited (one person or device, no service affected) | 1 | 1 | 2 | 3 |
/// | significant (a department, a system, a service degraded) | 2 | 2 | 3 | 4 |
/// | severe (a company or the group, a service down, publicly visible) | 3 | 3 | 4 | 4 |
pub fn severity(impact: Impact, exposure: Exposure) -> i16 {
    use Exposure::*;
    use Impact::*;
    match (impact, exposure) {
        (Limited, NoInformation | Internal) => 1,
        (Limited, Personal) | (Significant, NoInformation | Internal) => 2,
        (Limited, Customer) | (Significant, Personal) | (Severe, NoInformation | Internal) => 3,
        (Significant, Customer) | (Severe, Personal | Customer) => 4,
    }
}

/// The matrix as rows, for the page that explains it.
pub fn matrix() -> Vec<(Impact, Vec<(Exposure, i16)>)> {
    Impact::ALL.iter().map(|&i| (i, Exposure::ALL.iter().map(|&e| (e, severity(i, e))).collect())).collect()
}

/// What the case must hold before it may move on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Severity decided at triage.
    pub severity: Option<i16>,
    /// Whether personal information is involved has been answered (yes or no).
    pub personal_data_decided: bool,
    pub root_cause: bool,
    pub lessons: bool,
    /// Corrective actions may stay open after close; a real case needs at least one
    /// recorded, or a reason why none is needed.
    pub corrective_actions: bool,
    /// Legal clocks still running: each must be done or marked not applicable first.
    pub running_clocks: usize,
    /// Playbook tasks still open: each must be done or cancelled with a reason first.
    pub open_tasks: usize,
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("a case cannot go from {from} to {to}: steps are taken in order")]
    Skips { from: Status, to: Status },
    #[error("decide the severity before containment")]
    NeedsSeverity,
    #[error("say whether personal information is involved before containment")]
    NeedsPersonalDecision,
    #[error("record the root cause and the lessons before closing")]
    NeedsReview,
    #[error("record corrective actions (or why none are needed) before closing")]
    NeedsActions,
    #[error("say why the report is not an incident")]
    NeedsReason,
    #[error(
        "{clocks} reporting deadline(s) still running and {tasks} task(s) open: finish each, or mark it not applicable (a deadline) or cancel it (a task) with a reason, before closing"
    )]
    OpenDuties { clocks: usize, tasks: usize },
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Skips { .. } => "incident-skips",
            Refusal::NeedsSeverity => "incident-needs-severity",
            Refusal::NeedsPersonalDecision => "incident-needs-personal",
            Refusal::NeedsReview => "incident-needs-review",
            Refusal::NeedsActions => "incident-needs-actions",
            Refusal::NeedsReason => "incident-needs-reason",
            Refusal::OpenDuties { .. } => "incident-open-duties",
        }
    }

    pub fn to_field_error(&self) -> FieldError {
        // Codes listed in the catalog test: incident-skips, incident-needs-*.
        let field = "status";
        let e = FieldError::coded(field, self.code(), self.to_string());
        match self {
            Refusal::Skips { from, to } => e.arg("from", from.code()).arg("to", to.code()),
            Refusal::OpenDuties { clocks, tasks } => e.arg("clocks", clocks.to_string()).arg("tasks", tasks.to_string()),
            _ => e,
        }
    }
}

/// Whether a case may move from `from` to `to` with these facts. Steps go forward one
/// at a time; the one shortcut is closing a report at triage as "not an incident", which
/// needs a reason. No case closes, by either way, while a legal deadline runs or a task is
/// open.
pub fn transition(from: Status, to: Status, facts: &Facts, reason_given: bool) -> Result<(), Refusal> {
    use Status::*;
    let next = |s: Status| Status::ALL.iter().position(|&x| x == s).and_then(|i| Status::ALL.get(i + 1)).copied();
    let open_duties = facts.running_clocks > 0 || facts.open_tasks > 0;
    let duties = || Refusal::OpenDuties { clocks: facts.running_clocks, tasks: facts.open_tasks };
    if from == Triage && to == Closed {
        return match (reason_given, open_duties) {
            (false, _) => Err(Refusal::NeedsReason),
            (true, true) => Err(duties()),
            (true, false) => Ok(()),
        };
    }
    if next(from) != Some(to) {
        return Err(Refusal::Skips { from, to });
    }
    match to {
        Containment if facts.severity.is_none() => Err(Refusal::NeedsSeverity),
        Containment if !facts.personal_data_decided => Err(Refusal::NeedsPersonalDecision),
        Closed if !(facts.root_cause && facts.lessons) => Err(Refusal::NeedsReview),
        Closed if !facts.corrective_actions => Err(Refusal::NeedsActions),
        Closed if open_duties => Err(duties()),
        _ => Ok(()),
    }
}

/// The steps a case may take from `from`, in the order a page offers them: the next one,
/// and at triage also closing as "not an incident".
pub fn next_steps(from: Status) -> &'static [Status] {
    use Status::*;
    match from {
        Reported => &[Triage],
        Triage => &[Containment, Closed],
        Containment => &[Eradication],
        Eradication => &[Recovery],
        Recovery => &[Review],
        Review => &[Closed],
        Closed => &[],
    }
}

/// A MITRE ATT&CK technique id such as `T1078` or `T1566.002`.
pub fn parse_technique(s: &str) -> Result<String, FieldError> {
    let t = s.trim().to_ascii_uppercase();
    let ok = t.len() >= 5
        && t.starts_with('T')
        && t[1..5].bytes().all(|b| b.is_ascii_digit())
        && (t.len() == 5 || (t.len() == 9 && t.as_bytes()[5] == b'.' && t[6..].bytes().all(|b| b.is_ascii_digit())));
    if ok {
        Ok(t)
    } else {
        Err(FieldError::coded("techniques", "attack-technique", format!("`{}` is not an ATT&CK technique id such as T1078 or T1566.002", s.trim()))
            .arg("value", s.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;
    use proptest::prelude::*;

    fn ready() -> Facts {
        Facts { severity: Some(3), personal_data_decided: true, root_cause: true, lessons: true, corrective_actions: true, ..Facts::default() }
    }

    #[test]
    fn no_case_closes_while_a_deadline_runs_or_a_task_is_open() {
        let open = Facts { running_clocks: 2, open_tasks: 4, ..ready() };
        assert_eq!(transition(Review, Closed, &open, false), Err(Refusal::OpenDuties { clocks: 2, tasks: 4 }));
        assert_eq!(transition(Triage, Closed, &open, true), Err(Refusal::OpenDuties { clocks: 2, tasks: 4 }));
        assert_eq!(transition(Review, Closed, &Facts { open_tasks: 1, ..ready() }, false), Err(Refusal::OpenDuties { clocks: 0, tasks: 1 }));
        // Open duties do not hold up the steps before closing.
        assert_eq!(transition(Recovery, Review, &open, false), Ok(()));
        assert_eq!(transition(Review, Closed, &ready(), false), Ok(()));
    }

    #[test]
    fn the_steps_offered_are_the_steps_allowed() {
        let f = ready();
        for &from in Status::ALL {
            for &to in Status::ALL {
                let offered = next_steps(from).contains(&to);
                assert_eq!(offered, transition(from, to, &f, true).is_ok(), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn the_steps_in_order() {
        let f = ready();
        for w in Status::ALL.windows(2) {
            assert_eq!(transition(w[0], w[1], &f, false), Ok(()), "{} -> {}", w[0], w[1]);
        }
    }

    #[test]
    fn skipping_is_refused_with_the_reason() {
        let f = ready();
        assert_eq!(transition(Reported, Containment, &f, false), Err(Refusal::Skips { from: Reported, to: Containment }));
        assert!(transition(Containment, Closed, &f, true).is_err());
        assert!(transition(Closed, Reported, &f, true).is_err());
        assert!(transition(Recovery, Containment, &f, false).is_err(), "no going back");
    }

    #[test]
    fn containment_needs_triage_decisions() {
        let mut f = ready();
        f.severity = None;
        assert_eq!(transition(Triage, Containment, &f, false), Err(Refusal::NeedsSeverity));
        f.severity = Some(2);
        f.personal_data_decided = false;
        assert_eq!(transition(Triage, Containment, &f, false), Err(Refusal::NeedsPersonalDecision));
    }

    #[test]
    fn closing_needs_the_review() {
        let mut f = ready();
        f.lessons = false;
        assert_eq!(transition(Review, Closed, &f, false), Err(Refusal::NeedsReview));
        f.lessons = true;
        f.corrective_actions = false;
        assert_eq!(transition(Review, Closed, &f, false), Err(Refusal::NeedsActions));
        // A false report closes at triage with a reason, without the review.
        assert_eq!(transition(Triage, Closed, &Facts::default(), false), Err(Refusal::NeedsReason));
        assert_eq!(transition(Triage, Closed, &Facts::default(), true), Ok(()));
    }

    proptest! {
        /// Severity never falls when impact or exposure grows.
        #[test]
        fn severity_is_monotonic(i in 0usize..3, j in 0usize..3, e in 0usize..4, k in 0usize..4) {
            let (i1, i2) = (i.min(j), i.max(j));
            let (e1, e2) = (e.min(k), e.max(k));
            prop_assert!(severity(Impact::ALL[i1], Exposure::ALL[e1]) <= severity(Impact::ALL[i2], Exposure::ALL[e2]));
        }
    }

    #[test]
    fn customer_information_is_never_low() {
        for &i in Impact::ALL {
            assert!(severity(i, Exposure::Customer) >= 3);
        }
        assert_eq!(matrix().len(), 3);
    }

    #[test]
    fn techniques() {
        assert_eq!(parse_technique(" t1078 ").unwrap(), "T1078");
        assert_eq!(parse_technique("T1566.002").unwrap(), "T1566.002");
        for bad in ["", "T10", "X1078", "T1566.2", "T1566-002", "T10788"] {
            assert!(parse_technique(bad).is_err(), "{bad}");
        }
    }
}
