//! Any text as a Sigma condition over a few search names. No input may panic; what
//! parses evaluates.
#![no_main]

use isms_detect::condition::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let names: Vec<String> = ["selection", "selection_img", "filter", "keywords"].iter().map(|s| s.to_string()).collect();
    if let Ok(expr) = parse(text, &names) {
        let _ = expr.eval(&mut |i| i % 2 == 0);
    }
});
