//! Date filters: `after:2024-01-01`, `before:2025-06`, `date:2024-01..2024-03`, `date:2024`,
//! `date:last-30d`.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeDelta, TimeZone, Utc};

use super::QueryError;
use super::ast::{DateRange, Query, Span, Text};
use crate::article::SUPPORTED_YEARS;

type Period = (DateTime<Utc>, DateTime<Utc>);

/// A period written as a calendar period (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`), `today`,
/// `yesterday` or a span back from `now` (`last-30d`): its first instant and the first instant
/// after it, in UTC.
fn parse_period(text: &str, now: DateTime<Utc>) -> Option<Period> {
    let period = match text.to_ascii_lowercase().as_str() {
        "today" => day(now.date_naive())?,
        "yesterday" => day(now.date_naive().checked_sub_days(Days::new(1))?)?,
        lowercase => match lowercase.strip_prefix("last-") {
            Some(span) => (back_from(now, span)?, now),
            None => calendar_period(text)?,
        },
    };
    SUPPORTED_YEARS.contains(&period.0.year()).then_some(period)
}

fn day(date: NaiveDate) -> Option<Period> {
    Some((midnight(date), midnight(date.succ_opt()?)))
}

/// `now` minus a span such as `30d`: a count and a unit, h(ours), d(ays), w(eeks), m(onths)
/// or y(ears); months and years are calendar months.
fn back_from(now: DateTime<Utc>, span: &str) -> Option<DateTime<Utc>> {
    let unit = span.chars().last()?;
    let count: u32 = span[..span.len() - unit.len_utf8()].parse().ok()?;
    if count == 0 {
        return None;
    }
    match unit {
        'h' => now.checked_sub_signed(TimeDelta::try_hours(count.into())?),
        'd' => now.checked_sub_days(Days::new(count.into())),
        'w' => now.checked_sub_days(Days::new(u64::from(count) * 7)),
        'm' => now.checked_sub_months(Months::new(count)),
        'y' => now.checked_sub_months(Months::new(count.checked_mul(12)?)),
        _ => None,
    }
}

fn calendar_period(text: &str) -> Option<Period> {
    let parts: Vec<&str> = text.split('-').collect();
    let numbers: Vec<u32> = parts
        .iter()
        .map(|part| part.parse().ok())
        .collect::<Option<_>>()?;
    if parts[0].len() != 4
        || parts[1..]
            .iter()
            .any(|part| part.is_empty() || part.len() > 2)
    {
        return None;
    }
    let year = i32::try_from(numbers[0]).ok()?;
    if !SUPPORTED_YEARS.contains(&year) {
        return None;
    }
    let (start, end) = match numbers[..] {
        [_] => (ymd(year, 1, 1)?, ymd(year + 1, 1, 1)?),
        [_, month] => {
            let start = ymd(year, month, 1)?;
            (start, next_month(start)?)
        }
        [_, month, day] => {
            let start = ymd(year, month, day)?;
            (start, start.succ_opt()?)
        }
        _ => return None,
    };
    Some((midnight(start), midnight(end)))
}

