//! Date filters: `after:2024-01-01`, `before:2025-06`, `date:2024-01..2024-03`, `date:2024`.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};

use super::QueryError;
use super::ast::{DateRange, Query, Span, Text};
use crate::article::SUPPORTED_YEARS;

/// A calendar period written as `YYYY`, `YYYY-MM` or `YYYY-MM-DD`: its first instant and the
/// first instant after it, in UTC.
pub fn parse_period(text: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
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

pub(super) fn resolve(query: &str, field: &str, value: &Text) -> Result<Query, QueryError> {
    let period = |text: &str, span: Span| {
        parse_period(text).ok_or_else(|| {
            QueryError::at(
                query,
                span,
                format!(
                    "`{text}` is not a date: write YYYY, YYYY-MM or YYYY-MM-DD, with a year from {} to {}",
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

    fn period(text: &str) -> (String, String) {
        let (start, end) = parse_period(text).unwrap();
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
            "yesterday",
            "2024-01-01-01",
            "2024-",
            "1600",
            "2262",
            "+024",
        ] {
            assert!(parse_period(text).is_none(), "{text}");
        }
    }
}
