//! The commands, from a validated [`Config`] to output and an exit code.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::analytics::{
    CoocOptions, Cooccurrence, Interval, PairTable, Timeline, cooc_text, pair_table_text,
    timeline_text,
};
use crate::eval::{EvalOptions, Evaluator};
use crate::extract::{Decision, Entities, Extractor};
use crate::index::{IndexEvent, IndexOptions, LocalIndex, index_paths};
use crate::ingest::{self, Problem};
use crate::output::{self, Format, Style};
use crate::pipeline::{self, Analysed, Sink};
use crate::query::ast::Query;
use crate::query::{QueryError, Resolver};
use crate::results::{FacetCounts, SearchBackend, SearchRequest, Sort, region_tree};
use crate::schema::{Catalogs, DictionaryName, Schema};

/// Exit code when a query or argument is wrong.
const EXIT_USAGE: u8 = 2;
/// Exit code when indexing finished but skipped some input.
const EXIT_SKIPPED_INPUT: u8 = 3;

#[derive(Debug, Clone)]
pub struct Config {
    pub index_dir: PathBuf,
    pub schema_dir: Option<PathBuf>,
    pub style: Style,
    /// Whether standard error is a terminal (progress bars).
    pub interactive: bool,
    pub command: Command,
}

/// What `search` returns for each query, whether one or a batch.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    pub sort: Sort,
    pub limit: usize,
    pub offset: usize,
    /// Field names as the user gave them (`org`, `lang`).
    pub facets: Vec<String>,
    pub facet_limit: usize,
}

