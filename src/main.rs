//! The `geonews` command line: flags to a validated [`Config`], then [`geonews::run`].

use std::io;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use geonews::analytics::{CoocOptions, CoocOrder, Interval};
use geonews::app::{self, Command, Config, WatchAction};
use geonews::engine::EngineChoice;
use geonews::eval::EvalOptions;
use geonews::index::{WriterOptions, default_index_dir};
use geonews::ingest::{FetchOptions, ReadLimits};
use geonews::output::{Format, Style};
use geonews::quickwit::{CommitMode, Target};
use geonews::results::Sort;
use geonews::server::{self, Limits, ServeOptions};
use geonews::service::{
    BackupRequest, DeleteRequest, DeleteTarget, EvalRequest, ExtractRequest, FacetsRequest,
    IndexRequest, SearchOptions, SearchRequest, TimelineRequest,
};

// Indexing allocates small strings on four threads at once; glibc's allocator spends a tenth
// of the CPU there (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Search engine for geopolitical news: index articles with country, region, person,
/// organization and topic facets, then search them with keywords and facet filters.
#[derive(Debug, Parser)]
#[command(name = "geonews", version, about, max_term_width = 100)]
struct Cli {
    /// Index folder [default: $XDG_DATA_HOME/geonews/index, else ~/.local/share/geonews/index]
    #[arg(long, global = true, env = "GEONEWS_INDEX", value_name = "DIR")]
    index: Option<PathBuf>,

    /// Folder whose fields.toml, countries.toml, regions.toml, places.toml, history.toml,
    /// people.toml, organizations.toml, topics.toml or stoplist.toml replace the built-in ones
    #[arg(long, global = true, value_name = "DIR")]
    schema: Option<PathBuf>,

    /// Read and write a Quickwit cluster instead of the local index:
    /// quickwit+http://HOST:7280/INDEX, several nodes separated by commas
    /// (quickwit+http://HOST1:7280,HOST2:7280/INDEX); saved searches stay in --index
    #[arg(long, global = true, env = "GEONEWS_ENGINE", value_name = "URL")]
    engine: Option<String>,

    /// When to colour output
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,

    /// Seconds a command answering one query (search, facets, timeline, cooc, related, show,
    /// stats) may run before it stops with an error
    #[arg(long, global = true, default_value_t = 60.0, value_name = "SECONDS", value_parser = parse_seconds)]
    timeout: f64,

