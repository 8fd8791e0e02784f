//! geonews: a search engine for geopolitical news, with entity facets.
//!
//! The library owns everything the `geonews` binary does: [`ingest`] reads article files,
//! [`extract`] finds countries, regions, people, organizations and topics, [`pipeline`] runs
//! both in parallel batches, [`index`] writes and searches a local tantivy index, [`query`] parses the query language, [`results`] is the
//! backend-independent result model, [`analytics`] turns counts over results into timelines and
//! co-occurrence tables, and [`output`] renders results.

pub mod analytics;
pub mod app;
pub mod article;
pub mod eval;
pub mod extract;
mod hash;
pub mod index;
pub mod ingest;
pub mod output;
pub mod pipeline;
pub mod query;
pub mod results;
pub mod schema;

pub use app::{
    BatchCommand, Command, Config, CoocCommand, FacetsCommand, SearchCommand, SearchOptions,
    TimelineCommand, run,
};
