//! Documents of the management system (policies, regulations, guidelines, the Handbook,
//! procedures): their kinds and who approves each, the version lifecycle as a pure state
//! machine, and the review calendar. Rendering, comparison and attachment checks live in
//! the submodules; nothing here does IO.

pub mod attachment;
pub mod diff;
pub mod markdown;

use crate::{FieldError, Role};
use jiff::civil::Date;

code_enum!(
    /// What a document is. The kind decides who approves its versions.
    DocKind, "kind" {
        Policy => "policy",
        Regulation => "regulation",
        Guideline => "guideline",
        Handbook => "handbook",
        Procedure => "procedure",
    }
);

code_enum!(
    /// Where a version stands. Only a draft can change; a published version is frozen for good.
    VersionState, "state" {
        Draft => "draft",
        InReview => "in_review",
        Approved => "approved",
        Published => "published",
        Retired => "retired",
    }
);

code_enum!(
    /// The language a document is written in; the other language's document is linked to it.
    DocLang, "language" {
        Ja => "ja",
        En => "en",
    }
);

code_enum!(
    /// What a completed review decided.
    ReviewOutcome, "outcome" {
        NoChange => "no_change",
        NewVersion => "new_version",
    }
);

/// Who approves versions of one kind, how many of them must, and the usual review interval.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ApprovalRule {
    pub kind: DocKind,
    pub approver_role: Role,
    /// Approvals from holders of `approver_role` that make a version approved (1 to 9).
    pub approvals_needed: i32,
    /// Months between reviews given to new documents of this kind (1 to 60).
    pub review_months: i32,
}

impl ApprovalRule {
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = vec![];
        if !(1..=9).contains(&self.approvals_needed) {
            errors.push(FieldError::coded("approvals_needed", "between", "must be between 1 and 9").arg("min", "1").arg("max", "9"));
        }
        if !(1..=60).contains(&self.review_months) {
            errors.push(FieldError::coded("review_months", "between", "must be between 1 and 60").arg("min", "1").arg("max", "60"));
        }
        if matches!(self.approver_role, Role::Employee | Role::SystemAdministrator | Role::ContactDeskAgent | Role::Hr) {
            errors.push(
                FieldError::coded("approver_role", "approver-role", format!("`{}` cannot approve management-system documents", self.approver_role))
                    .arg("value", self.approver_role.code()),
            );
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// The rules a new installation starts with: the Council approves the basic policy, the
/// Committee the regulations and the Handbook, the CISO guidelines and procedures.
pub fn default_rules() -> Vec<ApprovalRule> {
    use DocKind::*;
    [
        (Policy, Role::CouncilMember, 12),
        (Regulation, Role::CommitteeMember, 12),
        (Guideline, Role::Ciso, 12),
        (Handbook, Role::CommitteeMember, 12),
        (Procedure, Role::Ciso, 12),
    ]
    .into_iter()
    .map(|(kind, approver_role, review_months)| ApprovalRule { kind, approver_role, approvals_needed: 1, review_months })
    .collect()
}

/// Something done to a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The author sends a draft to its approvers.
    Submit,
    /// The author takes a version in review back to draft; approvals so far are void.
    Withdraw,
    /// One approver approves; `enough` when the approvals now reach the number needed.
    Approve { enough: bool },
    /// One approver rejects: the version returns to draft with the reason.
    Reject,
    /// An approved version goes out; the version published before it retires.
    Publish,
    /// A published version is withdrawn from use.
    Retire,
}

/// Why an action does not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("a {state} version cannot be {action}")]
    WrongState { state: VersionState, action: &'static str },
    #[error("the author of a version may not approve it")]
    OwnVersion,
    #[error("approving needs the role `{0}`")]
    NotApprover(Role),
    #[error("this approver has already decided on this version")]
    AlreadyDecided,
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::WrongState { .. } => "version-state",
            Refusal::OwnVersion => "approve-own",
            Refusal::NotApprover(_) => "not-approver",
            Refusal::AlreadyDecided => "already-decided",
        }
    }

    pub fn to_field_error(&self) -> FieldError {
        // Codes listed in the catalog test: version-state, approve-own, not-approver, already-decided.
        let field = "state";
        let e = FieldError::coded(field, self.code(), self.to_string());
        match self {
            Refusal::WrongState { state, action } => e.arg("state", state.code()).arg("action", *action),
            Refusal::NotApprover(r) => e.arg("role", r.code()),
            _ => e,
        }
    }
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::Submit => "submitted",
        Action::Withdraw => "withdrawn",
        Action::Approve { .. } => "approved",
        Action::Reject => "rejected",
        Action::Publish => "published",
        Action::Retire => "retired",
    }
}

