//! Trying a rule against sample events before it is saved.

use super::*;

/// One sample event's result in a rule test.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SampleResult {
    /// 1-based position of the sample.
    pub number: usize,
    pub matched: bool,
    /// Why the sample could not be read.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TestOutcome {
    pub problems: Vec<Problem>,
    pub samples: Vec<SampleResult>,
}

/// Runs a rule's text against sample events (a JSON object, an array of them, or one
/// object per line) without keeping anything.
pub fn test(body: &str, samples: &str) -> TestOutcome {
    let c = check_text(body);
    if !c.problems.is_empty() {
        return TestOutcome { problems: c.problems, samples: vec![] };
    }
    let mut engine = Engine::new(LogSourceMap::builtin(), Placeholders::new());
    let mut report = LoadReport::default();
    engine.add_rules("rule.yml", body, &mut report);
    engine.finish();
    let (events, bad) = crate::pipeline::split_events(samples.as_bytes());
    let mut out: Vec<SampleResult> = events
        .iter()
        .take(1000)
        .map(|(n, raw)| match engine.event_from_json(raw) {
            Ok(e) => SampleResult { number: *n, matched: !engine.matches(&e).is_empty(), error: None },
            Err(err) => SampleResult { number: *n, matched: false, error: Some(err.to_string()) },
        })
        .collect();
    out.extend(bad.into_iter().map(|(n, _, reason)| SampleResult { number: n, matched: false, error: Some(reason) }));
    out.sort_by_key(|s| s.number);
    TestOutcome { problems: vec![], samples: out }
}
