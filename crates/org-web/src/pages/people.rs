//! People: the list (search, filters, sorting, pages, export), the record page with its
//! history, the forms, deactivation of leavers and the CSV import.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use isms_kernel::Principal;
use isms_kernel::history::AuditEntry;
use isms_org::org::{Company, Department};
use isms_org::people::{self, ImportError, ImportFailure, ImportSummary, Person, PersonInput};
use isms_store::org::{PeopleQuery, PeopleSort};
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::list::ListView;
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render, render_form};
use serde::Deserialize;
use std::collections::HashMap;

pub const PAGE_SIZE: u64 = 50;

#[derive(Deserialize, Default, Clone)]
pub struct ListQ {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub dir: String,
    #[serde(default)]
    pub page: Option<u64>,
}

impl ListQ {
    pub fn to_query(&self, limit: u64) -> PeopleQuery {
        let none_if_empty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        PeopleQuery {
            search: none_if_empty(&self.q),
            company_id: none_if_empty(&self.company),
            department_id: None,
            status: none_if_empty(&self.status),
            sort: match self.sort.as_str() {
                "number" => PeopleSort::EmployeeNumber,
                "company" => PeopleSort::Company,
                "status" => PeopleSort::Status,
                _ => PeopleSort::Name,
            },
            descending: self.dir == "desc",
            offset: self.page.unwrap_or(1).saturating_sub(1) * limit,
            limit,
        }
    }

    /// The list's state for its headings, pager and export link.
    pub fn view(&self, total: u64) -> ListView {
        ListView::new("/people")
            .swapped_into("people-table")
            .filter("q", &self.q)
            .filter("company", &self.company)
            .filter("status", &self.status)
            .sorted(&self.sort, &self.dir, "name")
            .paged(self.page, total, PAGE_SIZE)
    }
}

/// Names to show for ids.
pub struct Names {
    companies: HashMap<String, Company>,
    departments: HashMap<String, Department>,
}

impl Names {
    async fn load(state: &WebState, who: &Principal) -> isms_kernel::Result<Self> {
        let companies = isms_org::org::list_companies(&state.app, who).await?;
        let departments = isms_org::org::list_departments(&state.app, who).await?;
        Ok(Self {
            companies: companies.into_iter().map(|c| (c.id.clone(), c)).collect(),
            departments: departments.into_iter().map(|d| (d.id.clone(), d)).collect(),
        })
    }
    pub fn company(&self, id: &str) -> String {
        self.companies.get(id).map(|c| c.code.clone()).unwrap_or_default()
    }
    pub fn department(&self, id: &Option<String>) -> String {
        id.as_ref().and_then(|d| self.departments.get(d)).map(|d| d.name.clone()).unwrap_or_default()
    }
    pub fn sorted_companies(&self) -> Vec<&Company> {
        let mut v: Vec<_> = self.companies.values().collect();
        v.sort_by(|a, b| a.code.cmp(&b.code));
        v
    }
    pub fn sorted_departments(&self) -> Vec<&Department> {
        let mut v: Vec<_> = self.departments.values().collect();
        v.sort_by(|a, b| (self.company(&a.company_id), &a.code).cmp(&(self.company(&b.company_id), &b.code)));
        v
    }
}

#[derive(Template)]
#[template(path = "people_list.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Person>,
    list: ListView,
    q: ListQ,
    names: Names,
}

#[derive(Template)]
#[template(path = "people_table.html")]
struct ListPartial {
    shell: Shell,
    rows: Vec<Person>,
    list: ListView,
    names: Names,
}

pub async fn list(PageCx { state, ctx, headers, who }: PageCx, Query(q): Query<ListQ>) -> PageResult {
    Ok({
        let query = q.to_query(PAGE_SIZE);
        let result = people::list(&state.app, &who, &query).await.or_page(&ctx)?;
        let names = Names::load(&state, &who).await.or_page(&ctx)?;
        let list = q.view(result.total);
        let shell = Shell::new(&ctx, &headers, "people-title");
        let partial = headers.get("hx-target").and_then(|v| v.to_str().ok()) == Some("people-table");
        let r = if partial {
            render(&ListPartial { shell, rows: result.items, list, names })
        } else {
            render(&ListPage { shell, rows: result.items, list, q, names })
        };
        clear_flash(&state, r, &headers)
    })
}

