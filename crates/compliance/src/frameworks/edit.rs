//! Writing frameworks and requirements by hand, and importing mappings.

use super::*;

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

pub(super) fn check_head(input: &FrameworkInput) -> Result<FrameworkHead> {
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
