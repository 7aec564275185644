//! Deciding on a risk: acceptance with its expiry, status and review, treatment actions, and the reminders.

use super::*;

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct Acceptance {
    pub reason: String,
    /// Until when the acceptance holds (at most three years ahead).
    pub expires_on: String,
}

/// The risk owner accepts the residual risk, with a reason and an expiry.
pub async fn accept(app: &App, who: &Principal, id: &str, a: Acceptance) -> Result<Risk> {
    let txn = app.store.write().await?;
    let r = load(&txn, who, id).await?;
    if !is_owner(&txn, who, &r).await? {
        return Err(AppError::coded("owner_id", "risk-owner-only", "only the risk owner accepts a risk"));
    }
    if r.status == RiskStatus::Closed.code() {
        return Err(AppError::coded("status", "risk-closed", "the risk is closed"));
    }
    let mut errors = vec![];
    let reason = isms_kernel::input::required_text(&mut errors, "reason", &a.reason, 2000);
    let today = isms_core::calendar::today();
    let expires = isms_kernel::input::date_opt(&mut errors, "expires_on", &Some(a.expires_on.clone()));
    match expires {
        None if errors.is_empty() => errors.push(FieldError::coded("expires_on", "required", "is required")),
        Some(d) if d <= today => errors.push(FieldError::coded("expires_on", "date-past", "must be after today")),
        Some(d) if d > today.saturating_add(jiff::Span::new().years(3)) => {
            errors.push(FieldError::coded("expires_on", "acceptance-too-long", "at most three years ahead"))
        }
        _ => {}
    }
    let (true, Some(expires)) = (errors.is_empty(), expires) else { return Err(AppError::Invalid(errors)) };
    let expires = expires.to_string();
    let mut am = r.clone().into_active_model();
    am.status = Set(RiskStatus::Accepted.code().into());
    am.accepted_by = Set(who.user_id.clone());
    am.accepted_ms = Set(Some(now_ms()));
    am.acceptance_reason = Set(reason.clone());
    am.acceptance_expires = Set(Some(expires.clone()));
    am.updated_ms = Set(now_ms());
    am.update(&txn).await?;
    isms_kernel::notify::done(&txn, &format!("risk-acceptance:{id}")).await?;
    record(
        app,
        &txn,
        who,
        "risks.risk.accept",
        "risk",
        Some(id),
        Some(&r.company_id),
        json!({"residual": r.residual_score, "reason": reason, "expires_on": expires}),
    )
    .await?;
    txn.commit().await?;
    Ok(get(app, who, id).await?.risk)
}

/// Moves a risk to treating or closed (or back to open).
pub async fn set_status(app: &App, who: &Principal, id: &str, status: &str, note: &str) -> Result<Risk> {
    let status = RiskStatus::parse(status)?;
    if status == RiskStatus::Accepted {
        return Err(AppError::coded("status", "risk-owner-only", "only the risk owner accepts a risk"));
    }
    let txn = app.store.write().await?;
    let r = load(&txn, who, id).await?;
    if !manages(who, &r) {
        return Err(AppError::Forbidden);
    }
    let mut am = r.clone().into_active_model();
    am.status = Set(status.code().into());
    am.updated_ms = Set(now_ms());
    am.update(&txn).await?;
    record(
        app,
        &txn,
        who,
        "risks.risk.status",
        "risk",
        Some(id),
        Some(&r.company_id),
        json!({"before": r.status, "after": status.code(), "note": note.trim()}),
    )
    .await?;
    txn.commit().await?;
    Ok(get(app, who, id).await?.risk)
}

/// Records a review of the risk: the next falls twelve months from today.
pub async fn reviewed(app: &App, who: &Principal, id: &str, note: &str) -> Result<Risk> {
    let txn = app.store.write().await?;
    let r = load(&txn, who, id).await?;
    if !manages(who, &r) {
        return Err(AppError::Forbidden);
    }
    let due = isms_core::policies::next_review(isms_core::calendar::today(), 12).to_string();
    let mut am = r.clone().into_active_model();
    am.review_due = Set(Some(due.clone()));
    am.updated_ms = Set(now_ms());
    am.update(&txn).await?;
    isms_kernel::notify::done(&txn, &format!("risk-review:{id}")).await?;
    record(app, &txn, who, "risks.risk.review", "risk", Some(id), Some(&r.company_id), json!({"before": r.review_due, "after": due, "note": note.trim()}))
        .await?;
    txn.commit().await?;
    Ok(get(app, who, id).await?.risk)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(as = RiskActionInput)]
