//! A polite HTTP(S) fetcher for indexing live URLs.
//!
//! It reads each host's `robots.txt` once per run and obeys it, sends one request at a time to
//! a host with a pause between them, says who it is in its User-Agent, and asks again only for
//! what changed (ETag and Last-Modified remembered in a state file beside the index). Sizes
//! and times are capped, and every error names the URL.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use ureq::http::{StatusCode, Uri, header};
use ureq::{Agent, Body, ResponseExt, Timeout};

pub(crate) const USER_AGENT: &str = concat!(
    "geonews/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/geonews/geonews; news indexing for one user)"
);
/// The product token that robots.txt groups name.
const ROBOTS_PRODUCT: &str = "geonews";
/// RFC 9309 lets a crawler stop reading robots.txt after 500 KiB.
const ROBOTS_MAX_BYTES: u64 = 500 * 1024;
/// A robots.txt Crawl-delay beyond this is taken as this, so that one host cannot stall a run.
const MAX_CRAWL_DELAY: Duration = Duration::from_secs(60);
const MAX_REDIRECTS: u32 = 5;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Beside the index: what each fetched URL answered last (its validators).
pub const STATE_FILE: &str = "fetch-state.json";
const STATE_FORMAT: u32 = 1;

#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// A larger body (after decompression) is an error.
    pub max_body_bytes: u64,
    /// The whole request, redirects and body included.
    pub timeout: Duration,
    /// The pause between two requests to the same host (a longer robots.txt Crawl-delay wins).
    pub host_delay: Duration,
}

impl Default for FetchOptions {
    fn default() -> FetchOptions {
        FetchOptions {
            max_body_bytes: 50_000_000,
            timeout: Duration::from_secs(30),
            host_delay: Duration::from_secs(1),
        }
    }
}

#[derive(Debug)]
pub(crate) enum Fetched {
    /// The server answered 304: the page is unchanged since the validators last committed.
    NotModified,
    Page(FetchedPage),
}

#[derive(Debug)]
pub(crate) struct FetchedPage {
    /// The URL after redirects.
    pub final_url: String,
    pub content_type: Option<String>,
    pub last_modified: Option<String>,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("options", &self.options)
            .field("state_path", &self.state_path)
            .finish_non_exhaustive()
    }
}

