//! Import of the register from CSV or XLSX, and the columns it shares with the export.
//! Every row is checked against the organisation, the categories, the people and the
//! holders before anything is written; one bad row and nothing is imported. The pages
//! show a preview first and commit the staged file; the API and the CLI commit at once.
//! An asset is known by its company and name: a known one is updated, others are created.

use super::conformance::{self, Target};
use super::register::{self, AssetInput};
use isms_core::Permission;
use isms_kernel::{App, AppError, Principal, record};
use isms_org::people::{ImportError, ImportFailure, ImportSummary};
use isms_store::assets::{asset, category, staged_import, support};
use isms_store::now_ms;
use isms_store::org::{self, person};
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Unchanged, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;

/// The columns of an import or export file, in any order; the first row names them.
/// `customer_information` is derived from the category: exported, ignored on import.
pub const COLUMNS: [&str; 12] = [
    "name",
    "category_code",
    "customer_information",
    "company_code",
    "department_code",
    "owner_employee_number",
    "medium",
    "volume",
    "review_due",
    "review_months",
    "held_by",
    "description",
];

const REQUIRED: [&str; 4] = ["name", "category_code", "company_code", "medium"];

/// Holder names in the `held_by` column are separated by this.
pub const HOLDER_SEPARATOR: char = ';';

/// The largest file accepted.
pub const MAX_BYTES: usize = 32 << 20;

/// One row as it will be written.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PreviewRow {
    pub line: u64,
    /// create or update
    pub action: &'static str,
    pub name: String,
    pub company_code: String,
    pub category_code: String,
    pub customer_information: bool,
    pub owner_employee_number: String,
    pub held_by: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Preview {
    pub rows: Vec<PreviewRow>,
    pub creates: usize,
    pub updates: usize,
}

struct Row {
    line: u64,
    input: AssetInput,
    customer_information: bool,
    existing: Option<asset::Model>,
    preview: PreviewRow,
}