pub struct ActionInput {
    pub title: String,
    #[serde(default)]
    pub control_id: Option<String>,
    /// The person doing it (id or employee number); the risk owner when absent.
    #[serde(default)]
    pub owner_id: Option<String>,
    pub due_on: String,
}

pub async fn add_action(app: &App, who: &Principal, id: &str, input: ActionInput) -> Result<Action> {
    let txn = app.store.write().await?;
    let r = load(&txn, who, id).await?;
    if !manages(who, &r) {
        return Err(AppError::Forbidden);
    }
    let mut errors = vec![];
    let title = isms_kernel::input::required(&mut errors, "title", &input.title, 300);
    let due = isms_kernel::input::date_opt(&mut errors, "due_on", &Some(input.due_on.clone()));
    if due.is_none() && errors.is_empty() {
        errors.push(FieldError::coded("due_on", "required", "is required"));
    }
    let control_id = isms_kernel::input::blank_to_none(&input.control_id);
    if let Some(c) = &control_id
        && control::Entity::find_by_id(c.clone()).one(&txn).await?.is_none()
    {
        errors.push(FieldError::coded("control_id", "no-control", "no such control"));
    }
    let owner_id = match isms_org::people::resolve_person_ref(&txn, "owner_id", isms_kernel::input::blank_to_none(&input.owner_id)).await {
        Ok(o) => o.or(r.owner_id.clone()),
        Err(AppError::Invalid(e)) => {
            errors.extend(e);
            None
        }
        Err(e) => return Err(e),
    };
    let (true, Some(due)) = (errors.is_empty(), due) else { return Err(AppError::Invalid(errors)) };
    let due = due.to_string();
    let aid = uuid::Uuid::now_v7().to_string();
    action::ActiveModel {
        id: Set(aid.clone()),
        risk_id: Set(r.id.clone()),
        title: Set(title.clone()),
        control_id: Set(control_id.clone()),
        owner_id: Set(owner_id.clone()),
        due_on: Set(due.clone()),
        done_ms: Set(None),
        created_by: Set(who.user_id.clone()),
        created_ms: Set(now_ms()),
    }
    .insert(&txn)
    .await?;
    record(app, &txn, who, "risks.action.add", "risk", Some(id), Some(&r.company_id), json!({"title": title, "due_on": due, "control_id": control_id})).await?;
    txn.commit().await?;
    Ok(Action { id: aid, title, control_id, owner_id, overdue: due < isms_core::calendar::today().to_string(), due_on: due, done_ms: None })
}

pub async fn complete_action(app: &App, who: &Principal, id: &str, action_id: &str) -> Result<()> {
    let txn = app.store.write().await?;
    let r = load(&txn, who, id).await?;
    let a = action::Entity::find_by_id(action_id.to_owned()).one(&txn).await?.filter(|a| a.risk_id == r.id).ok_or(AppError::NotFound)?;
    let mine = match (&a.owner_id, isms_policies::my_person(&txn, who).await?) {
        (Some(o), Some(me)) => *o == me.id,
        _ => false,
    };
    if !manages(who, &r) && !mine {
        return Err(AppError::Forbidden);
    }
    if a.done_ms.is_some() {
        return Err(AppError::coded("action", "action-done", "the action is already done"));
    }
    let mut am = a.clone().into_active_model();
    am.done_ms = Set(Some(now_ms()));
    am.update(&txn).await?;
    isms_kernel::notify::done(&txn, &format!("risk-action:{}", a.id)).await?;
    record(app, &txn, who, "risks.action.done", "risk", Some(id), Some(&r.company_id), json!({"title": a.title})).await?;
    txn.commit().await?;
    Ok(())
}

