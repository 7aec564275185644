//! Reading threat-intelligence feeds: STIX 2.1 bundles (and TAXII 2.1 envelopes), MISP
//! JSON exports (an event, a list of events, or attribute search results), MISP CSV
//! exports, and free text (one or more indicators per line, defanged or not).
//!
//! Whatever cannot be used is reported with where it is and why; the rest is kept.

use super::pattern;
use super::{Kind, Tlp, classify, normalize};
use serde_json::Value;
use std::collections::HashMap;

/// One indicator as a feed gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedIndicator {
    pub kind: Kind,
    /// Canonical (see [`normalize`]).
    pub value: String,
    /// The feed's own identifier: a STIX `indicator--…` id or a MISP attribute uuid.
    pub external_id: Option<String>,
    pub name: String,
    pub tlp: Option<Tlp>,
    /// 0–100.
    pub confidence: Option<u8>,
    /// RFC 3339 timestamps as the feed wrote them.
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    /// The feed withdrew it: it is to be removed, not matched.
    pub revoked: bool,
}

/// Something in a feed that was not used, where it is, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub at: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub indicators: Vec<FeedIndicator>,
    pub refused: Vec<Refusal>,
    /// Entries that are not indicators (other STIX objects, MISP attributes not meant for
    /// detection or of a type without a matcher).
    pub skipped: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Stix,
    MispJson,
    MispCsv,
    Text,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Stix, Format::MispJson, Format::MispCsv, Format::Text];

    pub fn code(self) -> &'static str {
        match self {
            Format::Stix => "stix",
            Format::MispJson => "misp-json",
            Format::MispCsv => "misp-csv",
            Format::Text => "text",
        }
    }

    pub fn parse(code: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.code() == code)
    }

    /// The format a file is most likely in, from its first bytes.
    pub fn guess(bytes: &[u8]) -> Format {
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
        let t = head.trim_start_matches('\u{feff}').trim_start();
        if t.starts_with('{') || t.starts_with('[') {
            if t.contains("\"Event\"") || t.contains("\"Attribute\"") || t.contains("\"response\"") {
                return Format::MispJson;
            }
            return Format::Stix;
        }
        let first = t.lines().next().unwrap_or("").to_ascii_lowercase();
        let cols: Vec<&str> = first.split(',').map(|c| c.trim().trim_matches('"')).collect();
        if cols.contains(&"type") && cols.contains(&"value") {
            return Format::MispCsv;
        }
        Format::Text
    }
}

/// Reads a feed in `format`. A file that is not that format at all (not JSON, no header)
/// is an error; problems with single entries are refusals.
pub fn parse(format: Format, bytes: &[u8]) -> Result<Parsed, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("the file is not UTF-8 text (byte {})", e.valid_up_to() + 1))?;
    let text = text.trim_start_matches('\u{feff}');
    let mut out = match format {
        Format::Stix => stix(text)?,
        Format::MispJson => misp_json(text)?,
        Format::MispCsv => misp_csv(text)?,
        Format::Text => free_text(text),
    };
    // The same indicator twice in one file: the last one counts.
    let mut seen: HashMap<(Kind, String), usize> = HashMap::new();
    let mut kept: Vec<FeedIndicator> = vec![];
    for i in out.indicators.drain(..) {
        match seen.get(&(i.kind, i.value.clone())) {
            Some(&at) => kept[at] = i,
            None => {
                seen.insert((i.kind, i.value.clone()), kept.len());
                kept.push(i);
            }
        }
    }
    out.indicators = kept;
    Ok(out)
}

