//! Syslog messages (RFC 5424 and RFC 3164) read into events, and the framing of syslog
//! over a byte stream (RFC 6587: octet counting, or one message per line).

use serde_json::{Map, Value};

/// One message as an event: a JSON object of its header fields, its structured data as
/// `sd.<id>.<name>`, and its text as `message`. A message that is not UTF-8 text, or holds
/// nothing, is refused with the reason.
pub fn to_event(frame: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(frame).map_err(|e| format!("not UTF-8 text (byte {})", e.valid_up_to()))?;
    let text = text.trim_end_matches(['\r', '\n', '\0']);
    if text.trim().is_empty() {
        return Err("an empty syslog message".into());
    }
    let m = syslog_loose::parse_message(text, syslog_loose::Variant::Either);
    let mut o = Map::new();
    o.insert(
        "syslog_protocol".into(),
        Value::from(match m.protocol {
            syslog_loose::Protocol::RFC3164 => "rfc3164",
            syslog_loose::Protocol::RFC5424(_) => "rfc5424",
        }),
    );
    if let Some(f) = m.facility {
        o.insert("facility".into(), f.as_str().into());
    }
    if let Some(s) = m.severity {
        o.insert("severity".into(), s.as_str().into());
    }
    if let Some(t) = m.timestamp {
        o.insert("timestamp".into(), t.to_rfc3339().into());
    }
    if let Some(h) = m.hostname {
        o.insert("hostname".into(), h.into());
    }
    if let Some(a) = m.appname {
        o.insert("appname".into(), a.into());
    }
    if let Some(p) = &m.procid {
        o.insert(
            "procid".into(),
            match p {
                syslog_loose::ProcId::PID(n) => Value::from(*n),
                syslog_loose::ProcId::Name(s) => Value::from(*s),
            },
        );
    }
    if let Some(id) = m.msgid {
        o.insert("msgid".into(), id.into());
    }
    for sd in &m.structured_data {
        for (k, v) in sd.params() {
            o.insert(format!("sd.{}.{}", sd.id, k), Value::from(v));
        }
    }
    o.insert("message".into(), m.msg.into());
    serde_json::to_vec(&Value::Object(o)).map_err(|e| e.to_string())
}

/// What a stream reader found.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    Message(Vec<u8>),
    /// A frame beyond the limit: refused, with as much of it as is kept for the record.
    TooLarge {
        size: usize,
        head: Vec<u8>,
    },
}

/// Splits a byte stream into syslog frames. A frame of digits, a space and a priority is
/// octet counted (`<length> <message>`); otherwise a frame ends at a line feed.
#[derive(Debug)]
pub struct Framer {
    buf: Vec<u8>,
    max: usize,
    /// Bytes of an oversized line-framed message still to skip until its line ends.
    skipping: bool,
    /// Bytes of an oversized octet-counted message still to skip.
    skip_bytes: usize,
}

impl Framer {
    pub fn new(max: usize) -> Self {
        Self { buf: Vec::with_capacity(64 * 1024), max: max.max(64), skipping: false, skip_bytes: 0 }
    }

    /// Adds bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame, if the buffer holds one.
    pub fn next_frame(&mut self) -> Option<Frame> {
        {
            if self.skip_bytes > 0 {
                let n = self.skip_bytes.min(self.buf.len());
                self.buf.drain(..n);
                self.skip_bytes -= n;
                if self.skip_bytes > 0 {
                    return None;
                }
            }
            if self.skipping {
                match memchr::memchr(b'\n', &self.buf) {
                    Some(i) => {
                        self.buf.drain(..=i);
                        self.skipping = false;
                    }
                    None => {
                        self.buf.clear();
                        return None;
                    }
                }
            }
            // Blank lines and stray NULs between frames.
            let start = self.buf.iter().position(|b| !matches!(b, b'\n' | b'\r' | b'\0')).unwrap_or(self.buf.len());
            self.buf.drain(..start);
            if self.buf.is_empty() {
                return None;
            }
            if self.buf[0].is_ascii_digit() {
                let Some(sp) = self.buf.iter().take(12).position(|&b| b == b' ') else {
                    if self.buf.len() >= 12 || self.buf.iter().any(|b| !b.is_ascii_digit()) {
                        // Not a length after all: read it as a line.
                        return self.line_frame();
                    }
                    return None;
                };
                if !self.buf[..sp].iter().all(u8::is_ascii_digit) {
                    return self.line_frame();
                }
                // A counted message starts with its priority (`<`); a line that merely
                // begins with a number does not.
                match self.buf.get(sp + 1) {
                    None => return None,
                    Some(b'<') => {}
                    Some(_) => return self.line_frame(),
                }
                let len: usize = std::str::from_utf8(&self.buf[..sp]).ok().and_then(|s| s.parse().ok()).unwrap_or(usize::MAX);
                if len > self.max {
                    let head = self.buf[sp + 1..].iter().take(256).copied().collect();
                    let have = self.buf.len() - (sp + 1);
                    if have >= len {
                        self.buf.drain(..sp + 1 + len);
                    } else {
                        self.buf.clear();
                        self.skip_bytes = len - have;
                    }
                    return Some(Frame::TooLarge { size: len, head });
                }
                if self.buf.len() < sp + 1 + len {
                    return None;
                }
                let msg = self.buf[sp + 1..sp + 1 + len].to_vec();
                self.buf.drain(..sp + 1 + len);
                return Some(Frame::Message(msg));
            }
            self.line_frame()
        }
    }

