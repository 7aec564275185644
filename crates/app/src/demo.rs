//! The demo group: a fictional airline group with a holding company, six group
//! companies, their departments, 240 people and one account per role, so a newcomer
//! can try every screen. Loading it twice changes nothing.

use crate::accounts::{self, GrantView, NewUser};
use crate::org::{self, CompanyInput, DepartmentInput};
use crate::people;
use crate::{App, Principal, Result};
use isms_core::Role;

/// The password of every demo account. Printed at start; never use demo data in production.
pub const DEMO_PASSWORD: &str = "demo-password-2026";

const COMPANIES: [(&str, &str, &str, bool); 7] = [
    ("AZH", "Aozora Group Holdings", "あおぞらグループホールディングス", true),
    ("AZA", "Aozora Airlines", "あおぞら航空", false),
    ("AZX", "Aozora Express", "あおぞらエクスプレス", false),
    ("AZC", "Aozora Cargo", "あおぞらカーゴ", false),
    ("AZG", "Aozora Ground Services", "あおぞらグランドサービス", false),
    ("AZS", "Aozora Systems", "あおぞらシステムズ", false),
    ("AZT", "Aozora Travel", "あおぞらトラベル", false),
];

const DEPARTMENTS: [(&str, &str); 6] = [
    ("IT", "Information Technology"),
    ("SEC", "Information Security"),
    ("HR", "Human Resources"),
    ("OPS", "Operations"),
    ("CS", "Customer Service"),
    ("FIN", "Finance"),
];

const FAMILY: [&str; 20] = [
    "Sato",
    "Suzuki",
    "Takahashi",
    "Tanaka",
    "Watanabe",
    "Ito",
    "Yamamoto",
    "Nakamura",
    "Kobayashi",
    "Kato",
    "Yoshida",
    "Yamada",
    "Sasaki",
    "Yamaguchi",
    "Matsumoto",
    "Inoue",
    "Kimura",
    "Hayashi",
    "Shimizu",
    "Mori",
];
const GIVEN: [&str; 12] = ["Haruto", "Yui", "Sota", "Aoi", "Ren", "Hina", "Yuto", "Mei", "Kaito", "Sakura", "Riku", "Akari"];

/// One account per role. The company administrator and HR act for Aozora Airlines only.
pub const ACCOUNTS: [(&str, Role, bool); 10] = [
    ("admin", Role::SystemAdministrator, false),
    ("ciso", Role::Ciso, false),
    ("council", Role::CouncilMember, false),
    ("committee", Role::CommitteeMember, false),
    ("secadmin", Role::CompanySecurityAdmin, true),
    ("csirt", Role::CsirtMember, false),
    ("auditor", Role::Auditor, false),
    ("hr", Role::Hr, true),
    ("desk", Role::ContactDeskAgent, false),
    ("employee", Role::Employee, true),
];

