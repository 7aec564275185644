//! STIX 2.1 patterns: the whole patterning language read into a tree (observation
//! expressions joined with AND, OR and FOLLOWEDBY, their qualifiers, comparisons on object
//! paths with every operator and constant type), and the atomic indicators a pattern
//! stands for when it is one observation of plain equalities, which is what ISAC feeds
//! share and what events are checked against.

use super::{Kind, normalize};
use std::fmt;

mod parse;
pub use parse::*;

/// A pattern: observations and how they are joined.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// `[ comparison ]`
    Observation(Comparison),
    And(Box<Pattern>, Box<Pattern>),
    Or(Box<Pattern>, Box<Pattern>),
    FollowedBy(Box<Pattern>, Box<Pattern>),
    Qualified(Box<Pattern>, Qualifier),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS`
    Within(f64),
    /// `REPEATS n TIMES`
    Repeats(u64),
    /// `START t'…' STOP t'…'`
    StartStop(String, String),
}

/// The comparison expression inside one observation.
#[derive(Debug, Clone, PartialEq)]
pub enum Comparison {
    And(Box<Comparison>, Box<Comparison>),
    Or(Box<Comparison>, Box<Comparison>),
    Test { path: Path, negated: bool, op: Op, value: Constant },
    Exists { path: Path, negated: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Like,
    Matches,
    IsSubset,
    IsSuperset,
}

impl Op {
    pub const ALL: [Op; 11] = [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge, Op::In, Op::Like, Op::Matches, Op::IsSubset, Op::IsSuperset];

    fn text(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "IN",
            Op::Like => "LIKE",
            Op::Matches => "MATCHES",
            Op::IsSubset => "ISSUBSET",
            Op::IsSuperset => "ISSUPERSET",
        }
    }
}

/// `object-type:property.sub[*].'quoted property'`
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub object: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Property(String),
    /// `[n]`, or `[*]` (`None`).
    Index(Option<u64>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Constant {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// `t'2024-01-01T00:00:00Z'`
    Timestamp(String),
    /// `h'ff00'`
    Hex(String),
    /// `b'aGk='`
    Binary(String),
    /// `('a', 'b')`, the right side of IN.
    List(Vec<Constant>),
}

/// Where a pattern stops making sense, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at character {at}: {reason}")]
pub struct PatternError {
    /// 1-based character position.
    pub at: usize,
    pub reason: String,
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn is_ident(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_') && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-') && !is_keyword(s)
}

fn is_keyword(s: &str) -> bool {
    matches!(
        s.to_ascii_uppercase().as_str(),
        "AND"
            | "OR"
            | "NOT"
            | "FOLLOWEDBY"
            | "IN"
            | "LIKE"
            | "MATCHES"
            | "ISSUBSET"
            | "ISSUPERSET"
            | "EXISTS"
            | "WITHIN"
            | "SECONDS"
            | "REPEATS"
            | "TIMES"
            | "START"
            | "STOP"
            | "TRUE"
            | "FALSE"
    )
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.object)?;
        for (i, s) in self.steps.iter().enumerate() {
            match s {
                Step::Property(p) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if is_ident(p) { f.write_str(p)? } else { f.write_str(&quote(p))? }
                }
                Step::Index(Some(n)) => write!(f, "[{n}]")?,
                Step::Index(None) => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Constant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Constant::Str(s) => f.write_str(&quote(s)),
            Constant::Int(i) => write!(f, "{i}"),
            Constant::Float(x) => write!(f, "{x:?}"),
            Constant::Bool(b) => write!(f, "{b}"),
            Constant::Timestamp(t) => write!(f, "t{}", quote(t)),
            Constant::Hex(h) => write!(f, "h'{h}'"),
            Constant::Binary(b) => write!(f, "b'{b}'"),
            Constant::List(items) => {
                f.write_str("(")?;
                for (i, c) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |f: &mut fmt::Formatter<'_>, c: &Comparison| match c {
            Comparison::And(..) | Comparison::Or(..) => write!(f, "({c})"),
            _ => write!(f, "{c}"),
        };
        match self {
            Comparison::And(a, b) | Comparison::Or(a, b) => {
                side(f, a)?;
                f.write_str(if matches!(self, Comparison::And(..)) { " AND " } else { " OR " })?;
                side(f, b)
            }
            Comparison::Test { path, negated, op, value } => write!(f, "{path} {}{} {value}", if *negated { "NOT " } else { "" }, op.text()),
            Comparison::Exists { path, negated } => write!(f, "{}EXISTS {path}", if *negated { "NOT " } else { "" }),
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |f: &mut fmt::Formatter<'_>, p: &Pattern| match p {
            Pattern::Observation(_) => write!(f, "{p}"),
            _ => write!(f, "({p})"),
        };
        match self {
            Pattern::Observation(c) => write!(f, "[{c}]"),
            Pattern::And(a, b) | Pattern::Or(a, b) | Pattern::FollowedBy(a, b) => {
                side(f, a)?;
                f.write_str(match self {
                    Pattern::And(..) => " AND ",
                    Pattern::Or(..) => " OR ",
                    _ => " FOLLOWEDBY ",
                })?;
                side(f, b)
            }
            Pattern::Qualified(p, q) => {
                match &**p {
                    Pattern::Observation(_) | Pattern::Qualified(..) => write!(f, "{p}")?,
                    _ => write!(f, "({p})")?,
                }
                match q {
                    Qualifier::Within(n) => write!(f, " WITHIN {n:?} SECONDS"),
                    Qualifier::Repeats(n) => write!(f, " REPEATS {n} TIMES"),
                    Qualifier::StartStop(a, b) => write!(f, " START t{} STOP t{}", quote(a), quote(b)),
                }
            }
        }
    }
}

/// The kind of indicator an object path holds, when it is one events are checked for.
fn kind_of(path: &Path) -> Option<Kind> {
    let props: Vec<&str> = path
        .steps
        .iter()
        .map(|s| match s {
            Step::Property(p) => p.as_str(),
            Step::Index(_) => "[]",
        })
        .collect();
    match (path.object.as_str(), props.as_slice()) {
        ("ipv4-addr", ["value"]) => Some(Kind::Ipv4),
        ("ipv6-addr", ["value"]) => Some(Kind::Ipv6),
        ("domain-name", ["value"]) => Some(Kind::Domain),
        ("url", ["value"]) => Some(Kind::Url),
        ("email-addr", ["value"]) => Some(Kind::Email),
        ("email-message", ["from_ref" | "sender_ref", "value"]) => Some(Kind::Email),
        ("file" | "artifact", ["hashes", h]) => match h.to_ascii_uppercase().replace('-', "").as_str() {
            "MD5" => Some(Kind::Md5),
            "SHA1" => Some(Kind::Sha1),
            "SHA256" => Some(Kind::Sha256),
            _ => None,
        },
        _ => None,
    }
}

impl Pattern {
    /// The indicators this pattern stands for: one observation (or observations joined
    /// with OR) of equalities (`=`, `IN`, or `ISSUBSET` for a network) joined with OR, on
    /// addresses, domains, URLs, e-mail addresses and file hashes. Anything else (AND,
    /// FOLLOWEDBY, qualifiers, other objects) needs correlation isms does not do on
    /// indicators and is refused with the reason.
    pub fn indicators(&self) -> Result<Vec<(Kind, String)>, String> {
        let mut out = vec![];
        self.collect(&mut out)?;
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn collect(&self, out: &mut Vec<(Kind, String)>) -> Result<(), String> {
        match self {
            Pattern::Observation(c) => c.collect(out),
            Pattern::Or(a, b) => {
                a.collect(out)?;
                b.collect(out)
            }
            Pattern::And(..) => Err("observations joined with AND are not matched as indicators".into()),
            Pattern::FollowedBy(..) => Err("observations joined with FOLLOWEDBY are not matched as indicators".into()),
            Pattern::Qualified(..) => Err("qualified observations (WITHIN, REPEATS, START/STOP) are not matched as indicators".into()),
        }
    }
}

impl Comparison {
    fn collect(&self, out: &mut Vec<(Kind, String)>) -> Result<(), String> {
        match self {
            Comparison::Or(a, b) => {
                a.collect(out)?;
                b.collect(out)
            }
            Comparison::And(..) => Err("comparisons joined with AND are not matched as indicators".into()),
            Comparison::Exists { .. } => Err("EXISTS is not matched as an indicator".into()),
            Comparison::Test { negated: true, .. } => Err("negated comparisons are not matched as indicators".into()),
            Comparison::Test { path, op, value, .. } => {
                let kind = kind_of(path)
                    .ok_or_else(|| format!("{path} is not an observable isms matches (addresses, domains, URLs, e-mail addresses, file hashes)"))?;
                let values: Vec<&Constant> = match (op, value) {
                    (Op::Eq, v) => vec![v],
                    (Op::IsSubset, v) if matches!(kind, Kind::Ipv4 | Kind::Ipv6) => vec![v],
                    (Op::In, Constant::List(items)) => items.iter().collect(),
                    _ => return Err(format!("the operator {} is not matched as an indicator", op.text())),
                };
                for v in values {
                    let Constant::Str(s) = v else {
                        return Err(format!("{path} is compared with {v}, which is not text"));
                    };
                    out.push((kind, normalize(kind, s)?));
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn feed_patterns_become_indicators() {
        let p = parse("[ipv4-addr:value = '203.0.113.7']").unwrap();
        assert_eq!(p.indicators().unwrap(), [(Kind::Ipv4, "203.0.113.7".into())]);
        let p = parse("[file:hashes.'SHA-256' = 'AABB' OR file:hashes.MD5 = '00112233445566778899aabbccddeeff']").unwrap();
        assert!(p.indicators().unwrap_err().contains("SHA-256"), "a bad hash names its kind");
        let p = parse("[domain-name:value IN ('evil.example', 'bad.example')] OR [url:value = 'http://x.example/a']").unwrap();
        assert_eq!(p.indicators().unwrap().len(), 3);
        let p = parse("[ipv4-addr:value ISSUBSET '198.51.100.0/24']").unwrap();
        assert_eq!(p.indicators().unwrap(), [(Kind::Ipv4, "198.51.100.0/24".into())]);
        let p = parse("[email-message:from_ref.value = 'ceo@phish.example']").unwrap();
        assert_eq!(p.indicators().unwrap(), [(Kind::Email, "ceo@phish.example".into())]);
        for (text, why) in [
            ("[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'a.example']", "AND"),
            ("[ipv4-addr:value = '1.2.3.4'] REPEATS 5 TIMES", "qualified"),
            ("[process:name = 'x.exe']", "process:name"),
            ("[ipv4-addr:value != '1.2.3.4']", "!="),
            ("[file:name NOT = 'a']", "negated"),
        ] {
            let e = parse(text).unwrap().indicators().unwrap_err();
            assert!(e.contains(why), "{text}: {e}");
        }
    }

    #[test]
    fn the_whole_language_parses() {
        for text in [
            "[file:hashes.'SHA-256' = 'aa' AND file:size > 1024] FOLLOWEDBY [network-traffic:dst_port = 443] WITHIN 300 SECONDS",
            "([a:b = 1] OR [c:d[*].e LIKE 'x%']) AND [f:g MATCHES '^a.*$'] START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z'",
            "[x-custom-object:extensions.'x-ext'.values[0] = h'ff00' OR NOT EXISTS x:y]",
            "[artifact:payload_bin = b'aGVsbG8=' AND windows-registry-key:key ISSUPERSET 'HKEY']",
            "[network-traffic:start < t'2024-01-01T00:00:00Z' AND network-traffic:is_active = true AND a:b >= -2.5]",
            "[a:b = 1.5e300 OR a:c = 2E-7 OR a:d = 1e3] WITHIN 1.0e2 SECONDS",
        ] {
            let p = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(parse(&p.to_string()).unwrap(), p, "{text}");
        }
    }

    #[test]
    fn mistakes_are_named_by_position() {
        for (text, at, why) in [
            ("", 1, "empty"),
            ("ipv4-addr:value = '1.2.3.4'", 1, "["),
            ("[ipv4-addr:value = '1.2.3.4'", 29, "]"),
            ("[ipv4-addr:value = '1.2.3.4]", 20, "not closed"),
            ("[ipv4-addr value = '1']", 12, ":"),
            ("[ipv4-addr:value ~ '1']", 18, "unexpected character"),
            ("[a:b IN 'x']", 9, "("),
            ("[a:b = 1] WITHIN 0 SECONDS", 18, "positive"),
            ("[a:b = 1] junk", 11, "after the pattern"),
            ("[a:b = 1e999]", 8, "out of range"),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.at, at, "{text}: {e}");
            assert!(e.reason.contains(why), "{text}: {e}");
        }
        let deep = format!("{}[a:b = 1]{}", "(".repeat(200), ")".repeat(200));
        assert!(parse(&deep).unwrap_err().reason.contains("deeply"));
    }

    fn word() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9_]{0,8}".prop_filter("not a keyword", |w| !is_keyword(w))
    }

    fn constant() -> impl Strategy<Value = Constant> {
        let leaf = prop_oneof![
            any::<String>().prop_map(Constant::Str),
            any::<i64>().prop_map(Constant::Int),
            any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(Constant::Float),
            any::<bool>().prop_map(Constant::Bool),
            "[0-9]{4}-[0-9]{2}-[0-9]{2}T00:00:00Z".prop_map(Constant::Timestamp),
            "([0-9a-f]{2}){0,6}".prop_map(Constant::Hex),
            "[A-Za-z0-9+/]{0,8}={0,2}".prop_map(Constant::Binary),
        ];
        leaf
    }

    fn path() -> impl Strategy<Value = Path> {
        (
            "[a-z][a-z0-9-]{0,10}",
            word(),
            prop::collection::vec(
                prop_oneof![word().prop_map(Step::Property), "[^\\x00]{1,6}".prop_map(Step::Property), proptest::option::of(0u64..50).prop_map(Step::Index)],
                0..3,
            ),
        )
            .prop_filter("object type is not a keyword", |(o, _, _)| !is_keyword(o))
            .prop_map(|(object, first, rest)| {
                let mut steps = vec![Step::Property(first)];
                steps.extend(rest);
                Path { object, steps }
            })
    }

    fn comparison() -> impl Strategy<Value = Comparison> {
        let leaf = prop_oneof![
            (path(), any::<bool>(), prop::sample::select(Op::ALL.to_vec()), constant(), prop::collection::vec(constant(), 1..4)).prop_map(
                |(path, negated, op, value, list)| Comparison::Test { path, negated, op, value: if op == Op::In { Constant::List(list) } else { value } }
            ),
            (path(), any::<bool>()).prop_map(|(path, negated)| Comparison::Exists { path, negated }),
        ];
        leaf.prop_recursive(4, 16, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Comparison::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner).prop_map(|(a, b)| Comparison::Or(Box::new(a), Box::new(b)))
            ]
        })
    }

    fn pattern() -> impl Strategy<Value = Pattern> {
        let leaf = comparison().prop_map(Pattern::Observation);
        leaf.prop_recursive(3, 12, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Pattern::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Pattern::Or(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Pattern::FollowedBy(Box::new(a), Box::new(b))),
                (inner.clone(), 1u64..1000).prop_map(|(a, n)| Pattern::Qualified(Box::new(a), Qualifier::Repeats(n))),
                (inner, 1u32..100_000).prop_map(|(a, n)| Pattern::Qualified(Box::new(a), Qualifier::Within(n as f64 / 2.0))),
            ]
        })
    }

    proptest! {
        #[test]
        fn written_patterns_read_back_the_same(p in pattern()) {
            let text = p.to_string();
            prop_assert_eq!(parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?, p);
        }

        #[test]
        fn any_text_is_read_or_refused_without_panicking(text in "\\PC{0,80}") {
            let _ = parse(&text);
        }

        #[test]
        fn near_patterns_are_read_or_refused_without_panicking(text in "[\\[\\]()a-z:.'= 0-9*-]{0,60}") {
            if let Ok(p) = parse(&text) {
                prop_assert_eq!(parse(&p.to_string()).ok(), Some(p));
            }
        }
    }
}
