//! The command line's front end: a validated [`Config`] becomes a service request, the service
//! answers, and [`output`] renders the answer. Exit codes are decided here.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::analytics::CoocOptions;
use crate::backend::{ArticleSink, SearchBackend};
use crate::engine::{Engine, EngineChoice, EngineError};
use crate::index::{IndexError, LocalIndex, LocalWriter, WriterOptions};
use crate::ingest::{FetchOptions, Fetcher, is_url};
use crate::output::{self, Format, Printer, Render, Style};
use crate::quickwit::{self, CommitMode, QuickwitError, QuickwitMapper, QuickwitSink};
use crate::results::{CheckReport, CreatedIndex, DamagedSegment};
use crate::schema::Schema;
use crate::server::{self, AppState, ServeOptions};
use crate::service::{
    self, BackupRequest, BatchAnswer, CoocRequest, DeleteRequest, EvalRequest, ExtractRequest,
    FacetsRequest, IndexEvent, IndexRequest, IngestService, ReadEvent, SearchOptions,
    SearchRequest, SearchService, ServiceError, TimelineRequest,
};
use crate::watch::WatchStore;

/// Exit code when a query or argument is wrong.
const EXIT_USAGE: u8 = 2;
/// Exit code when indexing finished but skipped some input, or `delete` did not find some ids.
const EXIT_SKIPPED_INPUT: u8 = 3;
/// Exit code when `watch run` found nothing new.
const EXIT_NOTHING_NEW: u8 = 4;
/// The index's files are not what its writer left.
const EXIT_DAMAGED: u8 = 5;
/// New articles `index --watch` shows per saved search (all of them count as seen).
const WATCH_HITS_SHOWN: usize = 10;

#[derive(Debug, Clone)]
pub struct Config {
    /// The local index, or where saved searches and fetch state live beside a remote engine.
    pub index_dir: PathBuf,
    pub engine: EngineChoice,
    pub schema_dir: Option<PathBuf>,
    pub style: Style,
    /// Whether standard error is a terminal (progress bars).
    pub interactive: bool,
    /// How long a command answering one query may run.
    pub query_budget: std::time::Duration,
    pub command: Command,
}

#[derive(Debug, Clone)]
pub enum Command {
    Index {
        request: IndexRequest,
        writer: WriterOptions,
        /// How URLs are fetched.
        fetch: FetchOptions,
        /// Then run the saved searches over what was added.
        then_watch: bool,
        /// How a Quickwit engine commits.
        commit: CommitMode,
    },
    /// `geonews quickwit init`: the engine's index, created for the schema's fields.
    QuickwitInit {
        replace: bool,
        format: Format,
    },
    Search {
        request: SearchRequest,
        format: Format,
    },
    /// One query per line of a file (`-`: standard input), one JSON line out per query.
    SearchBatch {
        input: PathBuf,
        options: SearchOptions,
    },
    Facets {
        request: FacetsRequest,
        format: Format,
    },
    Timeline {
        request: TimelineRequest,
        format: Format,
    },
    /// `cooc FIELD [FIELD2] QUERY`: the words after the field are split by the schema.
    Cooc {
        field: String,
        words: Vec<String>,
        options: CoocOptions,
        size: usize,
        format: Format,
    },
    Stats {
        facet_limit: usize,
        format: Format,
    },
    /// Every file of the index against its checksum.
    Check {
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
        request: ExtractRequest,
        format: Format,
    },
    Eval {
        request: EvalRequest,
        format: Format,
    },
    Serve(ServeOptions),
    Watch(WatchAction),
    /// Articles out of the index, by id or by query.
    Delete {
        request: DeleteRequest,
        /// Queue behind another writer rather than stop.
        wait: bool,
        format: Format,
    },
    /// Every segment merged into one, deleted articles' space reclaimed.
    Compact {
        wait: bool,
        format: Format,
    },
    /// A copy of the index as of its last commit, in a new or empty folder.
    Backup {
        request: BackupRequest,
        wait: bool,
        format: Format,
    },
    /// The articles matching a query for another engine (Elasticsearch bulk actions, Quickwit
    /// documents), or the mapping to create their Elasticsearch index with.
    Export(service::ExportRequest),
}