/// Loads the demo group unless companies exist already. Returns whether it loaded.
pub async fn load(app: &App) -> Result<bool> {
    let system = Principal::system();
    if !org::list_companies(app, &system).await?.is_empty() {
        return Ok(false);
    }
    let mut companies = vec![];
    for (code, name, name_ja, holding) in COMPANIES {
        let c = org::create_company(app, &system, CompanyInput { code: code.into(), name: name.into(), name_ja: Some(name_ja.into()), is_holding: holding })
            .await?;
        let mut deps = vec![];
        for (dcode, dname) in DEPARTMENTS {
            deps.push(org::create_department(app, &system, DepartmentInput { company_id: c.id.clone(), code: dcode.into(), name: dname.into() }).await?);
        }
        companies.push((c, deps));
    }
    // People as one CSV import: the same path a real group takes.
    let mut csv = String::from("employee_number,name,email,company_code,department_code,manager_employee_number,status,joined_on\n");
    let mut n = 0usize;
    for (ci, (c, deps)) in companies.iter().enumerate() {
        let per_company = if c.is_holding { 30 } else { 35 };
        let mut first_in_dep: Vec<Option<String>> = vec![None; deps.len()];
        for i in 0..per_company {
            n += 1;
            let family = FAMILY[(n * 7 + ci) % FAMILY.len()];
            let given = GIVEN[(n * 5 + i) % GIVEN.len()];
            let number = format!("E{:05}", n);
            let di = i % deps.len();
            let manager = first_in_dep[di].clone().unwrap_or_default();
            if first_in_dep[di].is_none() {
                first_in_dep[di] = Some(number.clone());
            }
            let status = if n.is_multiple_of(41) { "on_leave" } else { "active" };
            let joined = format!("{}-{:02}-01", 2005 + (n % 20), 1 + n % 12);
            csv.push_str(&format!(
                "{number},{given} {family},{}.{}{}@{}.example,{},{},{manager},{status},{joined}\n",
                given.to_lowercase(),
                family.to_lowercase(),
                n,
                c.code.to_lowercase(),
                c.code,
                deps[di].code,
            ));
        }
    }
    people::import_csv(app, &system, csv.as_bytes(), |_, _| {}).await.map_err(|e| match e {
        people::ImportFailure::App(a) => a,
        people::ImportFailure::Rows(r) => crate::AppError::internal(format!("demo data: {}", r.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))),
    })?;
    let aza = companies.iter().find(|(c, _)| c.code == "AZA").map(|(c, _)| c.id.clone());
    let aza_people = people::list(app, &system, &isms_store::org::PeopleQuery { company_id: aza.clone(), limit: 20, ..Default::default() }).await?;
    for (i, (username, role, in_aza)) in ACCOUNTS.into_iter().enumerate() {
        let company_id = if in_aza { aza.clone() } else { None };
        accounts::create_user(
            app,
            &system,
            NewUser {
                username: username.into(),
                display_name: format!("Sample {}", username),
                password: DEMO_PASSWORD.into(),
                person_id: aza_people.items.get(i).map(|p| p.id.clone()),
                grants: vec![GrantView { role, company_id, expires_on: None }],
            },
        )
        .await?;
    }
    load_register(app, &companies.iter().map(|(c, _)| (c.code.clone(), c.id.clone())).collect::<Vec<_>>(), &aza_people.items).await?;
    load_documents(app, &aza_people.items).await?;
    load_incidents(app).await?;
    load_compliance(app, &aza_people.items).await?;
    load_monitoring(app, &companies.iter().map(|(c, _)| (c.code.clone(), c.id.clone())).collect::<Vec<_>>()).await?;
    Ok(true)
}