    fn line_frame(&mut self) -> Option<Frame> {
        match memchr::memchr(b'\n', &self.buf) {
            Some(i) if i <= self.max => {
                let msg = self.buf[..i].to_vec();
                self.buf.drain(..=i);
                Some(Frame::Message(msg))
            }
            Some(i) => {
                let head = self.buf[..256.min(i)].to_vec();
                self.buf.drain(..=i);
                Some(Frame::TooLarge { size: i, head })
            }
            None if self.buf.len() > self.max => {
                let head = self.buf[..256.min(self.buf.len())].to_vec();
                let size = self.buf.len();
                self.buf.clear();
                self.skipping = true;
                Some(Frame::TooLarge { size, head })
            }
            None => None,
        }
    }

    /// What is left when the stream ends: a last line without its line feed.
    pub fn finish(&mut self) -> Option<Frame> {
        if self.skipping || self.skip_bytes > 0 {
            return None;
        }
        let rest = std::mem::take(&mut self.buf);
        let trimmed: Vec<u8> = rest.into_iter().filter(|b| *b != b'\0').collect();
        (!trimmed.iter().all(|b| b.is_ascii_whitespace())).then_some(Frame::Message(trimmed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn field(e: &[u8], name: &str) -> Option<Value> {
        let v: Value = serde_json::from_slice(e).unwrap();
        v.get(name).cloned()
    }

    #[test]
    fn rfc5424_with_structured_data() {
        let e = to_event(br#"<165>1 2026-11-26T09:30:00.003Z fw01.aozora.example sshd 4123 AUTH [origin ip="192.0.2.7"][meta sequenceId="29"] Failed password for root from 203.0.113.9"#).unwrap();
        assert_eq!(field(&e, "syslog_protocol").unwrap(), "rfc5424");
        assert_eq!(field(&e, "hostname").unwrap(), "fw01.aozora.example");
        assert_eq!(field(&e, "appname").unwrap(), "sshd");
        assert_eq!(field(&e, "procid").unwrap(), 4123);
        assert_eq!(field(&e, "msgid").unwrap(), "AUTH");
        assert_eq!(field(&e, "sd.origin.ip").unwrap(), "192.0.2.7");
        assert_eq!(field(&e, "severity").unwrap(), "notice");
        assert!(field(&e, "message").unwrap().as_str().unwrap().contains("Failed password"));
        assert!(field(&e, "timestamp").unwrap().as_str().unwrap().starts_with("2026-11-26T09:30:00.003"));
    }

    #[test]
    fn rfc3164() {
        let e = to_event(b"<34>Oct 11 22:14:15 mymachine su[231]: 'su root' failed for lonvick on /dev/pts/8").unwrap();
        assert_eq!(field(&e, "syslog_protocol").unwrap(), "rfc3164");
        assert_eq!(field(&e, "hostname").unwrap(), "mymachine");
        assert_eq!(field(&e, "appname").unwrap(), "su");
        assert_eq!(field(&e, "facility").unwrap(), "auth");
        assert!(field(&e, "message").unwrap().as_str().unwrap().starts_with("'su root' failed"));
    }

    #[test]
    fn refusals_say_why() {
        assert!(to_event(b"").unwrap_err().contains("empty"));
        assert!(to_event(b"\r\n").unwrap_err().contains("empty"));
        assert!(to_event(b"<34>Oct 11 22:14:15 host x: \xff\xfe").unwrap_err().contains("UTF-8"));
    }

    fn frames(f: &mut Framer) -> Vec<Frame> {
        let mut out = vec![];
        while let Some(x) = f.next_frame() {
            out.push(x);
        }
        out
    }

    #[test]
    fn framing_by_count_and_by_line() {
        let mut f = Framer::new(1000);
        f.push(b"14 <13>1 - - - - \n<13>hello\n\n5 <a");
        assert_eq!(frames(&mut f), vec![Frame::Message(b"<13>1 - - - - ".to_vec()), Frame::Message(b"<13>hello".to_vec())]);
        f.push(b"bcd");
        assert_eq!(frames(&mut f), vec![Frame::Message(b"<abcd".to_vec())]);
        f.push(b"2026 is a year\nlast");
        assert_eq!(frames(&mut f), vec![Frame::Message(b"2026 is a year".to_vec())]);
        assert_eq!(f.finish(), Some(Frame::Message(b"last".to_vec())));
    }

    #[test]
    fn oversized_frames_are_refused_and_the_stream_goes_on() {
        let mut f = Framer::new(100);
        f.push(b"500 <");
        f.push(&[b'x'; 299]);
        let got = frames(&mut f);
        assert!(matches!(&got[..], [Frame::TooLarge { size: 500, .. }]), "{got:?}");
        f.push(&[b'x'; 200]);
        f.push(b"3 <ab");
        assert_eq!(frames(&mut f), vec![Frame::Message(b"<ab".to_vec())]);
        f.push(&[b'y'; 150]);
        assert!(matches!(&frames(&mut f)[..], [Frame::TooLarge { .. }]));
        f.push(b"yyy\n<13>next\n");
        assert_eq!(frames(&mut f), vec![Frame::Message(b"<13>next".to_vec())]);
        // An oversized counted frame followed at once by the next one.
        let mut big = b"150 <".to_vec();
        big.extend_from_slice(&[b'z'; 149]);
        big.extend_from_slice(b"4 <ok>");
        f.push(&big);
        let got = frames(&mut f);
        assert!(matches!(&got[..], [Frame::TooLarge { size: 150, .. }, Frame::Message(m)] if m == b"<ok>"), "{got:?}");
    }

    proptest! {
        /// Any bytes read as a message give an event or a reason, never a panic, and an
        /// event is always a JSON object with the message text.
        #[test]
        fn any_bytes_read_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            match to_event(&bytes) {
                Ok(e) => {
                    let v: Value = serde_json::from_slice(&e).unwrap();
                    prop_assert!(v.is_object() && v.get("message").is_some());
                }
                Err(reason) => prop_assert!(!reason.is_empty()),
            }
        }

        /// Messages sent octet-counted or line by line, in any chunking, come out whole
        /// and in order.
        #[test]
        fn framing_survives_any_chunking(msgs in proptest::collection::vec("<[0-9]{1,3}>[a-zA-Z0-9 :.\\[\\]=\"-]{1,60}", 1..20), counted in any::<bool>(), cuts in proptest::collection::vec(1usize..50, 1..30)) {
            let mut stream = vec![];
            for m in &msgs {
                if counted {
                    stream.extend_from_slice(format!("{} {m}", m.len()).as_bytes());
                } else {
                    stream.extend_from_slice(m.as_bytes());
                    stream.push(b'\n');
                }
            }
            let mut f = Framer::new(1000);
            let mut got = vec![];
            let mut at = 0;
            for c in cuts.iter().cycle() {
                if at >= stream.len() { break; }
                let end = (at + c).min(stream.len());
                f.push(&stream[at..end]);
                at = end;
                while let Some(x) = f.next_frame() { got.push(x); }
            }
            if let Some(x) = f.finish() { got.push(x); }
            let want: Vec<Frame> = msgs.iter().map(|m| Frame::Message(m.trim_end().as_bytes().to_vec())).collect();
            let got: Vec<Frame> = got.into_iter().map(|x| match x { Frame::Message(m) => Frame::Message(String::from_utf8(m).unwrap().trim_end().as_bytes().to_vec()), o => o }).collect();
            prop_assert_eq!(got, want);
        }
    }
}
