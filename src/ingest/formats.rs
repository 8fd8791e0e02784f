//! Readers for each input format, with gzip, encoding and binary detection shared between them.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::ops::ControlFlow;

use serde_json::{Map, Value};

use super::feed::{check_feed_root, read_feed};
use super::fetch::{Fetched, FetchedPage, Fetcher};
use super::limits::{self, ReadLimits};
use super::record::{Markup, RawRecord, is_known_field, is_long_text_field};
use super::text::parse_text_article;
use super::transcode::{ToUtf8, WideEncoding};
use super::warc::read_warc;
use super::{InputFile, InputFormat, Item, Problem, Source};
use crate::article::Origin;

const SNIFF_BYTES: usize = 8 * 1024;
const LATIN1_WARNING: &str = "not valid UTF-8; decoded as Windows-1252 (Latin-1)";
const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

pub(super) type Emit<'a> = &'a mut dyn FnMut(Item) -> ControlFlow<()>;
/// A web page larger than this is not read: no news page is that large.
const MAX_PAGE_BYTES: u64 = 64 * 1024 * 1024;
const GZIP_MAGIC: &[u8] = b"\x1f\x8b";

pub(super) fn read(file: &InputFile, limits: &ReadLimits, emit: Emit<'_>) {
    let origin = Origin::file(file.path.clone());
    if let Source::Url(fetcher) = &file.source {
        read_url(fetcher, &origin, emit);
        return;
    }
    if file.format == InputFormat::Warc && matches!(file.source, Source::File) {
        // Compressed archives are read member by member, to resume after a damaged one.
        let result =
            File::open(&file.path).and_then(|raw| read_warc(raw, file.gzip, &origin, &mut *emit));
        if let Err(error) = result {
            let _ = emit(Item::Problem(Problem::skipped(
                origin,
                format!("cannot read: {error}"),
            )));
        }
        return;
    }
    let opened = open(file, limits).and_then(|reader| {
        let (mut head, mut rest) = read_head(reader)?;
        if file.source.is_stream() && head.starts_with(GZIP_MAGIC) {
            (head, rest) = read_head(inflate(Box::new(io::Cursor::new(head).chain(rest)), limits))?;
        }
        let reads_its_own_charset = matches!(
            file.format,
            InputFormat::Html | InputFormat::Feed | InputFormat::Warc
        ) && !file.source.is_stream();
        match WideEncoding::of(&head) {
            Some(encoding) if !reads_its_own_charset => {
                let whole = io::Cursor::new(head).chain(rest);
                read_head(Box::new(ToUtf8::new(whole, encoding)))
            }
            _ => Ok((head, rest)),
        }
    });
    let (head, rest) = match opened {
        Ok(opened) => opened,
        Err(error) => {
            let _ = emit(Item::Problem(Problem::skipped(
                origin,
                format!("cannot read: {error}"),
            )));
            return;
        }
    };
    let format = if file.source.is_stream() {
        detect_format(&head)
    } else {
        file.format
    };
    if let Err(message) = check_head(&head, format) {
        let _ = emit(Item::Problem(Problem::skipped(origin, message)));
        return;
    }
    let reader = BufReader::with_capacity(64 * 1024, io::Cursor::new(head).chain(rest));
    let result = match format {
        InputFormat::Json => read_json(reader, &origin, limits, emit),
        InputFormat::JsonLines => read_json_lines(reader, &origin, limits, emit),
        InputFormat::Csv => read_csv(reader, &origin, emit),
        InputFormat::Text => read_text(reader, &origin, limits, emit),
        InputFormat::Html => read_html(reader, &origin, emit),
        InputFormat::Feed => read_feed(reader, &origin, emit),
        InputFormat::Warc => read_warc(reader, false, &origin, emit),
    };
    if let Err(error) = result {
        let _ = emit(Item::Problem(Problem::skipped(
            origin,
            format!("read failed, rest of file skipped: {error}"),
        )));
    }
}

/// Standard input's format, from its first bytes: a web archive, a feed, a web page, a JSON
/// array, else JSON Lines.
fn detect_format(head: &[u8]) -> InputFormat {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start();
    if text.starts_with("WARC/") {
        InputFormat::Warc
    } else if text.starts_with('<') {
        if check_feed_root(text).is_ok() {
            InputFormat::Feed
        } else {
            InputFormat::Html
        }
    } else if text.starts_with('[') {
        InputFormat::Json
    } else {
        InputFormat::JsonLines
    }
}

