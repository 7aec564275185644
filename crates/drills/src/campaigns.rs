//! Drill campaigns: a template sent through a profile to a population (as training's
//! campaigns reach one) between a first and a last day, within business hours in a time
//! zone and never faster than a per-second cap. A campaign is written as a draft;
//! launching it fixes its recipients, each with a token of their own and a planned
//! moment, in one transaction. It can be paused, resumed and cancelled; what was sent
//! stays sent.

use crate::{new_id, new_token, reads, require_manages, require_reads};
use isms_core::drills::{CampaignState, DEFAULT_CAP, MAX_CAP, SendState, Window, plan};
use isms_core::training::Population;
use isms_core::{FieldError, Permission};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::accounts::user;
use isms_store::drills::{campaign, profile, recipient, template};
use isms_store::now_ms;
use isms_store::sea_orm::sea_query::{Expr, ExprTrait as _};
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = DrillCampaign)]
pub struct Campaign {
    pub id: String,
    pub company_id: Option<String>,
    pub name: String,
    pub template_id: String,
    pub profile_id: String,
    pub population: Population,
    pub first_day: String,
    pub last_day: String,
    pub window: Window,
    pub cap: i32,
    pub link_base: String,
    pub state: CampaignState,
    pub remedial_course_id: Option<String>,
    pub recipients: i64,
    pub created_ms: i64,
    pub launched_ms: Option<i64>,
}