/// The state after `action`, or why it does not apply. The whole lifecycle is here:
/// draft → in review → approved → published → retired, with withdraw and reject back to draft.
pub fn transition(state: VersionState, action: Action) -> Result<VersionState, Refusal> {
    use VersionState::*;
    let next = match (state, action) {
        (Draft, Action::Submit) => InReview,
        (InReview, Action::Withdraw) => Draft,
        (InReview, Action::Approve { enough: false }) => InReview,
        (InReview, Action::Approve { enough: true }) => Approved,
        (InReview, Action::Reject) => Draft,
        // An approved version not yet published can still be taken back for changes.
        (Approved, Action::Withdraw) => Draft,
        (Approved, Action::Publish) => Published,
        (Published, Action::Retire) => Retired,
        (state, action) => return Err(Refusal::WrongState { state, action: action_name(action) }),
    };
    Ok(next)
}

/// Only a draft's text, title and attachments may change.
pub fn editable(state: VersionState) -> bool {
    state == VersionState::Draft
}

/// Whether someone holding `roles` (for the document's company) may decide on a version
/// in review: the rule's role, not the author, and once per version.
pub fn may_decide(rule: &ApprovalRule, roles: &[Role], is_author: bool, already_decided: bool, state: VersionState) -> Result<(), Refusal> {
    if state != VersionState::InReview {
        return Err(Refusal::WrongState { state, action: "approved" });
    }
    if !roles.contains(&rule.approver_role) {
        return Err(Refusal::NotApprover(rule.approver_role));
    }
    if is_author {
        return Err(Refusal::OwnVersion);
    }
    if already_decided {
        return Err(Refusal::AlreadyDecided);
    }
    Ok(())
}

/// The next review date: `months` after `from`.
pub fn next_review(from: Date, months: i32) -> Date {
    from.saturating_add(jiff::Span::new().months(months.clamp(1, 60)))
}

/// A document's review status on `today`, given its due date and how many days ahead
/// owners are reminded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewStatus {
    NotScheduled,
    Current,
    DueSoon,
    Overdue,
}

impl ReviewStatus {
    /// The code the API and the pages use.
    pub fn code(self) -> &'static str {
        match self {
            ReviewStatus::NotScheduled => "not_scheduled",
            ReviewStatus::Current => "current",
            ReviewStatus::DueSoon => "due_soon",
            ReviewStatus::Overdue => "overdue",
        }
    }
}

pub fn review_status(due: Option<Date>, today: Date, remind_days: i64) -> ReviewStatus {
    match due {
        None => ReviewStatus::NotScheduled,
        Some(d) if d < today => ReviewStatus::Overdue,
        Some(d) if d <= today.saturating_add(jiff::Span::new().days(remind_days)) => ReviewStatus::DueSoon,
        Some(_) => ReviewStatus::Current,
    }
}

