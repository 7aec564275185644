//! Escalating an alert to an incident (its events attached as evidence), and opening
//! alerts and silence alerts as the pipeline and the source checks find them.

use super::*;

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct EscalateInput {
    /// The incident's company; the alert's company when empty (required for the group's
    /// own alerts).
    #[serde(default)]
    pub company_id: Option<String>,
    /// Incident type (unauthorized_access, malware, …); `other` when empty.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// Add the alert to this existing case instead of opening a new one.
    #[serde(default)]
    pub incident_id: Option<String>,
}

/// The severity a case opened from an alert starts with, until its facts decide it.
pub fn case_severity(s: Severity) -> i16 {
    match s {
        Severity::Informational | Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

/// Opens an incident from an open alert, or adds the alert to an existing case: what
/// matched (in the caller's words), the matching events as evidence, the indicators it
/// saw as observables, when it was first seen as when the case was noticed, and its
/// severity as the case's first severity.
///
/// The alert is claimed first, in a transaction of its own, so two people escalating
/// it at once open one case; if the case cannot be written the claim is taken back.
/// `words` gives the case's title and what it says about the alert, in the reader's
/// language (the pages and the API take them from their catalogs).
pub async fn escalate(
    app: &App,
    who: &Principal,
    id: &str,
    input: EscalateInput,
    words: impl FnOnce(&AlertDetail) -> (String, String),
) -> Result<(Alert, isms_incidents::Incident)> {
    let detail = get(app, who, id).await?;
    let a = &detail.alert;
    if !detail.can_escalate {
        return Err(AppError::Forbidden);
    }
    if !a.state.is_open() {
        return Err(AppError::coded("step", "alert-not-open", "this step is not possible now"));
    }
    let existing = blank_to_none(&input.incident_id);
    let company = blank_to_none(&input.company_id).or_else(|| a.company_id.clone());
    let Some(company) = company else { return Err(AppError::coded("company_id", "required", "is required")) };
    if let Some(case) = &existing {
        // The case must be one the caller runs; an error here changes nothing.
        let d = isms_incidents::cases::get(app, who, case).await?;
        if !d.can_run {
            return Err(AppError::Forbidden);
        }
        if d.incident.status == isms_core::incidents::Status::Closed {
            return Err(AppError::coded("incident_id", "incident-closed", "the case is closed"));
        }
    }
    let (title, mut text) = words(&detail);
    if let Some(n) = input.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        text.push_str("\n\n");
        text.push_str(&n.chars().take(4000).collect::<String>());
    }
    let from = claim(app, who, id).await?;
    let opened = open_or_add(app, who, &detail, existing.as_deref(), &company, &input, &title, &text).await;
    let incident = match opened {
        Ok(i) => i,
        Err(e) => {
            release(app, who, id, from).await?;
            return Err(e);
        }
    };
    let txn = app.store.write().await?;
    let m = visible_alert(&txn, who, id).await?;
    let mut am = m.clone().into_active_model();
    am.incident_id = Set(Some(incident.id.clone()));
    am.updated_ms = Set(now_ms());
    let m = am.update(&txn).await?;
    let action = if existing.is_some() { "monitoring.alert.attach" } else { "monitoring.alert.escalate" };
    record(
        app,
        &txn,
        who,
        action,
        "alert",
        Some(&m.id),
        m.company_id.as_deref(),
        json!({"from": from.code(), "incident": incident.id, "ref": incident.reference}),
    )
    .await?;
    txn.commit().await?;
    Ok((m.into(), incident))
}

/// Marks the alert escalated if it is still in the state it was read in; the state it had
/// is returned. The state is part of the update's condition, so of two requests at once
/// (on either database) one claims it and the other is refused.
async fn claim(app: &App, who: &Principal, id: &str) -> Result<AlertState> {
    let txn = app.store.write().await?;
    let m = visible_alert(&txn, who, id).await?;
    let state = AlertState::parse(&m.state)?;
    next_state(state, Step::Escalate).map_err(refused)?;
    let now = now_ms();
    let mut update = alert::Entity::update_many()
        .col_expr(alert::Column::State, Expr::value(AlertState::Escalated.code()))
        .col_expr(alert::Column::UpdatedMs, Expr::value(now))
        .filter(alert::Column::Id.eq(id))
        .filter(alert::Column::State.eq(m.state.clone()));
    if m.acknowledged_ms.is_none() {
        update = update.col_expr(alert::Column::AcknowledgedMs, Expr::value(now)).col_expr(alert::Column::AcknowledgedBy, Expr::value(who.user_id.clone()));
    }
    if update.exec(&txn).await?.rows_affected != 1 {
        return Err(AppError::coded("step", "alert-not-open", "this step is not possible now"));
    }
    isms_kernel::notify::done(&txn, &format!("alert:{id}")).await?;
    txn.commit().await?;
    Ok(state)
}

/// Takes a claim back when the case could not be written.
async fn release(app: &App, who: &Principal, id: &str, to: AlertState) -> Result<()> {
    let txn = app.store.write().await?;
    let m = visible_alert(&txn, who, id).await?;
    if m.incident_id.is_none() {
        let mut am = m.into_active_model();
        am.state = Set(to.code().into());
        am.update(&txn).await?;
    }
    txn.commit().await?;
    Ok(())
}

async fn open_or_add(
    app: &App,
    who: &Principal,
    detail: &AlertDetail,
    existing: Option<&str>,
    company: &str,
    input: &EscalateInput,
    title: &str,
    text: &str,
) -> Result<isms_incidents::Incident> {
    let a = &detail.alert;
    let incident = match existing {
        Some(case) => {
            let note = isms_incidents::cases::NoteInput { text: text.to_owned(), personal: false };
            isms_incidents::cases::add_note(app, who, case, note).await?;
            isms_incidents::cases::get(app, who, case).await?.incident
        }
        None => {
            let report = isms_incidents::cases::ReportInput {
                title: title.chars().take(300).collect(),
                description: text.to_owned(),
                kind: input.kind.clone(),
                // Noticed when the alert first saw it, not when someone escalated it.
                discovered_at: jiff::Timestamp::from_millisecond(a.first_ms).ok().map(|t| t.to_string()),
                customer_data: false,
                company_id: Some(company.to_owned()),
                exercise: false,
                severity: Some(case_severity(a.severity)),
            };
            isms_incidents::cases::report(app, who, report).await?
        }
    };
    let events: Vec<serde_json::Value> =
        detail.events.iter().map(|e| serde_json::from_str::<serde_json::Value>(&e.raw).unwrap_or_else(|_| serde_json::Value::String(e.raw.clone()))).collect();
    let bundle = json!({"alert": a, "rule": detail.rule_title, "source": detail.source_name, "events": events});
    let bytes = serde_json::to_vec_pretty(&bundle).map_err(|e| AppError::internal(e.to_string()))?;
    isms_incidents::followup::add_evidence(app, who, &incident.id, &format!("alert-{}.json", a.id), bytes, &a.title).await?;
    let seen = crate::intel::seen_by_alert(app.store.conn(), &a.id).await?;
    if !seen.is_empty() {
        let obs = isms_incidents::followup::ObservableInput { values: seen.join("\n"), kind: None, note: a.title.clone() };
        isms_incidents::followup::add_observables(app, who, &incident.id, obs).await?;
    }
    Ok(incident)
}

/// What a new alert is made of; the rest of its record starts empty.
pub(crate) struct NewAlert {
    pub company_id: Option<String>,
    pub source_id: Option<String>,
    pub rule_id: Option<String>,
    /// `rule`, `indicator` or `silence`.
    pub kind: &'static str,
    pub title: String,
    pub severity: Severity,
    pub host: String,
    pub user_name: String,
    pub group_key: String,
    pub count: i64,
    pub first_ms: i64,
    pub last_ms: i64,
}

/// Opens a new alert (inside the caller's transaction), cutting its texts to their
/// columns, and pages whoever is on call for it. Returns its id.
pub(crate) async fn open_alert(app: &App, txn: &impl ConnectionTrait, roster: &crate::oncall::Roster, a: NewAlert, now: i64) -> Result<String> {
    let id = uuid::Uuid::now_v7().to_string();
    let m = alert::Model {
        id: id.clone(),
        company_id: a.company_id,
        source_id: a.source_id,
        rule_id: a.rule_id,
        kind: a.kind.into(),
        title: a.title.chars().take(300).collect(),
        severity: a.severity.code().into(),
        host: a.host.chars().take(255).collect(),
        user_name: a.user_name.chars().take(255).collect(),
        group_key: a.group_key.chars().take(700).collect(),
        count: a.count,
        first_ms: a.first_ms,
        last_ms: a.last_ms,
        state: AlertState::New.code().into(),
        resolution: None,
        assignee_id: None,
        acknowledged_ms: None,
        acknowledged_by: None,
        closed_ms: None,
        closed_by: None,
        note: String::new(),
        incident_id: None,
        created_ms: now,
        updated_ms: now,
    }
    .into_active_model()
    .insert(txn)
    .await?;
    let paged =
        crate::oncall::Paged { alert_id: &m.id, company_id: m.company_id.as_deref(), severity: a.severity, kind: &m.kind, title: &m.title, host: &m.host };
    crate::oncall::page_new(app, txn, roster, &paged, now).await?;
    Ok(id)
}

/// Raises the alert of a source gone silent (inside the caller's transaction).
pub(crate) async fn raise_silence(app: &App, txn: &impl ConnectionTrait, roster: &crate::oncall::Roster, s: &source::Model, now: i64) -> Result<()> {
    let a = NewAlert {
        company_id: s.company_id.clone(),
        source_id: Some(s.id.clone()),
        rule_id: None,
        kind: "silence",
        // The source's name; pages put it in words (`alert-title-silence`).
        title: s.name.clone(),
        severity: Severity::High,
        host: String::new(),
        user_name: String::new(),
        group_key: format!("silence|{}|{now}", s.id),
        count: 1,
        first_ms: s.last_event_ms.unwrap_or(s.created_ms),
        last_ms: now,
    };
    open_alert(app, txn, roster, a, now).await?;
    Ok(())
}
