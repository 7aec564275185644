//! Sigma conditions: `and`, `or`, `not`, parentheses, `1 of`/`all of`/`N of` a name
//! pattern or `them`, over the rule's named searches.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// A search by its index in the rule.
    Search(usize),
    /// At least `min` of these searches (`all of` sets `min` to their number).
    AtLeast {
        min: usize,
        of: Vec<usize>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Open,
    Close,
    Pipe,
}

fn tokens(s: &str) -> Vec<Tok> {
    let mut out = vec![];
    let mut word = String::new();
    for c in s.chars() {
        match c {
            '(' | ')' | '|' => {
                if !word.is_empty() {
                    out.push(Tok::Word(std::mem::take(&mut word)));
                }
                out.push(match c {
                    '(' => Tok::Open,
                    ')' => Tok::Close,
                    _ => Tok::Pipe,
                });
            }
            c if c.is_whitespace() => {
                if !word.is_empty() {
                    out.push(Tok::Word(std::mem::take(&mut word)));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(Tok::Word(word));
    }
    out
}

struct Parser<'a> {
    toks: Vec<Tok>,
    at: usize,
    names: &'a [String],
}

fn is(t: Option<&Tok>, kw: &str) -> bool {
    matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
}

fn glob_match(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            if !name.starts_with(head) {
                return false;
            }
            let rest = &name[head.len()..];
            if tail.is_empty() {
                return true;
            }
            (0..=rest.len()).filter(|i| rest.is_char_boundary(*i)).any(|i| glob_match(tail, &rest[i..]))
        }
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.and()?];
        while is(self.peek(), "or") {
            self.at += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Expr::Or(items) })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.not()?];
        while is(self.peek(), "and") {
            self.at += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Expr::And(items) })
    }

    fn not(&mut self) -> Result<Expr, String> {
        if is(self.peek(), "not") {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn resolve(&self, pattern: &str) -> Result<Vec<usize>, String> {
        let found: Vec<usize> = if pattern.eq_ignore_ascii_case("them") {
            self.names.iter().enumerate().filter(|(_, n)| !n.starts_with('_')).map(|(i, _)| i).collect()
        } else {
            self.names.iter().enumerate().filter(|(_, n)| glob_match(pattern, n)).map(|(i, _)| i).collect()
        };
        if found.is_empty() {
            return Err(format!("`{pattern}` names no search of this rule"));
        }
        Ok(found)
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::Open) => {
                let e = self.or()?;
                match self.next() {
                    Some(Tok::Close) => Ok(e),
                    _ => Err("a `(` is not closed".into()),
                }
            }
            Some(Tok::Word(w)) if is(self.peek(), "of") => {
                self.at += 1;
                let Some(Tok::Word(pattern)) = self.next() else {
                    return Err(format!("`{w} of` needs a name pattern or `them`"));
                };
                let of = self.resolve(&pattern)?;
                let min = if w.eq_ignore_ascii_case("all") {
                    of.len()
                } else if w.eq_ignore_ascii_case("any") {
                    1
                } else {
                    w.parse::<usize>().map_err(|_| format!("`{w} of`: expected 1, a number or all"))?
                };
                Ok(Expr::AtLeast { min, of })
            }
            Some(Tok::Word(w)) => {
                if ["and", "or", "not", "of"].iter().any(|k| w.eq_ignore_ascii_case(k)) {
                    return Err(format!("unexpected `{w}`"));
                }
                match self.names.iter().position(|n| *n == w) {
                    Some(i) => Ok(Expr::Search(i)),
                    None => Err(format!("`{w}` is not a search of this rule")),
                }
            }
            Some(Tok::Close) => Err("unexpected `)`".into()),
            Some(Tok::Pipe) => Err("aggregations after `|` are deprecated in Sigma; use a correlation rule".into()),
            None => Err("the condition ends too early".into()),
        }
    }
}

/// Parses a condition over the named searches.
pub fn parse(condition: &str, names: &[String]) -> Result<Expr, String> {
    let toks = tokens(condition);
    if toks.contains(&Tok::Pipe) {
        return Err("aggregations after `|` are deprecated in Sigma; use a correlation rule".into());
    }
    let mut p = Parser { toks, at: 0, names };
    let e = p.or()?;
    if p.at < p.toks.len() {
        return Err(format!("unexpected {:?} after the condition", p.toks[p.at]));
    }
    Ok(e)
}

impl Expr {
    /// Evaluates with `search(i)` answering whether search `i` matched.
    pub fn eval(&self, search: &mut impl FnMut(usize) -> bool) -> bool {
        match self {
            Expr::And(items) => items.iter().all(|e| e.eval(search)),
            Expr::Or(items) => items.iter().any(|e| e.eval(search)),
            Expr::Not(e) => !e.eval(search),
            Expr::Search(i) => search(*i),
            Expr::AtLeast { min, of } => {
                let mut n = 0;
                for i in of {
                    if search(*i) {
                        n += 1;
                        if n >= *min {
                            return true;
                        }
                    }
                }
                *min == 0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names() -> Vec<String> {
        ["selection", "selection_img", "selection_cli", "filter_main", "_private"].iter().map(|s| s.to_string()).collect()
    }

    fn ev(c: &str, hits: &[usize]) -> bool {
        parse(c, &names()).unwrap().eval(&mut |i| hits.contains(&i))
    }

    #[test]
    fn precedence_and_grouping() {
        assert!(ev("selection and not filter_main", &[0]));
        assert!(!ev("selection and not filter_main", &[0, 3]));
        assert!(ev("selection or selection_img and selection_cli", &[0]));
        assert!(!ev("(selection or selection_img) and selection_cli", &[0]));
        assert!(ev("not not selection", &[0]));
        assert!(ev("selection AND NOT filter_main", &[0]), "keywords in any case");
    }

    #[test]
    fn quantifiers() {
        assert!(ev("1 of selection_*", &[2]));
        assert!(!ev("all of selection_*", &[2]));
        assert!(ev("all of selection_*", &[1, 2]));
        assert!(ev("all of them", &[0, 1, 2, 3]), "`them` leaves out names starting with _");
        assert!(ev("1 of selection* and not 1 of filter*", &[0]));
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(parse("selection and", &names()).unwrap_err().contains("ends too early"));
        assert!(parse("nothing", &names()).unwrap_err().contains("nothing"));
        assert!(parse("1 of nope_*", &names()).unwrap_err().contains("nope_*"));
        assert!(parse("selection | count() > 5", &names()).unwrap_err().contains("correlation"));
        assert!(parse("(selection", &names()).unwrap_err().contains("not closed"));
    }

    proptest! {
        #[test]
        fn never_panics(s in "[a-z_ ()|*0-9]{0,60}") {
            let _ = parse(&s, &names());
        }
    }
}
