//! Articles over time: calendar buckets, the timeline built from a backend's counts, and its
//! chart. Days are counted from 1970-01-01 and must lie in chrono's calendar (about ±262,000
//! years); article dates span 1678–2261.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::results::{most_frequent, shown_spellings};

const SECONDS_PER_DAY: i64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Day,
    Week,
    Month,
    Year,
}

impl Interval {
    /// The bucket holding an instant given in Unix seconds, UTC calendar: the bucket's first day
    /// as days since 1970-01-01 (weeks are ISO weeks starting Monday).
    pub fn bucket(self, seconds: i64) -> i64 {
        let day = seconds.div_euclid(SECONDS_PER_DAY);
        let date = date(day);
        match self {
            Interval::Day => day,
            // 1970-01-01 was a Thursday, three days after a Monday.
            Interval::Week => day - (day + 3).rem_euclid(7),
            Interval::Month => first_day(date.year(), date.month()),
            Interval::Year => first_day(date.year(), 1),
        }
    }

    /// The first day of the bucket after `bucket`.
    pub fn next(self, bucket: i64) -> i64 {
        let date = date(bucket);
        match self {
            Interval::Day => bucket + 1,
            Interval::Week => bucket + 7,
            Interval::Month if date.month() == 12 => first_day(date.year() + 1, 1),
            Interval::Month => first_day(date.year(), date.month() + 1),
            Interval::Year => first_day(date.year() + 1, 1),
        }
    }

    /// "2024-03-05" (day), "2024-W10" (ISO week-year and week), "2024-03" (month), "2024" (year).
    pub fn label(self, bucket: i64) -> String {
        let date = date(bucket);
        match self {
            Interval::Day => date.format("%Y-%m-%d").to_string(),
            Interval::Week => {
                let week = date.iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            }
            Interval::Month => date.format("%Y-%m").to_string(),
            Interval::Year => date.year().to_string(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
            Interval::Year => "year",
        }
    }
}

fn date(day: i64) -> NaiveDate {
    i32::try_from(day)
        .ok()
        .and_then(NaiveDate::from_epoch_days)
        .expect("day within chrono's calendar")
}

fn first_day(year: i32, month: u32) -> i64 {
    NaiveDate::from_ymd_opt(year, month, 1)
        .expect("month within chrono's calendar")
        .to_epoch_days()
        .into()
}

/// Raw counts a backend returns for one query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimelineCounts {
    /// Matching articles, dated or not.
    pub total: u64,
    /// Matching articles without a publication date.
    pub undated: u64,
    /// Bucket → matching dated articles.
    pub buckets: BTreeMap<i64, u64>,
    /// (Bucket, value of the split field) → articles; empty without a split.
    pub split: HashMap<(i64, String), u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    pub by: Interval,
    pub total: u64,
    pub undated: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_field: Option<String>,
    /// The split field's values shown, most frequent first (ties by key); `Bucket::split` is
    /// aligned with it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<String>,
    pub buckets: Vec<Bucket>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    pub start: NaiveDate,
    pub label: String,
    pub count: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub split: Vec<u64>,
}

impl Timeline {
    /// Every bucket from the first to the last non-empty one, empty ones included (a chart needs
    /// the gaps); `series` = the `top` split values with the most articles over all buckets.
    pub fn build(
        counts: TimelineCounts,
        by: Interval,
        split_field: Option<&str>,
        top: usize,
    ) -> Timeline {
        let split = merged_split(counts.split);
        let series = top_series(&split, top);
        let mut split = split_rows(&split, &series);
        let buckets = bucket_starts(&counts.buckets, by)
            .into_iter()
            .map(|start| Bucket {
                start: date(start),
                label: by.label(start),
                count: counts.buckets.get(&start).copied().unwrap_or(0),
                split: split
                    .remove(&start)
                    .unwrap_or_else(|| vec![0; series.len()]),
            })
            .collect();
        Timeline {
            by,
            total: counts.total,
            undated: counts.undated,
            split_field: split_field.map(str::to_owned),
            series,
            buckets,
        }
    }
}

