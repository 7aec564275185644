//! Releasing information: a draft generated from the case (announcement, customer notice,
//! regulator report; Japanese or English), edited by those who run the case, approved by
//! the CISO (not the person who last edited it), and recorded with its release time. An
//! approved text no longer changes.

use super::cases::load;
use super::runs;
use isms_core::Role;
use isms_core::incidents::releases::{DraftFacts, ReleaseKind, draft};
use isms_core::policies::DocLang;
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::incidents::release;
use isms_store::now_ms;
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Release {
    pub id: String,
    pub kind: ReleaseKind,
    pub language: DocLang,
    pub body: String,
    /// draft, approved or released
    pub status: String,
    pub drafted_by: Option<String>,
    pub approved_by: Option<String>,
    pub approved_ms: Option<i64>,
    pub released_ms: Option<i64>,
    pub updated_ms: i64,
}

fn view(m: release::Model) -> Result<Release> {
    let bad = |e: isms_core::FieldError| AppError::internal(e.to_string());
    Ok(Release {
        kind: ReleaseKind::parse(&m.kind).map_err(bad)?,
        language: DocLang::parse(&m.language).map_err(bad)?,
        id: m.id,
        body: m.body,
        status: m.status,
        drafted_by: m.drafted_by,
        approved_by: m.approved_by,
        approved_ms: m.approved_ms,
        released_ms: m.released_ms,
        updated_ms: m.updated_ms,
    })
}

