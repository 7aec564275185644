//! The asset register's pages: information assets, supporting assets, handling
//! categories, conformance findings, take-out requests, import and export.

pub mod categories;
pub mod findings;
pub mod register;
pub mod supports;
pub mod takeouts;
pub mod transfer;

use crate::WebState;
use isms_app::Principal;
use isms_app::assets::{Category, Support};
use isms_app::org::{Company, Department};
use isms_core::Permission;
use std::collections::HashMap;

/// Names to show for ids on the register's pages, loaded once per page within the
/// reader's scope.
pub struct Lookup {
    pub companies: Vec<Company>,
    pub departments: Vec<Department>,
    pub categories: Vec<Category>,
    pub supports: Vec<Support>,
    people: HashMap<String, (String, String)>,
    lang: &'static str,
}

impl Lookup {
    pub async fn load(state: &WebState, who: &Principal, lang: &'static str, with_supports: bool) -> Self {
        let app = &state.app;
        let companies = isms_app::org::list_companies(app, who).await.unwrap_or_default();
        let departments = isms_app::org::list_departments(app, who).await.unwrap_or_default();
        let categories = isms_app::assets::categories::list(app, who).await.unwrap_or_default();
        let supports = if with_supports && who.access.can(Permission::AssetsRead) {
            let q = isms_store::assets::SupportQuery { limit: 5_000, ..Default::default() };
            isms_app::assets::supports::list(app, who, &q).await.map(|p| p.items).unwrap_or_default()
        } else {
            vec![]
        };
        Self { companies, departments, categories, supports, people: HashMap::new(), lang }
    }

    /// Adds the names of these people (owners, requesters) to the lookup.
    pub async fn with_people(mut self, state: &WebState, ids: impl IntoIterator<Item = Option<String>>) -> Self {
        let ids: Vec<String> = ids.into_iter().flatten().filter(|i| !self.people.contains_key(i)).collect();
        if let Ok(found) = isms_app::people::names(&state.app, &ids).await {
            self.people.extend(found);
        }
        self
    }

    pub fn company(&self, id: &str) -> String {
        self.companies.iter().find(|c| c.id == id).map(|c| c.code.clone()).unwrap_or_default()
    }
    pub fn department(&self, id: &Option<String>) -> String {
        id.as_ref().and_then(|d| self.departments.iter().find(|x| &x.id == d)).map(|d| d.name.clone()).unwrap_or_default()
    }
    pub fn department_code(&self, id: &Option<String>) -> String {
        id.as_ref().and_then(|d| self.departments.iter().find(|x| &x.id == d)).map(|d| d.code.clone()).unwrap_or_default()
    }
    pub fn category(&self, id: &str) -> String {
        self.categories.iter().find(|c| c.id == id).map(|c| c.name_in(self.lang).to_owned()).unwrap_or_default()
    }
    pub fn category_code(&self, id: &str) -> String {
        self.categories.iter().find(|c| c.id == id).map(|c| c.code.clone()).unwrap_or_default()
    }
    pub fn is_customer(&self, id: &str) -> bool {
        self.categories.iter().any(|c| c.id == id && c.rules.customer_information)
    }
    pub fn support(&self, id: &str) -> String {
        self.supports.iter().find(|s| s.id == id).map(|s| s.name.clone()).unwrap_or_default()
    }
    pub fn person(&self, id: &Option<String>) -> String {
        id.as_ref().and_then(|p| self.people.get(p)).map(|(name, number)| format!("{name} ({number})")).unwrap_or_default()
    }
    pub fn person_number(&self, id: &Option<String>) -> String {
        id.as_ref().and_then(|p| self.people.get(p)).map(|(_, number)| number.clone()).unwrap_or_default()
    }
}

/// `on` from a checkbox.
pub fn checked(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.is_empty() && s != "false" && s != "0")
}

pub fn none_if_empty(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.trim().to_owned())
}
