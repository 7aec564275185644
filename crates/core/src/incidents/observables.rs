//! Observables of a case (what threat monitoring can later match): addresses, networks,
//! domains, URLs, file hashes and e-mail addresses, recognised from what the analyst
//! pastes and kept in one normal form so the same indicator is stored once.

use crate::FieldError;
use std::net::IpAddr;

code_enum!(
    /// What an observable is.
    ObservableKind, "kind" {
        Ipv4 => "ipv4",
        Ipv6 => "ipv6",
        Cidr => "cidr",
        Domain => "domain",
        Url => "url",
        Md5 => "md5",
        Sha1 => "sha1",
        Sha256 => "sha256",
        Email => "email",
    }
);

fn is_domain(s: &str) -> bool {
    let s = s.trim_end_matches('.');
    let labels: Vec<&str> = s.split('.').collect();
    labels.len() >= 2
        && s.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-') && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        && labels.last().is_some_and(|tld| tld.bytes().any(|b| b.is_ascii_alphabetic()))
}

/// Undoes the usual defanging (`hxxp://`, `[.]`, `(.)`, `[@]`) that reports use so that
/// indicators cannot be clicked.
pub fn refang(s: &str) -> String {
    let mut v = s.trim().replace("[.]", ".").replace("(.)", ".").replace("[dot]", ".").replace("[@]", "@").replace("[at]", "@").replace("[:]", ":");
    for (from, to) in [("hxxps://", "https://"), ("hxxp://", "http://"), ("fxp://", "ftp://")] {
        if v.to_ascii_lowercase().starts_with(from) {
            v = format!("{to}{}", &v[from.len()..]);
        }
    }
    v
}

/// Recognises an observable, or checks it against the kind given. Returns the kind and
/// the normal form (lower case where case does not matter, networks by their base).
pub fn parse(kind: Option<ObservableKind>, raw: &str) -> Result<(ObservableKind, String), FieldError> {
    let v = refang(raw);
    let err = || {
        FieldError::coded("value", "observable", format!("`{}` is not an IP address, network, domain, URL, hash or e-mail address", raw.trim()))
            .arg("value", raw.trim())
    };
    if v.is_empty() {
        return Err(FieldError::coded("value", "required", "is required"));
    }
    let lower = v.to_ascii_lowercase();
    let found = if let Ok(ip) = v.parse::<IpAddr>() {
        Some(match ip {
            IpAddr::V4(a) => (ObservableKind::Ipv4, a.to_string()),
            IpAddr::V6(a) => (ObservableKind::Ipv6, a.to_string()),
        })
    } else if let Some((addr, bits)) = v.split_once('/').filter(|(a, _)| a.parse::<IpAddr>().is_ok()) {
        let ip: IpAddr = addr.parse().map_err(|_| err())?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let bits: u8 = bits.parse().ok().filter(|b| *b <= max).ok_or_else(err)?;
        let base = match ip {
            IpAddr::V4(a) => IpAddr::V4(std::net::Ipv4Addr::from(u32::from(a) & if bits == 0 { 0 } else { u32::MAX << (32 - bits) })),
            IpAddr::V6(a) => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(a) & if bits == 0 { 0 } else { u128::MAX << (128 - bits) })),
        };
        Some((ObservableKind::Cidr, format!("{base}/{bits}")))
    } else if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("ftp://") {
        let rest = &v[v.find("://").map(|i| i + 3).unwrap_or(0)..];
        let host = rest.split(['/', '?', '#']).next().unwrap_or("").rsplit('@').next().unwrap_or("");
        let host = host.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map(|(h, _)| h).unwrap_or(host);
        let host_ok = is_domain(host) || host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok();
        if !host_ok || v.chars().any(char::is_whitespace) {
            return Err(err());
        }
        // The scheme and host are case-insensitive; the path is kept as given.
        let (scheme, after) = v.split_once("://").unwrap_or(("", &v));
        let (h, path) = after.split_at(after.find(['/', '?', '#']).unwrap_or(after.len()));
        Some((ObservableKind::Url, format!("{}://{}{}", scheme.to_ascii_lowercase(), h.to_ascii_lowercase(), path)))
    } else if let Some((local, domain)) = v.rsplit_once('@') {
        if !local.is_empty() && local.len() <= 64 && !local.chars().any(|c| c.is_whitespace() || c == '@') && is_domain(domain) {
            Some((ObservableKind::Email, format!("{local}@{}", domain.to_ascii_lowercase())))
        } else {
            None
        }
    } else if lower.bytes().all(|b| b.is_ascii_hexdigit()) && matches!(lower.len(), 32 | 40 | 64) {
        Some((
            match lower.len() {
                32 => ObservableKind::Md5,
                40 => ObservableKind::Sha1,
                _ => ObservableKind::Sha256,
            },
            lower.clone(),
        ))
    } else if is_domain(&lower) {
        Some((ObservableKind::Domain, lower.trim_end_matches('.').to_owned()))
    } else {
        None
    };
    let (k, value) = found.ok_or_else(err)?;
    if let Some(want) = kind
        && want != k
    {
        return Err(FieldError::coded("value", "observable-kind", format!("`{}` is a {k}, not a {want}", raw.trim()))
            .arg("value", raw.trim())
            .arg("kind", k.code())
            .arg("expected", want.code()));
    }
    Ok((k, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ObservableKind::*;

    #[test]
    fn recognises_each_kind() {
        let cases = [
            ("203.0.113.7", Ipv4, "203.0.113.7"),
            ("2001:DB8::1", Ipv6, "2001:db8::1"),
            ("198.51.100.77/24", Cidr, "198.51.100.0/24"),
            ("2001:db8:abcd::/48", Cidr, "2001:db8:abcd::/48"),
            ("Login-Mileage.example.COM", Domain, "login-mileage.example.com"),
            ("HTTPS://Evil.Example/Path?A=B", Url, "https://evil.example/Path?A=B"),
            ("d41d8cd98f00b204e9800998ecf8427e", Md5, "d41d8cd98f00b204e9800998ecf8427e"),
            ("DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", Sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("Billing@Example.COM", Email, "Billing@example.com"),
        ];
        for (raw, kind, norm) in cases {
            assert_eq!(parse(None, raw).unwrap(), (kind, norm.to_owned()), "{raw}");
        }
    }

    #[test]
    fn defanged_indicators() {
        assert_eq!(parse(None, "hxxps://evil[.]example/a").unwrap(), (Url, "https://evil.example/a".into()));
        assert_eq!(parse(None, "203[.]0[.]113[.]7").unwrap(), (Ipv4, "203.0.113.7".into()));
        assert_eq!(parse(None, "ceo[@]example(.)com").unwrap(), (Email, "ceo@example.com".into()));
    }

    #[test]
    fn refuses_with_the_reason() {
        for bad in ["", "not an indicator", "300.1.1.1", "10.0.0.0/33", "http://", "http://exa mple.com", "abc123", "example", "@example.com"] {
            assert!(parse(None, bad).is_err(), "{bad}");
        }
        let e = parse(Some(Domain), "203.0.113.7").unwrap_err();
        assert_eq!(e.code, "observable-kind");
    }
}
