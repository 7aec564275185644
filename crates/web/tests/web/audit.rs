//! The audit chain: intact after real use, and every kind of tampering named by entry.

use isms_core::audit::Fault;
use isms_store::Store;
use isms_store::sea_orm::ConnectionTrait;
use isms_testkit::{TestServer, backends};

async fn verify(s: &TestServer) -> Result<u64, Fault> {
    isms_app::audit::verify(&s.app, |_, _| {}).await.unwrap()
}

async fn exec(s: &TestServer, sql: &str) {
    s.app.store.conn().execute_unprepared(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[tokio::test]
async fn tampering_is_found_and_named() {
    for b in backends() {
        // Altered.
        let s = TestServer::start(b).await;
        s.demo().await;
        let n = verify(&s).await.expect("intact after the demo load");
        assert!(n > 250);
        exec(&s, "UPDATE audit_log SET detail = '{\"after\":\"forged\"}' WHERE seq = 42").await;
        assert_eq!(verify(&s).await, Err(Fault::Altered { seq: 42 }), "{b:?}");
        s.db.drop_schema().await;

        // Removed.
        let s = TestServer::start(b).await;
        s.demo().await;
        exec(&s, "DELETE FROM audit_log WHERE seq = 17").await;
        assert_eq!(verify(&s).await, Err(Fault::Gap { seq: 17, prev: 16, next: 18 }), "{b:?}");
        s.db.drop_schema().await;

        // Reordered: entries 30 and 31 swap places (their numbers swapped).
        let s = TestServer::start(b).await;
        s.demo().await;
        exec(&s, "UPDATE audit_log SET seq = -1 WHERE seq = 30").await;
        exec(&s, "UPDATE audit_log SET seq = 30 WHERE seq = 31").await;
        exec(&s, "UPDATE audit_log SET seq = 31 WHERE seq = -1").await;
        assert_eq!(verify(&s).await, Err(Fault::Reordered { seq: 30, belongs_at: 31 }), "{b:?}");
        s.db.drop_schema().await;

        // Cut from the end.
        let s = TestServer::start(b).await;
        s.demo().await;
        let n = verify(&s).await.unwrap() as i64;
        exec(&s, &format!("DELETE FROM audit_log WHERE seq > {}", n - 3)).await;
        assert_eq!(verify(&s).await, Err(Fault::Truncated { last: n - 3, head: n }), "{b:?}");
        s.db.drop_schema().await;

        // Emptied, and the head deleted: each said as what it is.
        let s = TestServer::start(b).await;
        s.demo().await;
        let n = verify(&s).await.unwrap() as i64;
        exec(&s, "DELETE FROM audit_log").await;
        assert_eq!(verify(&s).await, Err(Fault::Emptied { head: n }), "{b:?}");
        exec(&s, "DELETE FROM audit_head").await;
        assert_eq!(verify(&s).await, Err(Fault::HeadMissing), "{b:?}");
        s.db.drop_schema().await;
    }
}

/// Cutting the newest entries and rewriting the head to the last one kept leaves a chain
/// that is consistent in itself: only the checkpoint kept outside the database shows it.
#[tokio::test]
async fn a_cut_tail_with_a_rewritten_head_is_found_by_the_checkpoint() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("audit.checkpoint");
        let app = isms_app::App::new(
            s.app.store.clone(),
            isms_app::AppConfig { checkpoint_file: Some(file.clone()), ..isms_testkit::test_config() },
            isms_testkit::AUDIT_KEY.to_vec(),
        );
        let n = isms_app::audit::write_checkpoint(&app).await.unwrap().expect("a checkpoint");
        assert_eq!(isms_app::audit::write_checkpoint(&app).await.unwrap(), None, "nothing new to record");
        assert_eq!(isms_app::audit::verify(&app, |_, _| {}).await.unwrap(), Ok(n as u64));
        let keep = n - 5;
        exec(&s, &format!("DELETE FROM audit_log WHERE seq > {keep}")).await;
        exec(&s, &format!("UPDATE audit_head SET seq = {keep}, hash = (SELECT hash FROM audit_log WHERE seq = {keep})")).await;
        assert_eq!(verify(&s).await, Ok(keep as u64), "{b:?}: without the checkpoint the cut is invisible");
        assert_eq!(isms_app::audit::verify(&app, |_, _| {}).await.unwrap(), Err(Fault::BehindCheckpoint { last: keep, checkpoint: n }), "{b:?}");
        // The file itself cannot be edited without the key.
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, text.replace(&format!(" {n} "), &format!(" {keep} "))).unwrap();
        assert_eq!(isms_app::audit::verify(&app, |_, _| {}).await.unwrap(), Err(Fault::CheckpointForged), "{b:?}");
        s.db.drop_schema().await;
    }
}

