//! Decisions on a finding: accepted with a reason and an end date, or resolved once the record conforms.

use super::*;

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AcceptInput {
    /// Why the breach is tolerated, and what compensates for it.
    pub reason: String,
    /// YYYY-MM-DD, at most a year ahead.
    pub expires_on: String,
}

/// Accepts a finding as an exception. The acting user is the approver. Exceptions on
/// customer information need group-wide authority (the CISO), not a company's.
pub async fn accept(app: &App, who: &Principal, id: &str, input: AcceptInput) -> Result<Finding> {
    let txn = app.store.write().await?;
    let m = finding::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    who.require_for(Permission::AssetsRead, Some(&m.company_id)).map_err(|_| AppError::NotFound)?;
    who.require_for(Permission::AssetsManage, Some(&m.company_id))?;
    if m.customer_information && !who.access.can_for(Permission::AssetsManage, None) {
        return Err(AppError::coded("finding", "customer-exception-needs-ciso", "an exception on customer information is approved group-wide (by the CISO)"));
    }
    let mut errors = vec![];
    let reason = isms_kernel::input::required_text(&mut errors, "reason", &input.reason, 2000);
    if !reason.is_empty() && reason.chars().count() < 10 {
        errors.push(FieldError::coded("reason", "reason-short", "say why in at least 10 characters"));
    }
    let expires = isms_kernel::input::date_opt(&mut errors, "expires_on", &Some(input.expires_on.clone()));
    let today = isms_core::calendar::today();
    match expires {
        None if errors.iter().all(|e| e.field != "expires_on") => errors.push(FieldError::coded("expires_on", "required", "is required")),
        Some(d) if d <= today => errors.push(FieldError::coded("expires_on", "date-future", "must be after today")),
        Some(d) if d > today.saturating_add(jiff::Span::new().years(1)) => {
            errors.push(FieldError::coded("expires_on", "expiry-within-year", "may be at most a year ahead"))
        }
        _ => {}
    }
    if m.status != "open" {
        errors.push(FieldError::coded("finding", "finding-not-open", format!("is {}, not open", m.status)).arg("status", m.status.clone()));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut am = m.clone().into_active_model();
    am.status = Set("accepted".into());
    am.reason = Set(reason.clone());
    am.approved_by = Set(who.user_id.clone());
    am.expires_on = Set(expires.map(|d| d.to_string()));
    am.updated_ms = Set(now_ms());
    let saved = am.update(&txn).await?;
    record(
        app,
        &txn,
        who,
        "assets.finding.accept",
        "asset_finding",
        Some(&saved.id),
        Some(&saved.company_id),
        json!({"rule": saved.rule, "reason": reason, "expires_on": saved.expires_on}),
    )
    .await?;
    txn.commit().await?;
    Ok(saved.into())
}

/// Marks a finding resolved: its subject is re-checked now, and a breach that still holds
/// is refused with the rule it still breaks.
pub async fn resolve(app: &App, who: &Principal, id: &str) -> Result<Finding> {
    let txn = app.store.write().await?;
    let m = finding::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    who.require_for(Permission::AssetsRead, Some(&m.company_id)).map_err(|_| AppError::NotFound)?;
    who.require_for(Permission::AssetsManage, Some(&m.company_id))?;
    let target = match (&m.asset_id, &m.takeout_id) {
        (_, Some(_)) => Target::All(Some(vec![m.company_id.clone()])),
        (Some(a), None) => Target::Assets(vec![a.clone()]),
        (None, None) => return Err(AppError::internal(format!("finding {} has no subject", m.id))),
    };
    recheck(app, &txn, who, target).await?;
    let now = finding::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    if now.status != "resolved" {
        return Err(AppError::Invalid(vec![
            FieldError::coded("finding", "still-breached", format!("the register still breaks `{}`; change the asset or its holder first", now.rule))
                .arg("rule", now.rule.clone()),
        ]));
    }
    txn.commit().await?;
    Ok(now.into())
}
