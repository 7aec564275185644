//! Overrides of a rule: false-positive exceptions and level changes per company, with a reason and an end.

use super::*;

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct OverrideInput {
    /// The company it applies to; empty: every company (group-wide rule managers only).
    #[serde(default)]
    pub company_id: Option<String>,
    /// The source it applies to; empty: every source of the company.
    #[serde(default)]
    pub source_id: Option<String>,
    /// With `value`: an exception for events whose field has this value. Without: the
    /// rule is off where the override applies.
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
    pub reason: String,
    /// Last day it applies (YYYY-MM-DD); empty: until removed.
    #[serde(default)]
    pub expires_on: Option<String>,
}

/// Turns a rule off, or makes an exception to it, for a company or a source. Company
/// security administrators tune the rules for their own companies' sources; the group's
/// rule managers anywhere.
pub async fn add_override(app: &App, who: &Principal, rule_id: &str, input: OverrideInput) -> Result<OverrideView> {
    who.require(Permission::MonitoringManage)?;
    let mut errors = vec![];
    let db = app.store.conn();
    let company_id = blank_to_none(&input.company_id);
    let source_id = blank_to_none(&input.source_id);
    let mut company = company_id.clone();
    let mut source_name = None;
    if let Some(sid) = &source_id {
        // A source the caller may not see is "no such source", never "another company's".
        match source::Entity::find_by_id(sid.clone())
            .one(db)
            .await?
            .filter(|s| who.access.can_for(Permission::MonitoringRead, s.company_id.as_deref().and_then(|c| c.parse().ok())))
        {
            Some(s) => {
                if company.is_some() && company != s.company_id {
                    errors.push(FieldError::coded("source_id", "source-company", "the source belongs to another company"));
                }
                company = s.company_id.clone();
                source_name = Some(s.name);
            }
            None => errors.push(FieldError::coded("source_id", "unknown", "no such source")),
        }
    }
    let allowed = match &company {
        None => who.access.can_for(Permission::RulesManage, None),
        Some(c) => who.access.can_for(Permission::RulesManage, None) || who.access.can_for(Permission::MonitoringManage, c.parse().ok()),
    };
    if !allowed {
        errors.push(FieldError::coded("company_id", "company-out-of-scope", "you do not manage monitoring of this company"));
    }
    let field = blank_to_none(&input.field);
    let value = input.value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    if field.is_some() != value.is_some() {
        errors.push(FieldError::coded(if field.is_some() { "value" } else { "field" }, "required", "is required"));
    }
    if field.as_deref().is_some_and(|f| f.chars().count() > 200 || f.contains(char::is_whitespace)) {
        errors.push(FieldError::coded("field", "field-name", "is not a field name"));
    }
    let reason = isms_kernel::input::required_text(&mut errors, "reason", &input.reason, 2000);
    let expires_on = match blank_to_none(&input.expires_on) {
        None => None,
        Some(d) => match d.parse::<jiff::civil::Date>() {
            Ok(date) if date >= isms_core::calendar::today() => Some(date.to_string()),
            Ok(_) => {
                errors.push(FieldError::coded("expires_on", "date-past", "may not be in the past"));
                None
            }
            Err(_) => {
                errors.push(FieldError::coded("expires_on", "date", format!("`{d}` is not a date (YYYY-MM-DD)")).arg("value", d));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let txn = app.store.write().await?;
    let r = rule::Entity::find_by_id(rule_id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    let m = rule_override::Model {
        id: uuid::Uuid::now_v7().to_string(),
        rule_id: r.id.clone(),
        company_id: company,
        source_id,
        field,
        value,
        reason,
        expires_on,
        created_by: who.user_id.clone(),
        created_ms: now_ms(),
    };
    let m = m.into_active_model().insert(&txn).await?;
    crate::shared(app).rules.bump(&txn).await?;
    record(
        app,
        &txn,
        who,
        "monitoring.rule.override.add",
        "detection_rule",
        Some(&r.id),
        m.company_id.as_deref(),
        json!({"override": m.id, "source_id": m.source_id, "field": m.field, "value": m.value, "reason": m.reason, "expires_on": m.expires_on}),
    )
    .await?;
    txn.commit().await?;
    crate::shared(app).rules.changed();
    Ok(OverrideView {
        id: m.id,
        company_id: m.company_id,
        source_id: m.source_id,
        source_name,
        field: m.field,
        value: m.value,
        reason: m.reason,
        expires_on: m.expires_on,
        expired: false,
    })
}

pub async fn remove_override(app: &App, who: &Principal, rule_id: &str, override_id: &str) -> Result<()> {
    who.require(Permission::MonitoringManage)?;
    let txn = app.store.write().await?;
    let o = rule_override::Entity::find_by_id(override_id.to_owned()).one(&txn).await?.filter(|o| o.rule_id == rule_id).ok_or(AppError::NotFound)?;
    let allowed = who.access.can_for(Permission::RulesManage, None)
        || o.company_id.as_deref().is_some_and(|c| who.access.can_for(Permission::MonitoringManage, c.parse().ok()));
    if !allowed {
        return Err(AppError::Forbidden);
    }
    rule_override::Entity::delete_by_id(o.id.clone()).exec(&txn).await?;
    crate::shared(app).rules.bump(&txn).await?;
    record(
        app,
        &txn,
        who,
        "monitoring.rule.override.remove",
        "detection_rule",
        Some(rule_id),
        o.company_id.as_deref(),
        json!({"override": o.id, "reason": o.reason}),
    )
    .await?;
    txn.commit().await?;
    crate::shared(app).rules.changed();
    Ok(())
}
