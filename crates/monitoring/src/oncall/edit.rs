//! Changing rotations and covers, checked against the rota rules.

use super::*;

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RotationInput {
    pub name: String,
    /// Empty: the rotation answers for every company's alerts.
    pub company_id: Option<String>,
    /// informational, low, medium, high or critical.
    pub min_severity: String,
    /// Minutes to wait for an acknowledgement before calling the next person and the lead.
    pub ack_minutes: i64,
    /// Length of one shift in hours (168 for weekly).
    pub shift_hours: i64,
    /// When the first member's first shift begins: RFC 3339, or `YYYY-MM-DDTHH:MM` in Japan.
    pub starts: String,
    /// Accounts in turn order.
    pub members: Vec<String>,
    /// The CSIRT lead, called on every escalation.
    pub lead_user_id: Option<String>,
    pub enabled: bool,
}

impl Default for RotationInput {
    fn default() -> Self {
        Self {
            name: String::new(),
            company_id: None,
            min_severity: "high".into(),
            ack_minutes: 15,
            shift_hours: 168,
            starts: String::new(),
            members: vec![],
            lead_user_id: None,
            enabled: true,
        }
    }
}

pub(super) struct Checked {
    name: String,
    company_id: Option<String>,
    min: Severity,
    anchor_ms: i64,
    members: Vec<String>,
    lead: Option<String>,
}

