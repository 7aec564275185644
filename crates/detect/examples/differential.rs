//! The isms side of the differential check against pySigma (`scripts/sigma-differential`):
//! reads events (JSON lines, optionally zstd) as the engine does, writes them flattened
//! (one object of field → scalar per line, the field names the engine matches on), and
//! writes, per rule that loads, the events its detection matches. The log source is left
//! out on purpose: pySigma without a pipeline does not apply it either, so the two sides
//! compare the detection language alone.
//!
//!   cargo run --release -p isms-detect --example differential -- RULES EVENTS LIMIT OUT_DIR

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a measuring tool: a failed step ends the run")]

use isms_detect::event::Value;
use isms_detect::pattern::Placeholders;
use isms_detect::{Engine, Event, LoadReport, LogSourceMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

fn scalar(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => (*b).into(),
        Value::Int(i) => (*i).into(),
        Value::Float(f) => (*f).into(),
        Value::Str(s) => s.as_ref().into(),
        Value::List(items) => serde_json::Value::String(serde_json::Value::Array(items.iter().map(scalar).collect()).to_string()),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, rules, events, limit, out] = &args[..] else {
        eprintln!("usage: differential RULES EVENTS LIMIT OUT_DIR");
        std::process::exit(2);
    };
    let limit: usize = limit.parse().expect("LIMIT is a number");
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out).expect("output folder");

    let mut engine = Engine::new(LogSourceMap::builtin(), Placeholders::new());
    let mut report = LoadReport::default();
    for f in &isms_detect::rule_files(Path::new(rules)).expect("rules folder") {
        let name = f.strip_prefix(rules).unwrap_or(f).display().to_string();
        engine.add_rules(&name, &std::fs::read_to_string(f).expect("rule file"), &mut report);
    }

    let file = std::fs::File::open(events).expect("events file");
    let reader: Box<dyn Read> = if events.ends_with(".zst") { Box::new(ruzstd::decoding::StreamingDecoder::new(file).expect("zstd")) } else { Box::new(file) };
    let lines: Vec<String> = BufReader::new(reader).lines().take(limit).map(|l| l.expect("line")).collect();
    let parsed: Vec<Event> = lines.iter().map(|l| engine.event_from_json(l.as_bytes()).expect("a JSON object")).collect();

    let mut flat = std::io::BufWriter::new(std::fs::File::create(out.join("events.jsonl")).expect("events.jsonl"));
    for e in &parsed {
        let obj: serde_json::Map<String, serde_json::Value> = e.fields().map(|(k, v)| (k.to_owned(), scalar(v))).collect();
        writeln!(flat, "{}", serde_json::Value::Object(obj)).expect("write");
    }
    let mut hits = std::io::BufWriter::new(std::fs::File::create(out.join("isms.jsonl")).expect("isms.jsonl"));
    for i in 0..engine.len() {
        let r = engine.rule(i);
        let matched: Vec<usize> = parsed.iter().enumerate().filter(|(_, e)| r.matches(e)).map(|(n, _)| n).collect();
        let line = serde_json::json!({"file": engine.rule_file(i), "id": r.id, "title": r.title, "hits": matched});
        writeln!(hits, "{line}").expect("write");
    }
    let mut refused = std::io::BufWriter::new(std::fs::File::create(out.join("refused.jsonl")).expect("refused.jsonl"));
    for r in &report.refused {
        writeln!(refused, "{}", serde_json::json!({"file": r.file, "id": r.id, "kind": r.kind, "reason": r.reason})).expect("write");
    }
    eprintln!("{} events, {} rules loaded, {} refused", parsed.len(), report.loaded, report.refused.len());
}