    #[command(subcommand)]
    command: CliCommand,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SortOrder {
    /// BM25 relevance (newest first when the query has no free text)
    Relevance,
    /// Oldest first
    Date,
    /// Newest first
    #[value(name = "-date")]
    NewestFirst,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Bucket {
    Day,
    /// ISO weeks, starting on Monday
    Week,
    Month,
    Year,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CoocSort {
    /// Most matching articles first
    Count,
    /// Most unusual among the results first
    Lift,
}

#[derive(Debug, Subcommand)]
enum CliCommand {
    /// Read articles (JSON, JSON Lines, CSV, text, Markdown, gzipped; `-` for JSON Lines on
    /// standard input) and add them to the index. Exit code 3 when some input was skipped.
    Index(IndexArgs),
    /// Search with keywords and facet filters, e.g. `landmine clearance country:NorthKorea
    /// topic:sanctions after:2024-01`. See docs/query-language.md.
    Search(SearchArgs),
    /// Count the values of one facet field over the articles matching a query (its own
    /// filters included, unlike the multi-select counts of `search`)
    Facets(FacetsArgs),
    /// Articles matching a query over time, as a bar chart (or JSON): calendar buckets in UTC,
    /// optionally split by a facet's most frequent values
    Timeline(TimelineArgs),
    /// Which values of a field go with a query: `cooc country topic:sanctions` ranks countries
    /// by lift, and `cooc country topic topic:sanctions` (two fields) prints a pair table.
    ///
    /// Lift = (share of the matching articles that have the value) / (share of all articles that
    /// have it). A lift of 3 means the value is three times as common among the results as in
    /// the whole index; 1 means the query makes no difference. In a pair table, a pair's lift
    /// compares how often the two values appear together in the results with how often they
    /// would if they were independent.
    #[command(verbatim_doc_comment)]
    Cooc(CoocArgs),
    /// Articles, date span, index size and top facet values
    Stats(StatsArgs),
    /// Read every file of the index and compare it with its checksum; name the damaged
    /// segments (exit code 5 when there are any)
    Check(CheckArgs),
    /// Print one stored article with its entities
    Show(ShowArgs),
    /// Print the entities found in articles, without indexing
    Extract(ExtractArgs),
    /// Score extraction against the gold labels articles carry (`"gold": {"countries": ["KP"],
    /// "topics": ["sanctions"]}`; labels under `countries_disputed` count neither way): micro
    /// precision, recall and F1 per field, the most frequent errors with example ids
    Eval(EvalArgs),
    /// Articles like one article: its distinctive words (more-like-this) and a bonus for each
    /// entity they share, which is listed under each hit
    Related(RelatedArgs),
    /// Serve the index over HTTP: a JSON API that answers as `--format json` does, and a web
    /// page to search it by facets, time and evidence. New commits are picked up as they land
    Serve(ServeArgs),
    /// Saved searches that watch the news: `watch run` shows what each has not seen yet, by
    /// when articles were indexed (an old article indexed today is news)
    #[command(subcommand)]
    Watch(WatchCommand),
    /// Delete articles by id, or every article matching a query (a takedown, a retracted
    /// story): gone from searches, facets and `show` at once. Exit code 3 when some ids were
    /// not in the index
    Delete(DeleteArgs),
    /// Merge the index's segments into one and reclaim the space of deleted articles;
    /// searches go on meanwhile
    Compact(CompactArgs),
    /// Copy the index as of its last commit into DIR, a new or empty folder, while searches go
    /// on. To restore, point --index at DIR
    Backup(BackupArgs),
    /// Manage the Quickwit index of --engine
    #[command(subcommand)]
    Quickwit(QuickwitCommand),
    /// Write the articles matching a query (every article by default) to standard output as
    /// Elasticsearch / OpenSearch `_bulk` NDJSON, or the mapping that creates their index: an
    /// export path, not a search engine
    Export(ExportArgs),
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// Only articles matching this query (the language of `search`; after `--` when it starts
    /// with `-`)
    #[arg(value_name = "QUERY")]
    query: Vec<String>,
    #[arg(long, short = 'f', value_enum)]
    format: geonews::service::ExportFormat,
    /// The Elasticsearch index: the bulk actions name it, and the mapping is the body of
    /// `PUT /NAME`
    #[arg(long, default_value = "geonews", value_name = "NAME")]
    es_index: String,
}

#[derive(Debug, Args)]
struct DeleteArgs {
    /// Ids of the articles to delete (after `--` when one starts with `-`)
    #[arg(
        value_name = "ID",
        required_unless_present = "query",
        conflicts_with = "query"
    )]
    ids: Vec<String>,
    /// Delete every article matching this query (the language of `search`)
    #[arg(long, value_name = "QUERY")]
    query: Option<String>,
    /// List what would be deleted and change nothing
    #[arg(long)]
    dry_run: bool,
    /// When another geonews is writing the index, wait for it to finish instead of stopping
    #[arg(long)]
    wait: bool,
    /// Text, JSON, or JSON Lines (one id a line with what became of it)
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Args)]
struct CompactArgs {
    /// When another geonews is writing the index, wait for it to finish instead of stopping
    #[arg(long)]
    wait: bool,
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Subcommand)]
enum QuickwitCommand {
    /// Create the index --engine names, with the fields of schema/fields.toml
    Init {
        /// Delete an index of that name first, with every article in it
        #[arg(long)]
        replace: bool,
        #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum QuickwitCommit {
    /// Wait for Quickwit's own commit (within 5 s of the last batch)
    WaitFor,
    /// Commit at once (small splits: for tests and small runs)
    Force,
}

#[derive(Debug, Args)]
struct BackupArgs {
    /// A new or empty folder to copy the index into
    #[arg(value_name = "DIR")]
    destination: PathBuf,
    /// When another geonews is writing the index, wait for it to finish instead of stopping
    #[arg(long)]
    wait: bool,
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Subcommand)]
enum WatchCommand {
    /// Save a search; it has seen what the index holds now
    Add {
        /// 1 to 64 letters, digits, `-` or `_` (its feed is /feeds/NAME.atom)
        name: String,
        /// The query (after `--` when it starts with `-`)
        #[arg(required = true, value_name = "QUERY")]
        query: Vec<String>,
        /// A note kept with it
        #[arg(long)]
        note: Option<String>,
    },
    /// The saved searches with how many new articles each has
    List {
        #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Remove a saved search
    Rm { name: String },
    /// One saved search with how many new articles it has
    Show {
        name: String,
        #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The articles each saved search (or those named) has not seen, newest first; then they
    /// count as seen. Exit code 0 when anything was new, 4 when nothing was
    Run {
        names: Vec<String>,
        /// Show without marking anything seen
        #[arg(long)]
        dry_run: bool,
        /// New articles shown per saved search (all of them count as seen)
        #[arg(long, short = 'n', default_value_t = 50)]
        limit: usize,
        /// Text, or JSON Lines: one object per saved search and article
        #[arg(long, short = 'f', default_value = "text", value_parser = extract_format)]
        format: Format,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address and port to listen on; port 0 picks a free one. Anything but loopback needs
    /// --token or --public
    #[arg(long, default_value_t = SocketAddr::from(([127, 0, 0, 1], server::DEFAULT_PORT)), value_name = "ADDR")]
    listen: SocketAddr,
    /// A bearer token every API request must carry (`Authorization: Bearer TOKEN`)
    #[arg(
        long,
        env = "GEONEWS_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
    /// Serve a non-loopback address without a token: anyone who reaches the port can read
    /// the index
    #[arg(long, conflicts_with = "token")]
    public: bool,
    /// Refuse to add or remove saved searches over HTTP
    #[arg(long)]
    read_only: bool,
    /// Seconds a request may take before it is answered 408
    #[arg(long, default_value_t = 10, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout: u64,
    /// Seconds a client has to send a request's headers before it is disconnected
    #[arg(long, default_value_t = 10, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout: u64,
    /// Characters of a query
    #[arg(long, default_value_t = 4096, value_name = "N")]
    max_query_chars: usize,
    /// Hits or values one request may ask for (`limit`, `facet_limit`)
    #[arg(long, default_value_t = 1000, value_name = "N")]
    max_limit: usize,
    /// Requests answered at once; more are turned away with 503 rather than queued
    #[arg(long, default_value_t = 64, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_concurrent: u64,
    /// Bytes of a request body (POST /api/extract): 1MiB, 200KB
    #[arg(long, default_value = "1MiB", value_name = "SIZE", value_parser = parse_byte_size)]
    max_body: usize,
}

#[derive(Debug, Args)]
struct IndexArgs {
    /// How a Quickwit engine makes the articles searchable at each commit
    #[arg(long, value_enum, default_value_t = QuickwitCommit::WaitFor)]
    quickwit_commit: QuickwitCommit,
    /// Files, folders and http(s) URLs of pages and feeds to read (`-` reads standard input:
    /// JSON Lines, a JSON array, a web page, a feed or a web archive, told by its first bytes)
    #[arg(required_unless_present = "urls", value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Also read the URLs listed in FILE, one a line (`#` starts a comment). Each host gets one
    /// request at a time; robots.txt is obeyed; a page unchanged since the last run is not
    /// fetched again (ETag and Last-Modified are kept in the index folder)
    #[arg(long, value_name = "FILE")]
    urls: Option<PathBuf>,
    /// Seconds between two requests to one host (a longer robots.txt Crawl-delay wins)
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS", value_parser = parse_seconds)]
    host_delay: f64,
    /// Seconds a URL may take, redirects and body included
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS", value_parser = parse_seconds)]
    fetch_timeout: f64,
    /// The largest page or feed fetched (a larger one is reported and skipped)
    #[arg(long, default_value = "50MB", value_name = "SIZE", value_parser = parse_byte_size)]
    max_download: usize,
    /// Then run every saved search over what this run added and print the new matches (as
    /// `geonews watch run` does; for a cron job that indexes a feed)
    #[arg(long)]
    watch: bool,
    /// Build a fresh index; the old one is replaced only when the new one is complete
    #[arg(long)]
    rebuild: bool,
    /// Stop at the first problem with the input, committing nothing from this run
    #[arg(long)]
    strict: bool,
    /// When another `geonews index` is writing the same index, wait for it to finish instead
    /// of stopping
    #[arg(long)]
    wait: bool,
    /// Commit (make searchable) after this many new or changed articles
    #[arg(long, default_value_t = 100_000, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    commit_every: u64,
    /// Memory for the index writer, shared by its threads (one per core, up to four, each
    /// taking 15MB to 4.29GB): 512MB, 1.5GB, 800MiB. KB, MB and GB are powers of 1000; K, M
    /// and G, like KiB, MiB and GiB, powers of 1024. The process needs more: dictionaries,
    /// articles in flight, and index files mapped while segments merge (1GiB in all at a
    /// million articles with the default)
    #[arg(long, default_value = "512MB", value_name = "SIZE", value_parser = parse_byte_size)]
    memory: usize,
    /// The longest article body: longer ones are cut there, stored and indexed text alike, with
    /// a warning. A record (a JSON line or document, a text file) over four times this is not
    /// read whole: a line or document is skipped, a text file read from its beginning
    #[arg(long, default_value = "2MB", value_name = "SIZE", value_parser = parse_byte_size)]
    max_article: usize,
    /// The most a compressed file may inflate to (a larger one is refused from that point)
    #[arg(long, default_value = "64GB", value_name = "SIZE", value_parser = parse_byte_size)]
    max_decompressed: usize,
    /// How many times its compressed size a file may inflate to, past its first 64 MiB: a
    /// compression bomb is refused with its numbers (text rarely passes 20)
    #[arg(long, default_value_t = 100, value_name = "N", value_parser = clap::value_parser!(u64).range(2..))]
    max_ratio: u64,
}

#[derive(Debug, Args)]
struct SearchArgs {
    /// The query; several words are joined with spaces. A query that starts with `-` goes
    /// after `--`: `geonews search -- '-country:Russia sanctions'`
    #[arg(value_name = "QUERY")]
    query: Vec<String>,
    /// Run one query per line of FILE (`-`: standard input) in this one process, printing one
    /// JSON line per query: the query, its total, the ids of its hits, its facet counts and
    /// its latency in microseconds measured inside the process (or its error and column).
    /// Blank lines and lines starting with `#` are skipped
    #[arg(long, value_name = "FILE", conflicts_with_all = ["query", "format"])]
    batch: Option<PathBuf>,
    /// Order of hits; ties keep index order, so paging is stable
    #[arg(long, value_enum, default_value_t = SortOrder::Relevance, allow_hyphen_values = true)]
    sort: SortOrder,
    /// Hits to show
    #[arg(long, short = 'n', default_value_t = 10)]
    limit: usize,
    /// Hits to skip (for paging)
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Fields to count over all hits, comma-separated, empty for none: country, region,
    /// topic, person, org, source, lang (text and json formats). A field the query filters on
    /// is counted as if that filter were absent (multi-select), so `country:Russia` still
    /// shows the other countries with their counts
    #[arg(long, value_delimiter = ',', default_value = "country,topic")]
    facets: Vec<String>,
    /// Values shown per facet field
    #[arg(long, default_value_t = 10)]
    facet_limit: usize,
    /// One hit per story: syndicated and rewritten copies of a hit are counted after it
    /// ("+3 similar"), not listed; `cluster:ID` lists them
    #[arg(long, conflicts_with = "batch")]
    collapse: bool,
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Args)]
struct FacetsArgs {
    /// The field to count: country, region, topic, person, org, source or lang. Regions are
    /// counted as a tree: regions, their subregions and groupings, then countries
    field: String,
    /// Only articles matching this query (after `--` when it starts with `-`)
    #[arg(value_name = "QUERY")]
    query: Vec<String>,
    /// Values to show (for regions: per level, up to N subregions and N countries)
    #[arg(long, short = 'n', default_value_t = 20)]
    limit: usize,
    /// Count stories, not articles: copies of one story (syndicated, rewritten) count once
    #[arg(long)]
    count_clusters: bool,
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Args)]
struct TimelineArgs {
    /// Only articles matching this query (every article when empty; after `--` when it
    /// starts with `-`)
    #[arg(value_name = "QUERY")]
    query: Vec<String>,
    /// Bucket size
    #[arg(long, value_enum, default_value_t = Bucket::Month)]
    by: Bucket,
    /// A countable field whose most frequent values get a column each (country, topic...)
    #[arg(long, value_name = "FIELD")]
    split: Option<String>,
    /// Values of the --split field shown
    #[arg(long, default_value_t = 5, requires = "split")]
    top: usize,
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Args)]
struct CoocArgs {
    /// The field whose values are ranked: country, region, topic, person, org, source or lang
    field: String,
    /// A second field (for a pair table), then the query (after `--` when it starts with `-`).
    /// A first word that names a countable field is taken as the second field: quote it
    /// ('"topic"') to search for the word
    #[arg(value_name = "[FIELD2] QUERY")]
    words: Vec<String>,
    /// Order of values (pair tables are always by count)
    #[arg(long, value_enum, default_value_t = CoocSort::Lift)]
    sort: CoocSort,
    /// Leave out values (and pairs) in fewer matching articles (a lift over two articles means
    /// little)
    #[arg(long, default_value_t = 3, value_name = "N")]
    min_count: u64,
    /// Values (or pairs) to show
    #[arg(long, short = 'n', default_value_t = 20)]
    limit: usize,
    /// Rows and columns of a pair table
    #[arg(long, default_value_t = 8)]
    size: usize,
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Args)]
struct StatsArgs {
    /// Values shown per facet field
    #[arg(long, default_value_t = 5)]
    facet_limit: usize,
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Args)]
struct ShowArgs {
    /// The article's id (as `search` prints it)
    id: String,
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Args)]
struct RelatedArgs {
    /// The article's id (as `search` prints it)
    id: String,
    /// Articles to show
    #[arg(long, short = 'n', default_value_t = 10)]
    limit: usize,
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Args)]
struct EvalArgs {
    /// Files or folders of articles with gold labels (JSON Lines, JSON, Markdown front matter)
    #[arg(long, required = true, num_args = 1.., value_name = "PATH")]
    gold: Vec<PathBuf>,
    /// Compare only the countries extraction marks salient (what an article is about), for
    /// gold that labels the countries a story is about rather than every one it names
    #[arg(long)]
    salient: bool,
    /// Also score each label
    #[arg(long)]
    per_label: bool,
    /// Take an empty gold list as "not labelled" rather than "nothing to find" (for gold
    /// such as Reuters', which leaves many stories without countries)
    #[arg(long)]
    empty_is_unlabelled: bool,
    /// Most frequent false positives and negatives listed per field
    #[arg(long, default_value_t = 10, value_name = "N")]
    top: usize,
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Args)]
struct ExtractArgs {
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Also print, per entity, each surface form found with its offset and the rule that kept
    /// or rejected it (an `explain` list in JSON Lines)
    #[arg(long)]
    explain: bool,
    /// Also print each article as geonews would index it: date, URL, source, language,
    /// summary and body (to check reading and extraction from outside)
    #[arg(long)]
    text: bool,
    /// Text, or JSON Lines (one article a line)
    #[arg(long, short = 'f', default_value = "jsonl", value_parser = extract_format)]
    format: Format,
}