pub async fn export(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Query(q): Query<ListQ>) -> PageResult {
    Ok({
        let query = PeopleQuery { offset: 0, ..q.to_query(10_000) };
        let result = people::list(&state.app, &who, &query).await.or_page(&ctx)?;
        let names = Names::load(&state, &who).await.or_page(&ctx)?;
        // The export is the import's format: it reads back unchanged.
        let mut numbers: HashMap<String, String> = result.items.iter().map(|p| (p.id.clone(), p.employee_number.clone())).collect();
        for m in result.items.iter().filter_map(|p| p.manager_id.clone()) {
            if let std::collections::hash_map::Entry::Vacant(slot) = numbers.entry(m) {
                // A manager the reader may not see stays blank.
                let number = match people::get(&state.app, &who, slot.key()).await {
                    Ok(p) => p.employee_number,
                    Err(isms_kernel::AppError::NotFound | isms_kernel::AppError::Forbidden) => String::new(),
                    Err(e) => return Err(isms_webkit::error::page_error(&ctx, e).into()),
                };
                slot.insert(number);
            }
        }
        let mut rows = vec![people::CSV_COLUMNS.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>()];
        for p in &result.items {
            rows.push(vec![
                p.employee_number.clone(),
                p.name.clone(),
                p.email.clone(),
                names.company(&p.company_id),
                p.department_id.as_ref().and_then(|d| names.departments.get(d)).map(|d| d.code.clone()).unwrap_or_default(),
                p.manager_id.as_ref().and_then(|m| numbers.get(m)).cloned().unwrap_or_default(),
                p.status.clone(),
                p.joined_on.clone().unwrap_or_default(),
                p.left_on.clone().unwrap_or_default(),
            ]);
        }
        isms_webkit::download::csv("people.csv", &rows)
    })
}

#[derive(Template)]
#[template(path = "person.html")]
struct ShowPage {
    shell: Shell,
    p: Person,
    names: Names,
    manager: Option<Person>,
    history: Vec<AuditEntry>,
    actors: HashMap<String, String>,
}

impl ShowPage {
    fn actor(&self, a: &str) -> String {
        self.shell.actor(&self.actors, a)
    }
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> PageResult {
    Ok({
        let p = people::get(&state.app, &who, &id).await.or_page(&ctx)?;
        let manager = match &p.manager_id {
            Some(m) => isms_store::org::person_by_id(state.app.store.conn(), m)
                .await
                .ok()
                .flatten()
                .filter(|m| who.require_for(isms_core::Permission::PeopleRead, Some(&m.company_id)).is_ok())
                .map(Person::from),
            None => None,
        };
        let history = isms_kernel::history::record_history(&state.app, "person", &p.id).await.or_page(&ctx)?;
        let actors = isms_kernel::history::actor_names(&state.app, &history).await.or_page(&ctx)?;
        let names = Names::load(&state, &who).await.or_page(&ctx)?;
        let shell = Shell::new(&ctx, &headers, "person-title").crumb("/people", "people-title").titled(p.name.clone());
        let r = render(&ShowPage { shell, p, names, manager, history, actors });
        clear_flash(&state, r, &headers)
    })
}

#[derive(Template)]
#[template(path = "person_form.html")]
struct FormPage {
    shell: Shell,
    form: FormState,
    v: PersonInput,
    names: Names,
    action: String,
}

#[derive(Deserialize, Default)]
pub struct PersonForm {
    #[serde(default)]
    employee_number: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    company_id: String,
    #[serde(default)]
    department_id: String,
    #[serde(default)]
    manager_id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    joined_on: String,
    #[serde(default)]
    left_on: String,
}

impl From<PersonForm> for PersonInput {
    fn from(f: PersonForm) -> Self {
        PersonInput {
            employee_number: f.employee_number,
            name: f.name,
            email: f.email,
            company_id: f.company_id,
            department_id: Some(f.department_id),
            manager_id: Some(f.manager_id),
            status: Some(f.status),
            joined_on: Some(f.joined_on),
            left_on: Some(f.left_on),
        }
    }
}

async fn form_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    v: PersonInput,
    action: String,
    title: &str,
    errors: Vec<isms_core::FieldError>,
) -> Response {
    let names = isms_webkit::page_try!(ctx, Names::load(state, who).await);
    let shell = Shell::new(ctx, headers, title).crumb("/people", "people-title");
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    render_form(&FormPage { shell, form, v, names, action }, invalid)
}

