//! The asset register's pages: information assets, supporting assets, handling
//! categories, conformance findings, take-out requests, import and export.

pub mod categories;
pub mod findings;
pub mod register;
pub mod supports;
pub mod takeouts;
pub mod transfer;

use isms_assets::{Category, Support};
use isms_core::Permission;
use isms_kernel::Principal;
use isms_webkit::WebState;

/// The names the register's pages show: the kernel's organisation names, plus handling
/// categories and (where asked) supporting assets. Pages of modules that link to assets
/// (incidents, policies) use it too.
pub struct Lookup {
    names: isms_webkit::lookup::Lookup,
    pub categories: Vec<Category>,
    pub supports: Vec<Support>,
}

impl std::ops::Deref for Lookup {
    type Target = isms_webkit::lookup::Lookup;
    fn deref(&self) -> &Self::Target {
        &self.names
    }
}

impl Lookup {
    pub async fn load(state: &WebState, who: &Principal, lang: &'static str, with_supports: bool) -> isms_kernel::Result<Self> {
        let app = &state.app;
        let names = isms_webkit::lookup::Lookup::load(state, who, lang).await?;
        let categories = isms_assets::categories::list(app, who).await?;
        let supports = if with_supports && who.access.can(Permission::AssetsRead) {
            let q = isms_store::assets::SupportQuery { limit: 5_000, ..Default::default() };
            isms_assets::supports::list(app, who, &q).await?.items
        } else {
            vec![]
        };
        Ok(Self { names, categories, supports })
    }

    /// The lookup with the names of these people (owners, requesters).
    pub async fn with(
        state: &WebState,
        who: &Principal,
        lang: &'static str,
        with_supports: bool,
        ids: impl IntoIterator<Item = Option<String>>,
    ) -> isms_kernel::Result<Self> {
        let mut l = Self::load(state, who, lang, with_supports).await?;
        l.names = l.names.add_people(state, ids).await?;
        Ok(l)
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
}

/// `on` from a checkbox.
pub fn checked(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.is_empty() && s != "false" && s != "0")
}

pub fn none_if_empty(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.trim().to_owned())
}
