//! The people register imported from the HR system's CSV: every row checked first, then all written in one transaction or none.

use super::*;

/// A problem in an import file: line 1 is the header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportError {
    pub line: u64,
    pub field: String,
    pub message: String,
    /// Catalog message `err-<code>` (empty: none), with its arguments.
    #[serde(skip)]
    pub code: &'static str,
    #[serde(skip)]
    pub args: Vec<(&'static str, String)>,
}

impl ImportError {
    fn at(line: u64, field: &str, message: impl Into<String>) -> Self {
        Self { line, field: field.into(), message: message.into(), code: "", args: vec![] }
    }

    fn coded(line: u64, field: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self { line, field: field.into(), message: message.into(), code, args: vec![] }
    }

    pub fn arg(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push((name, value.into()));
        self
    }

    pub fn from_field(line: u64, f: FieldError) -> Self {
        Self { line, field: f.field, message: f.message, code: f.code, args: f.args }
    }
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, {}: {}", self.line, self.field, self.message)
    }
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error("the file has {} problem(s); nothing was imported", .0.len())]
    Rows(Vec<ImportError>),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<isms_store::sea_orm::DbErr> for ImportFailure {
    fn from(e: isms_store::sea_orm::DbErr) -> Self {
        ImportFailure::App(e.into())
    }
}

struct Row {
    line: u64,
    input: Valid,
    company_id: String,
    department_id: Option<String>,
    manager_number: Option<String>,
}