pub(super) async fn check(app: &App, who: &Principal, input: &RotationInput) -> Result<Checked> {
    let mut errors = vec![];
    let name = required(&mut errors, "name", &input.name, 120);
    let company_id = blank_to_none(&input.company_id);
    if !who.access.can_for(Permission::MonitoringManage, company_id.as_deref().and_then(|c| c.parse().ok())) {
        errors.push(FieldError::coded("company_id", "company-out-of-scope", "you do not manage monitoring of this company"));
    }
    let min = Severity::parse_as("min_severity", &input.min_severity).map_err(|e| errors.push(e)).unwrap_or(Severity::High);
    let members: Vec<String> = input.members.iter().map(|m| m.trim().to_owned()).filter(|m| !m.is_empty()).collect();
    errors.extend(check_rota(input.shift_hours, input.ack_minutes, &members));
    let anchor_ms = match input.starts.trim() {
        "" => {
            errors.push(FieldError::coded("starts", "required", "is required"));
            0
        }
        s => isms_core::calendar::parse_moment(s).unwrap_or_else(|| {
            errors.push(FieldError::coded("starts", "moment", format!("`{s}` is not a date and time such as 2026-11-26T09:30")).arg("value", s));
            0
        }),
    };
    // Whoever is paged must be able to acknowledge: members and lead triage this company's alerts.
    let allowed: Vec<String> = crate::alerts::assignable(app, company_id.as_deref()).await?.into_iter().map(|(id, _)| id).collect();
    if let Some((i, _)) = members.iter().enumerate().find(|(_, m)| !allowed.contains(m)) {
        errors.push(
            FieldError::coded("members", "not-assignable", format!("entry {} does not triage alerts of this company", i + 1)).arg("line", (i + 1).to_string()),
        );
    }
    let lead = blank_to_none(&input.lead_user_id);
    match &lead {
        None => errors.push(FieldError::coded("lead_user_id", "required", "is required")),
        Some(l) if !allowed.contains(l) => errors.push(FieldError::coded("lead_user_id", "not-assignable", "does not triage alerts of this company")),
        Some(_) => {}
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(Checked { name, company_id, min, anchor_ms, members, lead })
}

pub(super) async fn name_taken(db: &impl ConnectionTrait, name: &str, except: Option<&str>) -> Result<bool> {
    let mut q = rotation::Entity::find().filter(rotation::Column::Name.eq(name));
    if let Some(id) = except {
        q = q.filter(rotation::Column::Id.ne(id));
    }
    Ok(q.one(db).await?.is_some())
}

pub(super) async fn write_members(txn: &impl ConnectionTrait, rotation_id: &str, members: &[String]) -> Result<()> {
    rotation_member::Entity::delete_many().filter(rotation_member::Column::RotationId.eq(rotation_id)).exec(txn).await?;
    let rows: Vec<rotation_member::ActiveModel> = members
        .iter()
        .enumerate()
        .map(|(i, u)| {
            rotation_member::Model { id: uuid::Uuid::now_v7().to_string(), rotation_id: rotation_id.to_owned(), position: i as i32, user_id: u.clone() }
                .into_active_model()
        })
        .collect();
    if !rows.is_empty() {
        rotation_member::Entity::insert_many(rows).exec_without_returning(txn).await?;
    }
    Ok(())
}

pub(super) async fn changed(app: &App, txn: &impl ConnectionTrait) -> Result<()> {
    crate::shared(app).oncall.bump(txn).await
}

pub async fn create(app: &App, who: &Principal, input: RotationInput) -> Result<Rotation> {
    who.require(Permission::MonitoringManage)?;
    let c = check(app, who, &input).await?;
    let txn = app.store.write().await?;
    if name_taken(&txn, &c.name, None).await? {
        return Err(AppError::coded("name", "taken", "is already taken"));
    }
    let now = now_ms();
    let id = uuid::Uuid::now_v7().to_string();
    rotation::Model {
        id: id.clone(),
        name: c.name.clone(),
        company_id: c.company_id.clone(),
        min_severity: c.min.code().into(),
        ack_minutes: input.ack_minutes as i32,
        shift_hours: input.shift_hours as i32,
        anchor_ms: c.anchor_ms,
        lead_user_id: c.lead.clone(),
        enabled: input.enabled,
        created_by: who.user_id.clone(),
        created_ms: now,
        updated_ms: now,
    }
    .into_active_model()
    .insert(&txn)
    .await?;
    write_members(&txn, &id, &c.members).await?;
    changed(app, &txn).await?;
    record(app, &txn, who, "monitoring.oncall.create", "oncall_rotation", Some(&id), c.company_id.as_deref(), json!({"after": input})).await?;
    txn.commit().await?;
    crate::shared(app).oncall.changed();
    Ok(get(app, who, &id).await?.rotation)
}

pub async fn update(app: &App, who: &Principal, id: &str, input: RotationInput) -> Result<Rotation> {
    let old = visible(app.store.conn(), who, id).await?;
    who.require_for(Permission::MonitoringManage, old.company_id.as_deref())?;
    let c = check(app, who, &input).await?;
    let txn = app.store.write().await?;
    let old = visible(&txn, who, id).await?;
    if name_taken(&txn, &c.name, Some(id)).await? {
        return Err(AppError::coded("name", "taken", "is already taken"));
    }
    let before = json!({"name": old.name, "company_id": old.company_id, "min_severity": old.min_severity, "ack_minutes": old.ack_minutes, "shift_hours": old.shift_hours, "anchor_ms": old.anchor_ms, "lead_user_id": old.lead_user_id, "enabled": old.enabled});
    let mut a = old.into_active_model();
    a.name = Set(c.name);
    a.company_id = Set(c.company_id.clone());
    a.min_severity = Set(c.min.code().into());
    a.ack_minutes = Set(input.ack_minutes as i32);
    a.shift_hours = Set(input.shift_hours as i32);
    a.anchor_ms = Set(c.anchor_ms);
    a.lead_user_id = Set(c.lead);
    a.enabled = Set(input.enabled);
    a.updated_ms = Set(now_ms());
    a.update(&txn).await?;
    write_members(&txn, id, &c.members).await?;
    changed(app, &txn).await?;
    record(app, &txn, who, "monitoring.oncall.update", "oncall_rotation", Some(id), c.company_id.as_deref(), json!({"before": before, "after": input})).await?;
    txn.commit().await?;
    crate::shared(app).oncall.changed();
    Ok(get(app, who, id).await?.rotation)
}

pub async fn delete(app: &App, who: &Principal, id: &str) -> Result<()> {
    let txn = app.store.write().await?;
    let m = visible(&txn, who, id).await?;
    who.require_for(Permission::MonitoringManage, m.company_id.as_deref())?;
    rotation::Entity::delete_by_id(id.to_owned()).exec(&txn).await?;
    changed(app, &txn).await?;
    record(app, &txn, who, "monitoring.oncall.delete", "oncall_rotation", Some(id), m.company_id.as_deref(), json!({"name": m.name})).await?;
    txn.commit().await?;
    crate::shared(app).oncall.changed();
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct CoverInput {
    /// Who stands in: an account that may triage the rotation's alerts.
    pub user_id: String,
    /// RFC 3339, or `YYYY-MM-DDTHH:MM` in Japan.
    pub from: String,
    pub until: String,
    pub reason: String,
}

pub async fn add_cover(app: &App, who: &Principal, rotation_id: &str, input: CoverInput) -> Result<CoverView> {
    let r = visible(app.store.conn(), who, rotation_id).await?;
    who.require_for(Permission::MonitoringManage, r.company_id.as_deref())?;
    let mut errors = vec![];
    let allowed = crate::alerts::assignable(app, r.company_id.as_deref()).await?;
    let user_id = input.user_id.trim().to_owned();
    let name = allowed.iter().find(|(u, _)| *u == user_id).map(|(_, n)| n.clone());
    if user_id.is_empty() {
        errors.push(FieldError::coded("user_id", "required", "is required"));
    } else if name.is_none() {
        errors.push(FieldError::coded("user_id", "not-assignable", "does not triage alerts of this company"));
    }
    let mut moment = |field: &'static str, s: &str| match s.trim() {
        "" => {
            errors.push(FieldError::coded(field, "required", "is required"));
            None
        }
        s => isms_core::calendar::parse_moment(s).or_else(|| {
            errors.push(FieldError::coded(field, "moment", format!("`{s}` is not a date and time such as 2026-11-26T09:30")).arg("value", s));
            None
        }),
    };
    let from = moment("from", &input.from);
    let until = moment("until", &input.until);
    let reason = required_text(&mut errors, "reason", &input.reason, 500);
    if let (Some(f), Some(u)) = (from, until) {
        errors.extend(check_cover(f, u));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let (from, until) = (from.unwrap_or_default(), until.unwrap_or_default());
    let txn = app.store.write().await?;
    visible(&txn, who, rotation_id).await?;
    let id = uuid::Uuid::now_v7().to_string();
    cover::Model {
        id: id.clone(),
        rotation_id: rotation_id.to_owned(),
        user_id: user_id.clone(),
        from_ms: from,
        until_ms: until,
        reason: reason.clone(),
        created_by: who.user_id.clone(),
        created_ms: now_ms(),
    }
    .into_active_model()
    .insert(&txn)
    .await?;
    changed(app, &txn).await?;
    record(
        app,
        &txn,
        who,
        "monitoring.oncall.cover",
        "oncall_rotation",
        Some(rotation_id),
        r.company_id.as_deref(),
        json!({"cover": id, "user_id": user_id, "from_ms": from, "until_ms": until, "reason": reason}),
    )
    .await?;
    txn.commit().await?;
    crate::shared(app).oncall.changed();
    Ok(CoverView { id, user_id, name: name.unwrap_or_default(), from_ms: from, until_ms: until, reason })
}

pub async fn remove_cover(app: &App, who: &Principal, cover_id: &str) -> Result<()> {
    let txn = app.store.write().await?;
    let c = cover::Entity::find_by_id(cover_id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    let r = visible(&txn, who, &c.rotation_id).await?;
    who.require_for(Permission::MonitoringManage, r.company_id.as_deref())?;
    cover::Entity::delete_by_id(cover_id.to_owned()).exec(&txn).await?;
    changed(app, &txn).await?;
    record(
        app,
        &txn,
        who,
        "monitoring.oncall.uncover",
        "oncall_rotation",
        Some(&r.id),
        r.company_id.as_deref(),
        json!({"cover": cover_id, "user_id": c.user_id, "from_ms": c.from_ms, "until_ms": c.until_ms}),
    )
    .await?;
    txn.commit().await?;
    crate::shared(app).oncall.changed();
    Ok(())
}
