//! A corpus generator for scale tests: writes any number of realistic articles as JSON Lines.
//!
//! ```sh
//! cargo run --release --example gen_corpus -- --articles 1000000 --out /tmp/gen1m.jsonl
//! geonews --index /tmp/gen-idx index --rebuild /tmp/gen1m.jsonl
//! ```
//!
//! The source articles are read with geonews's own ingest from `--from` (by default the shared
//! corpora at `../shared/corpora`) and split into sentences. Each generated article takes a run
//! of sentences from one source article, so that it stays on one subject, mixes in a few
//! sentences from another, and gets a fresh id, a headline, a source and a publication instant
//! between 2000 and 2026. The output depends only on `--seed` and the corpus: the same seed
//! gives byte-identical files. Do not commit the output, the corpora's licences forbid it.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::ops::{ControlFlow, RangeInclusive};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, ensure};
use chrono::{DateTime, Utc};
use clap::Parser;
use geonews::article::Article;
use geonews::ingest::{self, Item, RecordOutcome};
use serde::Serialize;

#[path = "common/random.rs"]
mod random;
use random::SplitMix64;

/// Sentences shorter or longer than this, in characters, are fragments or run-ons: not used.
const SENTENCE_CHARS: RangeInclusive<usize> = 30..=600;
/// How many sentences a generated article takes from its primary source article.
const PRIMARY_SENTENCES: RangeInclusive<usize> = 4..=14;
/// How many sentences it takes from one other source article.
const MIXED_IN_SENTENCES: RangeInclusive<usize> = 0..=3;
/// How many sentences a paragraph of the generated body has.
const PARAGRAPH_SENTENCES: RangeInclusive<usize> = 1..=3;
/// One step in this many skips a sentence of the primary article's run.
const SKIP_ONE_IN: usize = 6;
const MAX_TITLE_CHARS: usize = 90;
/// 2000-01-01T00:00:00Z and 2026-12-31T23:59:59Z, in Unix seconds.
const PUBLISHED_SECONDS: RangeInclusive<i64> = 946_684_800..=1_798_761_599;
/// Sources for a corpus whose articles name none.
const FALLBACK_SOURCES: [&str; 4] = [
    "Wire Service",
    "World Desk",
    "Global Affairs Daily",
    "The Dispatch",
];
const OUTPUT_BUFFER_BYTES: usize = 1 << 20;