/// Whether the first bytes can start a file of `format`: not empty, not binary, a feed's
/// root element.
fn check_head(head: &[u8], format: InputFormat) -> Result<(), String> {
    if head.iter().all(u8::is_ascii_whitespace) {
        return Err("empty file".to_owned());
    }
    let utf16 = head.starts_with(b"\xff\xfe") || head.starts_with(b"\xfe\xff");
    let may_hold_binary = format == InputFormat::Warc || (format == InputFormat::Html && utf16);
    if head.contains(&0) && !may_hold_binary {
        return Err("binary file, not text".to_owned());
    }
    if format == InputFormat::Feed {
        check_feed_root(&String::from_utf8_lossy(head))?;
    }
    Ok(())
}

/// A page or feed fetched from its URL: a feed by its content type or root element, else a
/// web page.
fn read_url(fetcher: &Fetcher, origin: &Origin, emit: Emit<'_>) {
    let url = origin.path.to_string_lossy().into_owned();
    let page = match fetcher.fetch(&url) {
        Ok(Fetched::Page(page)) => page,
        Ok(Fetched::NotModified) => {
            let note = Problem::note(origin.clone(), "unchanged since the last run (HTTP 304)");
            let _ = emit(Item::Problem(note));
            return;
        }
        Err(message) => {
            let message = message
                .strip_prefix(&format!("{url}: "))
                .unwrap_or(&message)
                .to_owned();
            let _ = emit(Item::Problem(Problem::skipped(origin.clone(), message)));
            return;
        }
    };
    let media_type = page
        .content_type
        .as_deref()
        .map(media_type)
        .unwrap_or_default();
    let head = String::from_utf8_lossy(&page.body[..page.body.len().min(SNIFF_BYTES)]);
    let is_feed = check_feed_root(&head).is_ok();
    let result = if is_feed {
        read_feed(page.body.as_slice(), origin, emit)
    } else if media_type.is_empty() || media_type.contains("html") {
        emit_page(page, origin, emit);
        Ok(())
    } else {
        let message = format!("not a web page or news feed (content type {media_type})");
        let _ = emit(Item::Problem(Problem::skipped(origin.clone(), message)));
        Ok(())
    };
    if let Err(error) = result {
        let _ = emit(Item::Problem(Problem::skipped(
            origin.clone(),
            format!("read failed: {error}"),
        )));
    }
}

/// A fetched web page, read as a page when the record is mapped: its final URL and
/// Last-Modified date stand in for what the page does not say.
fn emit_page(page: FetchedPage, origin: &Origin, emit: Emit<'_>) {
    let charset = page.content_type.as_deref().and_then(charset);
    let markup = Markup::Page {
        bytes: page.body,
        url: Some(page.final_url),
        date: page.last_modified,
        charset,
    };
    let record = RawRecord {
        fields: Map::new(),
        markup: Some(markup),
    };
    let _ = emit(Item::Record {
        origin: origin.clone(),
        record,
    });
}

/// The media type of an HTTP Content-Type value, lowercased: `text/html`.
pub(super) fn media_type(content_type: &str) -> String {
    let media = content_type.split(';').next().unwrap_or_default();
    media.trim().to_ascii_lowercase()
}

/// The `charset` parameter of an HTTP Content-Type value.
pub(super) fn charset(content_type: &str) -> Option<String> {
    content_type.split(';').find_map(|part| {
        let (name, value) = part.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

fn open(file: &InputFile, limits: &ReadLimits) -> io::Result<Box<dyn Read>> {
    let raw: Box<dyn Read> = if matches!(file.source, Source::Stdin) {
        Box::new(io::stdin().lock())
    } else {
        Box::new(File::open(&file.path)?)
    };
    Ok(if file.gzip { inflate(raw, limits) } else { raw })
}

/// The gzip stream `raw` inflated, within the limits.
fn inflate(raw: Box<dyn Read>, limits: &ReadLimits) -> Box<dyn Read> {
    Box::new(limits::gunzip(raw, *limits))
}

/// The first bytes of the input (all of them, however slowly a pipe delivers them, up to
/// [`SNIFF_BYTES`]) without a UTF-8 byte-order mark, and the rest of the reader.
fn read_head(mut reader: Box<dyn Read>) -> io::Result<(Vec<u8>, Box<dyn Read>)> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    reader
        .by_ref()
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)?;
    if head.starts_with(UTF8_BOM) {
        head.drain(..UTF8_BOM.len());
    }
    Ok((head, reader))
}

/// UTF-8 when it is; Windows-1252 otherwise (Latin-1 with typographic quotes and dashes in
/// 0x80-0x9F), which every byte sequence decodes as.
fn decode(bytes: &[u8]) -> (Cow<'_, str>, bool) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (Cow::Borrowed(text), false),
        Err(_) => (
            Cow::Owned(bytes.iter().map(|&byte| windows_1252(byte)).collect()),
            true,
        ),
    }
}

