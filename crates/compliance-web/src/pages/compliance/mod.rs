//! Compliance pages: the frameworks (shipped, imported, built here) with their
//! requirement trees and mappings, and the group's controls with their evidence. The
//! Statement of Applicability and the assessment are in [`soa`].

pub mod controls;
pub mod soa;

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use isms_compliance::Framework;
use isms_compliance::frameworks::{self, FrameworkDetail, FrameworkInput, ImportTarget, RequirementDetail, RequirementInput};
use isms_core::Permission;
use isms_org::people::ImportError;
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render, render_form};

#[derive(Template)]
#[template(path = "frameworks.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Framework>,
    manage: bool,
    form: FormState,
    v: FrameworkInput,
    errors: Vec<ImportError>,
}

async fn list_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &isms_kernel::Principal,
    v: FrameworkInput,
    errors: Vec<isms_core::FieldError>,
    import_errors: Vec<ImportError>,
) -> Response {
    let rows = isms_webkit::page_try!(ctx, frameworks::list(&state.app, who).await);
    let shell = Shell::new(ctx, headers, "frameworks-title");
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty() || !import_errors.is_empty();
    render_form(&ListPage { shell, rows, manage: who.access.can(Permission::FrameworksManage), form, v, errors: import_errors }, invalid)
}

pub async fn list(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let r = list_page(&state, &ctx, &headers, &who, FrameworkInput::default(), vec![], vec![]).await;
    clear_flash(&state, r, &headers)
}

pub async fn create(PageCx { state, ctx, headers, who }: PageCx, Form(v): Form<FrameworkInput>) -> Response {
    match frameworks::create(&state.app, &who, v.clone()).await {
        Ok(f) => redirect_with_flash(&state, &format!("/frameworks/{}", f.id), "flash-saved", ctx.is_htmx),
        Err(e) => list_page(&state, &ctx, &headers, &who, v, isms_webkit::refusals!(&ctx, e), vec![]).await,
    }
}

/// The fields of an upload form: the file and any text fields.
pub(crate) async fn upload(mut mp: Multipart) -> Result<(Option<(String, Vec<u8>)>, Vec<(String, String)>), isms_kernel::AppError> {
    let mut file = None;
    let mut fields = vec![];
    while let Ok(Some(field)) = mp.next_field().await {
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" {
            let fname = field.file_name().unwrap_or("").to_owned();
            let b =
                field.bytes().await.map_err(|_| isms_kernel::AppError::coded("file", "file-too-large", "the file is too large").into_with_arg("max", "20"))?;
            if !fname.is_empty() || !b.is_empty() {
                file = Some((fname, b.to_vec()));
            }
        } else if let Ok(t) = field.text().await {
            fields.push((name, t));
        }
    }
    Ok((file, fields))
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn import_failure(f: isms_org::people::ImportFailure) -> Result<Vec<ImportError>, isms_kernel::AppError> {
    match f {
        isms_org::people::ImportFailure::Rows(r) => Ok(r),
        isms_org::people::ImportFailure::App(isms_kernel::AppError::Invalid(v)) => Ok(v.into_iter().map(|e| ImportError::from_field(0, e)).collect()),
        isms_org::people::ImportFailure::App(e) => Err(e),
    }
}

pub async fn import(PageCx { state, ctx, headers, who }: PageCx, mp: Multipart) -> PageResult {
    Ok({
        let (file, fields) = upload(mp).await.or_page(&ctx)?;
        let Some((name, bytes)) = file else {
            return Ok(list_page(
                &state,
                &ctx,
                &headers,
                &who,
                FrameworkInput::default(),
                vec![],
                vec![ImportError::from_field(0, isms_core::FieldError::coded("file", "required", "is required"))],
            )
            .await);
        };
        let target = ImportTarget { code: field(&fields, "code").map(str::to_owned), name: field(&fields, "name").map(str::to_owned) };
        let mapping = field(&fields, "what") == Some("mappings");
        let r = if mapping {
            frameworks::import_mappings(&state.app, &who, &name, &bytes).await.map(|_| None)
        } else {
            frameworks::import(&state.app, &who, &name, &bytes, &target).await.map(|o| Some(o.framework_id))
        };
        match r {
            Ok(Some(id)) => redirect_with_flash(&state, &format!("/frameworks/{id}"), "flash-imported", ctx.is_htmx),
            Ok(None) => redirect_with_flash(&state, "/frameworks", "flash-imported", ctx.is_htmx),
            Err(f) => match import_failure(f) {
                Ok(rows) => list_page(&state, &ctx, &headers, &who, FrameworkInput::default(), vec![], rows).await,
                Err(e) => isms_webkit::error::page_error(&ctx, e),
            },
        }
    })
}