#[derive(Parser)]
#[command(about = "Generate a JSON Lines corpus for scale tests from the shared news corpora")]
struct Args {
    /// How many articles to write
    #[arg(long, default_value_t = 1000)]
    articles: u64,
    /// Seed of the generator: the same seed and corpus give the same output
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Files and folders of source articles, in any format geonews reads
    #[arg(long, num_args = 1.., default_value = "../shared/corpora")]
    from: Vec<PathBuf>,
    /// Where to write the articles [default: standard output]
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    match generate(&Args::parse()) {
        Err(error) if is_broken_pipe(&error) => Ok(()),
        other => other,
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    let kind = match error.downcast_ref::<serde_json::Error>() {
        Some(error) => error.io_error_kind(),
        None => error.downcast_ref::<io::Error>().map(io::Error::kind),
    };
    kind == Some(io::ErrorKind::BrokenPipe)
}

fn generate(args: &Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let corpus = Corpus::load(&args.from)?;
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(OUTPUT_BUFFER_BYTES, ByteCounter { sink, bytes: 0 });
    let mut composer = Composer::new(&corpus, args.seed);
    for number in 1..=args.articles {
        composer.write_article(number, &mut out)?;
    }
    out.flush()?;
    let bytes = out.get_ref().bytes;
    eprintln!(
        "wrote {} articles, {} bytes ({} per article), from {} source articles ({} long enough \
         to lead), {} input problems ignored, in {:.1} s",
        args.articles,
        bytes,
        bytes.checked_div(args.articles).unwrap_or(0),
        corpus.articles.len(),
        corpus.primaries.len(),
        corpus.problems,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Counts the bytes written through it.
struct ByteCounter<W> {
    sink: W,
    bytes: u64,
}

impl<W: Write> Write for ByteCounter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.sink.write(buf)?;
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.sink.flush()
    }
}

/// A source article: its headline, when it has a real one, and its usable sentences in order.
struct SourceArticle {
    title: Option<String>,
    sentences: Vec<String>,
}

/// The source articles, in the order geonews reads them (files sorted by name).
#[derive(Default)]
struct Corpus {
    articles: Vec<SourceArticle>,
    /// The articles with enough sentences to lead a generated article, by index.
    primaries: Vec<usize>,
    /// Source names and publisher hosts, sorted.
    sources: Vec<String>,
    /// Records and files that could not be read, or were read with a warning.
    problems: usize,
}

impl Corpus {
    fn load(paths: &[PathBuf]) -> anyhow::Result<Corpus> {
        for path in paths {
            ensure!(
                path.exists(),
                "no corpus at {}: pass --from PATH",
                path.display()
            );
        }
        let discovery = ingest::discover(paths, None);
        let mut corpus = Corpus {
            problems: discovery.problems.len(),
            ..Corpus::default()
        };
        let mut sources = BTreeSet::new();
        for file in &discovery.files {
            ingest::read(file, &ingest::ReadLimits::default(), &mut |item| {
                corpus.add(item, &mut sources);
                ControlFlow::Continue(())
            });
        }
        ensure!(
            !corpus.articles.is_empty(),
            "no usable sentences in the articles under {}",
            display_paths(paths)
        );
        corpus.sources = if sources.is_empty() {
            FALLBACK_SOURCES.map(str::to_owned).into()
        } else {
            sources.into_iter().collect()
        };
        corpus.choose_primaries();
        Ok(corpus)
    }

    fn add(&mut self, item: Item, sources: &mut BTreeSet<String>) {
        let Item::Record { record, .. } = item else {
            self.problems += 1;
            return;
        };
        match ingest::to_article(record) {
            RecordOutcome::Article { article, .. } => self.add_article(*article, sources),
            RecordOutcome::Skipped(_) => self.problems += 1,
        }
    }

    fn add_article(&mut self, article: Article, sources: &mut BTreeSet<String>) {
        sources.extend(article.source.clone());
        sources.extend(article.url.as_deref().and_then(publisher_host));
        let sentences = usable_sentences(&article.body);
        if sentences.is_empty() {
            return;
        }
        let has_real_title =
            !article.title_is_derived && article.title.chars().any(char::is_lowercase);
        self.articles.push(SourceArticle {
            title: has_real_title.then_some(article.title),
            sentences,
        });
    }

