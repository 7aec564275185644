//! Rule prerequisites: for each rule, literals of which at least one must occur in a named
//! field (lower-cased) for the rule to fire. The engine finds all literals of a field with
//! one automaton per field, so an event wakes only the rules it can meet.

use crate::condition::Expr;
use crate::pattern::{Matcher, StrMatch};
use crate::rule::{FieldTest, Rule, Search};

/// The `field` of a keyword's need: the literal occurs in some value of the event.
pub const ANY_FIELD: &str = "";

/// Where in the field's text a literal must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Anchor {
    Anywhere,
    Start,
    End,
    /// The whole text.
    Whole,
}

/// One way a rule can be met: `field` holds `literal` (lower-case) at `anchor`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Need {
    pub field: String,
    pub literal: String,
    pub anchor: Anchor,
}

/// At least one of these holds whenever the rule fires; `None`: no such guarantee.
pub type Needs = Option<Vec<Need>>;

/// Literals shorter than this are too common to narrow anything.
const MIN_LITERAL: usize = 3;

fn literal_of(m: &Matcher) -> Option<(String, Anchor)> {
    let Matcher::Str { m, .. } = m else { return None };
    let (lit, anchor) = match m {
        StrMatch::Exact(s) => (s.clone(), Anchor::Whole),
        StrMatch::Prefix(s) => (s.clone(), Anchor::Start),
        StrMatch::Suffix(s) => (s.clone(), Anchor::End),
        StrMatch::Contains(s, _) => (s.clone(), Anchor::Anywhere),
        // A glob: its longest literal run must appear.
        StrMatch::Glob(re) => (longest_glob_literal(re.as_str())?, Anchor::Anywhere),
        StrMatch::Any => return None,
    };
    // Case-sensitive patterns also match their lower-cased form in the lower-cased text.
    // Lower-casing keeps ASCII text where it was; beyond ASCII only `Anywhere` is safe.
    let lit = lit.to_lowercase();
    let anchor = if lit.is_ascii() { anchor } else { Anchor::Anywhere };
    (lit.chars().count() >= MIN_LITERAL).then_some((lit, anchor))
}

/// The longest run of escaped literal text in a glob regex built by `StrMatch::from_parts`.
fn longest_glob_literal(re: &str) -> Option<String> {
    let body = re.trim_start_matches("(?si)^").trim_start_matches("(?s)^").trim_end_matches('$');
    let mut best = String::new();
    let mut cur = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '.' => {
                if cur.len() > best.len() {
                    best = std::mem::take(&mut cur);
                } else {
                    cur.clear();
                }
                // `.*` or `.`: skip a following `*`.
                let rest = chars.as_str();
                if rest.starts_with('*') {
                    chars.next();
                }
            }
            c => cur.push(c),
        }
    }
    if cur.len() > best.len() {
        best = cur;
    }
    (!best.is_empty()).then_some(best)
}

fn test_needs(t: &FieldTest) -> Needs {
    // Keywords are looked for in the text of all values at once: anywhere.
    let (field, keyword) = match &t.field {
        Some(f) => (f.clone(), false),
        None => (ANY_FIELD.to_owned(), true),
    };
    let need = |(literal, anchor): (String, Anchor)| Need { field: field.clone(), literal, anchor: if keyword { Anchor::Anywhere } else { anchor } };
    if t.matchers.is_empty() {
        return None;
    }
    if t.all {
        // Every matcher must hold: one of them is enough as a prerequisite.
        let lit = t.matchers.iter().filter_map(literal_of).max_by_key(|l| l.0.len())?;
        return Some(vec![need(lit)]);
    }
    let mut out = vec![];
    for m in &t.matchers {
        out.push(need(literal_of(m)?));
    }
    Some(out)
}

fn search_needs(s: &Search) -> Needs {
    let mut out = vec![];
    for group in &s.groups {
        // All tests of a group hold: the one with the fewest, longest literals is enough.
        let best = group.iter().filter_map(test_needs).min_by_key(|n| (n.len(), usize::MAX - n.iter().map(|x| x.literal.len()).min().unwrap_or(0)))?;
        out.extend(best);
    }
    Some(out)
}

fn expr_needs(e: &Expr, searches: &[Needs]) -> Needs {
    match e {
        Expr::Search(i) => searches[*i].clone(),
        Expr::Not(_) => None,
        Expr::And(items) => items.iter().filter_map(|i| expr_needs(i, searches)).min_by_key(Vec::len),
        Expr::Or(items) => {
            let mut out = vec![];
            for i in items {
                out.extend(expr_needs(i, searches)?);
            }
            Some(out)
        }
        Expr::AtLeast { min, of } => {
            if *min == 0 {
                return None;
            }
            if *min == of.len() {
                return of.iter().filter_map(|i| searches[*i].clone()).min_by_key(Vec::len);
            }
            let mut out = vec![];
            for i in of {
                out.extend(searches[*i].clone()?);
            }
            Some(out)
        }
    }
}

/// The prerequisites of a rule.
pub fn needs(rule: &Rule) -> Needs {
    let searches: Vec<Needs> = rule.searches.iter().map(search_needs).collect();
    let mut n = expr_needs(&rule.condition, &searches)?;
    n.sort();
    n.dedup();
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::Placeholders;
    use crate::rule::parse_documents;

    fn rule(det: &str) -> Rule {
        let src = format!("title: t\ndetection:\n{det}");
        parse_documents(&src, &Placeholders::new()).unwrap().remove(0).rule.unwrap()
    }

    #[test]
    fn required_literals() {
        let r = rule("  sel:\n    Image|endswith: '\\whoami.exe'\n    CommandLine|contains: x\n  filter:\n    User: bob\n  condition: sel and not filter\n");
        assert_eq!(needs(&r), Some(vec![Need { field: "Image".into(), literal: "\\whoami.exe".into(), anchor: Anchor::End }]));
        let r = rule("  a:\n    Image|endswith: ['\\a.exe', '\\bb.exe']\n  b:\n    Query|re: 'x+'\n  condition: a or b\n");
        assert_eq!(needs(&r), None, "one branch has no literal");
        let r = rule("  sel_a:\n    Image|endswith: '\\a.exe'\n  sel_b:\n    Image|endswith: '\\bb.exe'\n  condition: 1 of sel_*\n");
        assert_eq!(needs(&r).unwrap().len(), 2);
        let r = rule("  sel:\n    Image: '*\\tools*\\run?.exe'\n  condition: sel\n");
        assert_eq!(needs(&r).unwrap()[0].literal, "\\tools");
        let r = rule("  keywords:\n    - 'Mimikatz'\n    - 'sekurlsa::'\n  condition: keywords\n");
        let any = |l: &str| Need { field: ANY_FIELD.into(), literal: l.into(), anchor: Anchor::Anywhere };
        assert_eq!(needs(&r), Some(vec![any("mimikatz"), any("sekurlsa::")]));
        let anchor = |det: &str| needs(&rule(det)).unwrap()[0].anchor;
        assert_eq!(anchor("  sel:\n    User: 'Bob'\n  condition: sel\n"), Anchor::Whole);
        assert_eq!(anchor("  sel:\n    Path|startswith: 'C:\\Temp'\n  condition: sel\n"), Anchor::Start);
        assert_eq!(anchor("  sel:\n    Name|endswith: 'Äb.exe'\n  condition: sel\n"), Anchor::Anywhere, "beyond ASCII");
    }
}