/// A short document code such as `POL-001` or `ISMS-REG-12`: letters, digits and dashes.
pub fn parse_code(s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(FieldError::coded("code", "required", "is required"));
    }
    if s.len() > 32
        || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        || !s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return Err(
            FieldError::coded("code", "doc-code", "use up to 32 letters, digits, dots, dashes or underscores, starting with a letter or digit").arg("value", s)
        );
    }
    Ok(s.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use VersionState::*;
    use proptest::prelude::*;

    #[test]
    fn the_happy_path() {
        let mut s = Draft;
        for a in [Action::Submit, Action::Approve { enough: false }, Action::Approve { enough: true }, Action::Publish, Action::Retire] {
            s = transition(s, a).unwrap();
        }
        assert_eq!(s, Retired);
    }

    #[test]
    fn rejection_and_withdrawal_return_to_draft() {
        assert_eq!(transition(InReview, Action::Reject), Ok(Draft));
        assert_eq!(transition(InReview, Action::Withdraw), Ok(Draft));
        assert_eq!(transition(Approved, Action::Withdraw), Ok(Draft));
    }

    #[test]
    fn published_and_retired_versions_are_frozen() {
        for s in [Published, Retired] {
            assert!(!editable(s));
            for a in [Action::Submit, Action::Withdraw, Action::Approve { enough: true }, Action::Reject, Action::Publish] {
                assert!(transition(s, a).is_err(), "{s} {a:?}");
            }
        }
        assert!(transition(Retired, Action::Retire).is_err());
    }

    #[test]
    fn nothing_skips_approval() {
        assert!(transition(Draft, Action::Publish).is_err());
        assert!(transition(InReview, Action::Publish).is_err());
        assert!(transition(Draft, Action::Approve { enough: true }).is_err());
    }

    fn any_action() -> impl Strategy<Value = Action> {
        prop_oneof![
            Just(Action::Submit),
            Just(Action::Withdraw),
            any::<bool>().prop_map(|enough| Action::Approve { enough }),
            Just(Action::Reject),
            Just(Action::Publish),
            Just(Action::Retire),
        ]
    }

    proptest! {
        /// Whatever happens to a version, it reaches `published` only straight from
        /// `approved`, and never leaves `retired`.
        #[test]
        fn published_only_from_approved(actions in proptest::collection::vec(any_action(), 0..40)) {
            let mut s = Draft;
            for a in actions {
                if let Ok(n) = transition(s, a) {
                    if n == Published { prop_assert_eq!(s, Approved); }
                    prop_assert!(s != Retired);
                    s = n;
                }
            }
        }
    }

    #[test]
    fn approvers_are_the_rules_role_never_the_author() {
        let rule = ApprovalRule { kind: DocKind::Regulation, approver_role: Role::CommitteeMember, approvals_needed: 2, review_months: 12 };
        assert_eq!(may_decide(&rule, &[Role::Ciso], false, false, InReview), Err(Refusal::NotApprover(Role::CommitteeMember)));
        assert_eq!(may_decide(&rule, &[Role::CommitteeMember], true, false, InReview), Err(Refusal::OwnVersion));
        assert_eq!(may_decide(&rule, &[Role::CommitteeMember], false, true, InReview), Err(Refusal::AlreadyDecided));
        assert!(may_decide(&rule, &[Role::CommitteeMember], false, false, Draft).is_err());
        assert_eq!(may_decide(&rule, &[Role::Employee, Role::CommitteeMember], false, false, InReview), Ok(()));
    }

    #[test]
    fn rules_are_checked() {
        let mut r = default_rules()[0].clone();
        assert!(r.validate().is_ok());
        r.approvals_needed = 0;
        r.approver_role = Role::Employee;
        r.review_months = 61;
        let e = r.validate().unwrap_err();
        assert_eq!(e.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["approvals_needed", "review_months", "approver_role"]);
    }

    #[test]
    fn review_calendar() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        assert_eq!(next_review(d("2026-01-31"), 1), d("2026-02-28"));
        assert_eq!(next_review(d("2026-11-26"), 12), d("2027-11-26"));
        let today = d("2026-11-26");
        assert_eq!(review_status(None, today, 30), ReviewStatus::NotScheduled);
        assert_eq!(review_status(Some(d("2026-11-25")), today, 30), ReviewStatus::Overdue);
        assert_eq!(review_status(Some(d("2026-11-26")), today, 30), ReviewStatus::DueSoon);
        assert_eq!(review_status(Some(d("2026-12-26")), today, 30), ReviewStatus::DueSoon);
        assert_eq!(review_status(Some(d("2026-12-27")), today, 30), ReviewStatus::Current);
    }

    #[test]
    fn codes() {
        assert_eq!(parse_code(" pol-001 ").unwrap(), "POL-001");
        assert!(parse_code("").is_err());
        assert!(parse_code("-x").is_err());
        assert!(parse_code("a b").is_err());
        assert!(parse_code(&"A".repeat(33)).is_err());
    }
}
