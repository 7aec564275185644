//! What a case leaves behind: corrective actions with owners and due dates (they stay open
//! after the case closes, until someone verifies them), observables that threat
//! monitoring can match, and evidence files with their checksum and chain of custody
//! (collected, handed over, and every access).

use super::cases::load;
use super::runs;
use isms_core::FieldError;
use isms_core::incidents::observables::{self, ObservableKind};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::incidents::{action, custody, evidence, incident, observable};
use isms_store::now_ms;
use isms_store::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Largest evidence file kept in the database; bigger images belong in forensic storage
/// with their checksum recorded here.
pub const MAX_EVIDENCE_BYTES: usize = 25 * 1024 * 1024;

async fn running_case(db: &impl ConnectionTrait, who: &Principal, id: &str) -> Result<incident::Model> {
    let i = load(db, who, id).await?;
    if !runs(db, who, &i).await? {
        return Err(AppError::Forbidden);
    }
    Ok(i)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = CorrectiveAction)]
pub struct Action {
    pub id: String,
    pub incident_id: String,
    pub title: String,
    pub owner_id: Option<String>,
    pub due_on: String,
    /// open, done or verified
    pub status: String,
    pub done_ms: Option<i64>,
    pub verified_ms: Option<i64>,
    pub verified_by: Option<String>,
    pub note: String,
    /// Not verified and past its due date.
    pub overdue: bool,
}

impl From<action::Model> for Action {
    fn from(m: action::Model) -> Self {
        let overdue = m.status != "verified" && m.due_on < isms_core::calendar::today().to_string();
        Self {
            id: m.id,
            incident_id: m.incident_id,
            title: m.title,
            owner_id: m.owner_id,
            due_on: m.due_on,
            status: m.status,
            done_ms: m.done_ms,
            verified_ms: m.verified_ms,
            verified_by: m.verified_by,
            note: m.note,
            overdue,
        }
    }
}