impl ServeArgs {
    fn into_options(self) -> Result<ServeOptions, String> {
        if self.token.as_deref() == Some("") {
            return Err(
                "--token (or GEONEWS_TOKEN) is empty: give a secret, or leave it out".to_owned(),
            );
        }
        if !self.listen.ip().is_loopback() && self.token.is_none() && !self.public {
            return Err(format!(
                "--listen {} reaches beyond this machine: give --token TOKEN (or GEONEWS_TOKEN) \
                 so that only those who have it can read the index, or --public to serve it \
                 to anyone",
                self.listen
            ));
        }
        Ok(ServeOptions {
            listen: self.listen,
            token: self.token,
            public: self.public,
            read_only: self.read_only,
            limits: Limits {
                request_timeout: Duration::from_secs(self.request_timeout),
                header_timeout: Duration::from_secs(self.header_timeout),
                max_query_chars: self.max_query_chars,
                max_limit: self.max_limit,
                max_concurrent: usize::try_from(self.max_concurrent).map_err(|e| e.to_string())?,
                max_body_bytes: self.max_body,
            },
        })
    }
}

/// Streams of articles (extraction, watch runs): text or JSON Lines, not one JSON document.
fn extract_format(text: &str) -> Result<Format, String> {
    match text {
        "text" => Ok(Format::Text),
        "jsonl" => Ok(Format::Jsonl),
        other => Err(format!("`{other}` is not text or jsonl")),
    }
}

