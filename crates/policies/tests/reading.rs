//! Reading confirmation on both backends, without the web layer: a week's grace after
//! publishing, then one reminder a week to those who have not read, never to those who have.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step is a failed test")]

use isms_org::accounts::acting_as;
use isms_policies::documents::{self, DocQuery};
use isms_policies::reading;
use isms_testdb::{TestApp, backends};

#[tokio::test]
async fn those_who_have_not_read_are_reminded_weekly() {
    use isms_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    for b in backends() {
        let s = TestApp::start(b).await;
        let group = s.group().await;
        isms_policies::demo::load(&s.app, &group).await.unwrap();
        let app = &s.app;
        let sys = isms_kernel::Principal::system();
        let employee = acting_as(app, "employee").await.unwrap();
        let q = DocQuery { search: Some("POL-001".into()), limit: 10, ..Default::default() };
        let doc = documents::list(app, &sys, &q).await.unwrap().items.into_iter().find(|d| d.code == "POL-001").unwrap();
        reading::acknowledge(app, &employee, &doc.id).await.unwrap();
        // A week's grace after publishing: nobody is reminded yet.
        assert_eq!(reading::remind_unacknowledged_weekly(app).await.unwrap(), 0, "{b:?}");
        let week_ago = isms_store::now_ms() - 8 * 86_400_000;
        isms_store::policies::version::Entity::update_many()
            .col_expr(isms_store::policies::version::Column::PublishedMs, isms_store::sea_orm::sea_query::Expr::val(week_ago))
            .filter(isms_store::policies::version::Column::DocumentId.eq(doc.id.clone()))
            .exec(s.db.store.conn())
            .await
            .unwrap();
        let p = reading::progress(app, &sys, &doc.id).await.unwrap();
        let n = reading::remind_unacknowledged_weekly(app).await.unwrap();
        assert_eq!(n as u64, p.asked - p.acknowledged, "{b:?}");
        assert_eq!(reading::remind_unacknowledged_weekly(app).await.unwrap(), 0, "once a week");
        let mine = isms_kernel::notify::inbox(app, &employee, false, 100).await.unwrap();
        assert!(!mine.iter().any(|n| n.kind == "policy-acknowledge-reminder"), "not those who have read it");
        s.db.drop_schema().await;
    }
}