/// Detection rules written for the demo (SigmaHQ's come by import), two event sources,
/// and a morning of workstation events sent through the real pipeline, so the queue
/// holds alerts to triage.
async fn load_monitoring(app: &App, companies: &[(String, String)]) -> Result<()> {
    use crate::monitoring::{pipeline, rules, sources};
    let csirt = accounts::acting_as(app, "csirt").await?;
    let aza = companies.iter().find(|(c, _)| c == "AZA").map(|(_, id)| id.clone());
    const DEMO_RULES: [&str; 3] = [
        "title: Account discovery with whoami\nid: 0d6f4c1a-7b2e-4e55-9a51-3c1f0e2a9b01\nstatus: test\ndescription: An interactive user asks who they are, often the first step after a foothold.\ntags: [attack.discovery, attack.t1033]\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  selection:\n    Image|endswith: '\\whoami.exe'\n  condition: selection\nlevel: medium\n",
        "title: PowerShell with an encoded command\nid: 5b7e2d90-1c3f-4a8e-b2d4-6f0a9c8e7d02\nstatus: test\ndescription: Base64-encoded PowerShell hides what it runs; common in malware droppers.\ntags: [attack.execution, attack.t1059.001]\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  selection:\n    Image|endswith: '\\powershell.exe'\n    CommandLine|contains: [' -enc ', ' -EncodedCommand ']\n  condition: selection\nlevel: high\n",
        "title: Shadow copies deleted\nid: 9c2a4e61-8d3b-4f7a-a1c5-2e9b7d6f3a03\nstatus: test\ndescription: Deleting volume shadow copies is what ransomware does before encrypting.\ntags: [attack.impact, attack.t1490]\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  selection:\n    CommandLine|contains|all: [vssadmin, delete, shadows]\n  condition: selection\nlevel: critical\n",
    ];
    for body in DEMO_RULES {
        rules::create(app, &csirt, rules::RuleInput { body: body.into(), enabled: true }).await?;
    }
    let ws = sources::create(
        app,
        &csirt,
        sources::SourceInput {
            name: "AZA workstations (Winlogbeat)".into(),
            company_id: aza,
            kind: "windows".into(),
            expected_secs: Some(900),
            keep_raw: true,
            ..Default::default()
        },
    )
    .await?;
    sources::create(
        app,
        &csirt,
        sources::SourceInput { name: "Group perimeter firewall".into(), kind: "firewall".into(), expected_secs: Some(3600), ..Default::default() },
    )
    .await?;
    let now = jiff::Timestamp::now();
    let event = |minutes_ago: i64, host: &str, user: &str, image: &str, command: &str| {
        let at = now.checked_sub(jiff::SignedDuration::from_mins(minutes_ago)).unwrap_or(now);
        serde_json::json!({
            "@timestamp": at.to_string(),
            "winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": 1, "computer_name": host,
                       "event_data": {"Image": image, "CommandLine": command, "User": user, "ParentImage": "C:\\Windows\\explorer.exe"}},
        })
        .to_string()
    };
    let lines = [
        event(95, "AZA-WS-0142.aozora.example", "AOZORA\\t.sato", "C:\\Windows\\System32\\whoami.exe", "whoami /all"),
        event(94, "AZA-WS-0142.aozora.example", "AOZORA\\t.sato", "C:\\Windows\\System32\\whoami.exe", "whoami /groups"),
        event(60, "AZA-WS-0217.aozora.example", "AOZORA\\k.ito", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA="),
        event(12, "AZA-FS-02.aozora.example", "AOZORA\\svc-backup", "C:\\Windows\\System32\\vssadmin.exe", "vssadmin.exe delete shadows /all /quiet"),
        event(5, "AZA-WS-0142.aozora.example", "AOZORA\\t.sato", "C:\\Windows\\System32\\notepad.exe", "notepad.exe report.txt"),
        // A connection to an address the sample ISAC feed lists.
        serde_json::json!({
            "@timestamp": now.checked_sub(jiff::SignedDuration::from_mins(30)).unwrap_or(now).to_string(),
            "winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": 3, "computer_name": "AZA-WS-0217.aozora.example",
                       "event_data": {"Image": "C:\\Users\\k.ito\\AppData\\Local\\Temp\\upd.exe", "User": "AOZORA\\k.ito", "DestinationIp": "203.0.113.66", "DestinationPort": 443}},
        })
        .to_string(),
    ];
    load_intel(app, &csirt).await?;
    load_oncall(app, &csirt).await?;
    let source = sources::authenticate(app, &ws.token).await?;
    let p = pipeline::Pipeline::start(app.clone(), pipeline::PipelineConfig::default());
    p.submit(source, lines.join("\n").into_bytes()).await.map_err(|e| match e {
        pipeline::SubmitError::Failed(e) => e,
        pipeline::SubmitError::Busy => crate::AppError::internal("the demo pipeline was busy"),
    })?;
    Ok(())
}

/// The group SOC's weekly rotation, from this Monday 09:00 in Japan: the CSIRT member
/// first, then the CISO, who is also the lead paged when nobody acknowledges.
async fn load_oncall(app: &App, csirt: &crate::Principal) -> Result<()> {
    use crate::monitoring::oncall;
    let ciso = accounts::acting_as(app, "ciso").await?;
    let today = isms_core::calendar::today();
    let monday = today.checked_sub(jiff::Span::new().days(today.weekday().to_monday_zero_offset() as i64)).unwrap_or(today);
    let input = oncall::RotationInput {
        name: "Group SOC".into(),
        min_severity: "high".into(),
        ack_minutes: 15,
        shift_hours: 168,
        starts: format!("{monday}T09:00"),
        members: [csirt, &ciso].iter().filter_map(|p| p.user_id.clone()).collect(),
        lead_user_id: ciso.user_id.clone(),
        ..Default::default()
    };
    oncall::create(app, csirt, input).await?;
    Ok(())
}

