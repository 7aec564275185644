//! Scope: a role is granted group-wide or for named companies, and every record belongs to
//! a company or to the group. `Access` answers, per permission, which records a user reaches.

use crate::{CompanyId, Permission, Role};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One role granted to a user: `company: None` means group-wide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub role: Role,
    pub company: Option<CompanyId>,
}

/// Which records a permission reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every company and the group's own records.
    Group,
    /// Only records of these companies (never empty).
    Companies(BTreeSet<CompanyId>),
    /// The permission is not held at all.
    Nothing,
}

impl Scope {
    /// Whether a record owned by `company` (`None`: the group itself) is within reach.
    pub fn covers(&self, company: Option<CompanyId>) -> bool {
        match (self, company) {
            (Scope::Group, _) => true,
            (Scope::Companies(set), Some(c)) => set.contains(&c),
            _ => false,
        }
    }

    pub fn is_nothing(&self) -> bool {
        matches!(self, Scope::Nothing)
    }
}

/// Everything a signed-in user (or an API token) may do, derived from their grants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    grants: Vec<Grant>,
}

impl Access {
    pub fn new(grants: Vec<Grant>) -> Self {
        Self { grants }
    }

    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    pub fn roles(&self) -> BTreeSet<Role> {
        self.grants.iter().map(|g| g.role).collect()
    }

    pub fn scope(&self, permission: Permission) -> Scope {
        let mut companies = BTreeSet::new();
        for g in self.grants.iter().filter(|g| g.role.grants(permission)) {
            match g.company {
                None => return Scope::Group,
                Some(c) => {
                    companies.insert(c);
                }
            }
        }
        if companies.is_empty() { Scope::Nothing } else { Scope::Companies(companies) }
    }

    pub fn can(&self, permission: Permission) -> bool {
        !self.scope(permission).is_nothing()
    }

    pub fn can_for(&self, permission: Permission, company: Option<CompanyId>) -> bool {
        self.scope(permission).covers(company)
    }

    pub fn needs_second_factor(&self) -> bool {
        self.grants.iter().any(|g| g.role.is_privileged())
    }

    /// Whether a grant asks for nothing this access does not hold itself: every permission
    /// of the grant's role reaches the grant's company here too. An API token is issued
    /// and resolved only within what its issuer holds, so a token never exceeds its issuer.
    pub fn permits(&self, wanted: &Grant) -> bool {
        wanted.role.permissions().iter().all(|&p| self.can_for(p, wanted.company))
    }

    /// Whether this access may manage an account holding `held` (its password, second
    /// factor, sessions, grants, tokens): `permission` must reach the company of every
    /// grant the account holds, and a group-wide grant needs it group-wide. Looking at the
    /// account's person record alone let a company administrator take over a group-wide
    /// account.
    pub fn manages(&self, permission: Permission, held: &[Grant]) -> bool {
        let scope = self.scope(permission);
        !scope.is_nothing() && held.iter().all(|g| scope.covers(g.company))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_grant_reaches_only_that_company() {
        let a = CompanyId::new();
        let b = CompanyId::new();
        let access = Access::new(vec![Grant { role: Role::Hr, company: Some(a) }]);
        let s = access.scope(Permission::PeopleManage);
        assert!(s.covers(Some(a)));
        assert!(!s.covers(Some(b)));
        assert!(!s.covers(None));
        assert!(access.scope(Permission::UsersManage).is_nothing());
    }

    #[test]
    fn one_group_grant_wins_over_company_grants() {
        let a = CompanyId::new();
        let access = Access::new(vec![Grant { role: Role::Hr, company: Some(a) }, Grant { role: Role::Auditor, company: None }]);
        assert_eq!(access.scope(Permission::PeopleRead), Scope::Group);
        assert_eq!(access.scope(Permission::PeopleManage), Scope::Companies([a].into()));
    }

    #[test]
    fn a_company_administrator_manages_only_accounts_held_within_the_company() {
        let a = CompanyId::new();
        let b = CompanyId::new();
        let admin_a = Access::new(vec![Grant { role: Role::SystemAdministrator, company: Some(a) }]);
        let group_admin = Access::new(vec![Grant { role: Role::SystemAdministrator, company: None }]);
        let hr_a = [Grant { role: Role::Hr, company: Some(a) }];
        let ciso_group = [Grant { role: Role::Ciso, company: None }];
        let mixed = [Grant { role: Role::Hr, company: Some(a) }, Grant { role: Role::Auditor, company: Some(b) }];
        assert!(admin_a.manages(Permission::UsersManage, &hr_a));
        assert!(!admin_a.manages(Permission::UsersManage, &ciso_group), "a group-wide grant needs a group-wide administrator");
        assert!(!admin_a.manages(Permission::UsersManage, &mixed), "every grant must be within scope");
        assert!(admin_a.manages(Permission::UsersManage, &[]));
        assert!(group_admin.manages(Permission::UsersManage, &ciso_group));
        assert!(!Access::new(hr_a.to_vec()).manages(Permission::UsersManage, &[]));
    }

    #[test]
    fn a_grant_is_permitted_only_within_what_is_held() {
        let a = CompanyId::new();
        let b = CompanyId::new();
        let admin = Access::new(vec![Grant { role: Role::SystemAdministrator, company: Some(a) }]);
        // The administrator reads no sealed notes, so a CISO token is beyond them.
        assert!(!admin.permits(&Grant { role: Role::Ciso, company: Some(a) }));
        assert!(admin.permits(&Grant { role: Role::Hr, company: Some(a) }));
        assert!(admin.permits(&Grant { role: Role::Employee, company: Some(a) }));
        assert!(!admin.permits(&Grant { role: Role::Hr, company: Some(b) }));
        assert!(!admin.permits(&Grant { role: Role::Hr, company: None }));
        assert!(admin.permits(&Grant { role: Role::SystemAdministrator, company: Some(a) }));
    }

    #[test]
    fn privileged_roles_need_a_second_factor() {
        assert!(Access::new(vec![Grant { role: Role::CsirtMember, company: None }]).needs_second_factor());
        assert!(!Access::new(vec![Grant { role: Role::Hr, company: None }]).needs_second_factor());
    }
}