/// `geonews watch ...`: saved searches of the index.
#[derive(Debug, Clone)]
pub enum WatchAction {
    Add {
        name: String,
        query: String,
        note: Option<String>,
    },
    List {
        format: Format,
    },
    Remove {
        name: String,
    },
    Show {
        name: String,
        format: Format,
    },
    Run {
        names: Vec<String>,
        dry_run: bool,
        limit: usize,
        format: Format,
        /// Leave out the watches with nothing new (after `index --watch`, so that a cron job
        /// prints, and mails, nothing when nothing is new).
        only_news: bool,
    },
}

/// What one command printed on standard output, and how it ended.
type Outcome = Result<ExitCode, ServiceError>;

pub fn run(config: Config) -> anyhow::Result<ExitCode> {
    let schema =
        Arc::new(Schema::load(config.schema_dir.as_deref()).context("cannot load the schema")?);
    let printer = Printer::new(config.style, &schema.fields);
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    let outcome = match &config.command {
        Command::Index {
            request,
            writer,
            fetch,
            then_watch,
            commit,
        } => index(
            &config,
            Arc::clone(&schema),
            request,
            (writer, *commit),
            fetch,
            &printer,
        )
        .and_then(|code| {
            if *then_watch {
                let run = WatchAction::Run {
                    names: Vec::new(),
                    dry_run: false,
                    limit: WATCH_HITS_SHOWN,
                    format: Format::Text,
                    only_news: true,
                };
                watch(&config, schema, &run, &printer, &mut stdout)?;
            }
            Ok(code)
        }),
        Command::Extract { request, format } => {
            extract(schema, request, *format, &printer, &mut stdout)
        }
        Command::Eval { request, format } => eval(schema, request, *format, &printer, &mut stdout),
        Command::SearchBatch { input, options } => {
            search_batch(&config, schema, input, options, &mut stdout)
        }
        Command::Serve(options) => serve(&config, schema, options),
        Command::QuickwitInit { replace, format } => {
            quickwit_init(&config, &schema, *replace, *format, &printer, &mut stdout)
        }
        Command::Check { format } => check(&config, &schema, *format, &printer, &mut stdout),
        Command::Watch(action) => watch(&config, schema, action, &printer, &mut stdout),
        Command::Delete {
            request,
            wait,
            format,
        } => delete(
            &config,
            schema,
            request,
            *wait,
            *format,
            &printer,
            &mut stdout,
        ),
        Command::Compact { wait, format } => {
            compact(&config, &schema, *wait, *format, &printer, &mut stdout)
        }
        Command::Backup {
            request,
            wait,
            format,
        } => backup(
            &config,
            &schema,
            request,
            *wait,
            *format,
            &printer,
            &mut stdout,
        ),
        Command::Export(request) => export(&config, schema, request, &printer, &mut stdout),
        query => answer(&config, schema, query, &printer, &mut stdout),
    };
    stdout.flush()?;
    match outcome {
        Ok(code) => Ok(code),
        Err(error) if error.is_usage() => {
            eprintln!("{} {error}", config.style.error("error:"));
            Ok(ExitCode::from(EXIT_USAGE))
        }
        Err(ServiceError::Backend(error))
            if error
                .downcast_ref::<EngineError>()
                .is_some_and(EngineError::is_damage)
                || error
                    .downcast_ref::<IndexError>()
                    .is_some_and(IndexError::is_damage) =>
        {
            eprintln!("{} {error}", config.style.error("error:"));
            Ok(ExitCode::from(EXIT_DAMAGED))
        }
        // Kept an io::Error, so that main sees a closed pipe for what it is.
        Err(ServiceError::Output(error)) => Err(error.into()),
        Err(error) => Err(error.into()),
    }
}

