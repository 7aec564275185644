//! Importing a framework file (and its mappings to other frameworks): checked line by line, written all or nothing.

use super::*;

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

pub(super) fn line_errors(errors: Vec<format::LineError>) -> ImportFailure {
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
pub(super) async fn upsert(
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
pub(super) async fn reshape(db: &impl ConnectionTrait, framework_id: &str) -> Result<()> {
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
