//! The engine alone, without file reading: the SigmaHQ Windows rules over the first
//! events of the OTRF Windows host corpus (from the shared benchmark folder, or
//! `ISMS_BENCH_DIR`). Three measurements: matching events already parsed, parsing JSON
//! lines into events, and both together as `isms hunt` does per line.
//!
//!   cargo bench -p isms-detect --bench engine

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use isms_detect::pattern::Placeholders;
use isms_detect::{Engine, Event, LoadReport, LogSourceMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

const EVENTS: usize = 20_000;

fn bench_dir() -> PathBuf {
    std::env::var_os("ISMS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench"))
}

fn engine(dir: &Path) -> Engine {
    let mut engine = Engine::new(LogSourceMap::builtin(), Placeholders::new());
    let mut report = LoadReport::default();
    for f in isms_detect::rule_files(&dir.join("sigma/rules/windows")).expect("rules folder") {
        let text = std::fs::read_to_string(&f).expect("rule file");
        engine.add_rules(&f.display().to_string(), &text, &mut report);
    }
    engine.finish();
    engine
}

fn lines(dir: &Path) -> Vec<String> {
    let file = std::fs::File::open(dir.join("events/otrf-windows-host-part1.jsonl.zst")).expect("OTRF corpus");
    let reader = BufReader::new(ruzstd::decoding::StreamingDecoder::new(file).expect("zstd"));
    reader.lines().take(EVENTS).map(|l| l.expect("line")).collect()
}

fn bench(c: &mut Criterion) {
    let dir = bench_dir();
    let engine = engine(&dir);
    let lines = lines(&dir);
    let mut g = c.benchmark_group("windows-rules");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.sample_size(10);
    let events: Vec<Event> = lines.iter().map(|l| engine.event_from_json(l.as_bytes()).expect("JSON event")).collect();
    g.bench_function("match", |b| b.iter(|| events.iter().map(|e| engine.matches(e).len()).sum::<usize>()));
    g.bench_function("parse", |b| b.iter(|| lines.iter().map(|l| engine.event_from_json(l.as_bytes()).map(|e| e.len()).unwrap_or(0)).sum::<usize>()));
    g.bench_function("parse+match", |b| {
        b.iter(|| lines.iter().map(|l| engine.event_from_json(l.as_bytes()).map(|e| engine.matches(&e).len()).unwrap_or(0)).sum::<usize>())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