/// Commands that read the index: one request, one response.
fn answer(
    config: &Config,
    schema: Arc<Schema>,
    command: &Command,
    printer: &Printer,
    out: &mut dyn Write,
) -> Outcome {
    stop_past(config.query_budget, config.style);
    let service = open_search(config, schema)?;
    match command {
        Command::Search { request, format } => {
            show(out, *format, printer, &service.search(request)?)
        }
        Command::Facets { request, format } => {
            show(out, *format, printer, &service.facets(request)?)
        }
        Command::Timeline { request, format } => {
            show(out, *format, printer, &service.timeline(request)?)
        }
        Command::Cooc {
            field,
            words,
            options,
            size,
            format,
        } => {
            let (second, query) = service.cooc_words(words);
            let request = CoocRequest {
                field: field.clone(),
                second,
                query,
                options: *options,
                size: *size,
            };
            show(out, *format, printer, &service.cooc(&request)?)
        }
        Command::Stats {
            facet_limit,
            format,
        } => show(out, *format, printer, &service.stats(*facet_limit)?),
        Command::Show { id, format } => show(out, *format, printer, &service.article(id)?),
        Command::Related { id, limit, format } => {
            show(out, *format, printer, &service.related(id, *limit)?)
        }
        Command::Index { .. }
        | Command::SearchBatch { .. }
        | Command::Extract { .. }
        | Command::Eval { .. }
        | Command::Serve(_)
        | Command::Check { .. }
        | Command::Watch(_)
        | Command::Delete { .. }
        | Command::Compact { .. }
        | Command::Backup { .. }
        | Command::QuickwitInit { .. }
        | Command::Export(_) => unreachable!("not a single-answer command"),
    }
}

/// Ends the process with an error once `budget` has passed: a search cannot be interrupted
/// midway, and a query the limits let through may still take long on a large index.
fn stop_past(budget: std::time::Duration, style: Style) {
    std::thread::spawn(move || {
        std::thread::sleep(budget);
        eprintln!(
            "{} the query ran past its time budget of {} s (--timeout): narrow it (fewer words, \
             fewer fuzzy `~` words) or give it more time",
            style.error("error:"),
            budget.as_secs_f64()
        );
        std::process::exit(i32::from(EXIT_USAGE));
    });
}

fn show(out: &mut dyn Write, format: Format, printer: &Printer, response: &impl Render) -> Outcome {
    output::emit(out, format, printer, response).map_err(ServiceError::Output)?;
    Ok(ExitCode::SUCCESS)
}

/// Runs every query of the batch on one open index, printing per query its total, the ids of
/// its hits, its facet counts and the microseconds it took from parsing to results, or its
/// error with the column (and going on). Blank lines and lines starting with `#` are skipped.
/// An unreadable input or index stops the batch.
fn search_batch(
    config: &Config,
    schema: Arc<Schema>,
    input: &Path,
    options: &SearchOptions,
    out: &mut dyn Write,
) -> Outcome {
    let service = open_search(config, schema)?;
    service.check_batch(options)?;
    let lines = open_batch_input(input).map_err(ServiceError::Output)?;
    let mut failed = false;
    for (number, line) in lines.split(b'\n').enumerate() {
        let line = line.map_err(|error| {
            ServiceError::Output(io::Error::new(
                error.kind(),
                format!("{}:{}: {error}", input.display(), number + 1),
            ))
        })?;
        let answer = match String::from_utf8(line) {
            Ok(line) if line.trim().is_empty() || line.trim().starts_with('#') => continue,
            Ok(line) => service.batch_answer(line.trim(), options)?,
            Err(error) => not_utf8(&error),
        };
        failed |= answer.is_failure();
        output::write_json_line(out, &answer).map_err(ServiceError::Output)?;
        // A script reading the answers as they come needs each line when it is ready.
        out.flush().map_err(ServiceError::Output)?;
    }
    Ok(if failed {
        ExitCode::from(EXIT_USAGE)
    } else {
        ExitCode::SUCCESS
    })
}