/// Risks treated by a control that `who` may see.
pub(crate) async fn treated_by(db: &impl ConnectionTrait, who: &Principal, control_id: &str) -> Result<Vec<RiskRef>> {
    let ids =
        Query::select().column(risk_control::Column::RiskId).from(risk_control::Entity).and_where(risk_control::Column::ControlId.eq(control_id)).to_owned();
    let mut sel = risk::Entity::find().filter(risk::Column::Id.in_subquery(ids));
    if let Some(set) = who.within(Permission::RisksRead)? {
        sel = sel.filter(risk::Column::CompanyId.is_in(set));
    }
    Ok(sel
        .order_by_asc(risk::Column::Reference)
        .all(db)
        .await?
        .into_iter()
        .map(|r| RiskRef { id: r.id, reference: r.reference, title: r.title, residual_score: r.residual_score })
        .collect())
}

/// Reminds owners of risk reviews and treatment actions falling due or overdue, and of
/// acceptances that ran out; and control owners of effectiveness reviews. Each reminder
/// goes once per record and date.
pub async fn remind(app: &App) -> Result<usize> {
    let db = app.store.conn();
    let today = isms_core::calendar::today();
    let horizon = today.saturating_add(jiff::Span::new().days(app.config().remind_days)).to_string();
    let mut sent = 0;
    let txn = app.store.write().await?;
    for r in risk::Entity::find().filter(risk::Column::Status.ne("closed")).filter(risk::Column::ReviewDue.lte(horizon.clone())).all(db).await? {
        let (Some(owner), Some(due)) = (&r.owner_id, &r.review_due) else { continue };
        let n = isms_kernel::notify::Notice::new(
            "risk-review-due",
            json!({"risk": format!("{} {}", r.reference, r.title), "due": due}),
            format!("/risks/{}", r.id),
        )
        .once(format!("risk-review:{}:{due}", r.id))
        .task(format!("risk-review:{}", r.id));
        sent += isms_kernel::notify::to_person(app, &txn, owner, &n).await? as usize;
    }
    for r in risk::Entity::find().filter(risk::Column::Status.eq("accepted")).filter(risk::Column::AcceptanceExpires.lt(today.to_string())).all(db).await? {
        let (Some(owner), Some(until)) = (&r.owner_id, &r.acceptance_expires) else { continue };
        let n = isms_kernel::notify::Notice::new(
            "risk-acceptance-expired",
            json!({"risk": format!("{} {}", r.reference, r.title), "due": until}),
            format!("/risks/{}", r.id),
        )
        .once(format!("risk-acceptance:{}:{until}", r.id))
        .task(format!("risk-acceptance:{}", r.id));
        sent += isms_kernel::notify::to_person(app, &txn, owner, &n).await? as usize;
    }
    for a in action::Entity::find().filter(action::Column::DoneMs.is_null()).filter(action::Column::DueOn.lte(horizon.clone())).all(db).await? {
        let Some(owner) = &a.owner_id else { continue };
        let n = isms_kernel::notify::Notice::new("risk-action-due", json!({"action": a.title, "due": a.due_on}), format!("/risks/{}", a.risk_id))
            .once(format!("risk-action:{}:{}", a.id, a.due_on))
            .task(format!("risk-action:{}", a.id));
        sent += isms_kernel::notify::to_person(app, &txn, owner, &n).await? as usize;
    }
    for c in control::Entity::find().filter(control::Column::ReviewDue.lte(horizon)).all(db).await? {
        let (Some(owner), Some(due)) = (&c.owner_id, &c.review_due) else { continue };
        let n = isms_kernel::notify::Notice::new(
            "control-review-due",
            json!({"control": format!("{} {}", c.code, c.title), "due": due}),
            format!("/controls/{}", c.id),
        )
        .once(format!("control-review:{}:{due}", c.id))
        .task(format!("control-review:{}", c.id));
        sent += isms_kernel::notify::to_person(app, &txn, owner, &n).await? as usize;
    }
    txn.commit().await?;
    Ok(sent)
}
