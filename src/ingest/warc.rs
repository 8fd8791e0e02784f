//! Web archives (WARC, ISO 28500), as crawlers write them (Common Crawl's CC-NEWS among
//! them): every `response` record holding an HTML page becomes an article; the others are
//! passed over and counted. Records stream through one at a time, so a file of any size needs
//! only one page's memory. A `.warc.gz` is a series of gzip members, usually one a record: a
//! damaged member is reported and reading resumes at the next one.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};
use std::ops::ControlFlow;

use flate2::bufread::GzDecoder;
use serde_json::Map;

use super::formats::{Emit, charset, media_type};
use super::record::{Markup, RawRecord};
use super::{Item, Problem};
use crate::article::Origin;

/// A record larger than this is passed over: no news page is that large.
const MAX_RECORD_BYTES: u64 = 64 * 1024 * 1024;
/// A header line longer than this means the reader is not at a record.
const MAX_HEADER_LINE: u64 = 64 * 1024;
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// Reads the WARC records of `input` (compressed when `gzip`).
pub(super) fn read_warc(
    input: impl Read,
    gzip: bool,
    origin: &Origin,
    emit: Emit<'_>,
) -> io::Result<()> {
    let mut archive = Archive::new(origin, emit);
    let mut input = BufReader::with_capacity(256 * 1024, input);
    let flow = if gzip {
        archive.read_members(&mut input)
    } else {
        archive.read_plain(&mut input)
    };
    if flow.is_continue() {
        archive.report_passed_over();
    }
    Ok(())
}

/// One archive being read: where it is, and what it passed over.
struct Archive<'o, 'e> {
    origin: &'o Origin,
    emit: Emit<'e>,
    /// Records started so far (the 1-based number of the current one).
    records: u64,
    pages: u64,
    /// Records that are not pages, by what they are (`request`, `image/png`).
    passed_over: BTreeMap<String, u64>,
}

/// What went wrong with one record.
enum RecordError {
    /// Not at a record: bytes that do not start `WARC/`.
    NotARecord,
    /// The input ended inside the record.
    Truncated {
        read: u64,
        expected: u64,
    },
    Malformed(String),
    Io(io::Error),
}

impl From<io::Error> for RecordError {
    fn from(error: io::Error) -> Self {
        if error.kind() == io::ErrorKind::UnexpectedEof {
            RecordError::Truncated {
                read: 0,
                expected: 0,
            }
        } else {
            RecordError::Io(error)
        }
    }
}

impl<'o, 'e> Archive<'o, 'e> {
    fn new(origin: &'o Origin, emit: Emit<'e>) -> Self {
        Archive {
            origin,
            emit,
            records: 0,
            pages: 0,
            passed_over: BTreeMap::new(),
        }
    }

    /// An uncompressed archive: after a damaged record, reading resumes at the next line that
    /// starts a record.
    fn read_plain(&mut self, input: &mut impl BufRead) -> ControlFlow<()> {
        loop {
            match self.next_record(input) {
                Ok(true) => {}
                Ok(false) => return ControlFlow::Continue(()),
                Err(RecordError::Io(error)) => return self.read_failed(&error),
                Err(error) => {
                    let truncated = matches!(error, RecordError::Truncated { .. });
                    self.problem(error)?;
                    if truncated || !skip_to_next_record(input).unwrap_or(false) {
                        return ControlFlow::Continue(());
                    }
                }
            }
        }
    }

    /// A compressed archive, member by member: a damaged member costs only its own records.
    fn read_members(&mut self, input: &mut impl BufRead) -> ControlFlow<()> {
        loop {
            match input.fill_buf() {
                Ok([]) => return ControlFlow::Continue(()),
                Ok(_) => {}
                Err(error) => return self.read_failed(&error),
            }
            let mut member = BufReader::new(GzDecoder::new(&mut *input));
            let damaged = loop {
                match self.next_record(&mut member) {
                    Ok(true) => {}
                    Ok(false) => break false,
                    Err(error) => {
                        let compressed = matches!(&error, RecordError::Io(io)
                            if io.kind() == io::ErrorKind::InvalidInput
                                || io.kind() == io::ErrorKind::InvalidData);
                        self.problem(error)?;
                        break compressed || io::copy(&mut member, &mut io::sink()).is_err();
                    }
                }
            };
            drop(member);
            if damaged && !skip_to_gzip_member(input).unwrap_or(false) {
                return ControlFlow::Continue(());
            }
        }
    }