/// A line that is not UTF-8, shown readably, failing at the column (in characters) where it
/// stops being UTF-8.
fn not_utf8(error: &std::string::FromUtf8Error) -> BatchAnswer {
    let bytes = error.as_bytes();
    let valid = &bytes[..error.utf8_error().valid_up_to()];
    BatchAnswer::Failed {
        query: String::from_utf8_lossy(bytes).trim().to_owned(),
        error: "not valid UTF-8".to_owned(),
        column: String::from_utf8_lossy(valid).chars().count() + 1,
    }
}

fn open_batch_input(path: &Path) -> io::Result<Box<dyn BufRead>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(io::stdin().lock()));
    }
    let file = std::fs::File::open(path).map_err(|error| {
        io::Error::new(
            error.kind(),
            format!("cannot read the queries in {}: {error}", path.display()),
        )
    })?;
    Ok(Box::new(io::BufReader::new(file)))
}

/// The search service over the engine (the index of `--index`, or `--engine`), after printing
/// what the engine warns of.
fn open_search(
    config: &Config,
    schema: Arc<Schema>,
) -> Result<SearchService<Engine>, ServiceError> {
    let backend = Engine::open(&config.engine, &schema).map_err(ServiceError::backend)?;
    print_warnings(config, &backend);
    Ok(SearchService::new(schema, backend))
}

/// Runs `use_sink` on the write side of the engine: the local index's writer (queued behind
/// another writer with `wait`), or a Quickwit index.
macro_rules! with_sink {
    ($config:expr, $schema:expr, $options:expr, $commit:expr, |$sink:ident| $use_sink:expr) => {
        match &$config.engine {
            EngineChoice::Local(_) => {
                let $sink = open_writer($config, $schema, $options)?;
                $use_sink
            }
            EngineChoice::Quickwit(target) => {
                let $sink =
                    QuickwitSink::open(target, $schema, $commit).map_err(ServiceError::backend)?;
                $use_sink
            }
        }
    };
}

/// `geonews quickwit init`: the index `--engine` names, created for the schema's fields.
fn quickwit_init(
    config: &Config,
    schema: &Schema,
    replace: bool,
    format: Format,
    printer: &Printer,
    out: &mut dyn Write,
) -> Outcome {
    let EngineChoice::Quickwit(target) = &config.engine else {
        return Err(ServiceError::Input(
            "`geonews quickwit init` needs --engine quickwit+http://HOST:7280/INDEX (or \
             GEONEWS_ENGINE)"
                .to_owned(),
        ));
    };
    let created = quickwit::create_index(target, schema, replace).map_err(ServiceError::backend)?;
    let response = CreatedIndex {
        location: target.to_string(),
        replaced: replace,
        fields: created.fields().len(),
        config: created.json,
    };
    show(out, format, printer, &response)
}

/// What the index warns of (stale facets), before it is used.
fn print_warnings(config: &Config, backend: &impl SearchBackend) {
    for warning in backend.warnings() {
        eprintln!("{} {warning}", config.style.warning("warning:"));
    }
}

fn index(
    config: &Config,
    schema: Arc<Schema>,
    request: &IndexRequest,
    (writer, commit): (&WriterOptions, CommitMode),
    fetch: &FetchOptions,
    printer: &Printer,
) -> Outcome {
    if writer.rebuild && matches!(config.engine, EngineChoice::Quickwit(_)) {
        return Err(ServiceError::Input(
            "--rebuild builds a new local index; for a Quickwit index, run `geonews quickwit \
             init --replace`, then `geonews index`"
                .to_owned(),
        ));
    }
    let service = IngestService::new(schema)?;
    // The writer lock is taken before anything (fetch state included) is written.
    let schema = Arc::clone(service.schema());
    with_sink!(config, &schema, writer, commit, |sink| index_into(
        config, &service, request, writer, fetch, printer, sink
    ))
}