    /// Articles long enough for a full run of sentences lead; without any, every article does.
    fn choose_primaries(&mut self) {
        let long_enough =
            |index: &usize| self.articles[*index].sentences.len() >= *PRIMARY_SENTENCES.start();
        self.primaries = (0..self.articles.len()).filter(long_enough).collect();
        if self.primaries.is_empty() {
            self.primaries = (0..self.articles.len()).collect();
        }
    }
}

fn display_paths(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    shown.join(", ")
}

/// `https://www.dw.com/en/...` → `dw.com`.
fn publisher_host(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.strip_prefix("www.").unwrap_or(host);
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The body's sentences, whitespace collapsed, without fragments, run-ons, capitals or
/// markup debris.
fn usable_sentences(body: &str) -> Vec<String> {
    let text = body.split_whitespace().collect::<Vec<_>>().join(" ");
    split_sentences(&text)
        .into_iter()
        .filter(|sentence| {
            SENTENCE_CHARS.contains(&sentence.chars().count())
                && sentence.chars().any(char::is_lowercase)
                && !starts_with_capitals(sentence)
                && !has_markup_debris(sentence)
        })
        .map(str::to_owned)
        .collect()
}

/// Whether the first words are all capitals: a wire headline run into the text
/// (`KYUSHU ELECTRIC POWER ISSUES YEN BONDS LONDON, March 24 - ...`).
fn starts_with_capitals(sentence: &str) -> bool {
    const WORDS: usize = 4;
    let shouted = |word: &&str| !word.chars().any(char::is_lowercase);
    sentence.split(' ').take(WORDS).filter(shouted).count() == WORDS
}

/// A backslash or a bare numeric entity (`can #39;t`), as scraped feeds leave them.
fn has_markup_debris(sentence: &str) -> bool {
    let numeric_entity = |after_hash: &str| {
        let digits = after_hash.bytes().take_while(u8::is_ascii_digit).count();
        digits > 0 && after_hash[digits..].starts_with(';')
    };
    sentence.contains('\\') || sentence.split('#').skip(1).any(numeric_entity)
}

/// Splits text whose whitespace is single spaces at `.`, `?` or `!` (and a closing quote)
/// followed by a space and a capital letter or an opening quote. A period after a short
/// capitalized word (`Mr.`, `Gen.`, `U.S.`) is taken for an abbreviation. The tail is kept only
/// when it ends like a sentence.
fn split_sentences(text: &str) -> Vec<&str> {
    let mut sentences = Vec::new();
    let mut start = 0;
    for (index, terminator) in text.char_indices() {
        if !matches!(terminator, '.' | '?' | '!')
            || (terminator == '.' && ends_with_abbreviation(&text[start..index]))
        {
            continue;
        }
        if let Some(end) = sentence_end(text, index) {
            sentences.push(&text[start..end]);
            start = end + 1;
        }
    }
    let tail = &text[start..];
    if tail.ends_with(['.', '?', '!', '"', '”', '’']) {
        sentences.push(tail);
    }
    sentences
}

/// Where the sentence whose terminator is at `index` ends, if a new sentence follows it.
fn sentence_end(text: &str, index: usize) -> Option<usize> {
    let mut end = index + 1;
    if let Some(quote) = text[end..]
        .chars()
        .next()
        .filter(|c| matches!(c, '"' | '\'' | '”' | '’'))
    {
        end += quote.len_utf8();
    }
    let mut next = text[end..].chars();
    let starts_sentence = |c: char| c.is_uppercase() || matches!(c, '"' | '\'' | '“' | '‘');
    (next.next() == Some(' ') && next.next().is_some_and(starts_sentence)).then_some(end)
}

fn ends_with_abbreviation(text: &str) -> bool {
    let word = text.rsplit(' ').next().unwrap_or(text);
    word.len() <= 3 && word.starts_with(char::is_uppercase)
}

/// The shape of one output line, in the field names geonews reads.
#[derive(Serialize)]
struct GeneratedArticle<'a> {
    id: &'a str,
    title: &'a str,
    published: DateTime<Utc>,
    source: &'a str,
    language: &'a str,
    url: &'a str,
    body: &'a str,
}

/// Composes articles one after another, reusing its buffers.
struct Composer<'a> {
    corpus: &'a Corpus,
    seed: u64,
    random: SplitMix64,
    sentences: Vec<&'a str>,
    body: String,
    id: String,
    url: String,
}

