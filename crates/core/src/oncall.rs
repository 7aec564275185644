//! On-call rotations: who answers for new alerts at a given moment, and whom to call next
//! when nobody acknowledges. A rotation hands over from one member to the next every
//! `shift` from an anchor time, in the members' order, round and round; a cover (someone
//! standing in for a holiday, a swap) takes precedence while it lasts.
//!
//! Times are UTC milliseconds. A shift is a fixed length, so a weekly rotation anchored on
//! a Monday 09:00 in Tokyo hands over every Monday at 09:00 there (Japan keeps no summer
//! time; where a zone does, the handover moves by the hour the clocks move).

use crate::FieldError;

/// A stand-in: `person` takes the calls from `from_ms` until (not including) `until_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover<P> {
    pub person: P,
    pub from_ms: i64,
    pub until_ms: i64,
}

/// One rotation's schedule.
#[derive(Debug, Clone)]
pub struct Rota<P> {
    /// When the first member's first shift begins.
    pub anchor_ms: i64,
    pub shift_ms: i64,
    /// In turn order.
    pub members: Vec<P>,
    pub covers: Vec<Cover<P>>,
}

/// A stretch of time one person is on call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shift<P> {
    /// The scheduled member's place in the turn order.
    pub position: usize,
    /// Who answers: the scheduled member, or whoever covers.
    pub person: P,
    /// Whether a cover stands in for the scheduled member.
    pub covered: bool,
    pub from_ms: i64,
    pub until_ms: i64,
}

impl<P: Clone + PartialEq> Rota<P> {
    /// The scheduled shift holding `t`: its position and bounds (before the anchor the
    /// turn runs backwards, so every moment has a shift).
    pub fn scheduled(&self, t: i64) -> Option<(usize, i64, i64)> {
        if self.members.is_empty() || self.shift_ms <= 0 {
            return None;
        }
        let k = (t - self.anchor_ms).div_euclid(self.shift_ms);
        let position = k.rem_euclid(self.members.len() as i64) as usize;
        let from = self.anchor_ms + k * self.shift_ms;
        Some((position, from, from + self.shift_ms))
    }

    /// The cover in force at `t`; when covers overlap, the one that began last.
    pub fn cover_at(&self, t: i64) -> Option<&Cover<P>> {
        self.covers.iter().filter(|c| c.from_ms <= t && t < c.until_ms).max_by_key(|c| c.from_ms)
    }

    /// Who is on call at `t`.
    pub fn on_call(&self, t: i64) -> Option<Shift<P>> {
        let (position, from_ms, until_ms) = self.scheduled(t)?;
        let (person, covered) = match self.cover_at(t) {
            Some(c) => (c.person.clone(), true),
            None => (self.members[position].clone(), false),
        };
        Some(Shift { position, person, covered, from_ms, until_ms })
    }

    /// Whom to call when the person on call at `t` has not answered: the next member in
    /// turn who is not that person, if there is one.
    pub fn next_after(&self, t: i64) -> Option<P> {
        let now = self.on_call(t)?;
        let n = self.members.len();
        (1..n).map(|i| &self.members[(now.position + i) % n]).find(|p| **p != now.person).cloned()
    }

    /// The scheduled shifts from the one holding `from` on, `count` of them, each with who
    /// answers at its start.
    pub fn upcoming(&self, from: i64, count: usize) -> Vec<Shift<P>> {
        let mut out = Vec::with_capacity(count);
        let mut t = from;
        for _ in 0..count {
            let Some((position, start, end)) = self.scheduled(t) else { break };
            let at = start.max(from);
            let (person, covered) = match self.cover_at(at) {
                Some(c) => (c.person.clone(), true),
                None => (self.members[position].clone(), false),
            };
            out.push(Shift { position, person, covered, from_ms: start, until_ms: end });
            t = end;
        }
        out
    }
}

/// The longest shift: four weeks.
pub const MAX_SHIFT_HOURS: i64 = 24 * 28;
/// The longest wait for an acknowledgement before escalating: a day.
pub const MAX_ACK_MINUTES: i64 = 24 * 60;
pub const MAX_MEMBERS: usize = 50;
/// The longest cover: 90 days.
pub const MAX_COVER_MS: i64 = 90 * 86_400_000;

/// Checks a rotation's numbers and members, naming each field that is wrong.
pub fn check_rota<P: PartialEq>(shift_hours: i64, ack_minutes: i64, members: &[P]) -> Vec<FieldError> {
    let mut errors = vec![];
    if !(1..=MAX_SHIFT_HOURS).contains(&shift_hours) {
        errors.push(
            FieldError::coded("shift_hours", "between", format!("must be between 1 and {MAX_SHIFT_HOURS}"))
                .arg("min", "1")
                .arg("max", MAX_SHIFT_HOURS.to_string()),
        );
    }
    if !(1..=MAX_ACK_MINUTES).contains(&ack_minutes) {
        errors.push(
            FieldError::coded("ack_minutes", "between", format!("must be between 1 and {MAX_ACK_MINUTES}"))
                .arg("min", "1")
                .arg("max", MAX_ACK_MINUTES.to_string()),
        );
    }
    if members.is_empty() {
        errors.push(FieldError::coded("members", "required", "is required"));
    } else if members.len() > MAX_MEMBERS {
        errors.push(FieldError::coded("members", "too-many", format!("has more than {MAX_MEMBERS} entries")).arg("max", MAX_MEMBERS.to_string()));
    }
    if let Some(i) = (1..members.len()).find(|&i| members[..i].contains(&members[i])) {
        errors.push(FieldError::coded("members", "member-twice", format!("entry {} appears twice", i + 1)).arg("line", (i + 1).to_string()));
    }
    errors
}

