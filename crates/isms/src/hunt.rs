//! `isms hunt`: Sigma rules over log files, offline. Reads JSON lines (plain, gzip or
//! zstd), JSON arrays and EVTX files, one thread per core across files, and reports each
//! detection as a table row, a JSON line or a CSV row, then a summary per rule.

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use isms_detect::pattern::Placeholders;
use isms_detect::{Engine, Event, Level, LoadReport, LogSourceMap};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

#[derive(clap::Args, Debug)]
pub struct HuntArgs {
    /// A Sigma rule file or a folder of them (repeatable).
    #[arg(long = "rules", required = true)]
    pub rules: Vec<PathBuf>,
    /// An extra log-source mapping file (repeatable).
    #[arg(long = "mapping")]
    pub mappings: Vec<PathBuf>,
    /// Output: table, jsonl or csv.
    #[arg(long, default_value = "table", value_parser = ["table", "jsonl", "csv"])]
    pub format: String,
    /// Only rules of at least this level (informational, low, medium, high, critical).
    #[arg(long)]
    pub min_level: Option<String>,
    /// Only rules with one of these statuses (comma-separated, e.g. stable,test).
    #[arg(long)]
    pub status: Option<String>,
    /// Only events at or after this time (RFC 3339).
    #[arg(long)]
    pub from: Option<String>,
    /// Only events before this time (RFC 3339).
    #[arg(long)]
    pub to: Option<String>,
    /// List every rule that could not be loaded, with the reason.
    #[arg(long)]
    pub show_refused: bool,
    /// Log files: .json, .jsonl, .ndjson (optionally .gz or .zst) and .evtx.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
}

fn level_of(s: &str) -> Result<Level> {
    Ok(match s.to_lowercase().as_str() {
        "informational" => Level::Informational,
        "low" => Level::Low,
        "medium" => Level::Medium,
        "high" => Level::High,
        "critical" => Level::Critical,
        other => bail!("--min-level: `{other}` is not one of informational, low, medium, high, critical"),
    })
}

fn rule_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path).with_context(|| format!("reading {}", path.display()))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            rule_files(&p, out)?;
        }
    } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
        out.push(path.to_path_buf());
    } else if !path.exists() {
        bail!("--rules: {} does not exist", path.display());
    }
    Ok(())
}

fn parse_time(flag: &str, s: &Option<String>) -> Result<Option<jiff::Timestamp>> {
    s.as_deref().map(|t| t.parse::<jiff::Timestamp>().with_context(|| format!("{flag}: `{t}` is not an RFC 3339 time"))).transpose()
}

/// The event's own time, from the fields common shippers and converters write.
fn event_time(e: &Event) -> Option<String> {
    for f in ["TimeCreated_SystemTime", "Event.System.TimeCreated.#attributes.SystemTime", "@timestamp", "timestamp", "UtcTime", "EventTime", "TimeCreated"] {
        if let Some(t) = e.get(f).and_then(|v| v.as_text()) {
            return Some(t.into_owned());
        }
    }
    None
}

fn host(e: &Event) -> String {
    for f in ["Computer", "Hostname", "host.name", "hostname", "host"] {
        if let Some(t) = e.get(f).and_then(|v| v.as_text()) {
            return t.into_owned();
        }
    }
    String::new()
}

struct Filters {
    min_level: Option<Level>,
    statuses: Option<Vec<String>>,
    from: Option<jiff::Timestamp>,
    to: Option<jiff::Timestamp>,
}

struct Sink {
    format: String,
    out: Mutex<Box<dyn Write + Send>>,
    csv: Mutex<Option<csv::Writer<Box<dyn Write + Send>>>>,
    per_rule: Mutex<BTreeMap<(String, String), u64>>,
    found: AtomicU64,
    events: AtomicU64,
}

impl Sink {
    fn emit(&self, engine: &Engine, rule: usize, e: &Event, raw: &serde_json::Value, file: &Path) {
        let r = engine.rule(rule);
        let time = event_time(e).unwrap_or_default();
        let level = r.level.map(|l| format!("{l:?}").to_lowercase()).unwrap_or_default();
        self.found.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut m) = self.per_rule.lock() {
            *m.entry((r.title.clone(), r.id.clone().unwrap_or_default())).or_insert(0) += 1;
        }
        match self.format.as_str() {
            "jsonl" => {
                let line = serde_json::json!({
                    "rule_id": r.id, "rule_title": r.title, "level": level, "timestamp": time,
                    "host": host(e), "file": file.display().to_string(), "event": raw,
                });
                if let Ok(mut o) = self.out.lock() {
                    let _ = writeln!(o, "{line}");
                }
            }
            "csv" => {
                if let Ok(mut w) = self.csv.lock() {
                    if let Some(w) = w.as_mut() {
                        let _ = w.write_record([time.as_str(), level.as_str(), r.title.as_str(), r.id.as_deref().unwrap_or(""), host(e).as_str(), &file.display().to_string()]);
                    }
                }
            }
            _ => {
                if let Ok(mut o) = self.out.lock() {
                    let _ = writeln!(o, "{:<28} {:<13} {:<20} {}", time.chars().take(28).collect::<String>(), level, host(e).chars().take(20).collect::<String>(), r.title);
                }
            }
        }
    }
}

