//! The engine against the SigmaHQ rule set and its regression samples (in the shared
//! benchmark folder beside the repository, or `ISMS_BENCH_DIR`). Missing data fails.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step is a failed test")]

use isms_detect::pattern::Placeholders;
use isms_detect::{Engine, Event, LoadReport, LogSourceMap};
use std::path::{Path, PathBuf};

fn bench_dir() -> PathBuf {
    let dir = std::env::var_os("ISMS_BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench"));
    assert!(dir.join("sigma/rules").is_dir(), "the SigmaHQ data is missing at {} (set ISMS_BENCH_DIR)", dir.display());
    dir
}

fn load(dirs: &[&str]) -> (Engine, LoadReport) {
    let base = bench_dir().join("sigma");
    let mut engine = Engine::new(LogSourceMap::builtin(), Placeholders::new());
    let mut report = LoadReport::default();
    for d in dirs {
        for f in isms_detect::rule_files(&base.join(d)).unwrap() {
            let text = std::fs::read_to_string(&f).unwrap();
            let name = f.strip_prefix(&base).unwrap().display().to_string();
            engine.add_rules(&name, &text, &mut report);
        }
    }
    (engine, report)
}

#[test]
fn sigmahq_rules_load_with_reasons_for_every_refusal() {
    let (_, report) = load(&["rules", "rules-emerging-threats", "rules-threat-hunting"]);
    let total = report.loaded + report.refused.len();
    let share = report.loaded as f64 / total as f64;
    eprintln!("loaded {} of {total} ({:.2}%); refused by kind: {:?}", report.loaded, share * 100.0, report.by_kind());
    for r in &report.refused {
        eprintln!("  {r}");
        assert!(!r.reason.is_empty());
    }
    assert!(total > 3500, "{total} rules found");
    assert!(share >= 0.99, "only {:.2}% of the rules load", share * 100.0);
}

#[test]
fn every_regression_sample_fires_its_rule() {
    let (plain, _) = load(&["rules", "rules-emerging-threats", "rules-threat-hunting"]);
    let (mut engine, _) = load(&["rules", "rules-emerging-threats", "rules-threat-hunting"]);
    engine.finish();
    eprintln!("{} of {} rules have no literal prerequisite", engine.unindexed().unwrap(), engine.len());
    let base = bench_dir().join("sigma");
    let mut infos = vec![];
    fn find(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                find(&p, out);
            } else if p.file_name().is_some_and(|n| n == "info.yml") {
                out.push(p);
            }
        }
    }
    find(&base.join("regression_data"), &mut infos);
    infos.sort();
    assert!(infos.len() >= 200, "{} samples found", infos.len());
    let mut missed = vec![];
    let mut checked = 0;
    for info in &infos {
        let text = std::fs::read_to_string(info).unwrap();
        // Samples whose test is switched off (commented out upstream) are not run.
        if !text.lines().any(|l| l.starts_with("regression_tests_info:")) {
            continue;
        }
        // The rule id is the first `id:` under `rule_metadata`.
        let rule_id = text
            .split("rule_metadata:")
            .nth(1)
            .and_then(|t| t.lines().find_map(|l| l.trim().trim_start_matches("- ").strip_prefix("id:")))
            .map(|s| s.trim().to_owned())
            .unwrap();
        let dir = info.parent().unwrap();
        let mut events = vec![];
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json") {
                let text = std::fs::read_to_string(&p).unwrap();
                // A stream of JSON documents: objects (pretty-printed or one per line) or arrays of them.
                for v in serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>() {
                    match v.unwrap() {
                        serde_json::Value::Array(items) => events.extend(items),
                        other => events.push(other),
                    }
                }
            }
        }
        checked += 1;
        let fired = events.iter().any(|v| {
            let mut e = Event::from_json(v);
            engine.prepare(&mut e);
            let found = engine.matches(&e);
            // The literal index only skips rules that could not fire.
            assert_eq!(found, plain.matches(&e), "{}: indexed and plain evaluation differ", dir.display());
            found.iter().any(|d| d.id.as_deref() == Some(rule_id.as_str()))
        });
        if !fired {
            missed.push(format!("{} ({} events): rule {rule_id}", dir.strip_prefix(&base).unwrap().display(), events.len()));
        }
    }
    assert!(checked >= 200, "only {checked} samples have an active test");
    assert!(missed.is_empty(), "{} of {checked} samples did not fire their rule:\n{}", missed.len(), missed.join("\n"));
}
