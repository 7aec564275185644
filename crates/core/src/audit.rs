//! The audit chain's arithmetic. Each entry's hash is an HMAC over the previous entry's
//! hash and the entry's own fields, keyed with a secret kept outside the database, so
//! whoever can edit the database still cannot forge a chain that verifies.

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of one audit entry that the chain protects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: i64,
    /// Unix time in milliseconds, UTC.
    pub at_ms: i64,
    /// `user:<id>`, `token:<id>`, `system` or `anonymous`.
    pub actor: String,
    /// Verb in `domain.action` form, e.g. `people.create`.
    pub action: String,
    /// Kind of record, e.g. `person`.
    pub entity: String,
    pub record_id: Option<String>,
    pub company_id: Option<String>,
    /// Before/after summary as compact JSON.
    pub detail: String,
}

fn keyed(key: &[u8]) -> Hmac<Sha256> {
    #[allow(clippy::expect_used, reason = "HMAC accepts keys of any length: new_from_slice cannot fail")]
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length")
}

/// hash(n) = HMAC-SHA256(key, hash(n-1) ‖ fields of n), hex encoded. Fields are length
/// prefixed so no two different entries encode the same.
pub fn entry_hash(key: &[u8], prev_hash: &str, e: &Entry) -> String {
    let mut mac = keyed(key);
    let mut put = |b: &[u8]| {
        mac.update(&(b.len() as u64).to_be_bytes());
        mac.update(b);
    };
    put(prev_hash.as_bytes());
    put(&e.seq.to_be_bytes());
    put(&e.at_ms.to_be_bytes());
    put(e.actor.as_bytes());
    put(e.action.as_bytes());
    put(e.entity.as_bytes());
    put(e.record_id.as_deref().unwrap_or("\u{0}").as_bytes());
    put(e.company_id.as_deref().unwrap_or("\u{0}").as_bytes());
    put(e.detail.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A stored entry with the hashes the database holds for it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub entry: Entry,
    pub prev_hash: String,
    pub hash: String,
}

/// Why verification stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    #[error("entry {seq}: its contents do not match its hash (altered)")]
    Altered { seq: i64 },
    #[error("entry {seq}: it does not follow entry {expected_prev} (an entry was removed or the entries were reordered)")]
    Broken { seq: i64, expected_prev: i64 },
    #[error("entry {seq} is missing: the chain jumps from {prev} to {next}")]
    Gap { seq: i64, prev: i64, next: i64 },
    #[error("the chain ends at entry {last} but the head records {head} entries (entries were removed from the end)")]
    Truncated { last: i64, head: i64 },
    #[error("entry {seq} holds the entry that belongs at {belongs_at} (entries were reordered or renumbered)")]
    Reordered { seq: i64, belongs_at: i64 },
    #[error("the log holds no entries but the head records {head} (the entries were deleted)")]
    Emptied { head: i64 },
    #[error("the chain's head record is missing (it was deleted)")]
    HeadMissing,
    #[error(
        "the chain ends at entry {last}, but a checkpoint kept outside the database recorded entry {checkpoint} (entries were removed from the end and the head rewritten)"
    )]
    BehindCheckpoint { last: i64, checkpoint: i64 },
    #[error("entry {seq} is not the entry a checkpoint kept outside the database recorded (the chain was rewritten)")]
    CheckpointMismatch { seq: i64 },
    #[error("the checkpoint file does not verify with the key (it was altered)")]
    CheckpointForged,
}

impl Fault {
    /// The fault's kind, as a catalog names it (`audit-fault-<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            Fault::Altered { .. } => "altered",
            Fault::Broken { .. } => "broken",
            Fault::Gap { .. } => "gap",
            Fault::Truncated { .. } => "truncated",
            Fault::Reordered { .. } => "reordered",
            Fault::Emptied { .. } => "emptied",
            Fault::HeadMissing => "head-missing",
            Fault::BehindCheckpoint { .. } => "behind-checkpoint",
            Fault::CheckpointMismatch { .. } => "checkpoint-mismatch",
            Fault::CheckpointForged => "checkpoint-forged",
        }
    }

    /// The entries the fault names, for its message.
    pub fn args(&self) -> Vec<(&'static str, String)> {
        match *self {
            Fault::Altered { seq } | Fault::CheckpointMismatch { seq } => vec![("seq", seq.to_string())],
            Fault::Broken { seq, expected_prev } => vec![("seq", seq.to_string()), ("prev", expected_prev.to_string())],
            Fault::Gap { seq, prev, next } => vec![("seq", seq.to_string()), ("prev", prev.to_string()), ("next", next.to_string())],
            Fault::Truncated { last, head } => vec![("last", last.to_string()), ("head", head.to_string())],
            Fault::Reordered { seq, belongs_at } => vec![("seq", seq.to_string()), ("at", belongs_at.to_string())],
            Fault::Emptied { head } => vec![("head", head.to_string())],
            Fault::BehindCheckpoint { last, checkpoint } => vec![("last", last.to_string()), ("checkpoint", checkpoint.to_string())],
            Fault::HeadMissing | Fault::CheckpointForged => vec![],
        }
    }
}