impl Sink {
    fn emit_correlation(&self, c: &isms_detect::correlation::Correlation, hit: &isms_detect::correlation::Hit, time: &str, file: &Path) {
        self.found.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut m) = self.per_rule.lock() {
            *m.entry((c.title.clone(), c.id.clone().unwrap_or_default())).or_insert(0) += 1;
        }
        let group = hit.group.join(",");
        match self.format.as_str() {
            "jsonl" => {
                let line = serde_json::json!({
                    "rule_id": c.id, "rule_title": c.title, "level": "", "timestamp": time, "correlation": c.kind,
                    "group": hit.group, "count": hit.count, "file": file.display().to_string(),
                });
                if let Ok(mut o) = self.out.lock() {
                    let _ = writeln!(o, "{line}");
                }
            }
            "csv" => {
                if let Ok(mut w) = self.csv.lock() {
                    if let Some(w) = w.as_mut() {
                        let _ = w.write_record([time, "correlation", c.title.as_str(), c.id.as_deref().unwrap_or(""), group.as_str(), &file.display().to_string()]);
                    }
                }
            }
            _ => {
                if let Ok(mut o) = self.out.lock() {
                    let _ = writeln!(o, "{:<28} {:<13} {:<20} {} ({} in window)", time.chars().take(28).collect::<String>(), "correlation", group.chars().take(20).collect::<String>(), c.title, hit.count);
                }
            }
        }
    }
}

/// Milliseconds since the epoch of an event time as log sources write it.
fn time_ms(t: &str) -> Option<i64> {
    t.parse::<jiff::Timestamp>()
        .ok()
        .or_else(|| t.replace(' ', "T").parse::<jiff::civil::DateTime>().ok().and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok()).map(|z| z.timestamp()))
        .map(|t| t.as_millisecond())
}

/// Calls `f` with every event of a file.
fn for_each_event(path: &Path, f: &mut dyn FnMut(serde_json::Value)) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_lowercase();
    if name.ends_with(".evtx") {
        let mut parser = evtx::EvtxParser::from_path(path).with_context(|| format!("opening {}", path.display()))?;
        for rec in parser.records_json_value() {
            match rec {
                Ok(r) => f(r.data),
                Err(e) => eprintln!("{}: skipped a damaged record: {e}", path.display()),
            }
        }
        return Ok(());
    }
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let reader: Box<dyn Read> = if name.ends_with(".zst") {
        Box::new(ruzstd::decoding::StreamingDecoder::new(file).map_err(|e| anyhow::anyhow!("{}: not zstd: {e}", path.display()))?)
    } else if name.ends_with(".gz") {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    // A JSON array (or one pretty-printed object) is read whole; anything else line by line.
    let first = reader.fill_buf()?.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first == Some(b'[') {
        let v: serde_json::Value = serde_json::from_reader(reader).with_context(|| format!("{}: not a JSON array", path.display()))?;
        if let serde_json::Value::Array(items) = v {
            items.into_iter().for_each(f);
        }
        return Ok(());
    }
    let mut line = String::new();
    let mut n = 0u64;
    let mut pending = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        n += 1;
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if !pending.is_empty() || !(t.starts_with('{') && t.ends_with('}')) {
            // Pretty-printed objects span lines: gather until they parse.
            pending.push_str(&line);
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&pending) {
                f(v);
                pending.clear();
            }
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(t) {
            Ok(v) => f(v),
            Err(e) => eprintln!("{}:{n}: skipped a line that is not JSON: {e}", path.display()),
        }
    }
    if !pending.trim().is_empty() {
        eprintln!("{}: the file ends inside a JSON object", path.display());
    }
    Ok(())
}