fn json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("not JSON: line {}, column {}: {e}", e.line(), e.column()))
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn stix(text: &str) -> Result<Parsed, String> {
    let doc = json(text)?;
    let objects: Vec<&Value> = match (&doc, doc.get("objects")) {
        (_, Some(Value::Array(a))) => a.iter().collect(),
        (Value::Array(a), None) => a.iter().collect(),
        (Value::Object(_), None) if doc.get("type").and_then(Value::as_str) == Some("indicator") => vec![&doc],
        (Value::Object(_), None) if doc.get("type").and_then(Value::as_str) == Some("bundle") => vec![],
        _ => return Err("not a STIX bundle: it has no \"objects\" list".into()),
    };
    // Markings defined in the bundle itself (TLP 2.0 definitions carry their name).
    let mut markings: HashMap<String, Tlp> = HashMap::new();
    for o in &objects {
        if o.get("type").and_then(Value::as_str) == Some("marking-definition") {
            let tlp = o
                .pointer("/definition/tlp")
                .and_then(Value::as_str)
                .and_then(Tlp::parse)
                .or_else(|| o.get("name").and_then(Value::as_str).and_then(Tlp::parse));
            if let (Some(id), Some(t)) = (s(o, "id"), tlp) {
                markings.insert(id, t);
            }
        }
    }
    let mut out = Parsed::default();
    for (n, o) in objects.iter().enumerate() {
        if o.get("type").and_then(Value::as_str) != Some("indicator") {
            out.skipped += 1;
            continue;
        }
        let id = s(o, "id");
        let at = format!("object {} ({})", n + 1, id.as_deref().unwrap_or("no id"));
        let refuse = |out: &mut Parsed, reason: String| out.refused.push(Refusal { at: at.clone(), reason });
        match o.get("pattern_type").and_then(Value::as_str) {
            None | Some("stix") => {}
            Some(other) => {
                refuse(&mut out, format!("the pattern type {other:?} is not STIX"));
                continue;
            }
        }
        let Some(text) = o.get("pattern").and_then(Value::as_str) else {
            refuse(&mut out, "the indicator has no pattern".into());
            continue;
        };
        let values = match pattern::parse(text) {
            Err(e) => {
                refuse(&mut out, format!("pattern {e}"));
                continue;
            }
            Ok(p) => match p.indicators() {
                Ok(v) => v,
                Err(e) => {
                    refuse(&mut out, e);
                    continue;
                }
            },
        };
        let tlp = o
            .get("object_marking_refs")
            .and_then(Value::as_array)
            .map(|refs| refs.iter().filter_map(Value::as_str).filter_map(|r| markings.get(r).copied().or_else(|| Tlp::from_stix_marking(r))).max())
            .unwrap_or(None);
        let confidence = o.get("confidence").and_then(Value::as_u64).map(|c| c.min(100) as u8);
        let revoked = o.get("revoked").and_then(Value::as_bool).unwrap_or(false);
        let name = s(o, "name").or_else(|| s(o, "description")).unwrap_or_default();
        for (kind, value) in values {
            out.indicators.push(FeedIndicator {
                kind,
                value,
                external_id: id.clone(),
                name: name.chars().take(300).collect(),
                tlp,
                confidence,
                valid_from: s(o, "valid_from"),
                valid_until: s(o, "valid_until"),
                revoked,
            });
        }
    }
    Ok(out)
}

/// The kinds a MISP attribute type holds, and which part of a `a|b` value each is.
fn misp_kinds(t: &str) -> Option<Vec<(usize, Option<Kind>)>> {
    // `None`: decided by the value (IPv4 or IPv6).
    Some(match t {
        "ip-src" | "ip-dst" | "ip-src|port" | "ip-dst|port" => vec![(0, None)],
        "domain" | "hostname" | "hostname|port" => vec![(0, Some(Kind::Domain))],
        "domain|ip" => vec![(0, Some(Kind::Domain)), (1, None)],
        "url" => vec![(0, Some(Kind::Url))],
        "md5" => vec![(0, Some(Kind::Md5))],
        "sha1" => vec![(0, Some(Kind::Sha1))],
        "sha256" => vec![(0, Some(Kind::Sha256))],
        "filename|md5" => vec![(1, Some(Kind::Md5))],
        "filename|sha1" => vec![(1, Some(Kind::Sha1))],
        "filename|sha256" => vec![(1, Some(Kind::Sha256))],
        "email" | "email-src" | "email-dst" | "email-reply-to" => vec![(0, Some(Kind::Email))],
        _ => return None,
    })
}

