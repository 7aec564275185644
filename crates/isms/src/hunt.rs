//! `isms hunt`: Sigma rules over log files, offline. Reads JSON lines (plain, gzip or
//! zstd), JSON arrays and EVTX files: reader threads take files, workers on every core
//! parse and match blocks of events from any file, and the calling thread puts each
//! file's results back in order, runs correlations and reports each detection as a
//! table row, a JSON line or a CSV row, then a summary per rule.

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use isms_detect::pattern::Placeholders;
use isms_detect::{Engine, Event, Level, LoadReport, LogSourceMap};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

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
    fn emit(&self, engine: &Engine, rule: usize, e: &Event, raw: &str, file: &Path) {
        let r = engine.rule(rule);
        let time = event_time(e).unwrap_or_default();
        let level = r.level.map(|l| format!("{l:?}").to_lowercase()).unwrap_or_default();
        self.found.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut m) = self.per_rule.lock() {
            *m.entry((r.title.clone(), r.id.clone().unwrap_or_default())).or_insert(0) += 1;
        }
        match self.format.as_str() {
            "jsonl" => {
                // The event goes out as it came in, after the detection's own fields.
                let mut line = serde_json::json!({
                    "rule_id": r.id, "rule_title": r.title, "level": level, "timestamp": time,
                    "host": host(e), "file": file.display().to_string(),
                })
                .to_string();
                line.pop();
                line.push_str(",\"event\":");
                line.push_str(raw);
                line.push('}');
                if let Ok(mut o) = self.out.lock() {
                    let _ = writeln!(o, "{line}");
                }
            }
            "csv" => {
                if let Ok(mut w) = self.csv.lock()
                    && let Some(w) = w.as_mut()
                {
                    let _ = w.write_record([
                        time.as_str(),
                        level.as_str(),
                        r.title.as_str(),
                        r.id.as_deref().unwrap_or(""),
                        host(e).as_str(),
                        &file.display().to_string(),
                    ]);
                }
            }
            _ => {
                if let Ok(mut o) = self.out.lock() {
                    let _ = writeln!(
                        o,
                        "{:<28} {:<13} {:<20} {}",
                        time.chars().take(28).collect::<String>(),
                        level,
                        host(e).chars().take(20).collect::<String>(),
                        r.title
                    );
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
                if let Ok(mut w) = self.csv.lock()
                    && let Some(w) = w.as_mut()
                {
                    let _ = w.write_record([time, "correlation", c.title.as_str(), c.id.as_deref().unwrap_or(""), group.as_str(), &file.display().to_string()]);
                }
            }
            _ => {
                if let Ok(mut o) = self.out.lock() {
                    let _ = writeln!(
                        o,
                        "{:<28} {:<13} {:<20} {} ({} in window)",
                        time.chars().take(28).collect::<String>(),
                        "correlation",
                        group.chars().take(20).collect::<String>(),
                        c.title,
                        hit.count
                    );
                }
            }
        }
    }
}

/// Milliseconds since the epoch of an event time as log sources write it.
fn time_ms(t: &str) -> Option<i64> {
    t.parse::<jiff::Timestamp>()
        .ok()
        .or_else(|| {
            t.replace(' ', "T").parse::<jiff::civil::DateTime>().ok().and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok()).map(|z| z.timestamp())
        })
        .map(|t| t.as_millisecond())
}

/// Events of one file, in file order: a block of whole JSON lines, or values read as a
/// tree (EVTX records, JSON arrays, pretty-printed objects).
struct Batch {
    file: usize,
    seq: u64,
    /// The line number of the block's first line (lines only).
    first_line: u64,
    payload: Payload,
}

enum Payload {
    Lines(Vec<u8>),
    Trees(Vec<serde_json::Value>),
}

/// What a worker found in a batch.
struct Done {
    file: usize,
    seq: u64,
    found: Vec<Found>,
}

/// An event that fired at least one rule.
struct Found {
    event: Event<'static>,
    /// The event as JSON, for `--format jsonl`.
    raw: String,
    rules: Vec<usize>,
}

/// Lines per block: large enough that handing blocks to workers costs nothing.
const BLOCK_BYTES: usize = 1 << 20;
/// Tree values per batch.
const TREE_BATCH: usize = 512;

