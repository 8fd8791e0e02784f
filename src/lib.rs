//! geonews: a search engine for geopolitical news, with entity facets.
//!
//! The library owns everything the `geonews` binary does. Two paths run through it:
//!
//! - **ingest**: [`ingest`] reads article files, [`extract`] finds countries, regions, people,
//!   organizations and topics, [`pipeline`] runs both in parallel batches, and an
//!   [`backend::ArticleSink`] (the local [`index`]) stores the results;
//! - **query**: [`query`] parses the query language against the [`schema`], [`service`] answers
//!   typed requests through a [`backend::SearchBackend`], [`analytics`] shapes counts into
//!   timelines and co-occurrence tables, and [`output`] renders every response as text, JSON or
//!   JSON Lines.
//!
//! [`results`] is the backend-independent result model; [`app`] is the command line's front end
//! over the services, and [`server`] the HTTP one (`geonews serve`). docs/architecture.md draws the modules.

pub mod analytics;
pub mod app;
pub mod article;
pub mod backend;
pub mod dedup;
pub mod engine;
pub mod eval;
pub mod extract;
mod hash;
pub mod index;
pub mod ingest;
pub mod output;
pub mod pipeline;
pub mod query;
pub mod quickwit;
pub mod results;
pub mod schema;
pub mod server;
pub mod service;
pub mod watch;

pub use app::{Command, Config, run};
