//! The audit log table and its chain head. Appending takes the head row first, so on
//! PostgreSQL concurrent writers (on any instance) queue on that row and the chain stays
//! one chain; on SQLite the write transaction already serialises them.

use isms_core::audit::{self as chain, Entry, Fault, Stored, Verifier};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ActiveValue::Set, Condition, ConnectionTrait, DbErr, PaginatorTrait, QueryOrder, QuerySelect};

pub mod log {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_log")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i64,
        pub at_ms: i64,
        pub actor: String,
        pub action: String,
        pub entity: String,
        pub record_id: Option<String>,
        pub company_id: Option<String>,
        pub detail: String,
        pub prev_hash: String,
        pub hash: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod head {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_head")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub seq: i64,
        pub hash: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What a use case records; the sequence number, time and hashes are added here.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub record_id: Option<String>,
    pub company_id: Option<String>,
    pub detail: serde_json::Value,
}

/// Appends one entry inside the caller's transaction and returns its sequence number.
pub async fn append(db: &impl ConnectionTrait, key: &[u8], e: NewEntry) -> Result<i64, DbErr> {
    // Claim the next number first: this write locks the head row until commit.
    let bump = Query::update()
        .table(head::Entity)
        .value(head::Column::Seq, Expr::col(head::Column::Seq).add(1))
        .and_where(Expr::col(head::Column::Id).eq(1))
        .returning(Query::returning().columns([head::Column::Seq, head::Column::Hash]))
        .to_owned();
    let row = db.query_one(&bump).await?.ok_or_else(|| DbErr::RecordNotFound("audit head".into()))?;
    let seq: i64 = row.try_get("", "seq")?;
    let prev: String = row.try_get("", "hash")?;
    let entry = Entry {
        seq,
        at_ms: crate::now_ms(),
        actor: e.actor,
        action: e.action,
        entity: e.entity,
        record_id: e.record_id,
        company_id: e.company_id,
        detail: e.detail.to_string(),
    };
    let hash = chain::entry_hash(key, &prev, &entry);
    log::Entity::insert(log::ActiveModel {
        seq: Set(entry.seq),
        at_ms: Set(entry.at_ms),
        actor: Set(entry.actor),
        action: Set(entry.action),
        entity: Set(entry.entity),
        record_id: Set(entry.record_id),
        company_id: Set(entry.company_id),
        detail: Set(entry.detail),
        prev_hash: Set(prev),
        hash: Set(hash.clone()),
    })
    .exec_without_returning(db)
    .await?;
    head::Entity::update_many().col_expr(head::Column::Hash, Expr::val(hash)).filter(head::Column::Id.eq(1)).exec(db).await?;
    Ok(seq)
}

/// Walks the whole chain in pages and reports the first fault, or the count. Give it a
/// snapshot (`Store::snapshot`): the head and the entries must be read at one moment, or
/// entries appended during the walk look like a broken chain. `progress` is called with
/// (entries checked, entries in the head).
pub async fn verify(
    db: &impl ConnectionTrait,
    key: &[u8],
    checkpoint: Option<chain::Checkpoint>,
    mut progress: impl FnMut(u64, u64),
) -> Result<Result<u64, Fault>, DbErr> {
    let Some(head) = head::Entity::find_by_id(1).one(db).await? else { return Ok(Err(Fault::HeadMissing)) };
    let mut v = Verifier::new(key).with_checkpoint(checkpoint);
    let mut after = 0i64;
    let mut checked = 0u64;
    const PAGE: u64 = 5_000;
    loop {
        let rows = log::Entity::find().filter(log::Column::Seq.gt(after)).order_by_asc(log::Column::Seq).limit(PAGE).all(db).await?;
        let n = rows.len() as u64;
        for r in rows {
            after = r.seq;
            let s = Stored {
                entry: Entry {
                    seq: r.seq,
                    at_ms: r.at_ms,
                    actor: r.actor,
                    action: r.action,
                    entity: r.entity,
                    record_id: r.record_id,
                    company_id: r.company_id,
                    detail: r.detail,
                },
                prev_hash: r.prev_hash,
                hash: r.hash,
            };
            if let Err(f) = v.push(&s) {
                return Ok(Err(f));
            }
        }
        checked += n;
        progress(checked, Ord::max(head.seq, 0) as u64);
        if n < PAGE {
            break;
        }
    }
    Ok(v.finish(head.seq, &head.hash))
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action_prefix: Option<String>,
    pub entity: Option<String>,
    pub record_id: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Entries before this sequence number (keyset pagination, newest first).
    pub before_seq: Option<i64>,
    pub limit: u64,
    /// Records whose entries the reader may not see (a need-to-know case): entity and ids.
    pub hidden: Vec<(String, Vec<String>)>,
}

/// Entries newest first. `within`: the companies the reader may see (`None`: everything,
/// including group-level entries).
pub async fn list(db: &impl ConnectionTrait, within: Option<&[String]>, q: &AuditQuery) -> Result<(Vec<log::Model>, u64), DbErr> {
    use log::Column as C;
    let mut cond = Condition::all();
    if let Some(list) = within {
        cond = cond.add(C::CompanyId.is_in(list.iter().cloned()));
    }
    if let Some(a) = &q.actor {
        cond = cond.add(C::Actor.eq(a.clone()));
    }
    if let Some(a) = q.action_prefix.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(C::Action.starts_with(a));
    }
    if let Some(e) = &q.entity {
        cond = cond.add(C::Entity.eq(e.clone()));
    }
    if let Some(r) = &q.record_id {
        cond = cond.add(C::RecordId.eq(r.clone()));
    }
    if let Some(f) = q.from_ms {
        cond = cond.add(C::AtMs.gte(f));
    }
    if let Some(t) = q.to_ms {
        cond = cond.add(C::AtMs.lt(t));
    }
    for (entity, ids) in q.hidden.iter().filter(|(_, ids)| !ids.is_empty()) {
        cond = cond.add(Condition::any().add(C::Entity.ne(entity.clone())).add(C::RecordId.is_null()).add(C::RecordId.is_not_in(ids.iter().cloned())));
    }
    let total = log::Entity::find().filter(cond.clone()).count(db).await?;
    if let Some(b) = q.before_seq {
        cond = cond.add(C::Seq.lt(b));
    }
    let rows = log::Entity::find().filter(cond).order_by_desc(C::Seq).limit(q.limit.clamp(1, 100_000)).all(db).await?;
    Ok((rows, total))
}

/// The chain's head now, for a checkpoint.
pub async fn current_head(db: &impl ConnectionTrait) -> Result<Option<(i64, String)>, DbErr> {
    Ok(head::Entity::find_by_id(1).one(db).await?.map(|h| (h.seq, h.hash)))
}