/// Checks a cover's times.
pub fn check_cover(from_ms: i64, until_ms: i64) -> Vec<FieldError> {
    let mut errors = vec![];
    if until_ms <= from_ms {
        errors.push(FieldError::coded("until", "until-after", "must be after the start").arg("other", "from"));
    } else if until_ms - from_ms > MAX_COVER_MS {
        errors.push(FieldError::coded("until", "within-days", "must be within 90 days of the start").arg("days", "90"));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const H: i64 = 3_600_000;

    fn rota(n: usize) -> Rota<u32> {
        Rota { anchor_ms: 1_000 * H, shift_ms: 24 * H, members: (0..n as u32).collect(), covers: vec![] }
    }

    #[test]
    fn turns_hand_over_in_order_and_wrap() {
        let r = rota(3);
        let at = |h: i64| r.on_call(1_000 * H + h * H).unwrap();
        assert_eq!(at(0).person, 0);
        assert_eq!(at(23).person, 0);
        assert_eq!(at(24).person, 1);
        assert_eq!(at(71).person, 2);
        assert_eq!(at(72).person, 0);
        // Before the anchor the order runs backwards.
        assert_eq!(at(-1).person, 2);
        assert_eq!(at(-1).from_ms, 1_000 * H - 24 * H);
        assert_eq!(r.next_after(1_000 * H + 71 * H), Some(0));
    }

    #[test]
    fn a_cover_stands_in_and_the_latest_wins() {
        let mut r = rota(3);
        r.covers.push(Cover { person: 7, from_ms: 1_010 * H, until_ms: 1_020 * H });
        r.covers.push(Cover { person: 8, from_ms: 1_015 * H, until_ms: 1_016 * H });
        assert_eq!(r.on_call(1_009 * H).unwrap().person, 0);
        let s = r.on_call(1_010 * H).unwrap();
        assert_eq!((s.person, s.covered, s.position), (7, true, 0));
        assert_eq!(r.on_call(1_015 * H).unwrap().person, 8);
        assert_eq!(r.on_call(1_016 * H).unwrap().person, 7);
        assert_eq!(r.on_call(1_020 * H).unwrap().person, 0);
        // The next in turn after a covered shift is the next scheduled member.
        assert_eq!(r.next_after(1_010 * H), Some(1));
    }

    #[test]
    fn nobody_next_when_alone_or_when_the_next_is_the_one_called() {
        assert_eq!(rota(1).next_after(1_000 * H), None);
        let mut r = rota(2);
        r.covers.push(Cover { person: 1, from_ms: 0, until_ms: 2_000 * H });
        // Member 1 covers member 0's shift: nobody else is left to call.
        assert_eq!(r.next_after(1_000 * H), None);
        assert!(Rota::<u32> { anchor_ms: 0, shift_ms: H, members: vec![], covers: vec![] }.on_call(5).is_none());
    }

    #[test]
    fn checks_name_the_field() {
        let e = check_rota(0, 0, &[1, 2, 1]);
        let fields: Vec<_> = e.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(fields, [("shift_hours", "between"), ("ack_minutes", "between"), ("members", "member-twice")]);
        assert_eq!(e[2].args, [("line", "3".to_string())]);
        assert_eq!(check_rota::<u8>(168, 15, &[]).len(), 1);
        assert!(check_rota(168, 15, &[1, 2]).is_empty());
        assert_eq!(check_cover(5, 5)[0].field, "until");
        assert_eq!(check_cover(0, MAX_COVER_MS + 1)[0].code, "within-days");
        assert!(check_cover(0, H).is_empty());
    }

    proptest! {
        /// Every moment has exactly one shift, the shift holds the moment, and shifts
        /// follow one another without gaps.
        #[test]
        fn every_moment_has_one_shift(anchor in -1_000_000_000i64..1_000_000_000, shift in 1i64..10_000_000, n in 1usize..9, t in -2_000_000_000i64..2_000_000_000) {
            let r = Rota { anchor_ms: anchor, shift_ms: shift, members: (0..n).collect::<Vec<_>>(), covers: vec![] };
            let s = r.on_call(t).unwrap();
            prop_assert!(s.from_ms <= t && t < s.until_ms);
            prop_assert_eq!(s.until_ms - s.from_ms, shift);
            let next = r.on_call(s.until_ms).unwrap();
            prop_assert_eq!(next.from_ms, s.until_ms);
            prop_assert_eq!(next.position, (s.position + 1) % n);
        }

        /// Over one full turn everyone is on call exactly once.
        #[test]
        fn a_full_turn_is_fair(anchor in -1_000_000i64..1_000_000, shift in 1i64..100_000, n in 1usize..12, start in -10_000_000i64..10_000_000) {
            let r = Rota { anchor_ms: anchor, shift_ms: shift, members: (0..n).collect::<Vec<_>>(), covers: vec![] };
            let mut seen: Vec<usize> = r.upcoming(start, n).into_iter().map(|s| s.person).collect();
            seen.sort();
            prop_assert_eq!(seen, (0..n).collect::<Vec<_>>());
        }

        /// Whoever is called next is never the one already called.
        #[test]
        fn next_is_someone_else(n in 1usize..6, cover in proptest::option::of(0usize..8), t in 0i64..1_000_000) {
            let mut r = Rota { anchor_ms: 0, shift_ms: 1_000, members: (0..n).collect::<Vec<_>>(), covers: vec![] };
            if let Some(p) = cover {
                r.covers.push(Cover { person: p, from_ms: 0, until_ms: 1_000_000 });
            }
            let now = r.on_call(t).unwrap().person;
            if let Some(next) = r.next_after(t) {
                prop_assert_ne!(next, now);
            }
        }
    }
}