/// A hook that asks for checkpoints receives the signed line, at most once per five
/// minutes, so a copy of the head lives outside this machine too.
#[tokio::test]
async fn checkpoints_reach_a_hook_that_asks_for_them() {
    use isms_app::notify::{Delivery, HookConfig, HookFormat, HookSender, HookTarget, deliver_hooks};
    let hook = isms_testkit::hook::Receiver::start("/collector", 0).await;
    let addr = hook.addr;
    for b in backends() {
        hook.reset();
        let s = TestServer::start(b).await;
        s.demo().await;
        let dir = tempfile::tempdir().unwrap();
        let hooks = vec![HookConfig { name: "collector".into(), events: vec![isms_app::audit::CHECKPOINT_EVENT.into()] }];
        let app = isms_app::App::new(
            s.app.store.clone(),
            isms_app::AppConfig { checkpoint_file: Some(dir.path().join("audit.checkpoint")), webhooks: hooks, ..isms_testkit::test_config() },
            isms_testkit::AUDIT_KEY.to_vec(),
        );
        let bucket = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() / 300_000;
        let start = bucket();
        let n = isms_app::audit::write_checkpoint(&app).await.unwrap().expect("a checkpoint");
        isms_app::accounts::create_user(
            &app,
            &isms_app::Principal::system(),
            isms_app::accounts::NewUser {
                username: "one-more-entry".into(),
                display_name: "x".into(),
                password: isms_testkit::PASSWORD.into(),
                person_id: None,
                grants: vec![],
            },
        )
        .await
        .unwrap();
        assert!(isms_app::audit::write_checkpoint(&app).await.unwrap().is_some_and(|m| m > n));
        let sender = HookSender::new(
            vec![HookTarget { name: "collector".into(), url: format!("http://{addr}/collector"), format: HookFormat::Json, language: "en".into() }],
            std::time::Duration::from_secs(5),
        )
        .unwrap();
        let r = isms_web::notices::MailText { i18n: std::sync::Arc::new(isms_web::catalogs().unwrap()), public_url: s.base.clone() };
        let sent = deliver_hooks(&app, &sender, &r, 10).await.unwrap();
        // Two checkpoints in one five-minute bucket give one event (two if the bucket turned).
        let expected = if bucket() == start { 1 } else { 2 };
        assert_eq!(sent, Delivery { sent: expected, retrying: 0, failed: 0 }, "{b:?}");
        let bodies = hook.bodies();
        let text = bodies[0].to_string();
        let line = bodies[0]["args"]["line"].as_str().unwrap_or_else(|| panic!("{b:?}: no line in {text}"));
        let c = isms_core::audit::Checkpoint::from_line(isms_testkit::AUDIT_KEY, line).unwrap();
        assert_eq!(c.seq, n, "{b:?}");
        s.db.drop_schema().await;
    }
}

/// Verifying while another instance writes reads one moment of the chain: never a false alarm.
#[tokio::test]
async fn verifying_under_write_load_raises_no_false_alarm() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let sys = isms_app::Principal::system();
        let company = isms_app::org::list_companies(&s.app, &sys).await.unwrap()[0].id.clone();
        let writer = {
            let (app, sys) = (s.app.clone(), sys.clone());
            tokio::spawn(async move {
                for j in 0..60 {
                    isms_app::org::create_department(
                        &app,
                        &sys,
                        isms_app::org::DepartmentInput { company_id: company.clone(), code: format!("W{j}"), name: format!("Written during a check {j}") },
                    )
                    .await
                    .unwrap();
                }
            })
        };
        let mut runs = 0;
        while !writer.is_finished() {
            let r = verify(&s).await;
            assert!(r.is_ok(), "{b:?}: run {runs}: {r:?}");
            runs += 1;
        }
        writer.await.unwrap();
        assert!(runs >= 2, "{b:?}: the check ran while the writer wrote ({runs} runs)");
        assert!(verify(&s).await.is_ok());
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn concurrent_writers_on_two_instances_keep_one_chain() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        // A second instance: its own connection pool on the same database.
        let store2 = Store::connect(&s.db.url, s.db.options()).await.unwrap();
        let app2 = isms_app::App::new(store2, isms_testkit::test_config(), isms_testkit::AUDIT_KEY.to_vec());
        let sys = isms_app::Principal::system();
        let companies = isms_app::org::list_companies(&s.app, &sys).await.unwrap();
        let mut tasks = vec![];
        for (i, app) in [s.app.clone(), app2.clone()].into_iter().enumerate() {
            for j in 0..10 {
                let app = app.clone();
                let sys = sys.clone();
                let company = companies[(i + j) % companies.len()].id.clone();
                tasks.push(tokio::spawn(async move {
                    isms_app::org::create_department(
                        &app,
                        &sys,
                        isms_app::org::DepartmentInput { company_id: company, code: format!("C{i}X{j}"), name: format!("Concurrent {i}/{j}") },
                    )
                    .await
                    .unwrap();
                }));
            }
        }
        for t in tasks {
            t.await.unwrap();
        }
        let before = verify(&s).await.expect("one unbroken chain");
        assert!(before > 270, "{b:?}: {before}");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn a_change_and_its_audit_entry_commit_together() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        // Break the audit head so appending fails: the change must not be kept either.
        exec(&s, "DELETE FROM audit_head").await;
        let sys = isms_app::Principal::system();
        let companies = isms_app::org::list_companies(&s.app, &sys).await.unwrap();
        let r = isms_app::org::create_department(
            &s.app,
            &sys,
            isms_app::org::DepartmentInput { company_id: companies[0].id.clone(), code: "GHOST".into(), name: "Ghost".into() },
        )
        .await;
        assert!(r.is_err());
        let deps = isms_app::org::list_departments(&s.app, &sys).await.unwrap();
        assert!(deps.iter().all(|d| d.code != "GHOST"), "{b:?}: change kept without its audit entry");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn two_instances_migrating_at_once_apply_each_migration_once() {
    // A fresh, empty PostgreSQL schema; both instances start together.
    let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
    let admin = Store::connect(&isms_testkit::pg_url(), isms_store::StoreOptions { max_connections: Some(1), ..Default::default() }).await.unwrap();
    admin.conn().execute_unprepared(&format!("CREATE SCHEMA {schema}")).await.unwrap();
    let opts = || isms_store::StoreOptions { pg_schema: Some(schema.clone()), max_connections: Some(2) };
    let a = Store::connect(&isms_testkit::pg_url(), opts()).await.unwrap();
    let b = Store::connect(&isms_testkit::pg_url(), opts()).await.unwrap();
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    ra.expect("first instance migrates");
    rb.expect("second instance waits, then finds nothing to do");
    let (applied, pending) = isms_store::migrations::status(a.conn()).await.unwrap();
    let mut unique = applied.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), applied.len(), "{applied:?}");
    assert!(["m0001_foundation", "m0002_assets"].iter().all(|m| applied.iter().any(|a| a.contains(m))), "{applied:?}");
    assert!(pending.is_empty());
    admin.conn().execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE")).await.unwrap();
}

