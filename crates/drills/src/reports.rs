//! Reports of drill mails: a forwarded or attached drill mail, pasted by the security
//! desk or fetched from the report mailbox, names its recipient by the token in its
//! links, its `X-Drill-Ref` header or its Message-ID (quoted in a reply's In-Reply-To),
//! or by the reference code printed in its body. The first report of each recipient
//! counts; later ones are kept as events only. A token of a campaign `who` does not run
//! is not theirs to record and counts as unknown.

use isms_core::drills::{EventKind, references_in, tokens_in};
use isms_kernel::{App, Principal, Result, record};
use isms_store::drills::{campaign, event, recipient};
use isms_store::now_ms;
use isms_store::sea_orm::sea_query::Expr;
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use serde_json::json;

/// One recipient a report named.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = DrillReportMatch)]
pub struct Matched {
    pub campaign_id: String,
    pub campaign_name: String,
    pub recipient_id: String,
    pub company_id: String,
    /// Whether this was the recipient's first report (it counts in the results).
    pub first: bool,
    /// Whether the recipient had already fallen for the drill before reporting.
    pub fell_first: bool,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
#[schema(as = DrillReportOutcome)]
pub struct Outcome {
    pub matched: Vec<Matched>,
    /// Tokens or reference codes found that are not of a campaign `who` runs.
    pub unknown: usize,
}

/// The recipients `text` names, each once: full tokens first, then reference codes.
async fn named(app: &App, text: &str) -> Result<(Vec<recipient::Model>, usize)> {
    let db = app.store.conn();
    let mut found: Vec<recipient::Model> = vec![];
    let mut unknown = 0;
    for t in tokens_in(text) {
        match recipient::Entity::find().filter(recipient::Column::Token.eq(t)).one(db).await? {
            Some(r) if !found.iter().any(|f| f.id == r.id) => found.push(r),
            Some(_) => {}
            None => unknown += 1,
        }
    }
    for code in references_in(text) {
        if found.iter().any(|f| f.token.starts_with(&code)) {
            continue;
        }
        match recipient::Entity::find().filter(recipient::Column::Token.starts_with(&code)).one(db).await? {
            Some(r) => found.push(r),
            None => unknown += 1,
        }
    }
    Ok((found, unknown))
}

/// Records the report `text` (a mail's source, a forward, a pasted reference code) as
/// `who`, from `source` (`desk`, `mailbox`).
pub async fn report(app: &App, who: &Principal, text: &str, source: &str) -> Result<Outcome> {
    let (found, mut unknown) = named(app, text).await?;
    let mut out = Outcome { unknown: 0, matched: vec![] };
    let now = now_ms();
    for r in found {
        let txn = app.store.write().await?;
        let Some(c) = campaign::Entity::find_by_id(r.campaign_id.clone()).one(&txn).await? else {
            unknown += 1;
            continue;
        };
        if !crate::reads(who, c.company_id.as_deref()) || !crate::manages(who, c.company_id.as_deref()) {
            unknown += 1;
            continue;
        }
        event::ActiveModel {
            id: Set(crate::new_id()),
            recipient_id: Set(r.id.clone()),
            campaign_id: Set(r.campaign_id.clone()),
            kind: Set(EventKind::Reported.code().into()),
            at_ms: Set(now),
            method: Set(String::new()),
            ip: Set(String::new()),
            agent: Set(String::new()),
            verdict: Set("human".into()),
            reason: Set(None),
            detail: Set(source.chars().take(32).collect()),
        }
        .insert(&txn)
        .await?;
        // Only the first report sets the time: a conditional update, so two desks pasting
        // the same mail at once count it once.
        let first = recipient::Entity::update_many()
            .col_expr(recipient::Column::ReportedMs, Expr::value(now))
            .filter(recipient::Column::Id.eq(r.id.clone()))
            .filter(recipient::Column::ReportedMs.is_null())
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        if first {
            record(app, &txn, who, "drills.report.record", "drill_recipient", Some(&r.id), Some(&r.company_id), json!({"campaign_id": c.id, "source": source}))
                .await?;
        }
        // A click waiting for its second signal after this report is a ticket system's.
        crate::track::rejudge(app, &txn, &r.id, now).await?;
        txn.commit().await?;
        out.matched.push(Matched {
            campaign_id: c.id,
            campaign_name: c.name,
            recipient_id: r.id.clone(),
            company_id: r.company_id.clone(),
            first,
            fell_first: crate::remedial::fell(&r).is_some_and(|f| f < now),
        });
    }
    out.unknown = unknown;
    Ok(out)
}
