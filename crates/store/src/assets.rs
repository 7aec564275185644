//! Tables of the asset register: handling categories, supporting assets, information
//! assets and their links, conformance findings, take-out requests and staged imports.

use crate::org::{CompanyFilter, scoped};
use sea_orm::entity::prelude::*;
use sea_orm::{Condition, ConnectionTrait, DbErr, PaginatorTrait, QueryOrder, QuerySelect};

pub mod category {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "handling_categories")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub code: String,
        pub name: String,
        pub name_ja: Option<String>,
        pub description: String,
        pub customer_information: bool,
        pub personal_information: bool,
        pub need_to_know: bool,
        /// Role codes separated by commas.
        pub access_roles: String,
        pub on_premises: bool,
        pub approved_cloud: bool,
        pub terminals: bool,
        pub paper_locked: bool,
        pub take_out: String,
        pub remote_work: String,
        pub email_outside: String,
        pub removable_media: String,
        pub encrypt_at_rest: bool,
        pub encrypt_in_transit: bool,
        pub mfa: bool,
        pub access_logging: bool,
        pub retention_months: Option<i32>,
        pub disposal: String,
        pub created_ms: i64,
        pub updated_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod support {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "supporting_assets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub company_id: String,
        pub kind: String,
        pub name: String,
        pub description: String,
        pub owner_id: Option<String>,
        pub location: String,
        pub internet_exposed: bool,
        pub mfa: bool,
        pub access_logging: bool,
        pub encrypted_at_rest: bool,
        pub encrypted_in_transit: bool,
        pub endpoint_protection: bool,
        pub patched_on: Option<String>,
        pub zero_trust: bool,
        pub locked: bool,
        pub created_ms: i64,
        pub updated_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod cloud_approval {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cloud_approvals")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub support_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub category_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod asset {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "information_assets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub company_id: String,
        pub department_id: Option<String>,
        pub category_id: String,
        /// The category's flag, kept here so lists filter and sort on it by index.
        pub customer_information: bool,
        pub name: String,
        pub description: String,
        pub owner_id: Option<String>,
        pub medium: String,
        pub volume: Option<i64>,
        pub review_due: Option<String>,
        pub review_months: i32,
        pub created_ms: i64,
        pub updated_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod link {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "asset_links")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub asset_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub support_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod finding {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "asset_findings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub key: String,
        pub company_id: String,
        pub asset_id: Option<String>,
        pub support_id: Option<String>,
        pub takeout_id: Option<String>,
        pub rule: String,
        pub severity: i16,
        pub customer_information: bool,
        /// open, accepted or resolved.
        pub status: String,
        pub opened_ms: i64,
        pub closed_ms: Option<i64>,
        pub reason: String,
        pub approved_by: Option<String>,
        pub expires_on: Option<String>,
        pub updated_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod takeout {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "takeouts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub company_id: String,
        pub category_id: String,
        pub asset_id: Option<String>,
        /// What information goes out, in the requester's words.
        pub what: String,
        pub requested_by: String,
        pub purpose: String,
        pub medium: String,
        pub destination: String,
        pub return_by: String,
        /// requested, approved, rejected, returned or withdrawn.
        pub status: String,
        pub decided_by: Option<String>,
        pub decided_ms: Option<i64>,
        pub decision_note: String,
        pub returned_ms: Option<i64>,
        pub created_ms: i64,
        pub updated_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod staged_import {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "staged_imports")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub user_id: String,
        pub kind: String,
        pub file_name: String,
        pub data: Vec<u8>,
        pub created_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssetSort {
    #[default]
    Name,
    Company,
    Category,
    ReviewDue,
}

#[derive(Debug, Clone, Default)]
pub struct AssetQuery {
    /// Matches name or description.
    pub search: Option<String>,
    pub company_id: Option<String>,
    pub category_id: Option<String>,
    /// Customer information only (true) or everything else (false).
    pub customer_information: Option<bool>,
    pub owner_id: Option<String>,
    pub medium: Option<String>,
    /// Only assets whose review falls due before this date (YYYY-MM-DD).
    pub review_before: Option<String>,
    pub sort: AssetSort,
    pub descending: bool,
    pub offset: u64,
    pub limit: u64,
}

fn asset_condition(backend: sea_orm::DbBackend, within: CompanyFilter<'_>, q: &AssetQuery) -> Condition {
    use asset::Column as C;
    let mut cond = scoped(C::CompanyId, within);
    if let Some(s) = crate::search::cleaned(q.search.as_deref()) {
        cond = cond.add(crate::search::indexed_contains(backend, "information_assets", &[C::Name, C::Description], &s));
    }
    if let Some(c) = &q.company_id {
        cond = cond.add(C::CompanyId.eq(c.clone()));
    }
    if let Some(c) = &q.category_id {
        cond = cond.add(C::CategoryId.eq(c.clone()));
    }
    if let Some(c) = q.customer_information {
        cond = cond.add(C::CustomerInformation.eq(c));
    }
    if let Some(o) = &q.owner_id {
        cond = cond.add(C::OwnerId.eq(o.clone()));
    }
    if let Some(m) = &q.medium {
        cond = cond.add(C::Medium.eq(m.clone()));
    }
    if let Some(d) = &q.review_before {
        cond = cond.add(C::ReviewDue.lt(d.clone()));
    }
    cond
}

pub async fn assets_count(db: &impl ConnectionTrait, within: CompanyFilter<'_>, q: &AssetQuery) -> Result<u64, DbErr> {
    asset::Entity::find().filter(asset_condition(db.get_database_backend(), within, q)).count(db).await
}

pub async fn assets_page(db: &impl ConnectionTrait, within: CompanyFilter<'_>, q: &AssetQuery) -> Result<Vec<asset::Model>, DbErr> {
    use asset::Column as C;
    let col = match q.sort {
        AssetSort::Name => C::Name,
        AssetSort::Company => C::CompanyId,
        AssetSort::Category => C::CategoryId,
        AssetSort::ReviewDue => C::ReviewDue,
    };
    let order = if q.descending { sea_orm::Order::Desc } else { sea_orm::Order::Asc };
    asset::Entity::find()
        .filter(asset_condition(db.get_database_backend(), within, q))
        .order_by(col, order.clone())
        .order_by(C::Id, order)
        .offset(crate::page_offset(q.offset))
        .limit(q.limit.clamp(1, 100_000))
        .all(db)
        .await
}

#[derive(Debug, Clone, Default)]
pub struct SupportQuery {
    pub search: Option<String>,
    pub company_id: Option<String>,
    pub kind: Option<String>,
    pub offset: u64,
    pub limit: u64,
}

fn support_condition(within: CompanyFilter<'_>, q: &SupportQuery) -> Condition {
    use support::Column as C;
    let mut cond = scoped(C::CompanyId, within);
    if let Some(s) = crate::search::cleaned(q.search.as_deref()) {
        cond = cond.add(crate::search::any_contains(&[C::Name, C::Location, C::Description], &s));
    }
    if let Some(c) = &q.company_id {
        cond = cond.add(C::CompanyId.eq(c.clone()));
    }
    if let Some(k) = &q.kind {
        cond = cond.add(C::Kind.eq(k.clone()));
    }
    cond
}

pub async fn supports_count(db: &impl ConnectionTrait, within: CompanyFilter<'_>, q: &SupportQuery) -> Result<u64, DbErr> {
    support::Entity::find().filter(support_condition(within, q)).count(db).await
}

pub async fn supports_page(db: &impl ConnectionTrait, within: CompanyFilter<'_>, q: &SupportQuery) -> Result<Vec<support::Model>, DbErr> {
    use support::Column as C;
    support::Entity::find()
        .filter(support_condition(within, q))
        .order_by_asc(C::Kind)
        .order_by_asc(C::Name)
        .order_by_asc(C::Id)
        .offset(crate::page_offset(q.offset))
        .limit(q.limit.clamp(1, 100_000))
        .all(db)
        .await
}

#[derive(Debug, Clone, Default)]
pub struct FindingQuery {
    pub company_id: Option<String>,
    /// open, accepted or resolved; `None` for all.
    pub status: Option<String>,
    pub rule: Option<String>,
    pub asset_id: Option<String>,
    pub support_id: Option<String>,
    pub customer_information: Option<bool>,
    pub offset: u64,
    pub limit: u64,
}

fn finding_condition(within: CompanyFilter<'_>, q: &FindingQuery) -> Condition {
    use finding::Column as C;
    let mut cond = scoped(C::CompanyId, within);
    if let Some(c) = &q.company_id {
        cond = cond.add(C::CompanyId.eq(c.clone()));
    }
    if let Some(s) = &q.status {
        cond = cond.add(C::Status.eq(s.clone()));
    }
    if let Some(r) = &q.rule {
        cond = cond.add(C::Rule.eq(r.clone()));
    }
    if let Some(a) = &q.asset_id {
        cond = cond.add(C::AssetId.eq(a.clone()));
    }
    if let Some(s) = &q.support_id {
        cond = cond.add(C::SupportId.eq(s.clone()));
    }
    if let Some(c) = q.customer_information {
        cond = cond.add(C::CustomerInformation.eq(c));
    }
    cond
}

pub async fn findings_count(db: &impl ConnectionTrait, within: CompanyFilter<'_>, q: &FindingQuery) -> Result<u64, DbErr> {
    finding::Entity::find().filter(finding_condition(within, q)).count(db).await
}

pub async fn findings_page(db: &impl ConnectionTrait, within: CompanyFilter<'_>, q: &FindingQuery) -> Result<Vec<finding::Model>, DbErr> {
    use finding::Column as C;
    finding::Entity::find()
        .filter(finding_condition(within, q))
        .order_by_desc(C::Severity)
        .order_by_desc(C::OpenedMs)
        // One direction throughout, so the order is an index walk.
        .order_by_desc(C::Id)
        .offset(crate::page_offset(q.offset))
        .limit(q.limit.clamp(1, 100_000))
        .all(db)
        .await
}