/// A session of a demo account, its second factor set up as a privileged role needs.
async fn session_of(s: &TestServer, username: &str) -> isms_testkit::Session {
    use isms_store::accounts::user;
    use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
    let u = user::Entity::find().filter(user::Column::Username.eq(username)).one(s.app.store.conn()).await.unwrap().unwrap();
    let id = u.id.clone();
    let mut am = u.into_active_model();
    am.totp_secret = Set(Some(s.app.fields().seal("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").unwrap()));
    am.totp_enabled = Set(true);
    am.update(s.app.store.conn()).await.unwrap();
    isms_testkit::session_for(&s.app, &id).await
}

/// An auditor reads the trail in words: names of people and records, actions and kinds
/// named in the page's language, local times; checks the chain from the page; and
/// exports a CSV that Excel opens as Japanese.
#[tokio::test]
async fn an_auditor_reads_the_trail_in_words_and_checks_the_chain() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let auditor = session_of(&s, "auditor").await;
        let page = auditor.client.get(s.url("/audit?action=incidents.")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("インシデント報告"), "{b:?}: the action in words");
        assert!(page.contains("INC-20"), "{b:?}: the case by its reference");
        assert!(!page.contains(">user:"), "{b:?}: no raw actor ids");
        assert!(page.contains("Asia/Tokyo"), "{b:?}: the time zone is said");
        for code in isms_web::pages::audit::ENTITIES {
            assert!(!page.contains(&format!(">{code}<")), "{b:?}: the kind {code} is named, not coded");
        }
        // The chain check, from the page, says what it found and is itself recorded.
        let form = [("_csrf", auditor.csrf.as_str())];
        let r = auditor.client.post(s.url("/audit/verify")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 200, "{b:?}");
        let page = r.text().await.unwrap();
        assert!(page.contains("id=\"chain-check\"") && page.contains("改ざんされていません"), "{b:?}");
        exec(&s, "UPDATE audit_log SET detail = '{\"after\":\"forged\"}' WHERE seq = 42").await;
        let page = auditor.client.post(s.url("/audit/verify")).form(&form).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("role=\"alert\" id=\"chain-check\"") && page.contains("42"), "{b:?}: the altered entry is named");
        // A company's security administrator sees the trail of their company, not the chain.
        let secadmin = session_of(&s, "secadmin").await;
        let r = secadmin.client.post(s.url("/audit/verify")).form(&[("_csrf", secadmin.csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 403, "{b:?}");
        // The export: a byte-order mark, headings and actions in Japanese, times with their offset.
        let csv = auditor.client.get(s.url("/audit/export.csv")).send().await.unwrap().bytes().await.unwrap();
        assert!(csv.starts_with(b"\xEF\xBB\xBF"), "{b:?}: BOM");
        let text = std::str::from_utf8(&csv[3..]).unwrap();
        let first = text.lines().next().unwrap();
        assert!(first.starts_with("番号,日時,実行者,操作,操作コード"), "{b:?}: {first}");
        assert!(text.contains("+09:00") && (text.contains("監査ログ出力") || text.contains("改ざん検知")), "{b:?}");
        assert!(!text.contains(",user:"), "{b:?}: actors by name");
        s.db.drop_schema().await;
    }
}