pub async fn actions(db: &impl ConnectionTrait, incident_id: &str) -> Result<Vec<Action>> {
    Ok(action::Entity::find()
        .filter(action::Column::IncidentId.eq(incident_id))
        .order_by_asc(action::Column::DueOn)
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(as = CorrectiveActionInput)]
pub struct ActionInput {
    pub title: String,
    /// The owner's person id or employee number.
    #[serde(default)]
    pub owner_id: Option<String>,
    /// YYYY-MM-DD
    pub due_on: String,
}

/// Adds a corrective action (also after the case is closed: recurrence prevention goes on).
pub async fn add_action(app: &App, who: &Principal, incident_id: &str, input: ActionInput) -> Result<Action> {
    let txn = app.store.write().await?;
    let i = running_case(&txn, who, incident_id).await?;
    let mut errors = vec![];
    let title = isms_kernel::input::required(&mut errors, "title", &input.title, 300);
    let due = isms_kernel::input::date_opt(&mut errors, "due_on", &Some(input.due_on.clone()));
    if due.is_none() && errors.iter().all(|e| e.field != "due_on") {
        errors.push(FieldError::coded("due_on", "required", "is required"));
    }
    let owner = match isms_org::people::resolve_person_ref(&txn, "owner_id", isms_kernel::input::blank_to_none(&input.owner_id)).await {
        Ok(o) => o,
        Err(AppError::Invalid(e)) => {
            errors.extend(e);
            None
        }
        Err(e) => return Err(e),
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let m = action::Model {
        id: uuid::Uuid::now_v7().to_string(),
        incident_id: i.id.clone(),
        title,
        owner_id: owner.clone(),
        due_on: due.map(|d| d.to_string()).unwrap_or_default(),
        status: "open".into(),
        done_ms: None,
        verified_ms: None,
        verified_by: None,
        note: String::new(),
        created_by: who.user_id.clone(),
        created_ms: now_ms(),
    };
    let saved = m.into_active_model().insert(&txn).await?;
    if let Some(o) = &owner {
        let n = isms_kernel::notify::Notice::new(
            "incident-action",
            json!({"ref": i.r#ref, "title": saved.title, "due": saved.due_on}),
            format!("/incidents/{}", i.id),
        )
        .task(format!("incident-action:{}", saved.id));
        isms_kernel::notify::to_person(app, &txn, o, &n).await?;
    }
    record(app, &txn, who, "incidents.action.add", "incident", Some(&i.id), Some(&i.company_id), json!({"title": saved.title, "due_on": saved.due_on})).await?;
    txn.commit().await?;
    Ok(saved.into())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ActionStep {
    /// done (carried out) or verified (checked to work; by someone who runs the case, not the owner)
    pub status: String,
    #[serde(default)]
    pub note: String,
}

/// Marks an action done, then verified. The owner may mark it done; verifying is for
/// those who run the case, and never by the one who did it.
pub async fn step_action(app: &App, who: &Principal, incident_id: &str, action_id: &str, input: ActionStep) -> Result<Action> {
    let txn = app.store.write().await?;
    let i = load(&txn, who, incident_id).await?;
    let a = action::Entity::find_by_id(action_id.to_owned()).one(&txn).await?.filter(|a| a.incident_id == i.id).ok_or(AppError::NotFound)?;
    let me = isms_policies::my_person(&txn, who).await?;
    let is_owner = me.as_ref().is_some_and(|p| a.owner_id.as_deref() == Some(p.id.as_str()));
    let runs_case = runs(&txn, who, &i).await?;
    let next = match (a.status.as_str(), input.status.as_str()) {
        ("open", "done") if is_owner || runs_case => "done",
        ("done", "verified") if runs_case => "verified",
        ("open" | "done", "done" | "verified") => return Err(AppError::Forbidden),
        (from, to) => {
            return Err(AppError::coded("status", "action-step", format!("an action that is {from} cannot become {to}"))
                .into_with_arg("from", from)
                .into_with_arg("to", to));
        }
    };
    if next == "verified" && is_owner {
        return Err(AppError::coded("status", "verify-own", "the owner of an action does not verify it"));
    }
    let mut am = a.into_active_model();
    am.status = Set(next.into());
    if next == "done" {
        am.done_ms = Set(Some(now_ms()));
    } else {
        am.verified_ms = Set(Some(now_ms()));
        am.verified_by = Set(who.user_id.clone());
    }
    if !input.note.trim().is_empty() {
        am.note = Set(input.note.trim().chars().take(2000).collect());
    }
    let saved = am.update(&txn).await?;
    if next == "done" {
        isms_kernel::notify::done(&txn, &format!("incident-action:{}", saved.id)).await?;
    }
    record(app, &txn, who, &format!("incidents.action.{next}"), "incident", Some(&i.id), Some(&i.company_id), json!({"title": saved.title})).await?;
    txn.commit().await?;
    Ok(saved.into())
}

/// Corrective actions not yet verified whose due date has passed, in the caller's reach.
pub async fn overdue_actions(app: &App, who: &Principal) -> Result<Vec<Action>> {
    let db = app.store.conn();
    let today = isms_core::calendar::today().to_string();
    let rows = action::Entity::find()
        .filter(action::Column::Status.ne("verified"))
        .filter(action::Column::DueOn.lt(today))
        .order_by_asc(action::Column::DueOn)
        .limit(500)
        .all(db)
        .await?;
    let mut out = vec![];
    for a in rows {
        if let Ok(i) = load(db, who, &a.incident_id).await
            && (runs(db, who, &i).await? || who.access.can(isms_core::Permission::IncidentsRead))
        {
            out.push(a.into());
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Observable {
    pub id: String,
    pub kind: ObservableKind,
    pub value: String,
    pub note: String,
    pub created_ms: i64,
}

pub async fn observables_of(db: &impl ConnectionTrait, incident_id: &str) -> Result<Vec<Observable>> {
    observable::Entity::find()
        .filter(observable::Column::IncidentId.eq(incident_id))
        .order_by_asc(observable::Column::Kind)
        .order_by_asc(observable::Column::Value)
        .all(db)
        .await?
        .into_iter()
        .map(|o| {
            Ok(Observable {
                kind: ObservableKind::parse(&o.kind).map_err(|e| AppError::internal(e.to_string()))?,
                id: o.id,
                value: o.value,
                note: o.note,
                created_ms: o.created_ms,
            })
        })
        .collect()
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ObservableInput {
    /// One per line; defanged forms (hxxp, [.]) are accepted.
    pub values: String,
    /// Optional: the kind every value must be.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub note: String,
}

/// Adds observables, one per line; every line is checked first, and a bad one (named by
/// its line) adds nothing. Returns how many were new.
pub async fn add_observables(app: &App, who: &Principal, incident_id: &str, input: ObservableInput) -> Result<usize> {
    let kind = match input.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) => Some(ObservableKind::parse(k)?),
        None => None,
    };
    let mut parsed = vec![];
    let mut errors = vec![];
    for (n, line) in input.values.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match observables::parse(kind, line) {
            Ok(v) if !parsed.contains(&v) => parsed.push(v),
            Ok(_) => {}
            Err(e) => errors.push(FieldError { message: format!("line {}: {}", n + 1, e.message), ..e }.arg("line", (n + 1).to_string())),
        }
    }
    if parsed.is_empty() && errors.is_empty() {
        errors.push(FieldError::coded("values", "required", "is required"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors.into_iter().map(|e| FieldError { field: "values".into(), ..e }).collect()));
    }
    let txn = app.store.write().await?;
    let i = running_case(&txn, who, incident_id).await?;
    let mut added = 0;
    for (k, v) in &parsed {
        let exists = observable::Entity::find()
            .filter(observable::Column::IncidentId.eq(i.id.clone()))
            .filter(observable::Column::Kind.eq(k.code()))
            .filter(observable::Column::Value.eq(v.clone()))
            .one(&txn)
            .await?;
        if exists.is_some() {
            continue;
        }
        observable::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            incident_id: Set(i.id.clone()),
            kind: Set(k.code().into()),
            value: Set(v.clone()),
            note: Set(input.note.trim().chars().take(500).collect()),
            created_by: Set(who.user_id.clone()),
            created_ms: Set(now_ms()),
        }
        .insert(&txn)
        .await?;
        added += 1;
    }
    record(
        app,
        &txn,
        who,
        "incidents.observables.add",
        "incident",
        Some(&i.id),
        Some(&i.company_id),
        json!({"added": added, "values": parsed.iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>()}),
    )
    .await?;
    txn.commit().await?;
    Ok(added)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Custody {
    pub at_ms: i64,
    pub actor: Option<String>,
    /// collected, handed_over or accessed
    pub action: String,
    pub party: String,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = IncidentEvidence)]
pub struct Evidence {
    pub id: String,
    pub file_name: String,
    pub size: i64,
    pub sha256: String,
    pub description: String,
    pub collected_by: Option<String>,
    pub collected_ms: i64,
    pub custody: Vec<Custody>,
}

pub async fn evidence_of(db: &impl ConnectionTrait, incident_id: &str) -> Result<Vec<Evidence>> {
    let rows: Vec<(String, String, i64, String, String, Option<String>, i64)> = evidence::Entity::find()
        .select_only()
        .columns([
            evidence::Column::Id,
            evidence::Column::FileName,
            evidence::Column::Size,
            evidence::Column::Sha256,
            evidence::Column::Description,
            evidence::Column::CollectedBy,
            evidence::Column::CollectedMs,
        ])
        .filter(evidence::Column::IncidentId.eq(incident_id))
        .order_by_asc(evidence::Column::CollectedMs)
        .into_tuple()
        .all(db)
        .await?;
    let ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let chain = custody::Entity::find().filter(custody::Column::EvidenceId.is_in(ids)).order_by_asc(custody::Column::AtMs).all(db).await?;
    Ok(rows
        .into_iter()
        .map(|(id, file_name, size, sha256, description, collected_by, collected_ms)| Evidence {
            custody: chain
                .iter()
                .filter(|c| c.evidence_id == id)
                .map(|c| Custody { at_ms: c.at_ms, actor: c.actor.clone(), action: c.action.clone(), party: c.party.clone(), note: c.note.clone() })
                .collect(),
            id,
            file_name,
            size,
            sha256,
            description,
            collected_by,
            collected_ms,
        })
        .collect())
}

async fn custody_entry(db: &impl ConnectionTrait, evidence_id: &str, who: &Principal, action: &str, party: &str, note: &str) -> Result<()> {
    custody::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        evidence_id: Set(evidence_id.to_owned()),
        at_ms: Set(now_ms()),
        actor: Set(who.user_id.clone()),
        action: Set(action.into()),
        party: Set(party.chars().take(200).collect()),
        note: Set(note.chars().take(2000).collect()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Stores an evidence file with its SHA-256 and starts its chain of custody.
pub async fn add_evidence(app: &App, who: &Principal, incident_id: &str, file_name: &str, bytes: Vec<u8>, description: &str) -> Result<Evidence> {
    let name = isms_kernel::plain_file(file_name, &bytes, MAX_EVIDENCE_BYTES)?;
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let txn = app.store.write().await?;
    let i = running_case(&txn, who, incident_id).await?;
    let id = uuid::Uuid::now_v7().to_string();
    evidence::ActiveModel {
        id: Set(id.clone()),
        incident_id: Set(i.id.clone()),
        file_name: Set(name.to_owned()),
        // Evidence is never rendered: it is served as an opaque download.
        content_type: Set("application/octet-stream".into()),
        size: Set(bytes.len() as i64),
        sha256: Set(sha.clone()),
        data: Set(bytes),
        description: Set(description.trim().chars().take(2000).collect()),
        collected_by: Set(who.user_id.clone()),
        collected_ms: Set(now_ms()),
    }
    .insert(&txn)
    .await?;
    custody_entry(&txn, &id, who, "collected", "", "").await?;
    record(app, &txn, who, "incidents.evidence.add", "incident", Some(&i.id), Some(&i.company_id), json!({"file": name, "sha256": sha})).await?;
    txn.commit().await?;
    evidence_of(app.store.conn(), incident_id).await?.into_iter().find(|e| e.id == id).ok_or(AppError::NotFound)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct HandOver {
    /// Who received it (a person, a forensic firm, the police).
    pub party: String,
    #[serde(default)]
    pub note: String,
}

pub async fn hand_over(app: &App, who: &Principal, incident_id: &str, evidence_id: &str, input: HandOver) -> Result<()> {
    let mut errors = vec![];
    isms_kernel::input::required(&mut errors, "party", &input.party, 200);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let txn = app.store.write().await?;
    let i = running_case(&txn, who, incident_id).await?;
    let e = evidence::Entity::find_by_id(evidence_id.to_owned()).select_only().column(evidence::Column::IncidentId).into_tuple::<String>().one(&txn).await?;
    if e.as_deref() != Some(i.id.as_str()) {
        return Err(AppError::NotFound);
    }
    custody_entry(&txn, evidence_id, who, "handed_over", input.party.trim(), input.note.trim()).await?;
    record(
        app,
        &txn,
        who,
        "incidents.evidence.hand-over",
        "incident",
        Some(&i.id),
        Some(&i.company_id),
        json!({"evidence": evidence_id, "party": input.party.trim()}),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The file, for someone who runs the case; the access joins the chain of custody.
pub async fn evidence_file(app: &App, who: &Principal, incident_id: &str, evidence_id: &str) -> Result<evidence::Model> {
    let txn = app.store.write().await?;
    let i = running_case(&txn, who, incident_id).await?;
    let e = evidence::Entity::find_by_id(evidence_id.to_owned()).one(&txn).await?.filter(|e| e.incident_id == i.id).ok_or(AppError::NotFound)?;
    custody_entry(&txn, evidence_id, who, "accessed", "", "").await?;
    record(app, &txn, who, "incidents.evidence.access", "incident", Some(&i.id), Some(&i.company_id), json!({"evidence": evidence_id, "sha256": e.sha256}))
        .await?;
    txn.commit().await?;
    Ok(e)
}
