//! The schema the migrations build, on both backends: it is the schema the entities
//! declare (every table has an entity, every column its column with the same nullability
//! and kind of value, nothing more, nothing less), and every foreign key has an index
//! that starts with its column (or the table's primary key does), so a delete or a join
//! through it never scans the referencing table.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step is a failed test")]

use isms_store::sea_orm::sea_query::ColumnType;
use isms_store::sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, IdenStatic, Iterable, Statement};
use isms_store::*;
use isms_testdb::{Backend, TestDb, backends};
use std::collections::BTreeMap;

/// What a column holds, as both backends can tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Integer,
    Text,
    Boolean,
    Bytes,
    Real,
    Json,
}

/// A table as its entity declares it: column name → (kind, nullable).
type Shape = (String, BTreeMap<String, (Kind, bool)>);

fn shape<E: EntityTrait>() -> Shape {
    let table = E::default().table_name().to_owned();
    let cols = E::Column::iter()
        .map(|c| {
            let def = c.def();
            let kind = match def.get_column_type() {
                ColumnType::TinyInteger | ColumnType::SmallInteger | ColumnType::Integer | ColumnType::BigInteger => Kind::Integer,
                ColumnType::Boolean => Kind::Boolean,
                ColumnType::Binary(_) | ColumnType::VarBinary(_) | ColumnType::Blob => Kind::Bytes,
                ColumnType::Float | ColumnType::Double | ColumnType::Decimal(_) => Kind::Real,
                ColumnType::Json | ColumnType::JsonBinary => Kind::Json,
                _ => Kind::Text,
            };
            (c.as_str().to_owned(), (kind, def.is_null()))
        })
        .collect();
    (table, cols)
}

/// Every entity of the store. A table the migrations create that is missing here fails
/// the test, so the list cannot fall behind the schema.
fn entities() -> Vec<Shape> {
    vec![
        shape::<accounts::user::Entity>(),
        shape::<accounts::role_grant::Entity>(),
        shape::<accounts::session::Entity>(),
        shape::<accounts::api_token::Entity>(),
        shape::<accounts::sign_in_throttle::Entity>(),
        shape::<assets::category::Entity>(),
        shape::<assets::support::Entity>(),
        shape::<assets::cloud_approval::Entity>(),
        shape::<assets::asset::Entity>(),
        shape::<assets::link::Entity>(),
        shape::<assets::finding::Entity>(),
        shape::<assets::takeout::Entity>(),
        shape::<assets::staged_import::Entity>(),
        shape::<audit::log::Entity>(),
        shape::<audit::head::Entity>(),
        shape::<compliance::framework::Entity>(),
        shape::<compliance::requirement::Entity>(),
        shape::<compliance::mapping::Entity>(),
        shape::<compliance::control::Entity>(),
        shape::<compliance::control_company::Entity>(),
        shape::<compliance::control_requirement::Entity>(),
        shape::<compliance::evidence::Entity>(),
        shape::<compliance::soa::Entity>(),
        shape::<compliance::risk::Entity>(),
        shape::<compliance::risk_asset::Entity>(),
        shape::<compliance::risk_control::Entity>(),
        shape::<compliance::action::Entity>(),
        shape::<compliance::finding::Entity>(),
        shape::<incidents::incident::Entity>(),
        shape::<incidents::company::Entity>(),
        shape::<incidents::affected::Entity>(),
        shape::<incidents::member::Entity>(),
        shape::<incidents::event::Entity>(),
        shape::<incidents::clock::Entity>(),
        shape::<incidents::action::Entity>(),
        shape::<incidents::observable::Entity>(),
        shape::<incidents::evidence::Entity>(),
        shape::<incidents::custody::Entity>(),
        shape::<drills::profile::Entity>(),
        shape::<drills::template::Entity>(),
        shape::<drills::text::Entity>(),
        shape::<drills::campaign::Entity>(),
        shape::<drills::recipient::Entity>(),
        shape::<drills::event::Entity>(),
        shape::<incidents::playbook::Entity>(),
        shape::<incidents::task::Entity>(),
        shape::<incidents::release::Entity>(),
        shape::<incidents::drill::Entity>(),
        shape::<monitoring::source::Entity>(),
        shape::<monitoring::rule::Entity>(),
        shape::<monitoring::rule_override::Entity>(),
        shape::<monitoring::alert::Entity>(),
        shape::<monitoring::alert_event::Entity>(),
        shape::<monitoring::dead_letter::Entity>(),
        shape::<monitoring::ingest_minute::Entity>(),
        shape::<monitoring::ingest_done::Entity>(),
        shape::<monitoring::feed::Entity>(),
        shape::<monitoring::indicator::Entity>(),
        shape::<monitoring::sighting::Entity>(),
        shape::<monitoring::suppression::Entity>(),
        shape::<monitoring::rotation::Entity>(),
        shape::<monitoring::rotation_member::Entity>(),
        shape::<monitoring::cover::Entity>(),
        shape::<monitoring::page::Entity>(),
        shape::<monitoring::raw_event::Entity>(),
        shape::<notices::notification::Entity>(),
        shape::<notices::webhook::Entity>(),
        shape::<org::company::Entity>(),
        shape::<org::department::Entity>(),
        shape::<org::person::Entity>(),
        shape::<policies::kind::Entity>(),
        shape::<policies::document::Entity>(),
        shape::<policies::applies::Entity>(),
        shape::<policies::version::Entity>(),
        shape::<policies::approval::Entity>(),
        shape::<policies::attachment::Entity>(),
        shape::<policies::acknowledgement::Entity>(),
        shape::<policies::review::Entity>(),
        shape::<policies::link::Entity>(),
        shape::<settings::setting::Entity>(),
        shape::<training::course::Entity>(),
        shape::<training::text::Entity>(),
        shape::<training::campaign::Entity>(),
        shape::<training::assignment::Entity>(),
        shape::<training::attempt::Entity>(),
        shape::<training::completion::Entity>(),
        shape::<training::half::Entity>(),
        shape::<training::statement::Entity>(),
    ]
}