/// Fetches URLs politely; shareable between threads.
pub struct Fetcher {
    agent: Agent,
    options: FetchOptions,
    /// `None`: nothing is remembered between runs.
    state_path: Option<PathBuf>,
    validators: Mutex<ValidatorState>,
    /// Per origin (scheme, host and port); a host's lock is held for the whole of its request.
    hosts: Mutex<HashMap<String, Arc<Mutex<HostState>>>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Validators {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_modified: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StateFile {
    format: u32,
    urls: BTreeMap<String, Validators>,
}

#[derive(Default)]
struct ValidatorState {
    /// What the state file holds: sent with requests.
    committed: BTreeMap<String, Validators>,
    /// Learned this run, written by `commit` (`None`: the URL's page had no validators).
    pending: BTreeMap<String, Option<Validators>>,
}

#[derive(Default)]
struct HostState {
    /// `Err` names why the host is skipped this run.
    robots: Option<Result<RobotsRules, String>>,
    last_request_end: Option<Instant>,
}

impl Fetcher {
    /// A fetcher keeping its state file in `state_dir` (read now if present, unless `fresh`:
    /// then every page is fetched whole, and the state file replaced at the next commit), or
    /// remembering nothing.
    pub fn open(
        state_dir: Option<&Path>,
        fresh: bool,
        options: FetchOptions,
    ) -> Result<Fetcher, String> {
        let state_path = state_dir.map(|dir| dir.join(STATE_FILE));
        let committed = match &state_path {
            Some(path) if !fresh => read_state(path)?,
            _ => BTreeMap::new(),
        };
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(MAX_REDIRECTS)
            .user_agent(USER_AGENT)
            .timeout_global(Some(options.timeout))
            .timeout_connect(Some(options.timeout.min(CONNECT_TIMEOUT)))
            .build();
        Ok(Fetcher {
            agent: Agent::new_with_config(config),
            options,
            state_path,
            validators: Mutex::new(ValidatorState {
                committed,
                pending: BTreeMap::new(),
            }),
            hosts: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) fn fetch(&self, url: &str) -> Result<Fetched, String> {
        let uri: Uri = url
            .parse()
            .map_err(|error| format!("{url}: not a valid URL: {error}"))?;
        let origin = origin(&uri).ok_or_else(|| format!("{url}: not an http or https URL"))?;
        let host = self.host(&origin);
        let mut host = lock(&host);
        let rules = self
            .robots_rules(&mut host, &origin)
            .map_err(|reason| format!("{url}: {reason}"))?;
        let path = uri.path_and_query().map_or("/", |path| path.as_str());
        if !rules.allows(path) {
            return Err(format!("{url}: disallowed by robots.txt"));
        }
        let delay = rules
            .crawl_delay
            .map_or(self.options.host_delay, |crawl_delay| {
                crawl_delay
                    .min(MAX_CRAWL_DELAY)
                    .max(self.options.host_delay)
            });
        wait_turn(&host, delay);
        let fetched = self.get_page(url);
        host.last_request_end = Some(Instant::now());
        fetched.map_err(|reason| format!("{url}: {reason}"))
    }

    /// Writes the validators learned so far to the state file (whole, or not at all).
    pub fn commit(&self) -> io::Result<()> {
        let mut state = lock(&self.validators);
        let Some(state_path) = &self.state_path else {
            return Ok(());
        };
        if state.pending.is_empty() {
            return Ok(());
        }
        let mut urls = state.committed.clone();
        for (url, learned) in &state.pending {
            match learned {
                Some(validators) => urls.insert(url.clone(), validators.clone()),
                None => urls.remove(url),
            };
        }
        write_state(state_path, &urls)?;
        state.committed = urls;
        state.pending.clear();
        Ok(())
    }

    fn host(&self, origin: &str) -> Arc<Mutex<HostState>> {
        let mut hosts = lock(&self.hosts);
        Arc::clone(hosts.entry(origin.to_owned()).or_default())
    }

    /// The host's robots.txt rules, fetched on first use (the fetch counts as a request).
    fn robots_rules(&self, host: &mut HostState, origin: &str) -> Result<RobotsRules, String> {
        if host.robots.is_none() {
            wait_turn(host, self.options.host_delay);
            host.robots = Some(self.get_robots(origin));
            host.last_request_end = Some(Instant::now());
        }
        host.robots.clone().expect("robots fetched above")
    }

    fn get_robots(&self, origin: &str) -> Result<RobotsRules, String> {
        let skipped = |why: String| format!("host skipped this run: its robots.txt {why}");
        let response = self
            .agent
            .get(format!("{origin}/robots.txt"))
            .call()
            .map_err(|error| skipped(format!("is unreachable: {}", self.describe(error))))?;
        let status = response.status();
        if status.is_success() {
            let mut text = Vec::new();
            response
                .into_body()
                .into_reader()
                .take(ROBOTS_MAX_BYTES)
                .read_to_end(&mut text)
                .map_err(|error| skipped(format!("is unreadable: {error}")))?;
            Ok(RobotsRules::parse(
                &String::from_utf8_lossy(&text),
                ROBOTS_PRODUCT,
            ))
        } else if status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS {
            // RFC 9309: an unavailable robots.txt (any 4xx) allows everything.
            Ok(RobotsRules::default())
        } else {
            Err(skipped(format!("answered {}", status_text(status))))
        }
    }

    fn get_page(&self, url: &str) -> Result<Fetched, String> {
        let mut request = self.agent.get(url);
        if let Some(known) = lock(&self.validators).committed.get(url) {
            if let Some(etag) = &known.etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(last_modified) = &known.last_modified {
                request = request.header(header::IF_MODIFIED_SINCE, last_modified);
            }
        }
        let response = request.call().map_err(|error| self.describe(error))?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(status_text(status));
        }
        let header_text = |name| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let validators = Validators {
            etag: header_text(header::ETAG),
            last_modified: header_text(header::LAST_MODIFIED),
        };
        let final_url = response.get_uri().to_string();
        let content_type = header_text(header::CONTENT_TYPE);
        let body = self.read_body(response.into_body())?;
        let learned = (validators != Validators::default()).then(|| validators.clone());
        lock(&self.validators)
            .pending
            .insert(url.to_owned(), learned);
        Ok(Fetched::Page(FetchedPage {
            final_url,
            content_type,
            last_modified: validators.last_modified,
            body,
        }))
    }

    /// Reads at most the cap (plus one byte to tell a longer body), refusing early when the
    /// Content-Length already says too much.
    fn read_body(&self, body: Body) -> Result<Vec<u8>, String> {
        let cap = self.options.max_body_bytes;
        if body.content_length().is_some_and(|length| length > cap) {
            return Err(self.describe(ureq::Error::BodyExceedsLimit(cap)));
        }
        body.into_with_config()
            .limit(cap)
            .read_to_vec()
            .map_err(|error| self.describe(error))
    }

    fn describe(&self, error: ureq::Error) -> String {
        match error {
            ureq::Error::Timeout(Timeout::Connect) => format!(
                "cannot connect: timed out after {}",
                seconds(self.options.timeout.min(CONNECT_TIMEOUT))
            ),
            ureq::Error::Timeout(_) => format!("timed out after {}", seconds(self.options.timeout)),
            ureq::Error::TooManyRedirects => {
                format!("too many redirects (more than {MAX_REDIRECTS})")
            }
            ureq::Error::BodyExceedsLimit(cap) => format!("body larger than {} cap", size(cap)),
            ureq::Error::HostNotFound => "cannot connect: host not found".to_owned(),
            ureq::Error::ConnectionFailed => "cannot connect: connection failed".to_owned(),
            ureq::Error::Io(error) if is_connect_error(&error) => {
                format!("cannot connect: {error}")
            }
            ureq::Error::Io(error) => format!("network error: {error}"),
            other => other.to_string(),
        }
    }
}

/// Reads the validators committed by earlier runs (none when there is no file yet).
fn read_state(path: &Path) -> Result<BTreeMap<String, Validators>, String> {
    let text = match fs::read(path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(error) => return Err(format!("{}: {error}", path.display())),
    };
    let state: StateFile = serde_json::from_slice(&text)
        .map_err(|error| format!("{}: not a fetch state file: {error}", path.display()))?;
    if state.format != STATE_FORMAT {
        return Err(format!(
            "{}: format {} is not supported (expected {STATE_FORMAT})",
            path.display(),
            state.format
        ));
    }
    Ok(state.urls)
}

/// Replaces the state file whole: a temporary file renamed over it.
fn write_state(path: &Path, urls: &BTreeMap<String, Validators>) -> io::Result<()> {
    let state = StateFile {
        format: STATE_FORMAT,
        urls: urls.clone(),
    };
    let json = serde_json::to_vec_pretty(&state).expect("fetch state serializes");
    let staging = path.with_extension("json.tmp");
    let mut file = File::create(&staging)?;
    file.write_all(&json)?;
    file.sync_all()?;
    fs::rename(&staging, path)
}

/// Sleeps until `delay` has passed since the host's last request ended.
fn wait_turn(host: &HostState, delay: Duration) {
    if let Some(last) = host.last_request_end {
        let next = last + delay;
        let now = Instant::now();
        if next > now {
            thread::sleep(next - now);
        }
    }
}

/// `scheme://host[:port]`, lower-cased, the default port left out: what robots.txt covers.
fn origin(uri: &Uri) -> Option<String> {
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let host = uri.host()?.to_ascii_lowercase();
    Some(match uri.port_u16() {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

pub fn is_url(text: &str) -> bool {
    let has_prefix = |prefix: &str| {
        text.get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
    };
    has_prefix("http://") || has_prefix("https://")
}

fn is_connect_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::AddrNotAvailable
    )
}

fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    }
}

fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}

fn size(bytes: u64) -> String {
    if bytes >= 1_000_000 && bytes.is_multiple_of(1_000_000) {
        format!("{} MB", bytes / 1_000_000)
    } else if bytes >= 1_000 && bytes.is_multiple_of(1_000) {
        format!("{} kB", bytes / 1_000)
    } else {
        format!("{bytes} bytes")
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The robots.txt rules for one product: its own groups, or else the `*` groups.
#[derive(Debug, Clone, Default, PartialEq)]
struct RobotsRules {
    rules: Vec<RobotsRule>,
    crawl_delay: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
struct RobotsRule {
    allow: bool,
    pattern: String,
}

/// Which rules a group's lines go to: ours, the `*` ones, or both.
#[derive(Default)]
struct GroupTarget {
    ours: bool,
    any: bool,
}

impl RobotsRules {
    fn parse(text: &str, product: &str) -> RobotsRules {
        let mut ours = RobotsRules::default();
        let mut any = RobotsRules::default();
        let mut names_us = false;
        let mut target = GroupTarget::default();
        let mut in_rules = false;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match key.trim().to_ascii_lowercase().as_str() {
                "user-agent" => {
                    if in_rules {
                        target = GroupTarget::default();
                        in_rules = false;
                    }
                    let token = value.split(['/', ' ']).next().unwrap_or_default();
                    if token.eq_ignore_ascii_case(product) {
                        target.ours = true;
                        names_us = true;
                    }
                    target.any |= token == "*";
                }
                key @ ("allow" | "disallow" | "crawl-delay") => {
                    in_rules = true;
                    if target.ours {
                        ours.add(key, value);
                    }
                    if target.any {
                        any.add(key, value);
                    }
                }
                _ => {}
            }
        }
        if names_us { ours } else { any }
    }

    fn add(&mut self, key: &str, value: &str) {
        if key == "crawl-delay" {
            let seconds = value
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0);
            self.crawl_delay = seconds.map(Duration::from_secs_f64).or(self.crawl_delay);
        } else if !value.is_empty() {
            self.rules.push(RobotsRule {
                allow: key == "allow",
                pattern: value.to_owned(),
            });
        }
    }

    /// The longest matching pattern decides; on a tie, Allow wins (RFC 9309).
    fn allows(&self, path: &str) -> bool {
        if path == "/robots.txt" {
            return true;
        }
        self.rules
            .iter()
            .filter(|rule| pattern_matches(&rule.pattern, path))
            .max_by_key(|rule| (rule.pattern.len(), rule.allow))
            .is_none_or(|rule| rule.allow)
    }
}

/// A robots.txt path pattern: a prefix, where `*` matches any run of characters and a final
/// `$` anchors the end.
fn pattern_matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(pattern) => (pattern, true),
        None => (pattern, false),
    };
    let mut pieces = pattern.split('*');
    let Some(mut rest) = path.strip_prefix(pieces.next().unwrap_or_default()) else {
        return false;
    };
    let pieces: Vec<&str> = pieces.collect();
    for (index, piece) in pieces.iter().enumerate() {
        if anchored && index + 1 == pieces.len() {
            return rest.ends_with(piece);
        }
        // The leftmost match leaves the most room for the pieces after it.
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    !anchored || rest.is_empty()
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader};
    use std::net::{TcpListener, TcpStream};

