//! A campaign's results: per company and department, how many were sent, bounced, opened
//! (unreliable), clicked, submitted, opened the attachment, replied and reported, counted
//! from the recipients' rows (people only: machine requests never count), and one page of
//! recipients at a time, so a campaign of a hundred thousand opens as fast as one of ten.

use crate::campaigns::{self, names_visible};
use isms_kernel::{App, Principal, Result};
use isms_store::drills::{event, recipient};
use isms_store::sea_orm::sea_query::{Expr, ExprTrait as _};
use isms_store::sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Tally {
    pub company_id: String,
    pub department_id: Option<String>,
    pub recipients: i64,
    pub sent: i64,
    pub bounced: i64,
    /// Opens are unreliable: image proxies fetch for everyone, blocked images hide them.
    pub opened: i64,
    pub clicked: i64,
    pub submitted: i64,
    pub attachment_opened: i64,
    pub replied: i64,
    pub reported: i64,
    /// Requests judged a machine's (gateways, scanners), which counted for nobody.
    pub machine_hits: i64,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.recipients += o.recipients;
        self.sent += o.sent;
        self.bounced += o.bounced;
        self.opened += o.opened;
        self.clicked += o.clicked;
        self.submitted += o.submitted;
        self.attachment_opened += o.attachment_opened;
        self.replied += o.replied;
        self.reported += o.reported;
        self.machine_hits += o.machine_hits;
    }

    /// Whoever fell for the lure: clicked, submitted, opened the attachment or replied.
    pub fn failed(&self) -> i64 {
        [self.clicked, self.submitted, self.attachment_opened, self.replied].into_iter().fold(0, Ord::max)
    }

    pub fn percent(&self, n: i64) -> u32 {
        isms_core::training::share(u64::try_from(n).unwrap_or(0), u64::try_from(self.sent).unwrap_or(0))
    }
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Results {
    pub total: Tally,
    /// One row per company and department reached.
    pub by_department: Vec<Tally>,
    /// Minutes from sending to the earliest report of anyone.
    pub minutes_to_first_report: Option<i64>,
}

/// The campaign's tallies, within the companies `who` reads.
pub async fn results(app: &App, who: &Principal, campaign_id: &str) -> Result<Results> {
    let c = campaigns::get(app, who, campaign_id).await?;
    let within = who.within(isms_core::Permission::DrillsRead)?;
    let db = app.store.conn();
    let mut q = recipient::Entity::find().filter(recipient::Column::CampaignId.eq(c.id.clone()));
    if let Some(w) = &within {
        q = q.filter(recipient::Column::CompanyId.is_in(w.clone()));
    }
    let cnt = |col: recipient::Column| Expr::col(col).count();
    let rows: Vec<(String, Option<String>, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)> = q
        .clone()
        .select_only()
        .column(recipient::Column::CompanyId)
        .column(recipient::Column::DepartmentId)
        .column_as(cnt(recipient::Column::Id), "n")
        .column_as(cnt(recipient::Column::SentMs), "sent")
        .column_as(Expr::cust("CAST(SUM(CASE WHEN state IN ('bounced', 'failed') THEN 1 ELSE 0 END) AS BIGINT)"), "bounced")
        .column_as(cnt(recipient::Column::OpenedMs), "opened")
        .column_as(cnt(recipient::Column::ClickedMs), "clicked")
        .column_as(cnt(recipient::Column::SubmittedMs), "submitted")
        .column_as(cnt(recipient::Column::AttachmentMs), "attachment")
        .column_as(cnt(recipient::Column::RepliedMs), "replied")
        .column_as(cnt(recipient::Column::ReportedMs), "reported")
        .column_as(Expr::cust("CAST(SUM(machine_hits) AS BIGINT)"), "machine")
        .group_by(recipient::Column::CompanyId)
        .group_by(recipient::Column::DepartmentId)
        .into_tuple()
        .all(db)
        .await?;
    let mut out = Results::default();
    for (company_id, department_id, n, sent, bounced, opened, clicked, submitted, attachment, replied, reported, machine) in rows {
        let t = Tally {
            company_id,
            department_id,
            recipients: n,
            sent,
            bounced,
            opened,
            clicked,
            submitted,
            attachment_opened: attachment,
            replied,
            reported,
            machine_hits: machine,
        };
        out.total.add(&t);
        out.by_department.push(t);
    }
    out.by_department.sort_by(|a, b| (&a.company_id, &a.department_id).cmp(&(&b.company_id, &b.department_id)));
    let mut waits: Vec<i64> = q
        .filter(recipient::Column::ReportedMs.is_not_null())
        .filter(recipient::Column::SentMs.is_not_null())
        .select_only()
        .column_as(Expr::col(recipient::Column::ReportedMs).sub(Expr::col(recipient::Column::SentMs)), "wait")
        .into_tuple()
        .all(db)
        .await?;
    waits.sort_unstable();
    out.minutes_to_first_report = waits.first().map(|w| w / 60_000);
    Ok(out)
}

