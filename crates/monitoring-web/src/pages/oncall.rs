//! On-call pages: the rotations with who is on call now, a new rotation, and one rotation
//! with its next shifts, covers, the latest pages and its settings.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use isms_core::monitoring::Severity;
use isms_core::{FieldError, Permission};
use isms_kernel::Principal;
use isms_monitoring::alerts;
use isms_monitoring::oncall::{self, CoverInput, Rotation, RotationDetail, RotationInput};
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who};
use isms_webkit::lookup::Lookup;
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render_form};

/// The rotation form as posted: members arrive as `member` fields in turn order (a
/// repeated name, hence read as pairs), numbers as text.
#[derive(Debug, Clone, Default)]
pub struct RotaForm {
    name: String,
    company_id: String,
    min_severity: String,
    ack_minutes: String,
    shift_hours: String,
    starts: String,
    lead_user_id: String,
    members: Vec<String>,
    enabled: bool,
}

fn number(field: &str, text: &str) -> Result<i64, FieldError> {
    let t = text.trim();
    t.parse::<i64>().map_err(|_| FieldError::coded(field, "number", format!("`{t}` is not a whole number")).arg("value", t))
}

/// A moment shown for editing, in Japan time like the form reads it.
fn local(ms: i64) -> String {
    isms_core::calendar::zoned_at(ms).map(|z| z.strftime("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
}

impl RotaForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut f = RotaForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "name" => f.name = v,
                "company_id" => f.company_id = v,
                "min_severity" => f.min_severity = v,
                "ack_minutes" => f.ack_minutes = v,
                "shift_hours" => f.shift_hours = v,
                "starts" => f.starts = v,
                "lead_user_id" => f.lead_user_id = v,
                "member" if !v.trim().is_empty() => f.members.push(v),
                "enabled" => f.enabled = true,
                _ => {}
            }
        }
        f
    }

    fn input(&self) -> Result<RotationInput, FieldError> {
        Ok(RotationInput {
            name: self.name.clone(),
            company_id: Some(self.company_id.clone()),
            min_severity: self.min_severity.clone(),
            ack_minutes: number("ack_minutes", &self.ack_minutes)?,
            shift_hours: number("shift_hours", &self.shift_hours)?,
            starts: self.starts.clone(),
            members: self.members.clone(),
            lead_user_id: Some(self.lead_user_id.clone()),
            enabled: self.enabled,
        })
    }

    fn new_rotation() -> Self {
        let monday = isms_core::calendar::today();
        let back = monday.weekday().to_monday_zero_offset() as i64;
        let monday = monday.checked_sub(jiff::Span::new().days(back)).unwrap_or(monday);
        RotaForm {
            min_severity: "high".into(),
            ack_minutes: "15".into(),
            shift_hours: "168".into(),
            starts: format!("{monday}T09:00"),
            enabled: true,
            ..Default::default()
        }
    }

    fn from_rotation(r: &Rotation) -> Self {
        RotaForm {
            name: r.name.clone(),
            company_id: r.company_id.clone().unwrap_or_default(),
            min_severity: r.min_severity.code().into(),
            ack_minutes: r.ack_minutes.to_string(),
            shift_hours: r.shift_hours.to_string(),
            starts: local(r.anchor_ms),
            lead_user_id: r.lead.as_ref().map(|l| l.user_id.clone()).unwrap_or_default(),
            members: r.members.iter().map(|m| m.user_id.clone()).collect(),
            enabled: r.enabled,
        }
    }

    /// The member selects: the members in order and three empty places to add more.
    fn slots(&self) -> Vec<String> {
        let mut s = self.members.clone();
        s.extend(std::iter::repeat_n(String::new(), 3));
        s
    }
}

/// Everyone who may triage alerts of some company the reader manages: the choices for
/// members, leads and covers (the use case checks each against the rotation's company).
async fn people(state: &WebState, look: &Lookup) -> isms_kernel::Result<Vec<(String, String)>> {
    let mut all = alerts::assignable(&state.app, None).await?;
    for c in &look.companies {
        for p in alerts::assignable(&state.app, Some(&c.id)).await? {
            if !all.iter().any(|(id, _)| *id == p.0) {
                all.push(p);
            }
        }
    }
    all.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(all)
}

fn severities() -> Vec<&'static str> {
    Severity::ALL.iter().map(|s| s.code()).collect()
}

#[derive(Template)]
#[template(path = "monitoring_rotations.html")]
struct RotationsPage {
    shell: Shell,
    rows: Vec<Rotation>,
    look: Lookup,
    people: Vec<(String, String)>,
    severities: Vec<&'static str>,
    form: FormState,
    v: RotaForm,
    can_manage: bool,
}