/// A sample ISAC feed: a STIX 2.1 bundle with a command-and-control address, a phishing
/// domain and a malware hash, all from documentation ranges and example names.
async fn load_intel(app: &App, csirt: &crate::Principal) -> Result<()> {
    use crate::monitoring::intel;
    let feed = intel::create_feed(
        app,
        csirt,
        intel::FeedInput {
            name: "Aviation ISAC sample bundle".into(),
            format: "stix".into(),
            default_tlp: "amber".into(),
            default_confidence: Some(70),
            enabled: true,
            ..Default::default()
        },
    )
    .await?;
    let bundle = serde_json::json!({"type": "bundle", "id": "bundle--7d0c4f7e-3a51-4c9e-9b1e-2f5d8a6c4b10", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--1f6a2c8e-5b3d-4e7a-9c1f-0a2b3c4d5e61", "created": "2026-11-01T00:00:00Z", "modified": "2026-11-01T00:00:00Z",
         "name": "Command-and-control server of a loader seen at airlines", "pattern": "[ipv4-addr:value = '203.0.113.66']", "pattern_type": "stix",
         "valid_from": "2026-11-01T00:00:00Z", "confidence": 85, "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--2a7b3d9f-6c4e-4f8b-8d2a-1b3c4d5e6f72", "created": "2026-11-01T00:00:00Z", "modified": "2026-11-01T00:00:00Z",
         "name": "Phishing domain imitating a mileage programme", "pattern": "[domain-name:value = 'mileage-aozora.example']", "pattern_type": "stix",
         "valid_from": "2026-11-01T00:00:00Z", "confidence": 60, "object_marking_refs": ["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--3b8c4e0a-7d5f-4a9c-9e3b-2c4d5e6f7a83", "created": "2026-11-01T00:00:00Z", "modified": "2026-11-01T00:00:00Z",
         "name": "Ransomware dropper", "pattern": "[file:hashes.'SHA-256' = '5f2b7c0e9a8d6b4c3e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d']", "pattern_type": "stix",
         "valid_from": "2026-11-01T00:00:00Z", "confidence": 95}
    ]});
    intel::import(app, csirt, &feed.id, bundle.to_string().as_bytes(), Some("stix"), false).await?;
    Ok(())
}

