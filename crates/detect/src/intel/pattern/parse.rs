//! Reading STIX 2.1 patterns: the tokens, then a recursive-descent parser with the standard's precedence, every error naming its position.

use super::*;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    LParen,
    RParen,
    Comma,
    Colon,
    Dot,
    Op(&'static str),
    Word(String),
    Int(i64),
    Float(f64),
    Str(String),
    /// `t'…'`, `h'…'`, `b'…'`
    Typed(char, String),
}

fn tokenize(text: &str) -> Result<Vec<(usize, Tok)>, PatternError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = vec![];
    let mut i = 0;
    let err = |at: usize, reason: &str| PatternError { at: at + 1, reason: reason.into() };
    let read_str = |start: usize| -> Result<(String, usize), PatternError> {
        // `start` is at the opening quote.
        let mut s = String::new();
        let mut j = start + 1;
        loop {
            match chars.get(j) {
                None => return Err(err(start, "a string is not closed with '")),
                Some('\\') => match chars.get(j + 1) {
                    Some(c @ ('\\' | '\'')) => {
                        s.push(*c);
                        j += 2;
                    }
                    _ => return Err(err(j, "only \\' and \\\\ may be escaped in a string")),
                },
                Some('\'') => return Ok((s, j + 1)),
                Some(c) => {
                    s.push(*c);
                    j += 1;
                }
            }
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '[' => out.push((start, Tok::Open)),
            ']' => out.push((start, Tok::Close)),
            '(' => out.push((start, Tok::LParen)),
            ')' => out.push((start, Tok::RParen)),
            ',' => out.push((start, Tok::Comma)),
            ':' => out.push((start, Tok::Colon)),
            '.' => out.push((start, Tok::Dot)),
            '*' => out.push((start, Tok::Word("*".into()))),
            '=' => out.push((start, Tok::Op("="))),
            '!' if chars.get(i + 1) == Some(&'=') => {
                out.push((start, Tok::Op("!=")));
                i += 1;
            }
            '<' | '>' => {
                if chars.get(i + 1) == Some(&'=') {
                    out.push((start, Tok::Op(if c == '<' { "<=" } else { ">=" })));
                    i += 1;
                } else {
                    out.push((start, Tok::Op(if c == '<' { "<" } else { ">" })));
                }
            }
            '\'' => {
                let (s, next) = read_str(i)?;
                out.push((start, Tok::Str(s)));
                i = next;
                continue;
            }
            't' | 'h' | 'b' if chars.get(i + 1) == Some(&'\'') => {
                let (s, next) = read_str(i + 1)?;
                out.push((start, Tok::Typed(c, s)));
                i = next;
                continue;
            }
            c if c.is_ascii_digit() || c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) => {
                let mut j = i + 1;
                while chars.get(j).is_some_and(|d| d.is_ascii_digit()) {
                    j += 1;
                }
                let mut is_float = false;
                if chars.get(j) == Some(&'.') && chars.get(j + 1).is_some_and(|d| d.is_ascii_digit()) {
                    is_float = true;
                    j += 1;
                    while chars.get(j).is_some_and(|d| d.is_ascii_digit()) {
                        j += 1;
                    }
                }
                if matches!(chars.get(j), Some('e' | 'E')) {
                    let mut k = j + 1;
                    if matches!(chars.get(k), Some('+' | '-')) {
                        k += 1;
                    }
                    if chars.get(k).is_some_and(|d| d.is_ascii_digit()) {
                        is_float = true;
                        j = k;
                        while chars.get(j).is_some_and(|d| d.is_ascii_digit()) {
                            j += 1;
                        }
                    }
                }
                let s: String = chars[i..j].iter().collect();
                // A digit run followed by letters is a word (an object type such as `x509-certificate` starts with a letter, but property names may hold digits).
                if chars.get(j).is_some_and(|d| d.is_ascii_alphabetic() || *d == '_') {
                    let mut k = j;
                    while chars.get(k).is_some_and(|d| d.is_ascii_alphanumeric() || *d == '_' || *d == '-') {
                        k += 1;
                    }
                    out.push((start, Tok::Word(chars[i..k].iter().collect())));
                    i = k;
                    continue;
                }
                let tok = if is_float {
                    match s.parse::<f64>() {
                        Ok(x) if x.is_finite() => Tok::Float(x),
                        _ => return Err(err(start, "a number out of range")),
                    }
                } else {
                    Tok::Int(s.parse().map_err(|_| err(start, "an integer out of range"))?)
                };
                out.push((start, tok));
                i = j;
                continue;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut j = i + 1;
                while chars.get(j).is_some_and(|d| d.is_ascii_alphanumeric() || *d == '_' || *d == '-') {
                    j += 1;
                }
                out.push((start, Tok::Word(chars[i..j].iter().collect())));
                i = j;
                continue;
            }
            other => return Err(err(start, &format!("unexpected character {other:?}"))),
        }
        i += 1;
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
    depth: usize,
}

