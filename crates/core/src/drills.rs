//! E-mail drills: the three kinds of lure, the merge fields a template may use, when a
//! campaign's mails go out (business hours, spread over days, never more than the cap in
//! any second), and whether a request to a tracking link came from a person or from a
//! machine (a mail gateway, a link scanner, an image proxy, a report tool). No IO.
//!
//! # Machines are not people
//!
//! Mail-security gateways fetch every link of a mail on delivery, and some detonate
//! attachments in a sandbox; counting those as clicks is the field's oldest complaint.
//! Each request to a tracking address is judged on its own first, then in the sequence of
//! its recipient's requests:
//!
//! 1. `probe-method`: a method other than GET or POST (HEAD, OPTIONS) is a probe.
//! 2. `scanner-agent`: no user agent, or one naming a library, a crawler, a headless
//!    browser, an image proxy, an Office link preview or a security product.
//! 3. `scanner-range`: the address lies in a network of a mail-security service or an
//!    image proxy (a default list, extended by the administrator).
//! 4. `prefetch`: the request came within [`PREFETCH_MS`] of the mail being handed to the
//!    relay: nobody reads and clicks that fast; gateways do.
//! 5. `after-report`: the person had already reported the mail; what fetches the link
//!    afterwards is the report tool or the analyst, not the person falling for it.
//! 6. `no-follow-up`: a click that passed 1–5 counts as a person's only with a second
//!    human signal from the same recipient within [`FOLLOW_UP_MS`]: the teachable-moment
//!    page's beacon (sent by script once the page has been visible and touched, typed or
//!    scrolled) or a form submitted on the landing page. Until then it is pending; when
//!    the time has passed without one, it is a machine's.
//!
//! Opens (a remote image) are recorded but always marked unreliable: image proxies fetch
//! them for everyone, and clients that block images hide real opens.

use crate::FieldError;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

code_enum!(
    /// The three drills the policy names: a virus-mail lure (a harmless marker attachment
    /// whose opening is tracked), a credential lure with a landing page, and a request in
    /// the manner of business e-mail compromise (a reply to the look-alike address fails).
    DrillKind, "kind" {
        Virus => "virus",
        Credential => "credential",
        Bec => "bec",
    }
);

code_enum!(
    /// Where a campaign stands. `draft` can be edited; `scheduled` sends when its window
    /// opens; `paused` holds what is not sent yet; `done` and `cancelled` send nothing more.
    CampaignState, "state" {
        Draft => "draft",
        Scheduled => "scheduled",
        Paused => "paused",
        Done => "done",
        Cancelled => "cancelled",
    }
);

code_enum!(
    /// Where one recipient's mail stands in the outbox.
    SendState, "send_state" {
        Planned => "planned",
        Sending => "sending",
        Sent => "sent",
        Bounced => "bounced",
        Failed => "failed",
        Cancelled => "cancelled",
    }
);

code_enum!(
    /// What happened, as recorded for a recipient.
    EventKind, "event" {
        Sent => "sent",
        Bounced => "bounced",
        Opened => "opened",
        Clicked => "clicked",
        Beacon => "beacon",
        Submitted => "submitted",
        AttachmentOpened => "attachment_opened",
        Replied => "replied",
        Reported => "reported",
    }
);

code_enum!(
    /// Why a request was judged a machine's (see the module's rules).
    MachineReason, "reason" {
        ProbeMethod => "probe-method",
        ScannerAgent => "scanner-agent",
        ScannerRange => "scanner-range",
        Prefetch => "prefetch",
        AfterReport => "after-report",
        NoFollowUp => "no-follow-up",
    }
);

/// A request this soon after the mail reached the relay is a gateway's.
pub const PREFETCH_MS: i64 = 15_000;
/// How long a click waits for its second human signal.
pub const FOLLOW_UP_MS: i64 = 10 * 60_000;
/// The most mails a campaign may send in one second, and the default.
pub const MAX_CAP: u32 = 100;
pub const DEFAULT_CAP: u32 = 5;

