//! Threat intelligence: indicators of compromise (addresses and networks, domains, URLs,
//! file hashes, e-mail addresses) read from STIX 2.1 bundles, MISP exports and free text,
//! and the set every event is checked against.
//!
//! Matching looks at the lower-case text of every value of an event, whole and split into
//! tokens, so an indicator is found wherever a log shipper put it: `destination.ip`, a
//! Sysmon `Hashes` list, a proxy URL or a command line.

pub mod feed;
pub mod pattern;

use crate::Event;
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

type Hasher = foldhash::fast::RandomState;

/// Networks by prefix length, longest first: the network address → indicator numbers.
type Nets<K> = Vec<(u8, HashMap<K, Vec<u32>, Hasher>)>;

fn add_net<K: std::hash::Hash + Eq>(nets: &mut Nets<K>, prefix: u8, network: K, id: u32) {
    let slot = match nets.iter().position(|(q, _)| *q == prefix) {
        Some(i) => i,
        None => {
            nets.push((prefix, HashMap::default()));
            nets.sort_by_key(|n| std::cmp::Reverse(n.0));
            nets.iter().position(|(q, _)| *q == prefix).unwrap_or(0)
        }
    };
    nets[slot].1.entry(network).or_default().push(id);
}

/// What an indicator's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Ipv4,
    Ipv6,
    Domain,
    Url,
    Md5,
    Sha1,
    Sha256,
    Email,
}

impl Kind {
    pub const ALL: [Kind; 8] = [Kind::Ipv4, Kind::Ipv6, Kind::Domain, Kind::Url, Kind::Md5, Kind::Sha1, Kind::Sha256, Kind::Email];

    pub fn code(self) -> &'static str {
        match self {
            Kind::Ipv4 => "ipv4",
            Kind::Ipv6 => "ipv6",
            Kind::Domain => "domain",
            Kind::Url => "url",
            Kind::Md5 => "md5",
            Kind::Sha1 => "sha1",
            Kind::Sha256 => "sha256",
            Kind::Email => "email",
        }
    }

    pub fn parse(code: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// The Traffic Light Protocol: how far an indicator, and what is learnt from it, may be
/// shared. Ordered from the widest to the narrowest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tlp {
    Clear,
    Green,
    Amber,
    AmberStrict,
    Red,
}

impl Tlp {
    pub const ALL: [Tlp; 5] = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red];

    pub fn code(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }

    /// From a code or a label as feeds write it: `amber`, `TLP:AMBER`, `tlp:white` (the
    /// first version's name for clear).
    pub fn parse(text: &str) -> Option<Tlp> {
        let t = text.trim().to_ascii_lowercase();
        let t = t.strip_prefix("tlp:").unwrap_or(&t).trim();
        match t {
            "white" | "clear" => Some(Tlp::Clear),
            "green" => Some(Tlp::Green),
            "amber" => Some(Tlp::Amber),
            "amber+strict" | "amber strict" => Some(Tlp::AmberStrict),
            "red" => Some(Tlp::Red),
            _ => None,
        }
    }

    /// The STIX 2.1 marking definition of the first TLP version, which every STIX reader
    /// knows by its identifier. Amber+strict has none there; it is marked amber and
    /// `None` is never shared.
    pub fn stix_marking(self) -> Option<&'static str> {
        match self {
            Tlp::Clear => Some("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),
            Tlp::Green => Some("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"),
            Tlp::Amber | Tlp::AmberStrict => Some("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"),
            Tlp::Red => Some("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"),
        }
    }

    /// The TLP of a STIX marking definition identifier of the first TLP version.
    pub fn from_stix_marking(id: &str) -> Option<Tlp> {
        [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::Red].into_iter().find(|t| t.stix_marking() == Some(id))
    }
}

/// Undoes the usual defanging of shared indicators: `hxxp://`, `example[.]com`,
/// `user[@]example.com`, `1.2.3[.]4`.
pub fn refang(text: &str) -> String {
    let mut t = text
        .trim()
        .replace("[.]", ".")
        .replace("(.)", ".")
        .replace("{.}", ".")
        .replace("[dot]", ".")
        .replace("[@]", "@")
        .replace("[at]", "@")
        .replace("[:]", ":")
        .replace("[://]", "://");
    for (from, to) in [("hxxps://", "https://"), ("hxxp://", "http://"), ("hXXps://", "https://"), ("hXXp://", "http://"), ("fxp://", "ftp://")] {
        if let Some(rest) = t.strip_prefix(from) {
            t = format!("{to}{rest}");
        }
    }
    t
}