pub async fn of(db: &impl ConnectionTrait, incident_id: &str) -> Result<Vec<Release>> {
    release::Entity::find()
        .filter(release::Column::IncidentId.eq(incident_id))
        .order_by_asc(release::Column::Kind)
        .order_by_asc(release::Column::Language)
        .all(db)
        .await?
        .into_iter()
        .map(view)
        .collect()
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct DraftInput {
    /// announcement, customer_notice or regulator_report
    pub kind: String,
    /// ja or en
    pub language: String,
    /// The contact point to print (the customer desk).
    #[serde(default)]
    pub contact: String,
}

/// Writes a first draft from the case; an existing draft of the same kind and language is rewritten.
pub async fn generate(app: &App, who: &Principal, incident_id: &str, input: DraftInput) -> Result<Release> {
    let mut errors = vec![];
    let kind = ReleaseKind::parse(&input.kind).map_err(|e| errors.push(e)).ok();
    let lang = DocLang::parse_as("language", &input.language).map_err(|e| errors.push(e)).ok();
    let (Some(kind), Some(lang)) = (kind, lang) else { return Err(AppError::Invalid(errors)) };
    let txn = app.store.write().await?;
    let i = load(&txn, who, incident_id).await?;
    if !runs(&txn, who, &i).await? {
        return Err(AppError::Forbidden);
    }
    let japan = isms_core::calendar::japan();
    let known = jiff::Timestamp::from_millisecond(i.discovered_ms).map(|t| t.to_zoned_datetime(japan).date()).ok();
    let known_on = match (known, lang) {
        (Some(d), DocLang::Ja) => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
        (Some(d), DocLang::En) => d.strftime("%-d %B %Y").to_string(),
        (None, _) => String::new(),
    };
    let actions: Vec<String> = super::followup::actions(&txn, &i.id).await?.into_iter().map(|a| format!("- {}", a.title)).collect();
    let measures = if actions.is_empty() { i.actions_note.clone() } else { actions.join("\n") };
    let facts = DraftFacts {
        reference: i.r#ref.clone(),
        title: i.title.clone(),
        known_on,
        data_items: i.data_categories.clone(),
        people_affected: i.people_affected,
        cause: i.root_cause.clone(),
        secondary_harm: i.financial_risk || i.unlawful_purpose,
        measures,
        contact: input.contact.trim().chars().take(500).collect(),
    };
    let body = draft(kind, lang, &facts);
    let now = now_ms();
    let existing = release::Entity::find()
        .filter(release::Column::IncidentId.eq(i.id.clone()))
        .filter(release::Column::Kind.eq(kind.code()))
        .filter(release::Column::Language.eq(lang.code()))
        .one(&txn)
        .await?;
    let saved = match existing {
        Some(r) if r.status != "draft" => return Err(AppError::coded("kind", "release-frozen", "an approved text no longer changes")),
        Some(r) => {
            let mut am = r.into_active_model();
            am.body = Set(body);
            am.drafted_by = Set(who.user_id.clone());
            am.updated_ms = Set(now);
            am.update(&txn).await?
        }
        None => {
            release::ActiveModel {
                id: Set(uuid::Uuid::now_v7().to_string()),
                incident_id: Set(i.id.clone()),
                kind: Set(kind.code().into()),
                language: Set(lang.code().into()),
                body: Set(body),
                status: Set("draft".into()),
                drafted_by: Set(who.user_id.clone()),
                approved_by: Set(None),
                approved_ms: Set(None),
                released_ms: Set(None),
                created_ms: Set(now),
                updated_ms: Set(now),
            }
            .insert(&txn)
            .await?
        }
    };
    record(app, &txn, who, "incidents.release.draft", "incident", Some(&i.id), Some(&i.company_id), json!({"kind": kind, "language": lang})).await?;
    txn.commit().await?;
    view(saved)
}

async fn own(
    db: &impl ConnectionTrait,
    who: &Principal,
    incident_id: &str,
    release_id: &str,
) -> Result<(isms_store::incidents::incident::Model, release::Model)> {
    let i = load(db, who, incident_id).await?;
    let r = release::Entity::find_by_id(release_id.to_owned()).one(db).await?.filter(|r| r.incident_id == i.id).ok_or(AppError::NotFound)?;
    Ok((i, r))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct EditInput {
    pub body: String,
}

pub async fn edit(app: &App, who: &Principal, incident_id: &str, release_id: &str, input: EditInput) -> Result<Release> {
    let txn = app.store.write().await?;
    let (i, r) = own(&txn, who, incident_id, release_id).await?;
    if !runs(&txn, who, &i).await? {
        return Err(AppError::Forbidden);
    }
    if r.status != "draft" {
        return Err(AppError::coded("body", "release-frozen", "an approved text no longer changes"));
    }
    let mut errors = vec![];
    let body = isms_kernel::input::required_text(&mut errors, "body", &input.body, 50_000);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut am = r.into_active_model();
    am.body = Set(body);
    am.drafted_by = Set(who.user_id.clone());
    am.updated_ms = Set(now_ms());
    let saved = am.update(&txn).await?;
    record(app, &txn, who, "incidents.release.edit", "incident", Some(&i.id), Some(&i.company_id), json!({"kind": saved.kind, "language": saved.language}))
        .await?;
    txn.commit().await?;
    view(saved)
}

/// The CISO approves the text as it stands; whoever last edited it may not.
pub async fn approve(app: &App, who: &Principal, incident_id: &str, release_id: &str) -> Result<Release> {
    let txn = app.store.write().await?;
    let (i, r) = own(&txn, who, incident_id, release_id).await?;
    let company = i.company_id.parse().ok();
    let is_ciso = who.access.grants().iter().any(|g| g.role == Role::Ciso && (g.company.is_none() || g.company == company));
    if !is_ciso {
        return Err(AppError::Forbidden);
    }
    if r.status != "draft" {
        return Err(AppError::coded("status", "release-frozen", "an approved text no longer changes"));
    }
    if r.drafted_by.is_some() && r.drafted_by == who.user_id {
        return Err(AppError::coded("status", "approve-own-release", "the person who wrote the text does not approve it"));
    }
    let mut am = r.into_active_model();
    am.status = Set("approved".into());
    am.approved_by = Set(who.user_id.clone());
    am.approved_ms = Set(Some(now_ms()));
    am.updated_ms = Set(now_ms());
    let saved = am.update(&txn).await?;
    record(app, &txn, who, "incidents.release.approve", "incident", Some(&i.id), Some(&i.company_id), json!({"kind": saved.kind, "language": saved.language}))
        .await?;
    txn.commit().await?;
    view(saved)
}

/// Records that the approved text went out, and when.
pub async fn mark_released(app: &App, who: &Principal, incident_id: &str, release_id: &str) -> Result<Release> {
    let txn = app.store.write().await?;
    let (i, r) = own(&txn, who, incident_id, release_id).await?;
    if !runs(&txn, who, &i).await? {
        return Err(AppError::Forbidden);
    }
    if r.status != "approved" {
        return Err(AppError::coded("status", "release-not-approved", "only an approved text is released"));
    }
    let mut am = r.into_active_model();
    am.status = Set("released".into());
    am.released_ms = Set(Some(now_ms()));
    am.updated_ms = Set(now_ms());
    let saved = am.update(&txn).await?;
    super::cases::timeline(&txn, &i.id, who.user_id.as_deref(), "release", &saved.kind).await?;
    record(app, &txn, who, "incidents.release.release", "incident", Some(&i.id), Some(&i.company_id), json!({"kind": saved.kind, "language": saved.language}))
        .await?;
    txn.commit().await?;
    view(saved)
}
