//! From a fall to a course: a campaign with a remedial course has a follow-up training
//! campaign of its own (the same id, status `follow-up`, so training's enrolment job never
//! enrols its population), and whoever a person's click, submission, attachment opening
//! or reply shows to have fallen for the drill is assigned that course once, due two weeks
//! later. The assignment then lives in training: the person's home page, the reminders,
//! the certificate, the progress per company.

use isms_core::training::AssignmentStatus;
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::drills::{campaign, recipient};
use isms_store::now_ms;
use isms_store::sea_orm::sea_query::{Expr, OnConflict};
use isms_store::sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use isms_store::training::{assignment, campaign as training_campaign};
use jiff::ToSpan as _;
use serde_json::json;

/// How long a person has for the remedial course after falling for the drill.
pub const DUE_DAYS: i32 = 14;

/// The status of a follow-up campaign in training: it takes people one by one.
pub const FOLLOW_UP: &str = "follow-up";

/// Opens the follow-up training campaign of `c` when it names a remedial course.
pub(crate) async fn open(db: &impl ConnectionTrait, c: &campaign::Model, first: jiff::civil::Date, last: jiff::civil::Date) -> Result<()> {
    let Some(course) = &c.remedial_course_id else { return Ok(()) };
    let now = now_ms();
    let due = last.checked_add(i64::from(DUE_DAYS).days()).unwrap_or(last);
    training_campaign::Entity::insert(training_campaign::ActiveModel {
        id: Set(c.id.clone()),
        title: Set(c.name.clone()),
        course_id: Set(course.clone()),
        company_id: Set(c.company_id.clone()),
        population: Set(c.population.clone()),
        starts_on: Set(first.to_string()),
        due_on: Set(due.to_string()),
        grace_days: Set(DUE_DAYS),
        status: Set(FOLLOW_UP.into()),
        created_by: Set(c.created_by.clone()),
        created_ms: Set(now),
        updated_ms: Set(now),
    })
    .on_conflict(OnConflict::column(training_campaign::Column::Id).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The first moment `r` showed a person's fall: a click, a submission, an opened
/// attachment or a reply.
pub fn fell(r: &recipient::Model) -> Option<i64> {
    [r.clicked_ms, r.submitted_ms, r.attachment_ms, r.replied_ms].into_iter().flatten().min()
}

/// Assigns the remedial course to the recipient `id` when they fell and have not been
/// assigned it yet; the unique (campaign, person) index and the flag let them in once
/// even when two signals are judged at the same moment.
pub(crate) async fn enrol(app: &App, db: &impl ConnectionTrait, id: &str) -> Result<bool> {
    let Some(r) = recipient::Entity::find_by_id(id.to_owned()).one(db).await? else { return Ok(false) };
    let Some(at) = fell(&r) else { return Ok(false) };
    if r.remedial {
        return Ok(false);
    }
    let Some(c) = campaign::Entity::find_by_id(r.campaign_id.clone()).one(db).await? else { return Ok(false) };
    let Some(course) = c.remedial_course_id.clone() else { return Ok(false) };
    // Training's office may close the follow-up: nobody is added to it after that.
    match training_campaign::Entity::find_by_id(c.id.clone()).one(db).await? {
        Some(t) if t.status == FOLLOW_UP => {}
        _ => return Ok(false),
    }
    // The day it happened where the recipients work: the campaign's window's zone.
    let tz = serde_json::from_str::<isms_core::drills::Window>(&c.window).ok().and_then(|w| w.tz().ok()).unwrap_or(jiff::tz::TimeZone::UTC);
    let day = jiff::Timestamp::from_millisecond(at).map_err(AppError::internal)?.to_zoned_datetime(tz).date();
    let due = day.checked_add(i64::from(DUE_DAYS).days()).unwrap_or(day);
    let added = assignment::Entity::insert(assignment::ActiveModel {
        id: Set(crate::new_id()),
        campaign_id: Set(c.id.clone()),
        course_id: Set(course.clone()),
        person_id: Set(r.person_id.clone()),
        company_id: Set(r.company_id.clone()),
        department_id: Set(r.department_id.clone()),
        due_on: Set(due.to_string()),
        status: Set(AssignmentStatus::Assigned.code().into()),
        assigned_ms: Set(now_ms()),
        completed_ms: Set(None),
        completion_id: Set(None),
    })
    .on_conflict(OnConflict::columns([assignment::Column::CampaignId, assignment::Column::PersonId]).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    recipient::Entity::update_many().col_expr(recipient::Column::Remedial, Expr::value(true)).filter(recipient::Column::Id.eq(r.id.clone())).exec(db).await?;
    if added > 0 {
        record(
            app,
            db,
            &Principal::system(),
            "drills.remedial.assign",
            "drill_recipient",
            Some(&r.id),
            Some(&r.company_id),
            json!({"campaign_id": c.id, "course_id": course, "person_id": r.person_id, "due_on": due.to_string()}),
        )
        .await?;
    }
    Ok(added > 0)
}