fn index_into(
    config: &Config,
    service: &IngestService,
    request: &IndexRequest,
    writer: &WriterOptions,
    fetch: &FetchOptions,
    printer: &Printer,
    sink: impl ArticleSink,
) -> Outcome {
    let mut request = request.clone();
    let has_urls = request
        .paths
        .iter()
        .any(|path| path.to_str().is_some_and(is_url));
    if has_urls || request.url_list.is_some() {
        // What was fetched is remembered beside the index; a rebuild fetches every page whole.
        let fetcher = Fetcher::open(Some(&config.index_dir), writer.rebuild, fetch.clone())
            .map_err(ServiceError::Input)?;
        request.fetcher = Some(Arc::new(fetcher));
    }
    let progress = progress_bar(config.interactive);
    let style = config.style;
    let mut commits = 0;
    let report = service.index(&request, sink, &mut |event| match event {
        IndexEvent::FilesFound(count) => progress.set_length(count as u64),
        IndexEvent::FileDone => progress.inc(1),
        IndexEvent::Problem(problem) => progress.suspend(|| {
            let _ = output::problem_text(&mut io::stderr(), style, problem);
        }),
        IndexEvent::Committed => {
            commits += 1;
            progress.set_message(format!("({commits} commits)"));
        }
    });
    progress.finish_and_clear();
    let report = report?;
    output::emit(&mut io::stderr().lock(), Format::Text, printer, &report)
        .map_err(ServiceError::Output)?;
    Ok(exit_code(report.skipped as usize))
}

/// `geonews delete`: a dry run reads the index; a real one takes the writer lock first, then
/// opens the read side, so that a query finds the articles as the writer holds them.
fn delete(
    config: &Config,
    schema: Arc<Schema>,
    request: &DeleteRequest,
    wait: bool,
    format: Format,
    printer: &Printer,
    out: &mut dyn Write,
) -> Outcome {
    let response = if request.dry_run {
        open_search(config, schema)?.plan_delete(request)?
    } else {
        // A wrong query is told before waiting for the lock, not after.
        service::check_delete(&schema, request)?;
        let options = WriterOptions::upkeep(wait);
        with_sink!(config, &schema, &options, CommitMode::WaitFor, |sink| {
            open_search(config, Arc::clone(&schema))?.delete(request, sink)?
        })
    };
    show(out, format, printer, &response)?;
    Ok(if response.missed_any() {
        ExitCode::from(EXIT_SKIPPED_INPUT)
    } else {
        ExitCode::SUCCESS
    })
}

/// `geonews compact`: under the writer lock, like indexing.
fn compact(
    config: &Config,
    schema: &Arc<Schema>,
    wait: bool,
    format: Format,
    printer: &Printer,
    out: &mut dyn Write,
) -> Outcome {
    let options = WriterOptions::upkeep(wait);
    let response = with_sink!(config, schema, &options, CommitMode::WaitFor, |sink| {
        service::compact(sink)?
    });
    show(out, format, printer, &response)
}

/// `geonews backup DIR`: under the writer lock, so that no commit or merge changes the files
/// being copied; searches go on.
fn backup(
    config: &Config,
    schema: &Arc<Schema>,
    request: &BackupRequest,
    wait: bool,
    format: Format,
    printer: &Printer,
    out: &mut dyn Write,
) -> Outcome {
    // Refused before waiting for the lock, not after.
    service::check_backup(request)?;
    let options = WriterOptions::upkeep(wait);
    let response = with_sink!(config, schema, &options, CommitMode::WaitFor, |sink| {
        service::backup(sink, request)?
    });
    show(out, format, printer, &response)
}

