//! Documents of the management system: the register (everything for readers, what applies
//! to them for everyone else), the record page with the version in force and the reader's
//! acknowledgement, the document form, reviews, reminders and the approval rules.

pub mod public;
pub mod versions;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use isms_assets_web::pages::assets::Lookup;
use isms_core::Permission;
use isms_core::policies::{ApprovalRule, DocKind};
use isms_kernel::Principal;
use isms_kernel::history::AuditEntry;
use isms_policies::documents::{self, DocQuery, DocumentDetail, DocumentInput};
use isms_policies::reading::{self, Progress, ReviewInput};
use isms_policies::{Document, Version};
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::list::{ListView, PAGE_SIZE, PageQ, offset_of};
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, refusal, render, render_form};
use serde::Deserialize;
use std::collections::HashMap;

pub const KINDS: [&str; 5] = ["policy", "regulation", "guideline", "handbook", "procedure"];

#[derive(Template)]
#[template(path = "policies_list.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Document>,
    list: ListView,
    q: DocQuery,
    look: Lookup,
    kinds: Vec<&'static str>,
    can_create: bool,
    reads: bool,
    to_read: Vec<String>,
}

pub async fn list(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Query(mut q): Query<DocQuery>,
    Query(p): Query<PageQ>,
) -> PageResult {
    Ok({
        q.limit = PAGE_SIZE;
        q.offset = offset_of(p.page, PAGE_SIZE);
        let result = documents::list(&state.app, &who, &q).await.or_page(&ctx)?;
        let to_read = reading::to_acknowledge(&state.app, &who).await.or_page(&ctx)?.into_iter().map(|d| d.id).collect();
        let look = Lookup::load(&state, &who, ctx.lang.code(), false).await.or_page(&ctx)?;
        let shell = Shell::new(&ctx, &headers, "policies-title");
        let list = ListView::new("/policies")
            .filter("search", q.search.as_deref().unwrap_or(""))
            .filter("kind", q.kind.as_deref().unwrap_or(""))
            .filter("company_id", q.company_id.as_deref().unwrap_or(""))
            .filter("status", q.status.as_deref().unwrap_or(""))
            .sorted(q.sort.as_deref().unwrap_or(""), q.dir.as_deref().unwrap_or(""), "code")
            .paged(p.page, result.total, PAGE_SIZE);
        let r = render(&ListPage {
            shell,
            rows: result.items,
            list,
            q,
            look,
            kinds: KINDS.to_vec(),
            can_create: who.access.can(Permission::PoliciesManage),
            reads: who.access.can(Permission::PoliciesRead),
            to_read,
        });
        clear_flash(&state, r, &headers)
    })
}

#[derive(Template)]
#[template(path = "policy.html")]
struct ShowPage {
    shell: Shell,
    d: DocumentDetail,
    current: Option<Version>,
    html: String,
    open: Option<Version>,
    look: Lookup,
    history: Vec<AuditEntry>,
    actors: HashMap<String, String>,
    progress: Option<Progress>,
    form: FormState,
    /// The controls it implements that the reader may see, as (id, code and title).
    controls: Vec<(String, String)>,
}

impl ShowPage {
    fn actor(&self, a: &str) -> String {
        self.shell.actor(&self.actors, a)
    }
}

