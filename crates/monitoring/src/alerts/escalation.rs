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
}

/// Opens an incident from an open alert: its title, what matched, and the matching events
/// attached as evidence (a JSON file). The alert then points at the incident.
pub async fn escalate(app: &App, who: &Principal, id: &str, input: EscalateInput) -> Result<(Alert, isms_incidents::Incident)> {
    let detail = get(app, who, id).await?;
    let a = &detail.alert;
    if !detail.can_escalate {
        return Err(AppError::Forbidden);
    }
    if !a.state.is_open() {
        return Err(AppError::coded("step", "alert-not-open", "this step is not possible now"));
    }
    let company = blank_to_none(&input.company_id).or_else(|| a.company_id.clone());
    let Some(company) = company else { return Err(AppError::coded("company_id", "required", "is required")) };
    let mut description = format!(
        "Escalated from alert {}: {} ({}), {} matching event(s) on host {} between {} and {}.",
        a.id,
        a.title,
        a.severity.code(),
        a.count,
        if a.host.is_empty() { "-" } else { &a.host },
        jiff::Timestamp::from_millisecond(a.first_ms).map(|t| t.to_string()).unwrap_or_default(),
        jiff::Timestamp::from_millisecond(a.last_ms).map(|t| t.to_string()).unwrap_or_default(),
    );
    if let Some(n) = input.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        description.push_str("\n\n");
        description.push_str(&n.chars().take(4000).collect::<String>());
    }
    let incident = isms_incidents::cases::report(
        app,
        who,
        isms_incidents::cases::ReportInput {
            title: a.title.clone(),
            description,
            kind: input.kind.clone(),
            discovered_at: None,
            customer_data: false,
            company_id: Some(company),
            exercise: false,
        },
    )
    .await?;
    let events: Vec<serde_json::Value> =
        detail.events.iter().map(|e| serde_json::from_str::<serde_json::Value>(&e.raw).unwrap_or_else(|_| serde_json::Value::String(e.raw.clone()))).collect();
    let bundle = json!({"alert": a, "rule": detail.rule_title, "source": detail.source_name, "events": events});
    let bytes = serde_json::to_vec_pretty(&bundle).map_err(|e| AppError::internal(e.to_string()))?;
    isms_incidents::followup::add_evidence(app, who, &incident.id, &format!("alert-{}.json", a.id), bytes, "Events that raised the alert").await?;
    let txn = app.store.write().await?;
    let m = visible_alert(&txn, who, id).await?;
    let state = AlertState::parse(&m.state)?;
    next_state(state, Step::Escalate).map_err(refused)?;
    let now = now_ms();
    let mut am = m.clone().into_active_model();
    am.state = Set(AlertState::Escalated.code().into());
    am.incident_id = Set(Some(incident.id.clone()));
    if m.acknowledged_ms.is_none() {
        am.acknowledged_ms = Set(Some(now));
        am.acknowledged_by = Set(who.user_id.clone());
    }
    am.updated_ms = Set(now);
    let m = am.update(&txn).await?;
    record(
        app,
        &txn,
        who,
        "monitoring.alert.escalate",
        "alert",
        Some(&m.id),
        m.company_id.as_deref(),
        json!({"from": state.code(), "incident": incident.id, "ref": incident.reference}),
    )
    .await?;
    txn.commit().await?;
    Ok((m.into(), incident))
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
    let paged = crate::oncall::Paged { alert_id: &m.id, company_id: m.company_id.as_deref(), severity: a.severity, title: &m.title, host: &m.host };
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
        title: format!("Source {} is silent", s.name),
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