/// Controls behind the seed's measures, linked to ISO/IEC 27001 and NIST CSF; a few
/// Statement of Applicability decisions; and risks of Aozora Airlines, one accepted by
/// its owner.
async fn load_compliance(app: &App, owners: &[people::Person]) -> Result<()> {
    use crate::compliance::controls::{self, ControlInput, LinkInput};
    use crate::compliance::soa::{self, Decision};
    use crate::compliance::{Scope, frameworks};
    use crate::risks::{self, Acceptance, ActionInput, RiskInput};
    frameworks::ensure_shipped(app).await?;
    let ciso = accounts::acting_as(app, "ciso").await?;
    let iso = frameworks::get(app, &ciso, "iso27001-2022").await?.requirements;
    let csf = frameworks::get(app, &ciso, "nist-csf-2.0").await?.requirements;
    let refs =
        |list: &[&str]| -> Vec<String> { list.iter().filter_map(|r| iso.iter().chain(csf.iter()).find(|q| q.reference == *r).map(|q| q.id.clone())).collect() };
    let owner = |i: usize| owners.get(i).map(|p| p.employee_number.clone()).unwrap_or_default();
    let today = isms_core::calendar::today();
    let mut made = vec![];
    for (code, title, status, reqs, who) in [
        ("CTL-001", "24/7 security monitoring with ISAC threat intelligence", "implemented", &["A.5.7", "A.8.16", "DE.CM-01", "ID.RA-02"][..], 5),
        ("CTL-002", "Multi-factor authentication on systems holding customer information", "implemented", &["A.8.5", "A.5.17", "PR.AA-03"], 1),
        ("CTL-003", "Security training twice a year and phishing drills", "in_progress", &["A.6.3", "PR.AT-01"], 1),
        ("CTL-004", "Handling categories keep customer information apart", "implemented", &["A.5.12", "A.5.10", "ID.AM-07"], 1),
        ("CTL-005", "CSIRT response per the Risk Management Manual", "implemented", &["A.5.24", "A.5.25", "A.5.26", "A.5.27", "RS.MA-01", "RS.MA-02"], 5),
        ("CTL-006", "Security assessment of vendors and cloud services", "planned", &["A.5.19", "A.5.23", "GV.SC-06"], 1),
    ] {
        let c = controls::create(
            app,
            &ciso,
            ControlInput {
                code: code.into(),
                title: title.into(),
                owner_id: owner(who),
                status: status.into(),
                requirement_ids: refs(reqs),
                ..Default::default()
            },
        )
        .await?;
        made.push(c);
    }
    controls::add_link(
        app,
        &ciso,
        &made[0].id,
        LinkInput {
            title: "SOC monthly report, October".into(),
            url: "https://soc.example/reports/2026-10".into(),
            evidence_on: Some(today.saturating_sub(jiff::Span::new().days(20)).to_string()),
        },
    )
    .await?;
    controls::add_file(
        app,
        &ciso,
        &made[1].id,
        "mfa-enrolment.csv",
        b"system,users,enrolled\nreservations,412,412\nmileage,96,96\n".to_vec(),
        "MFA enrolment by system",
        &None,
    )
    .await?;
    controls::add_link(
        app,
        &ciso,
        &made[3].id,
        LinkInput { title: "Handling categories review minutes".into(), url: "https://intranet.example/isms/categories-2026".into(), evidence_on: None },
    )
    .await?;
    controls::add_link(
        app,
        &ciso,
        &made[4].id,
        LinkInput { title: "CSIRT drill report, first half".into(), url: "https://intranet.example/csirt/drill-h1".into(), evidence_on: None },
    )
    .await?;
    let a85 = |r: &str| iso.iter().find(|q| q.reference == r).map(|q| q.id.clone()).unwrap_or_default();
    soa::decide(
        app,
        &ciso,
        "iso27001-2022",
        &Scope::Group,
        &a85("A.5.1"),
        Decision { applicable: true, justification: "Basic policy POL-001, reviewed yearly and published".into() },
    )
    .await?;
    soa::decide(
        app,
        &ciso,
        "iso27001-2022",
        &Scope::Group,
        &a85("A.8.30"),
        Decision { applicable: false, justification: "No outsourced software development within the ISMS scope; Aozora Systems develops in-house".into() },
    )
    .await?;

    let manager = accounts::acting_as(app, "secadmin").await?;
    let aza = owners.first().map(|p| p.company_id.clone()).unwrap_or_default();
    let leak = risks::create(
        app,
        &manager,
        RiskInput {
            title: "Customer data leaked from the reservation system".into(),
            company_id: aza.clone(),
            owner_id: owner(1),
            threat: "Unauthorised access with stolen credentials".into(),
            vulnerability: "Password-only access for operators (before MFA)".into(),
            inherent_likelihood: 4,
            inherent_impact: 5,
            residual_likelihood: 2,
            residual_impact: 4,
            treatment: "mitigate".into(),
            plan: "MFA for every operator; 24/7 monitoring of the reservation system".into(),
            control_ids: vec![made[0].id.clone(), made[1].id.clone()],
            ..Default::default()
        },
    )
    .await?;
    risks::add_action(
        app,
        &manager,
        &leak.id,
        ActionInput {
            title: "Enrol the remaining contractor accounts in MFA".into(),
            control_id: Some(made[1].id.clone()),
            owner_id: None,
            due_on: today.saturating_add(jiff::Span::new().days(30)).to_string(),
        },
    )
    .await?;
    risks::create(
        app,
        &manager,
        RiskInput {
            title: "Employee accounts taken over by phishing".into(),
            company_id: aza.clone(),
            owner_id: owner(1),
            threat: "Targeted phishing mail".into(),
            vulnerability: "Staff not yet trained this half-year".into(),
            inherent_likelihood: 4,
            inherent_impact: 4,
            residual_likelihood: 3,
            residual_impact: 3,
            treatment: "mitigate".into(),
            control_ids: vec![made[2].id.clone()],
            ..Default::default()
        },
    )
    .await?;
    let cloud = risks::create(
        app,
        &manager,
        RiskInput {
            title: "Misconfigured cloud storage exposes mileage statements".into(),
            company_id: aza,
            owner_id: owner(1),
            threat: "Public bucket or open share".into(),
            vulnerability: "No review of cloud settings before go-live".into(),
            inherent_likelihood: 3,
            inherent_impact: 4,
            residual_likelihood: 2,
            residual_impact: 3,
            treatment: "accept".into(),
            plan: "Accepted until the vendor assessment (CTL-006) is in place".into(),
            control_ids: vec![made[5].id.clone()],
            ..Default::default()
        },
    )
    .await?;
    risks::accept(
        app,
        &ciso,
        &cloud.id,
        Acceptance {
            reason: "Low residual risk; the vendor assessment starts next quarter".into(),
            expires_on: today.saturating_add(jiff::Span::new().months(6)).to_string(),
        },
    )
    .await?;
    Ok(())
}

