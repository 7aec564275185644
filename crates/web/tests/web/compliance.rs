//! Frameworks, controls, the Statement of Applicability and the risk register on both
//! backends: the shipped frameworks' shape, imports that name their lines and write
//! nothing when wrong, official text imported onto a shipped framework keeping its links,
//! mappings read from both sides, the SoA derived from the links that produced it, its
//! exports, company scoping, risk scoring and acceptance, the matrix, and reminders.

use crate::code_of;
use isms_app::accounts::acting_as;
use isms_app::compliance::Scope;
use isms_app::compliance::controls::{self, ControlInput, ControlQuery, LinkInput};
use isms_app::compliance::frameworks::{self, ImportTarget, RequirementInput};
use isms_app::compliance::soa::{self, Decision};
use isms_app::people::ImportFailure;
use isms_app::risks::{self, Acceptance, RiskInput, RiskQuery};
use isms_app::{AppError, Principal};
use isms_core::Role;
use isms_core::compliance::Compliance;
use isms_core::compliance::risk::Matrix;
use isms_testkit::{TestServer, backends, grant, user_session};
use reqwest::StatusCode;

fn rows(e: ImportFailure) -> Vec<(u64, String, &'static str)> {
    match e {
        ImportFailure::Rows(r) => r.into_iter().map(|e| (e.line, e.field, e.code)).collect(),
        ImportFailure::App(a) => panic!("{a:?}"),
    }
}

fn req_id(d: &frameworks::FrameworkDetail, reference: &str) -> String {
    d.requirements.iter().find(|r| r.reference == reference).unwrap_or_else(|| panic!("{reference}")).id.clone()
}