fn misp_tlp(tags: &[String]) -> Option<Tlp> {
    tags.iter().filter(|t| t.to_ascii_lowercase().starts_with("tlp:")).filter_map(|t| Tlp::parse(t)).max()
}

/// One MISP attribute (JSON or CSV row) turned into indicators.
#[allow(clippy::too_many_arguments)]
fn misp_attribute(out: &mut Parsed, at: String, kind: &str, value: &str, to_ids: bool, uuid: Option<String>, name: &str, tlp: Option<Tlp>) {
    if !to_ids {
        out.skipped += 1;
        return;
    }
    let Some(parts) = misp_kinds(kind.trim()) else {
        out.skipped += 1;
        return;
    };
    let pieces: Vec<&str> = value.split('|').collect();
    for (i, k) in parts {
        let Some(piece) = pieces.get(i) else {
            out.refused.push(Refusal { at: at.clone(), reason: format!("a {kind} value has the form a|b; {value:?} has no part {}", i + 1) });
            continue;
        };
        let normalized = match k {
            Some(k) => normalize(k, piece).map(|v| (k, v)),
            None => match classify(piece) {
                Some((k @ (Kind::Ipv4 | Kind::Ipv6), v)) => Ok((k, v)),
                _ => Err(format!("{piece:?} is not an IP address")),
            },
        };
        match normalized {
            Ok((kind, value)) => out.indicators.push(FeedIndicator {
                kind,
                value,
                external_id: uuid.clone(),
                name: name.chars().take(300).collect(),
                tlp,
                confidence: None,
                valid_from: None,
                valid_until: None,
                revoked: false,
            }),
            Err(reason) => out.refused.push(Refusal { at: at.clone(), reason }),
        }
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.as_str(), "1" | "true" | "True"),
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        // MISP marks what is meant for detection; an attribute without the flag is taken.
        None => true,
        _ => false,
    }
}

fn tag_names(v: &Value) -> Vec<String> {
    v.get("Tag").and_then(Value::as_array).map(|tags| tags.iter().filter_map(|t| s(t, "name")).collect()).unwrap_or_default()
}

fn misp_json(text: &str) -> Result<Parsed, String> {
    let doc = json(text)?;
    let mut events: Vec<&Value> = vec![];
    let mut loose: Vec<&Value> = vec![];
    let response = doc.get("response").unwrap_or(&doc);
    if let Some(e) = response.get("Event") {
        events.push(e);
    } else if let Some(items) = response.as_array() {
        events.extend(items.iter().map(|i| i.get("Event").unwrap_or(i)));
    } else if let Some(attrs) = response.get("Attribute").and_then(Value::as_array) {
        loose.extend(attrs.iter());
    } else {
        return Err("not a MISP export: no \"Event\", list of events or \"Attribute\" list".into());
    }
    let mut out = Parsed::default();
    for (en, e) in events.iter().enumerate() {
        let info = s(e, "info").unwrap_or_default();
        let event_tlp = misp_tlp(&tag_names(e));
        let mut attrs: Vec<&Value> = e.get("Attribute").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
        for o in e.get("Object").and_then(Value::as_array).into_iter().flatten() {
            attrs.extend(o.get("Attribute").and_then(Value::as_array).into_iter().flatten());
        }
        for (an, a) in attrs.into_iter().enumerate() {
            let at = format!("event {} attribute {}", en + 1, an + 1);
            let tlp = misp_tlp(&tag_names(a)).or(event_tlp);
            misp_attribute(
                &mut out,
                at,
                &s(a, "type").unwrap_or_default(),
                &s(a, "value").unwrap_or_default(),
                truthy(a.get("to_ids")),
                s(a, "uuid"),
                &info,
                tlp,
            );
        }
    }
    for (an, a) in loose.into_iter().enumerate() {
        let name = a.pointer("/Event/info").and_then(Value::as_str).unwrap_or("").to_string();
        misp_attribute(
            &mut out,
            format!("attribute {}", an + 1),
            &s(a, "type").unwrap_or_default(),
            &s(a, "value").unwrap_or_default(),
            truthy(a.get("to_ids")),
            s(a, "uuid"),
            &name,
            misp_tlp(&tag_names(a)),
        );
    }
    Ok(out)
}