/// The cells of a file, row by row; line 1 is the header. XLSX is recognised by content.
fn cells(file_name: &str, data: &[u8]) -> std::result::Result<Vec<(u64, Vec<String>)>, ImportError> {
    let bad = |m: String| ImportError { line: 1, field: "file".into(), message: m, code: "", args: vec![] };
    if data.len() > MAX_BYTES {
        return Err(ImportError {
            line: 0,
            field: "file".into(),
            message: format!("larger than {} MiB", MAX_BYTES >> 20),
            code: "file-too-large",
            args: vec![("max", (MAX_BYTES >> 20).to_string())],
        });
    }
    if data.starts_with(b"PK\x03\x04") {
        use calamine::Reader;
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(data)).map_err(|e| bad(format!("not a readable XLSX file: {e}")))?;
        let range = match book.worksheet_range_at(0) {
            Some(Ok(r)) => r,
            Some(Err(e)) => return Err(bad(format!("the first sheet cannot be read: {e}"))),
            None => return Err(bad("the workbook has no sheet".into())),
        };
        let first = range.start().map(|(r, _)| r as u64).unwrap_or(0);
        return Ok(range.rows().enumerate().map(|(i, r)| (first + i as u64 + 1, r.iter().map(cell_text).collect())).collect());
    }
    if file_name.to_ascii_lowercase().ends_with(".xlsx") {
        return Err(bad("the file is named .xlsx but is not a workbook".into()));
    }
    let text = std::str::from_utf8(data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data)).map_err(|e| bad(format!("not UTF-8 text: {e}")))?;
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut out = vec![];
    for rec in rdr.records() {
        let rec = rec.map_err(|e| ImportError {
            line: e.position().map(|p| p.line()).unwrap_or(0),
            field: "row".into(),
            message: e.to_string(),
            code: "",
            args: vec![],
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        out.push((line, rec.iter().map(|c| isms_kernel::sheet::typed(c).to_owned()).collect()));
    }
    Ok(out)
}

fn cell_text(c: &calamine::Data) -> String {
    use calamine::Data;
    match c {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => {
            let (y, m, day, ..) = d.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{day:02}")
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.chars().take(10).collect(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Reads and checks the whole file. Returns the rows to write, or every problem found.
async fn check(app: &App, who: &Principal, file_name: &str, data: &[u8]) -> std::result::Result<Vec<Row>, ImportFailure> {
    who.require(Permission::AssetsManage)?;
    let rows = cells(file_name, data).map_err(|e| ImportFailure::Rows(vec![e]))?;
    let Some(((_, header), body)) = rows.split_first() else {
        return Err(ImportFailure::Rows(vec![ImportError {
            line: 1,
            field: "header".into(),
            message: "the file is empty".into(),
            code: "no-rows",
            args: vec![],
        }]));
    };
    let mut errors = vec![];
    let col: HashMap<&str, usize> = header.iter().enumerate().map(|(i, h)| (h.as_str(), i)).collect();
    for r in REQUIRED {
        if !col.contains_key(r) {
            errors.push(ImportError { line: 1, field: r.into(), message: "column is missing".into(), code: "column-missing", args: vec![] });
        }
    }
    for h in header.iter().filter(|h| !h.is_empty() && !COLUMNS.contains(&h.as_str())) {
        errors.push(ImportError {
            line: 1,
            field: h.clone(),
            message: format!("unknown column; expected {}", COLUMNS.join(", ")),
            code: "column-unknown",
            args: vec![("expected", COLUMNS.join(", "))],
        });
    }
    if !errors.is_empty() {
        return Err(ImportFailure::Rows(errors));
    }

    let db = app.store.conn();
    let companies: HashMap<String, String> = org::companies(db, None).await.map_err(AppError::from)?.into_iter().map(|c| (c.code, c.id)).collect();
    let departments: HashMap<(String, String), String> =
        org::departments(db, None).await.map_err(AppError::from)?.into_iter().map(|d| ((d.company_id, d.code), d.id)).collect();
    let categories: HashMap<String, category::Model> =
        category::Entity::find().all(db).await.map_err(AppError::from)?.into_iter().map(|c| (c.code.clone(), c)).collect();
    let mut wanted_people = vec![];
    let mut wanted_companies = vec![];
    let get = |r: &[String], name: &str| col.get(name).and_then(|&i| r.get(i)).map(|s| s.trim().to_owned()).unwrap_or_default();
    for (_, r) in body {
        let n = get(r, "owner_employee_number");
        if !n.is_empty() {
            wanted_people.push(n);
        }
        if let Some(id) = companies.get(&get(r, "company_code").to_uppercase()) {
            wanted_companies.push(id.clone());
        }
    }
    wanted_companies.sort();
    wanted_companies.dedup();
    let mut people: HashMap<String, String> = HashMap::new();
    for chunk in wanted_people.chunks(500) {
        for p in person::Entity::find().filter(person::Column::EmployeeNumber.is_in(chunk.iter().cloned())).all(db).await.map_err(AppError::from)? {
            people.insert(p.employee_number, p.id);
        }
    }
    let mut holders: HashMap<(String, String), String> = HashMap::new();
    let mut existing: HashMap<(String, String), asset::Model> = HashMap::new();
    for chunk in wanted_companies.chunks(100) {
        for s in support::Entity::find().filter(support::Column::CompanyId.is_in(chunk.iter().cloned())).all(db).await.map_err(AppError::from)? {
            holders.insert((s.company_id, s.name.to_lowercase()), s.id);
        }
        for a in asset::Entity::find().filter(asset::Column::CompanyId.is_in(chunk.iter().cloned())).all(db).await.map_err(AppError::from)? {
            existing.insert((a.company_id.clone(), a.name.clone()), a);
        }
    }

    let mut out = vec![];
    let mut seen: HashMap<(String, String), u64> = HashMap::new();
    for (line, r) in body {
        let line = *line;
        if r.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let at = |field: &str, code: &'static str, message: String| ImportError { line, field: field.into(), message, code, args: vec![] };
        let company_code = get(r, "company_code").to_uppercase();
        let company = companies.get(&company_code).cloned();
        match &company {
            None => errors.push(at("company_code", "no-company-code", format!("no company with code `{company_code}`")).arg("value", &company_code)),
            Some(c) if !who.access.can_for(Permission::AssetsManage, c.parse().ok()) => errors.push(
                at("company_code", "company-assets-not-managed", format!("you may not manage the assets of `{company_code}`")).arg("value", &company_code),
            ),
            _ => {}
        }
        let category_code = get(r, "category_code").to_uppercase();
        let cat = categories.get(&category_code);
        if cat.is_none() {
            errors.push(at("category_code", "no-category-code", format!("no category with code `{category_code}`")).arg("value", &category_code));
        }
        let company_id = company.clone().unwrap_or_default();
        let dep_code = get(r, "department_code").to_uppercase();
        let department_id = if dep_code.is_empty() {
            None
        } else {
            match departments.get(&(company_id.clone(), dep_code.clone())) {
                Some(d) => Some(d.clone()),
                None => {
                    if company.is_some() {
                        errors.push(
                            at("department_code", "no-department-code", format!("`{company_code}` has no department `{dep_code}`"))
                                .arg("company", &company_code)
                                .arg("value", &dep_code),
                        );
                    }
                    None
                }
            }
        };
        let owner_number = get(r, "owner_employee_number");
        let owner_id = if owner_number.is_empty() {
            None
        } else {
            match people.get(&owner_number) {
                Some(p) => Some(p.clone()),
                None => {
                    errors.push(
                        at("owner_employee_number", "no-person-number", format!("no person with employee number `{owner_number}`")).arg("value", &owner_number),
                    );
                    None
                }
            }
        };
        let held_names: Vec<String> = get(r, "held_by").split(HOLDER_SEPARATOR).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        let mut held = vec![];
        for h in &held_names {
            match holders.get(&(company_id.clone(), h.to_lowercase())) {
                Some(id) => held.push(id.clone()),
                None if company.is_some() => errors.push(
                    at("held_by", "no-holder-name", format!("`{company_code}` has no system or medium named `{h}`"))
                        .arg("company", &company_code)
                        .arg("value", h),
                ),
                None => {}
            }
        }
        let number = |field: &str, errors: &mut Vec<ImportError>| -> Option<i64> {
            let v = get(r, field).replace([',', '_'], "");
            if v.is_empty() {
                return None;
            }
            v.parse::<i64>().map_err(|_| errors.push(at(field, "number", format!("`{v}` is not a whole number")).arg("value", &v))).ok()
        };
        let volume = number("volume", &mut errors);
        let review_months = number("review_months", &mut errors).map(|m| m.clamp(i32::MIN as i64, i32::MAX as i64) as i32);
        let input = AssetInput {
            company_id: company_id.clone(),
            department_id,
            category_id: cat.map(|c| c.id.clone()).unwrap_or_else(|| "-".into()),
            name: get(r, "name"),
            description: get(r, "description"),
            owner_id: owner_id.clone(),
            medium: get(r, "medium"),
            volume,
            review_due: Some(get(r, "review_due")),
            review_months,
            supports: held,
        };
        if company.is_none() {
            // Keep checking the other fields; the company error is already named.
            let mut probe = input.clone();
            probe.company_id = "-".into();
            if let Err(fes) = register::validate(&probe) {
                errors.extend(fes.into_iter().map(|f| ImportError::from_field(line, f)));
            }
            continue;
        }
        if let Err(fes) = register::validate(&input) {
            errors.extend(fes.into_iter().map(|f| ImportError::from_field(line, f)));
            continue;
        }
        let key = (company_id.clone(), input.name.trim().to_owned());
        if let Some(prev) = seen.insert(key.clone(), line) {
            errors.push(at("name", "also-on-line", format!("also on line {prev}")).arg("line", prev.to_string()));
        }
        let old = existing.get(&key).cloned();
        let preview = PreviewRow {
            line,
            action: if old.is_some() { "update" } else { "create" },
            name: input.name.trim().to_owned(),
            company_code: company_code.clone(),
            category_code: category_code.clone(),
            customer_information: cat.is_some_and(|c| c.customer_information),
            owner_employee_number: owner_number,
            held_by: held_names,
        };
        out.push(Row { line, input, customer_information: cat.is_some_and(|c| c.customer_information), existing: old, preview });
    }
    if out.is_empty() && errors.is_empty() {
        errors.push(ImportError { line: 2, field: "row".into(), message: "the file holds no assets".into(), code: "no-asset-rows", args: vec![] });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(ImportFailure::Rows(errors));
    }
    Ok(out)
}

fn preview_of(rows: &[Row]) -> Preview {
    let creates = rows.iter().filter(|r| r.existing.is_none()).count();
    Preview { rows: rows.iter().map(|r| r.preview.clone()).collect(), creates, updates: rows.len() - creates }
}

/// Checks a file and says what importing it would do; writes nothing.
pub async fn preview(app: &App, who: &Principal, file_name: &str, data: &[u8]) -> std::result::Result<Preview, ImportFailure> {
    Ok(preview_of(&check(app, who, file_name, data).await?))
}

/// Checks a file and keeps it for [`commit_staged`]; returns its id and the preview.
/// A user's earlier staged files are dropped: one import at a time.
pub async fn stage(app: &App, who: &Principal, file_name: &str, data: &[u8]) -> std::result::Result<(String, Preview), ImportFailure> {
    let rows = check(app, who, file_name, data).await?;
    let Some(uid) = who.user_id.clone() else { return Err(ImportFailure::App(AppError::Forbidden)) };
    let txn = app.store.write().await.map_err(AppError::from)?;
    staged_import::Entity::delete_many().filter(staged_import::Column::UserId.eq(uid.clone())).exec(&txn).await.map_err(AppError::from)?;
    let id = isms_core::CompanyId::new().to_string();
    let name: String = file_name.chars().filter(|c| !c.is_control()).take(200).collect();
    staged_import::Model { id: id.clone(), user_id: uid, kind: "assets".into(), file_name: name, data: data.to_vec(), created_ms: now_ms() }
        .into_active_model()
        .insert(&txn)
        .await
        .map_err(AppError::from)?;
    txn.commit().await.map_err(AppError::from)?;
    Ok((id, preview_of(&rows)))
}

/// Imports a file staged by this user, checking it again against the register as it is now.
pub async fn commit_staged(app: &App, who: &Principal, id: &str) -> std::result::Result<ImportSummary, ImportFailure> {
    let staged = staged_import::Entity::find_by_id(id.to_owned()).one(app.store.conn()).await.map_err(AppError::from)?;
    let Some(staged) = staged.filter(|s| Some(&s.user_id) == who.user_id.as_ref() && s.kind == "assets") else {
        return Err(ImportFailure::App(AppError::NotFound));
    };
    let rows = check(app, who, &staged.file_name, &staged.data).await?;
    write(app, who, rows, Some(&staged.id)).await
}

/// Checks and imports a file in one step (API and CLI).
pub async fn import(app: &App, who: &Principal, file_name: &str, data: &[u8]) -> std::result::Result<ImportSummary, ImportFailure> {
    let rows = check(app, who, file_name, data).await?;
    write(app, who, rows, None).await
}

async fn write(app: &App, who: &Principal, rows: Vec<Row>, staged: Option<&str>) -> std::result::Result<ImportSummary, ImportFailure> {
    let txn = app.store.write().await.map_err(AppError::from)?;
    let mut done = ImportSummary::default();
    let mut ids = Vec::with_capacity(rows.len());
    for r in &rows {
        let line_err = |e: AppError| match e {
            AppError::Invalid(f) => ImportFailure::Rows(f.into_iter().map(|f| ImportError::from_field(r.line, f)).collect()),
            AppError::Conflict { code, message } => ImportFailure::Rows(vec![ImportError { line: r.line, field: "name".into(), message, code, args: vec![] }]),
            other => ImportFailure::App(other),
        };
        let v = register::validate(&r.input).map_err(|f| line_err(AppError::Invalid(f)))?;
        let saved = match &r.existing {
            Some(old) => {
                let mut am = register::to_model(old.id.clone(), &v, &r.input, r.input.owner_id.clone(), r.customer_information, old.created_ms)
                    .into_active_model()
                    .reset_all();
                am.id = Unchanged(old.id.clone());
                let s = am.update(&txn).await.map_err(|e| line_err(e.into()))?;
                record(
                    app,
                    &txn,
                    who,
                    "assets.import.update",
                    "information_asset",
                    Some(&s.id),
                    Some(&s.company_id),
                    json!({"line": r.line, "after": r.input}),
                )
                .await?;
                done.updated += 1;
                s
            }
            None => {
                let s = register::to_model(isms_core::CompanyId::new().to_string(), &v, &r.input, r.input.owner_id.clone(), r.customer_information, now_ms())
                    .into_active_model()
                    .insert(&txn)
                    .await
                    .map_err(|e| line_err(e.into()))?;
                record(
                    app,
                    &txn,
                    who,
                    "assets.import.create",
                    "information_asset",
                    Some(&s.id),
                    Some(&s.company_id),
                    json!({"line": r.line, "after": r.input}),
                )
                .await?;
                done.created += 1;
                s
            }
        };
        register::set_links(&txn, &saved.id, &r.input.supports).await?;
        ids.push(saved.id);
    }
    conformance::recheck(app, &txn, who, Target::Assets(ids)).await?;
    if let Some(id) = staged {
        staged_import::Entity::delete_by_id(id.to_owned()).exec(&txn).await.map_err(AppError::from)?;
    }
    record(app, &txn, who, "assets.import", "information_asset", None, None, json!({"created": done.created, "updated": done.updated})).await?;
    txn.commit().await.map_err(AppError::from)?;
    Ok(done)
}
