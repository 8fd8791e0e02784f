//! Analytics over a query's results, independent of the backend: articles over time, and how
//! facet values co-occur with a query and with each other. Backends return raw counts; this
//! module shapes them ([`crate::output`] renders them).

mod cooc;
mod timeline;

pub use cooc::{CoocOptions, CoocOrder, CoocValue, Cooccurrence, Pair, PairCounts, PairTable};
pub use timeline::{Bucket, Interval, Timeline, TimelineCounts};

#[cfg(test)]
pub(crate) use cooc::tests as cooc_fixtures;
#[cfg(test)]
pub(crate) use timeline::tests as timeline_fixtures;

/// `numerator / denominator`, or 0 when there is nothing to divide by.
fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator == 0.0 {
        0.0
    } else {
        numerator / denominator
    }
}
