//! Drill campaigns over HTTP for the security office: the list with the form that
//! writes a draft, and one campaign's results by company and department with its
//! recipients a page at a time (names only for who runs it), and launching, pausing,
//! resuming and cancelling it. The sending profiles and the drill mails have pages of
//! their own.

pub mod profiles;
pub mod reports;
pub mod scanners;
pub mod templates;
pub mod trace;

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use axum::response::Response;
use isms_core::drills::{DEFAULT_CAP, Window};
use isms_core::{FieldError, Permission, Role};
use isms_drills::results::{self, RecipientRow, Results, Tally};
use isms_drills::{Campaign, CampaignInput, Profile, campaigns, profiles as profile_uc, templates as template_uc};
use isms_kernel::Principal;
use isms_training::courses::{self, Course};
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::list::ListView;
use isms_webkit::lookup::Lookup;
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render, render_form};
use serde::Deserialize;

/// The campaign form as typed: every field a string, so a refused form shows what was sent.
#[derive(Debug, Clone, Default)]
pub struct CampaignForm {
    pub name: String,
    pub company_id: String,
    pub template_id: String,
    pub profile_id: String,
    pub companies: Vec<String>,
    pub departments: Vec<String>,
    pub roles: Vec<String>,
    pub joined_within_days: String,
    pub first_day: String,
    pub last_day: String,
    pub weekdays: Vec<String>,
    pub window_start: String,
    pub window_end: String,
    pub time_zone: String,
    pub cap: String,
    pub link_base: String,
    pub remedial_course_id: String,
}

impl CampaignForm {
    fn blank(link_base: &str) -> Self {
        let w = Window::default();
        Self {
            weekdays: w.weekdays.iter().map(|d| d.to_string()).collect(),
            window_start: w.start,
            window_end: w.end,
            time_zone: w.time_zone,
            cap: DEFAULT_CAP.to_string(),
            link_base: link_base.trim_end_matches('/').to_owned(),
            ..Self::default()
        }
    }

    fn read(body: &[u8]) -> Self {
        let mut f = Self::default();
        for (k, v) in form_urlencoded::parse(body) {
            let v = v.into_owned();
            match k.as_ref() {
                "name" => f.name = v,
                "company_id" => f.company_id = v,
                "template_id" => f.template_id = v,
                "profile_id" => f.profile_id = v,
                "companies" => f.companies.push(v),
                "departments" => f.departments.push(v),
                "roles" => f.roles.push(v),
                "joined_within_days" => f.joined_within_days = v,
                "first_day" => f.first_day = v,
                "last_day" => f.last_day = v,
                "weekdays" => f.weekdays.push(v),
                "window_start" => f.window_start = v,
                "window_end" => f.window_end = v,
                "time_zone" => f.time_zone = v,
                "cap" => f.cap = v,
                "link_base" => f.link_base = v,
                "remedial_course_id" => f.remedial_course_id = v,
                _ => {}
            }
        }
        f
    }

    /// The use case's input, and what the form itself refused (numbers, roles).
    fn input(&self) -> (CampaignInput, Vec<FieldError>) {
        let mut errors = vec![];
        let population = isms_webkit::lookup::population(&self.companies, &self.departments, &self.roles, &self.joined_within_days, &mut errors);
        let weekdays = self.weekdays.iter().filter_map(|d| d.parse::<i8>().ok()).collect();
        let input = CampaignInput {
            company_id: Some(self.company_id.clone()),
            name: self.name.clone(),
            template_id: self.template_id.clone(),
            profile_id: self.profile_id.clone(),
            population,
            first_day: self.first_day.clone(),
            last_day: self.last_day.clone(),
            window: Window { weekdays, start: self.window_start.clone(), end: self.window_end.clone(), time_zone: self.time_zone.clone() },
            cap: Some(self.cap.clone()),
            link_base: self.link_base.clone(),
            remedial_course_id: Some(self.remedial_course_id.clone()),
        };
        (input, errors)
    }
}

#[derive(Template)]
#[template(path = "drills_campaigns.html")]
struct ListPage {
    shell: Shell,
    items: Vec<Campaign>,
    look: Lookup,
    can_create: bool,
    v: CampaignForm,
    form: FormState,
    templates: Vec<isms_drills::Template>,
    profiles: Vec<Profile>,
    courses: Vec<Course>,
    roles: Vec<&'static str>,
}

impl ListPage {
    fn has_role(&self, r: &str) -> bool {
        self.v.roles.iter().any(|x| x == r)
    }
    fn has_day(&self, d: &u8) -> bool {
        self.v.weekdays.iter().any(|x| x == &d.to_string())
    }
}

/// The weekdays as the form offers them, Monday first.
const DAYS: [u8; 7] = [1, 2, 3, 4, 5, 6, 7];

