//! Any text as a STIX 2.1 pattern. No input may panic; a pattern that reads is written
//! back to text that reads as the same pattern, and its indicators (if any) are canonical.
#![no_main]

use isms_detect::intel::{normalize, pattern::parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(p) = parse(text) {
        let again = parse(&p.to_string()).expect("a written pattern reads back");
        assert_eq!(again, p);
        if let Ok(found) = p.indicators() {
            for (kind, value) in found {
                assert_eq!(normalize(kind, &value).as_deref(), Ok(value.as_str()));
            }
        }
    }
});
