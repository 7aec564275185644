//! Administration of users and their role grants, within the administrator's companies.

use super::*;

// ---- administration ----

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct GrantView {
    pub role: Role,
    /// `None`: group-wide.
    pub company_id: Option<String>,
    /// Last day the grant counts (YYYY-MM-DD, UTC end of day); `None`: no end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub person_id: Option<String>,
    pub company_id: Option<String>,
    pub disabled: bool,
    pub totp_enabled: bool,
    pub locked: bool,
    pub last_login_ms: Option<i64>,
    pub grants: Vec<GrantView>,
}

pub(super) async fn user_view(app: &App, db: &impl ConnectionTrait, u: user::Model) -> Result<UserView> {
    let company_id = person_company(db, &u).await?;
    let locked =
        store::locked_names(db, vec![u.username.clone(), code_key(&u.username)], now_ms(), app.config().lock_after_failures, lock_window_ms(app)).await?;
    let grants = store::grants_of(db, &u.id)
        .await?
        .into_iter()
        .filter_map(|g| {
            let expires_on = g
                .expires_ms
                .and_then(|ms| jiff::Timestamp::from_millisecond(ms - 1).ok())
                .map(|t| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date().to_string());
            Some(GrantView { role: g.role.parse().ok()?, company_id: g.company_id, expires_on })
        })
        .collect();
    Ok(UserView {
        locked: !locked.is_empty(),
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        person_id: u.person_id,
        company_id,
        disabled: u.disabled,
        totp_enabled: u.totp_enabled,
        last_login_ms: u.last_login_ms,
        grants,
    })
}

/// Users whose person belongs to a company in scope; users without a person belong to the group.
pub async fn list_users(app: &App, who: &Principal) -> Result<Vec<UserView>> {
    let scope = who.access.scope(Permission::UsersRead);
    if scope.is_nothing() {
        return Err(AppError::Forbidden);
    }
    let db = app.store.conn();
    let mut out = vec![];
    for u in user::Entity::find().order_by_asc(user::Column::Username).all(db).await? {
        let v = user_view(app, db, u).await?;
        if covers(&scope, v.company_id.as_deref()) {
            out.push(v);
        }
    }
    Ok(out)
}

/// A page of the users list: search, order and page.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Words in the username or display name.
    #[serde(default)]
    pub search: Option<String>,
    /// `username` (the default), `display_name` or `last_login`.
    #[serde(default)]
    pub sort: Option<String>,
    /// `asc` or `desc`.
    #[serde(default)]
    pub dir: Option<String>,
    #[serde(default)]
    pub offset: u64,
    #[serde(default)]
    pub limit: u64,
}

const ORDER: &[(&str, user::Column)] =
    &[("username", user::Column::Username), ("display_name", user::Column::DisplayName), ("last_login", user::Column::LastLoginMs)];

/// One page of the users in scope, filtered and ordered in the database.
pub async fn users_page(app: &App, who: &Principal, q: &UserQuery) -> Result<isms_kernel::Page<UserView>> {
    use isms_store::sea_orm::{PaginatorTrait, QuerySelect, sea_query::Query};
    let scope = who.access.scope(Permission::UsersRead);
    let db = app.store.conn();
    let mut sel = user::Entity::find();
    match &scope {
        Scope::Nothing => return Err(AppError::Forbidden),
        Scope::Group => {}
        Scope::Companies(set) => {
            let people = Query::select()
                .column(person::Column::Id)
                .from(person::Entity)
                .and_where(person::Column::CompanyId.is_in(set.iter().map(|c| c.to_string())))
                .to_owned();
            sel = sel.filter(user::Column::PersonId.in_subquery(people));
        }
    }
    if let Some(words) = isms_store::search::cleaned(q.search.as_deref()) {
        sel = sel.filter(isms_store::search::any_contains(&[user::Column::Username, user::Column::DisplayName], &words));
    }
    let total = sel.clone().count(db).await?;
    let limit = if q.limit == 0 { 50 } else { q.limit.min(500) };
    let cols = isms_kernel::order::Columns { keys: ORDER, default_desc: false, id: user::Column::Id };
    let rows =
        isms_kernel::order::ordered(sel, cols, q.sort.as_deref(), q.dir.as_deref())?.offset(isms_store::page_offset(q.offset)).limit(limit).all(db).await?;
    let mut items = Vec::with_capacity(rows.len());
    for u in rows {
        items.push(user_view(app, db, u).await?);
    }
    Ok(isms_kernel::Page { items, total })
}