fn windows_1252(byte: u8) -> char {
    const HIGH_CONTROLS: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9f => HIGH_CONTROLS[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

fn emit_record(emit: Emit<'_>, origin: Origin, value: Value) -> ControlFlow<()> {
    match value {
        Value::Object(fields) => emit(Item::Record {
            origin,
            record: RawRecord::from_fields(fields),
        }),
        other => emit(Item::Problem(Problem::skipped(
            origin,
            format!("expected an article object, found {}", json_kind(&other)),
        ))),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON parse error as a problem at its line (counted after `lines_before` lines of the
/// file) and column. serde_json puts an error at a line's end at column 0 of the next line:
/// it is shown where it is, after the line's last character.
fn json_problem(
    emit: Emit<'_>,
    origin: &Origin,
    lines_before: u64,
    text: &str,
    error: &serde_json::Error,
) -> ControlFlow<()> {
    let (mut line, mut column) = (error.line(), error.column());
    if column == 0 && line > 1 {
        line -= 1;
        column = text
            .lines()
            .nth(line - 1)
            .map_or(0, |content| content.chars().count() + 1);
    }
    let message = format!("invalid JSON (column {column}): {}", reason(error));
    emit(Item::Problem(Problem::skipped(
        origin.at_line(lines_before + line as u64),
        message,
    )))
}

/// serde_json's message without its " at line L column C" tail: the problem carries both.
fn reason(error: &serde_json::Error) -> String {
    let message = error.to_string();
    message
        .rfind(" at line ")
        .map_or(message.as_str(), |tail| &message[..tail])
        .to_owned()
}

/// Decodes text with [`decode`], warning once per file (`latin1_warned`) when it was not
/// UTF-8; `None` when the consumer stopped at the warning.
fn decode_warning_once<'b>(
    bytes: &'b [u8],
    at: &Origin,
    latin1_warned: &mut bool,
    emit: Emit<'_>,
) -> Option<Cow<'b, str>> {
    let (text, latin1) = decode(bytes);
    if latin1 && !*latin1_warned {
        *latin1_warned = true;
        let warning = Problem::warning(at.clone(), LATIN1_WARNING);
        if emit(Item::Problem(warning)).is_break() {
            return None;
        }
    }
    Some(text)
}

/// A JSON file: an array is read an item at a time (never held whole), anything else as one
/// record.
fn read_json(
    mut reader: impl BufRead,
    origin: &Origin,
    limits: &ReadLimits,
    emit: Emit<'_>,
) -> io::Result<()> {
    if first_non_whitespace(&mut reader)? == Some(b'[') {
        return read_json_array(reader, origin, emit);
    }
    let mut bytes = Vec::new();
    let max = limits.max_record();
    reader.take(max as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > max {
        let _ = emit(Item::Problem(Problem::skipped(
            origin.clone(),
            too_long(max, "a JSON document"),
        )));
        return Ok(());
    }
    let Some(text) = decode_warning_once(&bytes, origin, &mut false, emit) else {
        return Ok(());
    };
    let _ = match serde_json::from_str(&text) {
        Ok(value) => emit_record(emit, origin.clone(), value),
        Err(error) => json_problem(emit, origin, 0, &text, &error),
    };
    Ok(())
}

fn first_non_whitespace(reader: &mut impl BufRead) -> io::Result<Option<u8>> {
    loop {
        let buffer = reader.fill_buf()?;
        let Some(&first) = buffer.first() else {
            return Ok(None);
        };
        if !first.is_ascii_whitespace() {
            return Ok(Some(first));
        }
        reader.consume(1);
    }
}

/// The items of a JSON array, each an article, parsed and handed on one at a time.
fn read_json_array(reader: impl BufRead, origin: &Origin, emit: Emit<'_>) -> io::Result<()> {
    struct Items<'o, 'e, 'f> {
        origin: &'o Origin,
        emit: &'e mut dyn FnMut(Item) -> ControlFlow<()>,
        stopped: &'f mut bool,
    }
    impl<'de> serde::de::Visitor<'de> for Items<'_, '_, '_> {
        type Value = ();

        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("an array of articles")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
            let mut position = 0;
            while let Some(item) = items.next_element::<Value>()? {
                position += 1;
                let at = self.origin.at_part("array item", position);
                if emit_record(self.emit, at, item).is_break() {
                    *self.stopped = true;
                    return Ok(());
                }
            }
            Ok(())
        }
    }
    let mut stopped = false;
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let items = Items {
        origin,
        emit: &mut *emit,
        stopped: &mut stopped,
    };
    match serde::Deserializer::deserialize_seq(&mut deserializer, items) {
        Ok(()) => {}
        // Stopping early leaves the array open, which the parser takes for an error.
        Err(_) if stopped => {}
        Err(error) if error.is_io() => return Err(io::Error::other(error)),
        Err(error) => {
            let at = origin.at_line(error.line() as u64);
            let message = format!(
                "invalid JSON (column {}): {}",
                error.column(),
                reason(&error)
            );
            let _ = emit(Item::Problem(Problem::skipped(at, message)));
        }
    }
    Ok(())
}

fn read_json_lines(
    mut reader: impl BufRead,
    origin: &Origin,
    limits: &ReadLimits,
    emit: Emit<'_>,
) -> io::Result<()> {
    let mut line = Vec::new();
    let mut line_number = 0;
    let mut warned_latin1 = false;
    let max = limits.max_record();
    loop {
        let read = limits::read_line_within(&mut reader, &mut line, max)?;
        line_number += 1;
        let at = origin.at_line(line_number);
        match read {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(_) => {
                let problem = Problem::skipped(at, too_long(max, "a line"));
                if emit(Item::Problem(problem)).is_break() {
                    return Ok(());
                }
                continue;
            }
        }
        let Some(text) = decode_warning_once(&line, &at, &mut warned_latin1, emit) else {
            return Ok(());
        };
        if text.trim().is_empty() {
            continue;
        }
        let flow = match serde_json::from_str::<Value>(&text) {
            Ok(value) => emit_record(emit, at, value),
            Err(error) => json_problem(emit, origin, line_number - 1, &text, &error),
        };
        if flow.is_break() {
            return Ok(());
        }
    }
}

fn too_long(max: usize, what: &str) -> String {
    format!(
        "{what} longer than {} (four times --max-article) is not read",
        limits::megabytes(max as u64)
    )
}

/// A record may span this many lines (a body with many paragraphs) before the quote that opened
/// it is taken for a stray one.
const MAX_CSV_RECORD_LINES: usize = 2_000;
/// And this many bytes.
const MAX_CSV_RECORD_BYTES: usize = 8 << 20;

/// Reads CSV rows as records, by header or guessed columns. A stray quote makes a field run on
/// over the lines after it: such a field is reported at the line it opens on, and reading starts
/// again on the next line, so that the rows it took in are read and nothing is lost unsaid.
fn read_csv(reader: impl Read, origin: &Origin, emit: Emit<'_>) -> io::Result<()> {
    let mut lines = CsvLines::new(io::BufReader::new(reader));
    let mut columns: Option<CsvColumns> = None;
    let mut warned_latin1 = false;
    let (mut rows, mut rows_read) = (0u64, 0u64);
    while let Some(assembled) = lines.next_record()? {
        let at = origin.at_line(assembled.line);
        if let Some(why) = &assembled.runaway {
            rows += 1;
            let problem = Problem::skipped(at, restart_message(why, assembled.line));
            lines.read_again(assembled.line, assembled.lines);
            if emit(Item::Problem(problem)).is_break() {
                return Ok(());
            }
            continue;
        }
        let mut fields: Vec<String> = Vec::with_capacity(assembled.fields.len());
        for field in &assembled.fields {
            let Some(text) = decode_warning_once(field, &at, &mut warned_latin1, emit) else {
                return Ok(());
            };
            fields.push(text.into_owned());
        }
        let Some(header) = &columns else {
            let (header, flow) = first_csv_row(fields, origin, at, emit);
            rows_read += u64::from(header.is_guessed);
            rows += u64::from(header.is_guessed);
            columns = Some(header);
            if flow.is_break() {
                return Ok(());
            }
            continue;
        };
        rows += 1;
        let spans_lines = assembled.lines.len() > 1;
        let problem = if fields.len() != header.names.len() && spans_lines {
            let why = format!(
                "runs over {} lines and leaves {} columns where the header has {}",
                assembled.lines.len(),
                fields.len(),
                header.names.len()
            );
            Some(restart_message(&why, assembled.line))
        } else if fields.len() != header.names.len() {
            Some(format!(
                "wrong column count: {} where the header has {}",
                fields.len(),
                header.names.len()
            ))
        } else if let Some(column) = header.swallowed_rows(&assembled) {
            let why = format!(
                "in column `{column}` runs over {} lines that read as rows",
                assembled.lines.len()
            );
            Some(restart_message(&why, assembled.line))
        } else {
            None
        };
        let flow = match problem {
            Some(message) => {
                if spans_lines {
                    lines.read_again(assembled.line, assembled.lines);
                }
                emit(Item::Problem(Problem::skipped(at, message)))
            }
            None => {
                rows_read += 1;
                header.emit_row(fields, at, emit)
            }
        };
        if flow.is_break() {
            return Ok(());
        }
    }
    if rows_read < rows {
        let summary = format!("read {rows_read} of the {rows} rows in the file");
        let _ = emit(Item::Problem(Problem::note(origin.clone(), summary)));
    }
    Ok(())
}

fn restart_message(why: &str, line: u64) -> String {
    format!(
        "a quoted field opened on this line {why}: a stray quote? This row is skipped and \
         reading starts again at line {}",
        line + 1
    )
}

/// The columns the first row names (a header), or guessed from it (then it is a row too).
fn first_csv_row(
    fields: Vec<String>,
    origin: &Origin,
    at: Origin,
    emit: Emit<'_>,
) -> (CsvColumns, ControlFlow<()>) {
    if let Some(header) = CsvColumns::from_header(&fields) {
        return (header, ControlFlow::Continue(()));
    }
    let guessed = CsvColumns::guess(&fields);
    let note = format!(
        "no header row recognised; reading columns as {}",
        guessed.describe()
    );
    let flow = match emit(Item::Problem(Problem::warning(origin.clone(), note))) {
        ControlFlow::Continue(()) => guessed.emit_row(fields, at, emit),
        stop => stop,
    };
    (guessed, flow)
}

/// One CSV record as read: the line it starts on, the lines it spans, its fields and which of
/// them span lines; or, when a quoted field never closes within the limits, why not.
struct AssembledRecord {
    line: u64,
    lines: Vec<Vec<u8>>,
    fields: Vec<Vec<u8>>,
    multiline: Vec<bool>,
    runaway: Option<String>,
}

/// The physical lines of a CSV file, numbered, and lines given back to be read again.
struct CsvLines<R> {
    reader: R,
    next_line: u64,
    again: std::collections::VecDeque<(u64, Vec<u8>)>,
}

impl<R: io::BufRead> CsvLines<R> {
    fn new(reader: R) -> CsvLines<R> {
        CsvLines {
            reader,
            next_line: 1,
            again: std::collections::VecDeque::new(),
        }
    }

    fn next_line(&mut self) -> io::Result<Option<(u64, Vec<u8>)>> {
        if let Some(line) = self.again.pop_front() {
            return Ok(Some(line));
        }
        let mut line = Vec::new();
        if self.reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        if self.next_line == 1 && line.starts_with(b"\xef\xbb\xbf") {
            line.drain(..3);
        }
        self.next_line += 1;
        Ok(Some((self.next_line - 1, line)))
    }

    /// The lines of a record after its first (line `first`), to be read again.
    fn read_again(&mut self, first: u64, lines: Vec<Vec<u8>>) {
        let numbered: Vec<(u64, Vec<u8>)> = (first..).zip(lines).skip(1).collect();
        for line in numbered.into_iter().rev() {
            self.again.push_front(line);
        }
    }

    fn next_record(&mut self) -> io::Result<Option<AssembledRecord>> {
        let mut scanner = CsvScanner::default();
        let mut record = AssembledRecord {
            line: 0,
            lines: Vec::new(),
            fields: Vec::new(),
            multiline: Vec::new(),
            runaway: None,
        };
        let mut bytes = 0;
        loop {
            let Some((number, line)) = self.next_line()? else {
                if record.lines.is_empty() {
                    return Ok(None);
                }
                if scanner.state == CsvState::Quoted {
                    record.runaway = Some("is never closed".to_owned());
                } else {
                    scanner.end_field();
                }
                break;
            };
            if record.lines.is_empty() {
                if line.iter().all(|&byte| byte == b'\r' || byte == b'\n') {
                    continue;
                }
                record.line = number;
            }
            bytes += line.len();
            let complete = scanner.feed(&line);
            record.lines.push(line);
            if complete {
                break;
            }
            if record.lines.len() > MAX_CSV_RECORD_LINES || bytes > MAX_CSV_RECORD_BYTES {
                record.runaway = Some(format!(
                    "runs over more than {MAX_CSV_RECORD_LINES} lines or {} MB",
                    MAX_CSV_RECORD_BYTES >> 20
                ));
                break;
            }
        }
        record.fields = scanner.fields;
        record.multiline = scanner.multiline;
        Ok(Some(record))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum CsvState {
    #[default]
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the field's end, or the first of two quotes for one.
    QuoteInQuoted,
}

/// Splits CSV fields as the csv crate reads them (RFC 4180, leniently: a quote inside an
/// unquoted field is text), a line at a time, so that where a record ends is known line by
/// line.
#[derive(Default)]
struct CsvScanner {
    state: CsvState,
    fields: Vec<Vec<u8>>,
    multiline: Vec<bool>,
    current: Vec<u8>,
    current_multiline: bool,
}

impl CsvScanner {
    /// Reads one line (ending in `\n` but the file's last); whether the record ends with it.
    fn feed(&mut self, line: &[u8]) -> bool {
        for &byte in line {
            match (self.state, byte) {
                (CsvState::Quoted, b'"') => self.state = CsvState::QuoteInQuoted,
                (CsvState::Quoted, _) => {
                    self.current_multiline |= byte == b'\n';
                    self.current.push(byte);
                }
                (CsvState::QuoteInQuoted, b'"') => {
                    self.current.push(b'"');
                    self.state = CsvState::Quoted;
                }
                (CsvState::FieldStart, b'"') => self.state = CsvState::Quoted,
                (_, b',') => self.end_field(),
                (_, b'\n') => {
                    if self.current.last() == Some(&b'\r') && self.state != CsvState::QuoteInQuoted
                    {
                        self.current.pop();
                    }
                    self.end_field();
                    return true;
                }
                (_, _) => {
                    self.current.push(byte);
                    self.state = CsvState::Unquoted;
                }
            }
        }
        false
    }

    fn end_field(&mut self) {
        self.fields.push(std::mem::take(&mut self.current));
        self.multiline
            .push(std::mem::take(&mut self.current_multiline));
        self.state = CsvState::FieldStart;
    }
}

/// How many fields `line` holds when read as a whole record, or `None` when a quoted field
/// runs past its end.
fn fields_in_line(line: &[u8]) -> Option<usize> {
    let mut scanner = CsvScanner::default();
    if !scanner.feed(line) {
        if scanner.state == CsvState::Quoted {
            return None;
        }
        scanner.end_field();
    }
    Some(scanner.fields.len())
}

/// How CSV columns map to record fields.
struct CsvColumns {
    names: Vec<String>,
    /// Guessed from the first row, which is then an article too.
    is_guessed: bool,
}

impl CsvColumns {
    fn from_header(header: &[String]) -> Option<CsvColumns> {
        header
            .iter()
            .any(|name| is_known_field(name))
            .then(|| CsvColumns {
                names: header.iter().map(|name| name.trim().to_owned()).collect(),
                is_guessed: false,
            })
    }

    /// The column of a field that spans lines where only long text may, when the line after
    /// the record's first reads as a whole row: the rows a stray quote took in.
    fn swallowed_rows(&self, record: &AssembledRecord) -> Option<&str> {
        let column = self
            .names
            .iter()
            .zip(&record.multiline)
            .find(|(name, multiline)| **multiline && !is_long_text_field(name))?
            .0;
        let next = record.lines.get(1)?;
        (fields_in_line(next) == Some(self.names.len())).then_some(column.as_str())
    }

    /// For a file without a header: numbers are labels, the longest text is the body and the
    /// first other text is the title.
    fn guess(first_row: &[String]) -> CsvColumns {
        let is_text = |value: &String| value.trim().parse::<f64>().is_err();
        let body = (0..first_row.len())
            .filter(|&index| is_text(&first_row[index]))
            .max_by_key(|&index| first_row[index].len());
        let title =
            (0..first_row.len()).find(|&index| Some(index) != body && is_text(&first_row[index]));
        let names = (0..first_row.len())
            .map(|index| match index {
                _ if Some(index) == body => "body".to_owned(),
                _ if Some(index) == title => "title".to_owned(),
                _ => format!("column{}", index + 1),
            })
            .collect();
        CsvColumns {
            names,
            is_guessed: true,
        }
    }

    fn describe(&self) -> String {
        self.names
            .iter()
            .enumerate()
            .map(|(index, name)| format!("{}={name}", index + 1))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn emit_row(&self, row: Vec<String>, at: Origin, emit: Emit<'_>) -> ControlFlow<()> {
        let fields: Map<String, Value> = self
            .names
            .iter()
            .cloned()
            .zip(row.into_iter().map(Value::String))
            .collect();
        emit(Item::Record {
            origin: at,
            record: RawRecord::from_fields(fields),
        })
    }
}

/// A saved web page: its bytes, read as a page (charset, main text, metadata) when the record
/// is mapped.
fn read_html(reader: impl Read, origin: &Origin, emit: Emit<'_>) -> io::Result<()> {
    let mut bytes = Vec::new();
    reader.take(MAX_PAGE_BYTES + 1).read_to_end(&mut bytes)?;
    let item = if bytes.len() as u64 > MAX_PAGE_BYTES {
        Item::Problem(Problem::skipped(
            origin.clone(),
            "web page larger than 64 MB; not read",
        ))
    } else {
        let markup = Markup::Page {
            bytes,
            url: None,
            date: None,
            charset: None,
        };
        Item::Record {
            origin: origin.clone(),
            record: RawRecord {
                fields: Map::new(),
                markup: Some(markup),
            },
        }
    };
    let _ = emit(item);
    Ok(())
}

/// A text or Markdown article. Past four times `--max-article` the rest of the file is not
/// read (the body is then cut to `--max-article` like any other).
fn read_text(
    reader: impl Read,
    origin: &Origin,
    limits: &ReadLimits,
    emit: Emit<'_>,
) -> io::Result<()> {
    let mut bytes = Vec::new();
    let max = limits.max_record();
    let mut reader = reader.take(max as u64 + 1);
    reader.read_to_end(&mut bytes)?;
    if bytes.len() > max {
        bytes.truncate(max);
        let note = format!(
            "a text longer than {}; only its beginning is read",
            limits::megabytes(max as u64)
        );
        if emit(Item::Problem(Problem::warning(origin.clone(), note))).is_break() {
            return Ok(());
        }
    }
    let Some(text) = decode_warning_once(&bytes, origin, &mut false, emit) else {
        return Ok(());
    };
    let _ = match parse_text_article(&text) {
        Ok(record) => emit(Item::Record {
            origin: origin.clone(),
            record,
        }),
        Err(error) => emit(Item::Problem(Problem::skipped(
            origin.at_line(error.line),
            error.message,
        ))),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn read_all(name: &str, bytes: &[u8], format: InputFormat) -> Vec<Item> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let file = InputFile {
            path: Arc::from(path.as_path()),
            format,
            gzip: false,
            source: Source::File,
        };
        let mut items = Vec::new();
        read(&file, &ReadLimits::default(), &mut |item| {
            items.push(item);
            ControlFlow::Continue(())
        });
        items
    }

    fn problems(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .filter_map(|item| match item {
                Item::Problem(problem) => {
                    let line = problem
                        .origin
                        .line
                        .map(|line| format!(":{line}"))
                        .unwrap_or_default();
                    Some(format!("{line} {}", problem.message))
                }
                Item::Record { .. } => None,
            })
            .collect()
    }

    fn record_count(items: &[Item]) -> usize {
        items
            .iter()
            .filter(|item| matches!(item, Item::Record { .. }))
            .count()
    }

    #[test]
    fn json_lines_skip_bad_lines_only() {
        let items = read_all(
            "a.jsonl",
            b"{\"title\":\"a\"}\n{\"title\":\n\n[1]\n{\"title\":\"b\"}\n",
            InputFormat::JsonLines,
        );
        assert_eq!(record_count(&items), 2);
        let problems = problems(&items);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with(":2 invalid JSON"), "{problems:?}");
        assert!(
            problems[1].starts_with(":4 expected an article object"),
            "{problems:?}"
        );
    }

    #[test]
    fn csv_rows_with_wrong_column_count_are_skipped_by_line() {
        let items = read_all(
            "a.csv",
            b"id,title,body\n1,a,b\n2,a,b,extra\n3,\"c, d\",e\n",
            InputFormat::Csv,
        );
        assert_eq!(record_count(&items), 2);
        assert_eq!(
            problems(&items),
            [
                ":3 wrong column count: 4 where the header has 3",
                " read 2 of the 3 rows in the file"
            ]
        );
    }

    #[test]
    fn csv_lines_count_crlf_blank_lines_and_quoted_newlines() {
        let text = b"\r\nid,title,body\r\n1,a,\"two\r\nlines\"\r\n2,a,b,extra\r\n";
        let items = read_all("a.csv", text, InputFormat::Csv);
        assert_eq!(record_count(&items), 1);
        assert_eq!(
            problems(&items),
            [
                ":5 wrong column count: 4 where the header has 3",
                " read 1 of the 2 rows in the file"
            ]
        );
    }

    /// `id,title,body` rows 1..=rows, with `change` applied to each row's text.
    fn csv_rows(rows: usize, change: impl Fn(usize, String) -> String) -> Vec<u8> {
        let mut text = String::from("id,title,body\n");
        for row in 1..=rows {
            let line = format!("{row},Title {row},Body of row {row}");
            text.push_str(&change(row, line));
            text.push('\n');
        }
        text.into_bytes()
    }

    fn record_ids(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .filter_map(|item| match item {
                Item::Record { record, .. } => Some(record.fields["id"].as_str()?.to_owned()),
                Item::Problem(_) => None,
            })
            .collect()
    }

    #[test]
    fn a_stray_quote_never_closed_loses_only_its_row() {
        let text = csv_rows(10_000, |row, line| {
            if row == 3 {
                line.replace("Title 3", "\"Title 3")
            } else {
                line
            }
        });
        let items = read_all("a.csv", &text, InputFormat::Csv);
        assert_eq!(record_count(&items), 9_999);
        let problems = problems(&items);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with(":4 a quoted field opened on this line runs over more than")
                && problems[0].ends_with("reading starts again at line 5"),
            "{problems:?}"
        );
        assert_eq!(problems[1], " read 9999 of the 10000 rows in the file");
        assert_eq!(record_ids(&items)[2..4], ["4", "5"]);
    }

    #[test]
    fn rows_merged_between_two_stray_quotes_are_read_again() {
        let text = csv_rows(40, |row, line| match row {
            5 => line.replace("Title 5", "\"Title 5"),
            30 => line.replace("Title 30", "Title 30\""),
            _ => line,
        });
        let items = read_all("a.csv", &text, InputFormat::Csv);
        let problems = problems(&items);
        assert!(
            problems[0].starts_with(":6 a quoted field opened on this line")
                && problems[0].contains("reading starts again at line 7"),
            "{problems:?}"
        );
        let ids = record_ids(&items);
        assert!(!ids.contains(&"5".to_owned()));
        assert!(
            ids.contains(&"6".to_owned()) && ids.contains(&"29".to_owned()),
            "{ids:?}"
        );
        assert_eq!(
            problems.last().unwrap(),
            &format!(
                " read {} of the {} rows in the file",
                ids.len(),
                ids.len() + problems.len() - 1
            )
        );
    }

    #[test]
    fn bodies_over_many_lines_are_one_row() {
        let text = csv_rows(3, |row, line| {
            let line = line.replace(
                "Body of row",
                "\"A body, over lines\n\nand, a second, paragraph,\n of row",
            ) + "\"";
            if row == 2 {
                line.replace("Title 2", "\"Title 2, quoted \"\"aside\"\"\"")
            } else {
                line
            }
        });
        let items = read_all("a.csv", &text, InputFormat::Csv);
        assert_eq!(problems(&items), Vec::<String>::new());
        assert_eq!(record_ids(&items), ["1", "2", "3"]);
    }

    proptest::proptest! {
        #[test]
        fn csv_fields_are_read_as_the_csv_crate_reads_them(
            rows in proptest::collection::vec(
                proptest::collection::vec("[a-z ,\"\n\r]{0,12}", 3), 1..8)
        ) {
            let mut writer = csv::Writer::from_writer(Vec::new());
            for row in &rows {
                writer.write_record(row).unwrap();
            }
            let bytes = writer.into_inner().unwrap();
            let mut ours = Vec::new();
            let mut lines = CsvLines::new(&bytes[..]);
            while let Some(record) = lines.next_record().unwrap() {
                proptest::prop_assert!(record.runaway.is_none());
                ours.push(record.fields);
            }
            let theirs: Vec<Vec<Vec<u8>>> = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(&bytes[..])
                .byte_records()
                .map(|row| row.unwrap().iter().map(<[u8]>::to_vec).collect())
                .collect();
            proptest::prop_assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn headerless_csv_is_guessed() {
        let items = read_all(
            "a.csv",
            b"\"3\",\"Short title\",\"A much longer description of the event.\"\n",
            InputFormat::Csv,
        );
        assert_eq!(record_count(&items), 1);
        assert!(problems(&items)[0].contains("1=column1, 2=title, 3=body"));
    }

    #[test]
    fn empty_binary_and_latin1_files() {
        assert_eq!(
            problems(&read_all("e.json", b"", InputFormat::Json)),
            [" empty file"]
        );
        assert_eq!(
            problems(&read_all("b.txt", &[0, 1, 2, 255, 0], InputFormat::Text)),
            [" binary file, not text"]
        );
        let items = read_all(
            "l.txt",
            b"Caf\xe9 talks\n\nBody \x93\xa3\x94 text",
            InputFormat::Text,
        );
        assert_eq!(record_count(&items), 1);
        assert_eq!(problems(&items), [format!(" {LATIN1_WARNING}")]);
        let Item::Record { record, .. } = &items[1] else {
            panic!()
        };
        assert_eq!(record.fields["title"], "Café talks");
        assert_eq!(record.fields["body"], "Body “£” text");
    }

    #[test]
    fn byte_order_marks_are_dropped() {
        let items = read_all(
            "a.json",
            b"\xef\xbb\xbf{\"title\": \"a\"}",
            InputFormat::Json,
        );
        assert_eq!((record_count(&items), problems(&items).len()), (1, 0));
        let items = read_all(
            "a.jsonl",
            b"\xef\xbb\xbf{\"title\": \"a\"}\n",
            InputFormat::JsonLines,
        );
        assert_eq!((record_count(&items), problems(&items).len()), (1, 0));
    }

    #[test]
    fn json_array_and_syntax_error_with_line() {
        let items = read_all(
            "a.json",
            b"[{\"title\":\"a\"},{\"title\":\"b\"},3]",
            InputFormat::Json,
        );
        assert_eq!(record_count(&items), 2);
        let Item::Problem(problem) = &items[2] else {
            panic!("{items:?}")
        };
        let message = problem.to_string();
        assert!(
            message.ends_with(
                "a.json (array item 3): skipped: expected an article object, found a number"
            ),
            "{message}"
        );
        let items = read_all("b.json", b"{\n\"title\": \"a\",\n}\n", InputFormat::Json);
        assert!(
            problems(&items)[0].starts_with(":3 invalid JSON"),
            "{:?}",
            problems(&items)
        );
    }
}