    use super::*;

    struct Received {
        path: String,
        headers: Vec<(String, String)>,
        at: Instant,
    }

    impl Received {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str())
        }
    }

    enum Reply {
        Whole(String),
        /// A close-delimited body of this many 8 KiB chunks.
        Stream(usize),
        /// Accepts the request and says nothing for a few seconds.
        Silence,
    }

    fn answer(status: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut head = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        Reply::Whole(format!("{head}\r\n{body}"))
    }

    fn not_found() -> Reply {
        answer("404 Not Found", &[], "")
    }

    fn redirect(to: &str) -> Reply {
        answer("302 Found", &[("Location", to)], "")
    }

    /// An HTTP server on 127.0.0.1 answering each connection in its own thread.
    struct Server {
        base: String,
        received: Arc<Mutex<Vec<Received>>>,
    }

    impl Server {
        fn start(route: impl Fn(&Received) -> Reply + Send + Sync + 'static) -> Server {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            let received = Arc::new(Mutex::new(Vec::new()));
            let log = Arc::clone(&received);
            let route = Arc::new(route);
            thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    let route = Arc::clone(&route);
                    let log = Arc::clone(&log);
                    thread::spawn(move || serve(stream, &*route, &log));
                }
            });
            Server { base, received }
        }

        fn url(&self, path: &str) -> String {
            format!("{}{path}", self.base)
        }

        fn requests_to(&self, path: &str) -> Vec<Instant> {
            lock(&self.received)
                .iter()
                .filter(|request| request.path == path)
                .map(|request| request.at)
                .collect()
        }

        fn header_sent(&self, path: &str, name: &str) -> Vec<Option<String>> {
            lock(&self.received)
                .iter()
                .filter(|request| request.path == path)
                .map(|request| request.header(name).map(str::to_owned))
                .collect()
        }
    }

    fn serve(stream: TcpStream, route: &dyn Fn(&Received) -> Reply, log: &Mutex<Vec<Received>>) {
        let mut reader = BufReader::new(&stream);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.to_owned(), value.trim().to_owned()));
            }
        }
        let request = Received {
            path,
            headers,
            at: Instant::now(),
        };
        let reply = route(&request);
        lock(log).push(request);
        let mut stream = &stream;
        match reply {
            Reply::Whole(text) => {
                let _ = stream.write_all(text.as_bytes());
            }
            Reply::Stream(chunks) => {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
                let chunk = [b'x'; 8192];
                for _ in 0..chunks {
                    if stream.write_all(&chunk).is_err() {
                        break;
                    }
                }
            }
            Reply::Silence => thread::sleep(Duration::from_secs(3)),
        }
    }

    fn quick() -> FetchOptions {
        FetchOptions {
            host_delay: Duration::ZERO,
            timeout: Duration::from_secs(10),
            ..FetchOptions::default()
        }
    }

    fn expect_page(fetched: Result<Fetched, String>) -> FetchedPage {
        match fetched {
            Ok(Fetched::Page(page)) => page,
            other => panic!("expected a page, got {other:?}"),
        }
    }

    fn fetch_error(fetcher: &Fetcher, url: &str) -> String {
        let error = fetcher.fetch(url).unwrap_err();
        assert!(error.starts_with(&format!("{url}: ")), "{error}");
        error
    }

    /// `/page` answers 304 to `If-None-Match: "v1"`, else the page with that ETag.
    fn etag_server() -> Server {
        Server::start(|request| match request.path.as_str() {
            "/page" if request.header("If-None-Match") == Some("\"v1\"") => {
                answer("304 Not Modified", &[], "")
            }
            "/page" => answer(
                "200 OK",
                &[
                    ("ETag", "\"v1\""),
                    ("Last-Modified", "Tue, 01 Apr 2025 10:00:00 GMT"),
                    ("Content-Type", "text/html; charset=utf-8"),
                ],
                "<p>news</p>",
            ),
            _ => not_found(),
        })
    }

    #[test]
    fn fetcher_is_shareable_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Fetcher>();
    }

    #[test]
    fn a_page_comes_with_its_type_date_and_final_url() {
        let server = etag_server();
        let dir = tempfile::tempdir().unwrap();
        let fetcher = Fetcher::open(Some(dir.path()), false, quick()).unwrap();
        let page = expect_page(fetcher.fetch(&server.url("/page")));
        assert_eq!(page.body, b"<p>news</p>");
        assert_eq!(page.final_url, server.url("/page"));
        assert_eq!(
            page.content_type.as_deref(),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(
            page.last_modified.as_deref(),
            Some("Tue, 01 Apr 2025 10:00:00 GMT")
        );
        assert_eq!(
            server.header_sent("/page", "User-Agent"),
            [Some(USER_AGENT.to_owned())]
        );
    }

    #[test]
    fn validators_are_sent_only_once_committed() {
        let server = etag_server();
        let dir = tempfile::tempdir().unwrap();
        let url = server.url("/page");

        let uncommitted = Fetcher::open(Some(dir.path()), false, quick()).unwrap();
        expect_page(uncommitted.fetch(&url));
        assert!(!dir.path().join(STATE_FILE).exists());

        let fetcher = Fetcher::open(Some(dir.path()), false, quick()).unwrap();
        expect_page(fetcher.fetch(&url));
        fetcher.commit().unwrap();
        assert!(matches!(fetcher.fetch(&url), Ok(Fetched::NotModified)));

        let next_run = Fetcher::open(Some(dir.path()), false, quick()).unwrap();
        assert!(matches!(next_run.fetch(&url), Ok(Fetched::NotModified)));
        // A rebuild needs every page whole: it sends no validators.
        let rebuild = Fetcher::open(Some(dir.path()), true, quick()).unwrap();
        expect_page(rebuild.fetch(&url));
        assert_eq!(
            server.header_sent("/page", "If-None-Match"),
            [
                None,
                None,
                Some("\"v1\"".to_owned()),
                Some("\"v1\"".to_owned()),
                None
            ]
        );
        assert_eq!(
            server.header_sent("/page", "If-Modified-Since")[3].as_deref(),
            Some("Tue, 01 Apr 2025 10:00:00 GMT")
        );
    }

    #[test]
    fn state_file_is_versioned_json() {
        let server = etag_server();
        let dir = tempfile::tempdir().unwrap();
        let fetcher = Fetcher::open(Some(dir.path()), false, quick()).unwrap();
        fetcher.fetch(&server.url("/page")).unwrap();
        fetcher.commit().unwrap();
        let text = fs::read_to_string(dir.path().join(STATE_FILE)).unwrap();
        let state: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            state,
            serde_json::json!({
                "format": 1,
                "urls": {
                    server.url("/page"): {
                        "etag": "\"v1\"",
                        "last_modified": "Tue, 01 Apr 2025 10:00:00 GMT"
                    }
                }
            })
        );
        assert!(!dir.path().join("fetch-state.json.tmp").exists());
    }

    #[test]
    fn a_corrupt_or_unknown_state_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STATE_FILE);
        fs::write(&path, "{not json").unwrap();
        let error = Fetcher::open(Some(dir.path()), false, quick())
            .err()
            .unwrap();
        assert!(
            error.starts_with(&format!("{}: ", path.display())),
            "{error}"
        );
        fs::write(&path, r#"{"format":2,"urls":{}}"#).unwrap();
        let error = Fetcher::open(Some(dir.path()), false, quick())
            .err()
            .unwrap();
        assert!(error.contains("format 2 is not supported"), "{error}");
    }

    #[test]
    fn robots_disallow_is_an_error_and_robots_is_read_once() {
        let server = Server::start(|request| match request.path.as_str() {
            "/robots.txt" => answer(
                "200 OK",
                &[],
                "User-agent: *\nDisallow: /private\n\nUser-agent: geonews\nDisallow: /drafts\n",
            ),
            _ => answer("200 OK", &[], "ok"),
        });
        let dir = tempfile::tempdir().unwrap();
        let fetcher = Fetcher::open(Some(dir.path()), false, quick()).unwrap();
        let url = server.url("/drafts/1");
        assert_eq!(
            fetch_error(&fetcher, &url),
            format!("{url}: disallowed by robots.txt")
        );
        expect_page(fetcher.fetch(&server.url("/private/1")));
        expect_page(fetcher.fetch(&server.url("/public")));
        assert!(server.requests_to("/drafts/1").is_empty());
        assert_eq!(server.requests_to("/robots.txt").len(), 1);
    }

    #[test]
    fn missing_robots_allows_everything() {
        let server = Server::start(|request| match request.path.as_str() {
            "/robots.txt" => answer("410 Gone", &[], ""),
            _ => answer("200 OK", &[], "ok"),
        });
        let dir = tempfile::tempdir().unwrap();
        let fetcher = Fetcher::open(Some(dir.path()), false, quick()).unwrap();
        expect_page(fetcher.fetch(&server.url("/anything")));
    }

    #[test]
    fn failing_robots_skips_the_host() {
        let server = Server::start(|request| match request.path.as_str() {
            "/robots.txt" => answer("503 Service Unavailable", &[], ""),
            _ => answer("200 OK", &[], "ok"),
        });
        let dir = tempfile::tempdir().unwrap();
        let fetcher = Fetcher::open(Some(dir.path()), false, quick()).unwrap();
        for path in ["/a", "/b"] {
            let url = server.url(path);
            assert_eq!(
                fetch_error(&fetcher, &url),
                format!(
                    "{url}: host skipped this run: its robots.txt answered HTTP 503 Service Unavailable"
                )
            );
        }
        assert!(server.requests_to("/a").is_empty());
        assert_eq!(server.requests_to("/robots.txt").len(), 1);
    }

    #[test]
    fn unreachable_host_cannot_connect() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/page", listener.local_addr().unwrap());
        drop(listener);
        let dir = tempfile::tempdir().unwrap();
        let fetcher = Fetcher::open(Some(dir.path()), false, quick()).unwrap();
        let error = fetch_error(&fetcher, &url);
        assert!(
            error.contains("robots.txt is unreachable: cannot connect: "),
            "{error}"
        );
    }

    /// `/rN` redirects to `/rN+1` until `/r6`, the page.
    fn redirect_chain_server() -> Server {
        Server::start(|request| {
            let step = request.path.strip_prefix("/r");
            match step.and_then(|step| step.parse::<u32>().ok()) {
                Some(6) => answer("200 OK", &[], "end"),
                Some(step) => redirect(&format!("/r{}", step + 1)),
                None => not_found(),
            }
        })
    }

    #[test]
    fn redirects_are_followed_to_the_final_url() {
        let server = redirect_chain_server();
        let dir = tempfile::tempdir().unwrap();
        let fetcher = Fetcher::open(Some(dir.path()), false, quick()).unwrap();
        let page = expect_page(fetcher.fetch(&server.url("/r4")));
        assert_eq!(page.final_url, server.url("/r6"));
        assert_eq!(page.body, b"end");
        let five_redirects = expect_page(fetcher.fetch(&server.url("/r1")));
        assert_eq!(five_redirects.final_url, server.url("/r6"));
    }

    #[test]
    fn more_than_five_redirects_is_an_error() {
        let server = redirect_chain_server();
        let dir = tempfile::tempdir().unwrap();
        let fetcher = Fetcher::open(Some(dir.path()), false, quick()).unwrap();
        let url = server.url("/r0");
        assert_eq!(
            fetch_error(&fetcher, &url),
            format!("{url}: too many redirects (more than 5)")
        );
    }

    #[test]
    fn error_statuses_are_errors_naming_the_status() {
        let server = Server::start(|request| match request.path.as_str() {
            "/broken" => answer("500 Internal Server Error", &[], "oops"),
            _ => not_found(),
        });
        let dir = tempfile::tempdir().unwrap();
        let fetcher = Fetcher::open(Some(dir.path()), false, quick()).unwrap();
        let missing = server.url("/missing");
        assert_eq!(
            fetch_error(&fetcher, &missing),
            format!("{missing}: HTTP 404 Not Found")
        );
        let broken = server.url("/broken");
        assert_eq!(
            fetch_error(&fetcher, &broken),
            format!("{broken}: HTTP 500 Internal Server Error")
        );
    }

    #[test]
    fn a_body_over_the_cap_is_an_error() {
        let declared = "x".repeat(20_000);
        let server = Server::start(move |request| match request.path.as_str() {
            "/stream" => Reply::Stream(1000),
            "/declared" => answer("200 OK", &[], &declared),
            "/fits" => Reply::Stream(1),
            _ => not_found(),
        });
        let dir = tempfile::tempdir().unwrap();
        let options = FetchOptions {
            max_body_bytes: 10_000,
            ..quick()
        };
        let fetcher = Fetcher::open(Some(dir.path()), false, options).unwrap();
        for path in ["/stream", "/declared"] {
            let url = server.url(path);
            assert_eq!(
                fetch_error(&fetcher, &url),
                format!("{url}: body larger than 10 kB cap")
            );
        }
        assert_eq!(
            expect_page(fetcher.fetch(&server.url("/fits"))).body.len(),
            8192
        );
    }

    #[test]
    fn a_silent_server_times_out() {
        let server = Server::start(|request| match request.path.as_str() {
            "/robots.txt" => not_found(),
            _ => Reply::Silence,
        });
        let dir = tempfile::tempdir().unwrap();
        let options = FetchOptions {
            timeout: Duration::from_millis(300),
            ..quick()
        };
        let fetcher = Fetcher::open(Some(dir.path()), false, options).unwrap();
        let url = server.url("/slow");
        let started = Instant::now();
        assert_eq!(
            fetch_error(&fetcher, &url),
            format!("{url}: timed out after 0.3 s")
        );
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    fn gap(earlier: Instant, later: Instant) -> Duration {
        later.duration_since(earlier)
    }

    #[test]
    fn requests_to_one_host_are_spaced_by_the_delay() {
        let server = Server::start(|request| match request.path.as_str() {
            "/robots.txt" => not_found(),
            _ => answer("200 OK", &[], "ok"),
        });
        let dir = tempfile::tempdir().unwrap();
        let options = FetchOptions {
            host_delay: Duration::from_millis(300),
            ..quick()
        };
        let fetcher = Fetcher::open(Some(dir.path()), false, options).unwrap();
        fetcher.fetch(&server.url("/a")).unwrap();
        fetcher.fetch(&server.url("/b")).unwrap();
        let robots = server.requests_to("/robots.txt")[0];
        let a = server.requests_to("/a")[0];
        let b = server.requests_to("/b")[0];
        assert!(gap(robots, a) >= Duration::from_millis(250));
        assert!(gap(a, b) >= Duration::from_millis(250));
    }

    #[test]
    fn a_longer_crawl_delay_wins() {
        let server = Server::start(|request| match request.path.as_str() {
            "/robots.txt" => answer("200 OK", &[], "User-agent: *\nCrawl-delay: 0.3\n"),
            _ => answer("200 OK", &[], "ok"),
        });
        let dir = tempfile::tempdir().unwrap();
        let fetcher = Fetcher::open(Some(dir.path()), false, quick()).unwrap();
        fetcher.fetch(&server.url("/a")).unwrap();
        fetcher.fetch(&server.url("/b")).unwrap();
        let a = server.requests_to("/a")[0];
        let b = server.requests_to("/b")[0];
        assert!(gap(a, b) >= Duration::from_millis(250));
    }

    #[test]
    fn is_url_wants_an_http_scheme() {
        assert!(is_url("https://example.org/feed.xml"));
        assert!(is_url("HTTP://example.org"));
        assert!(!is_url("ftp://example.org"));
        assert!(!is_url("news/story.html"));
        assert!(!is_url("http:"));
    }

    #[test]
    fn non_http_urls_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fetcher = Fetcher::open(Some(dir.path()), false, quick()).unwrap();
        let error = fetch_error(&fetcher, "ftp://example.org/file");
        assert!(error.ends_with("not an http or https URL"), "{error}");
    }

    fn rules(text: &str) -> RobotsRules {
        RobotsRules::parse(text, ROBOTS_PRODUCT)
    }

    #[test]
    fn robots_our_group_wins_over_the_star_group() {
        let text = "User-agent: *\nDisallow: /\n\nUser-agent: Geonews/0.1\nDisallow: /private\n";
        let ours = rules(text);
        assert!(ours.allows("/news"));
        assert!(!ours.allows("/private/x"));
        let other = RobotsRules::parse(text, "otherbot");
        assert!(!other.allows("/news"));
    }

    #[test]
    fn robots_groups_share_agents_and_merge() {
        let text = "User-agent: a\nUser-agent: geonews\nDisallow: /one\n\n\
                    User-agent: b\nDisallow: /two\n\nUser-agent: geonews\nDisallow: /three\n";
        let ours = rules(text);
        assert!(!ours.allows("/one"));
        assert!(ours.allows("/two"));
        assert!(!ours.allows("/three"));
    }

    #[test]
    fn robots_longest_match_decides_and_allow_wins_ties() {
        let ours =
            rules("User-agent: *\nDisallow: /news\nAllow: /news/world\nAllow: /a\nDisallow: /a\n");
        assert!(!ours.allows("/news/local"));
        assert!(ours.allows("/news/world/1"));
        assert!(ours.allows("/a"));
        assert!(ours.allows("/robots.txt"));
    }

    #[test]
    fn robots_wildcards_and_end_anchor() {
        let ours =
            rules("User-agent: *\nDisallow: /*.pdf$\nDisallow: /*/print\nDisallow: /exact$\n");
        assert!(!ours.allows("/files/report.pdf"));
        assert!(ours.allows("/files/report.pdf?page=2"));
        assert!(!ours.allows("/story/1/print"));
        assert!(ours.allows("/print"));
        assert!(!ours.allows("/exact"));
        assert!(ours.allows("/exactly"));
    }

    #[test]
    fn robots_comments_empty_rules_and_crawl_delay() {
        let ours = rules(
            "# site rules\nuser-agent: * # everyone\ndisallow:\nCrawl-delay: 2.5\nSitemap: /map.xml\n",
        );
        assert!(ours.allows("/anything"));
        assert_eq!(ours.crawl_delay, Some(Duration::from_millis(2500)));
        assert_eq!(rules(""), RobotsRules::default());
        assert_eq!(rules("Disallow: /orphan\n"), RobotsRules::default());
    }

    #[test]
    fn pattern_matching_is_by_prefix() {
        assert!(pattern_matches("/", "/x"));
        assert!(pattern_matches("/a*", "/a"));
        assert!(pattern_matches("/a*b*c", "/axxbyyc/rest"));
        assert!(!pattern_matches("/a*b*c", "/axxcyyb"));
        assert!(pattern_matches("/*$", "/anything"));
        assert!(pattern_matches("/a*a$", "/aa"));
        assert!(!pattern_matches("/a*a$", "/a"));
    }
}