pub(super) fn covers(scope: &Scope, company: Option<&str>) -> bool {
    scope.covers(company.and_then(|c| c.parse().ok()))
}

pub async fn get_user(app: &App, who: &Principal, id: &str) -> Result<UserView> {
    let db = app.store.conn();
    let u = user::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    let v = user_view(app, db, u).await?;
    if !covers(&who.access.scope(Permission::UsersRead), v.company_id.as_deref()) {
        return Err(AppError::NotFound);
    }
    Ok(v)
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    #[serde(default)]
    pub person_id: Option<String>,
    #[serde(default)]
    pub grants: Vec<GrantView>,
}

/// May `who` hand out these grants? Group-wide grants need group-wide user management;
/// company grants need it for that company.
pub(super) fn check_grants(who: &Principal, grants: &[GrantView]) -> Result<Vec<(Grant, Option<i64>)>> {
    let scope = who.access.scope(Permission::UsersManage);
    let mut out = vec![];
    for g in grants {
        let expires = match g.expires_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(d) => {
                let date = isms_core::org::parse_date("expires_on", d)?.ok_or_else(|| AppError::coded("expires_on", "date", "is not a date"))?;
                // The grant lasts through the whole named day (UTC).
                let end = date.tomorrow().ok().and_then(|t| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok()).map(|z| z.timestamp().as_millisecond());
                Some(end.ok_or_else(|| AppError::coded("expires_on", "date", "is not a date"))?)
            }
        };
        let company = match &g.company_id {
            Some(c) => Some(c.parse::<CompanyId>().map_err(|_| AppError::field("grants", format!("`{c}` is not a company id")))?),
            None => None,
        };
        if !scope.covers(company) {
            return Err(AppError::Forbidden);
        }
        out.push((Grant { role: g.role, company }, expires));
    }
    Ok(out)
}

pub(super) async fn write_grants(db: &impl ConnectionTrait, user_id: &str, grants: &[(Grant, Option<i64>)]) -> Result<()> {
    role_grant::Entity::delete_many().filter(role_grant::Column::UserId.eq(user_id.to_owned())).exec(db).await?;
    let now = now_ms();
    for (g, expires_ms) in grants {
        role_grant::Model {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user_id.to_owned(),
            role: g.role.code().into(),
            company_id: g.company.map(|c| c.to_string()),
            expires_ms: *expires_ms,
            created_ms: now,
        }
        .into_active_model()
        .insert(db)
        .await?;
    }
    Ok(())
}

pub async fn create_user(app: &App, who: &Principal, input: NewUser) -> Result<UserView> {
    who.require(Permission::UsersManage)?;
    let mut errors = vec![];
    let username = input.username.trim().to_lowercase();
    if username.is_empty() || username.len() > 254 || username.chars().any(|c| c.is_whitespace() || c.is_control()) {
        errors.push(FieldError::coded("username", "username", "is required and may not contain spaces"));
    }
    let display = Name::parse("display_name", &input.display_name).map_err(|e| errors.push(e)).ok();
    if let Err(e) = check_password_policy(&input.password, &username, &[&input.display_name]) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let grants = check_grants(who, &input.grants)?;
    let person_id = input.person_id.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let hash = hash_password(app, &input.password)?;
    let txn = app.store.write().await?;
    let person_id = crate::people::resolve_person_ref(&txn, "person_id", person_id).await?;
    let company = match &person_id {
        Some(p) => {
            let p = person::Entity::find_by_id(p.clone()).one(&txn).await?.ok_or_else(|| AppError::coded("person_id", "no-person", "no such person"))?;
            who.require_for(Permission::UsersManage, Some(&p.company_id))?;
            Some(p.company_id)
        }
        None => {
            who.require_for(Permission::UsersManage, None)?;
            None
        }
    };
    let now = now_ms();
    let saved = user::Model {
        id: UserId::new().to_string(),
        person_id,
        username: username.clone(),
        display_name: display.map(|d| d.as_str().to_owned()).unwrap_or_default(),
        password_hash: Some(hash),
        totp_secret: None,
        totp_enabled: false,
        totp_last_step: None,
        disabled: false,
        locale: None,
        time_zone: None,
        last_login_ms: None,
        created_ms: now,
        updated_ms: now,
    }
    .into_active_model()
    .insert(&txn)
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict { .. } => AppError::coded("username", "username-taken", "this user name is taken, or the person already has an account"),
        other => other,
    })?;
    write_grants(&txn, &saved.id, &grants).await?;
    record(app, &txn, who, "accounts.user.create", "user", Some(&saved.id), company.as_deref(), json!({"username": username, "grants": input.grants})).await?;
    let v = user_view(app, &txn, saved).await?;
    txn.commit().await?;
    Ok(v)
}

