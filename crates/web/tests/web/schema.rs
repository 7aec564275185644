//! The schema the migrations build, on both backends: every foreign key has an index
//! that starts with its column (or the table's primary key does), so a delete or a join
//! through it never scans the referencing table.

use isms_store::sea_orm::{ConnectionTrait, Statement};
use isms_testkit::{Backend, TestDb, backends};

async fn rows(db: &TestDb, sql: &str) -> Vec<Vec<String>> {
    let conn = db.store.conn();
    let res = conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql.to_owned())).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    res.iter().map(|r| (0..r.column_names().len()).map(|i| r.try_get_by_index::<String>(i).unwrap_or_default()).collect()).collect()
}

/// (table, column) of every single-column foreign key, and (table, first column) of every
/// index and primary key.
async fn keys_and_indexes(db: &TestDb) -> (Vec<(String, String)>, Vec<(String, String)>) {
    match db.backend {
        Backend::Sqlite => {
            let tables: Vec<String> = rows(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_fts%'")
                .await
                .into_iter()
                .map(|r| r[0].clone())
                .collect();
            let (mut fks, mut idx) = (vec![], vec![]);
            for t in &tables {
                for r in rows(db, &format!("SELECT \"from\" FROM pragma_foreign_key_list('{t}')")).await {
                    fks.push((t.clone(), r[0].clone()));
                }
                for r in rows(db, &format!("SELECT name FROM pragma_table_info('{t}') WHERE pk = 1")).await {
                    idx.push((t.clone(), r[0].clone()));
                }
                for i in rows(db, &format!("SELECT name FROM pragma_index_list('{t}')")).await {
                    if let Some(first) = rows(db, &format!("SELECT name FROM pragma_index_info('{}') WHERE seqno = 0", i[0])).await.first() {
                        idx.push((t.clone(), first[0].clone()));
                    }
                }
            }
            (fks, idx)
        }
        Backend::Postgres => {
            let schema = db.schema.clone().unwrap_or_else(|| "public".into());
            let fks = rows(
                db,
                &format!(
                    "SELECT c.conrelid::regclass::text, a.attname::text FROM pg_constraint c \
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
                     JOIN pg_namespace n ON n.oid = c.connamespace \
                     WHERE c.contype = 'f' AND n.nspname = '{schema}' AND array_length(c.conkey, 1) = 1"
                ),
            )
            .await;
            let idx = rows(
                db,
                &format!(
                    "SELECT i.indrelid::regclass::text, a.attname::text FROM pg_index i \
                     JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
                     WHERE n.nspname = '{schema}'"
                ),
            )
            .await;
            let strip =
                |v: Vec<Vec<String>>| v.into_iter().map(|r| (r[0].rsplit('.').next().unwrap_or(&r[0]).trim_matches('"').to_owned(), r[1].clone())).collect();
            (strip(fks), strip(idx))
        }
    }
}

#[tokio::test]
async fn every_foreign_key_has_an_index() {
    for b in backends() {
        let db = TestDb::new(b).await;
        let (fks, idx) = keys_and_indexes(&db).await;
        assert!(fks.len() > 20, "{b:?}: only {} foreign keys found: the query is wrong", fks.len());
        let missing: Vec<String> = fks.iter().filter(|fk| !idx.contains(fk)).map(|(t, c)| format!("{t}.{c}")).collect();
        assert!(missing.is_empty(), "{b:?}: foreign keys without an index: {missing:?}");
        db.drop_schema().await;
    }
}