impl Cli {
    fn into_config(self) -> Result<Config, String> {
        let color = match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => app::stdout_wants_color(),
        };
        let command = match self.command {
            CliCommand::Index(args) => Command::Index {
                then_watch: args.watch,
                commit: match args.quickwit_commit {
                    QuickwitCommit::WaitFor => CommitMode::WaitFor,
                    QuickwitCommit::Force => CommitMode::Force,
                },
                fetch: FetchOptions {
                    max_body_bytes: args.max_download as u64,
                    timeout: Duration::from_secs_f64(args.fetch_timeout),
                    host_delay: Duration::from_secs_f64(args.host_delay),
                },
                request: IndexRequest {
                    paths: args.paths,
                    url_list: args.urls,
                    fetcher: None,
                    strict: args.strict,
                    commit_every: usize::try_from(args.commit_every).map_err(|e| e.to_string())?,
                    limits: ReadLimits {
                        max_decompressed: args.max_decompressed as u64,
                        max_ratio: args.max_ratio,
                        max_article: args.max_article,
                    },
                },
                writer: WriterOptions {
                    rebuild: args.rebuild,
                    create: true,
                    wait: args.wait,
                    threads: WriterOptions::threads_for(
                        args.memory,
                        std::thread::available_parallelism().map_or(1, |n| n.get()),
                    )
                    .map_err(|error| error.to_string())?,
                    memory_budget_bytes: args.memory,
                },
            },
            CliCommand::Search(args) => {
                let facets: Vec<String> = args
                    .facets
                    .into_iter()
                    .filter(|name| !name.trim().is_empty())
                    .collect();
                if args.limit == 0 && facets.is_empty() {
                    return Err("--limit 0 with no --facets asks for nothing".to_owned());
                }
                let options = SearchOptions {
                    sort: match args.sort {
                        SortOrder::Relevance => Sort::Relevance,
                        SortOrder::Date => Sort::OldestFirst,
                        SortOrder::NewestFirst => Sort::NewestFirst,
                    },
                    limit: args.limit,
                    offset: args.offset,
                    facets,
                    facet_limit: args.facet_limit,
                    collapse: args.collapse,
                };
                match args.batch {
                    Some(input) => Command::SearchBatch { input, options },
                    None => Command::Search {
                        request: SearchRequest {
                            query: args.query.join(" "),
                            options,
                        },
                        format: args.format,
                    },
                }
            }
            CliCommand::Facets(args) => Command::Facets {
                request: FacetsRequest {
                    field: args.field,
                    query: args.query.join(" "),
                    limit: args.limit,
                    count_clusters: args.count_clusters,
                },
                format: args.format,
            },
            CliCommand::Timeline(args) => Command::Timeline {
                request: TimelineRequest {
                    query: args.query.join(" "),
                    by: match args.by {
                        Bucket::Day => Interval::Day,
                        Bucket::Week => Interval::Week,
                        Bucket::Month => Interval::Month,
                        Bucket::Year => Interval::Year,
                    },
                    split: args.split,
                    top: args.top,
                },
                format: args.format,
            },
            CliCommand::Cooc(args) => Command::Cooc {
                field: args.field,
                words: args.words,
                options: CoocOptions {
                    min_count: args.min_count,
                    order: match args.sort {
                        CoocSort::Count => CoocOrder::Count,
                        CoocSort::Lift => CoocOrder::Lift,
                    },
                    limit: args.limit,
                },
                size: args.size,
                format: args.format,
            },
            CliCommand::Stats(args) => Command::Stats {
                facet_limit: args.facet_limit,
                format: args.format,
            },
            CliCommand::Check(args) => Command::Check {
                format: args.format,
            },
            CliCommand::Show(args) => Command::Show {
                id: args.id,
                format: args.format,
            },
            CliCommand::Related(args) => Command::Related {
                id: args.id,
                limit: args.limit,
                format: args.format,
            },
            CliCommand::Eval(args) => Command::Eval {
                request: EvalRequest {
                    gold: args.gold,
                    options: EvalOptions {
                        salient_only: args.salient,
                        per_label: args.per_label,
                        top_errors: args.top,
                        empty_is_unlabelled: args.empty_is_unlabelled,
                    },
                },
                format: args.format,
            },
            CliCommand::Serve(args) => Command::Serve(args.into_options()?),
            CliCommand::Watch(command) => Command::Watch(match command {
                WatchCommand::Add { name, query, note } => WatchAction::Add {
                    name,
                    query: query.join(" "),
                    note,
                },
                WatchCommand::List { format } => WatchAction::List { format },
                WatchCommand::Rm { name } => WatchAction::Remove { name },
                WatchCommand::Show { name, format } => WatchAction::Show { name, format },
                WatchCommand::Run {
                    names,
                    dry_run,
                    limit,
                    format,
                } => WatchAction::Run {
                    names,
                    dry_run,
                    limit,
                    format,
                    only_news: false,
                },
            }),
            CliCommand::Delete(args) => Command::Delete {
                request: DeleteRequest {
                    target: match args.query {
                        Some(query) => DeleteTarget::Query(query),
                        None => DeleteTarget::Ids(args.ids),
                    },
                    dry_run: args.dry_run,
                },
                wait: args.wait,
                format: args.format,
            },
            CliCommand::Compact(args) => Command::Compact {
                wait: args.wait,
                format: args.format,
            },
            CliCommand::Quickwit(QuickwitCommand::Init { replace, format }) => {
                Command::QuickwitInit { replace, format }
            }
            CliCommand::Backup(args) => Command::Backup {
                request: BackupRequest {
                    destination: args.destination,
                },
                wait: args.wait,
                format: args.format,
            },
            CliCommand::Export(args) => Command::Export(geonews::service::ExportRequest {
                format: args.format,
                query: args.query.join(" "),
                es_index: args.es_index,
            }),
            CliCommand::Extract(args) => Command::Extract {
                request: ExtractRequest {
                    paths: args.paths,
                    explain: args.explain,
                    text: args.text,
                },
                format: args.format,
            },
        };
        let index_dir = self.index.unwrap_or_else(default_index_dir);
        let engine = match self.engine.as_deref().map(str::trim) {
            None | Some("" | "local") => EngineChoice::Local(index_dir.clone()),
            Some(url) => EngineChoice::Quickwit(Target::parse(url)?),
        };
        Ok(Config {
            index_dir,
            engine,
            schema_dir: self.schema,
            style: Style { color },
            interactive: app::stderr_is_terminal(),
            query_budget: Duration::from_secs_f64(self.timeout),
            command,
        })
    }
}

