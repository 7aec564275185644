//! The `isms` binary as an operator uses it: migrate, demo data, import, audit verify,
//! backup and restore, configuration errors, and two instances side by side.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step is a failed test")]

use std::path::Path;
use std::process::{Command, Output};

mod worker;

fn isms(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isms"))
        .args(args)
        .arg("--data")
        .arg(data)
        .env_remove("ISMS_DATABASE_URL")
        .env("ISMS_LOG", "warn")
        .output()
        .expect("run isms")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn audit_verify_names_the_tampered_entry() {
    let dir = tempfile::tempdir().unwrap();
    let o = isms(dir.path(), &["admin", "demo"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = isms(dir.path(), &["audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).starts_with("ok: "), "{}", text(&o));

    let db = dir.path().join("isms.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use isms_store::sea_orm::ConnectionTrait;
        let s = isms_store::Store::connect(&format!("sqlite://{}", db.display()), Default::default()).await.unwrap();
        s.conn().execute_unprepared("UPDATE audit_log SET actor = 'user:someone-else' WHERE seq = 7").await.unwrap();
        s.close().await.unwrap();
    });
    let o = isms(dir.path(), &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("entry 7"), "{}", text(&o));
}

#[test]
fn import_reports_lines_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    assert!(isms(dir.path(), &["admin", "demo"]).status.success());
    let csv = dir.path().join("people.csv");
    std::fs::write(&csv, "employee_number,name,email,company_code\nZ-1,Fine,z1@x.example,AZA\nZ-2,Broken,not-mail,AZA\n").unwrap();
    let o = isms(dir.path(), &["import", "people", csv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(t.contains("line 3, email"), "{t}");
    std::fs::write(&csv, "employee_number,name,email,company_code\nZ-1,Fine,z1@x.example,AZA\nZ-2,Fixed,z2@x.example,AZA\n").unwrap();
    let o = isms(dir.path(), &["import", "people", csv.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("2 added"), "{}", text(&o));
    // The command closed the database: its write-ahead log went into the file.
    let wal = dir.path().join("isms.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0, "a command leaves no write-ahead log behind");
}

#[test]
fn backup_and_restore_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    assert!(isms(dir.path(), &["admin", "demo"]).status.success());
    let backup = dir.path().join("backup.db");
    let o = isms(dir.path(), &["backup", backup.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let other = tempfile::tempdir().unwrap();
    std::fs::copy(dir.path().join("secret.key"), other.path().join("secret.key")).unwrap();
    let o = isms(other.path(), &["restore", backup.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let o = isms(other.path(), &["audit", "verify"]);
    assert!(o.status.success() && text(&o).starts_with("ok: "), "{}", text(&o));
    // Not a database at all.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "hello").unwrap();
    let o = isms(other.path(), &["restore", "--force", junk.to_str().unwrap()]);
    assert!(!o.status.success());
}

#[test]
fn config_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("isms.toml");
    std::fs::write(&cfg, "listen = \"127.0.0.1:8181\"\nsesion_idle_minutes = 5\n").unwrap();
    let o = isms(dir.path(), &["--config", cfg.to_str().unwrap(), "config", "check"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("sesion_idle_minutes"), "{}", text(&o));
    std::fs::write(&cfg, "listen = \"127.0.0.1:8181\"\ndatabase_url = \"postgres://u:hunter2@db/isms\"\n").unwrap();
    let o = isms(dir.path(), &["--config", cfg.to_str().unwrap(), "config", "check"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("hunter2"), "secrets never print: {}", text(&o));
}

#[test]
fn migrate_reports_status() {
    let dir = tempfile::tempdir().unwrap();
    let o = isms(dir.path(), &["migrate"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("applied  m0001_foundation"), "{}", text(&o));
}

/// Two servers with their own data folders and ports, side by side; each prints where it listens.
#[test]
fn two_instances_side_by_side_and_first_start_prints_a_setup_link() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let port = |p: &std::net::TcpListener| p.local_addr().unwrap().port();
    let (la, lb) = (std::net::TcpListener::bind("127.0.0.1:0").unwrap(), std::net::TcpListener::bind("127.0.0.1:0").unwrap());
    let (pa, pb) = (port(&la), port(&lb));
    drop((la, lb));
    let spawn = |dir: &Path, p: u16| {
        Command::new(env!("CARGO_BIN_EXE_isms"))
            .args(["serve", "--listen", &format!("127.0.0.1:{p}"), "--data"])
            .arg(dir)
            .env("ISMS_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut ca = spawn(a.path(), pa);
    let mut cb = spawn(b.path(), pb);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ok = rt.block_on(async {
        let c = reqwest::Client::new();
        for _ in 0..100 {
            let ra = c.get(format!("http://127.0.0.1:{pa}/readyz")).send().await;
            let rb = c.get(format!("http://127.0.0.1:{pb}/readyz")).send().await;
            if ra.is_ok_and(|r| r.status().is_success()) && rb.is_ok_and(|r| r.status().is_success()) {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        false
    });
    terminate(&mut ca);
    terminate(&mut cb);
    let out = ca.wait_with_output().unwrap();
    cb.wait().unwrap();
    assert!(ok, "both instances became ready");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains(&format!("http://127.0.0.1:{pa}/setup/")), "setup link printed: {printed}");
}

fn terminate(c: &mut std::process::Child) {
    // SIGTERM for a graceful stop, like an operator's service manager would send.
    let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
}

#[test]
fn hunt_reports_detections_and_says_by_exit_status_whether_any() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("whoami.yml"),
        "title: Whoami run\nid: 6e9a6f3c-0000-4000-8000-000000000001\nstatus: test\nlevel: high\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel\n",
    )
    .unwrap();
    std::fs::write(rules.join("broken.yml"), "title: broken\ndetection:\n  sel: {A|nope: 1}\n  condition: sel\n").unwrap();
    let events = dir.path().join("events.jsonl");
    std::fs::write(
        &events,
        "{\"Channel\": \"Microsoft-Windows-Sysmon/Operational\", \"EventID\": 1, \"Image\": \"C:\\\\Windows\\\\System32\\\\whoami.exe\", \"Computer\": \"pc1\", \"UtcTime\": \"2026-01-02 03:04:05.000\"}\n{\"Channel\": \"Microsoft-Windows-Sysmon/Operational\", \"EventID\": 1, \"Image\": \"C:\\\\x.exe\"}\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["hunt", "--rules", rules.to_str().unwrap(), "--show-refused"];
        args.extend_from_slice(extra);
        args.push(events.to_str().unwrap());
        Command::new(env!("CARGO_BIN_EXE_isms")).args(&args).output().unwrap()
    };
    let o = run(&["--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let line: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(line["rule_id"], "6e9a6f3c-0000-4000-8000-000000000001");
    assert_eq!(line["rule_title"], "Whoami run");
    assert_eq!(line["level"], "high");
    assert_eq!(line["host"], "pc1");
    assert!(line["file"].as_str().unwrap().ends_with("events.jsonl"));
    assert_eq!(line["event"]["EventID"], 1);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1 loaded, 1 refused") && err.contains("broken.yml:3:17"), "{err}");
    let o = run(&["--format", "csv"]);
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("timestamp,level,rule_title,rule_id,host,file\n"));
    let o = run(&["--min-level", "critical"]);
    assert_eq!(o.status.code(), Some(1), "nothing at critical: {}", text(&o));
    let o = run(&["--from", "2026-01-03T00:00:00Z"]);
    assert_eq!(o.status.code(), Some(1), "outside the time window: {}", text(&o));
    // A correlation: two whoami runs on one host within a minute.
    std::fs::write(
        rules.join("corr.yml"),
        "title: Repeated whoami\nid: 6e9a6f3c-0000-4000-8000-000000000002\ncorrelation:\n  type: event_count\n  rules: [6e9a6f3c-0000-4000-8000-000000000001]\n  group-by: [Computer]\n  timespan: 1m\n  condition: {gte: 2}\n",
    )
    .unwrap();
    let line = "{\"Channel\": \"Microsoft-Windows-Sysmon/Operational\", \"EventID\": 1, \"Image\": \"C:\\\\whoami.exe\", \"Computer\": \"pc1\", \"UtcTime\": \"2026-01-02 03:04:TT.000\"}\n";
    std::fs::write(&events, [line.replace("TT", "05"), line.replace("TT", "30")].concat()).unwrap();
    let o = run(&["--format", "jsonl"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.lines().any(|l| l.contains("\"correlation\":\"event_count\"") && l.contains("\"count\":2") && l.contains("Repeated whoami")), "{out}");
    std::fs::remove_file(rules.join("corr.yml")).unwrap();
    let o = run(&["--min-level", "extreme"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--min-level"));
}