async fn show_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, id: &str, errors: Vec<isms_core::FieldError>) -> Response {
    let d = isms_webkit::page_try!(ctx, documents::get(&state.app, who, id).await);
    let current = d.versions.iter().find(|v| Some(v.number) == d.document.current_version).cloned();
    let open = d.versions.iter().find(|v| matches!(v.state.code(), "draft" | "in_review" | "approved")).cloned();
    let html = current.as_ref().map(|v| isms_core::policies::markdown::to_html(&v.body)).unwrap_or_default();
    let (history, actors) = if d.reads_all {
        let h = isms_webkit::page_try!(ctx, isms_kernel::history::record_history(&state.app, "document", &d.document.id).await);
        let a = isms_webkit::page_try!(ctx, isms_kernel::history::actor_names(&state.app, &h).await);
        (h, a)
    } else {
        (vec![], HashMap::new())
    };
    let progress = if d.reads_all && d.document.must_acknowledge && d.document.current_version.is_some() {
        reading::progress(&state.app, who, id).await.ok()
    } else {
        None
    };
    let mut controls = vec![];
    for c in &d.document.control_ids {
        if let Ok(cd) = isms_compliance::controls::get(&state.app, who, c).await {
            controls.push((cd.control.id, format!("{} {}", cd.control.code, cd.control.title)));
        }
    }
    let look = isms_webkit::page_try!(ctx, Lookup::with(state, who, ctx.lang.code(), false, [d.document.owner_id.clone()]).await);
    let shell = Shell::new(ctx, headers, "policy-title").crumb("/policies", "policies-title").titled(format!("{} {}", d.document.code, d.document.title));
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    render_form(&ShowPage { shell, d, current, html, open, look, history, actors, progress, form, controls }, invalid)
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let r = show_page(&state, &ctx, &headers, &who, &id, vec![]).await;
    clear_flash(&state, r, &headers)
}

/// The outcome of an action on the record page: back to it, or the page with the refusal.
async fn after(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, id: &str, r: isms_kernel::Result<()>, flash: &str) -> Response {
    match r {
        Ok(()) => redirect_with_flash(state, &format!("/policies/{id}"), flash, ctx.is_htmx),
        Err(e) => show_page(state, ctx, headers, who, id, isms_webkit::refusals!(ctx, e)).await,
    }
}

pub async fn acknowledge(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let r = reading::acknowledge(&state.app, &who, &id).await.map(|_| ());
    after(&state, &ctx, &headers, &who, &id, r, "flash-acknowledged").await
}

pub async fn remind(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let r = reading::remind_unacknowledged(&state.app, &who, &id).await.map(|_| ());
    after(&state, &ctx, &headers, &who, &id, r, "flash-reminded").await
}

pub async fn retire(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let r = isms_policies::versions::retire_document(&state.app, &who, &id).await;
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

pub async fn new_version(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    match isms_policies::versions::new_version(&state.app, &who, &id).await {
        Ok(v) => redirect_with_flash(&state, &format!("/policies/{id}/versions/{}/edit", v.number), "flash-saved", ctx.is_htmx),
        Err(e) => after(&state, &ctx, &headers, &who, &id, Err(e), "").await,
    }
}

#[derive(Deserialize, Default)]
pub struct ReviewForm {
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    note: String,
}

pub async fn review(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, Form(f): Form<ReviewForm>) -> Response {
    match reading::review(&state.app, &who, &id, ReviewInput { outcome: f.outcome.clone(), note: f.note }).await {
        Ok(_) if f.outcome == "new_version" => {
            let n = documents::get(&state.app, &who, &id).await.ok().and_then(|d| d.versions.first().map(|v| v.number)).unwrap_or(1);
            redirect_with_flash(&state, &format!("/policies/{id}/versions/{n}/edit"), "flash-reviewed", ctx.is_htmx)
        }
        Ok(_) => redirect_with_flash(&state, &format!("/policies/{id}"), "flash-reviewed", ctx.is_htmx),
        Err(e) => after(&state, &ctx, &headers, &who, &id, Err(e), "").await,
    }
}

#[derive(Template)]
#[template(path = "policy_form.html")]
struct FormPage {
    shell: Shell,
    form: FormState,
    v: DocumentInput,
    look: Lookup,
    action: String,
    kinds: Vec<&'static str>,
    creating: bool,
    others: Vec<Document>,
    controls: Vec<isms_compliance::Control>,
}

/// Parses the form by hand: `applies_to` and `category_ids` repeat.
fn parse_form(body: &[u8]) -> (DocumentInput, Vec<isms_core::FieldError>) {
    let mut v = DocumentInput::default();
    let mut months = String::new();
    for (k, val) in form_urlencoded::parse(body) {
        let val = val.into_owned();
        match k.as_ref() {
            "code" => v.code = val,
            "kind" => v.kind = val,
            "title" => v.title = val,
            "company_id" => v.company_id = Some(val),
            "owner_id" => v.owner_id = val,
            "language" => v.language = val,
            "translation_id" => v.translation_id = Some(val),
            "public" => v.public = val == "on" || val == "true",
            "must_acknowledge" => v.must_acknowledge = val == "on" || val == "true",
            "review_months" => months = val,
            "applies_to" => v.applies_to.push(val),
            "category_ids" => v.category_ids.push(val),
            "control_ids" => v.control_ids.push(val),
            "body" => v.body = val,
            _ => {}
        }
    }
    let mut errors = vec![];
    v.review_months = isms_kernel::input::whole(&mut errors, "review_months", &months);
    (v, errors)
}

async fn form_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    v: DocumentInput,
    action: String,
    title: &str,
    creating: bool,
    errors: Vec<isms_core::FieldError>,
) -> Response {
    let look = isms_webkit::page_try!(ctx, Lookup::load(state, who, ctx.lang.code(), false).await);
    let q = DocQuery { limit: 500, ..Default::default() };
    let others = isms_webkit::page_try!(ctx, documents::list(&state.app, who, &q).await.map(|p| p.items));
    let controls = if who.access.can(Permission::ComplianceRead) {
        let cq = isms_compliance::controls::ControlQuery { limit: 500, ..Default::default() };
        isms_webkit::page_try!(ctx, isms_compliance::controls::list(&state.app, who, &cq).await.map(|p| p.items))
    } else {
        vec![]
    };
    let shell = Shell::new(ctx, headers, title).crumb("/policies", "policies-title");
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    render_form(&FormPage { shell, form, v, look, action, kinds: KINDS.to_vec(), creating, others, controls }, invalid)
}

