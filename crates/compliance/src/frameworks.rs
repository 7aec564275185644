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
    [("iso27001-2022.yaml", include_str!("../frameworks/iso27001-2022.yaml")), ("nist-csf-2.0.yaml", include_str!("../frameworks/nist-csf-2.0.yaml"))];

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

/// What an import did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = FrameworkImportOutcome)]
pub struct ImportOutcome {
    pub framework_id: String,
    pub code: String,
    pub created: usize,
    pub updated: usize,
}

/// Which framework a CSV file goes into (YAML files name their own).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportTarget {
    /// The framework's code; a new framework is made when none has it.
    #[serde(default)]
    pub code: Option<String>,
    /// The name of a new framework.
    #[serde(default)]
    pub name: Option<String>,
}

fn line_errors(errors: Vec<format::LineError>) -> ImportFailure {
    ImportFailure::Rows(errors.into_iter().map(|(l, e)| ImportError::from_field(l, e)).collect())
}

/// Imports a framework file: requirements whose reference is new are added, known ones
/// take the file's titles and descriptions, none is removed. All or nothing.
pub async fn import(app: &App, who: &Principal, file_name: &str, data: &[u8], target: &ImportTarget) -> std::result::Result<ImportOutcome, ImportFailure> {
    who.require(Permission::FrameworksManage)?;
    if data.len() > 4 << 20 {
        return Err(ImportFailure::Rows(vec![ImportError::from_field(0, FieldError::coded("file", "file-too-large", "larger than 4 MiB").arg("max", "4"))]));
    }
    let file = format::parse_framework(file_name, data).map_err(line_errors)?;
    let mut head = file.head.clone();
    let code = match (&head, target.code.as_deref().map(str::trim).filter(|c| !c.is_empty())) {
        (Some(h), _) => h.code.clone(),
        (None, Some(c)) => format::parse_framework_code(c).map_err(|e| line_errors(vec![(0, e)]))?,
        (None, None) => return Err(line_errors(vec![(0, FieldError::coded("code", "required", "is required"))])),
    };
    let txn = app.store.write().await?;
    let exists = framework::Entity::find().filter(framework::Column::Code.eq(code.clone())).one(&txn).await?.is_some();
    if head.is_none() && !exists {
        let name = target.name.as_deref().map(str::trim).unwrap_or("");
        if name.is_empty() {
            return Err(line_errors(vec![(0, FieldError::coded("name", "required", "is required"))]));
        }
        head = Some(FrameworkHead { code: code.clone(), name: name.chars().take(200).collect(), ..Default::default() });
    }
    let (id, (created, updated)) = upsert(&txn, head.as_ref(), &code, &file.rows, false).await?;
    record(
        app,
        &txn,
        who,
        "compliance.framework.import",
        "framework",
        Some(&id),
        None,
        json!({"code": code, "file": file_name, "created": created, "updated": updated}),
    )
    .await?;
    txn.commit().await?;
    Ok(ImportOutcome { framework_id: id, code, created, updated })
}

