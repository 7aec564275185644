//! Controls: the list with filters and its CSV/XLSX export, a control's page with its
//! requirements, evidence and the risks it treats, and the control form.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use isms_compliance::Control;
use isms_compliance::controls::{self, ControlDetail, ControlInput, ControlQuery, LinkInput};
use isms_compliance::frameworks::{self, Requirement};
use isms_core::Permission;
use isms_core::compliance::ControlStatus;
use isms_kernel::Principal;
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::list::{ListView, PAGE_SIZE, PageQ, offset_of};
use isms_webkit::lookup::Lookup;
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render, render_form};
use serde::Deserialize;

fn statuses() -> Vec<&'static str> {
    ControlStatus::ALL.iter().map(|s| s.code()).collect()
}

#[derive(Template)]
#[template(path = "controls_list.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Control>,
    list: ListView,
    q: ControlQuery,
    look: Lookup,
    statuses: Vec<&'static str>,
    can_create: bool,
}

pub async fn list(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Query(mut q): Query<ControlQuery>,
    Query(p): Query<PageQ>,
) -> PageResult {
    Ok({
        q.limit = PAGE_SIZE;
        q.offset = offset_of(p.page, PAGE_SIZE);
        let result = controls::list(&state.app, &who, &q).await.or_page(&ctx)?;
        let look = Lookup::with(&state, &who, ctx.lang.code(), result.items.iter().map(|c| c.owner_id.clone())).await.or_page(&ctx)?;
        let list = ListView::new("/controls")
            .filter("search", q.search.as_deref().unwrap_or(""))
            .filter("status", q.status.as_deref().unwrap_or(""))
            .filter("company_id", q.company_id.as_deref().unwrap_or(""))
            .filter("requirement_id", q.requirement_id.as_deref().unwrap_or(""))
            .filter("review", q.review.as_deref().unwrap_or(""))
            .sorted(q.sort.as_deref().unwrap_or(""), q.dir.as_deref().unwrap_or(""), "code")
            .paged(p.page, result.total, PAGE_SIZE);
        let shell = Shell::new(&ctx, &headers, "controls-title").crumb("/frameworks", "frameworks-title");
        let r = render(&ListPage { shell, rows: result.items, list, q, look, statuses: statuses(), can_create: who.access.can(Permission::ComplianceManage) });
        clear_flash(&state, r, &headers)
    })
}

async fn export_rows(state: &WebState, ctx: &Ctx, who: &Principal, q: &ControlQuery) -> isms_kernel::Result<Vec<Vec<String>>> {
    let mut q = q.clone();
    q.limit = 500;
    q.offset = 0;
    let i18n = &ctx.i18n;
    let t = |k: &str| i18n.get(ctx.lang, k);
    let look = Lookup::load(state, who, ctx.lang.code()).await?;
    let mut rows = vec![
        ["field-code", "field-title", "col-status", "col-company", "col-owner", "col-review-due", "col-requirements", "col-evidence", "col-latest-evidence"]
            .iter()
            .map(|k| t(k))
            .collect::<Vec<_>>(),
    ];
    loop {
        let page = controls::list(&state.app, who, &q).await?;
        let n = page.items.len() as u64;
        let names = isms_org::people::names(&state.app, &page.items.iter().filter_map(|c| c.owner_id.clone()).collect::<Vec<_>>()).await?;
        for c in page.items {
            rows.push(vec![
                c.code,
                c.title,
                t(&format!("control-status-{}", c.status.code())),
                c.company_id.as_ref().map(|x| look.company(x)).unwrap_or_else(|| t("whole-group")),
                c.owner_id.as_ref().and_then(|o| names.get(o)).map(|(n, name)| format!("{n} {name}")).unwrap_or_default(),
                c.review_due.unwrap_or_default(),
                c.requirements.iter().map(|r| format!("{} {}", r.framework_code, r.reference)).collect::<Vec<_>>().join("; "),
                c.evidence_count.to_string(),
                c.latest_evidence.unwrap_or_default(),
            ]);
        }
        q.offset += n;
        if n < q.limit || q.offset >= page.total {
            break;
        }
    }
    Ok(rows)
}

pub async fn export_csv(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Query(q): Query<ControlQuery>) -> Response {
    let rows = isms_webkit::page_try!(&ctx, export_rows(&state, &ctx, &who, &q).await);
    isms_webkit::download::csv("controls.csv", &rows)
}

