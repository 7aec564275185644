//! Suppressions: matches of one rule and group that are not alerts for a while, with a
//! reason and an end.

use super::*;

/// Longest a suppression may hold: past this, a rule override (with its review) is the
/// right tool.
pub const MAX_SUPPRESSION_DAYS: i64 = 90;

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct SuppressInput {
    /// Why matches of this group are not alerts for now.
    pub reason: String,
    /// Last day (YYYY-MM-DD, UTC) it holds; at most 90 days ahead.
    pub expires_on: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Suppression {
    pub id: String,
    pub group_key: String,
    pub company_id: Option<String>,
    pub alert_id: Option<String>,
    pub title: String,
    pub reason: String,
    pub expires_on: String,
    pub created_by: Option<String>,
    pub created_ms: i64,
    pub lifted_ms: Option<i64>,
    /// Holds now: not lifted and not past its last day.
    pub active: bool,
}

impl From<isms_store::monitoring::suppression::Model> for Suppression {
    fn from(m: isms_store::monitoring::suppression::Model) -> Self {
        let active = m.lifted_ms.is_none() && crate::rules::date_end_ms(&m.expires_on).is_some_and(|end| now_ms() <= end);
        Suppression {
            id: m.id,
            group_key: m.group_key,
            company_id: m.company_id,
            alert_id: m.alert_id,
            title: m.title,
            reason: m.reason,
            expires_on: m.expires_on,
            created_by: m.created_by,
            created_ms: m.created_ms,
            lifted_ms: m.lifted_ms,
            active,
        }
    }
}

/// The alert groups silenced now, with the end of each, as the pipeline checks them.
#[derive(Debug, Default)]
pub struct Suppressed {
    pub until: std::collections::HashMap<String, i64>,
}

impl Suppressed {
    /// Whether a match of group `key` at `at_ms` is silenced.
    pub fn holds(&self, key: &str, at_ms: i64) -> bool {
        self.until.get(key).is_some_and(|u| at_ms <= *u)
    }
}

/// The active suppressions, rebuilt when one is added or lifted (here or on another
/// instance) and when the earliest one ends.
pub async fn suppressed(app: &App) -> Result<std::sync::Arc<Suppressed>> {
    use isms_store::monitoring::suppression;
    crate::shared(app)
        .suppressed
        .get(app, |app| async move {
            let rows = suppression::Entity::find().filter(suppression::Column::LiftedMs.is_null()).all(app.store.conn()).await?;
            let now = now_ms();
            let mut s = Suppressed::default();
            for r in rows {
                if let Some(end) = crate::rules::date_end_ms(&r.expires_on).filter(|e| *e >= now) {
                    let u = s.until.entry(r.group_key).or_insert(end);
                    *u = std::cmp::max(*u, end);
                }
            }
            let due = s.until.values().min().map(|e| e + 1);
            Ok((s, due))
        })
        .await
}

/// Silences the alerts of this alert's group (same rule or indicator, host and company)
/// until the end of `expires_on`, and closes the alert as benign with the reason. New
/// matches of the group are still counted on the source but raise no alert.
pub async fn suppress(app: &App, who: &Principal, id: &str, input: SuppressInput) -> Result<Suppression> {
    use isms_store::monitoring::suppression;
    // The alert first: one out of reach is not found, whatever the input.
    let txn = app.store.write().await?;
    let m = visible_alert(&txn, who, id).await?;
    who.require_for(Permission::MonitoringManage, m.company_id.as_deref())?;
    let mut errors = vec![];
    let reason = isms_kernel::input::required_text(&mut errors, "reason", &input.reason, 2000);
    let today = isms_core::calendar::today();
    match input.expires_on.trim().parse::<jiff::civil::Date>() {
        Err(_) => errors.push(FieldError::coded("expires_on", "date", "is not a date (YYYY-MM-DD)").arg("value", input.expires_on.trim())),
        Ok(d) if d < today => errors.push(FieldError::coded("expires_on", "date-past", "may not be in the past")),
        Ok(d) if (d - today).get_days() as i64 > MAX_SUPPRESSION_DAYS => errors.push(
            FieldError::coded("expires_on", "suppress-too-long", "is more than 90 days ahead; use a rule override")
                .arg("max", MAX_SUPPRESSION_DAYS.to_string()),
        ),
        Ok(_) => {}
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = now_ms();
    let s = suppression::Model {
        id: uuid::Uuid::now_v7().to_string(),
        group_key: m.group_key.clone(),
        company_id: m.company_id.clone(),
        alert_id: Some(m.id.clone()),
        title: m.title.clone(),
        reason: reason.clone(),
        expires_on: input.expires_on.trim().to_owned(),
        created_by: who.user_id.clone(),
        created_ms: now,
        lifted_ms: None,
        lifted_by: None,
    }
    .into_active_model()
    .insert(&txn)
    .await?;
    if AlertState::parse(&m.state)?.is_open() {
        let mut a = m.clone().into_active_model();
        a.state = Set(AlertState::Closed.code().into());
        a.resolution = Set(Some(Resolution::Benign.code().into()));
        a.closed_ms = Set(Some(now));
        a.closed_by = Set(who.user_id.clone());
        if m.acknowledged_ms.is_none() {
            a.acknowledged_ms = Set(Some(now));
            a.acknowledged_by = Set(who.user_id.clone());
        }
        a.note = Set(format!("Suppressed until {}: {reason}", s.expires_on));
        a.updated_ms = Set(now);
        a.update(&txn).await?;
    }
    record(
        app,
        &txn,
        who,
        "monitoring.alert.suppress",
        "alert",
        Some(&m.id),
        m.company_id.as_deref(),
        json!({"suppression": s.id, "reason": reason, "expires_on": s.expires_on}),
    )
    .await?;
    crate::shared(app).suppressed.bump(&txn).await?;
    txn.commit().await?;
    crate::shared(app).suppressed.changed();
    Ok(s.into())
}

/// Ends a suppression before its last day: the group's matches raise alerts again.
pub async fn lift(app: &App, who: &Principal, suppression_id: &str) -> Result<Suppression> {
    use isms_store::monitoring::suppression;
    let txn = app.store.write().await?;
    let s = suppression::Entity::find_by_id(suppression_id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    not_found_unless(in_scope(&scope(who, Permission::MonitoringRead)?, s.company_id.as_deref()))?;
    who.require_for(Permission::MonitoringManage, s.company_id.as_deref())?;
    if s.lifted_ms.is_some() {
        return Ok(s.into());
    }
    let mut a = s.into_active_model();
    a.lifted_ms = Set(Some(now_ms()));
    a.lifted_by = Set(who.user_id.clone());
    let s = a.update(&txn).await?;
    record(app, &txn, who, "monitoring.alert.lift", "alert_suppression", Some(&s.id), s.company_id.as_deref(), json!({"group_key": s.group_key})).await?;
    crate::shared(app).suppressed.bump(&txn).await?;
    txn.commit().await?;
    crate::shared(app).suppressed.changed();
    Ok(s.into())
}

/// The suppressions of an alert's group, newest first.
pub async fn suppressions_of(app: &App, who: &Principal, alert_id: &str) -> Result<Vec<Suppression>> {
    use isms_store::monitoring::suppression;
    let m = visible_alert(app.store.conn(), who, alert_id).await?;
    let rows = suppression::Entity::find()
        .filter(suppression::Column::GroupKey.eq(m.group_key))
        .order_by_desc(suppression::Column::CreatedMs)
        .all(app.store.conn())
        .await?;
    Ok(rows.into_iter().map(Suppression::from).collect())
}
