//! Roles and the one permission table. Every check in `app` asks this table; templates and
//! handlers never decide on their own who may do what.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SystemAdministrator,
    Ciso,
    CouncilMember,
    CommitteeMember,
    CompanySecurityAdmin,
    CsirtMember,
    Auditor,
    Hr,
    ContactDeskAgent,
    Employee,
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::SystemAdministrator,
        Role::Ciso,
        Role::CouncilMember,
        Role::CommitteeMember,
        Role::CompanySecurityAdmin,
        Role::CsirtMember,
        Role::Auditor,
        Role::Hr,
        Role::ContactDeskAgent,
        Role::Employee,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::SystemAdministrator => "system_administrator",
            Role::Ciso => "ciso",
            Role::CouncilMember => "council_member",
            Role::CommitteeMember => "committee_member",
            Role::CompanySecurityAdmin => "company_security_admin",
            Role::CsirtMember => "csirt_member",
            Role::Auditor => "auditor",
            Role::Hr => "hr",
            Role::ContactDeskAgent => "contact_desk_agent",
            Role::Employee => "employee",
        }
    }

    /// Roles whose holders must sign in with a second factor: they can change or read
    /// what an attacker would want most.
    pub fn is_privileged(self) -> bool {
        matches!(self, Role::SystemAdministrator | Role::Ciso | Role::CsirtMember | Role::Auditor)
    }

    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::SystemAdministrator => &[OrgRead, OrgManage, PeopleRead, PeopleManage, UsersRead, UsersManage, AuditRead, AuditExport, AssetsRead],
            Role::Ciso => &[
                OrgRead,
                PeopleRead,
                UsersRead,
                AuditRead,
                AuditExport,
                AssetsRead,
                AssetsManage,
                CategoriesManage,
                PoliciesRead,
                PoliciesManage,
                IncidentsRead,
                IncidentsManage,
                ComplianceRead,
                ComplianceManage,
                FrameworksManage,
                RisksRead,
                RisksManage,
                MonitoringRead,
                MonitoringManage,
                RulesManage,
                TrainingRead,
                TrainingManage,
                DrillsRead,
                DrillsManage,
            ],
            Role::CouncilMember => &[OrgRead, PoliciesRead, ComplianceRead, RisksRead, TrainingRead, DrillsRead],
            Role::CommitteeMember => &[OrgRead, PeopleRead, AssetsRead, PoliciesRead, ComplianceRead, RisksRead, TrainingRead, DrillsRead],
            Role::CompanySecurityAdmin => &[
                OrgRead,
                PeopleRead,
                PeopleManage,
                UsersRead,
                AuditRead,
                AssetsRead,
                AssetsManage,
                PoliciesRead,
                PoliciesManage,
                IncidentsRead,
                ComplianceRead,
                ComplianceManage,
                RisksRead,
                RisksManage,
                MonitoringRead,
                MonitoringManage,
                TrainingRead,
                TrainingManage,
                DrillsRead,
                DrillsManage,
            ],
            Role::CsirtMember => {
                &[OrgRead, PeopleRead, AssetsRead, PoliciesRead, IncidentsRead, IncidentsManage, MonitoringRead, MonitoringManage, RulesManage]
            }
            Role::Auditor => &[
                OrgRead,
                PeopleRead,
                UsersRead,
                AuditRead,
                AuditExport,
                AssetsRead,
                PoliciesRead,
                IncidentsRead,
                ComplianceRead,
                RisksRead,
                MonitoringRead,
                TrainingRead,
                DrillsRead,
            ],
            Role::Hr => &[OrgRead, PeopleRead, PeopleManage],
            Role::ContactDeskAgent => &[OrgRead],
            Role::Employee => &[],
        }
    }

    pub fn grants(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Role {
    type Err = crate::FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.code() == s).ok_or_else(|| crate::FieldError::coded("role", "role", format!("unknown role `{s}`")).arg("value", s))
    }
}

/// What a route or use case needs. Reading one's own profile, sessions and second factor
/// needs no permission: every signed-in user may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    OrgRead,
    OrgManage,
    PeopleRead,
    PeopleManage,
    UsersRead,
    UsersManage,
    AuditRead,
    AuditExport,
    /// The asset register, its findings and handling categories, read.
    AssetsRead,
    /// Assets, supporting assets, findings (accepting exceptions) and take-out decisions.
    AssetsManage,
    /// The group's handling categories and their rules.
    CategoriesManage,
    /// Every document of the management system in every state, approvals and
    /// acknowledgement progress. Published documents that apply to a person need no
    /// permission to read.
    PoliciesRead,
    /// Writing documents and versions, submitting, publishing, reviews and reminders.
    /// Approving is decided by each kind's approver role, not by this permission.
    PoliciesManage,
    /// Incidents of the companies in scope. Those involving personal information need
    /// `IncidentsManage` or being added to the case (need to know). Anyone signed in may
    /// report one and follow their own reports.
    IncidentsRead,
    /// Running cases: triage, transitions, facts, notes, clocks, members.
    IncidentsManage,
    /// Frameworks, controls with their evidence, Statements of Applicability and
    /// compliance assessments of the companies in scope.
    ComplianceRead,
    /// Controls, their evidence and links, and the SoA's decisions for the companies in scope.
    ComplianceManage,
    /// The group's frameworks: importing, building and mapping them.
    FrameworksManage,
    /// The risk register of the companies in scope.
    RisksRead,
    /// Identifying, scoring and treating risks. Accepting one is the risk owner's decision.
    RisksManage,
    /// Event sources, detection rules and alerts of the companies in scope.
    MonitoringRead,
    /// Triage of alerts (acknowledge, close, assign, escalate) and the event sources and
    /// their tokens of the companies in scope.
    MonitoringManage,
    /// The group's detection rules: importing, writing, enabling and tuning them.
    RulesManage,
    /// Courses, training campaigns and their progress, completions, of the companies in
    /// scope. Taking one's own assignments needs no permission.
    TrainingRead,
    /// Writing courses and their quizzes, running campaigns, importing completions from a
    /// learning system. Group courses and group-wide campaigns need it group-wide.
    TrainingManage,
    /// E-mail drills of the companies in scope: campaigns and their results by company
    /// and department. Who clicked by name needs `DrillsManage`, unless the group's
    /// setting shows named results to readers.
    DrillsRead,
    /// Sending profiles, drill templates and campaigns (launching, pausing, cancelling),
    /// and the reported-mail mailboxes. Group profiles and templates need it group-wide.
    DrillsManage,
}