pub async fn export_xlsx(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Query(q): Query<ControlQuery>) -> Response {
    let rows = isms_webkit::page_try!(&ctx, export_rows(&state, &ctx, &who, &q).await);
    isms_webkit::page_try!(&ctx, isms_webkit::download::report(&ctx, "controls.xlsx", "controls", "controls-title", &rows))
}

#[derive(Template)]
#[template(path = "control.html")]
struct ShowPage {
    shell: Shell,
    d: ControlDetail,
    look: Lookup,
    form: FormState,
    link: LinkInput,
}

async fn show_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    id: &str,
    link: LinkInput,
    errors: Vec<isms_core::FieldError>,
) -> Response {
    let d = isms_webkit::page_try!(ctx, controls::get(&state.app, who, id).await);
    let look = isms_webkit::page_try!(ctx, Lookup::with(state, who, ctx.lang.code(), [d.control.owner_id.clone()]).await);
    let shell = Shell::new(ctx, headers, "control-title").crumb("/controls", "controls-title").titled(format!("{} {}", d.control.code, d.control.title));
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    render_form(&ShowPage { shell, d, look, form, link }, invalid)
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let r = show_page(&state, &ctx, &headers, &who, &id, LinkInput::default(), vec![]).await;
    clear_flash(&state, r, &headers)
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    note: String,
}

pub async fn reviewed(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, Form(f): Form<NoteForm>) -> Response {
    match controls::reviewed(&state.app, &who, &id, &f.note).await {
        Ok(_) => redirect_with_flash(&state, &format!("/controls/{id}"), "flash-reviewed", ctx.is_htmx),
        Err(e) => show_page(&state, &ctx, &headers, &who, &id, LinkInput::default(), isms_webkit::refusals!(&ctx, e)).await,
    }
}

/// Evidence from the control page: a file (multipart) or a link.
pub async fn add_evidence(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, mp: Multipart) -> PageResult {
    Ok({
        let (file, fields) = super::upload(mp).await.or_page(&ctx)?;
        let get = |k: &str| super::field(&fields, k).unwrap_or("").to_owned();
        let on = Some(get("evidence_on")).filter(|s| !s.trim().is_empty());
        let link = LinkInput { title: get("title"), url: get("url"), evidence_on: on.clone() };
        let r = match file {
            Some((name, bytes)) => controls::add_file(&state.app, &who, &id, &name, bytes, &link.title, &on).await.map(|_| ()),
            None if !link.url.trim().is_empty() => controls::add_link(&state.app, &who, &id, link.clone()).await.map(|_| ()),
            None => Err(isms_kernel::AppError::coded("file", "evidence-missing", "choose a file or give an address")),
        };
        match r {
            Ok(()) => redirect_with_flash(&state, &format!("/controls/{id}"), "flash-saved", ctx.is_htmx),
            Err(e) => show_page(&state, &ctx, &headers, &who, &id, link, isms_webkit::shell::form_errors(e).or_page(&ctx)?).await,
        }
    })
}

pub async fn remove_evidence(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path((id, eid)): Path<(String, String)>) -> Response {
    isms_webkit::page_try!(&ctx, controls::remove_evidence(&state.app, &who, &id, &eid).await);
    redirect_with_flash(&state, &format!("/controls/{id}"), "flash-deleted", ctx.is_htmx)
}

pub async fn evidence_file(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path((id, eid)): Path<(String, String)>) -> Response {
    let (name, data) = isms_webkit::page_try!(&ctx, controls::evidence_file(&state.app, &who, &id, &eid).await);
    isms_webkit::download::download_parts(&name, "application/octet-stream", data, None)
}

#[derive(Template)]
#[template(path = "control_form.html")]
struct FormPage {
    shell: Shell,
    form: FormState,
    v: ControlInput,
    look: Lookup,
    action: String,
    statuses: Vec<&'static str>,
    groups: Vec<(String, Vec<Requirement>)>,
}

async fn form_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    v: ControlInput,
    action: String,
    title: &str,
    errors: Vec<isms_core::FieldError>,
) -> Response {
    let look = isms_webkit::page_try!(ctx, Lookup::load(state, who, ctx.lang.code()).await);
    let mut groups = vec![];
    for f in isms_webkit::page_try!(ctx, frameworks::list(&state.app, who).await) {
        if let Ok(d) = frameworks::get(&state.app, who, &f.id).await {
            groups.push((f.name, d.requirements.into_iter().filter(|r| r.leaf).collect()));
        }
    }
    let shell = Shell::new(ctx, headers, title).crumb("/controls", "controls-title");
    let form = FormState::new(&shell, errors)
        .labelled(&shell, &[("status", "col-status"), ("owner_id", "col-owner"), ("review_due", "col-review-due"), ("requirement_ids", "col-requirements")]);
    let invalid = !form.errors.is_empty();
    render_form(&FormPage { shell, form, v, look, action, statuses: statuses(), groups }, invalid)
}