fn is_hex(t: &str) -> bool {
    t.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_domain(t: &str) -> bool {
    if t.len() > 253 || !t.contains('.') || t.starts_with('.') || t.ends_with('.') || t.contains("..") {
        return false;
    }
    let tld = t.rsplit('.').next().unwrap_or("");
    if tld.is_empty() || tld.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    t.split('.').all(|l| {
        !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-') && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// An address or network in canonical form: the address, or `network/prefix` with the
/// host bits cleared (`/32` and `/128` are written as the bare address).
fn normalize_ip(text: &str) -> Option<(Kind, String)> {
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
        None => (text, None),
    };
    if let Ok(v4) = addr.parse::<Ipv4Addr>() {
        let p = prefix.unwrap_or(32);
        if p > 32 {
            return None;
        }
        let net = Ipv4Addr::from(u32::from(v4) & mask32(p));
        return Some((Kind::Ipv4, if p == 32 { net.to_string() } else { format!("{net}/{p}") }));
    }
    if let Ok(v6) = addr.parse::<Ipv6Addr>() {
        let p = prefix.unwrap_or(128);
        if p > 128 {
            return None;
        }
        let net = Ipv6Addr::from(u128::from(v6) & mask128(p));
        return Some((Kind::Ipv6, if p == 128 { net.to_string() } else { format!("{net}/{p}") }));
    }
    None
}

fn mask32(p: u8) -> u32 {
    if p == 0 { 0 } else { u32::MAX << (32 - p as u32) }
}

fn mask128(p: u8) -> u128 {
    if p == 0 { 0 } else { u128::MAX << (128 - p as u32) }
}

/// The canonical value of an indicator of `kind`, or why `text` is not one.
pub fn normalize(kind: Kind, text: &str) -> Result<String, String> {
    let t = refang(text).to_lowercase();
    let t = t.trim();
    if t.is_empty() {
        return Err("the value is empty".into());
    }
    let hash = |len: usize, name: &str| {
        if t.len() == len && is_hex(t) { Ok(t.to_string()) } else { Err(format!("{t:?} is not an {name} hash ({len} hexadecimal digits)")) }
    };
    match kind {
        Kind::Ipv4 | Kind::Ipv6 => match normalize_ip(t) {
            Some((k, v)) if k == kind => Ok(v),
            _ => Err(format!("{t:?} is not an {} address or network", if kind == Kind::Ipv4 { "IPv4" } else { "IPv6" })),
        },
        Kind::Domain => {
            let d = t.trim_end_matches('.');
            if is_domain(d) { Ok(d.to_string()) } else { Err(format!("{t:?} is not a domain name")) }
        }
        Kind::Url => match url_host(t) {
            Some(_) => Ok(trim_url(t).to_string()),
            None => Err(format!("{t:?} is not a URL with a scheme and a host")),
        },
        Kind::Md5 => hash(32, "MD5"),
        Kind::Sha1 => hash(40, "SHA-1"),
        Kind::Sha256 => hash(64, "SHA-256"),
        Kind::Email => match t.split_once('@') {
            Some((local, dom)) if !local.is_empty() && !local.contains(char::is_whitespace) && is_domain(dom) => Ok(t.to_string()),
            _ => Err(format!("{t:?} is not an e-mail address")),
        },
    }
}

/// What kind of indicator `text` looks like, with its canonical value (free-text feeds).
pub fn classify(text: &str) -> Option<(Kind, String)> {
    let t = refang(text).to_lowercase();
    let t = t.trim().trim_matches(|c: char| matches!(c, '"' | '\'' | ',' | ';' | '<' | '>' | '(' | ')'));
    if t.is_empty() {
        return None;
    }
    if let Some(ip) = normalize_ip(t) {
        return Some(ip);
    }
    if is_hex(t) {
        let kind = match t.len() {
            32 => Kind::Md5,
            40 => Kind::Sha1,
            64 => Kind::Sha256,
            _ => return None,
        };
        return Some((kind, t.to_string()));
    }
    if t.contains("://") {
        return normalize(Kind::Url, t).ok().map(|v| (Kind::Url, v));
    }
    if t.contains('@') {
        return normalize(Kind::Email, t).ok().map(|v| (Kind::Email, v));
    }
    normalize(Kind::Domain, t).ok().map(|v| (Kind::Domain, v))
}

/// A URL without the slash that ends an empty path (`http://a.example/` is `http://a.example`).
fn trim_url(u: &str) -> &str {
    match url_host_span(u) {
        Some((_, end)) if &u[end..] == "/" => &u[..end],
        _ => u,
    }
}

/// The host of a URL (`scheme://[user@]host[:port]/…`), lower case as given.
fn url_host(u: &str) -> Option<&str> {
    url_host_span(u).map(|(s, e)| &u[s..e])
}

fn url_host_span(u: &str) -> Option<(usize, usize)> {
    let scheme_end = u.find("://")?;
    let scheme = &u[..scheme_end];
    if scheme.is_empty() || !scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.') {
        return None;
    }
    let start = scheme_end + 3;
    let rest = &u[start..];
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let auth = &rest[..auth_end];
    let host_start = auth.rfind('@').map(|i| i + 1).unwrap_or(0);
    let host = &auth[host_start..];
    let host_len = if host.starts_with('[') { host.find(']').map(|i| i + 1)? } else { host.find(':').unwrap_or(host.len()) };
    if host_len == 0 {
        return None;
    }
    Some((start + host_start, start + host_start + host_len))
}

/// All valid indicators, ready to check events against. Each indicator carries the
/// caller's number for it; a match answers those numbers.
#[derive(Debug, Default)]
pub struct IndicatorSet {
    /// Exact values: single addresses, domains, URLs, hashes, e-mail addresses.
    exact: HashMap<Box<str>, Vec<u32>, Hasher>,
    /// Networks by prefix length, longest first.
    v4: Nets<u32>,
    v6: Nets<u128>,
    /// Which kinds the set holds (bit per `Kind`): tokens that could only be another kind
    /// are not looked up at all.
    kinds: u16,
    len: usize,
}

// What a byte is, for splitting values into tokens and telling a token's shape in the
// same pass: a separator ends a token (all separators are ASCII, so a token is always a
// whole UTF-8 string); a token is a hash candidate if all its bytes are hex digits, a
// host if all are host characters.
const SEP: u8 = 1;
const HEX: u8 = 2;
const HOST: u8 = 4;
const DOT: u8 = 8;
const COLON: u8 = 16;
const AT: u8 = 32;

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let seps = b" \t\n\r,;=\"'()<>|[]{}\\`";
    let mut i = 0;
    while i < seps.len() {
        t[seps[i] as usize] = SEP;
        i += 1;
    }
    let mut c = b'0';
    while c <= b'9' {
        t[c as usize] = HEX | HOST;
        c += 1;
    }
    c = b'a';
    while c <= b'z' {
        t[c as usize] = if c <= b'f' { HEX | HOST } else { HOST };
        c += 1;
    }
    t[b'-' as usize] = HOST;
    t[b'_' as usize] = HOST;
    t[b'.' as usize] = HOST | DOT;
    t[b':' as usize] = COLON;
    t[b'@' as usize] = AT;
    t
}

static CLASS: [u8; 256] = classes();

fn bit(k: Kind) -> u16 {
    1 << (k as u16)
}

/// Longest value looked at as a whole, and longest token.
const MAX_VALUE: usize = 8192;

impl IndicatorSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of indicators added.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds an indicator in canonical form (see [`normalize`]). A value that is not
    /// canonical for its kind is refused with the reason.
    pub fn insert(&mut self, kind: Kind, value: &str, id: u32) -> Result<(), String> {
        let canonical = normalize(kind, value)?;
        self.len += 1;
        self.kinds |= bit(kind);
        match kind {
            Kind::Ipv4 if canonical.contains('/') => {
                let (a, p) = canonical.split_once('/').unwrap_or_default();
                let (a, p): (Ipv4Addr, u8) = (a.parse().map_err(|_| "bad network")?, p.parse().map_err(|_| "bad prefix")?);
                add_net(&mut self.v4, p, u32::from(a), id);
            }
            Kind::Ipv6 if canonical.contains('/') => {
                let (a, p) = canonical.split_once('/').unwrap_or_default();
                let (a, p): (Ipv6Addr, u8) = (a.parse().map_err(|_| "bad network")?, p.parse().map_err(|_| "bad prefix")?);
                add_net(&mut self.v6, p, u128::from(a), id);
            }
            _ => {
                self.exact.entry(canonical.into_boxed_str()).or_default().push(id);
            }
        }
        Ok(())
    }

    /// Numbers of the indicators found in the event, each once, in no set order.
    pub fn match_event(&self, e: &Event, out: &mut Vec<u32>) {
        out.clear();
        if self.is_empty() {
            return;
        }
        for (_, lower) in e.values_with_lower() {
            if let Some(t) = lower {
                self.match_text(t, out);
            }
        }
        out.sort_unstable();
        out.dedup();
    }

    /// Adds the numbers of indicators found in one lower-case value to `out` (an indicator
    /// may be added twice). The value is split into tokens at spaces, quotes, brackets and
    /// `,;=|\\`; each token is looked up only as what its shape allows (a hash is hex of
    /// the right length, a host has only host characters, and so on). A whole value that
    /// is a URL is looked up before splitting, since its query holds `=`.
    pub fn match_text(&self, lower: &str, out: &mut Vec<u32>) {
        let t = lower.trim();
        if t.len() < 3 || t.len() > MAX_VALUE {
            return;
        }
        let b = t.as_bytes();
        let (mut start, mut all, mut any, mut split) = (0, HEX | HOST, 0u8, false);
        for (i, &c) in b.iter().enumerate() {
            let k = CLASS[c as usize];
            if k & SEP != 0 {
                if i - start >= 3 {
                    self.token(&t[start..i], all, any, out);
                }
                (start, all, any, split) = (i + 1, HEX | HOST, 0, true);
            } else {
                all &= k;
                any |= k;
            }
        }
        if b.len() - start >= 3 {
            self.token(&t[start..], all, any, out);
        }
        if split && self.kinds & bit(Kind::Url) != 0 && !b.iter().any(|c| c.is_ascii_whitespace()) && t.contains("://") {
            self.exact_into(trim_url(t), out);
        }
    }

    fn exact_into(&self, t: &str, out: &mut Vec<u32>) {
        if let Some(ids) = self.exact.get(t) {
            out.extend_from_slice(ids);
        }
    }

    /// Looks one token up as what its shape allows: `all` holds the classes every byte
    /// has, `any` those some byte has.
    fn token(&self, t: &str, all: u8, any: u8, out: &mut Vec<u32>) {
        if all & HEX != 0 && matches!(t.len(), 32 | 40 | 64) {
            if self.kinds & (bit(Kind::Md5) | bit(Kind::Sha1) | bit(Kind::Sha256)) != 0 {
                self.exact_into(t, out);
            }
            return;
        }
        if any & COLON != 0 && t.contains("://") {
            self.url(t, out);
            return;
        }
        if any & AT != 0 {
            if let Some((_, dom)) = t.split_once('@') {
                if self.kinds & bit(Kind::Email) != 0 {
                    self.exact_into(t, out);
                }
                self.domain(dom, true, out);
            }
            return;
        }
        if (t.as_bytes()[0].is_ascii_digit() || any & COLON != 0) && self.ip(t, out) {
            return;
        }
        if all & HOST != 0 && any & DOT != 0 {
            self.domain(t, true, out);
        }
    }

    fn url(&self, t: &str, out: &mut Vec<u32>) {
        let Some(host) = url_host(t) else { return };
        if self.kinds & bit(Kind::Url) != 0 {
            let trimmed = trim_url(t);
            self.exact_into(trimmed, out);
            if trimmed.len() == t.len() && !t.ends_with('/') {
                self.exact_into(&format!("{t}/"), out);
            }
        }
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if !self.ip(host, out) {
            self.domain(host, true, out);
        }
    }

    /// A domain (when `whole`) and its parents: `a.b.example.com` is also checked as
    /// `b.example.com` and `example.com`.
    fn domain(&self, host: &str, whole: bool, out: &mut Vec<u32>) {
        if self.kinds & bit(Kind::Domain) == 0 || !host.contains('.') || host.len() > 253 {
            return;
        }
        let mut rest = host.trim_end_matches('.');
        if whole {
            self.exact_into(rest, out);
        }
        while let Some(i) = rest.find('.') {
            rest = &rest[i + 1..];
            if !rest.contains('.') {
                break;
            }
            self.exact_into(rest, out);
        }
    }

    /// An address (or `address:port`): the address itself and the networks holding it.
    /// Answers whether it was an address.
    fn ip(&self, t: &str, out: &mut Vec<u32>) -> bool {
        let candidate = match t.rsplit_once(':') {
            Some((a, port)) if a.contains('.') && port.bytes().all(|b| b.is_ascii_digit()) => a,
            _ => t,
        };
        if let Ok(a) = candidate.parse::<Ipv4Addr>() {
            if self.kinds & bit(Kind::Ipv4) != 0 {
                self.exact_into(candidate, out);
                let a = u32::from(a);
                for (p, nets) in &self.v4 {
                    if let Some(ids) = nets.get(&(a & mask32(*p))) {
                        out.extend_from_slice(ids);
                    }
                }
            }
            return true;
        }
        if t.contains(':')
            && let Ok(a) = t.parse::<Ipv6Addr>()
        {
            if self.kinds & bit(Kind::Ipv6) != 0 {
                self.exact_into(&a.to_string(), out);
                let a = u128::from(a);
                for (p, nets) in &self.v6 {
                    if let Some(ids) = nets.get(&(a & mask128(*p))) {
                        out.extend_from_slice(ids);
                    }
                }
            }
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests;