/// `geonews check`: every file against its checksum, the damaged segments named.
fn check(
    config: &Config,
    schema: &Schema,
    format: Format,
    printer: &Printer,
    out: &mut dyn Write,
) -> Outcome {
    if let EngineChoice::Quickwit(_) = config.engine {
        return Err(ServiceError::backend(QuickwitError::Unsupported {
            what: "`geonews check`",
            instead: "Quickwit checks its own splits; `geonews stats` shows what it holds",
        }));
    }
    let checked = LocalIndex::check(&config.index_dir, schema).map_err(ServiceError::backend)?;
    let report = CheckReport {
        location: config.index_dir.display().to_string(),
        segments: checked.segments,
        files: checked.files,
        bytes: checked.bytes,
        damaged: checked
            .damaged
            .into_iter()
            .map(|(segment, kinds)| DamagedSegment {
                segment,
                files: kinds.into_iter().collect(),
            })
            .collect(),
    };
    show(out, format, printer, &report)?;
    Ok(if report.damaged.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_DAMAGED)
    })
}

/// The index's writer, queued behind another writer with `--wait`; what earlier runs left
/// and it removed is noted.
fn open_writer(
    config: &Config,
    schema: &Arc<Schema>,
    options: &WriterOptions,
) -> Result<LocalWriter, ServiceError> {
    let first_try = WriterOptions {
        wait: false,
        ..options.clone()
    };
    let writer = match LocalIndex::writer(&config.index_dir, schema, &first_try) {
        Err(IndexError::Busy { holder, .. }) if options.wait => {
            eprintln!(
                "{} waiting for the other writer of {} to finish ({holder})",
                config.style.dim("note:"),
                config.index_dir.display()
            );
            LocalIndex::writer(&config.index_dir, schema, options)
        }
        other => other,
    }
    .map_err(ServiceError::backend)?;
    for removed in writer.removed_leftovers() {
        eprintln!(
            "{} removed {} ({}): {}",
            config.style.dim("note:"),
            removed.path.display(),
            output::human_bytes(removed.bytes),
            removed.why
        );
    }
    Ok(writer)
}

/// `geonews serve`: the services behind the HTTP API and the web page, until Ctrl-C.
fn serve(config: &Config, schema: Arc<Schema>, options: &ServeOptions) -> Outcome {
    let backend = Engine::open_live(&config.engine, &schema).map_err(ServiceError::backend)?;
    print_warnings(config, &backend);
    let state = Arc::new(AppState::new(
        SearchService::new(Arc::clone(&schema), backend),
        IngestService::new(schema)?,
        WatchStore::new(&config.index_dir),
        options.limits,
        options.read_only,
    ));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServiceError::Output)?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .map_err(|error| {
                ServiceError::Output(io::Error::new(
                    error.kind(),
                    format!("cannot listen on {}: {error}", options.listen),
                ))
            })?;
        let address = listener.local_addr().map_err(ServiceError::Output)?;
        if options.public {
            eprintln!(
                "{} --public: anyone who reaches {address} can read this index",
                config.style.warning("warning:")
            );
        }
        let articles = crate::backend::SearchBackend::overview(state.search.backend(), &[])
            .map_err(ServiceError::backend)?
            .0
            .articles;
        eprintln!(
            "serving {} ({articles} articles) at http://{address}/",
            state.search.backend().location()
        );
        let access = server::Access {
            token: options.token.clone(),
            loopback_hosts_only: options.token.is_none() && !options.public,
        };
        let router = server::router(state, access);
        server::serve(listener, router, options.limits.header_timeout)
            .await
            .map_err(ServiceError::Output)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `geonews watch ...`: saved searches, stored beside the index.