/// The account `id` if `who` may manage it: their user management must reach the
/// company of the account's person and of every grant it holds (a group-wide grant needs
/// group-wide management). An account the caller cannot even read answers "not found".
pub(super) async fn managed_user(who: &Principal, db: &impl ConnectionTrait, id: &str) -> Result<(user::Model, Option<String>)> {
    let u = user::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    let company = person_company(db, &u).await?;
    if !covers(&who.access.scope(Permission::UsersRead), company.as_deref()) && !covers(&who.access.scope(Permission::UsersManage), company.as_deref()) {
        return Err(AppError::NotFound);
    }
    who.require_for(Permission::UsersManage, company.as_deref())?;
    if !who.access.manages(Permission::UsersManage, &held_grants(db, &u.id).await?) {
        return Err(AppError::Forbidden);
    }
    Ok((u, company))
}

/// Every grant an account holds, expired ones included: managing an account needs scope
/// over all it ever may hold again.
pub(super) async fn held_grants(db: &impl ConnectionTrait, user_id: &str) -> Result<Vec<Grant>> {
    let mut out = vec![];
    for g in store::grants_of(db, user_id).await? {
        let role = g.role.parse::<Role>().map_err(|_| AppError::internal(format!("unknown role {} in grants", g.role)))?;
        let company = match g.company_id {
            Some(c) => Some(c.parse::<CompanyId>().map_err(|_| AppError::internal("bad company id in grants"))?),
            None => None,
        };
        out.push(Grant { role, company });
    }
    Ok(out)
}

pub async fn set_grants(app: &App, who: &Principal, id: &str, grants: Vec<GrantView>) -> Result<UserView> {
    let checked = check_grants(who, &grants)?;
    let txn = app.store.write().await?;
    let (u, company) = managed_user(who, &txn, id).await?;
    let held = held_grants(&txn, &u.id).await?;
    // Nobody raises their own grants: another administrator does. Giving some up is fine.
    if who.user_id.as_deref() == Some(u.id.as_str()) && checked.iter().any(|(g, _)| !held.contains(g)) {
        return Err(AppError::Forbidden);
    }
    let before = store::grants_of(&txn, &u.id).await?.into_iter().map(|g| json!({"role": g.role, "company_id": g.company_id})).collect::<Vec<_>>();
    write_grants(&txn, &u.id, &checked).await?;
    // A privileged role newly given is marked in the trail and told to the CISO and the grantee.
    let raised: Vec<&Grant> = checked.iter().map(|(g, _)| g).filter(|g| g.role.is_privileged() && !held.contains(g)).collect();
    let privileged: Vec<serde_json::Value> = raised.iter().map(|g| json!({"role": g.role.code(), "company_id": g.company.map(|c| c.to_string())})).collect();
    record(
        app,
        &txn,
        who,
        "accounts.user.grants",
        "user",
        Some(&u.id),
        company.as_deref(),
        json!({"before": before, "after": grants, "privileged_granted": privileged}),
    )
    .await?;
    if !raised.is_empty() {
        tell_privileged_grant(app, &txn, who, &u, &raised).await?;
    }
    let v = user_view(app, &txn, u).await?;
    txn.commit().await?;
    Ok(v)
}