const BASIC_POLICY_JA: &str = "# 情報セキュリティ基本方針\n\nアオゾラ航空グループは、お客さまからお預かりした情報と、事業を支える情報を守ることを経営の最重要課題の一つと位置づけます。\n\n## 1. 体制\n\n- グループリスク管理会議のもとに情報セキュリティ・個人情報保護委員会を置き、CISO が施策を統括します。\n- 各社に情報セキュリティ管理者を置きます。\n\n## 2. 情報の取扱い\n\n- すべての情報を取扱区分に分類し、**お客さまの情報はほかの情報と厳格に区別して**管理します。\n- 取扱区分ごとに、保管場所、持ち出し、暗号化、廃棄の方法を定めます。\n\n## 3. 監視と対応\n\n- 不正アクセスやウイルス感染などの脅威を、外部機関と連携して 24 時間 365 日監視します。\n- 事故が起きたときは CSIRT が被害を最小限に抑え、必要な情報を速やかに公表し、再発防止に努めます。\n\n## 4. 教育と点検\n\n- 全従業員に年 2 回以上の教育と標的型メール訓練を行います。\n- グループ各社の点検と外部監査を定期的に行います。\n\n## 5. 見直し\n\nこの方針は定期的に見直し、当社ウェブサイトで公開します。\n";

const BASIC_POLICY_EN: &str = "# Basic Information Security Policy\n\nThe Aozora Air group treats protecting the information customers entrust to it, and the information its business runs on, as one of its highest management priorities.\n\n## 1. Organisation\n\n- An Information Security and Personal Information Protection Committee works under the Group Risk Management Council; the CISO leads the measures.\n- Every company names an information security administrator.\n\n## 2. Handling information\n\n- All information is classified into handling categories, and **customer information is kept strictly apart from other information**.\n- Each category sets where information may be kept, whether it may leave, how it is encrypted and how it is destroyed.\n\n## 3. Monitoring and response\n\n- Threats such as unauthorised access and malware are monitored around the clock, together with outside agencies.\n- In an incident the CSIRT limits the damage, releases the necessary information quickly and works to prevent recurrence.\n\n## 4. Training and inspection\n\n- Every employee is trained at least twice a year and takes part in phishing drills.\n- Group companies are inspected and audited by outside auditors regularly.\n\n## 5. Review\n\nThis policy is reviewed at regular intervals and published on our website.\n";

const HANDBOOK_V1: &str = "# 個人情報保護ハンドブック\n\n## お客さまの情報を扱うとき\n\n1. 業務に必要な範囲でだけ参照します。\n2. 社外へのメール送信、USB メモリへの保存はしません。\n3. 紙の資料は施錠できる場所に保管し、不要になったらシュレッダーで廃棄します。\n\n## 事故に気づいたら\n\n誤送信、紛失、不審なメールに気づいたら、すぐに CSIRT に報告してください。\n";

const HANDBOOK_V2: &str = "# 個人情報保護ハンドブック\n\n## お客さまの情報を扱うとき\n\n1. 業務に必要な範囲でだけ参照します。\n2. 社外へのメール送信、USB メモリへの保存はしません。持ち出しが必要なときは事前に申請します。\n3. 紙の資料は施錠できる場所に保管し、不要になったらシュレッダーで廃棄します。\n\n## 在宅勤務のとき\n\n会社の端末だけを使い、画面をほかの人に見られないようにします。\n\n## 事故に気づいたら\n\n誤送信、紛失、不審なメールに気づいたら、すぐに CSIRT に報告してください。\n";

