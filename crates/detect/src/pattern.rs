//! Values and modifiers of one detection item, compiled into matchers. Strings follow the
//! Sigma rules: `*` and `?` are wildcards, `\` escapes them (and itself), matching is
//! case-insensitive unless `cased`.

use crate::event::{Event, Value};
use base64::Engine as _;
use regex::Regex;
use std::net::IpAddr;

/// A piece of a Sigma string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Lit(String),
    AnyString,
    AnyChar,
}

/// Splits a Sigma string into literal text and wildcards.
pub fn parse_sigma_string(s: &str) -> Vec<Part> {
    let mut parts = vec![];
    let mut lit = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&n @ ('*' | '?' | '\\')) => {
                    lit.push(n);
                    chars.next();
                }
                _ => lit.push('\\'),
            },
            '*' | '?' => {
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                let p = if c == '*' { Part::AnyString } else { Part::AnyChar };
                // `**` is the same as `*`.
                if !(p == Part::AnyString && parts.last() == Some(&Part::AnyString)) {
                    parts.push(p);
                }
            }
            _ => lit.push(c),
        }
    }
    if !lit.is_empty() {
        parts.push(Part::Lit(lit));
    }
    parts
}

/// How a string pattern compares, after wildcards are understood.
#[derive(Debug, Clone)]
pub enum StrMatch {
    Exact(String),
    Prefix(String),
    Suffix(String),
    /// The literal with its searcher, built once.
    Contains(String, memchr::memmem::Finder<'static>),
    Any,
    Glob(Regex),
}

impl StrMatch {
    /// `parts` already lower-cased when the match is case-insensitive.
    pub fn from_parts(parts: &[Part], cased: bool) -> StrMatch {
        use Part::*;
        match parts {
            [] => StrMatch::Exact(String::new()),
            [Lit(s)] => StrMatch::Exact(s.clone()),
            [AnyString] => StrMatch::Any,
            [Lit(s), AnyString] => StrMatch::Prefix(s.clone()),
            [AnyString, Lit(s)] => StrMatch::Suffix(s.clone()),
            [AnyString, Lit(s), AnyString] => StrMatch::Contains(s.clone(), memchr::memmem::Finder::new(s.as_bytes()).into_owned()),
            _ => {
                let mut re = String::from(if cased { "(?s)^" } else { "(?si)^" });
                for p in parts {
                    match p {
                        Lit(s) => re.push_str(&regex::escape(s)),
                        AnyString => re.push_str(".*"),
                        AnyChar => re.push('.'),
                    }
                }
                re.push('$');
                #[allow(clippy::expect_used, reason = "built only from escaped literals and `.`/`.*`: always a valid regex")]
                let re = Regex::new(&re).expect("escaped glob is a valid regex");
                StrMatch::Glob(re)
            }
        }
    }