/// Tells the grantee and every CISO whose scope covers the granted companies.
pub(super) async fn tell_privileged_grant(app: &App, db: &impl ConnectionTrait, who: &Principal, grantee: &user::Model, raised: &[&Grant]) -> Result<()> {
    let roles: Vec<&str> = raised.iter().map(|g| g.role.code()).collect();
    let n = isms_kernel::notify::Notice::new(
        "privileged-grant",
        json!({"user": grantee.username, "roles": roles.join(", "), "by": who.name}),
        format!("/admin/users/{}", grantee.id),
    );
    isms_kernel::notify::to_user(app, db, &grantee.id, &n).await?;
    let companies: Vec<Option<String>> = raised.iter().map(|g| g.company.map(|c| c.to_string())).collect();
    let mut cisos = vec![];
    for c in &companies {
        cisos.extend(store::holders_of(db, &[Role::Ciso.code()], c.as_deref(), now_ms()).await?);
    }
    cisos.sort();
    cisos.dedup();
    for uid in cisos.iter().filter(|u| **u != grantee.id) {
        isms_kernel::notify::to_user(app, db, uid, &n).await?;
    }
    Ok(())
}

/// Sets a new password, ends the user's sessions and lifts a lock.
pub async fn reset_password(app: &App, who: &Principal, id: &str, password: &str) -> Result<()> {
    let txn = app.store.write().await?;
    let (u, company) = managed_user(who, &txn, id).await?;
    check_password_policy(password, &u.username, &[&u.display_name])?;
    let hash = hash_password(app, password)?;
    let uid = u.id.clone();
    let username = u.username.clone();
    let mut am = u.into_active_model();
    am.password_hash = Set(Some(hash));
    am.updated_ms = Set(now_ms());
    am.update(&txn).await?;
    store::clear_attempts(&txn, &username).await?;
    store::clear_attempts(&txn, &code_key(&username)).await?;
    session::Entity::delete_many().filter(session::Column::UserId.eq(uid.clone())).exec(&txn).await?;
    record(app, &txn, who, "accounts.user.reset_password", "user", Some(&uid), company.as_deref(), json!({})).await?;
    txn.commit().await?;
    Ok(())
}

/// Removes the second factor so the user enrols again at next sign-in (lost phone).
pub async fn reset_totp(app: &App, who: &Principal, id: &str) -> Result<()> {
    let txn = app.store.write().await?;
    let (u, company) = managed_user(who, &txn, id).await?;
    let uid = u.id.clone();
    let mut am = u.into_active_model();
    am.totp_enabled = Set(false);
    am.totp_secret = Set(None);
    am.totp_last_step = Set(None);
    am.updated_ms = Set(now_ms());
    am.update(&txn).await?;
    session::Entity::delete_many().filter(session::Column::UserId.eq(uid.clone())).exec(&txn).await?;
    record(app, &txn, who, "accounts.user.reset_totp", "user", Some(&uid), company.as_deref(), json!({})).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn set_disabled(app: &App, who: &Principal, id: &str, disabled: bool) -> Result<()> {
    if who.user_id.as_deref() == Some(id) && disabled {
        return Err(AppError::conflict("own-account", "you cannot disable your own account"));
    }
    let txn = app.store.write().await?;
    let (u, company) = managed_user(who, &txn, id).await?;
    let uid = u.id.clone();
    let mut am = u.into_active_model();
    am.disabled = Set(disabled);
    am.updated_ms = Set(now_ms());
    am.update(&txn).await?;
    if disabled {
        session::Entity::delete_many().filter(session::Column::UserId.eq(uid.clone())).exec(&txn).await?;
    }
    let action = if disabled { "accounts.user.disable" } else { "accounts.user.enable" };
    record(app, &txn, who, action, "user", Some(&uid), company.as_deref(), json!({})).await?;
    txn.commit().await?;
    Ok(())
}
