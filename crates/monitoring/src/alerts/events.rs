//! Searching the events that raised alerts.

use super::*;

/// A search of the events that raised alerts (each alert keeps its first
/// [`EVIDENCE_CAP`](crate::pipeline::EVIDENCE_CAP) events).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// From this day (YYYY-MM-DD, UTC), inclusive.
    #[serde(default)]
    pub from: Option<String>,
    /// To this day (YYYY-MM-DD, UTC), inclusive.
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub source_id: Option<String>,
    /// Part of the host name.
    #[serde(default)]
    pub host: Option<String>,
    /// Part of the user name.
    #[serde(default)]
    pub user: Option<String>,
    /// Words that must all be in the event's text.
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub offset: Option<u64>,
    #[serde(default)]
    pub limit: Option<u64>,
}

impl EventQuery {
    /// The host, user and text filters (parts of the host and user, every word of the
    /// text; any case) over an event table's columns.
    pub(crate) fn text_filter<C: ColumnTrait + Copy>(&self, host: C, user: C, text: C) -> Condition {
        use isms_store::search::{cleaned, contains, every_word};
        let mut cond = Condition::all();
        if let Some(h) = cleaned(self.host.as_deref()) {
            cond = cond.add(contains(host, &h));
        }
        if let Some(u) = cleaned(self.user.as_deref()) {
            cond = cond.add(contains(user, &u));
        }
        if let Some(words) = cleaned(self.q.as_deref()) {
            cond = cond.add(every_word(&[text], &words));
        }
        cond
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventHit {
    pub alert_id: String,
    pub alert_title: String,
    pub severity: Severity,
    pub company_id: Option<String>,
    pub source_id: Option<String>,
    pub at_ms: i64,
    pub host: String,
    pub user_name: String,
    /// The event as received.
    pub raw: String,
}

pub(crate) fn day_ms(field: &str, d: &Option<String>, end: bool) -> Result<Option<i64>> {
    let Some(text) = blank_to_none(d) else { return Ok(None) };
    let date: jiff::civil::Date =
        text.parse().map_err(|_| AppError::coded(field, "date", "is not a date (YYYY-MM-DD)").into_with_arg("value", text.clone()))?;
    let t = if end { jiff::civil::Time::MAX } else { jiff::civil::Time::MIN };
    Ok(date.to_datetime(t).to_zoned_datetime(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp().as_millisecond()))
}

/// Events that raised alerts within the reader's companies, newest first, by time, source,
/// host, user and text.
pub async fn search_events(app: &App, who: &Principal, q: &EventQuery) -> Result<Page<EventHit>> {
    use isms_store::sea_orm::sea_query::Query;
    let (from, to) = (day_ms("from", &q.from, false)?, day_ms("to", &q.to, true)?);
    let mut alerts_in = Query::select();
    alerts_in.column(alert::Column::Id).from(alert::Entity).cond_where(visible(who)?);
    if let Some(s) = blank_to_none(&q.source_id) {
        alerts_in.and_where(Expr::col(alert::Column::SourceId).eq(s));
    }
    let mut f = alert_event::Entity::find().filter(alert_event::Column::AlertId.in_subquery(alerts_in.to_owned()));
    if let Some(t) = from {
        f = f.filter(alert_event::Column::AtMs.gte(t));
    }
    if let Some(t) = to {
        f = f.filter(alert_event::Column::AtMs.lte(t));
    }
    f = f.filter(q.text_filter(alert_event::Column::Host, alert_event::Column::UserName, alert_event::Column::Raw));
    let db = app.store.conn();
    let total = f.clone().count(db).await?;
    let rows = f
        .order_by_desc(alert_event::Column::AtMs)
        .order_by_asc(alert_event::Column::AlertId)
        .order_by_asc(alert_event::Column::Seq)
        .offset(isms_store::page_offset(q.offset.unwrap_or(0)))
        .limit(q.limit.unwrap_or(50).clamp(1, 500))
        .all(db)
        .await?;
    let ids: Vec<String> = rows.iter().map(|r| r.alert_id.clone()).collect();
    let alerts: std::collections::HashMap<String, alert::Model> =
        alert::Entity::find().filter(alert::Column::Id.is_in(ids)).all(db).await?.into_iter().map(|a| (a.id.clone(), a)).collect();
    let items = rows
        .into_iter()
        .filter_map(|r| {
            let a = alerts.get(&r.alert_id)?;
            Some(EventHit {
                alert_id: r.alert_id,
                alert_title: a.title.clone(),
                severity: Severity::parse(&a.severity).unwrap_or(Severity::Medium),
                company_id: a.company_id.clone(),
                source_id: a.source_id.clone(),
                at_ms: r.at_ms,
                host: r.host,
                user_name: r.user_name,
                raw: r.raw,
            })
        })
        .collect();
    Ok(Page { items, total })
}