/// Imports people from CSV: creates new employee numbers, updates known ones. Every row
/// is checked before anything is written; one bad row and nothing is imported.
/// `progress(done, total)` is called while writing.
pub async fn import_csv(app: &App, who: &Principal, data: &[u8], mut progress: impl FnMut(usize, usize)) -> std::result::Result<ImportSummary, ImportFailure> {
    who.require(Permission::PeopleManage)?;
    let db = app.store.conn();
    let companies: HashMap<String, company::Model> = org::companies(db, None).await.map_err(AppError::from)?.into_iter().map(|c| (c.code.clone(), c)).collect();
    let departments: HashMap<(String, String), String> =
        org::departments(db, None).await.map_err(AppError::from)?.into_iter().map(|d| ((d.company_id, d.code), d.id)).collect();

    let mut errors = vec![];
    // Excel's "CSV UTF-8" (and the product's own exports) begin with a byte-order mark.
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let mut rdr = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(data);
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(ImportFailure::Rows(vec![ImportError::at(1, "header", e.to_string())])),
    };
    let col: HashMap<&str, usize> = headers.iter().enumerate().map(|(i, h)| (h, i)).collect();
    for required in ["employee_number", "name", "email", "company_code"] {
        if !col.contains_key(required) {
            errors.push(ImportError::coded(1, required, "column-missing", "column is missing"));
        }
    }
    for h in headers.iter() {
        if !CSV_COLUMNS.contains(&h) {
            errors.push(
                ImportError::coded(1, h, "column-unknown", format!("unknown column; expected {}", CSV_COLUMNS.join(", ")))
                    .arg("expected", CSV_COLUMNS.join(", ")),
            );
        }
    }
    if !errors.is_empty() {
        return Err(ImportFailure::Rows(errors));
    }

    let mut rows: Vec<Row> = vec![];
    let mut seen_numbers: HashMap<String, u64> = HashMap::new();
    let mut seen_emails: HashMap<String, u64> = HashMap::new();
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                errors.push(ImportError::at(line, "row", e.to_string()));
                continue;
            }
        };
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let get = |name: &str| isms_kernel::sheet::typed(col.get(name).and_then(|&i| rec.get(i)).unwrap_or("")).to_owned();
        let company_code = get("company_code").to_uppercase();
        let company = companies.get(&company_code);
        if company.is_none() {
            errors.push(
                ImportError::coded(line, "company_code", "no-company-code", format!("no company with code `{company_code}`"))
                    .arg("value", company_code.clone()),
            );
        }
        if let Some(c) = company
            && who.require_for(Permission::PeopleManage, Some(&c.id)).is_err()
        {
            errors.push(
                ImportError::coded(line, "company_code", "company-not-managed", format!("you may not manage people of `{company_code}`"))
                    .arg("value", company_code.clone()),
            );
        }
        let input = PersonInput {
            employee_number: get("employee_number"),
            name: get("name"),
            email: get("email"),
            company_id: company.map(|c| c.id.clone()).unwrap_or_else(|| "-".into()),
            status: Some(get("status")),
            joined_on: Some(get("joined_on")),
            left_on: Some(get("left_on")),
            ..Default::default()
        };
        let mut department_id = None;
        let dep_code = get("department_code").to_uppercase();
        if let (Some(c), false) = (company, dep_code.is_empty()) {
            match departments.get(&(c.id.clone(), dep_code.clone())) {
                Some(d) => department_id = Some(d.clone()),
                None => errors.push(
                    ImportError::coded(line, "department_code", "no-department-code", format!("`{company_code}` has no department `{dep_code}`"))
                        .arg("company", company_code.clone())
                        .arg("value", dep_code.clone()),
                ),
            }
        }
        match validate(&input) {
            Ok(v) => {
                if let Some(prev) = seen_numbers.insert(v.employee_number.as_str().to_owned(), line) {
                    errors.push(ImportError::coded(line, "employee_number", "also-on-line", format!("also on line {prev}")).arg("line", prev.to_string()));
                }
                if let Some(prev) = seen_emails.insert(v.email.as_str().to_owned(), line) {
                    errors.push(ImportError::coded(line, "email", "also-on-line", format!("also on line {prev}")).arg("line", prev.to_string()));
                }
                let manager = get("manager_employee_number");
                rows.push(Row {
                    line,
                    input: v,
                    company_id: input.company_id.clone(),
                    department_id,
                    manager_number: (!manager.is_empty()).then_some(manager),
                });
            }
            Err(fes) => errors.extend(fes.into_iter().map(|f| ImportError::from_field(line, f))),
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(ImportError::coded(2, "row", "no-rows", "the file holds no people"));
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(ImportFailure::Rows(errors));
    }

    let total = rows.len();
    let txn = app.store.write().await.map_err(AppError::from)?;
    let existing: HashMap<String, person::Model> = person::Entity::find()
        .filter(person::Column::EmployeeNumber.is_in(rows.iter().map(|r| r.input.employee_number.as_str().to_owned())))
        .all(&txn)
        .await
        .map_err(AppError::from)?
        .into_iter()
        .map(|p| (p.employee_number.clone(), p))
        .collect();
    let mut done = ImportSummary::default();
    let mut ids: HashMap<String, String> = HashMap::new();
    let now = now_ms();
    for (i, r) in rows.iter().enumerate() {
        let number = r.input.employee_number.as_str().to_owned();
        let line_err = |e: AppError| -> ImportFailure {
            match e {
                AppError::Invalid(f) => ImportFailure::Rows(f.into_iter().map(|f| ImportError::from_field(r.line, f)).collect()),
                other => ImportFailure::App(other),
            }
        };
        let saved = match existing.get(&number) {
            Some(old) => {
                if who.require_for(Permission::PeopleManage, Some(&old.company_id)).is_err() {
                    return Err(ImportFailure::Rows(vec![ImportError::coded(
                        r.line,
                        "employee_number",
                        "person-not-managed",
                        "belongs to a person of a company you may not manage",
                    )]));
                }
                let before = summary(old);
                let mut am = old.clone().into_active_model();
                am.company_id = Set(r.company_id.clone());
                am.department_id = Set(r.department_id.clone());
                am.name = Set(r.input.name.as_str().into());
                am.email = Set(r.input.email.as_str().into());
                am.status = Set(r.input.status.code().into());
                am.joined_on = Set(r.input.joined_on.clone());
                am.left_on = Set(r.input.left_on.clone());
                am.updated_ms = Set(now);
                let s = am.update(&txn).await.map_err(|e| line_err(unique_person(e)))?;
                record(app, &txn, who, "people.import.update", "person", Some(&s.id), Some(&s.company_id), json!({"before": before, "after": summary(&s)}))
                    .await?;
                if old.status != EmploymentStatus::Left.code() && r.input.status == EmploymentStatus::Left {
                    disable_account_of(app, &txn, who, &s).await?;
                }
                done.updated += 1;
                s
            }
            None => {
                let s = person::Model {
                    id: PersonId::new().to_string(),
                    company_id: r.company_id.clone(),
                    department_id: r.department_id.clone(),
                    employee_number: number.clone(),
                    name: r.input.name.as_str().into(),
                    email: r.input.email.as_str().into(),
                    manager_id: None,
                    status: r.input.status.code().into(),
                    joined_on: r.input.joined_on.clone(),
                    left_on: r.input.left_on.clone(),
                    created_ms: now,
                    updated_ms: now,
                }
                .into_active_model()
                .insert(&txn)
                .await
                .map_err(|e| line_err(unique_person(e)))?;
                record(app, &txn, who, "people.import.create", "person", Some(&s.id), Some(&s.company_id), json!({"after": summary(&s)})).await?;
                done.created += 1;
                s
            }
        };
        ids.insert(number, saved.id);
        progress(i + 1, total);
    }
    // Managers last: a manager may appear later in the file than the people they manage.
    for r in &rows {
        let Some(mnum) = &r.manager_number else { continue };
        let mid = match ids.get(mnum) {
            Some(id) => id.clone(),
            None => match person::Entity::find().filter(person::Column::EmployeeNumber.eq(mnum.clone())).one(&txn).await.map_err(AppError::from)? {
                Some(p) => p.id,
                None => {
                    return Err(ImportFailure::Rows(vec![
                        ImportError::coded(r.line, "manager_employee_number", "no-person-number", format!("no person with employee number `{mnum}`"))
                            .arg("value", mnum.clone()),
                    ]));
                }
            },
        };
        let pid = &ids[r.input.employee_number.as_str()];
        if &mid == pid {
            return Err(ImportFailure::Rows(vec![ImportError::coded(
                r.line,
                "manager_employee_number",
                "own-manager",
                "a person cannot be their own manager",
            )]));
        }
        person::Entity::update_many()
            .col_expr(person::Column::ManagerId, isms_store::sea_orm::sea_query::Expr::val(mid))
            .filter(person::Column::Id.eq(pid.clone()))
            .exec(&txn)
            .await
            .map_err(AppError::from)?;
    }
    record(app, &txn, who, "people.import", "person", None, None, json!({"created": done.created, "updated": done.updated})).await?;
    txn.commit().await.map_err(AppError::from)?;
    Ok(done)
}