/// The `top` split values with the most articles over all buckets.
/// The split counts with spellings a query cannot tell apart (`Sample Times`,
/// `SAMPLE TIMES`) counted as one.
fn merged_split(split: HashMap<(i64, String), u64>) -> HashMap<(i64, String), u64> {
    let shown = shown_spellings(
        split
            .iter()
            .map(|((_, value), &count)| (value.as_str(), count)),
    );
    let mut merged = HashMap::with_capacity(split.len());
    for ((bucket, value), count) in &split {
        *merged.entry((*bucket, shown[value].clone())).or_default() += count;
    }
    merged
}

fn top_series(split: &HashMap<(i64, String), u64>, top: usize) -> Vec<String> {
    let mut totals: HashMap<&String, u64> = HashMap::new();
    for ((_, value), count) in split {
        *totals.entry(value).or_default() += count;
    }
    most_frequent(totals, top)
        .into_iter()
        .map(|(value, _)| value.clone())
        .collect()
}

/// Every bucket from the first non-empty one to the last.
fn bucket_starts(buckets: &BTreeMap<i64, u64>, by: Interval) -> Vec<i64> {
    let mut filled = buckets
        .iter()
        .filter(|(_, count)| **count > 0)
        .map(|(start, _)| *start);
    let Some(first) = filled.next() else {
        return Vec::new();
    };
    let last = filled.next_back().unwrap_or(first);
    std::iter::successors(Some(first), |&start| Some(by.next(start)))
        .take_while(|&start| start <= last)
        .collect()
}