/// What a template may say in braces, `{{name}}`. `link` is the recipient's tracked
/// address (the landing page for a credential lure, the teachable moment otherwise);
/// `ref` the recipient's reference code, printed small so a forwarded copy still carries
/// it.
pub const MERGE_FIELDS: &[&str] = &["name", "email", "company", "department", "employee_number", "link", "sender_name", "date", "ref"];

/// A template's text cut into literal text and merge fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Field(&'static str),
}

/// Parses a template's text; an unknown or unclosed merge field is refused with its name
/// and the field it is in.
pub fn parse_template<'a>(field: &str, text: &'a str) -> Result<Vec<Piece<'a>>, FieldError> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            out.push(Piece::Text(&rest[..open]));
        }
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err(FieldError::coded(field, "drill-merge-unclosed", "a merge field is opened with {{ and never closed"));
        };
        let name = after[..close].trim();
        let Some(known) = MERGE_FIELDS.iter().copied().find(|f| *f == name) else {
            return Err(FieldError::coded(
                field,
                "drill-merge-unknown",
                format!("`{{{{{name}}}}}` is not a merge field; use one of {}", MERGE_FIELDS.join(", ")),
            )
            .arg("name", name)
            .arg("known", MERGE_FIELDS.join(", ")));
        };
        out.push(Piece::Field(known));
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

/// The merge fields a text uses.
pub fn fields_used(pieces: &[Piece<'_>]) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = pieces.iter().filter_map(|p| if let Piece::Field(f) = p { Some(*f) } else { None }).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Fills a parsed template; `escape` is applied to every value (HTML escaping for the
/// HTML body), never to the template's own text.
pub fn render(pieces: &[Piece<'_>], value: impl Fn(&str) -> String, escape: impl Fn(&str) -> String) -> String {
    let mut s = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => s.push_str(t),
            Piece::Field(f) => s.push_str(&escape(&value(f))),
        }
    }
    s
}

/// Checks a template's parts for its kind: every text parses, a credential or virus lure
/// links to `{{link}}` somewhere in its body, and a BEC request has a reply address.
pub fn check_template(kind: DrillKind, subject: &str, body: &str, reply_to: Option<&str>) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Err(e) = parse_template("subject", subject).and_then(|_| crate::text::single_line("subject", subject)) {
        errs.push(e);
    }
    if subject.trim().is_empty() {
        errs.push(FieldError::coded("subject", "required", "is required"));
    }
    if let Err(e) = crate::text::multi_line("body", body) {
        errs.push(e);
    }
    match parse_template("body", body) {
        Err(e) => errs.push(e),
        Ok(p) => {
            if body.trim().is_empty() {
                errs.push(FieldError::coded("body", "required", "is required"));
            } else if kind == DrillKind::Credential && !fields_used(&p).contains(&"link") {
                errs.push(FieldError::coded("body", "drill-link-missing", "a credential lure must contain {{link}}"));
            }
        }
    }
    if kind == DrillKind::Bec && reply_to.is_none_or(|r| r.trim().is_empty()) {
        errs.push(FieldError::coded("reply_to", "drill-reply-missing", "a BEC drill needs the look-alike reply address"));
    }
    errs
}

/// Business hours on the chosen weekdays, in one time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Window {
    /// ISO weekday numbers, Monday 1 to Sunday 7.
    pub weekdays: Vec<i8>,
    /// Hours as `HH:MM`.
    #[schema(example = "09:30")]
    pub start: String,
    #[schema(example = "17:00")]
    pub end: String,
    /// The IANA time zone the hours are in (the recipients' office).
    #[serde(default = "tokyo")]
    #[schema(example = "Asia/Tokyo")]
    pub time_zone: String,
}

fn tokyo() -> String {
    "Asia/Tokyo".into()
}

impl Default for Window {
    fn default() -> Self {
        Self { weekdays: vec![1, 2, 3, 4, 5], start: "09:30".into(), end: "17:00".into(), time_zone: tokyo() }
    }
}

