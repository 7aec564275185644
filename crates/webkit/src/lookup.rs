//! Names to show for ids on a page (companies, departments, people), loaded once per
//! page within the reader's scope, and the lists the company and department selects
//! offer. Every module's pages use it; a module adds its own names on top (the asset
//! register adds categories and supporting assets).

use crate::WebState;
use isms_kernel::{Principal, Result};
use isms_org::org::{Company, Department};
use std::collections::HashMap;

pub struct Lookup {
    pub companies: Vec<Company>,
    pub departments: Vec<Department>,
    people: HashMap<String, (String, String)>,
    /// Every company's code, to name the company of a record the reader sees.
    codes: HashMap<String, String>,
    pub lang: &'static str,
}

/// What the reader may see: nothing when the list is not theirs to read; a failure stays one.
fn visible<T>(r: Result<Vec<T>>) -> Result<Vec<T>> {
    match r {
        Err(isms_kernel::AppError::Forbidden) => Ok(vec![]),
        r => r,
    }
}

impl Lookup {
    /// Who a population (of a training campaign, a drill) reaches, in words: everyone,
    /// or its companies / departments / roles / joiners, each part joined by "・".
    pub fn reach(&self, shell: &crate::shell::Shell, p: &isms_core::training::Population) -> String {
        if p.is_everyone() {
            return shell.t("population-everyone");
        }
        let mut parts = vec![];
        if !p.companies.is_empty() {
            parts.push(p.companies.iter().map(|c| self.company(c)).collect::<Vec<_>>().join("・"));
        }
        if !p.departments.is_empty() {
            parts.push(p.departments.iter().map(|d| self.department(&Some(d.clone()))).collect::<Vec<_>>().join("・"));
        }
        if !p.roles.is_empty() {
            parts.push(p.roles.iter().map(|r| shell.role(r.code())).collect::<Vec<_>>().join("・"));
        }
        if let Some(n) = p.joined_within_days {
            parts.push(shell.tr("population-joined-within", &[("n", n.to_string())]));
        }
        parts.join(" / ")
    }

    pub async fn load(state: &WebState, who: &Principal, lang: &'static str) -> Result<Self> {
        let app = &state.app;
        // A reader who may not see the organisation (an employee) gets no names, not an error.
        let companies = visible(isms_org::org::list_companies(app, who).await)?;
        let departments = visible(isms_org::org::list_departments(app, who).await)?;
        let codes = isms_org::org::company_codes(app).await?;
        Ok(Self { companies, departments, people: HashMap::new(), codes, lang })
    }

    /// The lookup with the names of these people (owners, requesters).
    pub async fn with(state: &WebState, who: &Principal, lang: &'static str, ids: impl IntoIterator<Item = Option<String>>) -> Result<Self> {
        Self::load(state, who, lang).await?.add_people(state, ids).await
    }

    /// Adds the names of these people to the lookup.
    pub async fn add_people(mut self, state: &WebState, ids: impl IntoIterator<Item = Option<String>>) -> Result<Self> {
        let ids: Vec<String> = ids.into_iter().flatten().filter(|i| !self.people.contains_key(i)).collect();
        self.people.extend(isms_org::people::names(&state.app, &ids).await?);
        Ok(self)
    }

    pub fn company(&self, id: &str) -> String {
        self.codes.get(id).cloned().unwrap_or_default()
    }
    pub fn department(&self, id: &Option<String>) -> String {
        id.as_ref().and_then(|d| self.departments.iter().find(|x| &x.id == d)).map(|d| d.name.clone()).unwrap_or_default()
    }
    pub fn department_code(&self, id: &Option<String>) -> String {
        id.as_ref().and_then(|d| self.departments.iter().find(|x| &x.id == d)).map(|d| d.code.clone()).unwrap_or_default()
    }
    pub fn person(&self, id: &Option<String>) -> String {
        id.as_ref().and_then(|p| self.people.get(p)).map(|(name, number)| format!("{name} ({number})")).unwrap_or_default()
    }
    pub fn person_number(&self, id: &Option<String>) -> String {
        id.as_ref().and_then(|p| self.people.get(p)).map(|(_, number)| number.clone()).unwrap_or_default()
    }
}

/// A population as a form sends it (training's campaigns, drills): the companies,
/// departments and roles chosen, and the joiners' days as typed. Refusals name `roles` and
/// `joined_within_days`; the rest is the use case's to check.
pub fn population(
    companies: &[String],
    departments: &[String],
    roles: &[String],
    joined_within_days: &str,
    errors: &mut Vec<isms_core::FieldError>,
) -> isms_core::training::Population {
    let joined_within_days = isms_kernel::input::whole(errors, "joined_within_days", joined_within_days);
    let mut chosen = vec![];
    for r in roles.iter().filter(|r| !r.is_empty()) {
        match r.parse::<isms_core::Role>() {
            Ok(role) => chosen.push(role),
            Err(e) => errors.push(isms_core::FieldError { field: "roles".into(), ..e }),
        }
    }
    isms_core::training::Population { companies: companies.to_vec(), departments: departments.to_vec(), roles: chosen, joined_within_days }
}
