//! Training campaigns: the list with the form that starts one, and a campaign's progress
//! by company and department with its export.

use askama::Template;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use isms_core::{FieldError, Permission, Role};
use isms_kernel::Principal;
use isms_training::campaigns::{self, Campaign, CampaignInput, CampaignProgress};
use isms_training::courses::{self, Course};
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::lookup::Lookup;
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render, render_form};

/// The campaign form as typed.
#[derive(Debug, Clone, Default)]
pub struct CampaignForm {
    pub title: String,
    pub course_id: String,
    pub company_id: String,
    pub companies: Vec<String>,
    pub departments: Vec<String>,
    pub roles: Vec<String>,
    pub joined_within_days: String,
    pub starts_on: String,
    pub due_on: String,
    pub grace_days: String,
}

impl CampaignForm {
    fn read(body: &[u8]) -> Self {
        let mut f = Self::default();
        for (k, v) in form_urlencoded::parse(body) {
            let v = v.into_owned();
            match k.as_ref() {
                "title" => f.title = v,
                "course_id" => f.course_id = v,
                "company_id" => f.company_id = v,
                "companies" => f.companies.push(v),
                "departments" => f.departments.push(v),
                "roles" => f.roles.push(v),
                "joined_within_days" => f.joined_within_days = v,
                "starts_on" => f.starts_on = v,
                "due_on" => f.due_on = v,
                "grace_days" => f.grace_days = v,
                _ => {}
            }
        }
        f
    }

    fn input(&self) -> (CampaignInput, Vec<FieldError>) {
        let mut errors = vec![];
        let population = isms_webkit::lookup::population(&self.companies, &self.departments, &self.roles, &self.joined_within_days, &mut errors);
        let grace_days = isms_kernel::input::whole(&mut errors, "grace_days", &self.grace_days);
        let input = CampaignInput {
            title: self.title.clone(),
            course_id: self.course_id.clone(),
            company_id: Some(self.company_id.clone()),
            population,
            starts_on: Some(self.starts_on.clone()),
            due_on: self.due_on.clone(),
            grace_days,
        };
        (input, errors)
    }
}

#[derive(Template)]
#[template(path = "training_campaigns.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Campaign>,
    courses: Vec<Course>,
    look: Lookup,
    can_create: bool,
    v: CampaignForm,
    form: FormState,
    roles: Vec<&'static str>,
}

impl ListPage {
    fn course_title(&self, id: &str) -> String {
        self.courses.iter().find(|c| c.id == id).map(|c| c.title_in(self.shell.lang())).unwrap_or_default()
    }
    fn has_role(&self, r: &str) -> bool {
        self.v.roles.iter().any(|x| x == r)
    }
    fn reach(&self, c: &Campaign) -> String {
        self.look.reach(&self.shell, &c.population)
    }
}

async fn list_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, v: CampaignForm, errors: Vec<FieldError>) -> Response {
    let rows = isms_webkit::page_try!(ctx, campaigns::list(&state.app, who).await);
    let courses = isms_webkit::page_try!(ctx, courses::list(&state.app, who).await);
    let look = isms_webkit::page_try!(ctx, Lookup::load(state, who, ctx.lang.code()).await);
    let shell = Shell::new(ctx, headers, "training-campaigns-title").crumb("/training", "training-title");
    let form = FormState::new(&shell, errors).labelled(
        &shell,
        &[
            ("course_id", "training-course"),
            ("companies", "training-companies"),
            ("departments", "training-departments"),
            ("roles", "training-roles"),
            ("joined_within_days", "training-joined-days"),
            ("starts_on", "training-starts-on"),
            ("due_on", "training-due-on"),
            ("grace_days", "training-grace-days"),
        ],
    );
    let invalid = !form.errors.is_empty();
    let roles = Role::ALL.iter().map(|r| r.code()).collect();
    let can_create = who.access.can(Permission::TrainingManage);
    render_form(&ListPage { shell, rows, courses, look, can_create, v, form, roles }, invalid)
}

pub async fn list(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let v = CampaignForm { grace_days: "14".into(), ..Default::default() };
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
        Ok((c, _)) => redirect_with_flash(&state, &format!("/training/campaigns/{}", c.id), "flash-campaign-started", ctx.is_htmx),
        Err(e) => {
            let errors = isms_webkit::refusals!(&ctx, e);
            list_page(&state, &ctx, &headers, &who, f, errors).await
        }
    }
}

#[derive(Template)]
#[template(path = "training_campaign.html")]
struct ShowPage {
    shell: Shell,
    c: Campaign,
    course: Option<Course>,
    rows: Vec<CampaignProgress>,
    total: CampaignProgress,
    look: Lookup,
    reach: String,
    can_manage: bool,
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> PageResult {
    Ok({
        let c = campaigns::get(&state.app, &who, &id).await.or_page(&ctx)?;
        let rows = campaigns::progress(&state.app, &who, &id).await.or_page(&ctx)?;
        // A reader who may see the campaign but not every course's owner still sees its title.
        let course = match courses::get(&state.app, &who, &c.course_id).await {
            Ok(course) => Some(course),
            Err(isms_kernel::AppError::NotFound) => None,
            Err(e) => return Err(e).or_page(&ctx),
        };
        let look = Lookup::load(&state, &who, ctx.lang.code()).await.or_page(&ctx)?;
        let shell = Shell::new(&ctx, &headers, "training-campaigns-title").crumb("/training/campaigns", "training-campaigns-title").titled(c.title.clone());
        let total = CampaignProgress {
            company_id: String::new(),
            department_id: None,
            assigned: rows.iter().map(|r| r.assigned).sum(),
            completed: rows.iter().map(|r| r.completed).sum(),
            overdue: rows.iter().map(|r| r.overdue).sum(),
        };
        let reach = look.reach(&shell, &c.population);
        let can_manage = campaigns::can_manage(&who, &c);
        clear_flash(&state, render(&ShowPage { shell, c, course, rows, total, look, reach, can_manage }), &headers)
    })
}

/// Every assignment of the campaign within the reader's companies, as CSV.
pub async fn export(PageCx { state, ctx, headers: _, who }: PageCx, Path(id): Path<String>) -> Response {
    let rows = isms_webkit::page_try!(&ctx, campaigns::rows(&state.app, &who, &id).await);
    let look = isms_webkit::page_try!(&ctx, Lookup::load(&state, &who, ctx.lang.code()).await);
    let t = |k: &str| ctx.i18n.get(ctx.lang, k);
    let mut out = vec![vec![
        t("field-employee-number"),
        t("field-person-name"),
        t("col-company"),
        t("field-department-id"),
        t("col-status"),
        t("training-due-on"),
        t("training-completed-on"),
    ]];
    for r in rows {
        let state_code = crate::pages::shown_state(&r.status, &r.overdue).to_owned();
        out.push(vec![
            r.employee_number,
            r.name,
            look.company(&r.company_id),
            look.department(&r.department_id),
            t(&format!("assignment-{state_code}")),
            r.due_on,
            r.completed_ms.and_then(isms_core::calendar::date_at).map(|d| d.to_string()).unwrap_or_default(),
        ]);
    }
    isms_webkit::download::csv("training-progress.csv", &out)
}

pub async fn close(PageCx { state, ctx, headers: _, who }: PageCx, Path(id): Path<String>) -> Response {
    let c = isms_webkit::page_try!(&ctx, campaigns::close(&state.app, &who, &id).await);
    redirect_with_flash(&state, &format!("/training/campaigns/{}", c.id), "flash-saved", ctx.is_htmx)
}
