//! What geonews adds to each search on a Quickwit index: for every query of a file (one a
//! line), the time to resolve it, translate it and build the request, and to map the response
//! to hits with snippets, against the HTTP round trip to Quickwit for the same request, in the
//! same run. Prints one JSON object with the percentiles of both and their ratio.
//!
//! `cargo run --release --example quickwit_overhead -- --engine \
//!     quickwit+http://127.0.0.1:7280/news --queries q.txt --passes 3`

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use geonews::backend::PageRequest;
use geonews::query::Resolver;
use geonews::quickwit::{PageSearch, QuickwitMapper, Target};
use geonews::results::Sort;
use geonews::schema::Schema;
use serde_json::{Value, json};

#[derive(Debug, Parser)]
struct Args {
    /// quickwit+http://HOST:PORT/INDEX
    #[arg(long)]
    engine: String,
    /// Queries in geonews's language, one a line
    #[arg(long)]
    queries: PathBuf,
    /// Passes over the queries, after one pass to warm up
    #[arg(long, default_value_t = 3)]
    passes: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let target = Target::parse(&args.engine).map_err(anyhow::Error::msg)?;
    let schema = Arc::new(Schema::builtin()?);
    let mapper = QuickwitMapper::new(Arc::clone(&schema));
    let text = std::fs::read_to_string(&args.queries)
        .with_context(|| format!("cannot read {}", args.queries.display()))?;
    let queries: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    let url = format!(
        "{}/api/v1/_elastic/{}/_search",
        target.nodes[0], target.index
    );
    let agent = ureq::Agent::new_with_defaults();
    let tally = vec!["country".to_owned()];
    let (mut geonews, mut quickwit) = (Vec::new(), Vec::new());
    for pass in 0..=args.passes {
        for query in &queries {
            let started = Instant::now();
            let resolved = Resolver::new(&schema.fields, schema.catalogs()).parse(query)?;
            let request = PageRequest {
                query: &resolved,
                sort: Sort::Relevance,
                limit: 10,
                offset: 0,
                tally: &tally,
            };
            let search = PageSearch::new(&schema, &request)?;
            let built = started.elapsed();
            let sent = Instant::now();
            let text = agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(search.body.to_string().as_bytes())?
                .body_mut()
                .read_to_string()?;
            let response: Value = serde_json::from_str(&text)?;
            let round_trip = sent.elapsed();
            let mapped = Instant::now();
            let page = search.hits(&mapper, &response)?;
            if page.hits.len() > 10 {
                bail!("`{query}`: more hits than asked for");
            }
            if pass > 0 {
                geonews.push(built + mapped.elapsed());
                quickwit.push(round_trip);
            }
        }
    }
    let summary = |times: &mut Vec<Duration>| {
        times.sort();
        let at = |fraction: f64| {
            let rank = ((fraction * times.len() as f64).ceil() as usize).max(1) - 1;
            times[rank].as_secs_f64() * 1e6
        };
        json!({ "p50_us": at(0.5), "p95_us": at(0.95), "measurements": times.len() })
    };
    let geonews = summary(&mut geonews);
    let quickwit = summary(&mut quickwit);
    let ratio =
        geonews["p50_us"].as_f64().unwrap_or(0.0) / quickwit["p50_us"].as_f64().unwrap_or(1.0);
    println!(
        "{}",
        json!({
            "queries": queries.len(),
            "passes": args.passes,
            "geonews_translation_and_mapping": geonews,
            "quickwit_round_trip": quickwit,
            "geonews_p50_over_quickwit_p50": ratio,
        })
    );
    Ok(())
}
