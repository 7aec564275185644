//! Reading rotations: who is on call now, covers, and the pages sent for an alert.

use super::*;

/// Someone in a rotation, with the name to show.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub user_id: String,
    pub name: String,
}

/// Who is on call, from when until when.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OnCall {
    pub user_id: String,
    pub name: String,
    /// A cover stands in for the scheduled member.
    pub covered: bool,
    pub from_ms: i64,
    pub until_ms: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rotation {
    pub id: String,
    pub name: String,
    /// `None`: answers for every company's alerts.
    pub company_id: Option<String>,
    pub min_severity: Severity,
    pub ack_minutes: i32,
    pub shift_hours: i32,
    pub anchor_ms: i64,
    pub lead: Option<Member>,
    pub enabled: bool,
    /// In turn order.
    pub members: Vec<Member>,
    pub on_call: Option<OnCall>,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CoverView {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub from_ms: i64,
    pub until_ms: i64,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PageView {
    pub id: String,
    pub alert_id: String,
    pub alert_title: String,
    /// `rule`, `indicator` or `silence`: how the title reads (see `Alert::kind`).
    pub alert_kind: String,
    pub rotation_id: Option<String>,
    pub rotation: String,
    pub user_id: String,
    pub name: String,
    /// `on_call`, `next` or `lead`.
    pub reason: String,
    pub paged_ms: i64,
    /// When the next people are called if the alert is still new.
    pub escalate_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RotationDetail {
    pub rotation: Rotation,
    /// The next shifts, from the current one.
    pub upcoming: Vec<OnCall>,
    /// Covers not yet over.
    pub covers: Vec<CoverView>,
    /// The latest pages.
    pub pages: Vec<PageView>,
}

pub(super) async fn names(db: &impl ConnectionTrait, ids: impl IntoIterator<Item = String>) -> Result<HashMap<String, String>> {
    let ids: Vec<String> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, if u.display_name.is_empty() { u.username } else { u.display_name }))
        .collect())
}

pub(super) fn member(names: &HashMap<String, String>, id: &str) -> Member {
    Member { user_id: id.to_owned(), name: names.get(id).cloned().unwrap_or_else(|| id.to_owned()) }
}

pub(super) async fn build(db: &impl ConnectionTrait, rows: Vec<rotation::Model>, now: i64) -> Result<Vec<(Rotation, Rota<String>)>> {
    let mut rotas = rotas(db, &rows, now).await?;
    let mut people: Vec<String> = rotas.values().flat_map(|r| r.members.iter().cloned().chain(r.covers.iter().map(|c| c.person.clone()))).collect();
    people.extend(rows.iter().filter_map(|r| r.lead_user_id.clone()));
    let names = names(db, people).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let rota = rotas.remove(&r.id).unwrap_or(Rota { anchor_ms: r.anchor_ms, shift_ms: HOUR, members: vec![], covers: vec![] });
            let on_call = rota.on_call(now).map(|s| OnCall {
                name: member(&names, &s.person).name,
                user_id: s.person,
                covered: s.covered,
                from_ms: s.from_ms,
                until_ms: s.until_ms,
            });
            let view = Rotation {
                id: r.id,
                name: r.name,
                company_id: r.company_id,
                min_severity: Severity::parse(&r.min_severity).unwrap_or(Severity::High),
                ack_minutes: r.ack_minutes,
                shift_hours: r.shift_hours,
                anchor_ms: r.anchor_ms,
                lead: r.lead_user_id.as_deref().map(|l| member(&names, l)),
                enabled: r.enabled,
                members: rota.members.iter().map(|m| member(&names, m)).collect(),
                on_call,
                updated_ms: r.updated_ms,
            };
            (view, rota)
        })
        .collect())
}

/// The rotations within the reader's companies (group-wide ones for group-wide readers).
pub async fn list(app: &App, who: &Principal) -> Result<Vec<Rotation>> {
    let sc = scope(who, Permission::MonitoringRead)?;
    let db = app.store.conn();
    let rows: Vec<rotation::Model> =
        rotation::Entity::find().order_by_asc(rotation::Column::Name).all(db).await?.into_iter().filter(|r| in_scope(&sc, r.company_id.as_deref())).collect();
    Ok(build(db, rows, now_ms()).await?.into_iter().map(|(v, _)| v).collect())
}

pub(super) async fn visible(db: &impl ConnectionTrait, who: &Principal, id: &str) -> Result<rotation::Model> {
    let sc = scope(who, Permission::MonitoringRead)?;
    let m = rotation::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    not_found_unless(in_scope(&sc, m.company_id.as_deref()))?;
    Ok(m)
}

