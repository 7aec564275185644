//! Frameworks and their requirements: the shipped ones (ISO/IEC 27001:2022 and NIST CSF
//! 2.0 by reference, in this project's own words), imports from the documented YAML and
//! CSV formats (also the official text onto an existing framework), frameworks built in
//! the UI, and mappings between requirements of different frameworks.

use isms_core::compliance::Relation;
use isms_core::compliance::format::{self, FrameworkHead, RequirementRow};
use isms_core::{FieldError, Permission};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_org::people::{ImportError, ImportFailure};
use isms_store::compliance::{control, control_requirement, framework, mapping, requirement};
use isms_store::now_ms;
use isms_store::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

/// The frameworks every installation starts with.
pub const SHIPPED: [(&str, &str); 2] =
    [("iso27001-2022.yaml", include_str!("../../frameworks/iso27001-2022.yaml")), ("nist-csf-2.0.yaml", include_str!("../../frameworks/nist-csf-2.0.yaml"))];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Framework {
    pub id: String,
    pub code: String,
    pub name: String,
    pub version: String,
    pub publisher: String,
    pub description: String,
    pub builtin: bool,
    /// Requirements that are assessed (those without children).
    pub assessable: u64,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Requirement {
    pub id: String,
    pub framework_id: String,
    pub reference: String,
    pub parent_id: Option<String>,
    pub depth: i16,
    pub leaf: bool,
    pub title: String,
    pub title_ja: String,
    pub description: String,
}

impl Requirement {
    /// The title in `lang`, falling back to the English one.
    pub fn title_in(&self, lang: &str) -> &str {
        if lang == "ja" && !self.title_ja.is_empty() { &self.title_ja } else { &self.title }
    }
}

impl From<requirement::Model> for Requirement {
    fn from(r: requirement::Model) -> Self {
        Requirement {
            id: r.id,
            framework_id: r.framework_id,
            reference: r.reference,
            parent_id: r.parent_id,
            depth: r.depth,
            leaf: r.leaf,
            title: r.title,
            title_ja: r.title_ja,
            description: r.description,
        }
    }
}

pub(crate) async fn view(db: &impl ConnectionTrait, f: framework::Model) -> Result<Framework> {
    let assessable =
        requirement::Entity::find().filter(requirement::Column::FrameworkId.eq(f.id.clone())).filter(requirement::Column::Leaf.eq(true)).count(db).await?;
    Ok(Framework {
        id: f.id,
        code: f.code,
        name: f.name,
        version: f.version,
        publisher: f.publisher,
        description: f.description,
        builtin: f.builtin,
        assessable,
        created_ms: f.created_ms,
        updated_ms: f.updated_ms,
    })
}

pub async fn list(app: &App, who: &Principal) -> Result<Vec<Framework>> {
    who.require(Permission::ComplianceRead)?;
    let db = app.store.conn();
    let mut out = vec![];
    for f in framework::Entity::find().order_by_asc(framework::Column::Name).all(db).await? {
        out.push(view(db, f).await?);
    }
    Ok(out)
}

/// A framework by id or by code.
pub(crate) async fn find(db: &impl ConnectionTrait, id_or_code: &str) -> Result<framework::Model> {
    framework::Entity::find()
        .filter(Condition::any().add(framework::Column::Id.eq(id_or_code)).add(framework::Column::Code.eq(id_or_code)))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The requirements of a framework in reading order.
pub(crate) async fn requirements(db: &impl ConnectionTrait, framework_id: &str) -> Result<Vec<requirement::Model>> {
    Ok(requirement::Entity::find().filter(requirement::Column::FrameworkId.eq(framework_id)).order_by_asc(requirement::Column::Position).all(db).await?)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FrameworkDetail {
    pub framework: Framework,
    pub requirements: Vec<Requirement>,
}

pub async fn get(app: &App, who: &Principal, id_or_code: &str) -> Result<FrameworkDetail> {
    who.require(Permission::ComplianceRead)?;
    let db = app.store.conn();
    let f = find(db, id_or_code).await?;
    let requirements = requirements(db, &f.id).await?.into_iter().map(Requirement::from).collect();
    Ok(FrameworkDetail { framework: view(db, f).await?, requirements })
}

/// One requirement with what maps to it in other frameworks and the controls behind it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequirementDetail {
    pub requirement: Requirement,
    pub framework: Framework,
    pub mapped: Vec<Mapped>,
    pub controls: Vec<ControlRef>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = MappingImportOutcome)]
pub struct Mapped {
    pub framework_code: String,
    pub requirement: Requirement,
    /// How the other requirement relates to this one.
    pub relation: Relation,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ControlRef {
    pub id: String,
    pub code: String,
    pub title: String,
    pub status: String,
}

pub async fn requirement_detail(app: &App, who: &Principal, id: &str) -> Result<RequirementDetail> {
    who.require(Permission::ComplianceRead)?;
    let db = app.store.conn();
    let r = requirement::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    let f = framework::Entity::find_by_id(r.framework_id.clone()).one(db).await?.ok_or(AppError::NotFound)?;
    let links = mapping::Entity::find()
        .filter(Condition::any().add(mapping::Column::FromId.eq(r.id.clone())).add(mapping::Column::ToId.eq(r.id.clone())))
        .all(db)
        .await?;
    let mut mapped = vec![];
    for l in links {
        let (other, relation) = if l.from_id == r.id {
            (l.to_id, Relation::parse(&l.relation).map_err(|e| AppError::internal(e.to_string()))?)
        } else {
            // Read from the other side, a subset becomes a superset.
            let rel = match Relation::parse(&l.relation).map_err(|e| AppError::internal(e.to_string()))? {
                Relation::Subset => Relation::Superset,
                Relation::Superset => Relation::Subset,
                other => other,
            };
            (l.from_id, rel)
        };
        if let Some(o) = requirement::Entity::find_by_id(other).one(db).await? {
            let code = framework::Entity::find_by_id(o.framework_id.clone()).one(db).await?.map(|f| f.code).unwrap_or_default();
            mapped.push(Mapped { framework_code: code, requirement: o.into(), relation });
        }
    }
    mapped.sort_by(|a, b| (&a.framework_code, &a.requirement.reference).cmp(&(&b.framework_code, &b.requirement.reference)));
    let ids: Vec<String> = control_requirement::Entity::find()
        .filter(control_requirement::Column::RequirementId.eq(r.id.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.control_id)
        .collect();
    let visible = super::controls::visible(who, Permission::ComplianceRead)?;
    let controls = control::Entity::find()
        .filter(control::Column::Id.is_in(ids))
        .filter(visible)
        .order_by_asc(control::Column::Code)
        .all(db)
        .await?
        .into_iter()
        .map(|c| ControlRef { id: c.id, code: c.code, title: c.title, status: c.status })
        .collect();
    Ok(RequirementDetail { requirement: r.into(), framework: view(db, f).await?, mapped, controls })
}

/// Loads the shipped frameworks that are not there yet (at start; idempotent).
pub async fn ensure_shipped(app: &App) -> Result<()> {
    for (name, text) in SHIPPED {
        let file = format::parse_framework(name, text.as_bytes()).map_err(|e| AppError::internal(format!("{name}: {e:?}")))?;
        let head = file.head.clone().ok_or_else(|| AppError::internal(format!("{name}: a shipped framework without its head")))?;
        if framework::Entity::find().filter(framework::Column::Code.eq(head.code.clone())).one(app.store.conn()).await?.is_some() {
            continue;
        }
        let txn = app.store.write().await?;
        let (id, _) = upsert(&txn, Some(&head), &head.code, &file.rows, true).await.map_err(|e| AppError::internal(format!("{name}: {e:?}")))?;
        record(app, &txn, &Principal::system(), "compliance.framework.ship", "framework", Some(&id), None, json!({"code": head.code})).await?;
        txn.commit().await?;
    }
    Ok(())
}

mod edit;
mod import;

pub use edit::*;
pub use import::*;