impl<'a> Composer<'a> {
    fn new(corpus: &'a Corpus, seed: u64) -> Composer<'a> {
        Composer {
            corpus,
            seed,
            random: SplitMix64(seed),
            sentences: Vec::new(),
            body: String::new(),
            id: String::new(),
            url: String::new(),
        }
    }

    fn write_article(&mut self, number: u64, out: &mut impl Write) -> anyhow::Result<()> {
        let corpus = self.corpus;
        let primary = &corpus.articles[*self.random.pick(&corpus.primaries)];
        self.pick_primary_run(primary);
        self.mix_in_other_article();
        self.compose_body();
        let title = self.headline(primary);
        let source = self.random.pick(&corpus.sources);
        let published = self.published();
        self.id.clear();
        write!(self.id, "gen-{}-{number:07}", self.seed)?;
        self.url.clear();
        write!(self.url, "https://example.org/gen/{}", self.id)?;
        let article = GeneratedArticle {
            id: &self.id,
            title,
            published,
            source,
            language: "en",
            url: &self.url,
            body: &self.body,
        };
        serde_json::to_writer(&mut *out, &article)?;
        out.write_all(b"\n")?;
        Ok(())
    }

    /// A run of consecutive sentences from a random place in the article, now and then
    /// skipping one.
    fn pick_primary_run(&mut self, primary: &'a SourceArticle) {
        let available = primary.sentences.len();
        let wanted = self.random.in_range(PRIMARY_SENTENCES).min(available);
        let mut at = self.random.below(available - wanted + 1);
        self.sentences.clear();
        while self.sentences.len() < wanted && at < available {
            self.sentences.push(&primary.sentences[at]);
            at += 1 + usize::from(self.random.one_in(SKIP_ONE_IN));
        }
    }

    /// A few consecutive sentences of another random article, each put anywhere after the lead.
    fn mix_in_other_article(&mut self) {
        let count = self.random.in_range(MIXED_IN_SENTENCES);
        if count == 0 {
            return;
        }
        let corpus = self.corpus;
        let other = &self.random.pick(&corpus.articles).sentences;
        let count = count.min(other.len());
        let first = self.random.below(other.len() - count + 1);
        for sentence in &other[first..first + count] {
            let position = 1 + self.random.below(self.sentences.len());
            self.sentences.insert(position, sentence);
        }
    }

    fn compose_body(&mut self) {
        self.body.clear();
        let mut left_in_paragraph = 0;
        for sentence in &self.sentences {
            if left_in_paragraph == 0 {
                if !self.body.is_empty() {
                    self.body.push_str("\n\n");
                }
                left_in_paragraph = self.random.in_range(PARAGRAPH_SENTENCES);
            } else {
                self.body.push(' ');
            }
            self.body.push_str(sentence);
            left_in_paragraph -= 1;
        }
    }

    /// The primary article's headline half of the time when it has one, else the lead sentence
    /// without its dateline.
    fn headline(&mut self, primary: &'a SourceArticle) -> &'a str {
        match &primary.title {
            Some(title) if self.random.one_in(2) => shorten_headline(title),
            _ => shorten_headline(without_dateline(self.sentences[0])),
        }
    }

    fn published(&mut self) -> DateTime<Utc> {
        let span = PUBLISHED_SECONDS.end() - PUBLISHED_SECONDS.start() + 1;
        let seconds = PUBLISHED_SECONDS.start() + self.random.below(span as usize) as i64;
        DateTime::from_timestamp(seconds, 0).expect("2000-2026 is a valid date range")
    }
}

/// `TORONTO, March 2 - Multi-Step said ...` → `Multi-Step said ...`.
fn without_dateline(sentence: &str) -> &str {
    const MAX_DATELINE_CHARS: usize = 40;
    let Some((dateline, rest)) = sentence.split_once(" - ") else {
        return sentence;
    };
    let is_dateline = dateline.len() <= MAX_DATELINE_CHARS
        && dateline
            .split_once(", ")
            .is_some_and(|(place, _)| !place.chars().any(char::is_lowercase));
    if is_dateline { rest } else { sentence }
}

/// At most `MAX_TITLE_CHARS` characters, cut at a word boundary, without a final period.
fn shorten_headline(text: &str) -> &str {
    let text = text.trim_end_matches('.');
    let Some((cut, next)) = text.char_indices().nth(MAX_TITLE_CHARS) else {
        return text;
    };
    let head = &text[..cut];
    let at_word = if next == ' ' {
        head
    } else {
        head.rsplit_once(' ').map_or(head, |(words, _)| words)
    };
    at_word.trim_end_matches([',', ';', ':', '-', ' '])
}