fn watch(
    config: &Config,
    schema: Arc<Schema>,
    action: &WatchAction,
    printer: &Printer,
    out: &mut dyn Write,
) -> Outcome {
    let service = open_search(config, schema)?;
    if let EngineChoice::Quickwit(_) = config.engine {
        // Saved searches of a remote engine live in the --index folder, made on first use.
        std::fs::create_dir_all(&config.index_dir).map_err(|error| {
            ServiceError::Output(io::Error::new(
                error.kind(),
                format!("cannot create {}: {error}", config.index_dir.display()),
            ))
        })?;
    }
    let store = WatchStore::new(&config.index_dir);
    match action {
        WatchAction::Add { name, query, note } => {
            let saved = service.add_watch(&store, name, query, note.clone())?;
            show(out, Format::Text, printer, &saved)
        }
        WatchAction::List { format } => show(out, *format, printer, &service.watches(&store)?),
        WatchAction::Remove { name } => {
            store.remove(name)?;
            Ok(ExitCode::SUCCESS)
        }
        WatchAction::Show { name, format } => {
            show(out, *format, printer, &service.watch_status(&store, name)?)
        }
        WatchAction::Run {
            names,
            dry_run,
            limit,
            format,
            only_news,
        } => {
            let mut run = service.run_watches(&store, names, *limit, *dry_run)?;
            if *only_news {
                run.reports.retain(|report| report.total > 0);
            }
            show(out, *format, printer, &run)?;
            Ok(if run.found_anything() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_NOTHING_NEW)
            })
        }
    }
}

fn progress_bar(interactive: bool) -> ProgressBar {
    if !interactive {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} files {msg}",
        )
        .expect("valid progress template"),
    );
    bar
}

/// `geonews extract`: entities per article, without indexing.
fn extract(
    schema: Arc<Schema>,
    request: &ExtractRequest,
    format: Format,
    printer: &Printer,
    out: &mut dyn Write,
) -> Outcome {
    let service = IngestService::new(schema)?;
    let summary = service.extract(request, &mut |event| match event {
        ReadEvent::Problem(problem) => {
            output::problem_text(&mut io::stderr(), printer.style, problem)
        }
        ReadEvent::Item(article) => output::emit(out, format, printer, &article),
    })?;
    Ok(exit_code(summary.skipped))
}

/// `geonews eval`: extraction scored against the gold labels of articles.
fn eval(
    schema: Arc<Schema>,
    request: &EvalRequest,
    format: Format,
    printer: &Printer,
    out: &mut dyn Write,
) -> Outcome {
    let service = IngestService::new(schema)?;
    let (evaluation, summary) = service.eval(request, &mut |problem| {
        output::problem_text(&mut io::stderr(), printer.style, problem)
    })?;
    output::emit(out, format, printer, &evaluation).map_err(ServiceError::Output)?;
    Ok(exit_code(summary.skipped))
}

/// `geonews export`: the mapping from the schema alone, or every matching article streamed
/// from the index as it is read (no time budget: a large index takes long).
fn export(
    config: &Config,
    schema: Arc<Schema>,
    request: &service::ExportRequest,
    printer: &Printer,
    out: &mut dyn Write,
) -> Outcome {
    service::check_export(request)?;
    let export = output::EsExport::new(&schema, &request.es_index).map_err(ServiceError::Input)?;
    if request.format == service::ExportFormat::EsMapping {
        export.write_mapping(out).map_err(ServiceError::Output)?;
        return Ok(ExitCode::SUCCESS);
    }
    let service = open_search(config, Arc::clone(&schema))?;
    let exported = if request.format == service::ExportFormat::Quickwit {
        let mapper = QuickwitMapper::new(Arc::clone(&schema));
        service.export(request, &mut |article| {
            output::write_json_line(out, &mapper.exported(article))
        })?
    } else {
        service.export(request, &mut |article| export.write_bulk(out, article))?
    };
    out.flush().map_err(ServiceError::Output)?;
    output::emit(&mut io::stderr().lock(), Format::Text, printer, &exported)
        .map_err(ServiceError::Output)?;
    Ok(ExitCode::SUCCESS)
}

fn exit_code(skipped: usize) -> ExitCode {
    if skipped > 0 {
        ExitCode::from(EXIT_SKIPPED_INPUT)
    } else {
        ExitCode::SUCCESS
    }
}

/// Whether standard output is a terminal that wants colour (and `NO_COLOR` is unset).
pub fn stdout_wants_color() -> bool {
    io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

pub fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
}