impl SearchOptions {
    /// The request for `query`, counting `facets` (resolved field names).
    fn request(&self, query: Query, facets: Vec<String>) -> SearchRequest {
        SearchRequest {
            query,
            sort: self.sort,
            limit: self.limit,
            offset: self.offset,
            facets,
            facet_limit: self.facet_limit,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SearchCommand {
    pub query: String,
    pub options: SearchOptions,
    pub format: Format,
}

#[derive(Debug, Clone)]
pub struct BatchCommand {
    /// The file of queries, or `-` for standard input.
    pub input: PathBuf,
    pub options: SearchOptions,
}

#[derive(Debug, Clone)]
pub struct FacetsCommand {
    pub field: String,
    pub query: String,
    pub limit: usize,
    pub format: Format,
}

#[derive(Debug, Clone)]
pub struct TimelineCommand {
    pub query: String,
    pub by: Interval,
    /// A countable field whose most frequent values get a series each.
    pub split: Option<String>,
    pub top: usize,
    pub format: Format,
}

#[derive(Debug, Clone)]
pub struct CoocCommand {
    pub field: String,
    /// A second field then the query, or the query alone: which one is known from the schema.
    pub words: Vec<String>,
    pub options: CoocOptions,
    /// Rows and columns of a pair table.
    pub size: usize,
    pub format: Format,
}

#[derive(Debug, Clone)]
pub enum Command {
    Index {
        paths: Vec<PathBuf>,
        options: IndexOptions,
    },
    Search(SearchCommand),
    /// One query per line of a file (`-`: standard input), one JSON line out per query.
    SearchBatch(BatchCommand),
    Facets(FacetsCommand),
    Timeline(TimelineCommand),
    Cooc(CoocCommand),
    Stats {
        facet_limit: usize,
        format: Format,
    },
    Show {
        id: String,
        format: Format,
    },
    Related {
        id: String,
        limit: usize,
        format: Format,
    },
    Extract {
        paths: Vec<PathBuf>,
        /// With every surface form found and the rule that kept or rejected it.
        explain: bool,
        format: Format,
    },
    Eval {
        gold: Vec<PathBuf>,
        options: EvalOptions,
        format: Format,
    },
}

pub fn run(config: Config) -> anyhow::Result<ExitCode> {
    let schema = Schema::load(config.schema_dir.as_deref()).context("cannot load the schema")?;
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    let out = &mut stdout;
    let code = match &config.command {
        Command::Index { paths, options } => index(&config, &schema, paths, options)?,
        Command::Extract {
            paths,
            explain,
            format,
        } => extract(&config, &schema, paths, *explain, *format, out)?,
        Command::Eval {
            gold,
            options,
            format,
        } => eval(&config, &schema, gold, *options, *format, out)?,
        Command::Search(command) => search(&config, &schema, command, out)?,
        Command::SearchBatch(command) => search_batch(&config, &schema, command, out)?,
        Command::Facets(command) => facets(&config, &schema, command, out)?,
        Command::Timeline(command) => timeline(&config, &schema, command, out)?,
        Command::Cooc(command) => cooc(&config, &schema, command, out)?,
        Command::Stats {
            facet_limit,
            format,
        } => stats(&config, &schema, *facet_limit, *format, out)?,
        Command::Show { id, format } => show(&config, &schema, id, *format, out)?,
        Command::Related { id, limit, format } => {
            related(&config, &schema, id, *limit, *format, out)?
        }
    };
    stdout.flush()?;
    Ok(code)
}

fn search(
    config: &Config,
    schema: &Schema,
    search: &SearchCommand,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let Some(facets) = countable_fields(config, schema, &search.options.facets) else {
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    let backend = open_backend(config, schema)?;
    let Some(query) = parse_query(config, schema, &search.query) else {
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    let results = backend.search(&search.options.request(query, facets))?;
    match search.format {
        Format::Text => output::search_text(
            out,
            config.style,
            &search.query,
            search.options.offset,
            &results,
        )?,
        Format::Json => output::write_json(out, &results)?,
        Format::Jsonl => {
            for hit in &results.hits {
                output::write_json_line(out, hit)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs every query of the batch on one open index, printing per query its total, the ids of
/// its hits, its facet counts and the microseconds it took from parsing to results, or its
/// error with the column (and going on). Blank lines and lines starting with `#` are skipped.
/// An unreadable input or index stops the batch.
fn search_batch(
    config: &Config,
    schema: &Schema,
    batch: &BatchCommand,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let Some(facets) = countable_fields(config, schema, &batch.options.facets) else {
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    let backend = open_backend(config, schema)?;
    let catalogs = Catalogs::build(&schema.dictionaries);
    let resolver = Resolver::new(&schema.fields, &catalogs);
    let input = open_batch_input(&batch.input)?;
    let mut failed = false;
    for (number, line) in input.split(b'\n').enumerate() {
        let line = line.with_context(|| format!("{}:{}", batch.input.display(), number + 1))?;
        let line = match String::from_utf8(line) {
            Ok(line) => line,
            Err(error) => {
                failed = true;
                let (query, column) = invalid_utf8(&error);
                let error = output::BatchError {
                    query: query.trim(),
                    error: "not valid UTF-8",
                    column,
                };
                output::write_json_line(out, &error)?;
                continue;
            }
        };
        let query = line.trim();
        if query.is_empty() || query.starts_with('#') {
            continue;
        }
        let started = std::time::Instant::now();
        let outcome = resolver
            .parse(query)
            .map(|parsed| backend.search_ids(&batch.options.request(parsed, facets.clone())));
        let latency_us = started.elapsed().as_micros();
        match outcome {
            Ok(results) => output::write_json_line(
                out,
                &output::BatchResult::new(query, results?, latency_us),
            )?,
            Err(error) => {
                failed = true;
                output::write_json_line(out, &output::BatchError::new(&error))?;
            }
        }
        // A script reading the answers as they come needs each line when it is ready.
        out.flush()?;
    }
    Ok(if failed {
        ExitCode::from(EXIT_USAGE)
    } else {
        ExitCode::SUCCESS
    })
}

/// A line that is not UTF-8, readably, and the column (in characters) where it stops being so.
fn invalid_utf8(error: &std::string::FromUtf8Error) -> (String, usize) {
    let bytes = error.as_bytes();
    let valid = &bytes[..error.utf8_error().valid_up_to()];
    let column = String::from_utf8_lossy(valid).chars().count() + 1;
    (String::from_utf8_lossy(bytes).into_owned(), column)
}

fn open_batch_input(path: &std::path::Path) -> anyhow::Result<Box<dyn BufRead>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(io::stdin().lock()));
    }
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read the queries in {}", path.display()))?;
    Ok(Box::new(io::BufReader::new(file)))
}

fn facets(
    config: &Config,
    schema: &Schema,
    facets: &FacetsCommand,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let Some(fields) = countable_fields(config, schema, std::slice::from_ref(&facets.field)) else {
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    let backend = open_backend(config, schema)?;
    let Some(query) = parse_query(config, schema, &facets.query) else {
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    let (total, facet) = match region_and_country_fields(schema, &fields[0]) {
        Some(both) => region_tree_counts(&backend, schema, &query, both, facets.limit)?,
        None => {
            let (total, mut counts) = backend.facet_counts(&query, &fields, facets.limit)?;
            (total, counts.pop().expect("one field asked, one counted"))
        }
    };
    match facets.format {
        Format::Text => output::facet_table_text(out, config.style, total, &facet)?,
        Format::Json => output::write_json(
            out,
            &FacetsOutput {
                total,
                facet: &facet,
            },
        )?,
        Format::Jsonl => {
            for value in &facet.values {
                output::write_json_line(out, value)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn stats(
    config: &Config,
    schema: &Schema,
    facet_limit: usize,
    format: Format,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let backend = open_backend(config, schema)?;
    let fields: Vec<String> = schema.fields.countable_names().map(str::to_owned).collect();
    let stats = backend.stats(&fields, facet_limit)?;
    match format {
        Format::Text => {
            let path = config.index_dir.display().to_string();
            output::stats_text(out, config.style, &path, &stats)?
        }
        Format::Json | Format::Jsonl => output::write_json(out, &stats)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn show(
    config: &Config,
    schema: &Schema,
    id: &str,
    format: Format,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let backend = open_backend(config, schema)?;
    let Some(article) = backend.article(id)? else {
        anyhow::bail!(
            "no article with id {id:?} in {}",
            config.index_dir.display()
        );
    };
    match format {
        Format::Text => output::article_text(out, config.style, &article)?,
        Format::Json | Format::Jsonl => output::write_json(out, &article)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn related(
    config: &Config,
    schema: &Schema,
    id: &str,
    limit: usize,
    format: Format,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let backend = open_backend(config, schema)?;
    let Some(related) = backend.related(id, limit)? else {
        anyhow::bail!(
            "no article with id {id:?} in {}",
            config.index_dir.display()
        );
    };
    match format {
        Format::Text => output::related_text(out, config.style, &related)?,
        Format::Json => output::write_json(out, &related)?,
        Format::Jsonl => {
            for hit in &related.hits {
                output::write_json_line(out, hit)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn timeline(
    config: &Config,
    schema: &Schema,
    command: &TimelineCommand,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let split = match &command.split {
        Some(name) => match countable_fields(config, schema, std::slice::from_ref(name)) {
            Some(mut fields) => fields.pop(),
            None => return Ok(ExitCode::from(EXIT_USAGE)),
        },
        None => None,
    };
    let backend = open_backend(config, schema)?;
    let Some(query) = parse_query(config, schema, &command.query) else {
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    let counts = backend.timeline(&query, command.by, split.as_deref())?;
    let timeline = Timeline::build(counts, command.by, split.as_deref(), command.top);
    match command.format {
        Format::Text => timeline_text(out, config.style, &timeline)?,
        Format::Json => output::write_json(out, &timeline)?,
        Format::Jsonl => {
            for bucket in &timeline.buckets {
                output::write_json_line(out, bucket)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cooc(
    config: &Config,
    schema: &Schema,
    command: &CoocCommand,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let (second, query_words) = match command.words.split_first() {
        Some((word, rest)) if schema.fields.countable(word).is_some() => (Some(word), rest),
        _ => (None, &command.words[..]),
    };
    let names: Vec<String> = std::iter::once(&command.field)
        .chain(second)
        .cloned()
        .collect();
    let Some(fields) = countable_fields(config, schema, &names) else {
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    let backend = open_backend(config, schema)?;
    let Some(query) = parse_query(config, schema, &query_words.join(" ")) else {
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    match &fields[..] {
        [field] => cooc_values(&backend, &query, field, command, config.style, out)?,
        [first, second] => {
            let counts = backend.pair_counts(&query, [first, second])?;
            let CoocOptions {
                limit, min_count, ..
            } = command.options;
            let table = PairTable::build([first, second], counts, command.size, limit, min_count);
            match command.format {
                Format::Text => pair_table_text(out, config.style, &table)?,
                Format::Json => output::write_json(out, &table)?,
                Format::Jsonl => {
                    for pair in &table.pairs {
                        output::write_json_line(out, pair)?;
                    }
                }
            }
        }
        _ => unreachable!("one or two fields"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The values of `field` among the results, with their lift over the whole index.
fn cooc_values(
    backend: &impl SearchBackend,
    query: &Query,
    field: &str,
    command: &CoocCommand,
    style: Style,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let fields = [field.to_owned()];
    let (results, in_results) = backend.facet_counts(query, &fields, usize::MAX)?;
    let (articles, in_index) = backend.facet_counts(&Query::All, &fields, usize::MAX)?;
    let cooc = Cooccurrence::build(
        field,
        (results, &in_results[0].values),
        (articles, &in_index[0].values),
        command.options,
    );
    match command.format {
        Format::Text => cooc_text(out, style, &cooc)?,
        Format::Json => output::write_json(out, &cooc)?,
        Format::Jsonl => {
            for value in &cooc.values {
                output::write_json_line(out, value)?;
            }
        }
    }
    Ok(())
}

/// `[region field, country field]` when `field` holds regions and the schema has countries.
fn region_and_country_fields(schema: &Schema, field: &str) -> Option<[String; 2]> {
    let of_dictionary = |dictionary| {
        schema
            .fields
            .facets()
            .find(|spec| spec.dictionary == Some(dictionary))
    };
    let regions = of_dictionary(DictionaryName::Regions).filter(|spec| spec.name == field)?;
    let countries = of_dictionary(DictionaryName::Countries)?;
    Some([regions.name.clone(), countries.name.clone()])
}

/// Region counts as a tree down to countries.
fn region_tree_counts(
    backend: &impl SearchBackend,
    schema: &Schema,
    query: &Query,
    fields: [String; 2],
    limit: usize,
) -> anyhow::Result<(u64, FacetCounts)> {
    let (total, counts) = backend.facet_counts(query, &fields, usize::MAX)?;
    let [regions, countries] = &counts[..] else {
        unreachable!("two fields asked, two counted")
    };
    let tree = region_tree(
        &schema.dictionaries,
        &regions.values,
        &countries.values,
        limit,
    );
    Ok((
        total,
        FacetCounts {
            values: tree,
            ..regions.clone()
        },
    ))
}

#[derive(Serialize)]
struct FacetsOutput<'a> {
    total: u64,
    #[serde(flatten)]
    facet: &'a crate::results::FacetCounts,
}

fn open_backend(config: &Config, schema: &Schema) -> anyhow::Result<LocalIndex> {
    let backend = LocalIndex::open(&config.index_dir, schema)?;
    if !backend.dictionaries_current() {
        eprintln!(
            "{} the dictionaries changed since this index was built; its facets may be stale \
             (re-run `geonews index` on the same paths to refresh them)",
            config.style.warning("warning:")
        );
    }
    Ok(backend)
}

/// The field names behind `--facets` names (`org`, `countries`, `lang`), or `None` after
/// printing which names are unknown.
fn countable_fields(config: &Config, schema: &Schema, names: &[String]) -> Option<Vec<String>> {
    let mut fields = Vec::with_capacity(names.len());
    for name in names {
        match schema.fields.countable(name) {
            Some(spec) => fields.push(spec.name.clone()),
            None => {
                let known: Vec<&str> = schema.fields.countable_names().collect();
                eprintln!(
                    "{} `{name}` cannot be counted: choose from {}",
                    config.style.error("error:"),
                    known.join(", ")
                );
                return None;
            }
        }
    }
    Some(fields)
}

/// The resolved query, or `None` after printing the error with its column.
fn parse_query(config: &Config, schema: &Schema, query: &str) -> Option<crate::query::ast::Query> {
    let catalogs = Catalogs::build(&schema.dictionaries);
    match Resolver::new(&schema.fields, &catalogs).parse(query) {
        Ok(query) => Some(query),
        Err(error) => {
            print_query_error(config.style, &error);
            None
        }
    }
}

fn print_query_error(style: Style, error: &QueryError) {
    eprintln!("{} {error}", style.error("error:"));
}

fn index(
    config: &Config,
    schema: &Schema,
    paths: &[PathBuf],
    options: &IndexOptions,
) -> anyhow::Result<ExitCode> {
    let extractor = Extractor::new(&schema.dictionaries, &schema.places()?)?;
    let progress = if config.interactive {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} files {msg}",
            )
            .expect("valid progress template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let style = config.style;
    let mut commits = 0;
    let report = index_paths(
        &config.index_dir,
        schema,
        &extractor,
        paths,
        options,
        &mut |event| match event {
            IndexEvent::FilesFound(count) => progress.set_length(count as u64),
            IndexEvent::FileDone => progress.inc(1),
            IndexEvent::Problem(problem) => progress.suspend(|| print_problem(style, problem)),
            IndexEvent::Committed => {
                commits += 1;
                progress.set_message(format!("({commits} commits)"));
            }
        },
    );
    progress.finish_and_clear();
    let report = report?;
    let mut stderr = io::stderr().lock();
    output::index_summary_text(
        &mut stderr,
        style,
        &config.index_dir.display().to_string(),
        &report,
    )?;
    Ok(if report.skipped > 0 {
        ExitCode::from(EXIT_SKIPPED_INPUT)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_problem(style: Style, problem: &Problem) {
    eprintln!("{} {problem}", style.warning("warning:"));
}

#[derive(Serialize)]
struct Extracted<'a> {
    id: &'a str,
    title: &'a str,
    #[serde(flatten)]
    entities: &'a Entities,
    #[serde(skip_serializing_if = "Option::is_none")]
    explain: Option<&'a [Decision]>,
}

/// `geonews extract`: entities per article, without indexing.
fn extract(
    config: &Config,
    schema: &Schema,
    paths: &[PathBuf],
    explain: bool,
    format: Format,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let extractor = Extractor::new(&schema.dictionaries, &schema.places()?)?;
    let discovery = ingest::discover(paths);
    let mut printer = ExtractPrinter {
        out,
        style: config.style,
        format,
        skipped: 0,
    };
    // Explaining runs extraction again with a trace: a tool for reading, not for speed.
    let with_decisions = |analysed: Analysed| {
        let decisions = explain.then(|| extractor.explain(&analysed.article).1);
        (analysed, decisions)
    };
    pipeline::run(&discovery, &extractor, with_decisions, &mut printer)?;
    Ok(if printer.skipped > 0 {
        ExitCode::from(EXIT_SKIPPED_INPUT)
    } else {
        ExitCode::SUCCESS
    })
}

/// `geonews eval`: extraction scored against the gold labels of articles.
fn eval(
    config: &Config,
    schema: &Schema,
    paths: &[PathBuf],
    options: EvalOptions,
    format: Format,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let extractor = Extractor::new(&schema.dictionaries, &schema.places()?)?;
    let discovery = ingest::discover(paths);
    let mut scorer = EvalSink {
        evaluator: Evaluator::new(&schema.dictionaries, extractor.catalogs(), options),
        style: config.style,
        skipped: 0,
    };
    pipeline::run(&discovery, &extractor, |analysed| analysed, &mut scorer)?;
    let evaluation = scorer.evaluator.finish();
    if evaluation.articles == 0 {
        anyhow::bail!("no article carries a `gold` object of labels");
    }
    match format {
        Format::Text => output::evaluation_text(out, config.style, &evaluation)?,
        Format::Json | Format::Jsonl => output::write_json(out, &evaluation)?,
    }
    Ok(if scorer.skipped > 0 {
        ExitCode::from(EXIT_SKIPPED_INPUT)
    } else {
        ExitCode::SUCCESS
    })
}

struct EvalSink<'a> {
    evaluator: Evaluator<'a>,
    style: Style,
    skipped: usize,
}

impl Sink<Analysed> for EvalSink<'_> {
    type Error = io::Error;

    fn problem(&mut self, problem: &Problem) -> io::Result<()> {
        self.skipped += usize::from(problem.severity == ingest::Severity::Skipped);
        print_problem(self.style, problem);
        Ok(())
    }

    fn accept(&mut self, analysed: Analysed) -> io::Result<()> {
        let Analysed { article, entities } = analysed;
        self.evaluator
            .add(&article.key, article.gold.as_ref(), &entities);
        Ok(())
    }
}

struct ExtractPrinter<'a> {
    out: &'a mut dyn Write,
    style: Style,
    format: Format,
    skipped: usize,
}

impl Sink<(Analysed, Option<Vec<Decision>>)> for ExtractPrinter<'_> {
    type Error = io::Error;

    fn problem(&mut self, problem: &Problem) -> io::Result<()> {
        self.skipped += usize::from(problem.severity == ingest::Severity::Skipped);
        print_problem(self.style, problem);
        Ok(())
    }

    fn accept(
        &mut self,
        (analysed, decisions): (Analysed, Option<Vec<Decision>>),
    ) -> io::Result<()> {
        let Analysed { article, entities } = analysed;
        match self.format {
            Format::Text => {
                let (id, title) = (
                    self.style.dim(&article.key),
                    self.style.title(&article.title),
                );
                writeln!(self.out, "{id}  {title}")?;
                output::entities_text(self.out, self.style, &entities)?;
                if let Some(decisions) = &decisions {
                    output::decisions_text(self.out, self.style, decisions)?;
                }
                writeln!(self.out)
            }
            Format::Json | Format::Jsonl => output::write_json_line(
                self.out,
                &Extracted {
                    id: &article.key,
                    title: &article.title,
                    entities: &entities,
                    explain: decisions.as_deref(),
                },
            ),
        }
    }
}

/// Whether standard output is a terminal that wants colour (and `NO_COLOR` is unset).
pub fn stdout_wants_color() -> bool {
    io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

pub fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
}
