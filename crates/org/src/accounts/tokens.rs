//! API tokens: issued within what their issuer holds, acting for that issuer.

use super::*;

// ---- API tokens ----

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    /// Empty: group-wide.
    #[serde(default)]
    pub companies: Vec<String>,
    pub expires_in_days: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub role: String,
    pub companies: Vec<String>,
    pub issued_by: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub last_used_ms: Option<i64>,
    pub revoked: bool,
}

impl From<api_token::Model> for TokenView {
    fn from(m: api_token::Model) -> Self {
        Self {
            companies: serde_json::from_str(&m.companies).unwrap_or_default(),
            id: m.id,
            name: m.name,
            role: m.role,
            issued_by: m.issued_by,
            created_ms: m.created_ms,
            expires_ms: m.expires_ms,
            last_used_ms: m.last_used_ms,
            revoked: m.revoked,
        }
    }
}

/// Issues a token. The plain token is returned once; only its hash is stored.
pub async fn create_token(app: &App, who: &Principal, input: NewToken) -> Result<(TokenView, String)> {
    who.require(Permission::UsersManage)?;
    let grants: Vec<GrantView> = if input.companies.is_empty() {
        vec![GrantView { role: input.role, company_id: None, expires_on: None }]
    } else {
        input.companies.iter().map(|c| GrantView { role: input.role, company_id: Some(c.clone()), expires_on: None }).collect()
    };
    check_grants(who, &grants)?;
    issue_token(app, who, who, input).await
}

/// Issues a token for the account `username` at the operator's command on the server
/// itself (`isms admin token`), never reachable from HTTP. The token stays within what
/// the account holds; the trail names the system as the one who issued it.
pub async fn issue_token_for(app: &App, username: &str, input: NewToken) -> Result<(TokenView, String)> {
    let holder = acting_as(app, username).await?;
    issue_token(app, &holder, &Principal::system(), input).await
}

pub(super) async fn issue_token(app: &App, holder: &Principal, recorder: &Principal, input: NewToken) -> Result<(TokenView, String)> {
    let uid = holder.user_id.clone().ok_or(AppError::Forbidden)?;
    let name = Name::parse("name", &input.name)?;
    if !(1..=366).contains(&input.expires_in_days) {
        return Err(AppError::coded("expires_in_days", "days-range", "must be between 1 and 366"));
    }
    let companies: Vec<Option<CompanyId>> = if input.companies.is_empty() {
        vec![None]
    } else {
        input
            .companies
            .iter()
            .map(|c| c.parse::<CompanyId>().map(Some).map_err(|_| AppError::field("companies", format!("`{c}` is not a company id"))))
            .collect::<Result<_>>()?
    };
    // A token holds nothing its issuer does not: a CISO-role token from an administrator
    // would read what the administrator may not.
    if companies.into_iter().any(|company| !holder.access.permits(&Grant { role: input.role, company })) {
        return Err(AppError::coded("role", "token-beyond-issuer", "a token may not do more than you may"));
    }
    let token = format!("isms_{}", random_token(32));
    let now = now_ms();
    let txn = app.store.write().await?;
    let saved = api_token::Model {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.as_str().into(),
        token_hash: token_hash(&token),
        issued_by: uid.clone(),
        role: input.role.code().into(),
        companies: serde_json::to_string(&input.companies).unwrap_or_else(|_| "[]".into()),
        expires_ms: now + input.expires_in_days * 86_400_000,
        created_ms: now,
        last_used_ms: None,
        revoked: false,
    }
    .into_active_model()
    .insert(&txn)
    .await?;
    record(
        app,
        &txn,
        recorder,
        "accounts.token.create",
        "api_token",
        Some(&saved.id),
        None,
        json!({"name": saved.name, "role": saved.role, "companies": input.companies, "expires_ms": saved.expires_ms, "for": format!("user:{uid}")}),
    )
    .await?;
    txn.commit().await?;
    Ok((saved.into(), token))
}

pub async fn list_tokens(app: &App, who: &Principal) -> Result<Vec<TokenView>> {
    who.require(Permission::UsersManage)?;
    let scope = who.access.scope(Permission::UsersManage);
    let all = api_token::Entity::find().order_by_desc(api_token::Column::CreatedMs).all(app.store.conn()).await?;
    Ok(all
        .into_iter()
        .map(TokenView::from)
        .filter(|t| match &scope {
            Scope::Group => true,
            // A company administrator sees tokens limited to their companies.
            _ => !t.companies.is_empty() && t.companies.iter().all(|c| covers(&scope, Some(c))),
        })
        .collect())
}

pub async fn revoke_token(app: &App, who: &Principal, id: &str) -> Result<()> {
    let visible = list_tokens(app, who).await?;
    if !visible.iter().any(|t| t.id == id) {
        return Err(AppError::NotFound);
    }
    let txn = app.store.write().await?;
    api_token::Entity::update_many()
        .col_expr(api_token::Column::Revoked, isms_store::sea_orm::sea_query::Expr::val(true))
        .filter(api_token::Column::Id.eq(id.to_owned()))
        .exec(&txn)
        .await?;
    record(app, &txn, who, "accounts.token.revoke", "api_token", Some(id), None, json!({})).await?;
    txn.commit().await?;
    Ok(())
}

/// Resolves `Authorization: Bearer isms_...`.
pub async fn token_principal(app: &App, token: &str) -> Result<Principal> {
    let db = app.store.conn();
    let key = format!("token:{}", token_hash(token));
    let generation = app.store.generation();
    if let Some((p, None)) = cached_principal(app, &key, generation, now_ms()) {
        return Ok(p);
    }
    let t = api_token::Entity::find().filter(api_token::Column::TokenHash.eq(token_hash(token))).one(db).await?.ok_or(AppError::Unauthenticated)?;
    let now = now_ms();
    if t.revoked || t.expires_ms <= now {
        return Err(AppError::Unauthenticated);
    }
    let issuer = user::Entity::find_by_id(t.issued_by.clone()).one(db).await?.ok_or(AppError::Unauthenticated)?;
    if issuer.disabled {
        return Err(AppError::Unauthenticated);
    }
    let role: Role = t.role.parse().map_err(|_| AppError::Unauthenticated)?;
    let companies: Vec<String> = serde_json::from_str(&t.companies).unwrap_or_default();
    let grants: Vec<Grant> = if companies.is_empty() {
        vec![Grant { role, company: None }]
    } else {
        companies.iter().filter_map(|c| c.parse().ok()).map(|c| Grant { role, company: Some(c) }).collect()
    };
    // The token acts for its issuer, never beyond what the issuer holds today: a grant
    // the issuer has lost since is dropped from the token too.
    let issuer_access = access_of(db, &issuer.id).await?;
    let grants: Vec<Grant> = grants.into_iter().filter(|g| issuer_access.permits(g)).collect();
    if t.last_used_ms.is_none_or(|l| now - l > 60_000) {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedMs, isms_store::sea_orm::sea_query::Expr::val(now))
            .filter(api_token::Column::Id.eq(t.id.clone()))
            .exec(db)
            .await?;
    }
    let p = Principal {
        actor: format!("token:{}", t.id),
        user_id: Some(issuer.id),
        name: t.name,
        access: Access::new(grants),
        locale: None,
        time_zone: None,
        session_id: None,
    };
    app.shared::<Shared>().principals.put(key, generation, (p.clone(), None, t.expires_ms));
    Ok(p)
}
