//! CSIRT drills at least twice a year: one in each half of the Japanese fiscal year
//! (April–September, October–March). The schedule warns about a half, this one or the
//! next, that has no drill planned or held.

use jiff::civil::Date;

/// The fiscal year (named by the year it starts) and half (1 or 2) a date falls in.
pub fn half_of(d: Date) -> (i16, u8) {
    match d.month() {
        4..=9 => (d.year(), 1),
        10..=12 => (d.year(), 2),
        _ => (d.year() - 1, 2),
    }
}

/// The halves, among the current one and the next, that have no drill on `dates`.
pub fn gaps(dates: &[Date], today: Date) -> Vec<(i16, u8)> {
    let now = half_of(today);
    let next = if now.1 == 1 { (now.0, 2) } else { (now.0 + 1, 1) };
    [now, next].into_iter().filter(|h| !dates.iter().any(|d| half_of(*d) == *h)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn fiscal_halves() {
        assert_eq!(half_of(d("2026-04-01")), (2026, 1));
        assert_eq!(half_of(d("2026-09-30")), (2026, 1));
        assert_eq!(half_of(d("2026-10-01")), (2026, 2));
        assert_eq!(half_of(d("2027-03-31")), (2026, 2));
    }

    #[test]
    fn warns_about_a_half_without_a_drill() {
        let today = d("2026-11-26");
        assert_eq!(gaps(&[], today), vec![(2026, 2), (2027, 1)]);
        assert_eq!(gaps(&[d("2027-02-10")], today), vec![(2027, 1)]);
        assert!(gaps(&[d("2026-12-01"), d("2027-06-15")], today).is_empty());
        assert_eq!(gaps(&[d("2026-06-01")], today), vec![(2026, 2), (2027, 1)], "last half's drill does not count");
    }
}