fn parse_hm(field: &str, s: &str) -> Result<Time, FieldError> {
    let bad = || FieldError::coded(field, "time", format!("`{s}` is not a time HH:MM")).arg("value", s);
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let h: i8 = h.parse().map_err(|_| bad())?;
    let m: i8 = m.parse().map_err(|_| bad())?;
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

impl Window {
    /// The hours as times, or the field that is wrong.
    pub fn hours(&self) -> Result<(Time, Time), FieldError> {
        let s = parse_hm("window_start", &self.start)?;
        let e = parse_hm("window_end", &self.end)?;
        if e <= s {
            return Err(FieldError::coded("window_end", "drill-window-order", "the window must end after it starts"));
        }
        if self.weekdays.is_empty() || self.weekdays.iter().any(|d| !(1..=7).contains(d)) {
            return Err(FieldError::coded("weekdays", "drill-window-days", "choose at least one weekday"));
        }
        Ok((s, e))
    }

    /// The window's time zone, or the field error naming it.
    pub fn tz(&self) -> Result<TimeZone, FieldError> {
        TimeZone::get(self.time_zone.trim()).map_err(|_| {
            FieldError::coded("time_zone", "drill-time-zone", format!("`{}` is not a time zone", self.time_zone)).arg("value", self.time_zone.clone())
        })
    }

    fn open_on(&self, d: Date) -> bool {
        self.weekdays.contains(&d.weekday().to_monday_one_offset())
    }
}

/// When each of `n` mails goes out: spread evenly over the business hours of the days
/// from `first` to `last` in `tz`, the first at the window's opening on the first open
/// day. An error names the field when no day in the range is open.
pub fn plan(n: usize, first: Date, last: Date, window: &Window) -> Result<Vec<Timestamp>, FieldError> {
    let (start, end) = window.hours()?;
    let tz = &window.tz()?;
    if last < first {
        return Err(FieldError::coded("last_day", "drill-days-order", "the last day must not be before the first"));
    }
    // The open stretches, each as (its start, its length in ms).
    let mut stretches: Vec<(Timestamp, i64)> = Vec::new();
    let mut d = first;
    while d <= last {
        if window.open_on(d) {
            let s = d.to_datetime(start).to_zoned_datetime(tz.clone()).map_err(|_| FieldError::coded("first_day", "date", "not a date"))?;
            let e = d.to_datetime(end).to_zoned_datetime(tz.clone()).map_err(|_| FieldError::coded("first_day", "date", "not a date"))?;
            let len = e.timestamp().as_millisecond() - s.timestamp().as_millisecond();
            if len > 0 {
                stretches.push((s.timestamp(), len));
            }
        }
        d = match d.checked_add(1.day()) {
            Ok(n) => n,
            Err(_) => break,
        };
    }
    let total: i64 = stretches.iter().map(|s| s.1).sum();
    if total == 0 {
        return Err(FieldError::coded("weekdays", "drill-window-empty", "no day between the first and the last day is open for sending"));
    }
    let n64 = i64::try_from(n).unwrap_or(i64::MAX).max(1);
    let mut out = Vec::with_capacity(n);
    let mut idx = 0usize;
    let mut before = 0i64; // ms of the stretches before `idx`
    for i in 0..n {
        let offset = i64::try_from(i).unwrap_or(i64::MAX).saturating_mul(total) / n64;
        while idx + 1 < stretches.len() && offset >= before + stretches[idx].1 {
            before += stretches[idx].1;
            idx += 1;
        }
        let (s, _) = stretches[idx];
        out.push(Timestamp::from_millisecond(s.as_millisecond() + (offset - before)).unwrap_or(s));
    }
    Ok(out)
}

/// How long to wait before the next send so that no second ever holds more than `cap`
/// mails: `done` holds when the last sends finished (oldest first, at most `cap`). A send
/// that starts a second after the `cap`-th last one finished cannot share a second with
/// it, whatever the network did in between.
pub fn wait_ms(done: &std::collections::VecDeque<i64>, cap: u32, now_ms: i64) -> i64 {
    let cap = usize::try_from(cap.max(1)).unwrap_or(1);
    if done.len() < cap {
        return 0;
    }
    let oldest = done[done.len() - cap];
    (oldest + 1_000 - now_ms).max(0)
}

/// A network of addresses, `a.b.c.d/n` or an IPv6 prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    base: IpAddr,
    bits: u8,
}