impl From<campaign::Model> for Campaign {
    fn from(m: campaign::Model) -> Self {
        Self {
            population: serde_json::from_str(&m.population).unwrap_or_default(),
            window: serde_json::from_str(&m.window).unwrap_or_default(),
            state: CampaignState::parse(&m.state).unwrap_or(CampaignState::Draft),
            id: m.id,
            company_id: m.company_id,
            name: m.name,
            template_id: m.template_id,
            profile_id: m.profile_id,
            first_day: m.first_day,
            last_day: m.last_day,
            cap: m.cap,
            link_base: m.link_base,
            remedial_course_id: m.remedial_course_id,
            recipients: m.recipients,
            created_ms: m.created_ms,
            launched_ms: m.launched_ms,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(as = DrillCampaignInput)]
pub struct CampaignInput {
    /// Empty for a group-wide campaign (which needs the permission group-wide).
    #[serde(default)]
    pub company_id: Option<String>,
    pub name: String,
    pub template_id: String,
    pub profile_id: String,
    #[serde(default)]
    pub population: Population,
    pub first_day: String,
    pub last_day: String,
    #[serde(default)]
    pub window: Window,
    /// Mails per second at most; 5 unless given.
    #[serde(default)]
    pub cap: Option<String>,
    /// Where the links point: this instance's address, or a drill domain that reaches it.
    pub link_base: String,
    /// The course a person who clicks or submits is enrolled in.
    #[serde(default)]
    pub remedial_course_id: Option<String>,
}

impl Campaign {
    pub fn can_manage(&self, who: &Principal) -> bool {
        crate::manages(who, self.company_id.as_deref())
    }
}

struct Valid {
    company_id: Option<String>,
    name: String,
    population: Population,
    first_day: jiff::civil::Date,
    last_day: jiff::civil::Date,
    cap: i32,
    link_base: String,
    remedial_course_id: Option<String>,
}

async fn validate(db: &impl ConnectionTrait, input: &CampaignInput) -> Result<Valid> {
    let mut errors = vec![];
    let name = isms_kernel::input::required(&mut errors, "name", &input.name, 200);
    let company_id = isms_kernel::input::blank_to_none(&input.company_id);
    let first_day = isms_kernel::input::date_opt(&mut errors, "first_day", &Some(input.first_day.clone()));
    let last_day = isms_kernel::input::date_opt(&mut errors, "last_day", &Some(input.last_day.clone()));
    for (f, v, d) in [("first_day", &input.first_day, first_day), ("last_day", &input.last_day, last_day)] {
        if v.trim().is_empty() && d.is_none() {
            errors.push(FieldError::coded(f, "required", "is required"));
        }
    }
    if let Err(e) = input.window.hours() {
        errors.push(e);
    }
    if let Err(e) = input.window.tz() {
        errors.push(e);
    }
    if let (Some(f), Some(l)) = (first_day, last_day) {
        if l < f {
            errors.push(FieldError::coded("last_day", "drill-days-order", "the last day must not be before the first"));
        } else if (l - f).get_days() > 92 {
            errors.push(FieldError::coded("last_day", "drill-days-long", "a campaign runs for at most 92 days"));
        }
    }
    let cap = isms_kernel::input::whole::<i32>(&mut errors, "cap", input.cap.as_deref().unwrap_or("")).unwrap_or(i32::try_from(DEFAULT_CAP).unwrap_or(5));
    if !(1..=i32::try_from(MAX_CAP).unwrap_or(100)).contains(&cap) {
        errors.push(FieldError::coded("cap", "range", "must be between 1 and 100").arg("min", "1").arg("max", MAX_CAP.to_string()));
    }
    let link_base = input.link_base.trim().trim_end_matches('/').to_owned();
    let lower = link_base.to_ascii_lowercase();
    if link_base.is_empty() {
        errors.push(FieldError::coded("link_base", "required", "is required"));
    } else if !(lower.starts_with("https://") || lower.starts_with("http://")) || link_base.contains(char::is_whitespace) || link_base.contains(['?', '#']) {
        errors.push(FieldError::coded("link_base", "drill-link-base", "must be an http(s) address without a query").arg("value", link_base.clone()));
    }
    let mut population = input.population.clone();
    population.companies.retain(|c| !c.trim().is_empty());
    population.departments.retain(|d| !d.trim().is_empty());
    if let Some(c) = &company_id {
        if population.companies.iter().any(|x| x != c) {
            errors.push(FieldError::coded("companies", "campaign-other-company", "a company's campaign reaches only its own people"));
        }
        population.companies = vec![c.clone()];
    }
    match template::Entity::find_by_id(input.template_id.trim().to_owned()).one(db).await? {
        None => errors.push(FieldError::coded("template_id", "drill-no-template", "no such template")),
        Some(t) if t.retired => errors.push(FieldError::coded("template_id", "drill-no-template", "no such template")),
        Some(t) if t.company_id.is_some() && t.company_id != company_id => {
            errors.push(FieldError::coded("template_id", "drill-other-company", "belongs to another company"))
        }
        Some(_) => {}
    }
    match profile::Entity::find_by_id(input.profile_id.trim().to_owned()).one(db).await? {
        None => errors.push(FieldError::coded("profile_id", "drill-no-profile", "no such sending profile")),
        Some(p) if p.retired => errors.push(FieldError::coded("profile_id", "drill-no-profile", "no such sending profile")),
        Some(p) if p.company_id.is_some() && p.company_id != company_id => {
            errors.push(FieldError::coded("profile_id", "drill-other-company", "belongs to another company"))
        }
        Some(_) => {}
    }
    let remedial_course_id = isms_kernel::input::blank_to_none(&input.remedial_course_id);
    if let Some(c) = &remedial_course_id {
        match isms_store::training::course::Entity::find_by_id(c.clone()).one(db).await? {
            None => errors.push(FieldError::coded("remedial_course_id", "no-course", "no such course")),
            Some(k) if k.retired => errors.push(FieldError::coded("remedial_course_id", "course-retired", "the course is retired")),
            Some(k) if k.company_id.is_some() && k.company_id != company_id => {
                errors.push(FieldError::coded("remedial_course_id", "course-other-company", "the course belongs to another company"))
            }
            Some(_) => {}
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let (Some(first_day), Some(last_day)) = (first_day, last_day) else { return Err(AppError::Invalid(errors)) };
    Ok(Valid { company_id, name, population, first_day, last_day, cap, link_base, remedial_course_id })
}

/// The campaigns `who` reads, newest first.
pub async fn list(app: &App, who: &Principal) -> Result<Vec<Campaign>> {
    let within = who.within(Permission::DrillsRead)?;
    let mut q = campaign::Entity::find().order_by_desc(campaign::Column::CreatedMs);
    // A group-wide campaign reaches every company, so every reader sees it (its results
    // show their companies' recipients only).
    if let Some(c) = within {
        q = q.filter(campaign::Column::CompanyId.is_in(c).or(campaign::Column::CompanyId.is_null()));
    }
    Ok(q.all(app.store.conn()).await?.into_iter().map(Campaign::from).collect())
}

pub async fn get(app: &App, who: &Principal, id: &str) -> Result<Campaign> {
    let m = campaign::Entity::find_by_id(id.to_owned()).one(app.store.conn()).await?.ok_or(AppError::NotFound)?;
    require_reads(who, m.company_id.as_deref())?;
    Ok(m.into())
}

/// Writes a draft: nothing is sent and nobody is chosen until it is launched.
pub async fn create(app: &App, who: &Principal, input: CampaignInput) -> Result<Campaign> {
    require_manages(who, isms_kernel::input::blank_to_none(&input.company_id).as_deref())?;
    let txn = app.store.write().await?;
    let v = validate(&txn, &input).await?;
    let now = now_ms();
    let id = new_id();
    let m = campaign::ActiveModel {
        id: Set(id.clone()),
        company_id: Set(v.company_id.clone()),
        name: Set(v.name.clone()),
        template_id: Set(input.template_id.trim().to_owned()),
        profile_id: Set(input.profile_id.trim().to_owned()),
        population: Set(serde_json::to_string(&v.population).map_err(AppError::internal)?),
        first_day: Set(v.first_day.to_string()),
        last_day: Set(v.last_day.to_string()),
        window: Set(serde_json::to_string(&input.window).map_err(AppError::internal)?),
        cap: Set(v.cap),
        link_base: Set(v.link_base.clone()),
        state: Set(CampaignState::Draft.code().into()),
        remedial_course_id: Set(v.remedial_course_id.clone()),
        recipients: Set(0),
        created_by: Set(who.user_id.clone()),
        created_ms: Set(now),
        launched_ms: Set(None),
        updated_ms: Set(now),
        lease_owner: Set(None),
        lease_until_ms: Set(0),
    }
    .insert(&txn)
    .await?;
    record(
        app,
        &txn,
        who,
        "drills.campaign.create",
        "drill_campaign",
        Some(&id),
        v.company_id.as_deref(),
        json!({"name": v.name, "template_id": input.template_id, "profile_id": input.profile_id, "population": v.population, "first_day": v.first_day.to_string(), "last_day": v.last_day.to_string(), "cap": v.cap}),
    )
    .await?;
    txn.commit().await?;
    Ok(m.into())
}

/// Moves a campaign from one of `from` to `to`, or refuses with the catalog's words when
/// someone else moved it first.
async fn transition(db: &impl ConnectionTrait, id: &str, from: &[CampaignState], to: CampaignState) -> Result<()> {
    let r = campaign::Entity::update_many()
        .col_expr(campaign::Column::State, Expr::value(to.code()))
        .col_expr(campaign::Column::UpdatedMs, Expr::value(now_ms()))
        .filter(campaign::Column::Id.eq(id.to_owned()))
        .filter(campaign::Column::State.is_in(from.iter().map(|s| s.code())))
        .exec(db)
        .await?;
    if r.rows_affected == 1 { Ok(()) } else { Err(AppError::conflict("drill-campaign-state", "the campaign is not in a state that allows this")) }
}

async fn managed(app: &App, db: &impl ConnectionTrait, who: &Principal, id: &str) -> Result<campaign::Model> {
    let m = campaign::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    require_reads(who, m.company_id.as_deref())?;
    require_manages(who, m.company_id.as_deref())?;
    let _ = app;
    Ok(m)
}

/// Chooses the recipients (active people of the population with an address, today),
/// gives each a token and a moment within the window, and schedules the campaign, all
/// in one transaction: a launch either happens whole or not at all, and twice at once
/// happens once.
pub async fn launch(app: &App, who: &Principal, id: &str) -> Result<Campaign> {
    let txn = app.store.write().await?;
    let m = managed(app, &txn, who, id).await?;
    transition(&txn, id, &[CampaignState::Draft], CampaignState::Scheduled).await?;
    let population: Population = serde_json::from_str(&m.population).map_err(AppError::internal)?;
    let window: Window = serde_json::from_str(&m.window).map_err(AppError::internal)?;
    let today = isms_core::calendar::today();
    let first: jiff::civil::Date = m.first_day.parse().map_err(AppError::internal)?;
    let last: jiff::civil::Date = m.last_day.parse().map_err(AppError::internal)?;
    if last < today {
        return Err(AppError::conflict("drill-campaign-past", "the campaign's last day has passed"));
    }
    let mut people: Vec<_> =
        isms_training::campaigns::resolve(&txn, &population, today).await?.into_iter().filter(|p| crate::profiles::is_address(&p.email)).collect();
    if people.is_empty() {
        return Err(AppError::conflict("drill-campaign-nobody", "the population reaches nobody with an e-mail address"));
    }
    let locale: HashMap<String, String> = user::Entity::find()
        .filter(user::Column::PersonId.is_not_null())
        .all(&txn)
        .await?
        .into_iter()
        .filter_map(|u| Some((u.person_id?, u.locale.unwrap_or_default())))
        .collect();
    // Sent in a random order, so one department does not get its mail all at once and warn
    // the next: the order of the tokens is as good as a shuffle.
    let mut rows: Vec<(String, isms_store::org::person::Model)> = people.drain(..).map(|p| (new_token(), p)).collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let start = first.max(today);
    let mut moments = plan(rows.len(), start, last, &window).map_err(AppError::from)?;
    // Whatever of today's window has passed goes now, never in the past.
    let now = now_ms();
    for t in &mut moments {
        if t.as_millisecond() < now {
            *t = jiff::Timestamp::from_millisecond(now).unwrap_or(*t);
        }
    }
    let domain = m.link_base.split("://").nth(1).and_then(|h| h.split(['/', ':']).next()).unwrap_or("drill.invalid").to_owned();
    let n = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let batch: Vec<recipient::ActiveModel> = rows
        .into_iter()
        .zip(moments)
        .map(|((token, p), at)| {
            let lang = match locale.get(&p.id).map(String::as_str) {
                Some("en") => "en",
                _ => "ja",
            };
            recipient::ActiveModel {
                id: Set(new_id()),
                campaign_id: Set(id.to_owned()),
                person_id: Set(p.id.clone()),
                company_id: Set(p.company_id.clone()),
                department_id: Set(p.department_id.clone()),
                email: Set(p.email.clone()),
                lang: Set(lang.into()),
                message_id: Set(format!("{token}@{domain}")),
                token: Set(token),
                planned_ms: Set(at.as_millisecond()),
                state: Set(SendState::Planned.code().into()),
                attempts: Set(0),
                next_ms: Set(at.as_millisecond()),
                lease_until_ms: Set(0),
                sent_ms: Set(None),
                error: Set(String::new()),
                opened_ms: Set(None),
                clicked_ms: Set(None),
                submitted_ms: Set(None),
                attachment_ms: Set(None),
                replied_ms: Set(None),
                reported_ms: Set(None),
                machine_hits: Set(0),
                remedial: Set(false),
            }
        })
        .collect();
    for chunk in batch.chunks(500) {
        recipient::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    campaign::Entity::update_many()
        .col_expr(campaign::Column::Recipients, Expr::value(n))
        .col_expr(campaign::Column::LaunchedMs, Expr::value(now))
        .filter(campaign::Column::Id.eq(id.to_owned()))
        .exec(&txn)
        .await?;
    crate::remedial::open(&txn, &m, start, last).await?;
    record(app, &txn, who, "drills.campaign.launch", "drill_campaign", Some(id), m.company_id.as_deref(), json!({"recipients": n})).await?;
    let saved = campaign::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(saved.into())
}

/// Holds what is not sent yet; a mail being handed to the relay at this moment still goes.
pub async fn pause(app: &App, who: &Principal, id: &str) -> Result<Campaign> {
    change(app, who, id, &[CampaignState::Scheduled], CampaignState::Paused, "drills.campaign.pause").await
}

pub async fn resume(app: &App, who: &Principal, id: &str) -> Result<Campaign> {
    change(app, who, id, &[CampaignState::Paused], CampaignState::Scheduled, "drills.campaign.resume").await
}

/// Sends nothing more: every planned mail is cancelled. What was sent is still tracked.
pub async fn cancel(app: &App, who: &Principal, id: &str) -> Result<Campaign> {
    change(app, who, id, &[CampaignState::Draft, CampaignState::Scheduled, CampaignState::Paused], CampaignState::Cancelled, "drills.campaign.cancel").await
}

async fn change(app: &App, who: &Principal, id: &str, from: &[CampaignState], to: CampaignState, action: &str) -> Result<Campaign> {
    let txn = app.store.write().await?;
    let m = managed(app, &txn, who, id).await?;
    transition(&txn, id, from, to).await?;
    let mut cancelled = 0;
    if to == CampaignState::Cancelled {
        cancelled = recipient::Entity::update_many()
            .col_expr(recipient::Column::State, Expr::value(SendState::Cancelled.code()))
            .filter(recipient::Column::CampaignId.eq(id.to_owned()))
            .filter(recipient::Column::State.eq(SendState::Planned.code()))
            .exec(&txn)
            .await?
            .rows_affected;
    }
    record(app, &txn, who, action, "drill_campaign", Some(id), m.company_id.as_deref(), json!({"cancelled": cancelled})).await?;
    let saved = campaign::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(saved.into())
}

/// Whether `who` may see this campaign's recipients by name.
pub fn names_visible(who: &Principal, c: &Campaign) -> bool {
    reads(who, c.company_id.as_deref()) && c.can_manage(who)
}