/// `512MB`, `1.5GB`, `800MiB`, `2G` or a number of bytes.
/// Seconds, whole or not: `1`, `0.5`.
fn parse_seconds(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|seconds| seconds.is_finite() && (0.0..=86_400.0).contains(seconds))
        .ok_or_else(|| format!("`{text}` is not a number of seconds from 0 to 86400"))
}

fn parse_byte_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size: write 512MB, 1.5GB or 800MiB"))?;
    let multiplier: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown unit `{other}`: use KB, MB, GB, KiB, MiB or GiB"
            ));
        }
    };
    let bytes = number * multiplier;
    if bytes > usize::MAX as f64 {
        return Err(format!(
            "`{text}` is more memory than this machine can address"
        ));
    }
    Ok(bytes as usize)
}

fn main() -> ExitCode {
    keep_panics_for_their_boundaries();
    let cli = Cli::parse();
    let config = match cli.into_config() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    // Nothing of the run is used after a panic but the message.
    match catch_unwind(AssertUnwindSafe(|| geonews::run(config))) {
        Ok(Ok(code)) => code,
        Ok(Err(error)) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Ok(Err(error)) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
        Err(_) => {
            let panic = LAST_PANIC
                .lock()
                .map(|last| last.clone())
                .unwrap_or_default();
            eprintln!("error: internal error ({panic}); please report it");
            ExitCode::from(EXIT_INTERNAL_ERROR)
        }
    }
}

