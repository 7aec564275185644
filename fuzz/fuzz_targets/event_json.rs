//! Any bytes as an event (events come from outside): read into an event or refused,
//! never a panic; a readable event owns its text afterwards as well.
#![no_main]

use isms_detect::Event;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let arena = bumpalo::Bump::new();
    let mut reused = Event::new();
    let read = reused.read_json(bytes, Some(&arena)).is_ok();
    match Event::from_json_bytes(bytes) {
        Ok(e) => {
            assert!(read, "the two ways of reading agree");
            assert_eq!(e.len(), reused.len());
            let owned = e.into_owned();
            let _ = owned.values_with_lower().count();
        }
        Err(_) => assert!(!read, "the two ways of reading agree"),
    }
});