/// Reads one file into batches. JSON lines go out as raw blocks for the workers to
/// parse; everything else is parsed here.
fn read_file(path: &Path, file: usize, tx: &flume::Sender<Batch>, free: &flume::Receiver<Vec<u8>>) -> Result<()> {
    let mut seq = 0u64;
    let mut send = |first_line: u64, payload: Payload| {
        let b = Batch { file, seq, first_line, payload };
        seq += 1;
        tx.send(b).map_err(|_| anyhow::anyhow!("the workers stopped"))
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_lowercase();
    if name.ends_with(".evtx") {
        let mut parser = evtx::EvtxParser::from_path(path).with_context(|| format!("opening {}", path.display()))?;
        let mut batch = Vec::with_capacity(TREE_BATCH);
        for rec in parser.records_json_value() {
            match rec {
                Ok(r) => batch.push(r.data),
                Err(e) => eprintln!("{}: skipped a damaged record: {e}", path.display()),
            }
            if batch.len() == TREE_BATCH {
                send(0, Payload::Trees(std::mem::take(&mut batch)))?;
            }
        }
        if !batch.is_empty() {
            send(0, Payload::Trees(batch))?;
        }
        return Ok(());
    }
    let file_in = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let reader: Box<dyn Read> = if name.ends_with(".zst") {
        Box::new(zstd::stream::read::Decoder::new(file_in).with_context(|| format!("{}: not zstd", path.display()))?)
    } else if name.ends_with(".gz") {
        Box::new(flate2::read::GzDecoder::new(file_in))
    } else {
        Box::new(file_in)
    };
    let mut reader = BufReader::with_capacity(BLOCK_BYTES, reader);
    // One object per line is read in blocks; a JSON array or pretty-printed objects
    // (anything whose first line is not a whole object) as a stream of values.
    let head = reader.fill_buf().with_context(|| format!("reading {}", path.display()))?;
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
    let first_line = head[start..].split(|b| *b == b'\n').next().unwrap_or(&[]).trim_ascii_end();
    if !(first_line.starts_with(b"{") && first_line.ends_with(b"}")) && start < head.len() {
        let mut batch = Vec::with_capacity(TREE_BATCH);
        for v in serde_json::Deserializer::from_reader(reader).into_iter::<serde_json::Value>() {
            let v = v.with_context(|| format!("{}: not JSON", path.display()))?;
            let items = match v {
                serde_json::Value::Array(items) => items,
                v => vec![v],
            };
            for v in items {
                batch.push(v);
                if batch.len() == TREE_BATCH {
                    send(0, Payload::Trees(std::mem::take(&mut batch)))?;
                }
            }
        }
        if !batch.is_empty() {
            send(0, Payload::Trees(batch))?;
        }
        return Ok(());
    }
    let mut line = 1u64;
    let mut carry: Vec<u8> = vec![];
    loop {
        // Blocks the workers are done with come back to be filled again.
        let mut block = free.try_recv().unwrap_or_default();
        block.clear();
        block.extend_from_slice(&carry);
        carry.clear();
        block.reserve(BLOCK_BYTES);
        let read = (&mut reader).take(BLOCK_BYTES as u64).read_to_end(&mut block).with_context(|| format!("reading {}", path.display()))?;
        if read == 0 {
            if !block.iter().all(u8::is_ascii_whitespace) {
                send(line, Payload::Lines(block))?;
            }
            return Ok(());
        }
        // Whole lines go out; the unfinished last line waits for the next block.
        if let Some(end) = memchr::memrchr(b'\n', &block) {
            carry.extend_from_slice(&block[end + 1..]);
            block.truncate(end + 1);
            let lines = memchr::memchr_iter(b'\n', &block).count() as u64;
            send(line, Payload::Lines(block))?;
            line += lines;
        } else {
            carry = block;
        }
    }
}

/// Parses and matches one batch.
fn work(engine: &Engine, filters: &Filters, batch: Batch, path: &Path, events: &AtomicU64, free: &flume::Sender<Vec<u8>>) -> Done {
    let mut found = vec![];
    let mut n = 0u64;
    let check = |e: &Event, raw: &dyn Fn() -> String| {
        if filters.from.is_some() || filters.to.is_some() {
            let t = event_time(e).as_deref().and_then(time_ms)?;
            if filters.from.is_some_and(|f| t < f.as_millisecond()) || filters.to.is_some_and(|to| t >= to.as_millisecond()) {
                return None;
            }
        }
        let hits = engine.matches(e);
        (!hits.is_empty()).then(|| (hits.into_iter().map(|d| d.rule).collect::<Vec<_>>(), raw()))
    };
    match &batch.payload {
        Payload::Lines(block) => {
            // One event's memory and one arena for the text of the whole block.
            let arena = bumpalo::Bump::with_capacity(block.len() / 4);
            let mut e = Event::with_capacity(64, 4096);
            let mut start = 0;
            let ends = memchr::memchr_iter(b'\n', block).chain((block.last() != Some(&b'\n')).then_some(block.len()));
            for (i, end) in ends.enumerate() {
                let line = block[start..end].trim_ascii();
                start = end + 1;
                if line.is_empty() {
                    continue;
                }
                n += 1;
                match engine.read_event(&mut e, line, &arena) {
                    Ok(()) => {
                        if let Some((rules, raw)) = check(&e, &|| String::from_utf8_lossy(line).into_owned()) {
                            found.push(Found { event: e.clone().into_owned(), raw, rules });
                        }
                    }
                    Err(err) => eprintln!("{}:{}: skipped a line that is not a JSON object: {err}", path.display(), batch.first_line + i as u64),
                }
            }
        }
        Payload::Trees(values) => {
            for v in values {
                n += 1;
                let mut e = Event::from_json(v);
                engine.prepare(&mut e);
                if let Some((rules, raw)) = check(&e, &|| v.to_string()) {
                    found.push(Found { event: e.into_owned(), raw, rules });
                }
            }
        }
    }
    events.fetch_add(n, Ordering::Relaxed);
    if let Payload::Lines(block) = batch.payload {
        let _ = free.try_send(block);
    }
    Done { file: batch.file, seq: batch.seq, found }
}

pub fn run(args: HuntArgs) -> Result<std::process::ExitCode> {
    let mut map = LogSourceMap::builtin();
    for m in &args.mappings {
        let text = std::fs::read_to_string(m).with_context(|| format!("reading {}", m.display()))?;
        map.add(&text).map_err(|e| anyhow::anyhow!("{}:{e}", m.display()))?;
    }
    let loading = std::time::Instant::now();
    let mut engine = Engine::new(map, Placeholders::new());
    let mut report = LoadReport::default();
    let mut files = vec![];
    for r in &args.rules {
        files.extend(isms_detect::rule_files(r).with_context(|| format!("--rules {}", r.display()))?);
    }
    for f in &files {
        let text = std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        engine.add_rules(&f.display().to_string(), &text, &mut report);
    }
    engine.finish();
    eprintln!("rules: {} loaded, {} refused {:?}, compiled in {} ms", report.loaded, report.refused.len(), report.by_kind(), loading.elapsed().as_millis());
    if args.show_refused {
        for r in &report.refused {
            eprintln!("  {r}");
        }
    }
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
    // Readers take files one at a time; workers parse and match blocks from any file; this
    // thread puts each file's results back in file order, runs its correlations and writes.
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let readers = threads.min(args.inputs.len());
    let next = AtomicUsize::new(0);
    let errors = Mutex::new(vec![]);
    let (work_tx, work_rx) = flume::bounded::<Batch>(threads * 4);
    let (done_tx, done_rx) = flume::unbounded::<Done>();
    let (free_tx, free_rx) = flume::bounded::<Vec<u8>>(threads * 4);
    let started = std::time::Instant::now();
    std::thread::scope(|s| {
        for _ in 0..readers {
            let (tx, free) = (work_tx.clone(), free_rx.clone());
            let (next, errors, bar, inputs) = (&next, &errors, &bar, &args.inputs);
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(path) = inputs.get(i) else { break };
                    if let Err(e) = read_file(path, i, &tx, &free)
                        && let Ok(mut v) = errors.lock()
                    {
                        v.push(format!("{e:#}"));
                    }
                    if let Ok(m) = std::fs::metadata(path) {
                        bar.inc(m.len());
                    }
                }
            });
        }
        drop(work_tx);
        for _ in 0..threads {
            let (rx, tx, free) = (work_rx.clone(), done_tx.clone(), free_tx.clone());
            let (engine, filters, inputs, events) = (&engine, &filters, &args.inputs, &sink.events);
            s.spawn(move || {
                for batch in rx.iter() {
                    let path = &inputs[batch.file];
                    if tx.send(work(engine, filters, batch, path, events, &free)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let mut files: Vec<(u64, BTreeMap<u64, Vec<Found>>, Option<isms_detect::correlation::Correlator>)> =
            args.inputs.iter().map(|_| (0, BTreeMap::new(), (!engine.correlations().is_empty()).then(|| engine.correlator()))).collect();
        for done in done_rx.iter() {
            let (next_seq, pending, correlator) = &mut files[done.file];
            pending.insert(done.seq, done.found);
            while let Some(found) = pending.remove(next_seq) {
                *next_seq += 1;
                let path = &args.inputs[done.file];
                for f in found {
                    // Correlations see every detection, in the order of the file.
                    if let Some(k) = correlator.as_mut() {
                        let time = event_time(&f.event).unwrap_or_default();
                        if let Some(at) = time_ms(&time) {
                            let refs: Vec<&str> =
                                f.rules.iter().flat_map(|&r| [engine.rule(r).id.as_deref(), engine.rule(r).name.as_deref()]).flatten().collect();
                            for hit in k.feed(at, &refs, &f.event) {
                                sink.emit_correlation(&k.rules()[hit.correlation], &hit, &time, path);
                            }
                        }
                    }
                    for &r in &f.rules {
                        let rule = engine.rule(r);
                        if filters.min_level.is_some_and(|m| rule.level.is_none_or(|l| l < m)) {
                            continue;
                        }
                        if let Some(st) = &filters.statuses
                            && !rule.status.as_ref().is_some_and(|s| st.contains(&s.to_lowercase()))
                        {
                            continue;
                        }
                        sink.emit(&engine, r, &f.event, &f.raw, path);
                    }
                }
            }
        }
    });
    bar.finish_and_clear();
    if let Ok(mut w) = sink.csv.lock()
        && let Some(w) = w.as_mut()
    {
        w.flush()?;
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