    /// Reads one record and hands on its page, if it is one; `false` at the end of input.
    fn next_record(&mut self, input: &mut impl BufRead) -> Result<bool, RecordError> {
        // Counted before its headers are read, so that a problem with them names it.
        self.records += 1;
        let Some(headers) = read_record_headers(input)? else {
            self.records -= 1;
            return Ok(false);
        };
        let length: u64 = headers
            .get("content-length")
            .and_then(|value| value.trim().parse().ok())
            .ok_or_else(|| RecordError::Malformed("no Content-Length".to_owned()))?;
        let record_type = headers.get("warc-type").map_or("", String::as_str);
        let is_http_response = record_type == "response"
            && headers
                .get("content-type")
                .is_some_and(|value| value.to_ascii_lowercase().contains("msgtype=response"));
        if !is_http_response || length > MAX_RECORD_BYTES {
            let what = if is_http_response {
                "response larger than 64 MB".to_owned()
            } else {
                record_type.to_owned()
            };
            skip_exactly(input, length)?;
            self.pass_over(what);
        } else {
            let block = read_exactly(input, length)?;
            self.response(&headers, &block);
        }
        skip_record_end(input)?;
        Ok(true)
    }

    fn response(&mut self, headers: &BTreeMap<String, String>, block: &[u8]) {
        let response = match HttpResponse::parse(block) {
            Ok(response) => response,
            Err(reason) => {
                let at = self.origin.at_part("record", self.records);
                let problem = Problem::skipped(at, format!("unreadable HTTP response: {reason}"));
                let _ = (self.emit)(Item::Problem(problem));
                return;
            }
        };
        if !(200..300).contains(&response.status) {
            self.pass_over(format!("HTTP {}", response.status));
            return;
        }
        if !response.is_html() {
            self.pass_over(response.media_type());
            return;
        }
        self.pages += 1;
        let markup = Markup::Page {
            charset: response.charset(),
            bytes: response.body,
            url: headers
                .get("warc-target-uri")
                .map(|uri| uri.trim_matches(['<', '>']).to_owned()),
            date: headers.get("warc-date").cloned(),
        };
        let record = RawRecord {
            fields: Map::new(),
            markup: Some(markup),
        };
        let origin = self.origin.at_part("record", self.records);
        let _ = (self.emit)(Item::Record { origin, record });
    }

    fn pass_over(&mut self, what: String) {
        *self.passed_over.entry(what).or_default() += 1;
    }

    fn problem(&mut self, error: RecordError) -> ControlFlow<()> {
        let at = self.origin.at_part("record", self.records.max(1));
        let message = match error {
            RecordError::NotARecord => {
                "not a WARC record (no `WARC/` version line); skipped to the next record".to_owned()
            }
            RecordError::Truncated { read, expected } if expected > 0 => {
                format!("truncated record at the end of the file ({read} of {expected} bytes)")
            }
            RecordError::Truncated { .. } => "truncated record at the end of the file".to_owned(),
            RecordError::Malformed(reason) => format!("malformed WARC record: {reason}"),
            RecordError::Io(error) => {
                format!("damaged compressed data ({error}); skipped to the next record")
            }
        };
        (self.emit)(Item::Problem(Problem::skipped(at, message)))
    }

    fn read_failed(&mut self, error: &io::Error) -> ControlFlow<()> {
        let at = self.origin.at_part("record", self.records.max(1));
        let message = format!("read failed, rest of file skipped: {error}");
        (self.emit)(Item::Problem(Problem::skipped(at, message)))
    }

    /// One note for the file: how many records were not pages, by kind.
    fn report_passed_over(&mut self) {
        if self.passed_over.is_empty() {
            return;
        }
        let total: u64 = self.passed_over.values().sum();
        let kinds: Vec<String> = self
            .passed_over
            .iter()
            .map(|(what, count)| format!("{count} {what}"))
            .collect();
        let message = format!(
            "{} pages; passed over {total} records that are not HTML pages ({})",
            self.pages,
            kinds.join(", ")
        );
        let _ = (self.emit)(Item::Problem(Problem::note(self.origin.clone(), message)));
    }
}

