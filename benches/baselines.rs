//! The baselines `bench/run.sh` measures geonews against, on the same articles.
//!
//! - `plain-tantivy INDEX_DIR PATH...`: reads the articles with geonews's own readers and
//!   indexes them with tantivy alone: the same text fields, tokens, writer threads and memory
//!   budget as `geonews index`, but no entity extraction and no facets, and tantivy's stock
//!   filters where geonews remembers the words it has normalized. Prints one JSON line with the
//!   articles, bytes of text and seconds.
//! - `export OUT.jsonl PATH...`: writes the articles with their countries (ISO alpha-2) as JSON
//!   Lines, the input of the SQLite FTS5 baseline (`bench/fts5.py load`). Not timed: FTS5 gets
//!   the countries for free.
//!
//! Run through `bench/run.sh`; by hand: `cargo bench --bench baselines -- plain-tantivy DIR PATH`.

mod common;

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use common::for_each_article;
use geonews::article::Article;
use geonews::extract::Extractor;
use geonews::index::WriterOptions;
use geonews::schema::Schema;
use serde::Serialize;
use tantivy::schema::{
    DateOptions, DateTimePrecision, IndexRecordOption, STORED, Schema as TantivySchema,
    TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer,
};
use tantivy::{DateTime as TantivyDate, Index, TantivyDocument};

/// geonews's English analysis, as tantivy's stock filters: the same tokens.
const ENGLISH: &str = "plain_english";

// The allocator `geonews` uses, so that the ratio measures what geonews does, not its allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `geonews index`'s defaults.
const MEMORY_BUDGET: usize = 512_000_000;

fn main() {
    // `cargo bench` adds `--bench`; it means nothing here.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.as_slice() {
        [command, out, paths @ ..] if !paths.is_empty() => {
            let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
            match command.as_str() {
                "plain-tantivy" => plain_tantivy(Path::new(out), &paths),
                "export" => export(Path::new(out), &paths),
                other => usage(&format!("unknown command `{other}`")),
            }
        }
        [] => println!("baselines: nothing to do (see bench/run.sh)"),
        _ => usage("expected a command, an output path and input paths"),
    }
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "error: {problem}\nusage: baselines plain-tantivy INDEX_DIR PATH... | export OUT.jsonl PATH..."
    );
    std::process::exit(2)
}

fn plain_tantivy(index_dir: &Path, paths: &[PathBuf]) {
    let started = Instant::now();
    if index_dir.exists() {
        fs::remove_dir_all(index_dir).expect("remove the old baseline index");
    }
    fs::create_dir_all(index_dir).expect("create the baseline index folder");
    let (schema, fields) = plain_schema();
    let index = Index::create_in_dir(index_dir, schema).expect("create the baseline index");
    let english = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build();
    index.tokenizers().register(ENGLISH, english);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = WriterOptions::threads_for(MEMORY_BUDGET, cores).expect("a workable budget");
    let mut writer = index
        .writer_with_num_threads::<TantivyDocument>(threads, MEMORY_BUDGET)
        .expect("baseline writer");
    let (mut articles, mut bytes) = (0u64, 0u64);
    for_each_article(paths, |article| {
        bytes += (article.title.len()
            + article.summary.as_deref().map_or(0, str::len)
            + article.body.len()) as u64;
        articles += 1;
        writer
            .add_document(fields.document(&article))
            .expect("add a document");
    });
    writer.commit().expect("commit");
    writer.wait_merging_threads().expect("merge");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "engine": "plain-tantivy",
            "articles": articles,
            "bytes": bytes,
            "seconds": seconds,
        })
    );
}

/// geonews's searched and displayed fields, without entity facets.
struct PlainFields {
    id: tantivy::schema::Field,
    title: tantivy::schema::Field,
    summary: tantivy::schema::Field,
    body: tantivy::schema::Field,
    published: tantivy::schema::Field,
    source: tantivy::schema::Field,
    url: tantivy::schema::Field,
}

impl PlainFields {
    fn document(&self, article: &Article) -> TantivyDocument {
        let mut document = TantivyDocument::new();
        document.add_text(self.id, &article.key);
        document.add_text(self.title, &article.title);
        if let Some(summary) = &article.summary {
            document.add_text(self.summary, summary);
        }
        document.add_text(self.body, &article.body);
        if let Some(published) = article.published {
            let seconds = TantivyDate::from_timestamp_secs(published.timestamp());
            document.add_date(self.published, seconds);
        }
        if let Some(source) = &article.source {
            document.add_text(self.source, source);
        }
        if let Some(url) = &article.url {
            document.add_text(self.url, url);
        }
        document
    }
}

fn plain_schema() -> (TantivySchema, PlainFields) {
    let mut builder = TantivySchema::builder();
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ENGLISH)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let keyword = TextOptions::default()
        .set_indexing_options(TextFieldIndexing::default().set_tokenizer("raw"))
        .set_stored()
        .set_fast("raw");
    let date = DateOptions::default()
        .set_indexed()
        .set_fast()
        .set_stored()
        .set_precision(DateTimePrecision::Seconds);
    let fields = PlainFields {
        id: builder.add_text_field("id", keyword.clone()),
        title: builder.add_text_field("title", text.clone()),
        summary: builder.add_text_field("summary", text.clone()),
        body: builder.add_text_field("body", text),
        published: builder.add_date_field("published", date),
        source: builder.add_text_field("source", keyword),
        url: builder.add_text_field("url", STORED),
    };
    (builder.build(), fields)
}

#[derive(Serialize)]
struct Exported<'a> {
    id: &'a str,
    title: &'a str,
    summary: Option<&'a str>,
    body: &'a str,
    published: Option<String>,
    source: Option<&'a str>,
    countries: Vec<&'a str>,
}

/// Writes each article geonews would index once: where records share a key, the last one, as
/// `geonews index` keeps it.
fn export(out: &Path, paths: &[PathBuf]) {
    let mut last_of_key: HashMap<String, usize> = HashMap::new();
    let mut records = 0;
    for_each_article(paths, |article| {
        last_of_key.insert(article.key, records);
        records += 1;
    });
    let schema = Schema::builtin().expect("built-in schema");
    let places = schema.places().expect("built-in places");
    let extractor = Extractor::new(&schema.dictionaries, &places).expect("automaton");
    let mut writer = BufWriter::new(File::create(out).expect("create the export file"));
    let (mut record, mut articles) = (0, 0u64);
    for_each_article(paths, |article| {
        let last = last_of_key[&article.key] == record;
        record += 1;
        if !last {
            return;
        }
        let entities = extractor.extract(&article).0;
        let exported = Exported {
            id: &article.key,
            title: &article.title,
            summary: article.summary.as_deref(),
            body: &article.body,
            published: article.published.map(|date| date.to_rfc3339()),
            source: article.source.as_deref(),
            countries: entities.countries.iter().map(|c| c.iso2.as_str()).collect(),
        };
        serde_json::to_writer(&mut writer, &exported).expect("write the export");
        writer.write_all(b"\n").expect("write the export");
        articles += 1;
    });
    writer.flush().expect("write the export");
    eprintln!(
        "exported {articles} articles ({} records) to {}",
        records,
        out.display()
    );
}