/// A few documents through their real lifecycle: the basic policy in both languages,
/// disclosed and to be read by everyone; the Handbook with a second version awaiting the
/// Committee; the Risk Management Manual for the CSIRT.
async fn load_documents(app: &App, owners: &[people::Person]) -> Result<()> {
    use crate::policies::{DocumentInput, documents, versions};
    let ciso = accounts::acting_as(app, "ciso").await?;
    let council = accounts::acting_as(app, "council").await?;
    let committee = accounts::acting_as(app, "committee").await?;
    let owner = owners.first().map(|p| p.employee_number.clone()).unwrap_or_default();
    let doc = |code: &str, kind: &str, title: &str, language: &str, public: bool, ack: bool, body: &str| DocumentInput {
        code: code.into(),
        kind: kind.into(),
        title: title.into(),
        owner_id: owner.clone(),
        language: language.into(),
        public,
        must_acknowledge: ack,
        body: body.into(),
        ..Default::default()
    };
    let approve = versions::DecisionInput { approve: true, note: String::new() };
    let ja = documents::create(app, &ciso, doc("POL-001", "policy", "情報セキュリティ基本方針", "ja", true, true, BASIC_POLICY_JA)).await?;
    let mut en_input = doc("POL-001-EN", "policy", "Basic Information Security Policy", "en", true, false, BASIC_POLICY_EN);
    en_input.translation_id = Some(ja.id.clone());
    let en = documents::create(app, &ciso, en_input).await?;
    for d in [&ja, &en] {
        versions::submit(app, &ciso, &d.id, 1).await?;
        versions::decide(app, &council, &d.id, 1, approve.clone()).await?;
        versions::publish(app, &ciso, &d.id, 1).await?;
    }
    let hb = documents::create(app, &ciso, doc("HBK-001", "handbook", "個人情報保護ハンドブック", "ja", false, true, HANDBOOK_V1)).await?;
    versions::submit(app, &ciso, &hb.id, 1).await?;
    versions::decide(app, &committee, &hb.id, 1, approve.clone()).await?;
    versions::publish(app, &ciso, &hb.id, 1).await?;
    versions::new_version(app, &ciso, &hb.id).await?;
    versions::edit(
        app,
        &ciso,
        &hb.id,
        2,
        versions::VersionInput {
            title: "個人情報保護ハンドブック".into(), body: HANDBOOK_V2.into(), summary: "持ち出し申請と在宅勤務の項を追加".into()
        },
    )
    .await?;
    versions::submit(app, &ciso, &hb.id, 2).await?;
    // A company's own procedure, written by its security administrator; the CISO approves.
    let secadmin = accounts::acting_as(app, "secadmin").await?;
    let mut rm_input = doc(
        "PRC-001",
        "procedure",
        "Risk Management Manual: information security incidents",
        "en",
        false,
        false,
        "# Risk Management Manual\n\n## Roles\n\n- CSIRT lead: runs the response and decides containment.\n- CISO: informs the Committee; the Council for high severity.\n\n## First hour\n\n1. Confirm and record what is known.\n2. Contain: isolate affected systems, revoke credentials.\n3. Decide whether personal information is involved; start the regulatory clocks.\n",
    );
    rm_input.company_id = owners.first().map(|p| p.company_id.clone());
    let rm = documents::create(app, &secadmin, rm_input).await?;
    versions::submit(app, &secadmin, &rm.id, 1).await?;
    Ok(())
}

/// Two reports: a suspicious mail in triage, and a lost laptop just reported.
async fn load_incidents(app: &App) -> Result<()> {
    use crate::incidents::cases::{self, FactsInput, ReportInput, TransitionInput};
    crate::incidents::playbooks::ensure_defaults(app).await?;
    let employee = accounts::acting_as(app, "employee").await?;
    let csirt = accounts::acting_as(app, "csirt").await?;
    let mail = cases::report(
        app,
        &employee,
        ReportInput {
            title: "Mail asking to confirm my mileage account".into(),
            description: "Sender looked like the mileage programme; the link went to a different domain. I did not enter anything.".into(),
            kind: Some("phishing".into()),
            ..Default::default()
        },
    )
    .await?;
    cases::transition_to(app, &csirt, &mail.id, TransitionInput { to: "triage".into(), reason: String::new() }).await?;
    cases::update_facts(
        app,
        &csirt,
        &mail.id,
        FactsInput {
            title: mail.title.clone(),
            kind: "phishing".into(),
            description: mail.description.clone(),
            impact: Some("limited".into()),
            exposure: Some("none".into()),
            personal_data: Some(false),
            techniques: vec!["T1566.002".into()],
            ..Default::default()
        },
    )
    .await?;
    cases::report(
        app,
        &employee,
        ReportInput { title: "Laptop left on the train".into(), kind: Some("loss_theft".into()), customer_data: true, ..Default::default() },
    )
    .await?;
    Ok(())
}