/// Deepest nesting of parentheses and brackets accepted.
const MAX_DEPTH: usize = 64;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map(|(a, _)| *a).unwrap_or(self.end) + 1
    }

    fn fail<T>(&self, reason: impl Into<String>) -> Result<T, PatternError> {
        Err(PatternError { at: self.at(), reason: reason.into() })
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    fn eat_keyword(&mut self, k: &str) -> bool {
        if self.keyword(k) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: Tok, what: &str) -> Result<(), PatternError> {
        if self.peek() == Some(&t) {
            self.pos += 1;
            Ok(())
        } else {
            self.fail(format!("expected {what}"))
        }
    }

    fn nest(&mut self) -> Result<(), PatternError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH { self.fail("the pattern is nested too deeply") } else { Ok(()) }
    }

    fn followed_by(&mut self) -> Result<Pattern, PatternError> {
        let mut left = self.or()?;
        while self.eat_keyword("FOLLOWEDBY") {
            left = Pattern::FollowedBy(Box::new(left), Box::new(self.or()?));
        }
        Ok(left)
    }

    fn or(&mut self) -> Result<Pattern, PatternError> {
        let mut left = self.and()?;
        while self.eat_keyword("OR") {
            left = Pattern::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Pattern, PatternError> {
        let mut left = self.qualified()?;
        while self.eat_keyword("AND") {
            left = Pattern::And(Box::new(left), Box::new(self.qualified()?));
        }
        Ok(left)
    }

    fn qualified(&mut self) -> Result<Pattern, PatternError> {
        self.nest()?;
        let mut p = match self.peek() {
            Some(Tok::Open) => {
                self.pos += 1;
                let c = self.comparison_or()?;
                self.expect(Tok::Close, "] to close the observation")?;
                Pattern::Observation(c)
            }
            Some(Tok::LParen) => {
                self.pos += 1;
                let p = self.followed_by()?;
                self.expect(Tok::RParen, ")")?;
                p
            }
            _ => return self.fail("expected [ to start an observation"),
        };
        loop {
            if self.eat_keyword("WITHIN") {
                let n = match self.peek() {
                    Some(Tok::Int(n)) if *n > 0 => *n as f64,
                    Some(Tok::Float(x)) if *x > 0.0 => *x,
                    _ => return self.fail("WITHIN takes a positive number of seconds"),
                };
                self.pos += 1;
                if !self.eat_keyword("SECONDS") {
                    return self.fail("expected SECONDS");
                }
                p = Pattern::Qualified(Box::new(p), Qualifier::Within(n));
            } else if self.eat_keyword("REPEATS") {
                let n = match self.peek() {
                    Some(Tok::Int(n)) if *n > 0 => *n as u64,
                    _ => return self.fail("REPEATS takes a positive whole number"),
                };
                self.pos += 1;
                if !self.eat_keyword("TIMES") {
                    return self.fail("expected TIMES");
                }
                p = Pattern::Qualified(Box::new(p), Qualifier::Repeats(n));
            } else if self.eat_keyword("START") {
                let a = self.timestamp()?;
                if !self.eat_keyword("STOP") {
                    return self.fail("expected STOP");
                }
                let b = self.timestamp()?;
                p = Pattern::Qualified(Box::new(p), Qualifier::StartStop(a, b));
            } else {
                break;
            }
        }
        self.depth -= 1;
        Ok(p)
    }

    fn timestamp(&mut self) -> Result<String, PatternError> {
        match self.peek() {
            Some(Tok::Typed('t', s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => self.fail("expected a timestamp t'…'"),
        }
    }

    fn comparison_or(&mut self) -> Result<Comparison, PatternError> {
        let mut left = self.comparison_and()?;
        while self.eat_keyword("OR") {
            left = Comparison::Or(Box::new(left), Box::new(self.comparison_and()?));
        }
        Ok(left)
    }

    fn comparison_and(&mut self) -> Result<Comparison, PatternError> {
        let mut left = self.test()?;
        while self.eat_keyword("AND") {
            left = Comparison::And(Box::new(left), Box::new(self.test()?));
        }
        Ok(left)
    }

    fn test(&mut self) -> Result<Comparison, PatternError> {
        self.nest()?;
        let out = if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let c = self.comparison_or()?;
            self.expect(Tok::RParen, ")")?;
            c
        } else {
            let negated_exists = self.keyword("NOT") && matches!(self.toks.get(self.pos + 1), Some((_, Tok::Word(w))) if w.eq_ignore_ascii_case("EXISTS"));
            if negated_exists {
                self.pos += 1;
            }
            if self.eat_keyword("EXISTS") {
                Comparison::Exists { path: self.path()?, negated: negated_exists }
            } else {
                let path = self.path()?;
                let negated = self.eat_keyword("NOT");
                let op = match self.peek() {
                    Some(Tok::Op(o)) => {
                        let o = Op::ALL.into_iter().find(|x| x.text() == *o).unwrap_or(Op::Eq);
                        self.pos += 1;
                        o
                    }
                    Some(Tok::Word(w)) => {
                        match Op::ALL.into_iter().find(|x| x.text().eq_ignore_ascii_case(w) && x.text().chars().all(|c| c.is_ascii_alphabetic())) {
                            Some(o) => {
                                self.pos += 1;
                                o
                            }
                            None => return self.fail(format!("{w:?} is not a comparison operator")),
                        }
                    }
                    _ => return self.fail("expected a comparison operator (=, !=, <, >, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET)"),
                };
                let value = if op == Op::In { self.list()? } else { self.constant()? };
                if op == Op::In && !matches!(value, Constant::List(_)) {
                    return self.fail("IN takes a list in parentheses");
                }
                Comparison::Test { path, negated, op, value }
            }
        };
        self.depth -= 1;
        Ok(out)
    }

    fn list(&mut self) -> Result<Constant, PatternError> {
        self.expect(Tok::LParen, "( to start the list")?;
        let mut items = vec![self.constant()?];
        while self.peek() == Some(&Tok::Comma) {
            self.pos += 1;
            items.push(self.constant()?);
        }
        self.expect(Tok::RParen, ") to close the list")?;
        Ok(Constant::List(items))
    }

    fn constant(&mut self) -> Result<Constant, PatternError> {
        let c = match self.peek() {
            Some(Tok::Str(s)) => Constant::Str(s.clone()),
            Some(Tok::Int(i)) => Constant::Int(*i),
            Some(Tok::Float(x)) => Constant::Float(*x),
            Some(Tok::Typed('t', s)) => Constant::Timestamp(s.clone()),
            Some(Tok::Typed('h', s)) => {
                if s.len() % 2 != 0 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return self.fail("a hex constant takes pairs of hexadecimal digits");
                }
                Constant::Hex(s.clone())
            }
            Some(Tok::Typed(_, s)) => {
                if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=') {
                    return self.fail("a binary constant is base64");
                }
                Constant::Binary(s.clone())
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => Constant::Bool(true),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => Constant::Bool(false),
            _ => return self.fail("expected a value ('text', a number, true/false, t'…', h'…', b'…')"),
        };
        self.pos += 1;
        Ok(c)
    }

    fn path(&mut self) -> Result<Path, PatternError> {
        let object = match self.peek() {
            Some(Tok::Word(w)) if w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') && !is_keyword(w) => w.clone(),
            _ => return self.fail("expected an object path such as ipv4-addr:value"),
        };
        self.pos += 1;
        self.expect(Tok::Colon, ": after the object type")?;
        let mut steps = vec![self.property()?];
        loop {
            match self.peek() {
                Some(Tok::Dot) => {
                    self.pos += 1;
                    steps.push(self.property()?);
                }
                Some(Tok::Open) => {
                    self.pos += 1;
                    let step = match self.peek() {
                        Some(Tok::Int(n)) if *n >= 0 => Step::Index(Some(*n as u64)),
                        Some(Tok::Word(w)) if w == "*" => Step::Index(None),
                        _ if self.toks.get(self.pos).is_none() => return self.fail("the pattern ends inside a list index"),
                        _ => return self.fail("a list index is a whole number or *"),
                    };
                    self.pos += 1;
                    self.expect(Tok::Close, "] after the list index")?;
                    steps.push(step);
                }
                _ => break,
            }
        }
        Ok(Path { object, steps })
    }

    fn property(&mut self) -> Result<Step, PatternError> {
        let s = match self.peek() {
            Some(Tok::Word(w)) => w.clone(),
            Some(Tok::Str(s)) => s.clone(),
            _ => return self.fail("expected a property name"),
        };
        self.pos += 1;
        Ok(Step::Property(s))
    }
}

/// Reads a STIX 2.1 pattern.
pub fn parse(text: &str) -> Result<Pattern, PatternError> {
    if text.len() > 64 * 1024 {
        return Err(PatternError { at: 1, reason: "the pattern is longer than 64 KiB".into() });
    }
    let toks = tokenize(text)?;
    let mut p = Parser { toks, pos: 0, end: text.chars().count(), depth: 0 };
    if p.toks.is_empty() {
        return p.fail("the pattern is empty");
    }
    let out = p.followed_by()?;
    if p.pos < p.toks.len() {
        return p.fail("unexpected text after the pattern");
    }
    Ok(out)
}