/// Writes a framework's head and requirements; returns its id and (created, updated).
async fn upsert(
    db: &impl ConnectionTrait,
    head: Option<&FrameworkHead>,
    code: &str,
    rows: &[RequirementRow],
    builtin: bool,
) -> std::result::Result<(String, (usize, usize)), ImportFailure> {
    let now = now_ms();
    let existing = framework::Entity::find().filter(framework::Column::Code.eq(code)).one(db).await.map_err(AppError::from)?;
    let fid = match (existing, head) {
        (Some(f), h) => {
            let id = f.id.clone();
            if let Some(h) = h {
                let mut am = f.into_active_model();
                am.name = Set(h.name.clone());
                if !h.version.is_empty() {
                    am.version = Set(h.version.clone());
                }
                if !h.publisher.is_empty() {
                    am.publisher = Set(h.publisher.clone());
                }
                if !h.description.is_empty() {
                    am.description = Set(h.description.clone());
                }
                am.updated_ms = Set(now);
                am.update(db).await.map_err(AppError::from)?;
            }
            id
        }
        (None, Some(h)) => {
            let id = uuid::Uuid::now_v7().to_string();
            framework::ActiveModel {
                id: Set(id.clone()),
                code: Set(code.to_owned()),
                name: Set(h.name.clone()),
                version: Set(h.version.clone()),
                publisher: Set(h.publisher.clone()),
                description: Set(h.description.clone()),
                builtin: Set(builtin),
                created_ms: Set(now),
                updated_ms: Set(now),
            }
            .insert(db)
            .await
            .map_err(AppError::from)?;
            id
        }
        (None, None) => return Err(AppError::coded("code", "no-framework", "no such framework").into()),
    };
    let old = requirements(db, &fid).await?;
    let by_ref: HashMap<&str, &requirement::Model> = old.iter().map(|r| (r.reference.as_str(), r)).collect();
    // Ids of the file's references, new or known, so parents can be resolved in one pass.
    let ids: HashMap<&str, String> = rows
        .iter()
        .map(|r| (r.reference.as_str(), by_ref.get(r.reference.as_str()).map(|m| m.id.clone()).unwrap_or_else(|| uuid::Uuid::now_v7().to_string())))
        .collect();
    let mut errors = vec![];
    let mut parent_of: HashMap<String, Option<String>> = old.iter().map(|r| (r.id.clone(), r.parent_id.clone())).collect();
    for r in rows {
        let parent = match &r.parent {
            None => None,
            Some(p) => match ids.get(p.as_str()).cloned().or_else(|| by_ref.get(p.as_str()).map(|m| m.id.clone())) {
                Some(pid) => Some(pid),
                None => {
                    errors.push(ImportError::from_field(
                        r.line,
                        FieldError::coded("parent", "no-parent", format!("no requirement `{p}` in the file or the framework")).arg("value", p.clone()),
                    ));
                    None
                }
            },
        };
        parent_of.insert(ids[r.reference.as_str()].clone(), parent);
    }
    // An existing requirement moved under one of its own descendants would make a loop.
    for r in rows {
        let start = ids[r.reference.as_str()].clone();
        let mut at = parent_of.get(&start).cloned().flatten();
        let mut steps = 0;
        while let Some(p) = at {
            if p == start || steps > 64 {
                errors.push(ImportError::from_field(r.line, FieldError::coded("parent", "parent-loop", "the parents would form a loop")));
                break;
            }
            at = parent_of.get(&p).cloned().flatten();
            steps += 1;
        }
    }
    if !errors.is_empty() {
        return Err(ImportFailure::Rows(errors));
    }
    let (mut created, mut updated) = (0, 0);
    // A provisional order, made into a tree walk by `reshape`: a file that names every
    // requirement sets the order; otherwise known requirements keep their place and new
    // ones follow, each under its parent.
    let whole = old.iter().all(|r| ids.contains_key(r.reference.as_str()));
    let after = old.iter().map(|r| r.position).max().unwrap_or(0) + 1;
    for (i, r) in rows.iter().enumerate() {
        let id = ids[r.reference.as_str()].clone();
        let parent = parent_of.get(&id).cloned().flatten();
        match by_ref.get(r.reference.as_str()) {
            Some(m) => {
                let mut am = (*m).clone().into_active_model();
                am.title = Set(r.title.clone());
                if !r.title_ja.is_empty() {
                    am.title_ja = Set(r.title_ja.clone());
                }
                if !r.description.is_empty() {
                    am.description = Set(r.description.clone());
                }
                if r.parent.is_some() {
                    am.parent_id = Set(parent);
                }
                if whole {
                    am.position = Set(i as i32);
                }
                am.update(db).await.map_err(AppError::from)?;
                updated += 1;
            }
            None => {
                requirement::ActiveModel {
                    id: Set(id),
                    framework_id: Set(fid.clone()),
                    reference: Set(r.reference.clone()),
                    parent_id: Set(parent),
                    depth: Set(0),
                    position: Set(if whole { i as i32 } else { after + i as i32 }),
                    leaf: Set(true),
                    title: Set(r.title.clone()),
                    title_ja: Set(r.title_ja.clone()),
                    description: Set(r.description.clone()),
                }
                .insert(db)
                .await
                .map_err(AppError::from)?;
                created += 1;
            }
        }
    }
    reshape(db, &fid).await?;
    Ok((fid, (created, updated)))
}