fn kind_of(backend: Backend, declared: &str) -> Kind {
    let t = declared.to_ascii_lowercase();
    match backend {
        Backend::Sqlite => match t.as_str() {
            "integer" | "bigint" | "smallint" | "int" => Kind::Integer,
            "boolean" | "bool" => Kind::Boolean,
            "blob" => Kind::Bytes,
            "real" | "double" | "float" => Kind::Real,
            "json" | "jsonb" | "json_text" => Kind::Json,
            _ => Kind::Text,
        },
        Backend::Postgres => match t.as_str() {
            "integer" | "bigint" | "smallint" => Kind::Integer,
            "boolean" => Kind::Boolean,
            "bytea" => Kind::Bytes,
            "real" | "double precision" | "numeric" => Kind::Real,
            "json" | "jsonb" => Kind::Json,
            _ => Kind::Text,
        },
    }
}

/// The tables the migrations built, as the database describes them.
async fn built(db: &TestDb) -> BTreeMap<String, BTreeMap<String, (Kind, bool)>> {
    let mut out: BTreeMap<String, BTreeMap<String, (Kind, bool)>> = BTreeMap::new();
    match db.backend {
        Backend::Sqlite => {
            let tables = rows(
                db,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_fts%' AND name <> 'seaql_migrations'",
            )
            .await;
            for t in tables {
                let cols = rows(db, &format!("SELECT name, type, CAST(\"notnull\" AS TEXT), CAST(pk AS TEXT) FROM pragma_table_info('{}')", t[0])).await;
                let map = cols.into_iter().map(|c| (c[0].clone(), (kind_of(db.backend, &c[1]), c[2] == "0" && c[3] == "0"))).collect();
                out.insert(t[0].clone(), map);
            }
        }
        Backend::Postgres => {
            let schema = db.schema.clone().unwrap_or_else(|| "public".into());
            let cols = rows(
                db,
                &format!(
                    "SELECT c.table_name::text, c.column_name::text, c.data_type::text, c.is_nullable::text FROM information_schema.columns c \
                     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
                     WHERE c.table_schema = '{schema}' AND t.table_type = 'BASE TABLE' AND c.table_name <> 'seaql_migrations'"
                ),
            )
            .await;
            for c in cols {
                out.entry(c[0].clone()).or_default().insert(c[1].clone(), (kind_of(db.backend, &c[2]), c[3] == "YES"));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_migrations_build_the_schema_the_entities_declare() {
    for b in backends() {
        let db = TestDb::new(b).await;
        let built = built(&db).await;
        let declared: BTreeMap<String, BTreeMap<String, (Kind, bool)>> = entities().into_iter().collect();
        let mut drift = vec![];
        for t in built.keys().filter(|t| !declared.contains_key(*t)) {
            drift.push(format!("table {t} has no entity"));
        }
        for (t, cols) in &declared {
            let Some(have) = built.get(t) else {
                drift.push(format!("entity {t} has no table"));
                continue;
            };
            for (c, want) in cols {
                match have.get(c) {
                    None => drift.push(format!("{t}.{c} is declared but not built")),
                    Some(got) if got != want => drift.push(format!("{t}.{c}: built {got:?}, declared {want:?}")),
                    Some(_) => {}
                }
            }
            for c in have.keys().filter(|c| !cols.contains_key(*c)) {
                drift.push(format!("{t}.{c} is built but not declared"));
            }
        }
        assert!(built.len() > 60, "{b:?}: only {} tables found: the query is wrong", built.len());
        assert!(drift.is_empty(), "{b:?}: the migrations and the entities differ:\n{}", drift.join("\n"));
        db.drop_schema().await;
    }
}

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