pub async fn new_form(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let v = PersonInput { status: Some("active".into()), ..Default::default() };
    form_page(&state, &ctx, &headers, &who, v, "/people/new".into(), "person-new-title", vec![]).await
}

pub async fn create(PageCx { state, ctx, headers, who }: PageCx, Form(f): Form<PersonForm>) -> Response {
    let input: PersonInput = f.into();
    match people::create(&state.app, &who, input.clone()).await {
        Ok(p) => redirect_with_flash(&state, &format!("/people/{}", p.id), "flash-saved", ctx.is_htmx),
        Err(e) => form_page(&state, &ctx, &headers, &who, input, "/people/new".into(), "person-new-title", isms_webkit::refusals!(&ctx, e)).await,
    }
}

pub async fn edit_form(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> PageResult {
    Ok({
        let p = people::get(&state.app, &who, &id).await.or_page(&ctx)?;
        who.require_for(isms_core::Permission::PeopleManage, Some(&p.company_id)).or_page(&ctx)?;
        let manager_number = match &p.manager_id {
            Some(m) => isms_store::org::person_by_id(state.app.store.conn(), m).await.ok().flatten().map(|m| m.employee_number),
            None => None,
        };
        let v = PersonInput {
            employee_number: p.employee_number,
            name: p.name,
            email: p.email,
            company_id: p.company_id,
            department_id: p.department_id,
            manager_id: manager_number,
            status: Some(p.status),
            joined_on: p.joined_on,
            left_on: p.left_on,
        };
        form_page(&state, &ctx, &headers, &who, v, format!("/people/{id}/edit"), "person-edit-title", vec![]).await
    })
}

pub async fn update(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, Form(f): Form<PersonForm>) -> Response {
    let input: PersonInput = f.into();
    match people::update(&state.app, &who, &id, input.clone()).await {
        Ok(p) => redirect_with_flash(&state, &format!("/people/{}", p.id), "flash-saved", ctx.is_htmx),
        Err(e) => form_page(&state, &ctx, &headers, &who, input, format!("/people/{id}/edit"), "person-edit-title", isms_webkit::refusals!(&ctx, e)).await,
    }
}

#[derive(Deserialize, Default)]
pub struct DeactivateForm {
    #[serde(default)]
    left_on: String,
}

pub async fn deactivate(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>, Form(f): Form<DeactivateForm>) -> Response {
    let p = isms_webkit::page_try!(&ctx, people::deactivate(&state.app, &who, &id, Some(&f.left_on)).await);
    redirect_with_flash(&state, &format!("/people/{}", p.id), "flash-deactivated", ctx.is_htmx)
}

#[derive(Template)]
#[template(path = "people_import.html")]
struct ImportPage {
    shell: Shell,
    columns: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "people_import_result.html")]
struct ImportResult {
    shell: Shell,
    errors: Vec<ImportError>,
    summary: Option<ImportSummary>,
    message: Option<String>,
}

pub async fn import_form(ctx: Ctx, headers: HeaderMap) -> Response {
    let shell = Shell::new(&ctx, &headers, "import-title").crumb("/people", "people-title");
    render(&ImportPage { shell, columns: people::CSV_COLUMNS.to_vec() })
}

/// Takes the uploaded file (multipart field `file`) and answers with a result fragment.
pub async fn import(PageCx { state, ctx, headers, who }: PageCx, mut mp: Multipart) -> Response {
    let shell = Shell::new(&ctx, &headers, "import-title");
    let mut data = None;
    loop {
        match mp.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => match field.bytes().await {
                Ok(b) => data = Some(b),
                Err(_) => break,
            },
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => break,
        }
    }
    let Some(data) = data.filter(|d| !d.is_empty()) else {
        let message = Some(shell.t("import-no-file"));
        let mut r = render(&ImportResult { shell, errors: vec![], summary: None, message });
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return r;
    };
    match people::import_csv(&state.app, &who, &data, |_, _| {}).await {
        Ok(summary) => render(&ImportResult { shell, errors: vec![], summary: Some(summary), message: None }),
        Err(ImportFailure::Rows(errors)) => {
            let message = Some(shell.tr("import-failed", &[("count", errors.len().to_string())]));
            let mut r = render(&ImportResult { shell, errors, summary: None, message });
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
        Err(ImportFailure::App(e)) => isms_webkit::error::page_error(&ctx, e),
    }
}