/// The head of the chain at a moment, kept outside the database (a file beside the key)
/// so that whoever can write the database but lacks the key cannot cut the tail and
/// rewrite the head unseen: the chain must still hold this entry with this hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    pub at_ms: i64,
}

impl Checkpoint {
    fn mac(&self, key: &[u8]) -> String {
        let mut mac = keyed(key);
        mac.update(b"isms audit checkpoint v1\0");
        mac.update(&self.seq.to_be_bytes());
        mac.update(&self.at_ms.to_be_bytes());
        mac.update(self.hash.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// One line: `v1 <seq> <hash> <at_ms> <mac>`.
    pub fn to_line(&self, key: &[u8]) -> String {
        format!("v1 {} {} {} {}", self.seq, self.hash, self.at_ms, self.mac(key))
    }

    /// Reads a line written by `to_line` with the same key; anything else is forged.
    pub fn from_line(key: &[u8], line: &str) -> Result<Self, Fault> {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [v, seq, hash, at, mac] = parts[..] else { return Err(Fault::CheckpointForged) };
        let (Ok(seq), Ok(at_ms)) = (seq.parse(), at.parse()) else { return Err(Fault::CheckpointForged) };
        let c = Checkpoint { seq, hash: hash.to_owned(), at_ms };
        if v != "v1" || c.mac(key) != mac {
            return Err(Fault::CheckpointForged);
        }
        Ok(c)
    }
}

/// Walks entries in `seq` order. Keeps only the previous entry, so memory stays flat
/// however long the chain is.
#[derive(Debug)]
pub struct Verifier<'k> {
    key: &'k [u8],
    prev_seq: i64,
    prev_hash: String,
    count: u64,
    checkpoint: Option<Checkpoint>,
}

/// How far either side a misplaced entry is looked for, to tell "reordered" from "altered".
const REORDER_WINDOW: i64 = 1_000;

impl<'k> Verifier<'k> {
    pub fn new(key: &'k [u8]) -> Self {
        Self { key, prev_seq: 0, prev_hash: GENESIS.to_owned(), count: 0, checkpoint: None }
    }

    /// The chain must hold this checkpoint's entry.
    pub fn with_checkpoint(mut self, c: Option<Checkpoint>) -> Self {
        self.checkpoint = c;
        self
    }

    pub fn push(&mut self, s: &Stored) -> Result<(), Fault> {
        let seq = s.entry.seq;
        if seq != self.prev_seq + 1 {
            if seq > self.prev_seq + 1 {
                return Err(Fault::Gap { seq: self.prev_seq + 1, prev: self.prev_seq, next: seq });
            }
            return Err(Fault::Broken { seq, expected_prev: self.prev_seq });
        }
        if entry_hash(self.key, &s.prev_hash, &s.entry) != s.hash {
            // An entry whose hash holds under another number was moved, not changed.
            let moved = (seq - REORDER_WINDOW..=seq + REORDER_WINDOW)
                .filter(|&n| n >= 1 && n != seq)
                .find(|&n| entry_hash(self.key, &s.prev_hash, &Entry { seq: n, ..s.entry.clone() }) == s.hash);
            return Err(match moved {
                Some(n) => Fault::Reordered { seq, belongs_at: n },
                None => Fault::Altered { seq },
            });
        }
        if s.prev_hash != self.prev_hash {
            return Err(Fault::Broken { seq, expected_prev: self.prev_seq });
        }
        if self.checkpoint.as_ref().is_some_and(|c| c.seq == seq && c.hash != s.hash) {
            return Err(Fault::CheckpointMismatch { seq });
        }
        self.prev_seq = seq;
        self.prev_hash = s.hash.clone();
        self.count += 1;
        Ok(())
    }