fn ymd(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

fn next_month(date: NaiveDate) -> Option<NaiveDate> {
    if date.month() == 12 {
        ymd(date.year() + 1, 1, 1)
    } else {
        ymd(date.year(), date.month() + 1, 1)
    }
}

fn midnight(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

pub(super) fn resolve(
    query: &str,
    field: &str,
    value: &Text,
    now: DateTime<Utc>,
) -> Result<Query, QueryError> {
    let period = |text: &str, span: Span| {
        parse_period(text, now).ok_or_else(|| {
            QueryError::at(
                query,
                span,
                format!(
                    "`{text}` is not a date: write 2024, 2024-03, 2024-03-05, today, yesterday \
                     or last-30d (units h, d, w, m, y), in the years {} to {}",
                    SUPPORTED_YEARS.start(),
                    SUPPORTED_YEARS.end()
                ),
            )
        })
    };
    let range = match field {
        "after" => DateRange {
            start: Some(period(&value.text, value.span)?.0),
            end: None,
        },
        "before" => DateRange {
            start: None,
            end: Some(period(&value.text, value.span)?.0),
        },
        _ => match value.text.split_once("..") {
            Some(("", "")) => {
                return Err(QueryError::at(
                    query,
                    value.span,
                    "a date range needs at least one end: `date:2024..`, `date:..2024`",
                ));
            }
            Some((from, to)) => {
                let text_start = value.span.start + usize::from(value.quoted);
                let from_span = Span::new(text_start, text_start + from.chars().count().max(1));
                let to_start = text_start + from.chars().count() + 2;
                let to_span = Span::new(to_start, to_start + to.chars().count().max(1));
                let start = (!from.is_empty())
                    .then(|| period(from, from_span))
                    .transpose()?;
                let end = (!to.is_empty()).then(|| period(to, to_span)).transpose()?;
                if let (Some((start, _)), Some((_, end))) = (start, end)
                    && start >= end
                {
                    return Err(QueryError::at(
                        query,
                        value.span,
                        "this date range is empty",
                    ));
                }
                DateRange {
                    start: start.map(|(start, _)| start),
                    end: end.map(|(_, end)| end),
                }
            }
            None => {
                let (start, end) = period(&value.text, value.span)?;
                DateRange {
                    start: Some(start),
                    end: Some(end),
                }
            }
        },
    };
    Ok(Query::Published(range))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 31, 15, 30, 0).unwrap()
    }

    fn period(text: &str) -> (String, String) {
        let (start, end) = parse_period(text, now()).unwrap();
        (start.date_naive().to_string(), end.date_naive().to_string())
    }

    #[test]
    fn periods_by_granularity() {
        assert_eq!(period("2024"), ("2024-01-01".into(), "2025-01-01".into()));
        assert_eq!(
            period("2024-12"),
            ("2024-12-01".into(), "2025-01-01".into())
        );
        assert_eq!(
            period("2024-02-29"),
            ("2024-02-29".into(), "2024-03-01".into())
        );
        assert_eq!(period("2024-2"), ("2024-02-01".into(), "2024-03-01".into()));
    }

    #[test]
    fn not_periods() {
        for text in [
            "24",
            "2024-13",
            "2023-02-29",
            "2024/01",
            "2024-01-01-01",
            "2024-",
            "1600",
            "2262",
            "+024",
        ] {
            assert!(parse_period(text, now()).is_none(), "{text}");
        }
    }

    #[test]
    fn periods_relative_to_now() {
        let instant = |text: &str| {
            let (start, end) = parse_period(text, now()).unwrap();
            (start.to_rfc3339(), end.to_rfc3339())
        };
        let at_now = now().to_rfc3339();
        assert_eq!(period("today"), ("2026-03-31".into(), "2026-04-01".into()));
        assert_eq!(
            period("Yesterday"),
            ("2026-03-30".into(), "2026-03-31".into())
        );
        assert_eq!(
            instant("last-30d"),
            ("2026-03-01T15:30:00+00:00".into(), at_now)
        );
        assert_eq!(instant("last-2w").0, "2026-03-17T15:30:00+00:00");
        assert_eq!(instant("last-12h").0, "2026-03-31T03:30:00+00:00");
        // Calendar months: 31 March minus one month is the last day of February.
        assert_eq!(instant("last-1m").0, "2026-02-28T15:30:00+00:00");
        assert_eq!(instant("LAST-2Y").0, "2024-03-31T15:30:00+00:00");
        for text in [
            "last-",
            "last-d",
            "last-30",
            "last-30x",
            "last--3d",
            "last-400y",
            "last-1.5d",
        ] {
            assert!(parse_period(text, now()).is_none(), "{text}");
        }
    }
}
