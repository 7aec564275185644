//! A real SMTP server for tests, on a free local port: it speaks enough of RFC 5321
//! (EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) for a
//! real client to deliver to it, and keeps what it received. It can be told to refuse
//! the next messages with a temporary or a permanent error.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent: headers and body.
    pub data: String,
    /// The user name given with AUTH PLAIN, if any.
    pub auth: Option<String>,
    /// When the message's final dot arrived, in milliseconds since the epoch.
    pub at_ms: i64,
}

impl Received {
    /// The value of a header (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let mut lines = self.data.split("\r\n").peekable();
        while let Some(l) = lines.next() {
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case(name)
            {
                let mut v = v.trim().to_owned();
                while lines.peek().is_some_and(|n| n.starts_with(' ') || n.starts_with('\t')) {
                    v.push_str(lines.next().unwrap_or_default());
                }
                return Some(v);
            }
        }
        None
    }

    pub fn body(&self) -> &str {
        self.data.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("")
    }

    /// The body as text, undoing base64 or quoted-printable transfer encoding.
    pub fn text(&self) -> String {
        let enc = self.header("Content-Transfer-Encoding").unwrap_or_default().to_ascii_lowercase();
        let body = self.body();
        match enc.as_str() {
            "base64" => {
                use base64::Engine;
                let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
                String::from_utf8_lossy(&base64::engine::general_purpose::STANDARD.decode(compact).unwrap_or_default()).into_owned()
            }
            "quoted-printable" => {
                let joined = body.replace("=\r\n", "");
                let b = joined.as_bytes();
                let mut out = Vec::with_capacity(b.len());
                let mut i = 0;
                while i < b.len() {
                    if b[i] == b'='
                        && i + 2 < b.len()
                        && let Ok(v) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
                    {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    out.push(b[i]);
                    i += 1;
                }
                String::from_utf8_lossy(&out).into_owned()
            }
            _ => body.to_owned(),
        }
    }

    /// The subject, decoding RFC 2047 encoded words (UTF-8, base64 or Q); white space
    /// between two encoded words is dropped, as the RFC says.
    pub fn subject(&self) -> String {
        use base64::Engine;
        let raw = self.header("Subject").unwrap_or_default();
        let mut out = String::new();
        let mut rest = raw.as_str();
        let mut last_encoded = false;
        while let Some(i) = rest.find("=?") {
            let before = &rest[..i];
            if !(last_encoded && before.trim().is_empty()) {
                out.push_str(before);
            }
            let word = &rest[i + 2..];
            let mut parts = word.splitn(3, '?');
            let (_charset, enc, tail) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let Some(end) = tail.find("?=") else {
                out.push_str(&rest[i..]);
                rest = "";
                break;
            };
            let text = &tail[..end];
            let bytes = if enc.eq_ignore_ascii_case("b") {
                base64::engine::general_purpose::STANDARD.decode(text).unwrap_or_default()
            } else {
                let q = text.replace('_', " ");
                let qb = q.as_bytes();
                let mut bytes = vec![];
                let mut k = 0;
                while k < qb.len() {
                    if qb[k] == b'='
                        && k + 2 < qb.len()
                        && let Some(v) = std::str::from_utf8(&qb[k + 1..k + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
                    {
                        bytes.push(v);
                        k += 3;
                        continue;
                    }
                    bytes.push(qb[k]);
                    k += 1;
                }
                bytes
            };
            out.push_str(&String::from_utf8_lossy(&bytes));
            last_encoded = true;
            rest = &tail[end + 2..];
        }
        out.push_str(rest);
        out
    }
}

#[derive(Clone)]
pub struct SmtpSink {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    temporary_failures: Arc<AtomicUsize>,
    permanent_failures: Arc<AtomicUsize>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let sink = SmtpSink {
            addr: listener.local_addr().expect("addr"),
            received: Arc::default(),
            temporary_failures: Arc::default(),
            permanent_failures: Arc::default(),
        };
        let s = sink.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = s.session(sock).await;
                });
            }
        });
        sink
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Refuses the next `n` messages with `451` (try again later).
    pub fn fail_temporarily(&self, n: usize) {
        self.temporary_failures.store(n, Ordering::SeqCst);
    }

    /// Refuses the next `n` messages with `550` (never deliverable).
    pub fn fail_permanently(&self, n: usize) {
        self.permanent_failures.store(n, Ordering::SeqCst);
    }

    fn take(counter: &AtomicUsize) -> bool {
        counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
    }

    async fn session(&self, sock: tokio::net::TcpStream) -> std::io::Result<()> {
        let (r, mut w) = sock.into_split();
        let mut r = BufReader::new(r);
        w.write_all(b"220 test-smtp ready\r\n").await?;
        let (mut from, mut to, mut auth) = (String::new(), Vec::<String>::new(), None);
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let cmd = line.trim_end().to_owned();
            let upper = cmd.to_ascii_uppercase();
            if upper.starts_with("EHLO") {
                w.write_all(b"250-test-smtp\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n").await?;
            } else if upper.starts_with("HELO") {
                w.write_all(b"250 test-smtp\r\n").await?;
            } else if upper.starts_with("AUTH PLAIN") {
                use base64::Engine;
                let b64 = cmd.get(11..).unwrap_or("").trim();
                let raw = base64::engine::general_purpose::STANDARD.decode(b64).unwrap_or_default();
                let parts: Vec<&[u8]> = raw.split(|b| *b == 0).collect();
                auth = parts.get(1).map(|u| String::from_utf8_lossy(u).into_owned());
                w.write_all(b"235 ok\r\n").await?;
            } else if upper.starts_with("MAIL FROM:") {
                from = cmd[10..].trim().trim_matches(['<', '>']).split_whitespace().next().unwrap_or("").trim_matches(['<', '>']).to_owned();
                to.clear();
                w.write_all(b"250 ok\r\n").await?;
            } else if upper.starts_with("RCPT TO:") {
                to.push(cmd[8..].trim().trim_matches(['<', '>']).to_owned());
                w.write_all(b"250 ok\r\n").await?;
            } else if upper == "DATA" {
                w.write_all(b"354 go ahead\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let l = line.strip_prefix('.').unwrap_or(&line);
                    data.push_str(&l.replace("\r\n", "\n").replace('\n', "\r\n"));
                }
                if Self::take(&self.permanent_failures) {
                    w.write_all(b"550 mailbox unavailable\r\n").await?;
                } else if Self::take(&self.temporary_failures) {
                    w.write_all(b"451 try again later\r\n").await?;
                } else {
                    if let Ok(mut v) = self.received.lock() {
                        let at_ms =
                            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
                        v.push(Received { from: from.clone(), to: to.clone(), data, auth: auth.clone(), at_ms });
                    }
                    w.write_all(b"250 queued\r\n").await?;
                }
            } else if upper == "RSET" {
                to.clear();
                w.write_all(b"250 ok\r\n").await?;
            } else if upper == "NOOP" {
                w.write_all(b"250 ok\r\n").await?;
            } else if upper == "QUIT" {
                w.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                w.write_all(b"502 not implemented\r\n").await?;
            }
        }
    }
}
