//! Benchmark data and timings for compliance: opens a data folder made by
//! `isms --data DIR admin demo` (its SQLite database and audit key), adds controls linked
//! to ISO/IEC 27001 requirements with evidence, and risks (some linked to those
//! controls), then times building the Statement of Applicability and its XLSX and PDF.
//! `scripts/bench-compliance` runs it and then measures the risk register over HTTP.
//!
//!   cargo run --release -p isms-app --example compliance_bench -- DIR [controls] [linked risks] [all risks]

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark: a failed step ends the run")]

use isms_app::compliance::Scope;
use isms_app::compliance::soa::{self, Labels};
use isms_app::{App, AppConfig, Principal};
use isms_store::compliance::{control, control_requirement, evidence, risk, risk_control};
use isms_store::sea_orm::{ActiveValue::Set, EntityTrait};
use isms_store::{Store, StoreOptions};
use std::time::Instant;

fn arg(n: usize, default: usize) -> usize {
    std::env::args().nth(n).and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// A small deterministic generator (xorshift), so every run builds the same data.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn stats(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("{name:<28} min {:>7.1} ms   median {:>7.1} ms   max {:>7.1} ms", ms[0], ms[ms.len() / 2], ms[ms.len() - 1]);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = std::env::args().nth(1).expect("the data folder");
    let (n_controls, n_linked, n_risks) = (arg(2, 500), arg(3, 2_000), arg(4, 50_000));
    let store = Store::connect(&format!("sqlite://{dir}/isms.db"), StoreOptions::default()).await.expect("database");
    store.migrate().await.expect("migrate");
    let key = std::fs::read(format!("{dir}/secret.key")).expect("the audit key");
    let app = App::new(store, AppConfig::default(), key);
    let sys = Principal::system();
    isms_app::compliance::frameworks::ensure_shipped(&app).await.expect("frameworks");
    let iso = isms_app::compliance::frameworks::get(&app, &sys, "iso27001-2022").await.expect("iso");
    let leaves: Vec<String> = iso.requirements.iter().filter(|r| r.leaf).map(|r| r.id.clone()).collect();
    let companies: Vec<String> = isms_app::org::list_companies(&app, &sys).await.unwrap().into_iter().map(|c| c.id).collect();
    let mut rnd = Rng(0x5eed);

    let existing =
        isms_app::risks::list(&app, &sys, &isms_app::risks::RiskQuery { search: Some("BENCH".into()), limit: 1, ..Default::default() }).await.unwrap().total;
    if existing == 0 {
        let t = Instant::now();
        let txn = app.store.write().await.unwrap();
        let now = isms_store::now_ms();
        let mut controls = vec![];
        for i in 0..n_controls {
            let id = uuid::Uuid::now_v7().to_string();
            let status = ["implemented", "implemented", "in_progress", "planned"][rnd.next(4)];
            control::Entity::insert(control::ActiveModel {
                id: Set(id.clone()),
                code: Set(format!("BENCH-{i:04}")),
                title: Set(format!("Benchmark control {i}")),
                description: Set(String::new()),
                company_id: Set(None),
                owner_id: Set(None),
                status: Set(status.into()),
                review_months: Set(12),
                review_due: Set(Some(format!("2027-{:02}-15", 1 + rnd.next(12)))),
                created_ms: Set(now),
                updated_ms: Set(now),
            })
            .exec_without_returning(&txn)
            .await
            .unwrap();
            let mut picked = vec![];
            for _ in 0..1 + rnd.next(4) {
                let r = leaves[rnd.next(leaves.len())].clone();
                if !picked.contains(&r) {
                    picked.push(r);
                }
            }
            for r in picked {
                control_requirement::Entity::insert(control_requirement::ActiveModel { control_id: Set(id.clone()), requirement_id: Set(r) })
                    .exec_without_returning(&txn)
                    .await
                    .unwrap();
            }
            if rnd.next(5) > 0 {
                evidence::Entity::insert(evidence::ActiveModel {
                    id: Set(uuid::Uuid::now_v7().to_string()),
                    control_id: Set(id.clone()),
                    kind: Set("link".into()),
                    title: Set(format!("Evidence of control {i}")),
                    url: Set(format!("https://intranet.example/evidence/{i}")),
                    file_name: Set(String::new()),
                    content_type: Set(String::new()),
                    size: Set(0),
                    sha256: Set(String::new()),
                    data: Set(None),
                    evidence_on: Set(format!("2026-{:02}-10", 1 + rnd.next(10))),
                    added_by: Set(None),
                    added_ms: Set(now),
                })
                .exec_without_returning(&txn)
                .await
                .unwrap();
            }
            controls.push(id);
        }
        let words = ["leak", "outage", "phishing", "ransomware", "insider", "vendor", "misconfiguration", "loss", "fraud", "intrusion"];
        let mut batch = vec![];
        let mut links = vec![];
        for i in 0..n_risks {
            let (il, ii) = (1 + rnd.next(5) as i16, 1 + rnd.next(5) as i16);
            let (rl, ri) = (1 + rnd.next(il as usize) as i16, 1 + rnd.next(ii as usize) as i16);
            let id = uuid::Uuid::now_v7().to_string();
            batch.push(risk::ActiveModel {
                id: Set(id.clone()),
                reference: Set(format!("RSK-B{i:06}")),
                title: Set(format!("BENCH {} risk {i}", words[rnd.next(words.len())])),
                description: Set(String::new()),
                company_id: Set(companies[rnd.next(companies.len())].clone()),
                owner_id: Set(None),
                threat: Set(words[rnd.next(words.len())].into()),
                vulnerability: Set(String::new()),
                inherent_likelihood: Set(il),
                inherent_impact: Set(ii),
                inherent_score: Set((il * ii) as i32),
                residual_likelihood: Set(rl),
                residual_impact: Set(ri),
                residual_score: Set((rl * ri) as i32),
                residual_reason: Set(String::new()),
                treatment: Set(["mitigate", "accept", "transfer", "avoid"][rnd.next(4)].into()),
                plan: Set(String::new()),
                status: Set(["open", "treating", "closed"][rnd.next(3)].into()),
                accepted_by: Set(None),
                accepted_ms: Set(None),
                acceptance_reason: Set(String::new()),
                acceptance_expires: Set(None),
                review_due: Set(Some(format!("{}-{:02}-20", 2026 + rnd.next(2), 1 + rnd.next(12)))),
                created_ms: Set(now),
                updated_ms: Set(now),
            });
            if i < n_linked {
                for _ in 0..1 + rnd.next(3) {
                    links.push((id.clone(), controls[rnd.next(controls.len())].clone()));
                }
            }
            if batch.len() == 500 {
                risk::Entity::insert_many(std::mem::take(&mut batch)).exec_without_returning(&txn).await.unwrap();
            }
        }
        if !batch.is_empty() {
            risk::Entity::insert_many(batch).exec_without_returning(&txn).await.unwrap();
        }
        links.sort();
        links.dedup();
        for (r, c) in links {
            risk_control::Entity::insert(risk_control::ActiveModel { risk_id: Set(r), control_id: Set(c) }).exec_without_returning(&txn).await.unwrap();
        }
        txn.commit().await.unwrap();
        println!("seeded {n_controls} controls and {n_risks} risks ({n_linked} linked to controls) in {:.1} s", t.elapsed().as_secs_f64());
    }

    let labels = Labels {
        title: "Statement of Applicability".into(),
        scope: "Scope: the whole group".into(),
        generated: "Generated now".into(),
        summary: "summary".into(),
        page: "Page {n} of {total}".into(),
        language: "en".into(),
        columns: ["Reference", "Requirement", "Applicable", "Justification", "State", "Controls", "Evidence", "Risks"].map(String::from),
        yes: "Yes".into(),
        no: "No".into(),
        undecided: "undecided".into(),
        words: Default::default(),
    };
    let (mut build, mut xlsx, mut pdf, mut total) = (vec![], vec![], vec![], vec![]);
    let mut sizes = (0, 0, 0, 0);
    for _ in 0..10 {
        let t0 = Instant::now();
        let st = soa::statement(&app, &sys, "iso27001-2022", &Scope::Group).await.unwrap();
        let t1 = Instant::now();
        let x = soa::xlsx(&st, &labels).unwrap();
        let t2 = Instant::now();
        let p = soa::pdf(&st, &labels).unwrap();
        let t3 = Instant::now();
        build.push((t1 - t0).as_secs_f64() * 1e3);
        xlsx.push((t2 - t1).as_secs_f64() * 1e3);
        pdf.push((t3 - t2).as_secs_f64() * 1e3);
        total.push((t3 - t0).as_secs_f64() * 1e3);
        let links: usize = st.rows.iter().map(|r| r.controls.len()).sum();
        let risks: usize = st.rows.iter().map(|r| r.risks.len()).sum();
        sizes = (links, risks, x.len(), p.len());
    }
    println!("SoA rows: control links {}, risk links {}; XLSX {} KB, PDF {} KB", sizes.0, sizes.1, sizes.2 / 1024, sizes.3 / 1024);
    stats("statement (from the links)", build);
    stats("XLSX", xlsx);
    stats("PDF", pdf);
    stats("statement + XLSX + PDF", total);
}