async fn rotations_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, v: RotaForm, errors: Vec<FieldError>) -> Response {
    let rows = isms_webkit::page_try!(ctx, oncall::list(&state.app, who).await);
    let look = isms_webkit::page_try!(ctx, Lookup::load(state, who, ctx.lang.code()).await);
    let can_manage = who.access.can(Permission::MonitoringManage);
    let people = if can_manage { isms_webkit::page_try!(ctx, people(state, &look).await) } else { vec![] };
    let shell = Shell::new(ctx, headers, "oncall-title").crumb("/monitoring", "monitoring-title");
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    render_form(&RotationsPage { shell, rows, look, people, severities: severities(), form, v, can_manage }, invalid)
}

pub async fn rotations(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let r = rotations_page(&state, &ctx, &headers, &who, RotaForm::new_rotation(), vec![]).await;
    clear_flash(&state, r, &headers)
}

pub async fn create(PageCx { state, ctx, headers, who }: PageCx, Form(pairs): Form<Vec<(String, String)>>) -> Response {
    let v = RotaForm::from_pairs(pairs);
    let r = match v.input() {
        Ok(input) => oncall::create(&state.app, &who, input).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(r) => redirect_with_flash(&state, &format!("/monitoring/oncall/{}", r.id), "flash-saved", ctx.is_htmx),
        Err(e) => rotations_page(&state, &ctx, &headers, &who, v, isms_webkit::refusals!(&ctx, e)).await,
    }
}

/// The cover form as posted.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct CoverForm {
    user_id: String,
    from: String,
    until: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "monitoring_rotation.html")]
struct RotationPage {
    shell: Shell,
    d: RotationDetail,
    look: Lookup,
    people: Vec<(String, String)>,
    severities: Vec<&'static str>,
    form: FormState,
    v: RotaForm,
    cv: CoverForm,
    can_manage: bool,
}

#[allow(clippy::too_many_arguments)]
async fn rotation_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    id: &str,
    v: Option<RotaForm>,
    cv: Option<CoverForm>,
    errors: Vec<FieldError>,
) -> Response {
    let d = isms_webkit::page_try!(ctx, oncall::get(&state.app, who, id).await);
    let look = isms_webkit::page_try!(ctx, Lookup::load(state, who, ctx.lang.code()).await);
    let can_manage = who.access.can_for(Permission::MonitoringManage, d.rotation.company_id.as_deref().and_then(|c| c.parse().ok()));
    let people = if can_manage { isms_webkit::page_try!(ctx, people(state, &look).await) } else { vec![] };
    let shell = Shell::new(ctx, headers, "rotation-title")
        .crumb("/monitoring", "monitoring-title")
        .crumb("/monitoring/oncall", "oncall-title")
        .titled(d.rotation.name.clone());
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    let v = v.unwrap_or_else(|| RotaForm::from_rotation(&d.rotation));
    let cv = cv.unwrap_or_else(|| {
        let from = d.upcoming.get(1).map(|s| local(s.from_ms)).unwrap_or_default();
        let until = d.upcoming.get(1).map(|s| local(s.until_ms)).unwrap_or_default();
        CoverForm { from, until, ..Default::default() }
    });
    render_form(&RotationPage { shell, d, look, people, severities: severities(), form, v, cv, can_manage }, invalid)
}

pub async fn rotation(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let r = rotation_page(&state, &ctx, &headers, &who, &id, None, None, vec![]).await;
    clear_flash(&state, r, &headers)
}

pub async fn update(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let v = RotaForm::from_pairs(pairs);
    let r = match v.input() {
        Ok(input) => oncall::update(&state.app, &who, &id, input).await.map(|_| ()),
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(()) => redirect_with_flash(&state, &format!("/monitoring/oncall/{id}"), "flash-saved", ctx.is_htmx),
        Err(e) => rotation_page(&state, &ctx, &headers, &who, &id, Some(v), None, isms_webkit::refusals!(&ctx, e)).await,
    }
}

pub async fn delete(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>) -> Response {
    isms_webkit::page_try!(&ctx, oncall::delete(&state.app, &who, &id).await);
    redirect_with_flash(&state, "/monitoring/oncall", "flash-deleted", ctx.is_htmx)
}

pub async fn add_cover(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(cv): Form<CoverForm>,
) -> Response {
    let input = CoverInput { user_id: cv.user_id.clone(), from: cv.from.clone(), until: cv.until.clone(), reason: cv.reason.clone() };
    match oncall::add_cover(&state.app, &who, &id, input).await {
        Ok(_) => redirect_with_flash(&state, &format!("/monitoring/oncall/{id}"), "flash-saved", ctx.is_htmx),
        Err(e) => rotation_page(&state, &ctx, &headers, &who, &id, None, Some(cv), isms_webkit::refusals!(&ctx, e)).await,
    }
}

pub async fn remove_cover(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path((id, cover)): Path<(String, String)>) -> Response {
    isms_webkit::page_try!(&ctx, oncall::remove_cover(&state.app, &who, &cover).await);
    redirect_with_flash(&state, &format!("/monitoring/oncall/{id}"), "flash-deleted", ctx.is_htmx)
}