    /// `value` lower-cased by the caller when the pattern is case-insensitive.
    pub fn is_match(&self, value: &str) -> bool {
        match self {
            StrMatch::Exact(s) => value == s,
            StrMatch::Prefix(s) => value.starts_with(s.as_str()),
            StrMatch::Suffix(s) => value.ends_with(s.as_str()),
            StrMatch::Contains(_, finder) => finder.find(value.as_bytes()).is_some(),
            StrMatch::Any => true,
            StrMatch::Glob(re) => re.is_match(value),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Lte,
    Gt,
    Gte,
}

/// One compiled value of a detection item.
#[derive(Debug, Clone)]
pub enum Matcher {
    Str {
        m: StrMatch,
        cased: bool,
    },
    Regex(Regex),
    Cidr {
        net: IpAddr,
        prefix: u8,
    },
    Num {
        cmp: Cmp,
        value: f64,
    },
    Exists(bool),
    /// The field is absent or null.
    Null,
    /// The field equals (or starts/ends with, contains) another field of the same event.
    FieldRef {
        field: String,
        how: RefHow,
        cased: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefHow {
    Equals,
    Prefix,
    Suffix,
    Contains,
}

impl Matcher {
    /// Whether the value of a field (None: absent) satisfies this matcher. `lower` is the
    /// value's lower-case text when the caller has it (computed once per event field).
    pub fn matches(&self, value: Option<&Value>, lower: Option<&str>, event: &Event) -> bool {
        match self {
            Matcher::Exists(want) => value.is_some_and(|v| *v != Value::Null) == *want,
            Matcher::Null => matches!(value, None | Some(Value::Null)),
            _ => match value {
                None | Some(Value::Null) => false,
                Some(Value::List(items)) => items.iter().any(|i| self.matches_one(i, None, event)),
                Some(v) => self.matches_one(v, lower, event),
            },
        }
    }

    fn matches_one(&self, v: &Value, lower: Option<&str>, event: &Event) -> bool {
        match self {
            Matcher::Str { m, cased } => {
                if *cased {
                    return v.as_text().is_some_and(|t| m.is_match(&t));
                }
                match lower {
                    Some(l) => m.is_match(l),
                    None => v.as_text().is_some_and(|t| m.is_match(&t.to_lowercase())),
                }
            }
            Matcher::Regex(re) => v.as_text().is_some_and(|t| re.is_match(&t)),
            Matcher::Cidr { net, prefix } => v.as_text().and_then(|t| t.trim().parse::<IpAddr>().ok()).is_some_and(|ip| in_cidr(ip, *net, *prefix)),
            Matcher::Num { cmp, value } => v.as_number().is_some_and(|n| match cmp {
                Cmp::Lt => n < *value,
                Cmp::Lte => n <= *value,
                Cmp::Gt => n > *value,
                Cmp::Gte => n >= *value,
            }),
            Matcher::FieldRef { field, how, cased } => {
                let (Some(a), Some(b)) = (v.as_text(), event.get(field).and_then(Value::as_text)) else { return false };
                let (a, b) = if *cased { (a.into_owned(), b.into_owned()) } else { (a.to_lowercase(), b.to_lowercase()) };
                match how {
                    RefHow::Equals => a == b,
                    RefHow::Prefix => a.starts_with(&b),
                    RefHow::Suffix => a.ends_with(&b),
                    RefHow::Contains => a.contains(&b),
                }
            }
            Matcher::Exists(_) | Matcher::Null => false,
        }
    }
}

fn in_cidr(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix as u32) };
            (u32::from(a) & mask) == (u32::from(n) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - prefix as u32) };
            (u128::from(a) & mask) == (u128::from(n) & mask)
        }
        _ => false,
    }
}

pub fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (ip, prefix) = s.trim().split_once('/').unwrap_or((s.trim(), ""));
    let ip: IpAddr = ip.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = if prefix.is_empty() { max } else { prefix.parse().ok()? };
    (prefix <= max).then_some((ip, prefix))
}

/// A YAML scalar of a detection value, before modifiers.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl RawValue {
    pub fn text(&self) -> String {
        match self {
            RawValue::Null => String::new(),
            RawValue::Bool(b) => b.to_string(),
            RawValue::Int(i) => i.to_string(),
            RawValue::Float(f) => f.to_string(),
            RawValue::Str(s) => s.clone(),
        }
    }
}

/// Placeholder values for `expand` (`%name%` → these strings).
pub type Placeholders = std::collections::HashMap<String, Vec<String>>;