/// A small register that already shows what the conformance check finds: customer data in
/// a cloud service not approved for it, a shared drive without MFA, an unencrypted laptop,
/// an asset with no owner.
async fn load_register(app: &App, companies: &[(String, String)], owners: &[people::Person]) -> Result<()> {
    use crate::assets::{AssetInput, SupportInput, categories, register, supports};
    let system = Principal::system();
    categories::ensure_defaults(app).await?;
    crate::incidents::playbooks::ensure_defaults(app).await?;
    let cats = categories::list(app, &system).await?;
    let cat = |code: &str| cats.iter().find(|c| c.code == code).map(|c| c.id.clone()).unwrap_or_default();
    let company = |code: &str| companies.iter().find(|c| c.0 == code).map(|c| c.1.clone()).unwrap_or_default();
    let owner = |i: usize| owners.get(i).map(|p| p.employee_number.clone());
    let hardened = |company_id: String, kind: &str, name: &str, location: &str| SupportInput {
        company_id,
        kind: kind.into(),
        name: name.into(),
        location: location.into(),
        mfa: true,
        access_logging: true,
        encrypted_at_rest: true,
        encrypted_in_transit: true,
        endpoint_protection: true,
        zero_trust: true,
        locked: true,
        patched_on: Some(isms_core::calendar::today().to_string()),
        ..Default::default()
    };
    let aza = company("AZA");
    let pss = supports::create(
        app,
        &system,
        SupportInput { internet_exposed: true, owner_id: None, ..hardened(aza.clone(), "system", "Passenger service system", "Tokyo data centre, hall 2") },
    )
    .await?;
    let crm = supports::create(
        app,
        &system,
        SupportInput {
            approved_categories: vec![cat("CUSTOMER-PI"), cat("EMPLOYEE-PI")],
            ..hardened(aza.clone(), "cloud_service", "Customer relationship SaaS", "Tokyo region")
        },
    )
    .await?;
    let analytics = supports::create(
        app,
        &system,
        SupportInput { approved_categories: vec![cat("INTERNAL")], ..hardened(aza.clone(), "cloud_service", "Marketing analytics SaaS", "Overseas region") },
    )
    .await?;
    let drive = supports::create(
        app,
        &system,
        SupportInput { mfa: false, access_logging: false, ..hardened(aza.clone(), "system", "Sales shared drive", "Head office server room") },
    )
    .await?;
    let laptop = supports::create(
        app,
        &system,
        SupportInput { encrypted_at_rest: false, ..hardened(aza.clone(), "terminal", "Laptop AZA-PC-0142", "Sales department") },
    )
    .await?;
    let cabinet = supports::create(app, &system, hardened(aza.clone(), "paper_storage", "Records room B2, cabinet 4", "Head office B2")).await?;
    let web =
        supports::create(app, &system, SupportInput { internet_exposed: true, ..hardened(company("AZH"), "system", "Group website", "Hosting provider") })
            .await?;
    let tour =
        supports::create(app, &system, SupportInput { internet_exposed: true, ..hardened(company("AZT"), "system", "Tour booking site", "Osaka data centre") })
            .await?;
    let cargo = supports::create(app, &system, hardened(company("AZC"), "system", "Cargo tracking system", "Narita cargo building")).await?;
    let items: [(&str, &str, &str, Option<String>, &str, Option<i64>, Vec<String>); 10] = [
        ("AZA", "Passenger reservation records", "CUSTOMER-PI", owner(1), "electronic", Some(12_400_000), vec![pss.id.clone(), crm.id.clone()]),
        ("AZA", "Mileage programme members", "CUSTOMER-PI", owner(1), "electronic", Some(3_100_000), vec![crm.id.clone(), analytics.id.clone()]),
        ("AZA", "Lost and found claims", "CUSTOMER-PI", owner(2), "paper", Some(8_200), vec![cabinet.id.clone()]),
        ("AZA", "Employee personnel files", "EMPLOYEE-PI", owner(7), "paper", Some(5_300), vec![cabinet.id.clone()]),
        ("AZA", "Crew rosters", "EMPLOYEE-PI", owner(3), "electronic", Some(2_400), vec![laptop.id.clone()]),
        ("AZA", "Fleet maintenance manuals", "CONFIDENTIAL", owner(4), "electronic", None, vec![drive.id.clone()]),
        ("AZA", "Route planning studies", "CONFIDENTIAL", None, "electronic", None, vec![drive.id.clone()]),
        ("AZH", "Press releases", "PUBLIC", owner(0), "electronic", None, vec![web.id.clone()]),
        ("AZT", "Tour customer bookings", "CUSTOMER-PI", owner(5), "electronic", Some(640_000), vec![tour.id.clone()]),
        ("AZC", "Shipment manifests", "INTERNAL", owner(6), "electronic", Some(90_000), vec![cargo.id.clone()]),
    ];
    for (co, name, category, owner_id, medium, volume, held) in items {
        register::create(
            app,
            &system,
            AssetInput {
                company_id: company(co),
                category_id: cat(category),
                name: name.into(),
                owner_id,
                medium: medium.into(),
                volume,
                supports: held,
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}
