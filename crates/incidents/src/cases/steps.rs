//! Moving a case on, notes on its timeline, the people who need to know, and the count of open cases.

use super::*;

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct TransitionInput {
    /// The next status.
    pub to: String,
    /// Required to close a report at triage as not an incident.
    #[serde(default)]
    pub reason: String,
}

/// Moves the case one step on (or closes a false report at triage, with the reason).
pub async fn transition_to(app: &App, who: &Principal, id: &str, input: TransitionInput) -> Result<Incident> {
    let to = Status::parse_as("to", &input.to)?;
    let txn = app.store.write().await?;
    let old = load(&txn, who, id).await?;
    if !runs(&txn, who, &old).await? {
        return Err(AppError::Forbidden);
    }
    let from = Status::parse(&old.status)?;
    let facts = Facts {
        severity: old.severity,
        personal_data_decided: old.personal_data.is_some(),
        root_cause: !old.root_cause.trim().is_empty(),
        lessons: !old.lessons.trim().is_empty(),
        corrective_actions: !old.actions_note.trim().is_empty() || !crate::followup::actions(&txn, id).await?.is_empty(),
        running_clocks: crate::clocks::of(&txn, id).await?.iter().filter(|c| c.done_ms.is_none()).count(),
        open_tasks: crate::playbooks::tasks_of(&txn, id).await?.iter().filter(|t| t.done_ms.is_none()).count(),
    };
    transition(from, to, &facts, !input.reason.trim().is_empty()).map_err(|r| AppError::Invalid(vec![r.to_field_error()]))?;
    let now = now_ms();
    let mut am = old.clone().into_active_model();
    am.status = Set(to.code().into());
    match to {
        Status::Triage => am.triage_ms = Set(Some(now)),
        Status::Containment => am.contained_ms = Set(Some(now)),
        Status::Eradication => am.eradicated_ms = Set(Some(now)),
        Status::Recovery => am.recovered_ms = Set(Some(now)),
        Status::Review => am.review_ms = Set(Some(now)),
        Status::Closed => {
            am.closed_ms = Set(Some(now));
            if from == Status::Triage {
                am.close_reason = Set(input.reason.trim().to_owned());
            }
        }
        Status::Reported => {}
    }
    am.updated_ms = Set(now);
    let saved = am.update(&txn).await?;
    timeline(&txn, id, who.user_id.as_deref(), "status", to.code()).await?;
    if let (Some(reporter), Status::Triage | Status::Closed) = (&old.reported_by, to)
        && Some(reporter) != who.user_id.as_ref()
    {
        let n = Notice::new(
            "incident-status",
            json!({"ref": old.r#ref, "title": old.title, "status": notify::word(format!("incident-status-{}", to.code()))}),
            format!("/incidents/{id}"),
        );
        notify::to_user(app, &txn, reporter, &n).await?;
    }
    record(
        app,
        &txn,
        who,
        "incidents.transition",
        "incident",
        Some(id),
        Some(&saved.company_id),
        json!({"from": from, "to": to, "reason": input.reason.trim()}),
    )
    .await?;
    txn.commit().await?;
    Ok(build(app.store.conn(), vec![saved]).await?.remove(0))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct NoteInput {
    pub text: String,
    /// The note holds personal data: it is sealed at rest and every reading is logged.
    #[serde(default)]
    pub personal: bool,
}

/// Adds a note to the timeline.
pub async fn add_note(app: &App, who: &Principal, id: &str, input: NoteInput) -> Result<()> {
    let txn = app.store.write().await?;
    let i = load(&txn, who, id).await?;
    let reporter = who.user_id.is_some() && who.user_id == i.reported_by;
    if !reporter && !runs(&txn, who, &i).await? && !crate::is_member(&txn, who, id).await? {
        return Err(AppError::Forbidden);
    }
    let mut errors = vec![];
    let text = isms_kernel::input::required_text(&mut errors, "text", &input.text, 20_000);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let stored = if input.personal { app.fields().seal(&text)? } else { text };
    event::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        incident_id: Set(id.to_owned()),
        at_ms: Set(now_ms()),
        actor: Set(who.user_id.clone()),
        kind: Set("note".into()),
        text: Set(stored),
        personal: Set(input.personal),
    }
    .insert(&txn)
    .await?;
    record(app, &txn, who, "incidents.note", "incident", Some(id), Some(&i.company_id), json!({"personal": input.personal})).await?;
    txn.commit().await?;
    Ok(())
}

/// Adds someone to the case (need to know): they see it even when it holds personal data.
pub async fn add_member(app: &App, who: &Principal, id: &str, username: &str) -> Result<()> {
    let txn = app.store.write().await?;
    let i = load(&txn, who, id).await?;
    if !runs(&txn, who, &i).await? {
        return Err(AppError::Forbidden);
    }
    let Some(u) = user::Entity::find().filter(user::Column::Username.eq(username.trim())).one(&txn).await? else {
        return Err(AppError::coded("username", "no-user", "no such account"));
    };
    if member::Entity::find_by_id((id.to_owned(), u.id.clone())).one(&txn).await?.is_some() {
        return Err(AppError::coded("username", "already-member", "is already on the case"));
    }
    member::ActiveModel { incident_id: Set(id.to_owned()), user_id: Set(u.id.clone()), added_by: Set(who.user_id.clone()), added_ms: Set(now_ms()) }
        .insert(&txn)
        .await?;
    notify::to_user(app, &txn, &u.id, &Notice::new("incident-added", json!({"ref": i.r#ref, "title": i.title}), format!("/incidents/{id}"))).await?;
    record(app, &txn, who, "incidents.member.add", "incident", Some(id), Some(&i.company_id), json!({"user": u.username})).await?;
    txn.commit().await?;
    Ok(())
}

/// Open cases per status, for the dashboard (drills excluded).
pub async fn open_count(app: &App, who: &Principal) -> Result<u64> {
    Ok(list(app, who, &IncidentQuery { status: Some("open".into()), limit: 1, ..Default::default() }).await?.total)
}

pub(crate) async fn get_view(db: &impl ConnectionTrait, m: incident::Model) -> Result<Incident> {
    Ok(build(db, vec![m]).await?.remove(0))
}