/// Compiles one value under a modifier chain. Several matchers come out when a modifier
/// expands a value into variants (`windash`, `base64offset`, `expand`); any may match.
pub fn compile_value(value: &RawValue, modifiers: &[String], placeholders: &Placeholders) -> Result<Vec<Matcher>, (&'static str, String)> {
    let has = |m: &str| modifiers.iter().any(|x| x == m);
    let known = [
        "contains",
        "startswith",
        "endswith",
        "all",
        "re",
        "i",
        "m",
        "s",
        "base64",
        "base64offset",
        "utf16le",
        "utf16be",
        "utf16",
        "wide",
        "windash",
        "cidr",
        "exists",
        "expand",
        "fieldref",
        "lt",
        "lte",
        "gt",
        "gte",
        "cased",
    ];
    for m in modifiers {
        if !known.contains(&m.as_str()) {
            return Err(("unknown-modifier", format!("unknown modifier `{m}`")));
        }
    }
    if has("exists") {
        return match value {
            RawValue::Bool(b) => Ok(vec![Matcher::Exists(*b)]),
            RawValue::Str(s) if s == "true" || s == "false" => Ok(vec![Matcher::Exists(s == "true")]),
            _ => Err(("bad-value", "`exists` takes true or false".into())),
        };
    }
    for (name, cmp) in [("lt", Cmp::Lt), ("lte", Cmp::Lte), ("gt", Cmp::Gt), ("gte", Cmp::Gte)] {
        if has(name) {
            let n = match value {
                RawValue::Int(i) => *i as f64,
                RawValue::Float(f) => *f,
                RawValue::Str(s) => s.trim().parse().map_err(|_| ("bad-value", format!("`{name}` needs a number, not `{s}`")))?,
                _ => return Err(("bad-value", format!("`{name}` needs a number"))),
            };
            return Ok(vec![Matcher::Num { cmp, value: n }]);
        }
    }
    if *value == RawValue::Null {
        return Ok(vec![Matcher::Null]);
    }
    let text = value.text();
    if has("re") {
        let mut flags = String::new();
        for (m, f) in [("i", 'i'), ("m", 'm'), ("s", 's')] {
            if has(m) {
                flags.push(f);
            }
        }
        let src = if flags.is_empty() { text.clone() } else { format!("(?{flags}){text}") };
        return regex::RegexBuilder::new(&src)
            .size_limit(1 << 22)
            .build()
            .map(|r| vec![Matcher::Regex(r)])
            .map_err(|e| ("bad-regex", format!("regular expression `{text}`: {}", e.to_string().lines().last().unwrap_or(""))));
    }
    if has("cidr") {
        let (net, prefix) = parse_cidr(&text).ok_or(("bad-value", format!("`{text}` is not a CIDR network")))?;
        return Ok(vec![Matcher::Cidr { net, prefix }]);
    }
    let cased = has("cased");
    if has("fieldref") {
        let how = if has("contains") {
            RefHow::Contains
        } else if has("startswith") {
            RefHow::Prefix
        } else if has("endswith") {
            RefHow::Suffix
        } else {
            RefHow::Equals
        };
        return Ok(vec![Matcher::FieldRef { field: text, how, cased }]);
    }

    // String values: expand into variants, transform, then place the wildcards.
    let mut variants = vec![text];
    if has("expand") {
        let mut out = vec![];
        for v in &variants {
            out.extend(expand_placeholders(v, placeholders)?);
        }
        variants = out;
    }
    if has("windash") {
        variants = variants.iter().flat_map(|v| windash(v)).collect();
    }
    let encoding = if has("utf16le") || has("wide") {
        Some(Utf16::Le)
    } else if has("utf16be") {
        Some(Utf16::Be)
    } else if has("utf16") {
        Some(Utf16::Bom)
    } else {
        None
    };
    let b64 = has("base64");
    let b64off = has("base64offset");
    if encoding.is_some() && !(b64 || b64off) {
        return Err(("unsupported", "utf16/wide without base64 is not supported".into()));
    }
    let mut out = vec![];
    for v in variants {
        // Wildcards in a value that gets encoded are literal characters.
        let encoded: Vec<Vec<Part>> = if b64 || b64off {
            let bytes = match encoding {
                Some(e) => e.encode(&literal_text(&v)),
                None => literal_text(&v).into_bytes(),
            };
            if b64off { base64_offsets(&bytes) } else { vec![base64::engine::general_purpose::STANDARD.encode(&bytes)] }
                .into_iter()
                .map(|s| vec![Part::Lit(s)])
                .collect()
        } else {
            vec![parse_sigma_string(&v)]
        };
        for mut parts in encoded {
            if has("contains") {
                parts.insert(0, Part::AnyString);
                parts.push(Part::AnyString);
            } else if has("startswith") {
                parts.push(Part::AnyString);
            } else if has("endswith") {
                parts.insert(0, Part::AnyString);
            }
            parts.dedup_by(|a, b| *a == Part::AnyString && *b == Part::AnyString);
            // Base64 text is case-sensitive by nature.
            let cased = cased || b64 || b64off;
            if !cased {
                for p in &mut parts {
                    if let Part::Lit(s) = p {
                        *s = s.to_lowercase();
                    }
                }
            }
            out.push(Matcher::Str { m: StrMatch::from_parts(&parts, cased), cased });
        }
    }
    Ok(out)
}