/// Per bucket, the articles of each value in `series`, in its order.
fn split_rows(split: &HashMap<(i64, String), u64>, series: &[String]) -> HashMap<i64, Vec<u64>> {
    let column: HashMap<&str, usize> = series
        .iter()
        .enumerate()
        .map(|(index, value)| (value.as_str(), index))
        .collect();
    let mut rows: HashMap<i64, Vec<u64>> = HashMap::new();
    for ((start, value), count) in split {
        if let Some(&index) = column.get(value.as_str()) {
            rows.entry(*start).or_insert_with(|| vec![0; series.len()])[index] += count;
        }
    }
    rows
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn day(year: i32, month: u32, day: u32) -> i64 {
        NaiveDate::from_ymd_opt(year, month, day)
            .unwrap()
            .to_epoch_days()
            .into()
    }

    fn noon(year: i32, month: u32, date: u32) -> i64 {
        day(year, month, date) * SECONDS_PER_DAY + 12 * 3600
    }

    #[test]
    fn days() {
        let bucket = Interval::Day.bucket(noon(2024, 3, 5));
        assert_eq!(bucket, day(2024, 3, 5));
        assert_eq!(Interval::Day.label(bucket), "2024-03-05");
        assert_eq!(Interval::Day.next(bucket), day(2024, 3, 6));
        assert_eq!(Interval::Day.bucket(-1), day(1969, 12, 31));
        assert_eq!(Interval::Day.label(day(1678, 1, 1)), "1678-01-01");
    }

    #[test]
    fn weeks_are_iso_weeks() {
        let bucket = Interval::Week.bucket(noon(2024, 3, 6));
        assert_eq!(bucket, day(2024, 3, 4));
        assert_eq!(Interval::Week.label(bucket), "2024-W10");
        assert_eq!(Interval::Week.next(bucket), day(2024, 3, 11));
        let sunday = Interval::Week.bucket(noon(2024, 3, 10));
        assert_eq!(sunday, day(2024, 3, 4));
    }

    #[test]
    fn week_years_cross_calendar_years() {
        let bucket = Interval::Week.bucket(noon(2024, 12, 31));
        assert_eq!(bucket, day(2024, 12, 30));
        assert_eq!(Interval::Week.label(bucket), "2025-W01");
        let bucket = Interval::Week.bucket(noon(2021, 1, 3));
        assert_eq!(bucket, day(2020, 12, 28));
        assert_eq!(Interval::Week.label(bucket), "2020-W53");
    }

    #[test]
    fn weeks_before_1970() {
        let bucket = Interval::Week.bucket(-1);
        assert_eq!(bucket, day(1969, 12, 29));
        assert_eq!(Interval::Week.label(bucket), "1970-W01");
        let bucket = Interval::Week.bucket(noon(1678, 6, 15));
        assert_eq!(bucket, day(1678, 6, 13));
        assert_eq!(Interval::Week.next(bucket), day(1678, 6, 20));
    }

    #[test]
    fn months() {
        let bucket = Interval::Month.bucket(noon(2024, 2, 29));
        assert_eq!(bucket, day(2024, 2, 1));
        assert_eq!(Interval::Month.label(bucket), "2024-02");
        assert_eq!(Interval::Month.next(bucket), day(2024, 3, 1));
        let december = Interval::Month.bucket(noon(1969, 12, 31));
        assert_eq!(december, day(1969, 12, 1));
        assert_eq!(Interval::Month.next(december), day(1970, 1, 1));
        assert_eq!(
            Interval::Month.label(Interval::Month.bucket(noon(1678, 6, 15))),
            "1678-06"
        );
    }

    #[test]
    fn years() {
        let bucket = Interval::Year.bucket(noon(2024, 7, 1));
        assert_eq!(bucket, day(2024, 1, 1));
        assert_eq!(Interval::Year.label(bucket), "2024");
        assert_eq!(Interval::Year.next(bucket), day(2025, 1, 1));
        let bucket = Interval::Year.bucket(noon(1678, 6, 15));
        assert_eq!(bucket, day(1678, 1, 1));
        assert_eq!(Interval::Year.next(bucket), day(1679, 1, 1));
    }

    pub(crate) fn counts(
        buckets: &[(i64, u64)],
        split: &[(i64, &str, u64)],
        undated: u64,
    ) -> TimelineCounts {
        let buckets: BTreeMap<i64, u64> = buckets.iter().copied().collect();
        TimelineCounts {
            total: buckets.values().sum::<u64>() + undated,
            undated,
            buckets,
            split: split
                .iter()
                .map(|&(bucket, value, count)| ((bucket, value.to_owned()), count))
                .collect(),
        }
    }

    #[test]
    fn split_values_a_query_cannot_tell_apart_are_one_series() {
        let start = day(2024, 1, 1);
        let counts = counts(
            &[(start, 4)],
            &[
                (start, "Sample Times", 2),
                (start, "SAMPLE TIMES", 1),
                (start, "Other", 1),
            ],
            0,
        );
        let timeline = Timeline::build(counts, Interval::Year, Some("source"), 5);
        assert_eq!(timeline.series, ["Sample Times", "Other"]);
        assert_eq!(timeline.buckets[0].split, [3, 1]);
    }

    #[test]
    fn gaps_are_filled_and_every_article_is_counted() {
        let counts = counts(
            &[
                (day(2017, 1, 1), 4),
                (day(2017, 4, 1), 2),
                (day(2017, 6, 1), 0),
            ],
            &[],
            3,
        );
        let timeline = Timeline::build(counts, Interval::Month, None, 5);
        let labels: Vec<&str> = timeline.buckets.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["2017-01", "2017-02", "2017-03", "2017-04"]);
        let counted: u64 = timeline.buckets.iter().map(|b| b.count).sum();
        assert_eq!(counted + timeline.undated, timeline.total);
        assert_eq!(
            timeline.buckets[1].start,
            NaiveDate::from_ymd_opt(2017, 2, 1).unwrap()
        );
        assert!(timeline.series.is_empty());
        assert!(timeline.buckets.iter().all(|b| b.split.is_empty()));
    }

    #[test]
    fn nothing_dated_gives_no_buckets() {
        let timeline = Timeline::build(counts(&[], &[], 2), Interval::Week, None, 5);
        assert!(timeline.buckets.is_empty());
        assert_eq!(timeline.total, 2);
    }

    pub(crate) fn split_timeline() -> Timeline {
        let (jan, mar) = (day(2017, 1, 1), day(2017, 3, 1));
        let counts = counts(
            &[(jan, 5), (mar, 2)],
            &[
                (jan, "Russia", 3),
                (jan, "China", 2),
                (jan, "Mali", 1),
                (mar, "China", 1),
                (mar, "Mali", 2),
            ],
            1,
        );
        Timeline::build(counts, Interval::Month, Some("country"), 2)
    }

    #[test]
    fn series_are_the_most_frequent_values() {
        let timeline = split_timeline();
        // China and Mali have 3 articles each, Russia too: ties go by key.
        assert_eq!(timeline.series, ["China", "Mali"]);
        let split: Vec<&[u64]> = timeline
            .buckets
            .iter()
            .map(|b| b.split.as_slice())
            .collect();
        assert_eq!(split, [&[2, 1][..], &[0, 0], &[1, 2]]);
    }
}
