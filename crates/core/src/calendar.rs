//! Time as the group reckons it. Review dates, expiries, deadlines shown to people and
//! moments typed without an offset are in Japan's time zone; stored moments are UTC
//! milliseconds. The one place that names the zone.

use jiff::civil::Date;
use jiff::tz::{Offset, TimeZone};

pub const ZONE: &str = "Asia/Tokyo";

/// Japan's time zone (from the bundled database; Japan has kept +09:00 without summer
/// time since 1951, so that offset stands in should the lookup ever fail).
pub fn japan() -> TimeZone {
    TimeZone::get(ZONE).unwrap_or_else(|_| TimeZone::fixed(Offset::constant(9)))
}

/// Today's date in Japan.
pub fn today() -> Date {
    jiff::Timestamp::now().to_zoned_datetime(japan()).date()
}

/// The date in Japan at a stored moment (UTC milliseconds).
pub fn date_at(ms: i64) -> Option<Date> {
    jiff::Timestamp::from_millisecond(ms).ok().map(|t| t.to_zoned_datetime(japan()).date())
}

/// A stored moment (UTC milliseconds) as Japan's local time.
pub fn zoned_at(ms: i64) -> Option<jiff::ZonedDateTime> {
    jiff::Timestamp::from_millisecond(ms).ok().map(|t| t.to_zoned_datetime(japan()))
}

/// A moment typed by a person or sent by a program: an RFC 3339 timestamp with its
/// offset, or a local date and time (`2026-04-01T09:30`), read as Japan's time.
pub fn parse_moment(s: &str) -> Option<i64> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t.as_millisecond());
    }
    let dt: jiff::civil::DateTime = s.parse().ok()?;
    dt.to_zoned_datetime(japan()).ok().map(|z| z.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    #[test]
    fn moments_in_japan() {
        assert_eq!(super::parse_moment("2026-04-01T00:30"), super::parse_moment("2026-03-31T15:30:00Z"));
        assert_eq!(super::parse_moment("2026-04-01T00:30:00+09:00"), super::parse_moment("2026-03-31T15:30:00Z"));
        assert_eq!(super::parse_moment("next week"), None);
        let ms = super::parse_moment("2026-03-31T15:30:00Z").unwrap();
        assert_eq!(super::date_at(ms).unwrap().to_string(), "2026-04-01");
    }
}