impl Permission {
    pub const ALL: [Permission; 27] = [
        Permission::OrgRead,
        Permission::OrgManage,
        Permission::PeopleRead,
        Permission::PeopleManage,
        Permission::UsersRead,
        Permission::UsersManage,
        Permission::AuditRead,
        Permission::AuditExport,
        Permission::AssetsRead,
        Permission::AssetsManage,
        Permission::CategoriesManage,
        Permission::PoliciesRead,
        Permission::PoliciesManage,
        Permission::IncidentsRead,
        Permission::IncidentsManage,
        Permission::ComplianceRead,
        Permission::ComplianceManage,
        Permission::FrameworksManage,
        Permission::RisksRead,
        Permission::RisksManage,
        Permission::MonitoringRead,
        Permission::MonitoringManage,
        Permission::RulesManage,
        Permission::TrainingRead,
        Permission::TrainingManage,
        Permission::DrillsRead,
        Permission::DrillsManage,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.code().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn only_the_administrator_manages_accounts_and_companies() {
        for r in Role::ALL {
            let admin = r == Role::SystemAdministrator;
            assert_eq!(r.grants(Permission::UsersManage), admin, "{r}");
            assert_eq!(r.grants(Permission::OrgManage), admin, "{r}");
        }
    }

    #[test]
    fn only_the_ciso_sets_handling_rules() {
        for r in Role::ALL {
            assert_eq!(r.grants(Permission::CategoriesManage), r == Role::Ciso, "{r}");
            // Whoever may change assets may read them.
            assert!(!r.grants(Permission::AssetsManage) || r.grants(Permission::AssetsRead), "{r}");
        }
    }

    #[test]
    fn only_the_csirt_and_the_ciso_run_incidents() {
        for r in Role::ALL {
            assert_eq!(r.grants(Permission::IncidentsManage), matches!(r, Role::CsirtMember | Role::Ciso), "{r}");
            assert!(!r.grants(Permission::IncidentsManage) || r.grants(Permission::IncidentsRead), "{r}");
        }
    }

    #[test]
    fn only_the_ciso_shapes_frameworks() {
        for r in Role::ALL {
            assert_eq!(r.grants(Permission::FrameworksManage), r == Role::Ciso, "{r}");
            assert!(!r.grants(Permission::ComplianceManage) || r.grants(Permission::ComplianceRead), "{r}");
            assert!(!r.grants(Permission::RisksManage) || r.grants(Permission::RisksRead), "{r}");
        }
        assert!(Role::Auditor.grants(Permission::ComplianceRead) && Role::Auditor.grants(Permission::RisksRead));
    }

    #[test]
    fn the_security_office_runs_training() {
        for r in Role::ALL {
            assert_eq!(r.grants(Permission::TrainingManage), matches!(r, Role::Ciso | Role::CompanySecurityAdmin), "{r}");
            assert!(!r.grants(Permission::TrainingManage) || r.grants(Permission::TrainingRead), "{r}");
        }
    }

    #[test]
    fn the_security_office_runs_drills() {
        for r in Role::ALL {
            assert_eq!(r.grants(Permission::DrillsManage), matches!(r, Role::Ciso | Role::CompanySecurityAdmin), "{r}");
            assert!(!r.grants(Permission::DrillsManage) || r.grants(Permission::DrillsRead), "{r}");
        }
        assert!(!Role::Hr.grants(Permission::DrillsRead), "HR sees a person's drills only through their record");
    }

    #[test]
    fn auditors_read_but_never_change() {
        for p in [
            Permission::OrgManage,
            Permission::PeopleManage,
            Permission::UsersManage,
            Permission::AssetsManage,
            Permission::CategoriesManage,
            Permission::PoliciesManage,
            Permission::IncidentsManage,
            Permission::ComplianceManage,
            Permission::FrameworksManage,
            Permission::RisksManage,
            Permission::TrainingManage,
            Permission::DrillsManage,
        ] {
            assert!(!Role::Auditor.grants(p));
        }
        assert!(Role::Auditor.grants(Permission::AuditRead));
    }
}