    /// Checks the end of the chain against the head the database keeps beside it.
    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<u64, Fault> {
        if self.count == 0 && head_seq > 0 {
            return Err(Fault::Emptied { head: head_seq });
        }
        if head_seq != self.prev_seq || head_hash != self.prev_hash {
            if head_seq > self.prev_seq {
                return Err(Fault::Truncated { last: self.prev_seq, head: head_seq });
            }
            return Err(Fault::Altered { seq: self.prev_seq });
        }
        if let Some(c) = self.checkpoint.as_ref().filter(|c| c.seq > self.prev_seq) {
            return Err(Fault::BehindCheckpoint { last: self.prev_seq, checkpoint: c.seq });
        }
        Ok(self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<Stored> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let entry = Entry {
                    seq,
                    at_ms: 1_700_000_000_000 + seq,
                    actor: "system".into(),
                    action: "people.create".into(),
                    entity: "person".into(),
                    record_id: Some(format!("p{seq}")),
                    company_id: None,
                    detail: "{}".into(),
                };
                let hash = entry_hash(b"k", &prev, &entry);
                let s = Stored { entry, prev_hash: prev.clone(), hash: hash.clone() };
                prev = hash;
                s
            })
            .collect()
    }

    fn verify(c: &[Stored], head: i64, head_hash: &str) -> Result<u64, Fault> {
        let mut v = Verifier::new(b"k");
        for s in c {
            v.push(s)?;
        }
        v.finish(head, head_hash)
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, 5, &c[4].hash), Ok(5));
    }

    #[test]
    fn altered_entry_is_named() {
        let mut c = chain(5);
        c[2].entry.detail = "{\"x\":1}".into();
        assert_eq!(verify(&c, 5, &c[4].hash.clone()), Err(Fault::Altered { seq: 3 }));
    }

    #[test]
    fn removed_entry_is_named() {
        let mut c = chain(5);
        c.remove(1);
        let h = c[3].hash.clone();
        assert_eq!(verify(&c, 5, &h), Err(Fault::Gap { seq: 2, prev: 1, next: 3 }));
    }

    #[test]
    fn reordered_entries_are_named() {
        let mut c = chain(5);
        // Swap the contents of 2 and 3 but keep the sequence numbers in place.
        let (a, b) = (c[1].clone(), c[2].clone());
        c[1] = Stored { entry: Entry { seq: 2, ..b.entry }, ..b };
        c[2] = Stored { entry: Entry { seq: 3, ..a.entry }, ..a };
        let h = c[4].hash.clone();
        assert_eq!(verify(&c, 5, &h), Err(Fault::Reordered { seq: 2, belongs_at: 3 }));
    }

    #[test]
    fn an_emptied_log_is_named() {
        assert_eq!(verify(&[], 5, "x"), Err(Fault::Emptied { head: 5 }));
        assert_eq!(verify(&[], 0, GENESIS), Ok(0));
    }

    #[test]
    fn a_cut_tail_with_a_rewritten_head_is_caught_by_the_checkpoint() {
        let c = chain(5);
        let cp = Checkpoint { seq: 4, hash: c[3].hash.clone(), at_ms: 1 };
        let line = cp.to_line(b"k");
        let cp = Checkpoint::from_line(b"k", &line).unwrap();
        // The last two entries deleted and the head set to entry 3: consistent, but behind.
        let mut v = Verifier::new(b"k").with_checkpoint(Some(cp.clone()));
        for s in &c[..3] {
            v.push(s).unwrap();
        }
        assert_eq!(v.finish(3, &c[2].hash), Err(Fault::BehindCheckpoint { last: 3, checkpoint: 4 }));
        let mut v = Verifier::new(b"k").with_checkpoint(Some(cp));
        for s in &c {
            v.push(s).unwrap();
        }
        assert_eq!(v.finish(5, &c[4].hash), Ok(5));
        assert_eq!(Checkpoint::from_line(b"other key", &line), Err(Fault::CheckpointForged));
        assert_eq!(Checkpoint::from_line(b"k", &line.replace(" 4 ", " 5 ")), Err(Fault::CheckpointForged));
    }

    #[test]
    fn cut_tail_is_named() {
        let c = chain(5);
        assert_eq!(verify(&c[..3], 5, &c[4].hash), Err(Fault::Truncated { last: 3, head: 5 }));
    }

    #[test]
    fn another_key_fails() {
        let c = chain(2);
        let mut v = Verifier::new(b"other");
        assert_eq!(v.push(&c[0]), Err(Fault::Altered { seq: 1 }));
    }
}