#[tokio::test]
async fn frameworks_imports_mappings_and_the_statement_of_applicability() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let app = &s.app;
        let ciso = acting_as(app, "ciso").await.unwrap();
        let auditor = acting_as(app, "auditor").await.unwrap();

        // The shipped frameworks, loaded once however often they are ensured.
        frameworks::ensure_shipped(app).await.unwrap();
        let list = frameworks::list(app, &auditor).await.unwrap();
        assert_eq!(list.len(), 2, "{b:?}");
        let iso = frameworks::get(app, &auditor, "iso27001-2022").await.unwrap();
        assert_eq!(iso.framework.assessable, 123);
        assert_eq!(iso.requirements.iter().filter(|r| r.reference.starts_with("A.") && r.leaf).count(), 93);
        let csf = frameworks::get(app, &auditor, "nist-csf-2.0").await.unwrap();
        assert_eq!(csf.framework.assessable, 106);
        assert_eq!(csf.requirements.iter().filter(|r| r.depth == 1).count(), 22);
        assert!(matches!(
            frameworks::import(app, &auditor, "x.yaml", b"code: x1\n", &ImportTarget::default()).await,
            Err(ImportFailure::App(AppError::Forbidden))
        ));

        // A bad file names its lines and imports nothing.
        let bad = "code: group-rules\nname: Group rules\nrequirements:\n  - ref: R1\n    title: Access\n  - ref: R2\n    parent: R9\n    title: Orphan\n  - ref: R1\n    title: Again\n";
        let e = rows(frameworks::import(app, &ciso, "rules.yaml", bad.as_bytes(), &ImportTarget::default()).await.unwrap_err());
        assert!(e.contains(&(9, "ref".into(), "duplicate-ref")), "{e:?}");
        let e = rows(
            frameworks::import(app, &ciso, "rules.yaml", bad.replace("  - ref: R1\n    title: Again\n", "").as_bytes(), &ImportTarget::default())
                .await
                .unwrap_err(),
        );
        assert_eq!(e, vec![(6, "parent".into(), "no-parent")]);
        assert_eq!(frameworks::list(app, &ciso).await.unwrap().len(), 2, "{b:?}: nothing half-written");
        // CSV needs its framework named; a new one its name.
        let csv = "ref,parent,title\nR1,,Access\nR1.1,R1,MFA for customer systems\n";
        let e = rows(frameworks::import(app, &ciso, "rules.csv", csv.as_bytes(), &ImportTarget::default()).await.unwrap_err());
        assert_eq!(e[0].1, "code");
        let e = rows(
            frameworks::import(app, &ciso, "rules.csv", csv.as_bytes(), &ImportTarget { code: Some("group-rules".into()), name: None }).await.unwrap_err(),
        );
        assert_eq!(e[0].1, "name");
        let o =
            frameworks::import(app, &ciso, "rules.csv", csv.as_bytes(), &ImportTarget { code: Some("group-rules".into()), name: Some("Group rules".into()) })
                .await
                .unwrap();
        assert_eq!((o.created, o.updated), (2, 0));
        let rules = frameworks::get(app, &ciso, "group-rules").await.unwrap();
        assert_eq!(rules.framework.assessable, 1);
        // Built further in the UI: a requirement under R1, then a change of its title.
        frameworks::put_requirement(
            app,
            &ciso,
            "group-rules",
            RequirementInput { reference: "R1.2".into(), parent: "R1".into(), title: "Logs kept a year".into(), ..Default::default() },
        )
        .await
        .unwrap();
        frameworks::put_requirement(
            app,
            &ciso,
            "group-rules",
            RequirementInput { reference: "R1.2".into(), parent: "R1".into(), title: "Access logs kept a year".into(), ..Default::default() },
        )
        .await
        .unwrap();
        let rules = frameworks::get(app, &ciso, "group-rules").await.unwrap();
        assert_eq!(rules.requirements.iter().map(|r| r.reference.as_str()).collect::<Vec<_>>(), ["R1", "R1.1", "R1.2"]);
        assert_eq!(rules.requirements[2].title, "Access logs kept a year");
        assert_eq!(
            code_of(
                &frameworks::put_requirement(
                    app,
                    &ciso,
                    "group-rules",
                    RequirementInput { reference: "R1".into(), parent: "R1.2".into(), title: "Loop".into(), ..Default::default() }
                )
                .await
                .unwrap_err()
            ),
            "parent-loop"
        );

        // A control on A.5.1 and R1.1; then the licensed text imported onto ISO keeps the link.
        let a51 = req_id(&iso, "A.5.1");
        let a85 = req_id(&iso, "A.8.5");
        let r11 = req_id(&rules, "R1.1");
        let c = controls::create(
            app,
            &ciso,
            ControlInput {
                code: "ctl-100".into(),
                title: "Policy set".into(),
                owner_id: "E00002".into(),
                status: "implemented".into(),
                requirement_ids: vec![a51.clone(), r11.clone()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(c.code, "CTL-100");
        assert!(!c.proven, "no evidence yet");
        let official = "code: iso27001-2022\nname: ISO/IEC 27001:2022\nrequirements:\n  - ref: A.5.1\n    parent: A.5\n    title: Policies for information security (licensed text)\n";
        let o = frameworks::import(app, &ciso, "iso.yaml", official.as_bytes(), &ImportTarget::default()).await.unwrap();
        assert_eq!((o.created, o.updated), (0, 1));
        let iso2 = frameworks::get(app, &ciso, "iso27001-2022").await.unwrap();
        assert_eq!(iso2.requirements.len(), iso.requirements.len());
        let at = |reference: &str| iso2.requirements.iter().position(|r| r.reference == reference).unwrap();
        assert_eq!(at("A.5.1"), at("A.5") + 1, "{b:?}: a partial import keeps the reading order");
        assert_eq!(iso2.requirements.iter().find(|r| r.id == a51).unwrap().title, "Policies for information security (licensed text)");
        assert_eq!(
            iso2.requirements.iter().find(|r| r.id == a51).unwrap().title_ja,
            iso.requirements.iter().find(|r| r.id == a51).unwrap().title_ja,
            "Japanese kept"
        );
        assert_eq!(frameworks::requirement_detail(app, &ciso, &a51).await.unwrap().controls[0].code, "CTL-100");
        assert_eq!(code_of(&frameworks::delete_requirement(app, &ciso, &a51).await.unwrap_err()), "requirement-in-use");

        // Mappings, read from either side.
        let e = rows(
            frameworks::import_mappings(
                app,
                &ciso,
                "m.csv",
                b"from_framework,from_ref,to_framework,to_ref,relation\niso27001-2022,A.5.1,nist-csf-2.0,GV.PO-99,subset\n",
            )
            .await
            .unwrap_err(),
        );
        assert_eq!(e, vec![(2, "to_ref".into(), "no-requirement")]);
        frameworks::import_mappings(
            app,
            &ciso,
            "m.csv",
            b"from_framework,from_ref,to_framework,to_ref,relation\niso27001-2022,A.5.1,nist-csf-2.0,GV.PO-01,subset\n",
        )
        .await
        .unwrap();
        let gv = req_id(&csf, "GV.PO-01");
        let from_iso = frameworks::requirement_detail(app, &ciso, &a51).await.unwrap();
        assert_eq!((from_iso.mapped[0].requirement.reference.as_str(), from_iso.mapped[0].relation.code()), ("GV.PO-01", "subset"));
        let from_csf = frameworks::requirement_detail(app, &ciso, &gv).await.unwrap();
        assert_eq!((from_csf.mapped[0].requirement.reference.as_str(), from_csf.mapped[0].relation.code()), ("A.5.1", "superset"));

        // The SoA follows the links: unproven → partly met; with evidence → met.
        let st = soa::statement(app, &auditor, "group-rules", &Scope::Group).await.unwrap();
        let row = st.rows.iter().find(|r| r.requirement.reference == "R1.1").unwrap();
        assert_eq!((row.compliance, row.gap.as_deref()), (Some(Compliance::Partial), Some("unproven")));
        assert_eq!(row.controls[0].code, "CTL-100");
        controls::add_link(
            app,
            &ciso,
            &c.id,
            LinkInput { title: "Policy approval minutes".into(), url: "https://intranet.example/minutes".into(), evidence_on: Some("2026-04-01".into()) },
        )
        .await
        .unwrap();
        assert_eq!(
            code_of(
                &controls::add_link(app, &ciso, &c.id, LinkInput { title: "x".into(), url: "javascript:alert(1)".into(), evidence_on: None })
                    .await
                    .unwrap_err()
            ),
            "url"
        );
        assert_eq!(
            code_of(
                &controls::add_link(
                    app,
                    &ciso,
                    &c.id,
                    LinkInput { title: "x".into(), url: "https://x.example".into(), evidence_on: Some("2999-01-01".into()) }
                )
                .await
                .unwrap_err()
            ),
            "date-future"
        );
        let st = soa::statement(app, &auditor, "group-rules", &Scope::Group).await.unwrap();
        let row = st.rows.iter().find(|r| r.requirement.reference == "R1.1").unwrap();
        assert_eq!((row.compliance, row.gap.as_deref()), (Some(Compliance::Met), None));
        assert_eq!(row.evidence[0].evidence_on, "2026-04-01");
        assert_eq!(row.evidence[0].control_code, "CTL-100");
        assert_eq!((st.tally.met, st.tally.not_met), (1, 1), "{b:?}: R1.2 has no control");
        assert!(st.rows.iter().find(|r| r.requirement.reference == "R1").unwrap().compliance.is_none(), "headings are not assessed");

        // A published document linked to a control is its evidence too.
        let pol =
            isms_app::policies::documents::list(app, &ciso, &isms_app::policies::documents::DocQuery { search: Some("POL-001".into()), ..Default::default() })
                .await
                .unwrap()
                .items
                .into_iter()
                .find(|d| d.language.code() == "en")
                .unwrap();
        let mut input = isms_app::policies::DocumentInput {
            code: pol.code.clone(),
            kind: pol.kind.code().into(),
            title: pol.title.clone(),
            company_id: pol.company_id.clone(),
            owner_id: pol.owner_id.clone().unwrap(),
            language: "en".into(),
            translation_id: pol.translation_id.clone(),
            public: pol.public,
            must_acknowledge: pol.must_acknowledge,
            review_months: Some(pol.review_months),
            control_ids: vec![c.id.clone()],
            ..Default::default()
        };
        isms_app::policies::documents::update(app, &ciso, &pol.id, input.clone()).await.unwrap();
        let ev = controls::get(app, &ciso, &c.id).await.unwrap().evidence;
        assert!(ev.iter().any(|e| e.kind.code() == "record" && e.title.starts_with("POL-001")), "{b:?}: {ev:?}");
        input.control_ids = vec!["no-such-control".into()];
        assert_eq!(code_of(&isms_app::policies::documents::update(app, &ciso, &pol.id, input).await.unwrap_err()), "no-control");

        // Exclusions need their reason; headings are not decided; the tally follows.
        assert_eq!(
            code_of(
                &soa::decide(app, &ciso, "iso27001-2022", &Scope::Group, &a85, Decision { applicable: false, justification: " ".into() }).await.unwrap_err()
            ),
            "exclusion-justified"
        );
        assert_eq!(
            code_of(
                &soa::decide(app, &ciso, "iso27001-2022", &Scope::Group, &req_id(&iso, "A.8"), Decision { applicable: false, justification: "x".into() })
                    .await
                    .unwrap_err()
            ),
            "requirement-heading"
        );
        assert!(matches!(
            soa::decide(app, &auditor, "iso27001-2022", &Scope::Group, &a85, Decision { applicable: false, justification: "x".into() }).await,
            Err(AppError::Forbidden)
        ));
        let before = soa::statement(app, &auditor, "iso27001-2022", &Scope::Group).await.unwrap().tally;
        soa::decide(
            app,
            &ciso,
            "iso27001-2022",
            &Scope::Group,
            &a85,
            Decision { applicable: false, justification: "Covered by the group's identity provider".into() },
        )
        .await
        .unwrap();
        let after = soa::statement(app, &auditor, "iso27001-2022", &Scope::Group).await.unwrap();
        assert_eq!(after.tally.excluded, before.excluded + 1);
        let row = after.rows.iter().find(|r| r.requirement.id == a85).unwrap();
        assert_eq!(
            (row.applicable, row.compliance, row.justification.as_str()),
            (Some(false), Some(Compliance::Excluded), "Covered by the group's identity provider")
        );
        assert!(row.risks.iter().any(|r| r.title.contains("予約システム")), "{b:?}: the risks behind its controls");
        // The company's statement is its own: the group's exclusion does not apply there.
        let aza = isms_app::org::list_companies(app, &ciso).await.unwrap().into_iter().find(|c| c.code == "AZA").unwrap().id;
        let company = soa::statement(app, &ciso, "iso27001-2022", &Scope::Company(aza.clone())).await.unwrap();
        // Undecided there: assessed as in scope, read as undecided.
        assert_eq!(company.rows.iter().find(|r| r.requirement.id == a85).unwrap().applicable, None);

        // The exports hold every requirement; the PDF is a PDF.
        let labels = isms_app::compliance::soa::Labels {
            title: "SoA".into(),
            scope: "Group".into(),
            generated: "now".into(),
            summary: "summary".into(),
            page: "{n}/{total}".into(),
            language: "en".into(),
            columns: ["Ref", "Requirement", "Applicable", "Justification", "State", "Controls", "Evidence", "Risks"].map(String::from),
            yes: "yes".into(),
            no: "no".into(),
            undecided: "undecided".into(),
            words: Default::default(),
        };
        let xlsx = soa::xlsx(&after, &labels).unwrap();
        let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).unwrap();
        let sheet = calamine::Reader::worksheet_range(&mut book, "SoA").unwrap();
        // A report: its title, scope, date and summary above the table, then the headings.
        let rows: Vec<_> = sheet.rows().collect();
        assert_eq!(rows.len(), 4 + 1 + 1 + iso.requirements.len());
        assert!(rows[0][0].to_string().starts_with("SoA — ISO/IEC 27001"), "{:?}", rows[0]);
        assert_eq!((rows[1][0].to_string(), rows[5][0].to_string()), ("Group".to_owned(), "Ref".to_owned()));
        let a85_row = sheet.rows().find(|r| r[0] == "A.8.5").unwrap();
        assert_eq!((a85_row[2].to_string(), a85_row[3].to_string()), ("no".to_owned(), "Covered by the group's identity provider".to_owned()));
        // A requirement nobody has decided reads "undecided", never "yes".
        let undecided: Vec<_> = after.rows.iter().filter(|r| r.requirement.leaf && r.applicable.is_none()).map(|r| r.requirement.reference.clone()).collect();
        assert!(!undecided.is_empty());
        for r in sheet.rows().filter(|r| undecided.contains(&r[0].to_string())) {
            assert_eq!(r[2].to_string(), "undecided", "{}", r[0]);
        }
        let pdf = soa::pdf(&after, &labels).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));

        // The same through the API, with the format checked.
        let u = user_session(app, "soa-auditor", vec![grant(Role::Auditor, None)], None).await;
        let r = u.client.get(s.url("/api/v1/frameworks/iso27001-2022/soa/export?format=pdf")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/pdf");
        let r = u.client.get(s.url("/api/v1/frameworks/iso27001-2022/soa/export?format=docx")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // A framework's export is its import format: it reads back as the same tree.
        let csv = u.client.get(s.url(&format!("/frameworks/{}/export.csv", iso.framework.id))).send().await.unwrap().text().await.unwrap();
        // With a byte-order mark for Excel, which the import skips.
        assert!(csv.starts_with("\u{feff}ref,parent,title,title_ja,description"), "{b:?}");
        let copy = frameworks::import(app, &ciso, "copy.csv", csv.as_bytes(), &ImportTarget { code: Some("iso-copy".into()), name: Some("ISO copy".into()) })
            .await
            .unwrap();
        assert_eq!(copy.created, iso.requirements.len());
        let copied = frameworks::get(app, &ciso, "iso-copy").await.unwrap();
        assert_eq!(copied.framework.assessable, 123);
        assert_eq!(
            copied.requirements.iter().map(|r| (r.reference.as_str(), r.depth, r.leaf)).collect::<Vec<_>>(),
            iso2.requirements.iter().map(|r| (r.reference.as_str(), r.depth, r.leaf)).collect::<Vec<_>>()
        );
        let x = u.client.get(s.url(&format!("/frameworks/{}/export.xlsx", iso.framework.id))).send().await.unwrap();
        assert_eq!(x.status(), StatusCode::OK);
        assert!(x.bytes().await.unwrap().starts_with(b"PK"));
        let a: serde_json::Value = u.client.get(s.url("/api/v1/frameworks/iso27001-2022/assessment")).send().await.unwrap().json().await.unwrap();
        assert_eq!(a["tally"]["excluded"], after.tally.excluded);
        assert_eq!(a["gaps"].as_array().unwrap().len() as u32, after.tally.partial + after.tally.not_met);
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn controls_and_risks_stay_within_their_company() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let app = &s.app;
        let sys = Principal::system();
        let companies = isms_app::org::list_companies(app, &sys).await.unwrap();
        let aza = companies.iter().find(|c| c.code == "AZA").unwrap().id.clone();
        let azc = companies.iter().find(|c| c.code == "AZC").unwrap().id.clone();
        let secadmin = acting_as(app, "secadmin").await.unwrap(); // company security admin of AZA

        // Their own company's controls; not the group's, not another company's.
        let base =
            ControlInput { code: "CTL-A1".into(), title: "Badge checks".into(), owner_id: "E00002".into(), status: "planned".into(), ..Default::default() };
        assert_eq!(code_of(&controls::create(app, &secadmin, base.clone()).await.unwrap_err()), "company-out-of-scope");
        assert_eq!(
            code_of(&controls::create(app, &secadmin, ControlInput { company_id: Some(azc.clone()), ..base.clone() }).await.unwrap_err()),
            "company-out-of-scope"
        );
        let mine = controls::create(app, &secadmin, ControlInput { company_id: Some(aza.clone()), ..base.clone() }).await.unwrap();
        assert_eq!(
            code_of(&controls::create(app, &secadmin, ControlInput { company_id: Some(aza.clone()), ..base.clone() }).await.unwrap_err()),
            "control-code-taken"
        );
        let theirs = controls::create(app, &sys, ControlInput { code: "CTL-C1".into(), company_id: Some(azc.clone()), ..base.clone() }).await.unwrap();
        assert!(matches!(controls::get(app, &secadmin, &theirs.id).await, Err(AppError::NotFound)), "{b:?}");
        let listed = controls::list(app, &secadmin, &ControlQuery { limit: 500, ..Default::default() }).await.unwrap();
        assert!(listed.items.iter().any(|c| c.id == mine.id) && listed.items.iter().all(|c| c.id != theirs.id));
        // Group controls are read, not changed.
        let group = listed.items.iter().find(|c| c.company_id.is_none()).unwrap().clone();
        assert!(!controls::get(app, &secadmin, &group.id).await.unwrap().can_manage);
        assert!(matches!(controls::reviewed(app, &secadmin, &group.id, "").await, Err(AppError::Forbidden)));
        // The company's SoA, never the group's.
        assert!(soa::statement(app, &secadmin, "iso27001-2022", &Scope::Company(aza.clone())).await.is_ok());
        assert!(matches!(soa::statement(app, &secadmin, "iso27001-2022", &Scope::Group).await, Err(AppError::Forbidden)));
        assert!(matches!(soa::statement(app, &secadmin, "iso27001-2022", &Scope::Company(azc.clone())).await, Err(AppError::Forbidden)));

        // Risks: scored on the matrix, residual above inherent only with a reason. The
        // owner is a person of AZA with an account of their own.
        let people =
            isms_app::people::list(app, &sys, &isms_store::org::PeopleQuery { company_id: Some(aza.clone()), limit: 30, ..Default::default() }).await.unwrap();
        let owner_person = people.items[25].clone();
        let owner_session = user_session(app, "risk-owner", vec![grant(Role::CompanySecurityAdmin, Some(&aza))], Some(owner_person.id.clone())).await;
        let input = RiskInput {
            title: "Badge cloning at the hangar".into(),
            company_id: aza.clone(),
            owner_id: owner_person.employee_number.clone(),
            inherent_likelihood: 2,
            inherent_impact: 3,
            residual_likelihood: 3,
            residual_impact: 3,
            treatment: "mitigate".into(),
            control_ids: vec![mine.id.clone()],
            ..Default::default()
        };
        assert_eq!(code_of(&risks::create(app, &secadmin, input.clone()).await.unwrap_err()), "residual-above");
        let e = risks::create(app, &secadmin, RiskInput { inherent_likelihood: 6, residual_impact: 0, ..input.clone() }).await.unwrap_err();
        let AppError::Invalid(errs) = &e else { panic!("{e:?}") };
        assert_eq!(errs.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["inherent_likelihood", "residual_impact"]);
        assert_eq!(
            code_of(&risks::create(app, &secadmin, RiskInput { company_id: azc.clone(), residual_reason: "x".into(), ..input.clone() }).await.unwrap_err()),
            "company-out-of-scope"
        );
        let r = risks::create(app, &secadmin, RiskInput { residual_reason: "The new gate opens before the readers are replaced".into(), ..input.clone() })
            .await
            .unwrap();
        assert_eq!((r.inherent_score, r.residual_score, r.residual_rating.code()), (6, 9, "medium"));
        assert!(r.reference.starts_with("RSK-"));
        assert!(controls::get(app, &secadmin, &mine.id).await.unwrap().risks.iter().any(|x| x.id == r.id));
        // Search by any word of the title, threat or reference (trigram index on SQLite, LIKE on PostgreSQL).
        for term in ["cloning at the hang", "HANGAR", &r.reference] {
            let found = risks::list(app, &secadmin, &RiskQuery { search: Some(term.to_string()), ..Default::default() }).await.unwrap();
            assert_eq!(found.items.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(), [r.id.as_str()], "{b:?} {term}");
        }
        assert_eq!(risks::list(app, &secadmin, &RiskQuery { search: Some("no such words".into()), ..Default::default() }).await.unwrap().total, 0);

        // Only the risk owner accepts; a new score ends the acceptance.
        let in_a_year = (isms_core::calendar::today() + jiff::Span::new().days(365)).to_string();
        assert_eq!(
            code_of(&risks::accept(app, &secadmin, &r.id, Acceptance { reason: "ok".into(), expires_on: in_a_year.clone() }).await.unwrap_err()),
            "risk-owner-only"
        );
        let (owner, _) = isms_app::accounts::session_principal(app, &owner_session.cookie).await.unwrap();
        assert_eq!(
            code_of(&risks::accept(app, &owner, &r.id, Acceptance { reason: "ok".into(), expires_on: "2020-01-01".into() }).await.unwrap_err()),
            "date-past"
        );
        assert_eq!(
            code_of(&risks::accept(app, &owner, &r.id, Acceptance { reason: "ok".into(), expires_on: "2099-01-01".into() }).await.unwrap_err()),
            "acceptance-too-long"
        );
        let accepted =
            risks::accept(app, &owner, &r.id, Acceptance { reason: "Readers replaced next quarter".into(), expires_on: in_a_year.clone() }).await.unwrap();
        assert_eq!(accepted.status.code(), "accepted");
        let unchanged = risks::update(
            app,
            &secadmin,
            &r.id,
            RiskInput { residual_reason: "The new gate opens before the readers are replaced".into(), plan: "Replace readers".into(), ..input.clone() },
        )
        .await
        .unwrap();
        assert_eq!(unchanged.status.code(), "accepted", "{b:?}: a new plan keeps the acceptance");
        let rescored = risks::update(app, &secadmin, &r.id, RiskInput { residual_likelihood: 2, ..input.clone() }).await.unwrap();
        assert_eq!((rescored.status.code(), rescored.residual_score), ("open", 6));

        // Another company's risk managers see nothing of it.
        let other = user_session(app, "azc-risk", vec![grant(Role::CompanySecurityAdmin, Some(&azc))], None).await;
        let (other, _) = isms_app::accounts::session_principal(app, &other.cookie).await.unwrap();
        assert!(matches!(risks::get(app, &other, &r.id).await, Err(AppError::NotFound)));
        assert_eq!(risks::list(app, &other, &RiskQuery::default()).await.unwrap().total, 0);
        let heat = risks::heat_map(app, &other, &RiskQuery::default()).await.unwrap();
        assert_eq!(heat.residual.iter().flatten().sum::<u64>(), 0);
        // The heat map counts what the list shows, cell by cell.
        let heat = risks::heat_map(app, &secadmin, &RiskQuery::default()).await.unwrap();
        let all = risks::list(app, &secadmin, &RiskQuery { limit: 1000, ..Default::default() }).await.unwrap();
        assert_eq!(heat.inherent.iter().flatten().sum::<u64>(), all.total);
        assert_eq!(heat.residual[1][2], all.items.iter().filter(|x| x.residual_likelihood == 2 && x.residual_impact == 3).count() as u64);
        let cell = risks::list(app, &secadmin, &RiskQuery { likelihood: Some(2), impact: Some(3), ..Default::default() }).await.unwrap();
        assert_eq!(cell.total, heat.residual[1][2]);
        for l in 1..=5i16 {
            for i in 1..=5i16 {
                let q = RiskQuery { likelihood: Some(l), impact: Some(i), basis: Some("inherent".into()), ..Default::default() };
                let cell = risks::list(app, &secadmin, &q).await.unwrap();
                assert_eq!(cell.total, heat.inherent[l as usize - 1][i as usize - 1], "{b:?}: inherent cell {l}×{i}");
            }
        }
        let bad = RiskQuery { basis: Some("both".into()), ..Default::default() };
        assert!(matches!(risks::list(app, &secadmin, &bad).await, Err(AppError::Invalid(e)) if e[0].field == "basis"));
        let critical = risks::list(app, &secadmin, &RiskQuery { rating: Some("medium".into()), ..Default::default() }).await.unwrap();
        assert!(critical.items.iter().all(|x| x.residual_rating.code() == "medium") && critical.total > 0);

        // The matrix: only group-wide risk managers change it; a level in use stays.
        let ciso = acting_as(app, "ciso").await.unwrap();
        let mut small = Matrix::default();
        small.likelihood.truncate(3);
        small.bands = isms_core::compliance::risk::Bands { medium: 3, high: 6, critical: 9 };
        assert!(matches!(risks::set_matrix(app, &secadmin, small.clone()).await, Err(AppError::Forbidden)));
        assert_eq!(code_of(&risks::set_matrix(app, &ciso, small).await.unwrap_err()), "matrix-in-use");
        let mut renamed = Matrix::default();
        renamed.likelihood[0].label = "Very rare".into();
        risks::set_matrix(app, &ciso, renamed).await.unwrap();
        assert_eq!(risks::matrix(app).await.unwrap().likelihood[0].label, "Very rare");

        // Reminders: a treatment action due soon goes to its owner once.
        risks::add_action(
            app,
            &secadmin,
            &r.id,
            risks::ActionInput {
                title: "Replace the readers".into(),
                control_id: Some(mine.id.clone()),
                owner_id: None,
                due_on: isms_core::calendar::today().to_string(),
            },
        )
        .await
        .unwrap();
        let first = risks::remind(app).await.unwrap();
        assert!(first >= 1, "{b:?}");
        assert_eq!(risks::remind(app).await.unwrap(), 0, "{b:?}: each reminder once");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn overdue_reviews_and_actions_raise_findings_that_close_when_done() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let app = &s.app;
        let ciso = acting_as(app, "ciso").await.unwrap();
        let employee = acting_as(app, "employee").await.unwrap();
        let db = app.store.conn();
        use isms_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let past = (isms_core::calendar::today() - jiff::Span::new().days(3)).to_string();
        // A published document and a control fall overdue.
        let pol =
            isms_app::policies::documents::list(app, &ciso, &isms_app::policies::documents::DocQuery { search: Some("POL-001".into()), ..Default::default() })
                .await
                .unwrap()
                .items[0]
                .clone();
        isms_store::policies::document::Entity::update_many()
            .col_expr(isms_store::policies::document::Column::ReviewDue, isms_store::sea_orm::sea_query::Expr::value(past.clone()))
            .filter(isms_store::policies::document::Column::Id.eq(pol.id.clone()))
            .exec(db)
            .await
            .unwrap();
        let ctl = controls::list(app, &ciso, &ControlQuery { search: Some("CTL-001".into()), ..Default::default() }).await.unwrap().items[0].clone();
        isms_store::compliance::control::Entity::update_many()
            .col_expr(isms_store::compliance::control::Column::ReviewDue, isms_store::sea_orm::sea_query::Expr::value(past.clone()))
            .filter(isms_store::compliance::control::Column::Id.eq(ctl.id.clone()))
            .exec(db)
            .await
            .unwrap();
        assert!(matches!(isms_app::findings::check_now(app, &employee).await, Err(AppError::Forbidden)));
        let c = isms_app::findings::check_now(app, &ciso).await.unwrap();
        assert_eq!((c.opened, c.closed), (2, 0), "{b:?}");
        assert_eq!(isms_app::findings::check(app).await.unwrap().opened, 0, "{b:?}: one finding per lapse");
        let open = isms_app::findings::list(app, &ciso, &Default::default()).await.unwrap();
        let sources: Vec<&str> = open.items.iter().map(|f| f.source.as_str()).collect();
        assert!(sources.contains(&"document_review") && sources.contains(&"control_review"), "{sources:?}");
        // An employee reads none of them; an auditor reads both.
        assert_eq!(isms_app::findings::list(app, &employee, &Default::default()).await.unwrap().total, 0);
        let auditor = acting_as(app, "auditor").await.unwrap();
        assert_eq!(isms_app::findings::list(app, &auditor, &Default::default()).await.unwrap().total, 2);
        // The control's review is done: its finding closes, the document's stays.
        controls::reviewed(app, &ciso, &ctl.id, "checked the SOC reports").await.unwrap();
        let c = isms_app::findings::check(app).await.unwrap();
        assert_eq!((c.opened, c.closed, c.open), (0, 1, 1), "{b:?}");
        let closed =
            isms_app::findings::list(app, &ciso, &isms_app::findings::FindingQuery { status: Some("closed".into()), ..Default::default() }).await.unwrap();
        assert_eq!(closed.items[0].source, "control_review");
        assert!(closed.items[0].closed_ms.is_some());
        // The list exports: the open one only, in the reader's words.
        let u = user_session(app, "findings-auditor", vec![grant(Role::Auditor, None)], None).await;
        let csv = u.client.get(s.url("/findings/export.csv")).send().await.unwrap().text().await.unwrap();
        assert_eq!(csv.lines().count(), 2, "{b:?}: {csv}");
        assert!(csv.contains("POL-001") && !csv.contains("CTL-001"), "{csv}");
        s.db.drop_schema().await;
    }
}
