//! Any text as a Sigma rule file: parsed, and every rule that loads is compiled into an
//! engine and matched against an event. No input may panic.
#![no_main]

use isms_detect::pattern::Placeholders;
use isms_detect::{Engine, Event, LoadReport, LogSourceMap};
use libfuzzer_sys::fuzz_target;

static MAP: std::sync::OnceLock<LogSourceMap> = std::sync::OnceLock::new();

fuzz_target!(|text: &str| {
    let map = MAP.get_or_init(LogSourceMap::builtin).clone();
    let mut engine = Engine::new(map, Placeholders::new());
    let mut report = LoadReport::default();
    engine.add_rules("fuzz.yml", text, &mut report);
    for r in &report.refused {
        // Every refusal says why.
        assert!(!r.reason.is_empty());
    }
    engine.finish();
    if let Ok(e) = engine.event_from_json(br#"{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Image": "C:\\x.exe", "CommandLine": "x -a"}"#) {
        let _ = engine.matches(&e);
    }
});