/// The text of a Sigma string with escapes resolved and wildcards kept as characters.
fn literal_text(s: &str) -> String {
    parse_sigma_string(s)
        .into_iter()
        .map(|p| match p {
            Part::Lit(s) => s,
            Part::AnyString => "*".into(),
            Part::AnyChar => "?".into(),
        })
        .collect()
}

#[derive(Clone, Copy)]
enum Utf16 {
    Le,
    Be,
    Bom,
}

impl Utf16 {
    fn encode(self, s: &str) -> Vec<u8> {
        let mut out = vec![];
        if let Utf16::Bom = self {
            out.extend([0xFF, 0xFE]);
        }
        for u in s.encode_utf16() {
            match self {
                Utf16::Be => out.extend(u.to_be_bytes()),
                _ => out.extend(u.to_le_bytes()),
            }
        }
        out
    }
}

/// The three base64 forms of `bytes` as it may sit at any offset inside a longer encoded
/// text, with the characters that depend on the neighbours cut off.
fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    let e = base64::engine::general_purpose::STANDARD;
    (0..3)
        .map(|i| {
            let mut padded = vec![0u8; i];
            padded.extend_from_slice(bytes);
            let enc = e.encode(&padded);
            let start = [0, 2, 3][i];
            // Padding and the last character, which depends on what follows, are cut.
            let cut = [0, 3, 2][(bytes.len() + i) % 3];
            let end = enc.len().saturating_sub(cut);
            enc.get(start..end.max(start)).unwrap_or("").to_owned()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// Command-line switches may start with `-`, `/` or a Unicode dash; each variant uses one.
fn windash(v: &str) -> Vec<String> {
    let dashes = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];
    let positions: Vec<usize> =
        v.char_indices().filter(|(i, c)| (*c == '-' || *c == '/') && (*i == 0 || v[..*i].ends_with([' ', '*', '"', '\'']))).map(|(i, _)| i).collect();
    if positions.is_empty() {
        return vec![v.to_owned()];
    }
    dashes.iter().map(|d| v.char_indices().map(|(i, c)| if positions.contains(&i) { *d } else { c }).collect()).collect()
}

fn expand_placeholders(v: &str, placeholders: &Placeholders) -> Result<Vec<String>, (&'static str, String)> {
    let Some(start) = v.find('%') else { return Ok(vec![v.to_owned()]) };
    let Some(len) = v[start + 1..].find('%') else { return Ok(vec![v.to_owned()]) };
    let name = &v[start + 1..start + 1 + len];
    let values = placeholders.get(name).ok_or(("placeholder", format!("placeholder `%{name}%` has no configured values")))?;
    let rest = &v[start + 2 + len..];
    let mut out = vec![];
    for val in values {
        for tail in expand_placeholders(rest, placeholders)? {
            out.push(format!("{}{}{}", &v[..start], val, tail));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(v: &str, mods: &[&str]) -> Vec<Matcher> {
        let mods: Vec<String> = mods.iter().map(|s| s.to_string()).collect();
        compile_value(&RawValue::Str(v.into()), &mods, &Placeholders::new()).unwrap()
    }

    fn hit(ms: &[Matcher], text: &str) -> bool {
        let e = Event::new();
        ms.iter().any(|m| m.matches(Some(&Value::Str(text.into())), None, &e))
    }

    #[test]
    fn wildcards_and_escapes() {
        assert_eq!(parse_sigma_string(r"a\*b"), vec![Part::Lit("a*b".into())]);
        // A backslash before a wildcard escapes it; `\\*` is a backslash, then a wildcard.
        assert_eq!(parse_sigma_string(r"C:\Windows\*"), vec![Part::Lit(r"C:\Windows*".into())]);
        assert_eq!(parse_sigma_string(r"C:\Windows\\*"), vec![Part::Lit(r"C:\Windows\".into()), Part::AnyString]);
        assert_eq!(parse_sigma_string(r"x\\*"), vec![Part::Lit(r"x\".into()), Part::AnyString]);
        assert!(hit(&m(r"*\cmd.exe", &[]), r"C:\Windows\System32\CMD.EXE"));
        assert!(hit(&m("a?c", &[]), "ABC"));
        assert!(!hit(&m("a?c", &[]), "abbc"));
        assert!(hit(&m("a*b*c", &[]), "a--b--c"));
        assert!(!hit(&m(r"a\*c", &[]), "abc"));
    }

    #[test]
    fn modifiers() {
        assert!(hit(&m("whoami", &["contains"]), "cmd /c WHOAMI /all"));
        assert!(hit(&m("cmd", &["startswith"]), "CMD.exe"));
        assert!(hit(&m(".exe", &["endswith"]), "x.EXE"));
        assert!(!hit(&m("Cmd", &["cased"]), "cmd"));
        assert!(hit(&m(" -enc ", &["windash", "contains"]), "powershell /enc abc"));
        assert!(hit(&m("-enc", &["windash", "contains"]), "powershell \u{2013}enc abc"));
        assert!(hit(&m("^a.c$", &["re"]), "abc"));
        assert!(!hit(&m("^a.c$", &["re"]), "ABC"));
        assert!(hit(&m("^a.c$", &["re", "i"]), "ABC"));
        assert!(hit(&m("10.0.0.0/8", &["cidr"]), "10.1.2.3"));
        assert!(!hit(&m("10.0.0.0/8", &["cidr"]), "11.1.2.3"));
        assert!(hit(&m("fe80::/10", &["cidr"]), "fe80::1"));
    }

    #[test]
    fn base64_forms() {
        // "http://" at every offset inside a longer base64 text.
        let ms = m("http://", &["base64offset", "contains"]);
        let e = base64::engine::general_purpose::STANDARD;
        for prefix in ["", "a", "ab", "abc"] {
            let enc = e.encode(format!("{prefix}http://example"));
            assert!(hit(&ms, &enc), "{prefix}: {enc}");
        }
        let ms = m("cmd", &["wide", "base64offset", "contains"]);
        let wide: Vec<u8> = "x cmd /c".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        assert!(hit(&ms, &e.encode(wide)));
        assert!(hit(&m("abc", &["base64"]), "YWJj"));
    }

    #[test]
    fn numbers_and_presence() {
        let e = Event::new();
        let gt = compile_value(&RawValue::Int(5), &["gt".into()], &Placeholders::new()).unwrap();
        assert!(gt[0].matches(Some(&Value::Int(6)), None, &e));
        assert!(!gt[0].matches(Some(&Value::Str("5".into())), None, &e));
        let ex = compile_value(&RawValue::Bool(true), &["exists".into()], &Placeholders::new()).unwrap();
        assert!(ex[0].matches(Some(&Value::Str("".into())), None, &e));
        assert!(!ex[0].matches(None, None, &e));
        let null = compile_value(&RawValue::Null, &[], &Placeholders::new()).unwrap();
        assert!(null[0].matches(None, None, &e));
        assert!(!null[0].matches(Some(&Value::Str("x".into())), None, &e));
    }

    #[test]
    fn unknown_modifiers_are_refused() {
        let r = compile_value(&RawValue::Str("x".into()), &["sometimes".into()], &Placeholders::new());
        assert_eq!(r.unwrap_err().0, "unknown-modifier");
    }

    #[test]
    fn placeholders() {
        let mut p = Placeholders::new();
        p.insert("admins".into(), vec!["root".into(), "admin".into()]);
        let ms = compile_value(&RawValue::Str("%admins%".into()), &["expand".into()], &p).unwrap();
        assert!(hit(&ms, "ADMIN"));
        assert!(compile_value(&RawValue::Str("%nobody%".into()), &["expand".into()], &p).is_err());
    }
}
