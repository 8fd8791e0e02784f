//! Main-text extraction of saved web pages, scored against the bodies a person marked: geonews's
//! reader of pages beside the crates it could have used, on the pages of ../shared/html-benchmark
//! (shingle precision, recall and F1 as that folder's README defines them).
//!
//! `cargo bench --bench html_extraction`

#[path = "common/html_score.rs"]
mod html_score;

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use dom_query::Document;
use flate2::read::GzDecoder;
use geonews::ingest::{PageHints, read_page};
use html_score::Score;

struct Sample {
    url: String,
    html: Vec<u8>,
    truth: String,
}

type Extractor = fn(&Sample) -> String;

const EXTRACTORS: [(&str, Extractor); 6] = [
    ("geonews", geonews_page),
    ("rs-trafilatura", rs_trafilatura_raw),
    ("trafilatura", trafilatura_port),
    ("dom_smoothie", dom_smoothie),
    ("readability", readability),
    ("whole page text", whole_page_text),
];

fn main() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/html-benchmark");
    if !folder.is_dir() {
        println!("skipped: ../shared/html-benchmark not found");
        return;
    }
    let samples = read_samples(&folder);
    println!("{} pages", samples.len());
    println!(
        "{:<16} {:>9} {:>7} {:>7} {:>8}",
        "extractor", "precision", "recall", "F1", "pages/s"
    );
    let mut results = Vec::new();
    for (name, extractor) in EXTRACTORS {
        let mut score = Score::default();
        let mut elapsed = Duration::ZERO;
        for sample in &samples {
            let started = Instant::now();
            let text = extractor(sample);
            elapsed += started.elapsed();
            score.add(&text, &sample.truth);
        }
        let pages_per_second = samples.len() as f64 / elapsed.as_secs_f64();
        println!(
            "{name:<16} {:>9.3} {:>7.3} {:>7.3} {pages_per_second:>8.1}",
            score.precision(),
            score.recall(),
            score.f1()
        );
        results.push(score.f1());
    }
    let best_candidate = results[1..].iter().copied().fold(f64::MIN, f64::max);
    println!(
        "geonews F1 / best candidate F1 = {:.3}",
        results[0] / best_candidate
    );
}

fn read_samples(folder: &Path) -> Vec<Sample> {
    let truth =
        std::fs::read_to_string(folder.join("ground-truth.json")).expect("ground-truth.json");
    let truth: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&truth).expect("ground truth is a JSON object");
    let mut samples: Vec<Sample> = truth
        .iter()
        .map(|(id, page)| {
            let path = folder.join(format!("html/{id}.html.gz"));
            let mut html = Vec::new();
            GzDecoder::new(std::fs::File::open(&path).expect("a page of the benchmark"))
                .read_to_end(&mut html)
                .expect("a gzipped page");
            Sample {
                url: page["url"].as_str().unwrap_or_default().to_owned(),
                html,
                truth: page["articleBody"].as_str().unwrap_or_default().to_owned(),
            }
        })
        .collect();
    samples.sort_by(|a, b| a.url.cmp(&b.url));
    samples
}

fn geonews_page(sample: &Sample) -> String {
    let hints = PageHints {
        url: Some(&sample.url),
        date: None,
        charset: None,
    };
    read_page(&sample.html, &hints)
        .ok()
        .and_then(|page| page.record.fields.get("body")?.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn rs_trafilatura_raw(sample: &Sample) -> String {
    rs_trafilatura::extract_bytes(&sample.html)
        .map(|extracted| extracted.content_text)
        .unwrap_or_default()
}

/// The `trafilatura` crate: a port of go-trafilatura.
fn trafilatura_port(sample: &Sample) -> String {
    let html = String::from_utf8_lossy(&sample.html);
    trafilatura::extract(&html, &trafilatura::Options::default())
        .map(|extracted| extracted.content_text)
        .unwrap_or_default()
}

fn dom_smoothie(sample: &Sample) -> String {
    let html = String::from_utf8_lossy(&sample.html);
    dom_smoothie::Readability::new(html.as_ref(), Some(&sample.url), None)
        .ok()
        .and_then(|mut readability| readability.parse().ok())
        .map(|article| article.text_content.to_string())
        .unwrap_or_default()
}

fn readability(sample: &Sample) -> String {
    let Ok(url) = url::Url::parse(&sample.url) else {
        return String::new();
    };
    readability::extractor::extract(&mut sample.html.as_slice(), &url)
        .map(|product| product.text)
        .unwrap_or_default()
}

fn whole_page_text(sample: &Sample) -> String {
    let document = Document::from(String::from_utf8_lossy(&sample.html).as_ref());
    document
        .select("script, style, noscript, template")
        .remove();
    document.select("body").text().to_string()
}
