//! Any bytes as a syslog stream: framed (octet counting or lines, in two chunks split at
//! the first byte's value), and every frame read into an event. No input may panic; an
//! event is a JSON object with a message, a refusal has a reason.
#![no_main]

#[path = "../../crates/ingest/src/syslog.rs"]
mod syslog;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cut = data.first().map(|b| *b as usize % (data.len() + 1)).unwrap_or(0);
    let mut f = syslog::Framer::new(512);
    let mut frames = vec![];
    for part in [&data[..cut], &data[cut..]] {
        f.push(part);
        while let Some(x) = f.next_frame() {
            frames.push(x);
        }
    }
    frames.extend(f.finish());
    for x in frames {
        match x {
            syslog::Frame::Message(m) => {
                assert!(m.len() <= 512 || m.iter().all(|b| *b != b'\n'));
                match syslog::to_event(&m) {
                    Ok(e) => {
                        let v: serde_json::Value = serde_json::from_slice(&e).expect("an event is JSON");
                        assert!(v.get("message").is_some());
                    }
                    Err(reason) => assert!(!reason.is_empty()),
                }
            }
            syslog::Frame::TooLarge { size, head } => assert!(size > 512 && head.len() <= 256),
        }
    }
});