async fn list_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, v: CampaignForm, errors: Vec<FieldError>) -> Response {
    let app = &state.app;
    let items = isms_webkit::page_try!(ctx, campaigns::list(app, who).await);
    let look = isms_webkit::page_try!(ctx, Lookup::load(state, who, ctx.lang.code()).await);
    let can_create = who.access.can(Permission::DrillsManage);
    let (templates, profiles, courses) = if can_create {
        let t = isms_webkit::page_try!(ctx, template_uc::list(app, who).await);
        let p = isms_webkit::page_try!(ctx, profile_uc::list(app, who).await);
        let c = isms_webkit::page_try!(ctx, courses::list(app, who).await);
        (t.into_iter().filter(|t| !t.retired).collect(), p.into_iter().filter(|p| !p.retired).collect(), c.into_iter().filter(|c| !c.retired).collect())
    } else {
        (vec![], vec![], vec![])
    };
    let shell = Shell::new(ctx, headers, "maildrills-title");
    let form = FormState::new(&shell, errors).labelled(
        &shell,
        &[
            ("name", "drills-campaign-name"),
            ("company_id", "drills-run-by"),
            ("template_id", "drills-template"),
            ("profile_id", "drills-profile"),
            ("companies", "drills-companies"),
            ("departments", "drills-departments"),
            ("roles", "drills-roles"),
            ("joined_within_days", "drills-joined-days"),
            ("first_day", "drills-first-day"),
            ("last_day", "drills-last-day"),
            ("weekdays", "drills-weekdays"),
            ("window_start", "drills-window-start"),
            ("window_end", "drills-window-end"),
            ("time_zone", "drills-time-zone"),
            ("cap", "drills-cap"),
            ("link_base", "drills-link-base"),
            ("remedial_course_id", "drills-remedial"),
        ],
    );
    let invalid = !form.errors.is_empty();
    let roles = Role::ALL.iter().map(|r| r.code()).collect();
    render_form(&ListPage { shell, items, look, can_create, v, form, templates, profiles, courses, roles }, invalid)
}

pub async fn list(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let v = CampaignForm::blank(&state.config.public_url);
    let r = list_page(&state, &ctx, &headers, &who, v, vec![]).await;
    clear_flash(&state, r, &headers)
}

pub async fn create(PageCx { state, ctx, headers, who }: PageCx, body: axum::body::Bytes) -> Response {
    let f = CampaignForm::read(&body);
    let (input, own) = f.input();
    if !own.is_empty() {
        return list_page(&state, &ctx, &headers, &who, f, own).await;
    }
    match campaigns::create(&state.app, &who, input).await {
        Ok(c) => redirect_with_flash(&state, &format!("/drills/campaigns/{}", c.id), "flash-drill-created", ctx.is_htmx),
        Err(e) => {
            let errors = isms_webkit::refusals!(&ctx, e);
            list_page(&state, &ctx, &headers, &who, f, errors).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    pub page: Option<u64>,
}

#[derive(Template)]
#[template(path = "drills_campaign.html")]
struct ShowPage {
    shell: Shell,
    c: Campaign,
    template_name: Option<String>,
    profile_name: Option<String>,
    course: Option<Course>,
    reach: String,
    r: Results,
    rows: Vec<RecipientRow>,
    list: ListView,
    look: Lookup,
    named: bool,
    can_manage: bool,
}

impl ShowPage {
    fn pct(&self, t: &Tally, n: &i64) -> String {
        format!("{} %", t.percent(*n))
    }
}

/// A record the reader may not see (another company's course) shows as absent; any other
/// failure is the page's.
fn visible<T>(r: isms_kernel::Result<T>) -> isms_kernel::Result<Option<T>> {
    match r {
        Ok(t) => Ok(Some(t)),
        Err(isms_kernel::AppError::NotFound | isms_kernel::AppError::Forbidden) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, Query(q): Query<ShowQuery>) -> PageResult {
    let app = &state.app;
    let c = campaigns::get(app, &who, &id).await.or_page(&ctx)?;
    let r = results::results(app, &who, &id).await.or_page(&ctx)?;
    let page = q.page.unwrap_or(1).max(1);
    let rows = results::recipients(app, &who, &id, page - 1).await.or_page(&ctx)?;
    let template_name = visible(template_uc::get(app, &who, &c.template_id).await).or_page(&ctx)?.map(|t| t.name);
    let profile_name = visible(profile_uc::get(app, &who, &c.profile_id).await).or_page(&ctx)?.map(|p| p.name);
    let course = match &c.remedial_course_id {
        Some(k) => visible(courses::get(app, &who, k).await).or_page(&ctx)?,
        None => None,
    };
    let look = Lookup::load(&state, &who, ctx.lang.code()).await.or_page(&ctx)?;
    let shell = Shell::new(&ctx, &headers, "drills-campaign-title").crumb("/drills", "maildrills-title").titled(c.name.clone());
    let reach = look.reach(&shell, &c.population);
    let list = ListView::new(format!("/drills/campaigns/{id}")).paged(q.page, rows.total, 50);
    let named = campaigns::names_visible(&who, &c);
    let can_manage = c.can_manage(&who);
    Ok(clear_flash(
        &state,
        render(&ShowPage { shell, c, template_name, profile_name, course, reach, r, rows: rows.items, list, look, named, can_manage }),
        &headers,
    ))
}

async fn act(cx: PageCx, id: String, what: &str) -> Response {
    let PageCx { state, ctx, headers: _, who } = cx;
    let app = &state.app;
    let done = match what {
        "launch" => campaigns::launch(app, &who, &id).await,
        "pause" => campaigns::pause(app, &who, &id).await,
        "resume" => campaigns::resume(app, &who, &id).await,
        _ => campaigns::cancel(app, &who, &id).await,
    };
    isms_webkit::page_try!(&ctx, done);
    let flash = match what {
        "launch" => "flash-drill-launched",
        "pause" => "flash-drill-paused",
        "resume" => "flash-drill-resumed",
        _ => "flash-drill-cancelled",
    };
    redirect_with_flash(&state, &format!("/drills/campaigns/{id}"), flash, ctx.is_htmx)
}

pub async fn launch(cx: PageCx, Path(id): Path<String>) -> Response {
    act(cx, id, "launch").await
}
pub async fn pause(cx: PageCx, Path(id): Path<String>) -> Response {
    act(cx, id, "pause").await
}
pub async fn resume(cx: PageCx, Path(id): Path<String>) -> Response {
    act(cx, id, "resume").await
}
pub async fn cancel(cx: PageCx, Path(id): Path<String>) -> Response {
    act(cx, id, "cancel").await
}