impl Net {
    pub fn parse(s: &str) -> Option<Self> {
        let (a, b) = s.trim().split_once('/').unwrap_or((s.trim(), ""));
        let base: IpAddr = a.parse().ok()?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let bits = if b.is_empty() { max } else { b.parse().ok().filter(|b| *b <= max)? };
        Some(Self { base, bits })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.bits == 0 { 0 } else { u32::MAX << (32 - self.bits) };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.bits == 0 { 0 } else { u128::MAX << (128 - self.bits) };
                u128::from(n) & mask == u128::from(a) & mask
            }
            (IpAddr::V6(_), IpAddr::V4(a)) => self.contains(IpAddr::V6(a.to_ipv6_mapped())),
            _ => false,
        }
    }
}

/// Networks whose requests are machines': Microsoft's Exchange Online Protection and
/// Defender for Office 365 (the address blocks Microsoft publishes for mail flow), Google's
/// image proxy and crawlers, and the documentation ranges the test traces use for scanners.
/// The administrator adds their gateway's (Proofpoint, Mimecast, Trend Micro …).
pub const SCANNER_NETS: &[&str] = &[
    "40.92.0.0/15",
    "40.107.0.0/16",
    "52.100.0.0/14",
    "104.47.0.0/17",
    "2a01:111:f400::/48",
    "2a01:111:f403::/48",
    "66.102.0.0/20",
    "66.249.64.0/19",
    "74.125.0.0/16",
];

/// Words in a user agent that name a machine: HTTP libraries, crawlers, headless
/// browsers, image proxies, Office's link preview and security products.
pub const SCANNER_AGENTS: &[&str] = &[
    "bot",
    "crawl",
    "spider",
    "slurp",
    "preview",
    "python",
    "curl",
    "wget",
    "go-http-client",
    "java/",
    "okhttp",
    "httpclient",
    "libwww",
    "axios",
    "node-fetch",
    "headless",
    "phantomjs",
    "googleimageproxy",
    "yahoomailproxy",
    "ggpht",
    "microsoft office",
    "ms-office",
    "microsoft outlook",
    "outlook-ios",
    "skypeuripreview",
    "ms search",
    "proofpoint",
    "mimecast",
    "barracuda",
    "symantec",
    "trendmicro",
    "forcepoint",
    "zscaler",
    "paloalto",
    "fortiguard",
    "cisco",
    "sophos",
    "scanner",
    "jira",
    "servicenow",
    "zendesk",
];

/// One request to a tracking address, as much of it as the rules read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    pub at_ms: i64,
    pub kind: EventKind,
    pub method: String,
    pub ip: Option<IpAddr>,
    pub agent: String,
}

/// What a recipient's requests are judged against.
#[derive(Debug, Clone)]
pub struct Judge {
    pub nets: Vec<Net>,
    pub agents: Vec<String>,
}

impl Default for Judge {
    fn default() -> Self {
        Self::with(&[], &[])
    }
}

/// The verdict on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Human,
    Machine(MachineReason),
    /// A click still waiting for its second human signal.
    Pending,
}