pub async fn get(app: &App, who: &Principal, id: &str) -> Result<RotationDetail> {
    let db = app.store.conn();
    let m = visible(db, who, id).await?;
    let now = now_ms();
    let (rotation, rota) = build(db, vec![m], now).await?.remove(0);
    let covers = cover::Entity::find()
        .filter(cover::Column::RotationId.eq(id))
        .filter(cover::Column::UntilMs.gt(now))
        .order_by_asc(cover::Column::FromMs)
        .all(db)
        .await?;
    let pages = page::Entity::find().filter(page::Column::RotationId.eq(id)).order_by_desc(page::Column::PagedMs).limit(30).all(db).await?;
    let mut ids: Vec<String> = covers.iter().map(|c| c.user_id.clone()).collect();
    ids.extend(pages.iter().map(|p| p.user_id.clone()));
    ids.extend(rota.members.iter().cloned());
    let names = names(db, ids).await?;
    let upcoming = rota
        .upcoming(now, 8)
        .into_iter()
        .map(|s| OnCall { name: member(&names, &s.person).name, user_id: s.person, covered: s.covered, from_ms: s.from_ms, until_ms: s.until_ms })
        .collect();
    let covers = covers
        .into_iter()
        .map(|c| CoverView { id: c.id, name: member(&names, &c.user_id).name, user_id: c.user_id, from_ms: c.from_ms, until_ms: c.until_ms, reason: c.reason })
        .collect();
    let pages = page_views(db, pages, &names).await?;
    Ok(RotationDetail { rotation, upcoming, covers, pages })
}

pub(super) async fn page_views(db: &impl ConnectionTrait, pages: Vec<page::Model>, names: &HashMap<String, String>) -> Result<Vec<PageView>> {
    let alert_ids: Vec<String> = pages.iter().map(|p| p.alert_id.clone()).collect();
    let titles: HashMap<String, (String, String)> =
        alert::Entity::find().filter(alert::Column::Id.is_in(alert_ids)).all(db).await?.into_iter().map(|a| (a.id, (a.title, a.kind))).collect();
    let rot_ids: Vec<String> = pages.iter().filter_map(|p| p.rotation_id.clone()).collect();
    let rots: HashMap<String, String> =
        rotation::Entity::find().filter(rotation::Column::Id.is_in(rot_ids)).all(db).await?.into_iter().map(|r| (r.id, r.name)).collect();
    Ok(pages
        .into_iter()
        .map(|p| PageView {
            alert_title: titles.get(&p.alert_id).map(|t| t.0.clone()).unwrap_or_default(),
            alert_kind: titles.get(&p.alert_id).map(|t| t.1.clone()).unwrap_or_default(),
            rotation: p.rotation_id.as_ref().and_then(|r| rots.get(r)).cloned().unwrap_or_default(),
            name: member(names, &p.user_id).name,
            id: p.id,
            alert_id: p.alert_id,
            rotation_id: p.rotation_id,
            user_id: p.user_id,
            reason: p.reason,
            paged_ms: p.paged_ms,
            escalate_ms: p.escalate_ms,
        })
        .collect())
}

/// The pages sent for one alert, oldest first (the alert's visibility is the caller's).
pub async fn pages_of(app: &App, who: &Principal, alert_id: &str) -> Result<Vec<PageView>> {
    let db = app.store.conn();
    let a = alert::Entity::find_by_id(alert_id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    let sc = scope(who, Permission::MonitoringRead)?;
    not_found_unless(in_scope(&sc, a.company_id.as_deref()))?;
    let pages = page::Entity::find().filter(page::Column::AlertId.eq(alert_id)).order_by_asc(page::Column::PagedMs).all(db).await?;
    let names = names(db, pages.iter().map(|p| p.user_id.clone())).await?;
    let mut views = page_views(db, pages, &names).await?;
    // A company's reader sees that a group rotation was paged, by name, but has no page
    // of that rotation to follow: the link is left out rather than leading to "not found".
    let rot_ids: Vec<String> = views.iter().filter_map(|v| v.rotation_id.clone()).collect();
    let readable: std::collections::HashSet<String> = rotation::Entity::find()
        .filter(rotation::Column::Id.is_in(rot_ids))
        .all(db)
        .await?
        .into_iter()
        .filter(|r| in_scope(&sc, r.company_id.as_deref()))
        .map(|r| r.id)
        .collect();
    for v in &mut views {
        if v.rotation_id.as_ref().is_some_and(|r| !readable.contains(r)) {
            v.rotation_id = None;
        }
    }
    // An escalation no longer due once the alert is handled.
    if a.state != AlertState::New.code() {
        for v in &mut views {
            v.escalate_ms = None;
        }
    }
    Ok(views)
}
