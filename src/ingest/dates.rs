//! Publication dates as feeds write them, always returned in UTC.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

const DATE_TIME_FORMATS: [&str; 7] = [
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
];

const DATE_FORMATS: [&str; 10] = [
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%B %d, %Y",
    "%b %d, %Y",
    "%b. %d, %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%A, %B %d, %Y",
    "%Y%m%d",
];

/// Parses RFC 3339, RFC 2822, ISO dates and the other common forms; naive times are taken as UTC.
pub fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(date) = DateTime::parse_from_rfc3339(text) {
        return Some(date.with_timezone(&Utc));
    }
    if let Ok(date) = DateTime::parse_from_rfc2822(text) {
        return Some(date.with_timezone(&Utc));
    }
    if let Ok(date) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S %z") {
        return Some(date.with_timezone(&Utc));
    }
    let without_zulu = text.strip_suffix(" UTC").unwrap_or(text);
    for format in DATE_TIME_FORMATS {
        if let Ok(date) = NaiveDateTime::parse_from_str(without_zulu, format) {
            return Some(Utc.from_utc_datetime(&date));
        }
    }
    for format in DATE_FORMATS {
        if let Ok(date) = NaiveDate::parse_from_str(text, format) {
            return date
                .and_hms_opt(0, 0, 0)
                .map(|date| Utc.from_utc_datetime(&date));
        }
    }
    None
}

/// Unix timestamps in seconds or milliseconds, as some JSON feeds carry them.
pub fn from_unix_number(number: i64) -> Option<DateTime<Utc>> {
    const MILLIS_THRESHOLD: i64 = 100_000_000_000;
    if number.unsigned_abs() >= MILLIS_THRESHOLD.unsigned_abs() {
        DateTime::from_timestamp_millis(number)
    } else {
        DateTime::from_timestamp(number, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> String {
        parse_date(text)
            .unwrap_or_else(|| panic!("{text} did not parse"))
            .to_rfc3339()
    }

    #[test]
    fn parses_feed_forms_to_utc() {
        assert_eq!(
            utc("2024-03-05T09:30:00+09:00"),
            "2024-03-05T00:30:00+00:00"
        );
        assert_eq!(utc("2024-03-05T09:30:00Z"), "2024-03-05T09:30:00+00:00");
        assert_eq!(
            utc("Tue, 05 Mar 2024 09:30:00 GMT"),
            "2024-03-05T09:30:00+00:00"
        );
        assert_eq!(utc("2025-06-14"), "2025-06-14T00:00:00+00:00");
        assert_eq!(utc("2017/2/7"), "2017-02-07T00:00:00+00:00");
        assert_eq!(utc("March 5, 2024"), "2024-03-05T00:00:00+00:00");
        assert_eq!(utc("Friday, January 4, 2019"), "2019-01-04T00:00:00+00:00");
        assert_eq!(utc("2024-03-05 09:30:00"), "2024-03-05T09:30:00+00:00");
        assert_eq!(utc("  2016/12/30 7:11"), "2016-12-30T07:11:00+00:00");
    }

    #[test]
    fn rejects_prose() {
        assert_eq!(parse_date("sometime next week"), None);
        assert_eq!(parse_date(""), None);
        assert_eq!(parse_date("2024-13-45"), None);
    }

    #[test]
    fn unix_seconds_and_millis() {
        let seconds = from_unix_number(1_700_000_000).unwrap();
        assert_eq!(from_unix_number(1_700_000_000_000).unwrap(), seconds);
    }
}