fn misp_csv(text: &str) -> Result<Parsed, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers: Vec<String> = r.headers().map_err(|e| format!("line 1: {e}"))?.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(ti), Some(vi)) = (col("type"), col("value")) else {
        return Err("line 1: a MISP CSV export needs the columns \"type\" and \"value\"".into());
    };
    let (ids, uuid, comment, tags) = (col("to_ids"), col("uuid"), col("comment"), col("attribute_tag").or(col("tags")));
    let mut out = Parsed::default();
    for rec in r.records() {
        let rec = rec.map_err(|e| format!("line {}: {e}", e.position().map(|p| p.line()).unwrap_or(0)))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("").trim().to_string();
        let to_ids = ids.is_none() || matches!(get(ids).to_ascii_lowercase().as_str(), "1" | "true");
        let tag_list: Vec<String> = get(tags).split([',', ';']).map(|t| t.trim().to_string()).collect();
        let uuid = Some(get(uuid)).filter(|u| !u.is_empty());
        misp_attribute(&mut out, format!("line {line}"), &get(Some(ti)), &get(Some(vi)), to_ids, uuid, &get(comment), misp_tlp(&tag_list));
    }
    Ok(out)
}

fn free_text(text: &str) -> Parsed {
    let mut out = Parsed::default();
    for (n, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with("//") {
            continue;
        }
        let before = out.indicators.len();
        for tok in l.split(|c: char| c.is_whitespace() || c == ',' || c == ';') {
            if let Some((kind, value)) = classify(tok) {
                out.indicators.push(FeedIndicator {
                    kind,
                    value,
                    external_id: None,
                    name: String::new(),
                    tlp: None,
                    confidence: None,
                    valid_from: None,
                    valid_until: None,
                    revoked: false,
                });
            }
        }
        if out.indicators.len() == before {
            out.refused.push(Refusal { at: format!("line {}", n + 1), reason: "no address, domain, URL, hash or e-mail address on the line".into() });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stix_bundles_give_their_indicators_with_tlp_confidence_and_validity() {
        let bundle = r#"{"type":"bundle","id":"bundle--1","objects":[
          {"type":"marking-definition","id":"marking-definition--x","name":"TLP:AMBER+STRICT","definition_type":"tlp"},
          {"type":"identity","id":"identity--1","name":"ISAC"},
          {"type":"indicator","id":"indicator--a","name":"C2","pattern":"[ipv4-addr:value = '203.0.113.7'] OR [domain-name:value = 'c2.example']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","valid_until":"2027-01-01T00:00:00Z","confidence":85,"object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]},
          {"type":"indicator","id":"indicator--b","pattern":"[file:hashes.'SHA-256' = 'nothex']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"},
          {"type":"indicator","id":"indicator--c","pattern":"rule x { }","pattern_type":"yara","valid_from":"2026-01-01T00:00:00Z"},
          {"type":"indicator","id":"indicator--d","pattern":"[url:value = 'http://bad.example/x']","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":["marking-definition--x"],"revoked":true}
        ]}"#;
        let p = parse(Format::Stix, bundle.as_bytes()).unwrap();
        assert_eq!(p.skipped, 2);
        assert_eq!(p.indicators.len(), 3);
        let ip = &p.indicators[0];
        assert_eq!((ip.kind, ip.value.as_str(), ip.tlp, ip.confidence), (Kind::Ipv4, "203.0.113.7", Some(Tlp::Green), Some(85)));
        assert_eq!(ip.valid_until.as_deref(), Some("2027-01-01T00:00:00Z"));
        assert_eq!(p.indicators[2].tlp, Some(Tlp::AmberStrict));
        assert!(p.indicators[2].revoked);
        assert_eq!(p.refused.len(), 2);
        assert!(p.refused[0].at.contains("indicator--b") && p.refused[0].reason.contains("SHA-256"), "{:?}", p.refused);
        assert!(p.refused[1].reason.contains("yara"));
        assert!(parse(Format::Stix, b"{\"type\":\"x\"}").unwrap_err().contains("objects"));
        assert!(parse(Format::Stix, b"{oops").unwrap_err().contains("line 1"));
    }

    #[test]
    fn misp_exports_give_their_detection_attributes() {
        let event = r#"{"Event":{"info":"Phishing wave","Tag":[{"name":"tlp:amber"}],
          "Attribute":[
            {"type":"ip-dst","value":"198.51.100.9","to_ids":true,"uuid":"u1"},
            {"type":"ip-dst|port","value":"2001:db8::9|443","to_ids":true},
            {"type":"domain|ip","value":"mail.phish.example|203.0.113.50","to_ids":true,"Tag":[{"name":"tlp:red"}]},
            {"type":"comment","value":"hello","to_ids":false},
            {"type":"url","value":"not a url","to_ids":true},
            {"type":"md5","value":"00112233445566778899aabbccddeeff","to_ids":false}
          ],
          "Object":[{"Attribute":[{"type":"filename|sha1","value":"x.exe|0011223344556677889900112233445566778899","to_ids":true}]}]}}"#;
        let p = parse(Format::MispJson, event.as_bytes()).unwrap();
        let got: Vec<(Kind, &str, Option<Tlp>)> = p.indicators.iter().map(|i| (i.kind, i.value.as_str(), i.tlp)).collect();
        assert_eq!(
            got,
            [
                (Kind::Ipv4, "198.51.100.9", Some(Tlp::Amber)),
                (Kind::Ipv6, "2001:db8::9", Some(Tlp::Amber)),
                (Kind::Domain, "mail.phish.example", Some(Tlp::Red)),
                (Kind::Ipv4, "203.0.113.50", Some(Tlp::Red)),
                (Kind::Sha1, "0011223344556677889900112233445566778899", Some(Tlp::Amber)),
            ]
        );
        assert_eq!(p.skipped, 2);
        assert_eq!(p.refused.len(), 1);
        assert_eq!(p.refused[0].at, "event 1 attribute 5");
        let csv = "uuid,event_id,category,type,value,comment,to_ids,date\nu1,1,Network activity,ip-dst,203.0.113.1,bad,1,20260101\nu2,1,Network activity,domain,bad..example,x,1,20260101\nu3,1,Other,text,hello,,0,20260101\n";
        assert_eq!(Format::guess(csv.as_bytes()), Format::MispCsv);
        let p = parse(Format::MispCsv, csv.as_bytes()).unwrap();
        assert_eq!(p.indicators.len(), 1);
        assert_eq!(p.refused[0].at, "line 3");
        assert!(parse(Format::MispCsv, b"a,b\n1,2\n").unwrap_err().contains("\"type\""));
    }

    #[test]
    fn free_text_takes_what_it_recognises_line_by_line() {
        let text = "# ISAC bulletin 42\nhxxp://evil[.]example/a 203.0.113.7\n\nsee attachment\n44d88612fea8a8f36de82e1278abb02f\n";
        assert_eq!(Format::guess(text.as_bytes()), Format::Text);
        let p = parse(Format::Text, text.as_bytes()).unwrap();
        assert_eq!(p.indicators.iter().map(|i| i.kind).collect::<Vec<_>>(), [Kind::Url, Kind::Ipv4, Kind::Md5]);
        assert_eq!(p.refused, [Refusal { at: "line 4".into(), reason: "no address, domain, URL, hash or e-mail address on the line".into() }]);
        assert!(parse(Format::Text, &[0xff, 0xfe]).unwrap_err().contains("UTF-8"));
    }
}
