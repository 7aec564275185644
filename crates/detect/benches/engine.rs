//! The engine alone, without file reading: the SigmaHQ Windows rules over the first
//! events of the OTRF Windows host corpus (from the shared benchmark folder, or
//! `ISMS_BENCH_DIR`). Three measurements: matching events already parsed, parsing JSON
//! lines into events, and both together as `isms hunt` does per line. Then the same
//! events against 100,000 threat-intelligence indicators of every kind, beside the rules.
//!
//!   cargo bench -p isms-detect --bench engine

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark: a failed step ends the run")]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use isms_detect::pattern::Placeholders;
use isms_detect::{Engine, Event, LoadReport, LogSourceMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

const EVENTS: usize = 20_000;

fn bench_dir() -> PathBuf {
    std::env::var_os("ISMS_BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench"))
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

/// 100,000 made-up indicators in the proportions ISAC feeds have: addresses and a few
/// networks, domains, URLs, file hashes and e-mail addresses. A fixed generator, so every
/// run checks the same set.
fn indicators() -> isms_detect::intel::IndicatorSet {
    use isms_detect::intel::Kind;
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut set = isms_detect::intel::IndicatorSet::new();
    let mut n = 0u32;
    let mut add = |set: &mut isms_detect::intel::IndicatorSet, k: Kind, v: String| {
        set.insert(k, &v, n).expect("indicator");
        n += 1;
    };
    for _ in 0..39_000 {
        let a = next();
        add(&mut set, Kind::Ipv4, format!("{}.{}.{}.{}", 1 + a % 223, (a >> 8) % 256, (a >> 16) % 256, (a >> 24) % 256));
    }
    for _ in 0..1_000 {
        let a = next();
        add(&mut set, Kind::Ipv4, format!("{}.{}.{}.0/{}", 1 + a % 223, (a >> 8) % 256, (a >> 16) % 256, 16 + a % 9));
    }
    for _ in 0..30_000 {
        let a = next();
        add(&mut set, Kind::Domain, format!("c{:x}.bad{}.example", a >> 20, a % 997));
    }
    for _ in 0..10_000 {
        let a = next();
        add(&mut set, Kind::Url, format!("http://dl{}.evil.example/{:x}.exe", a % 5000, a));
    }
    for _ in 0..16_000 {
        add(&mut set, Kind::Sha256, format!("{:016x}{:016x}{:016x}{:016x}", next(), next(), next(), next()));
    }
    for _ in 0..4_000 {
        let a = next();
        add(&mut set, Kind::Email, format!("u{a:x}@phish{}.example", a % 300));
    }
    assert_eq!(set.len(), 100_000);
    set
}

fn bench_indicators(c: &mut Criterion) {
    let dir = bench_dir();
    let engine = engine(&dir);
    let lines = lines(&dir);
    let set = indicators();
    let events: Vec<Event> = lines.iter().map(|l| engine.event_from_json(l.as_bytes()).expect("JSON event")).collect();
    let mut g = c.benchmark_group("indicators-100k");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.sample_size(10);
    let mut found = vec![];
    g.bench_function("match", |b| {
        b.iter(|| {
            events
                .iter()
                .map(|e| {
                    set.match_event(e, &mut found);
                    found.len()
                })
                .sum::<usize>()
        })
    });
    g.bench_function("rules+indicators", |b| {
        b.iter(|| {
            events
                .iter()
                .map(|e| {
                    set.match_event(e, &mut found);
                    engine.matches(e).len() + found.len()
                })
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench, bench_indicators);
criterion_main!(benches);