#[derive(Template)]
#[template(path = "framework.html")]
struct ShowPage {
    shell: Shell,
    d: FrameworkDetail,
    manage: bool,
    form: FormState,
    v: RequirementInput,
}

impl ShowPage {
    fn indent(&self, depth: &i16) -> String {
        format!("depth-{}", (*depth).min(4))
    }
}

async fn show_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &isms_kernel::Principal,
    id: &str,
    v: RequirementInput,
    errors: Vec<isms_core::FieldError>,
) -> Response {
    let d = isms_webkit::page_try!(ctx, frameworks::get(&state.app, who, id).await);
    let shell = Shell::new(ctx, headers, "framework-title").crumb("/frameworks", "frameworks-title").titled(d.framework.name.clone());
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    render_form(&ShowPage { shell, d, manage: who.access.can(Permission::FrameworksManage), form, v }, invalid)
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let r = show_page(&state, &ctx, &headers, &who, &id, RequirementInput::default(), vec![]).await;
    clear_flash(&state, r, &headers)
}

pub async fn put_requirement(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(v): Form<RequirementInput>,
) -> Response {
    match frameworks::put_requirement(&state.app, &who, &id, v.clone()).await {
        Ok(_) => redirect_with_flash(&state, &format!("/frameworks/{id}"), "flash-saved", ctx.is_htmx),
        Err(e) => show_page(&state, &ctx, &headers, &who, &id, v, isms_webkit::refusals!(&ctx, e)).await,
    }
}

/// The framework's requirements in the import format's columns, so it can be edited and
/// imported again.
fn requirement_rows(d: &FrameworkDetail) -> Vec<Vec<String>> {
    let mut rows = vec![isms_core::compliance::format::REQUIREMENT_COLUMNS.iter().map(|c| c.to_string()).collect::<Vec<_>>()];
    for r in &d.requirements {
        let parent = r.parent_id.as_ref().and_then(|p| d.requirements.iter().find(|q| &q.id == p)).map(|q| q.reference.clone()).unwrap_or_default();
        rows.push(vec![r.reference.clone(), parent, r.title.clone(), r.title_ja.clone(), r.description.clone()]);
    }
    rows
}

pub async fn export_csv(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>) -> Response {
    let d = isms_webkit::page_try!(&ctx, frameworks::get(&state.app, &who, &id).await);
    isms_webkit::download::csv(&format!("{}.csv", d.framework.code), &requirement_rows(&d))
}

pub async fn export_xlsx(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>) -> PageResult {
    Ok({
        let d = frameworks::get(&state.app, &who, &id).await.or_page(&ctx)?;
        isms_webkit::download::xlsx(&format!("{}.xlsx", d.framework.code), "requirements", &requirement_rows(&d)).or_page(&ctx)?
    })
}

#[derive(Template)]
#[template(path = "requirement.html")]
struct RequirementPage {
    shell: Shell,
    d: RequirementDetail,
    manage: bool,
    /// May change the framework itself.
    shape: bool,
}

pub async fn requirement(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> PageResult {
    Ok({
        let d = frameworks::requirement_detail(&state.app, &who, &id).await.or_page(&ctx)?;
        let shell = Shell::new(&ctx, &headers, "requirement-title")
            .crumb("/frameworks", "frameworks-title")
            .crumb_text(&format!("/frameworks/{}", d.framework.id), &d.framework.name)
            .titled(format!("{} {}", d.requirement.reference, d.requirement.title_in(ctx.lang.code())));
        render(&RequirementPage { shell, d, manage: who.access.can(Permission::ComplianceManage), shape: who.access.can(Permission::FrameworksManage) })
    })
}

pub async fn delete_requirement(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>) -> Response {
    let fw = frameworks::requirement_detail(&state.app, &who, &id).await.map(|d| d.framework.id);
    match (fw, frameworks::delete_requirement(&state.app, &who, &id).await) {
        (Ok(f), Ok(())) => redirect_with_flash(&state, &format!("/frameworks/{f}"), "flash-deleted", ctx.is_htmx),
        (_, Err(isms_kernel::AppError::Invalid(errs))) => isms_webkit::shell::refusal(&ctx, &errs),
        (_, Err(e)) | (Err(e), _) => isms_webkit::error::page_error(&ctx, e),
    }
}