impl Judge {
    /// The defaults extended by the administrator's networks and agent words (unparsable
    /// networks are skipped; the settings page refuses them before they get here).
    pub fn with(nets: &[String], agents: &[String]) -> Self {
        let mut n: Vec<Net> = SCANNER_NETS.iter().filter_map(|s| Net::parse(s)).collect();
        n.extend(nets.iter().filter_map(|s| Net::parse(s)));
        let mut a: Vec<String> = SCANNER_AGENTS.iter().map(|s| (*s).to_owned()).collect();
        a.extend(agents.iter().map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()));
        Self { nets: n, agents: a }
    }

    /// Rules 1–3: what one request says about itself.
    pub fn alone(&self, h: &Hit) -> Option<MachineReason> {
        if !matches!(h.method.to_ascii_uppercase().as_str(), "GET" | "POST") {
            return Some(MachineReason::ProbeMethod);
        }
        let agent = h.agent.to_ascii_lowercase();
        if agent.trim().is_empty() || self.agents.iter().any(|w| agent.contains(w.as_str())) {
            return Some(MachineReason::ScannerAgent);
        }
        if h.ip.is_some_and(|ip| self.nets.iter().any(|n| n.contains(ip))) {
            return Some(MachineReason::ScannerRange);
        }
        None
    }

    /// Judges a recipient's requests, in the order given (oldest first), knowing when
    /// the mail reached the relay, when the person reported it, and the time now. One
    /// verdict per request; beacons and submits are judged as signals.
    pub fn judge(&self, hits: &[Hit], sent_ms: Option<i64>, reported_ms: Option<i64>, now_ms: i64) -> Vec<Verdict> {
        let early = |h: &Hit| sent_ms.is_some_and(|s| h.at_ms >= s && h.at_ms - s < PREFETCH_MS);
        let late = |h: &Hit| reported_ms.is_some_and(|r| h.at_ms >= r);
        let first: Vec<Option<MachineReason>> = hits
            .iter()
            .map(|h| {
                self.alone(h).or_else(|| {
                    if early(h) {
                        Some(MachineReason::Prefetch)
                    } else if late(h) {
                        Some(MachineReason::AfterReport)
                    } else {
                        None
                    }
                })
            })
            .collect();
        // A human signal: a beacon or a submit that passed the first rules.
        let signal = |i: usize| matches!(hits[i].kind, EventKind::Beacon | EventKind::Submitted) && first[i].is_none();
        hits.iter()
            .enumerate()
            .map(|(i, h)| {
                if let Some(r) = first[i] {
                    return Verdict::Machine(r);
                }
                match h.kind {
                    EventKind::Clicked => {
                        let followed = (0..hits.len()).any(|j| signal(j) && hits[j].at_ms >= h.at_ms && hits[j].at_ms - h.at_ms <= FOLLOW_UP_MS);
                        if followed {
                            Verdict::Human
                        } else if now_ms - h.at_ms <= FOLLOW_UP_MS {
                            Verdict::Pending
                        } else {
                            Verdict::Machine(MachineReason::NoFollowUp)
                        }
                    }
                    _ => Verdict::Human,
                }
            })
            .collect()
    }
}

