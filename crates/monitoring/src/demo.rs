//! The demo monitoring: rules, event sources, a morning of events through the pipeline, a threat feed and an on-call rotation.

use isms_kernel::{App, AppError, Principal, Result};
use isms_org::demo::Group;

/// Loads this module's part of the demo group.
pub async fn load(app: &App, group: &Group) -> Result<()> {
    load_monitoring(app, &group.companies).await
}

/// Detection rules written for the demo (SigmaHQ's come by import), two event sources,
/// and a morning of workstation events sent through the real pipeline, so the queue
/// holds alerts to triage.
async fn load_monitoring(app: &App, companies: &[(String, String)]) -> Result<()> {
    use crate::{pipeline, rules, sources};
    let csirt = isms_org::accounts::acting_as(app, "csirt").await?;
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
        pipeline::SubmitError::Busy => AppError::internal("the demo pipeline was busy"),
    })?;
    Ok(())
}

/// The group SOC's weekly rotation, from this week's Monday 09:00 in Japan (begun already): the CSIRT member
/// first, then the CISO, who is also the lead paged when nobody acknowledges.
async fn load_oncall(app: &App, csirt: &Principal) -> Result<()> {
    use crate::oncall;
    let ciso = isms_org::accounts::acting_as(app, "ciso").await?;
    let today = isms_core::calendar::today();
    let mut monday = today.checked_sub(jiff::Span::new().days(today.weekday().to_monday_zero_offset() as i64)).unwrap_or(today);
    // Early on a Monday this week's shift has not begun: the rotation starts a week before,
    // so the CSIRT member is on call now whatever the hour.
    if monday == today && isms_core::calendar::zoned_at(isms_store::now_ms()).is_some_and(|z| z.hour() < 9) {
        monday = monday.checked_sub(jiff::Span::new().days(7)).unwrap_or(monday);
    }
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
async fn load_intel(app: &App, csirt: &Principal) -> Result<()> {
    use crate::intel;
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
