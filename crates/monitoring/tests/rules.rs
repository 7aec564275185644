//! Sigma rule imports on both backends, without the web layer: what loaded, what was
//! refused (by file and line), what was kept because it was edited here, and rule tests
//! that keep nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step is a failed test")]

use isms_monitoring::rules::{self, ImportFile, RuleInput};
use isms_org::accounts::acting_as;
use isms_testdb::{TestApp, backends};

const RULE: &str = "title: Whoami run on a workstation
id: 6f9d3c1e-4b7a-4d2e-9c1f-0a1b2c3d4e5f
status: test
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    CommandLine|contains: whoami
  condition: selection
level: high
";

#[tokio::test]
async fn rule_imports_report_what_loaded_and_what_was_refused() {
    for b in backends() {
        let s = TestApp::start(b).await;
        let group = s.group().await;
        isms_monitoring::demo::load(&s.app, &group).await.unwrap();
        let app = &s.app;
        let csirt = acting_as(app, "csirt").await.unwrap();
        let files = vec![
            ImportFile { name: "rules/windows/whoami.yml".into(), text: RULE.into() },
            ImportFile {
                name: "rules/windows/broken.yml".into(),
                text: "title: Broken\nlogsource: {product: windows}\ndetection:\n  sel: {Image|nomod: x}\n  condition: sel\n".into(),
            },
            ImportFile { name: "README.md".into(), text: "# rules".into() },
        ];
        let r = rules::import(app, &csirt, files.clone()).await.unwrap();
        assert_eq!((r.created, r.updated, r.skipped, r.refused.len()), (1, 0, 1, 1), "{b:?} {r:?}");
        assert_eq!((r.refused[0].file.as_str(), r.refused[0].line), ("rules/windows/broken.yml", 4), "{:?}", r.refused[0]);
        let again = rules::import(app, &csirt, files).await.unwrap();
        assert_eq!((again.created, again.unchanged), (0, 1));
        // Edited here, then imported again: the local text stays.
        let listed = rules::list(app, &csirt, &rules::RuleQuery { q: Some("whoami workstation".into()), ..Default::default() }).await.unwrap();
        assert_eq!(listed.total, 1);
        let id = listed.items[0].id.clone();
        rules::update(app, &csirt, &id, RuleInput { body: RULE.replace("level: high", "level: critical"), enabled: true }).await.unwrap();
        let third = rules::import(app, &csirt, vec![ImportFile { name: "rules/windows/whoami.yml".into(), text: RULE.into() }]).await.unwrap();
        assert_eq!(third.kept_local.len(), 1);
        assert_eq!(rules::get(app, &csirt, &id).await.unwrap().rule.level, "critical");
        // A rule test runs the text on samples without keeping anything.
        let t = rules::test(
            RULE,
            &format!(
                "{}\n{}\nnope",
                r#"{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"CommandLine":"whoami"}"#,
                r#"{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"CommandLine":"dir"}"#
            ),
        );
        assert_eq!(t.samples.iter().map(|x| (x.matched, x.error.is_some())).collect::<Vec<_>>(), [(true, false), (false, false), (false, true)]);
        s.db.drop_schema().await;
    }
}