/// Parses the form by hand: `applies_to` and `requirement_ids` repeat. A number that is not
/// one is refused beside its field; everything else is kept as sent.
fn parse_form(body: &[u8]) -> (ControlInput, Vec<isms_core::FieldError>) {
    let mut v = ControlInput::default();
    let mut months = String::new();
    for (k, val) in form_urlencoded::parse(body) {
        let val = val.into_owned();
        match k.as_ref() {
            "code" => v.code = val,
            "title" => v.title = val,
            "description" => v.description = val,
            "company_id" => v.company_id = Some(val),
            "owner_id" => v.owner_id = val,
            "status" => v.status = val,
            "review_months" => months = val,
            "review_due" => v.review_due = Some(val).filter(|s| !s.trim().is_empty()),
            "applies_to" => v.applies_to.push(val),
            "requirement_ids" => v.requirement_ids.push(val),
            _ => {}
        }
    }
    let mut errors = vec![];
    v.review_months = isms_kernel::input::whole(&mut errors, "review_months", &months);
    (v, errors)
}

#[derive(Deserialize, Default)]
pub struct NewQ {
    #[serde(default)]
    requirement_id: Option<String>,
}

pub async fn new_form(PageCx { state, ctx, headers, who }: PageCx, Query(q): Query<NewQ>) -> Response {
    let v = ControlInput { status: "planned".into(), requirement_ids: q.requirement_id.into_iter().collect(), ..Default::default() };
    form_page(&state, &ctx, &headers, &who, v, "/controls/new".into(), "control-new-title", vec![]).await
}

pub async fn create(PageCx { state, ctx, headers, who }: PageCx, body: axum::body::Bytes) -> Response {
    let (input, errors) = parse_form(&body);
    if !errors.is_empty() {
        return form_page(&state, &ctx, &headers, &who, input, "/controls/new".into(), "control-new-title", errors).await;
    }
    match controls::create(&state.app, &who, input.clone()).await {
        Ok(c) => redirect_with_flash(&state, &format!("/controls/{}", c.id), "flash-saved", ctx.is_htmx),
        Err(e) => form_page(&state, &ctx, &headers, &who, input, "/controls/new".into(), "control-new-title", isms_webkit::refusals!(&ctx, e)).await,
    }
}

pub async fn edit_form(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let c = match controls::get(&state.app, &who, &id).await {
        Ok(d) if d.can_manage => d.control,
        Ok(_) => return isms_webkit::error::page_error(&ctx, isms_kernel::AppError::Forbidden),
        Err(e) => return isms_webkit::error::page_error(&ctx, e),
    };
    let owner = isms_org::people::names(&state.app, &c.owner_id.iter().cloned().collect::<Vec<_>>())
        .await
        .ok()
        .and_then(|m| c.owner_id.as_ref().and_then(|o| m.get(o).map(|(n, _)| n.clone())));
    let v = ControlInput {
        code: c.code,
        title: c.title,
        description: c.description,
        company_id: c.company_id,
        owner_id: owner.or(c.owner_id).unwrap_or_default(),
        status: c.status.code().into(),
        review_months: Some(c.review_months),
        review_due: c.review_due,
        applies_to: c.applies_to,
        requirement_ids: c.requirements.into_iter().map(|r| r.id).collect(),
    };
    form_page(&state, &ctx, &headers, &who, v, format!("/controls/{id}/edit"), "control-edit-title", vec![]).await
}

pub async fn update(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, body: axum::body::Bytes) -> Response {
    let action = format!("/controls/{id}/edit");
    let (input, errors) = parse_form(&body);
    if !errors.is_empty() {
        return form_page(&state, &ctx, &headers, &who, input, action, "control-edit-title", errors).await;
    }
    match controls::update(&state.app, &who, &id, input.clone()).await {
        Ok(_) => redirect_with_flash(&state, &format!("/controls/{id}"), "flash-saved", ctx.is_htmx),
        Err(e) => form_page(&state, &ctx, &headers, &who, input, action, "control-edit-title", isms_webkit::refusals!(&ctx, e)).await,
    }
}
