//! Extraction throughput on one core: every article of ../shared/corpora read into memory
//! first, then extracted again and again on this thread. Prints the median MB/s of article
//! text (title, summary and body) and the automaton's memory, and the same without the topic
//! model (topics.toml's thresholds deciding every topic), alternating, with the ratio.
//!
//! `cargo bench --bench extraction` (set `GEONEWS_BENCH_RUNS` for more or fewer runs).

mod common;

use std::path::PathBuf;
use std::time::Instant;

use geonews::article::Article;
use geonews::extract::Extractor;
use geonews::schema::Schema;

fn main() {
    let corpora = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
    if !corpora.is_dir() {
        println!(
            "skipped: {} is absent (it holds the benchmark corpora)",
            corpora.display()
        );
        return;
    }
    let runs: usize = std::env::var("GEONEWS_BENCH_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(5)
        .max(1);
    let articles = read_articles(&corpora);
    let bytes: usize = articles.iter().map(|a| a.extraction_text().0.len()).sum();
    let schema = Schema::builtin().expect("built-in schema");
    let started = Instant::now();
    let places = schema.places().expect("built-in places");
    let extractor = Extractor::new(&schema.dictionaries, &places).expect("automaton");
    let build = started.elapsed();
    let mut without_model = schema.dictionaries.clone();
    without_model.topic_model = Default::default();
    let baseline = Extractor::new(&without_model, &places).expect("automaton");
    let time = |extractor: &Extractor| {
        let started = Instant::now();
        let mut found = 0;
        for article in &articles {
            found += extractor.extract(article).0.topics.len();
        }
        std::hint::black_box(found);
        started.elapsed().as_secs_f64()
    };
    let (mut seconds, mut baseline_seconds): (Vec<f64>, Vec<f64>) = (0..runs)
        .map(|_| (time(&extractor), time(&baseline)))
        .unzip();
    seconds.sort_by(f64::total_cmp);
    baseline_seconds.sort_by(f64::total_cmp);
    let median = seconds[seconds.len() / 2];
    let baseline_median = baseline_seconds[baseline_seconds.len() / 2];
    let megabytes = bytes as f64 / 1e6;
    println!(
        "extraction, one core: {} articles, {megabytes:.1} MB of text; median of {runs} runs \
         {median:.3} s = {:.1} MB/s (fastest {:.1} MB/s)",
        articles.len(),
        megabytes / median,
        megabytes / seconds[0],
    );
    println!(
        "without the topic model: median {baseline_median:.3} s = {:.1} MB/s; with it {:.2}× the \
         time",
        megabytes / baseline_median,
        median / baseline_median,
    );
    println!(
        "automaton: {} patterns, {:.1} MiB, built in {:.2} s",
        extractor.patterns(),
        extractor.memory_bytes() as f64 / (1 << 20) as f64,
        build.as_secs_f64()
    );
}

fn read_articles(corpora: &PathBuf) -> Vec<Article> {
    let mut articles = Vec::new();
    common::for_each_article(std::slice::from_ref(corpora), |article| {
        articles.push(article);
    });
    articles
}