/// One recipient as the results list shows them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecipientRow {
    pub id: String,
    /// Shown only to who may see names; otherwise `None`.
    pub person_id: Option<String>,
    pub email: Option<String>,
    pub company_id: String,
    pub department_id: Option<String>,
    pub state: String,
    pub sent_ms: Option<i64>,
    pub clicked_ms: Option<i64>,
    pub submitted_ms: Option<i64>,
    pub attachment_ms: Option<i64>,
    pub replied_ms: Option<i64>,
    pub reported_ms: Option<i64>,
    pub machine_hits: i32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecipientPage {
    pub items: Vec<RecipientRow>,
    pub total: u64,
}

/// A page of the campaign's recipients (50 a page), those who fell for it first.
pub async fn recipients(app: &App, who: &Principal, campaign_id: &str, page: u64) -> Result<RecipientPage> {
    let c = campaigns::get(app, who, campaign_id).await?;
    let named = names_visible(who, &c);
    let within = who.within(isms_core::Permission::DrillsRead)?;
    let mut q = recipient::Entity::find().filter(recipient::Column::CampaignId.eq(c.id.clone()));
    if let Some(w) = within {
        q = q.filter(recipient::Column::CompanyId.is_in(w));
    }
    let p = q.order_by_asc(recipient::Column::PlannedMs).order_by_asc(recipient::Column::Id).paginate(app.store.conn(), 50);
    let total = p.num_items().await?;
    let items = p
        .fetch_page(page)
        .await?
        .into_iter()
        .map(|r| RecipientRow {
            id: r.id,
            person_id: named.then_some(r.person_id),
            email: named.then_some(r.email),
            company_id: r.company_id,
            department_id: r.department_id,
            state: r.state,
            sent_ms: r.sent_ms,
            clicked_ms: r.clicked_ms,
            submitted_ms: r.submitted_ms,
            attachment_ms: r.attachment_ms,
            replied_ms: r.replied_ms,
            reported_ms: r.reported_ms,
            machine_hits: r.machine_hits,
        })
        .collect();
    Ok(RecipientPage { items, total })
}

/// One recorded request or signal, as the recipient's trace shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Trace {
    pub kind: String,
    pub at_ms: i64,
    pub method: String,
    pub ip: String,
    pub agent: String,
    pub verdict: String,
    pub reason: Option<String>,
}

/// A recipient's recorded requests with the verdict and its reason, for who may see names.
pub async fn trace(app: &App, who: &Principal, campaign_id: &str, recipient_id: &str) -> Result<Vec<Trace>> {
    let c = campaigns::get(app, who, campaign_id).await?;
    if !names_visible(who, &c) {
        return Err(isms_kernel::AppError::Forbidden);
    }
    let db = app.store.conn();
    let r = recipient::Entity::find_by_id(recipient_id.to_owned()).one(db).await?.ok_or(isms_kernel::AppError::NotFound)?;
    if r.campaign_id != c.id || !crate::reads(who, Some(&r.company_id)) {
        return Err(isms_kernel::AppError::NotFound);
    }
    Ok(event::Entity::find()
        .filter(event::Column::RecipientId.eq(r.id))
        .order_by_asc(event::Column::AtMs)
        .all(db)
        .await?
        .into_iter()
        .map(|e| Trace { kind: e.kind, at_ms: e.at_ms, method: e.method, ip: e.ip, agent: e.agent, verdict: e.verdict, reason: e.reason })
        .collect())
}