/// The headers of the record starting here (names lowercased), or `None` at the end of input.
fn read_record_headers(
    input: &mut impl BufRead,
) -> Result<Option<BTreeMap<String, String>>, RecordError> {
    let mut line = Vec::new();
    // Blank lines between records are tolerated.
    loop {
        line.clear();
        if read_line(input, &mut line)? == 0 {
            return Ok(None);
        }
        if !line.trim_ascii().is_empty() {
            break;
        }
    }
    if !line.starts_with(b"WARC/") {
        return Err(RecordError::NotARecord);
    }
    let mut headers = BTreeMap::new();
    loop {
        line.clear();
        if read_line(input, &mut line)? == 0 {
            return Err(RecordError::Truncated {
                read: 0,
                expected: 0,
            });
        }
        let text = String::from_utf8_lossy(line.trim_ascii_end());
        if text.is_empty() {
            return Ok(Some(headers));
        }
        let Some((name, value)) = text.split_once(':') else {
            return Err(RecordError::Malformed(format!("header line `{text}`")));
        };
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
}

/// One line, with its end, of at most [`MAX_HEADER_LINE`] bytes.
fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> Result<usize, RecordError> {
    let read = input.take(MAX_HEADER_LINE).read_until(b'\n', line)?;
    if read as u64 == MAX_HEADER_LINE && !line.ends_with(b"\n") {
        return Err(RecordError::Malformed("header line over 64 KB".to_owned()));
    }
    Ok(read)
}

fn read_exactly(input: &mut impl BufRead, length: u64) -> Result<Vec<u8>, RecordError> {
    let mut block = Vec::with_capacity(length as usize);
    input.take(length).read_to_end(&mut block)?;
    if (block.len() as u64) < length {
        return Err(RecordError::Truncated {
            read: block.len() as u64,
            expected: length,
        });
    }
    Ok(block)
}

fn skip_exactly(input: &mut impl BufRead, length: u64) -> Result<(), RecordError> {
    let skipped = io::copy(&mut input.take(length), &mut io::sink())?;
    if skipped < length {
        return Err(RecordError::Truncated {
            read: skipped,
            expected: length,
        });
    }
    Ok(())
}

/// The blank lines after a block (`\r\n\r\n`, as written; other line ends tolerated).
fn skip_record_end(input: &mut impl BufRead) -> io::Result<()> {
    loop {
        let buffer = input.fill_buf()?;
        match buffer.first() {
            Some(b'\r' | b'\n') => input.consume(1),
            _ => return Ok(()),
        }
    }
}

/// Moves to the next line starting `WARC/`; `false` when the input ends first.
fn skip_to_next_record(input: &mut impl BufRead) -> io::Result<bool> {
    let mut line = Vec::new();
    loop {
        let buffer = input.fill_buf()?;
        if buffer.is_empty() {
            return Ok(false);
        }
        if buffer.starts_with(b"WARC/") {
            return Ok(true);
        }
        line.clear();
        input.read_until(b'\n', &mut line)?;
    }
}

/// Moves to the next gzip member header; `false` when the input ends first.
fn skip_to_gzip_member(input: &mut impl BufRead) -> io::Result<bool> {
    loop {
        let buffer = input.fill_buf()?;
        if buffer.len() < GZIP_MAGIC.len() {
            // Too little left to tell: a member cannot start in the last bytes.
            let length = buffer.len();
            input.consume(length);
            return Ok(false);
        }
        if let Some(start) = buffer
            .windows(GZIP_MAGIC.len())
            .position(|window| window == GZIP_MAGIC)
        {
            input.consume(start);
            return Ok(true);
        }
        // Keep the last bytes: the magic may straddle two buffers.
        let consumed = buffer.len() - (GZIP_MAGIC.len() - 1);
        input.consume(consumed);
    }
}

/// An HTTP response as archived: status, headers and the decoded body.
struct HttpResponse {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl HttpResponse {
    fn parse(block: &[u8]) -> Result<HttpResponse, String> {
        let head_end = find(block, b"\r\n\r\n")
            .map(|at| (at, at + 4))
            .or_else(|| find(block, b"\n\n").map(|at| (at, at + 2)))
            .ok_or("no end of the HTTP headers")?;
        let head = String::from_utf8_lossy(&block[..head_end.0]);
        let mut lines = head.lines();
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .filter(|_| status_line.starts_with("HTTP/"))
            .ok_or_else(|| format!("status line `{status_line}`"))?;
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
            .collect();
        let mut response = HttpResponse {
            status,
            headers,
            body: block[head_end.1..].to_vec(),
        };
        response.decode_body()?;
        Ok(response)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// Undoes chunked transfer and gzip or deflate content encoding.
    fn decode_body(&mut self) -> Result<(), String> {
        let chunked = self
            .header("transfer-encoding")
            .is_some_and(|value| value.to_ascii_lowercase().contains("chunked"));
        if chunked {
            self.body = dechunk(&self.body)?;
        }
        let encoding = self
            .header("content-encoding")
            .map(|value| value.trim().to_ascii_lowercase());
        let mut decoded = Vec::new();
        let result = match encoding.as_deref() {
            Some("gzip" | "x-gzip") => {
                flate2::read::MultiGzDecoder::new(self.body.as_slice()).read_to_end(&mut decoded)
            }
            Some("deflate") => {
                flate2::read::ZlibDecoder::new(self.body.as_slice()).read_to_end(&mut decoded)
            }
            _ => return Ok(()),
        };
        result.map_err(|error| format!("cannot decode the {encoding:?} body: {error}"))?;
        self.body = decoded;
        Ok(())
    }

    fn media_type(&self) -> String {
        self.header("content-type")
            .map(media_type)
            .filter(|media| !media.is_empty())
            .unwrap_or_else(|| "no content type".to_owned())
    }

    /// HTML by its content type, or by its first bytes when it has none.
    fn is_html(&self) -> bool {
        match self.media_type().as_str() {
            "text/html" | "application/xhtml+xml" => true,
            "no content type" => {
                let head = &self.body[..self.body.len().min(512)];
                let head = String::from_utf8_lossy(head).to_ascii_lowercase();
                head.contains("<html") || head.contains("<!doctype html")
            }
            _ => false,
        }
    }

    fn charset(&self) -> Option<String> {
        self.header("content-type").and_then(charset)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// The body of a chunked transfer: each chunk is a hex size line, the bytes, and a line end.
fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut decoded = Vec::with_capacity(body.len());
    loop {
        let line_end = find(body, b"\n").ok_or("chunk size line without an end")?;
        let size_text = String::from_utf8_lossy(&body[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("chunk size `{size_text}` is not hexadecimal"))?;
        body = &body[line_end + 1..];
        if size == 0 {
            return Ok(decoded);
        }
        let chunk = body.get(..size).ok_or("chunked body ends inside a chunk")?;
        decoded.extend_from_slice(chunk);
        body = &body[size..];
        body = body
            .strip_prefix(b"\r\n")
            .or_else(|| body.strip_prefix(b"\n"))
            .unwrap_or(body);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::Path;
    use std::sync::Arc;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;
    use crate::ingest::Severity;

    const PAGE: &str = "<html><head><title>Talks resume</title></head><body><article>\
        <p>Envoys met in Geneva on Tuesday.</p></article></body></html>";

    fn record(kind: &str, content_type: &str, block: &[u8]) -> Vec<u8> {
        let mut record = format!(
            "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: https://news.example/a\r\n\
             WARC-Date: 2025-02-03T04:05:06Z\r\nContent-Type: {content_type}\r\n\
             Content-Length: {}\r\n\r\n",
            block.len()
        )
        .into_bytes();
        record.extend_from_slice(block);
        record.extend_from_slice(b"\r\n\r\n");
        record
    }

    fn response(headers: &str, body: &[u8]) -> Vec<u8> {
        let mut block = format!("HTTP/1.1 200 OK\r\n{headers}\r\n").into_bytes();
        block.extend_from_slice(body);
        record("response", "application/http; msgtype=response", &block)
    }

    fn html_response() -> Vec<u8> {
        response(
            "Content-Type: text/html; charset=utf-8\r\n",
            PAGE.as_bytes(),
        )
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    /// Pages read (as their target URIs) and problems (as `record N: message`).
    fn read(bytes: &[u8], gzip: bool) -> (Vec<String>, Vec<String>) {
        let origin = Origin::file(Arc::from(Path::new("a.warc")));
        let (mut pages, mut problems) = (Vec::new(), Vec::new());
        read_warc(bytes, gzip, &origin, &mut |item| {
            match item {
                Item::Record { record, .. } => match record.markup {
                    Some(Markup::Page {
                        bytes,
                        url,
                        date,
                        charset,
                    }) => {
                        assert_eq!(date.as_deref(), Some("2025-02-03T04:05:06Z"));
                        assert_eq!(charset.as_deref(), Some("utf-8"));
                        assert_eq!(String::from_utf8(bytes).unwrap(), PAGE);
                        pages.push(url.unwrap());
                    }
                    other => panic!("{other:?}"),
                },
                Item::Problem(problem) => {
                    let severity = match problem.severity {
                        Severity::Note => "note",
                        _ => "problem",
                    };
                    problems.push(format!("{severity}: {problem}"));
                }
            }
            ControlFlow::Continue(())
        })
        .unwrap();
        (pages, problems)
    }

    #[test]
    fn pages_are_read_and_other_records_counted() {
        let mut archive = record("warcinfo", "application/warc-fields", b"software: test\r\n");
        archive.extend(record(
            "request",
            "application/http; msgtype=request",
            b"GET /a HTTP/1.1\r\n\r\n",
        ));
        archive.extend(html_response());
        archive.extend(response("Content-Type: image/png\r\n", b"\x89PNG\0\0"));
        let (pages, problems) = read(&archive, false);
        assert_eq!(pages, ["https://news.example/a"]);
        assert_eq!(
            problems,
            [
                "note: a.warc: 1 pages; passed over 3 records that are not HTML pages \
              (1 image/png, 1 request, 1 warcinfo)"
            ]
        );
    }

    #[test]
    fn chunked_and_gzipped_bodies_are_decoded() {
        let chunked = format!("{:x}\r\n{}\r\n0\r\n\r\n", PAGE.len(), PAGE);
        let archive = [
            response(
                "Content-Type: text/html; charset=utf-8\r\nTransfer-Encoding: chunked\r\n",
                chunked.as_bytes(),
            ),
            response(
                "Content-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\n",
                &gzip(PAGE.as_bytes()),
            ),
        ]
        .concat();
        assert_eq!(read(&archive, false).0.len(), 2);
    }

    #[test]
    fn a_damaged_record_in_the_middle_costs_only_itself() {
        let mut archive = html_response();
        archive.extend(b"garbage that is not a record\r\nmore of it\r\n");
        archive.extend(html_response());
        let (pages, problems) = read(&archive, false);
        assert_eq!(pages.len(), 2);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("(record 2): skipped: not a WARC record"));
    }

    #[test]
    fn a_damaged_gzip_member_costs_only_its_records() {
        let mut damaged = gzip(&html_response());
        let middle = damaged.len() / 2;
        damaged[middle..middle + 8].copy_from_slice(b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8");
        let archive = [gzip(&html_response()), damaged, gzip(&html_response())].concat();
        let (pages, problems) = read(&archive, true);
        assert_eq!(pages.len(), 2, "{problems:?}");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("(record 2): skipped:"), "{problems:?}");
    }

    #[test]
    fn a_truncated_last_record_is_reported() {
        let mut archive = [html_response(), html_response()].concat();
        archive.truncate(archive.len() - 40);
        let (pages, problems) = read(&archive, false);
        assert_eq!(pages.len(), 1);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("(record 2): skipped: truncated record at the end of the file"),
            "{problems:?}"
        );
        let compressed = gzip(&html_response());
        let archive = [
            gzip(&html_response()),
            compressed[..compressed.len() / 2].to_vec(),
        ]
        .concat();
        let (pages, problems) = read(&archive, true);
        assert_eq!(pages.len(), 1);
        assert!(
            problems[0].contains("(record 2): skipped: truncated"),
            "{problems:?}"
        );
    }

    /// Every record of `bytes`, whatever they hold: pages and problems counted.
    fn read_any(bytes: &[u8], gzip: bool) -> (usize, usize) {
        let origin = Origin::file(Arc::from(Path::new("any.warc")));
        let (mut pages, mut problems) = (0, 0);
        read_warc(bytes, gzip, &origin, &mut |item| {
            match item {
                Item::Record { .. } => pages += 1,
                Item::Problem(_) => problems += 1,
            }
            ControlFlow::Continue(())
        })
        .unwrap();
        (pages, problems)
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_read_without_panic(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
            gzip in proptest::prelude::any::<bool>(),
        ) {
            read_any(&bytes, gzip);
        }

        #[test]
        fn damaged_archives_lose_at_most_the_damaged_records(
            at in 0usize..1000,
            garbage in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..64),
        ) {
            let record = html_response();
            let mut archive = [record.clone(), record.clone(), record.clone()].concat();
            let at = at * archive.len() / 1000;
            let end = (at + garbage.len()).min(archive.len());
            archive[at..end].copy_from_slice(&garbage[..end - at]);
            let (pages, _) = read_any(&archive, false);
            // The damage spans at most two records; the third is read.
            proptest::prop_assert!(pages >= 1, "{pages} pages");
        }
    }

    #[test]
    fn chunk_sizes_are_checked() {
        assert_eq!(dechunk(b"3\r\nabc\r\n0\r\n\r\n").unwrap(), b"abc");
        assert!(dechunk(b"zz\r\nabc\r\n").is_err());
        assert!(dechunk(b"10\r\nabc").is_err());
    }
}