/// The recipient's reference code as printed in a mail: the first twelve characters of
/// the token, grouped by four (`7k3m-9qd2-x8fa`), enough to find a forwarded copy.
pub fn reference(token: &str) -> String {
    let t: Vec<char> = token.chars().take(12).collect();
    t.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// A token's shape: 26 characters of lower-case base32 (RFC 4648 alphabet), 130 bits.
pub fn is_token(s: &str) -> bool {
    s.len() == 26 && s.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

/// Encodes 16 random bytes and two more bits as a token.
pub fn token_from(bytes: &[u8; 17]) -> String {
    const ALPHA: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(26);
    let mut acc: u32 = 0;
    let mut nbits = 0;
    for b in bytes {
        acc = (acc << 8) | u32::from(*b);
        nbits += 8;
        while nbits >= 5 && out.len() < 26 {
            nbits -= 5;
            out.push(char::from(ALPHA[((acc >> nbits) & 31) as usize]));
        }
    }
    out
}

/// Finds drill tokens in a reported mail: in a header named like ours, in a reference
/// code, or in a tracking link's path `/d/<token>`. Forwarded inline, attached as `.eml`
/// or quoted, the text still carries one of them.
pub fn tokens_in(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(p) = text[i..].find("/d/") {
        let s = i + p + 3;
        let cand: String = text[s..].chars().take(26).collect();
        if is_token(&cand) && !bytes.get(s + 26).is_some_and(|b| b.is_ascii_alphanumeric()) && !out.contains(&cand) {
            out.push(cand);
        }
        i = s;
    }
    // A Message-ID of ours quoted in In-Reply-To or References: `<token@domain>`.
    let mut i = 0;
    while let Some(p) = text[i..].find('<') {
        let s = i + p + 1;
        if let Some(cand) = text.get(s..s + 26)
            && is_token(cand)
            && bytes.get(s + 26) == Some(&b'@')
            && !out.iter().any(|o| o == cand)
        {
            out.push(cand.to_owned());
        }
        i = s;
    }
    for line in text.lines() {
        let l = line.trim_start_matches(['>', ' ']);
        if let Some((k, v)) = l.split_once(':')
            && k.trim().eq_ignore_ascii_case(HEADER)
        {
            let v = v.trim().to_ascii_lowercase();
            if is_token(&v) && !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

/// Reference codes (`abcd-efgh-ijkl`, see [`reference`]) in a text, each as the token
/// prefix it stands for.
pub fn references_in(text: &str) -> Vec<String> {
    let b32 = |c: &u8| c.is_ascii_lowercase() || (b'2'..=b'7').contains(c);
    let lower = text.to_ascii_lowercase();
    let b = lower.as_bytes();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i + 14 <= b.len() {
        let w = &b[i..i + 14];
        let shaped = w.iter().enumerate().all(|(k, c)| if k == 4 || k == 9 { *c == b'-' } else { b32(c) });
        let bounded =
            (i == 0 || !b[i - 1].is_ascii_alphanumeric() && b[i - 1] != b'-') && b.get(i + 14).is_none_or(|c| !c.is_ascii_alphanumeric() && *c != b'-');
        if shaped && bounded {
            let code: String = w.iter().filter(|c| **c != b'-').map(|c| char::from(*c)).collect();
            if !out.contains(&code) {
                out.push(code);
            }
            i += 14;
        } else {
            i += 1;
        }
    }
    out
}

/// The header every drill mail carries its token in.
pub const HEADER: &str = "X-Drill-Ref";

/// The weekday of an ISO number, for showing a window.
pub fn weekday(n: i8) -> Option<Weekday> {
    Weekday::from_monday_one_offset(n).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_merge_field_is_named() {
        let e = parse_template("body", "Dear {{name}}, see {{ passwrd }}").unwrap_err();
        assert_eq!(e.code, "drill-merge-unknown");
        assert_eq!(e.field, "body");
        assert!(e.args.iter().any(|(k, v)| *k == "name" && v == "passwrd"));
        assert_eq!(parse_template("subject", "Hi {{name").unwrap_err().code, "drill-merge-unclosed");
        let p = parse_template("body", "Dear {{name}}: {{link}}{{link}}").unwrap();
        assert_eq!(fields_used(&p), vec!["link", "name"]);
        let r = render(&p, |f| if f == "name" { "<A&B>".into() } else { "L".into() }, |v| v.replace('<', "&lt;"));
        assert_eq!(r, "Dear &lt;A&B>: LL");
    }

    #[test]
    fn templates_fit_their_kind() {
        let codes = |v: Vec<FieldError>| v.into_iter().map(|e| e.code).collect::<Vec<_>>();
        assert_eq!(codes(check_template(DrillKind::Credential, "Sign in", "Please sign in", None)), vec!["drill-link-missing"]);
        assert_eq!(codes(check_template(DrillKind::Bec, "Urgent", "Pay this", None)), vec!["drill-reply-missing"]);
        assert!(check_template(DrillKind::Virus, "Invoice", "See attached", None).is_empty());
        assert!(check_template(DrillKind::Credential, "Sign in", "Go {{link}}", None).is_empty());
    }

    #[test]
    fn plan_spreads_over_business_hours() {
        let tz = crate::calendar::japan();
        let w = Window::default();
        // 2026-12-04 is a Friday, 12-07 a Monday: two open days, 7.5 hours each.
        let first = jiff::civil::date(2026, 12, 4);
        let last = jiff::civil::date(2026, 12, 7);
        let p = plan(4, first, last, &w).unwrap();
        let local: Vec<String> = p.iter().map(|t| t.to_zoned_datetime(tz.clone()).strftime("%a %H:%M").to_string()).collect();
        assert_eq!(local, vec!["Fri 09:30", "Fri 13:15", "Mon 09:30", "Mon 13:15"]);
        let sat = jiff::civil::date(2026, 12, 5);
        assert_eq!(plan(1, sat, sat, &w).unwrap_err().code, "drill-window-empty");
        let bad = Window { start: "18:00".into(), ..Window::default() };
        assert_eq!(plan(1, first, last, &bad).unwrap_err().field, "window_end");
        let nowhere = Window { time_zone: "Mars/Olympus".into(), ..Window::default() };
        assert_eq!(plan(1, first, last, &nowhere).unwrap_err().code, "drill-time-zone");
    }

    #[test]
    fn the_cap_holds_in_every_second() {
        let mut done = std::collections::VecDeque::new();
        let mut now = 0i64;
        let mut starts = Vec::new();
        for _ in 0..50 {
            now += wait_ms(&done, 5, now);
            starts.push(now);
            now += 3; // the send takes 3 ms
            done.push_back(now);
            if done.len() > 5 {
                done.pop_front();
            }
        }
        for w in starts.windows(6) {
            assert!(w[5] - w[0] >= 1_000, "six sends within a second: {w:?}");
        }
    }

    fn hit(at: i64, kind: EventKind, method: &str, ip: &str, agent: &str) -> Hit {
        Hit { at_ms: at, kind, method: method.into(), ip: ip.parse().ok(), agent: agent.into() }
    }

    const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

    #[test]
    fn rules_in_order() {
        let j = Judge::default();
        let sent = Some(1_000_000);
        let v = j.judge(&[hit(1_002_000, EventKind::Clicked, "GET", "40.93.1.2", CHROME)], sent, None, 9_000_000);
        assert_eq!(v, vec![Verdict::Machine(MachineReason::ScannerRange)]);
        let v = j.judge(&[hit(1_002_000, EventKind::Clicked, "HEAD", "203.0.113.9", CHROME)], sent, None, 9_000_000);
        assert_eq!(v, vec![Verdict::Machine(MachineReason::ProbeMethod)]);
        let v = j.judge(&[hit(1_002_000, EventKind::Clicked, "GET", "203.0.113.9", CHROME)], sent, None, 9_000_000);
        assert_eq!(v, vec![Verdict::Machine(MachineReason::Prefetch)]);
        let click = hit(2_000_000, EventKind::Clicked, "GET", "203.0.113.9", CHROME);
        assert_eq!(j.judge(std::slice::from_ref(&click), sent, None, 2_000_500), vec![Verdict::Pending]);
        assert_eq!(j.judge(std::slice::from_ref(&click), sent, None, 9_000_000), vec![Verdict::Machine(MachineReason::NoFollowUp)]);
        let beacon = hit(2_004_000, EventKind::Beacon, "POST", "203.0.113.9", CHROME);
        assert_eq!(j.judge(&[click.clone(), beacon], sent, None, 9_000_000), vec![Verdict::Human, Verdict::Human]);
        assert_eq!(j.judge(std::slice::from_ref(&click), sent, Some(1_500_000), 9_000_000), vec![Verdict::Machine(MachineReason::AfterReport)]);
        let ext = Judge::with(&["198.51.100.0/24".into()], &["acme-gw".into()]);
        assert_eq!(ext.alone(&hit(0, EventKind::Clicked, "GET", "198.51.100.7", CHROME)), Some(MachineReason::ScannerRange));
        assert_eq!(ext.alone(&hit(0, EventKind::Clicked, "GET", "192.0.2.1", "ACME-GW/2.0")), Some(MachineReason::ScannerAgent));
    }

    #[test]
    fn tokens_are_found_in_forwards() {
        let t = token_from(&[7u8; 17]);
        assert!(is_token(&t), "{t}");
        let fwd = format!("---------- Forwarded message ---------\n> Please sign in: https://drills.example/d/{t}\n");
        assert_eq!(tokens_in(&fwd), vec![t.clone()]);
        let eml = format!("Subject: Invoice\r\n{HEADER}: {}\r\n\r\nbody", t.to_ascii_uppercase());
        assert_eq!(tokens_in(&eml), vec![t.clone()]);
        assert!(tokens_in("https://x.example/d/short").is_empty());
        let reply = format!("In-Reply-To: <{t}@drill.example.com>\r\nReferences: <other@x> <{t}@drill.example.com>\r\n");
        assert_eq!(tokens_in(&reply), vec![t.clone()]);
        assert!(tokens_in(&format!("<{t}>")).is_empty(), "a token without the Message-ID's @ is not one");
        assert_eq!(reference("abcdefghijklmnop"), "abcd-efgh-ijkl");
        assert_eq!(references_in("> Ref: ABCD-efgh-ijk2 (kept)\nnot-this-one-x"), vec!["abcdefghijk2".to_owned()]);
    }
}