pub async fn new_form(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let v = DocumentInput { kind: "guideline".into(), language: ctx.lang.code().into(), ..Default::default() };
    form_page(&state, &ctx, &headers, &who, v, "/policies/new".into(), "policy-new-title", true, vec![]).await
}

pub async fn create(PageCx { state, ctx, headers, who }: PageCx, body: axum::body::Bytes) -> Response {
    let (input, errors) = parse_form(&body);
    if !errors.is_empty() {
        return form_page(&state, &ctx, &headers, &who, input, "/policies/new".into(), "policy-new-title", true, errors).await;
    }
    match documents::create(&state.app, &who, input.clone()).await {
        Ok(d) => redirect_with_flash(&state, &format!("/policies/{}", d.id), "flash-saved", ctx.is_htmx),
        Err(e) => form_page(&state, &ctx, &headers, &who, input, "/policies/new".into(), "policy-new-title", true, isms_webkit::refusals!(&ctx, e)).await,
    }
}

pub async fn edit_form(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let d = match documents::get(&state.app, &who, &id).await {
        Ok(d) if d.can_manage => d.document,
        Ok(_) => return isms_webkit::error::page_error(&ctx, isms_kernel::AppError::Forbidden),
        Err(e) => return isms_webkit::error::page_error(&ctx, e),
    };
    let owner = isms_org::people::names(&state.app, &d.owner_id.iter().cloned().collect::<Vec<_>>())
        .await
        .ok()
        .and_then(|m| d.owner_id.as_ref().and_then(|o| m.get(o).map(|(_, n)| n.clone())));
    let v = DocumentInput {
        code: d.code,
        kind: d.kind.code().into(),
        title: d.title,
        company_id: d.company_id,
        owner_id: owner.or(d.owner_id).unwrap_or_default(),
        language: d.language.code().into(),
        translation_id: d.translation_id,
        public: d.public,
        must_acknowledge: d.must_acknowledge,
        review_months: Some(d.review_months),
        applies_to: d.applies_to,
        category_ids: d.category_ids,
        control_ids: d.control_ids,
        body: String::new(),
    };
    form_page(&state, &ctx, &headers, &who, v, format!("/policies/{id}/edit"), "policy-edit-title", false, vec![]).await
}

pub async fn update(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, body: axum::body::Bytes) -> Response {
    let action = format!("/policies/{id}/edit");
    let (input, errors) = parse_form(&body);
    if !errors.is_empty() {
        return form_page(&state, &ctx, &headers, &who, input, action, "policy-edit-title", false, errors).await;
    }
    match documents::update(&state.app, &who, &id, input.clone()).await {
        Ok(d) => redirect_with_flash(&state, &format!("/policies/{}", d.id), "flash-saved", ctx.is_htmx),
        Err(e) => form_page(&state, &ctx, &headers, &who, input, action, "policy-edit-title", false, isms_webkit::refusals!(&ctx, e)).await,
    }
}