/// Recomputes the reading order, depth and leaf of every requirement of a framework from
/// the parent links: a walk of the tree in which each requirement follows its parent and
/// siblings keep their order.
async fn reshape(db: &impl ConnectionTrait, framework_id: &str) -> Result<()> {
    let all = requirements(db, framework_id).await?;
    let mut children: HashMap<Option<&str>, Vec<&requirement::Model>> = HashMap::new();
    for r in &all {
        children.entry(r.parent_id.as_deref()).or_default().push(r);
    }
    // `all` is in position order, so each list of siblings is too.
    let mut order: Vec<(&requirement::Model, i16)> = Vec::with_capacity(all.len());
    let mut stack: Vec<(&requirement::Model, i16)> = children.get(&None).map(|v| v.iter().rev().map(|r| (*r, 0)).collect()).unwrap_or_default();
    while let Some((r, depth)) = stack.pop() {
        order.push((r, depth));
        if let Some(kids) = children.get(&Some(r.id.as_str())) {
            stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
        }
    }
    for (i, (r, depth)) in order.into_iter().enumerate() {
        let leaf = !children.contains_key(&Some(r.id.as_str()));
        if r.depth != depth || r.leaf != leaf || r.position != i as i32 {
            let mut am = r.clone().into_active_model();
            am.depth = Set(depth);
            am.leaf = Set(leaf);
            am.position = Set(i as i32);
            am.update(db).await?;
        }
    }
    Ok(())
}

/// A framework built in the UI, or its head changed.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct FrameworkInput {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub publisher: String,
    #[serde(default)]
    pub description: String,
}

fn check_head(input: &FrameworkInput) -> Result<FrameworkHead> {
    let mut errors = vec![];
    let code = format::parse_framework_code(&input.code).map_err(|e| errors.push(e)).unwrap_or_default();
    let name = isms_kernel::input::required(&mut errors, "name", &input.name, 200);
    for (field, value, max) in [("version", &input.version, 40), ("publisher", &input.publisher, 200), ("description", &input.description, 8000)] {
        if value.chars().count() > max {
            errors.push(FieldError::coded(field, "too-long", format!("is longer than {max} characters")).arg("max", max.to_string()));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(FrameworkHead {
        code,
        name,
        version: input.version.trim().into(),
        publisher: input.publisher.trim().into(),
        description: input.description.trim().into(),
    })
}

pub async fn create(app: &App, who: &Principal, input: FrameworkInput) -> Result<Framework> {
    who.require(Permission::FrameworksManage)?;
    let head = check_head(&input)?;
    let txn = app.store.write().await?;
    let id = uuid::Uuid::now_v7().to_string();
    let now = now_ms();
    framework::ActiveModel {
        id: Set(id.clone()),
        code: Set(head.code.clone()),
        name: Set(head.name),
        version: Set(head.version),
        publisher: Set(head.publisher),
        description: Set(head.description),
        builtin: Set(false),
        created_ms: Set(now),
        updated_ms: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict { .. } => AppError::coded("code", "framework-code-taken", "another framework has this code"),
        other => other,
    })?;
    record(app, &txn, who, "compliance.framework.create", "framework", Some(&id), None, json!({"after": input})).await?;
    txn.commit().await?;
    let db = app.store.conn();
    view(db, find(db, &id).await?).await
}

/// A requirement added to, or changed in, a framework built in the UI.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RequirementInput {
    pub reference: String,
    /// The parent's reference; empty for a top-level requirement.
    #[serde(default)]
    pub parent: String,
    pub title: String,
    #[serde(default)]
    pub title_ja: String,
    #[serde(default)]
    pub description: String,
}