pub fn run(args: HuntArgs) -> Result<std::process::ExitCode> {
    let mut map = LogSourceMap::builtin();
    for m in &args.mappings {
        let text = std::fs::read_to_string(m).with_context(|| format!("reading {}", m.display()))?;
        map.add(&text).map_err(|e| anyhow::anyhow!("{}:{e}", m.display()))?;
    }
    let mut engine = Engine::new(map, Placeholders::new());
    let mut report = LoadReport::default();
    let mut files = vec![];
    for r in &args.rules {
        rule_files(r, &mut files)?;
    }
    for f in &files {
        let text = std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        engine.add_rules(&f.display().to_string(), &text, &mut report);
    }
    eprintln!("rules: {} loaded, {} refused {:?}", report.loaded, report.refused.len(), report.by_kind());
    if args.show_refused {
        for r in &report.refused {
            eprintln!("  {r}");
        }
    }
    engine.finish();
    if engine.is_empty() {
        bail!("no usable rule under {}", args.rules.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
    }
    let filters = Filters {
        min_level: args.min_level.as_deref().map(level_of).transpose()?,
        statuses: args.status.as_ref().map(|s| s.split(',').map(|x| x.trim().to_lowercase()).collect()),
        from: parse_time("--from", &args.from)?,
        to: parse_time("--to", &args.to)?,
    };
    for i in &args.inputs {
        if !i.is_file() {
            bail!("{} is not a file", i.display());
        }
    }
    let stdout: Box<dyn Write + Send> = Box::new(std::io::BufWriter::new(std::io::stdout()));
    let sink = Sink {
        csv: Mutex::new(None),
        out: Mutex::new(Box::new(std::io::sink())),
        format: args.format.clone(),
        per_rule: Mutex::new(BTreeMap::new()),
        found: AtomicU64::new(0),
        events: AtomicU64::new(0),
    };
    if args.format == "csv" {
        let mut w = csv::Writer::from_writer(stdout);
        w.write_record(["timestamp", "level", "rule_title", "rule_id", "host", "file"])?;
        *sink.csv.lock().map_err(|_| anyhow::anyhow!("lock"))? = Some(w);
    } else {
        *sink.out.lock().map_err(|_| anyhow::anyhow!("lock"))? = stdout;
    }
    let total_bytes: u64 = args.inputs.iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
    let bar = if std::io::stderr().is_terminal() { ProgressBar::new(total_bytes) } else { ProgressBar::hidden() };
    bar.set_style(ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg}").unwrap_or_else(|_| ProgressStyle::default_bar()));
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(args.inputs.len().max(1));
    let errors = Mutex::new(vec![]);
    let started = std::time::Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(path) = args.inputs.get(i) else { break };
                // Correlations run per file, whose events come in time order.
                let mut correlator = (!engine.correlations().is_empty()).then(|| engine.correlator());
                let r = for_each_event(path, &mut |raw| {
                    sink.events.fetch_add(1, Ordering::Relaxed);
                    let mut e = Event::from_json(&raw);
                    engine.prepare(&mut e);
                    if filters.from.is_some() || filters.to.is_some() {
                        let Some(t) = event_time(&e).as_deref().and_then(time_ms) else { return };
                        if filters.from.is_some_and(|f| t < f.as_millisecond()) || filters.to.is_some_and(|to| t >= to.as_millisecond()) {
                            return;
                        }
                    }
                    let found = engine.matches(&e);
                    if let Some(k) = correlator.as_mut() {
                        if !found.is_empty() {
                            let time = event_time(&e).unwrap_or_default();
                            if let Some(at) = time_ms(&time) {
                                let refs: Vec<&str> = found
                                    .iter()
                                    .flat_map(|d| [engine.rule(d.rule).id.as_deref(), engine.rule(d.rule).name.as_deref()])
                                    .flatten()
                                    .collect();
                                for hit in k.feed(at, &refs, &e) {
                                    sink.emit_correlation(&k.rules()[hit.correlation], &hit, &time, path);
                                }
                            }
                        }
                    }
                    for d in found {
                        let rule = engine.rule(d.rule);
                        if filters.min_level.is_some_and(|m| rule.level.is_none_or(|l| l < m)) {
                            continue;
                        }
                        if let Some(st) = &filters.statuses {
                            if !rule.status.as_ref().is_some_and(|s| st.contains(&s.to_lowercase())) {
                                continue;
                            }
                        }
                        sink.emit(&engine, d.rule, &e, &raw, path);
                    }
                });
                if let Some(m) = std::fs::metadata(path).ok() {
                    bar.inc(m.len());
                }
                if let Err(e) = r {
                    if let Ok(mut v) = errors.lock() {
                        v.push(format!("{e:#}"));
                    }
                }
            });
        }
    });
    bar.finish_and_clear();
    if let Ok(mut w) = sink.csv.lock() {
        if let Some(w) = w.as_mut() {
            w.flush()?;
        }
    }
    if let Ok(mut o) = sink.out.lock() {
        o.flush()?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let events = sink.events.load(Ordering::Relaxed);
    let found = sink.found.load(Ordering::Relaxed);
    eprintln!("\n{found} detections in {events} events from {} files ({:.0} events/s)", args.inputs.len(), events as f64 / elapsed.max(1e-9));
    if let Ok(m) = sink.per_rule.lock() {
        let mut rows: Vec<_> = m.iter().collect();
        rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for ((title, id), n) in rows {
            eprintln!("{n:>8}  {title}  {id}");
        }
    }
    let errors = errors.into_inner().unwrap_or_default();
    for e in &errors {
        eprintln!("error: {e}");
    }
    Ok(if !errors.is_empty() {
        std::process::ExitCode::from(2)
    } else if found > 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    })
}