#[derive(Template)]
#[template(path = "policy_kinds.html")]
struct KindsPage {
    shell: Shell,
    rules: Vec<ApprovalRule>,
    can_edit: bool,
    roles: Vec<&'static str>,
    form: FormState,
    /// The row sent and refused, drawn as it was typed.
    sent: Option<KindForm>,
}

impl KindsPage {
    /// The row's refused submission, if this row is the one that was refused.
    fn sent_for(&self, r: &ApprovalRule) -> Option<&KindForm> {
        self.sent.as_ref().filter(|s| s.kind == r.kind.code())
    }
    fn role_of(&self, r: &ApprovalRule) -> String {
        self.sent_for(r).map(|s| s.approver_role.clone()).unwrap_or_else(|| r.approver_role.code().to_owned())
    }
    fn needed_of(&self, r: &ApprovalRule) -> String {
        self.sent_for(r).map(|s| s.approvals_needed.clone()).unwrap_or_else(|| r.approvals_needed.to_string())
    }
    fn months_of(&self, r: &ApprovalRule) -> String {
        self.sent_for(r).map(|s| s.review_months.clone()).unwrap_or_else(|| r.review_months.to_string())
    }
    /// The errors of a field, beside it in the refused row only.
    fn row_error(&self, r: &ApprovalRule, field: &str) -> String {
        if self.sent_for(r).is_some() { self.form.error_for(field) } else { String::new() }
    }
    fn row_aria(&self, r: &ApprovalRule, field: &str) -> String {
        if self.sent_for(r).is_some() { self.form.aria(field) } else { String::new() }
    }
}

async fn kinds_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, errors: Vec<isms_core::FieldError>, sent: Option<KindForm>) -> Response {
    let rules = isms_webkit::page_try!(ctx, isms_policies::rules(&state.app).await);
    let shell = Shell::new(ctx, headers, "policy-kinds-title").crumb("/policies", "policies-title");
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    let roles = ["ciso", "council_member", "committee_member", "company_security_admin", "csirt_member", "auditor"].to_vec();
    render_form(&KindsPage { shell, rules, can_edit: who.access.can_for(Permission::PoliciesManage, None), roles, form, sent }, invalid)
}

pub async fn kinds(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let r = kinds_page(&state, &ctx, &headers, &who, vec![], None).await;
    clear_flash(&state, r, &headers)
}

#[derive(Deserialize, Default, Clone)]
pub struct KindForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    approver_role: String,
    #[serde(default)]
    approvals_needed: String,
    #[serde(default)]
    review_months: String,
}

pub async fn set_kind(PageCx { state, ctx, headers, who }: PageCx, Form(f): Form<KindForm>) -> Response {
    let mut errors = vec![];
    let approvals_needed = isms_kernel::input::whole(&mut errors, "approvals_needed", &f.approvals_needed).unwrap_or(0);
    let review_months = isms_kernel::input::whole(&mut errors, "review_months", &f.review_months).unwrap_or(0);
    let parsed = (|| -> Result<ApprovalRule, isms_core::FieldError> {
        Ok(ApprovalRule { kind: DocKind::parse(&f.kind)?, approver_role: f.approver_role.parse()?, approvals_needed, review_months })
    })();
    let r = match parsed {
        Ok(_) if !errors.is_empty() => Err(isms_kernel::AppError::Invalid(errors)),
        Ok(rule) => isms_policies::set_rule(&state.app, &who, rule).await.map(|_| ()),
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(()) => redirect_with_flash(&state, "/policies/kinds", "flash-saved", ctx.is_htmx),
        Err(isms_kernel::AppError::Invalid(errs)) if ctx.is_htmx => refusal(&ctx, &errs),
        Err(e) => {
            let errors = isms_webkit::refusals!(&ctx, e);
            kinds_page(&state, &ctx, &headers, &who, errors, Some(f)).await
        }
    }
}
