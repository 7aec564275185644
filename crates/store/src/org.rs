//! Tables of the organisation: group companies, departments and people.

use sea_orm::entity::prelude::*;
use sea_orm::{Condition, ConnectionTrait, DbErr, PaginatorTrait, QueryOrder, QuerySelect};

pub mod company {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "companies")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub code: String,
        pub name: String,
        pub name_ja: Option<String>,
        pub is_holding: bool,
        pub active: bool,
        pub created_ms: i64,
        pub updated_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod department {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "departments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub company_id: String,
        pub code: String,
        pub name: String,
        pub created_ms: i64,
        pub updated_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod person {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "people")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub company_id: String,
        pub department_id: Option<String>,
        pub employee_number: String,
        pub name: String,
        pub email: String,
        pub manager_id: Option<String>,
        pub status: String,
        pub joined_on: Option<String>,
        pub left_on: Option<String>,
        pub created_ms: i64,
        pub updated_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Which companies a query may return: `None` means every company.
pub type CompanyFilter<'a> = Option<&'a [String]>;

/// Records of these companies only (all of them for `None`).
pub(crate) fn scoped(col: impl ColumnTrait, companies: CompanyFilter<'_>) -> Condition {
    match companies {
        None => Condition::all(),
        Some(list) => Condition::all().add(col.is_in(list.iter().cloned())),
    }
}

pub async fn companies(db: &impl ConnectionTrait, within: CompanyFilter<'_>) -> Result<Vec<company::Model>, DbErr> {
    company::Entity::find()
        .filter(scoped(company::Column::Id, within))
        .order_by_desc(company::Column::IsHolding)
        .order_by_asc(company::Column::Code)
        .all(db)
        .await
}

pub async fn departments(db: &impl ConnectionTrait, within: CompanyFilter<'_>) -> Result<Vec<department::Model>, DbErr> {
    department::Entity::find()
        .filter(scoped(department::Column::CompanyId, within))
        .order_by_asc(department::Column::CompanyId)
        .order_by_asc(department::Column::Code)
        .all(db)
        .await
}

/// `%text%` for a case-insensitive LIKE, the user's `%`, `_` and `\` matching themselves.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PeopleSort {
    #[default]
    Name,
    EmployeeNumber,
    Company,
    Status,
}

#[derive(Debug, Clone, Default)]
pub struct PeopleQuery {
    /// Matches name, e-mail or employee number.
    pub search: Option<String>,
    pub company_id: Option<String>,
    pub department_id: Option<String>,
    pub status: Option<String>,
    pub sort: PeopleSort,
    pub descending: bool,
    pub offset: u64,
    pub limit: u64,
}

fn people_condition(within: CompanyFilter<'_>, q: &PeopleQuery) -> Condition {
    use person::Column as C;
    let mut cond = scoped(C::CompanyId, within);
    if let Some(s) = crate::search::cleaned(q.search.as_deref()) {
        cond = cond.add(crate::search::any_contains(&[C::Name, C::Email, C::EmployeeNumber], &s));
    }
    if let Some(c) = &q.company_id {
        cond = cond.add(C::CompanyId.eq(c.clone()));
    }
    if let Some(d) = &q.department_id {
        cond = cond.add(C::DepartmentId.eq(d.clone()));
    }
    if let Some(s) = &q.status {
        cond = cond.add(C::Status.eq(s.clone()));
    }
    cond
}

/// How many people match the filter (paging ignored).
pub async fn people_count(db: &impl ConnectionTrait, within: CompanyFilter<'_>, q: &PeopleQuery) -> Result<u64, DbErr> {
    person::Entity::find().filter(people_condition(within, q)).count(db).await
}

/// One page of people matching the filter.
pub async fn people_page(db: &impl ConnectionTrait, within: CompanyFilter<'_>, q: &PeopleQuery) -> Result<Vec<person::Model>, DbErr> {
    use person::Column as C;
    let col = match q.sort {
        PeopleSort::Name => C::Name,
        PeopleSort::EmployeeNumber => C::EmployeeNumber,
        PeopleSort::Company => C::CompanyId,
        PeopleSort::Status => C::Status,
    };
    let order = if q.descending { sea_orm::Order::Desc } else { sea_orm::Order::Asc };
    person::Entity::find()
        .filter(people_condition(within, q))
        .order_by(col, order.clone())
        .order_by(C::Id, order)
        .offset(crate::page_offset(q.offset))
        .limit(q.limit.clamp(1, 10_000))
        .all(db)
        .await
}

/// One page of people and the total count matching the filter.
pub async fn people(db: &impl ConnectionTrait, within: CompanyFilter<'_>, q: &PeopleQuery) -> Result<(Vec<person::Model>, u64), DbErr> {
    Ok((people_page(db, within, q).await?, people_count(db, within, q).await?))
}

pub async fn person_by_id(db: &impl ConnectionTrait, id: &str) -> Result<Option<person::Model>, DbErr> {
    person::Entity::find_by_id(id.to_owned()).one(db).await
}