/// Adds a requirement (or changes the one with the same reference) through the same
/// rules as an import of one row.
pub async fn put_requirement(app: &App, who: &Principal, framework: &str, input: RequirementInput) -> Result<Requirement> {
    who.require(Permission::FrameworksManage)?;
    let mut errors = vec![];
    let reference = format::parse_reference("reference", &input.reference).map_err(|e| errors.push(e)).unwrap_or_default();
    let parent = match input.parent.trim() {
        "" => None,
        p => format::parse_reference("parent", p).map_err(|e| errors.push(e)).ok(),
    };
    let title = isms_kernel::input::required(&mut errors, "title", &input.title, 500);
    if input.title_ja.chars().count() > 500 {
        errors.push(FieldError::coded("title_ja", "too-long", "is longer than 500 characters").arg("max", "500"));
    }
    if parent.as_deref() == Some(reference.as_str()) {
        errors.push(FieldError::coded("parent", "parent-self", "a requirement cannot be its own parent"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let txn = app.store.write().await?;
    let f = find(&txn, framework).await?;
    let old = requirements(&txn, &f.id).await?;
    let known = old.iter().find(|r| r.reference == reference);
    let row = RequirementRow {
        line: 0,
        reference: reference.clone(),
        parent,
        title,
        title_ja: input.title_ja.trim().into(),
        description: input.description.trim().into(),
    };
    // Keep every other requirement in place: rewrite the whole order with this one in it.
    let mut rows: Vec<RequirementRow> = old
        .iter()
        .map(|r| RequirementRow {
            line: 0,
            reference: r.reference.clone(),
            parent: r.parent_id.as_ref().and_then(|p| old.iter().find(|o| &o.id == p)).map(|o| o.reference.clone()),
            title: r.title.clone(),
            title_ja: r.title_ja.clone(),
            description: r.description.clone(),
        })
        .collect();
    match known.and_then(|_| rows.iter().position(|r| r.reference == reference)) {
        Some(at) => {
            rows[at] = RequirementRow { description: if row.description.is_empty() { rows[at].description.clone() } else { row.description.clone() }, ..row };
        }
        None => {
            // A new child goes after its parent's last descendant; a new top level at the end.
            let at = match &row.parent {
                Some(p) => match rows.iter().position(|r| &r.reference == p) {
                    Some(pi) => {
                        let mut end = pi + 1;
                        let mut family = vec![p.clone()];
                        while end < rows.len() && rows[end].parent.as_ref().is_some_and(|q| family.contains(q)) {
                            family.push(rows[end].reference.clone());
                            end += 1;
                        }
                        end
                    }
                    None => rows.len(),
                },
                None => rows.len(),
            };
            rows.insert(at, row);
        }
    }
    if let Err(e) = upsert(&txn, None, &f.code, &rows, false).await {
        return Err(match e {
            ImportFailure::Rows(v) => {
                AppError::Invalid(v.into_iter().map(|e| FieldError { field: e.field, message: e.message, code: e.code, args: e.args }).collect())
            }
            ImportFailure::App(a) => a,
        });
    }
    let saved = requirement::Entity::find()
        .filter(requirement::Column::FrameworkId.eq(f.id.clone()))
        .filter(requirement::Column::Reference.eq(reference.clone()))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    record(app, &txn, who, "compliance.requirement.put", "requirement", Some(&saved.id), None, json!({"framework": f.code, "after": input})).await?;
    txn.commit().await?;
    Ok(saved.into())
}

/// Removes a requirement that nothing depends on: no children, no controls.
pub async fn delete_requirement(app: &App, who: &Principal, id: &str) -> Result<()> {
    who.require(Permission::FrameworksManage)?;
    let txn = app.store.write().await?;
    let r = requirement::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    if requirement::Entity::find().filter(requirement::Column::ParentId.eq(id)).count(&txn).await? > 0 {
        return Err(AppError::coded("requirement", "requirement-has-children", "remove or move its children first"));
    }
    let linked = control_requirement::Entity::find().filter(control_requirement::Column::RequirementId.eq(id)).count(&txn).await?;
    if linked > 0 {
        return Err(AppError::coded("requirement", "requirement-in-use", "controls satisfy this requirement; unlink them first")
            .into_with_arg("count", linked.to_string()));
    }
    requirement::Entity::delete_by_id(id.to_owned()).exec(&txn).await?;
    reshape(&txn, &r.framework_id).await?;
    record(app, &txn, who, "compliance.requirement.delete", "requirement", Some(id), None, json!({"before": {"ref": r.reference, "title": r.title}})).await?;
    txn.commit().await?;
    Ok(())
}

/// Imports mappings between requirements of two frameworks (added or changed, never
/// removed). Every row's frameworks and references must exist.
pub async fn import_mappings(app: &App, who: &Principal, file_name: &str, data: &[u8]) -> std::result::Result<usize, ImportFailure> {
    who.require(Permission::FrameworksManage)?;
    let rows = format::parse_mappings(file_name, data).map_err(line_errors)?;
    let txn = app.store.write().await?;
    let mut cache: HashMap<String, Option<HashMap<String, String>>> = HashMap::new();
    let mut errors = vec![];
    let mut resolved = vec![];
    for r in &rows {
        for code in [&r.from_framework, &r.to_framework] {
            if !cache.contains_key(code.as_str()) {
                let refs = match framework::Entity::find().filter(framework::Column::Code.eq(code.clone())).one(&txn).await.map_err(AppError::from)? {
                    Some(f) => Some(requirements(&txn, &f.id).await?.into_iter().map(|q| (q.reference, q.id)).collect()),
                    None => None,
                };
                cache.insert(code.clone(), refs);
            }
        }
        let mut lookup = |code: &str, reference: &str, fw_field: &'static str, ref_field: &'static str| -> Option<Option<String>> {
            let refs = cache.get(code)?;
            Some(match refs {
                None => {
                    errors.push(ImportError::from_field(
                        r.line,
                        FieldError::coded(fw_field, "no-framework", format!("no framework `{code}`")).arg("value", code.to_owned()),
                    ));
                    None
                }
                Some(m) => match m.get(reference) {
                    Some(id) => Some(id.clone()),
                    None => {
                        errors.push(ImportError::from_field(
                            r.line,
                            FieldError::coded(ref_field, "no-requirement", format!("no requirement `{reference}` in `{code}`"))
                                .arg("value", reference.to_owned()),
                        ));
                        None
                    }
                },
            })
        };
        let from = lookup(&r.from_framework, &r.from_ref, "from_framework", "from_ref").flatten();
        let to = lookup(&r.to_framework, &r.to_ref, "to_framework", "to_ref").flatten();
        if let (Some(a), Some(b)) = (from, to) {
            if a == b {
                errors.push(ImportError::from_field(r.line, FieldError::coded("to_ref", "mapping-self", "a requirement cannot map to itself")));
            } else {
                resolved.push((a, b, r.relation));
            }
        }
    }
    if !errors.is_empty() {
        return Err(ImportFailure::Rows(errors));
    }
    for (a, b, rel) in &resolved {
        mapping::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(Condition::all().add(mapping::Column::FromId.eq(a.clone())).add(mapping::Column::ToId.eq(b.clone())))
                    .add(Condition::all().add(mapping::Column::FromId.eq(b.clone())).add(mapping::Column::ToId.eq(a.clone()))),
            )
            .exec(&txn)
            .await
            .map_err(AppError::from)?;
        mapping::Entity::insert(mapping::ActiveModel { from_id: Set(a.clone()), to_id: Set(b.clone()), relation: Set(rel.code().into()) })
            .exec_without_returning(&txn)
            .await
            .map_err(AppError::from)?;
    }
    record(app, &txn, who, "compliance.mapping.import", "framework", None, None, json!({"file": file_name, "mappings": resolved.len()})).await?;
    txn.commit().await?;
    Ok(resolved.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves_under(file: &format::FrameworkFile, parent: &str) -> usize {
        file.rows.iter().filter(|r| r.parent.as_deref() == Some(parent)).count()
    }

    #[test]
    fn shipped_frameworks_have_the_published_shape() {
        let iso = format::parse_framework(SHIPPED[0].0, SHIPPED[0].1.as_bytes()).unwrap();
        assert_eq!([leaves_under(&iso, "A.5"), leaves_under(&iso, "A.6"), leaves_under(&iso, "A.7"), leaves_under(&iso, "A.8")], [37, 8, 14, 34]);
        for c in ["4", "5", "6", "7", "8", "9", "10"] {
            assert!(iso.rows.iter().any(|r| r.reference == c), "clause {c}");
        }
        assert!(iso.rows.iter().all(|r| !r.title_ja.is_empty()));
        let csf = format::parse_framework(SHIPPED[1].0, SHIPPED[1].1.as_bytes()).unwrap();
        let functions: Vec<_> = csf.rows.iter().filter(|r| r.parent.is_none()).map(|r| r.reference.as_str()).collect();
        assert_eq!(functions, ["GV", "ID", "PR", "DE", "RS", "RC"]);
        let categories = csf.rows.iter().filter(|r| r.parent.as_ref().is_some_and(|p| functions.contains(&p.as_str()))).count();
        assert_eq!(categories, 22);
        let subcategories = csf.rows.iter().filter(|r| r.reference.contains('-')).count();
        assert_eq!(subcategories, 106);
        assert_eq!(csf.rows.len(), 6 + 22 + 106);
    }
}