/// A bug: a panic no narrower boundary caught (one around each read of the index turns a
/// panic on a damaged file into a damaged-index error).
const EXIT_INTERNAL_ERROR: u8 = 70;

static LAST_PANIC: Mutex<String> = Mutex::new(String::new());

/// Panics are reported by the boundaries that catch them, once, as errors: the hook only
/// keeps the message and where it happened.
fn keep_panics_for_their_boundaries() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("a panic");
        let location = info
            .location()
            .map(|at| format!(" at {}:{}", at.file(), at.line()))
            .unwrap_or_default();
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = format!("{message}{location}");
        }
    }));
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|error| error.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geonews::index::MemoryBudgetError;

    #[test]
    fn sizes_take_decimal_and_binary_units() {
        assert_eq!(parse_byte_size("512MB"), Ok(512_000_000));
        assert_eq!(parse_byte_size("512mb"), Ok(512_000_000));
        assert_eq!(parse_byte_size("1.5GB"), Ok(1_500_000_000));
        assert_eq!(parse_byte_size("800MiB"), Ok(800 << 20));
        assert_eq!(parse_byte_size("2G"), Ok(2 << 30));
        assert_eq!(parse_byte_size("64 KiB"), Ok(64 << 10));
        assert_eq!(parse_byte_size("1000000"), Ok(1_000_000));
    }

    #[test]
    fn sizes_reject_what_is_not_a_size() {
        for bad in ["", "MB", "12XB", "-5MB", "1..5GB"] {
            assert!(parse_byte_size(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn writer_threads_fit_the_memory_budget() {
        assert_eq!(WriterOptions::threads_for(512_000_000, 2), Ok(2));
        assert_eq!(WriterOptions::threads_for(512_000_000, 16), Ok(4));
        assert_eq!(WriterOptions::threads_for(40_000_000, 8), Ok(2));
        assert_eq!(WriterOptions::threads_for(15_000_000, 8), Ok(1));
        assert_eq!(
            WriterOptions::threads_for(14_999_999, 8),
            Err(MemoryBudgetError::TooSmall)
        );
        assert_eq!(WriterOptions::threads_for(8_000_000_000, 2), Ok(2));
        assert!(matches!(
            WriterOptions::threads_for(9_000_000_000, 2),
            Err(MemoryBudgetError::TooLarge { threads: 2, .. })
        ));
    }
}
