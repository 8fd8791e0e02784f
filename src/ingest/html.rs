//! A saved web page read into one article record: the bytes decoded as the page declares (or
//! as detected), the main text found by rs-trafilatura and then cleared of the news-page
//! boilerplate it keeps, and the metadata read from the page's head.

use std::panic::{AssertUnwindSafe, catch_unwind};

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use dom_query::Document;
use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};
use serde_json::{Map, Value};
use url::Url;

use super::{RawRecord, parse_date};

/// What is known of a page besides its bytes: where it came from.
pub struct PageHints<'a> {
    /// Where the page was fetched or archived from (WARC-Target-URI, the URL fetched).
    pub url: Option<&'a str>,
    /// A fallback date (WARC-Date, HTTP Last-Modified), RFC 3339 or RFC 2822.
    pub date: Option<&'a str>,
    /// The charset of an HTTP Content-Type header, if any.
    pub charset: Option<&'a str>,
}

/// A page read: its record (title, date, URL, source, language, summary, body) and what is
/// worth a warning (a guessed charset).
pub struct Page {
    pub record: RawRecord,
    pub warnings: Vec<String>,
}

const NO_TEXT: &str = "no article text found in the page";
/// The HTML standard looks for a `<meta charset>` in the first 1024 bytes; pages put long
/// scripts and comments first often enough that a wider window pays.
const CHARSET_PRESCAN_BYTES: usize = 8192;
/// Fewer words than this are a menu or a caption left over, not an article.
const MIN_ARTICLE_WORDS: usize = 10;
/// Fragments with less text than this are a summary, not an article to extract from.
const LARGE_FRAGMENT_CHARS: usize = 2000;

/// The article a saved page holds; `Err` with the reason when it has no article text.
pub fn read_page(bytes: &[u8], hints: &PageHints<'_>) -> Result<Page, String> {
    let mut warnings = Vec::new();
    let html = decode(bytes, hints, &mut warnings);
    let document = Document::from(html.as_str());
    let head = HeadMetadata::read(&document, hints);
    let extracted = extract_main_text(&html, head.url.as_deref().or(hints.url))?;
    let body = clean_body(&extracted.content_text, head.title.as_deref());
    if body.split_whitespace().count() < MIN_ARTICLE_WORDS {
        return Err(NO_TEXT.to_owned());
    }
    let mut fields = head.into_fields(extracted.metadata.author);
    fields.insert("body".to_owned(), Value::String(body));
    Ok(Page {
        record: RawRecord::from_fields(fields),
        warnings,
    })
}

/// Plain text of an HTML fragment (a feed item's description or content:encoded): through the
/// main-text path when it is large, a plain conversion when small; "" for no text.
pub(crate) fn fragment_text(html: &str) -> String {
    let plain = plain_text(html);
    if plain.chars().count() < LARGE_FRAGMENT_CHARS {
        return plain;
    }
    let page = format!("<html><body><article>{html}</article></body></html>");
    match extract_main_text(&page, None) {
        Ok(extracted) if !extracted.content_text.trim().is_empty() => {
            clean_body(&extracted.content_text, None)
        }
        _ => plain,
    }
}

fn plain_text(html: &str) -> String {
    let text = Document::fragment(html).formatted_text();
    paragraphs(text.lines())
}

/// Non-blank lines, trimmed, separated by blank lines.
fn paragraphs<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    lines
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn extract_main_text(
    html: &str,
    url: Option<&str>,
) -> Result<rs_trafilatura::ExtractResult, String> {
    let options = rs_trafilatura::Options {
        url: url.map(str::to_owned),
        ..rs_trafilatura::Options::default()
    };
    // A third-party parser's panic on one odd page must not end a whole ingest.
    catch_unwind(AssertUnwindSafe(|| {
        rs_trafilatura::extract_with_options(html, &options)
    }))
    .map_err(|_| "the page could not be parsed".to_owned())?
    .map_err(|error| format!("{NO_TEXT}: {error}"))
}

// ---- Character encoding ----

/// The page as text: a byte order mark wins, then the HTTP charset, then `<meta charset>`;
/// otherwise (or for a label nobody knows) the encoding is detected and a warning says so.
fn decode(bytes: &[u8], hints: &PageHints<'_>, warnings: &mut Vec<String>) -> String {
    if let Some((encoding, bom_length)) = Encoding::for_bom(bytes) {
        return decode_with(encoding, &bytes[bom_length..]);
    }
    let declared = hints
        .charset
        .map(|label| (label.to_owned(), false))
        .or_else(|| meta_charset(bytes).map(|label| (label, true)));
    if let Some((label, from_meta)) = declared {
        match Encoding::for_label(label.trim().as_bytes()) {
            // A page that can be read as ASCII cannot be UTF-16: the standard reads it as UTF-8.
            Some(encoding) if from_meta && (encoding == UTF_16LE || encoding == UTF_16BE) => {
                return decode_with(UTF_8, bytes);
            }
            Some(encoding) => return decode_with(encoding, bytes),
            None => {
                let detected = detect_encoding(bytes, hints.url);
                warnings.push(format!(
                    "unknown charset {label:?}; detected as {}",
                    detected.name().to_lowercase()
                ));
                return decode_with(detected, bytes);
            }
        }
    }
    if std::str::from_utf8(bytes).is_ok() {
        return decode_with(UTF_8, bytes);
    }
    let detected = detect_encoding(bytes, hints.url);
    warnings.push(format!(
        "charset not declared; detected as {}",
        detected.name().to_lowercase()
    ));
    decode_with(detected, bytes)
}

fn decode_with(encoding: &'static Encoding, bytes: &[u8]) -> String {
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

/// chardetng's guess, helped by the top-level domain of the page's address.
fn detect_encoding(bytes: &[u8], url: Option<&str>) -> &'static Encoding {
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let host = url.and_then(|url| Url::parse(url).ok()?.host_str().map(str::to_owned));
    let top_level_domain = host.as_deref().and_then(|host| host.rsplit('.').next());
    detector.guess(top_level_domain.map(str::as_bytes), Utf8Detection::Allow)
}

/// The charset a `<meta charset>` or `<meta http-equiv="Content-Type">` declares near the top.
fn meta_charset(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(CHARSET_PRESCAN_BYTES)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    head.match_indices("<meta")
        .filter_map(|(start, _)| {
            let tag = &head[start..];
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            let value = &tag[tag.find("charset")? + "charset".len()..];
            let value = value.trim_start().strip_prefix('=')?;
            let value = value.trim_start().trim_start_matches(['"', '\'']);
            let end = value
                .find(|c: char| c == '"' || c == '\'' || c == ';' || c == '/' || c.is_whitespace())
                .unwrap_or(value.len());
            (end > 0).then(|| value[..end].to_owned())
        })
        .next()
}

// ---- Metadata from the head ----

#[derive(Default)]
struct HeadMetadata {
    title: Option<String>,
    published: Option<String>,
    author: Option<String>,
    source: Option<String>,
    url: Option<String>,
    language: Option<String>,
    summary: Option<String>,
}

impl HeadMetadata {
    fn read(document: &Document, hints: &PageHints<'_>) -> HeadMetadata {
        let article = json_ld_article(document);
        let ld_text = |key: &str| {
            article
                .as_ref()
                .and_then(|article| names_of(article.get(key)?))
        };
        let url = page_url(document, hints.url);
        let site_name = meta(document, &["og:site_name"]).or_else(|| {
            let publisher = article.as_ref()?.get("publisher")?;
            names_of(publisher)
        });
        let source = site_name.clone().or_else(|| host_of(url.as_deref()));
        let title = ld_text("headline")
            .or_else(|| meta(document, &["og:title", "twitter:title"]))
            .map(|title| strip_site_suffix(&title, source.as_deref(), false))
            .or_else(|| {
                let title = text_of(document, "title")?;
                Some(strip_site_suffix(&title, source.as_deref(), true))
            });
        let published = [
            ld_text("datePublished"),
            meta(document, &["article:published_time", "og:published_time"]),
            meta(
                document,
                &[
                    "datePublished",
                    "date",
                    "pubdate",
                    "dc.date.issued",
                    "dc.date",
                ],
            ),
            document
                .select("time[datetime]")
                .first()
                .attr("datetime")
                .map(String::from),
        ]
        .into_iter()
        .flatten()
        .find_map(|text| rfc3339(&text))
        .or_else(|| url.as_deref().and_then(date_in_url))
        .or_else(|| hints.date.and_then(rfc3339));
        let author = ld_text("author").or_else(|| meta(document, &["author", "article:author"]));
        HeadMetadata {
            title,
            published,
            author: author.filter(|author| !author.starts_with("http")),
            source,
            url,
            language: page_language(document),
            summary: meta(document, &["description", "og:description"]),
        }
    }

    fn into_fields(self, fallback_author: Option<String>) -> Map<String, Value> {
        let author = self.author.or(fallback_author);
        [
            ("title", self.title),
            ("published", self.published),
            ("author", author),
            ("source", self.source),
            ("url", self.url),
            ("language", self.language),
            ("summary", self.summary),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_owned(), Value::String(value?))))
        .collect()
    }
}

/// The first `<meta>` content among `names`, matched on `property`, `name` or `itemprop`.
fn meta(document: &Document, names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| {
        let selector =
            format!(r#"meta[property="{name}"], meta[name="{name}" i], meta[itemprop="{name}"]"#);
        document
            .select(&selector)
            .iter()
            .filter_map(|tag| tag.attr("content"))
            .map(|content| content.trim().to_owned())
            .find(|content| !content.is_empty())
    })
}

fn text_of(document: &Document, selector: &str) -> Option<String> {
    let text = document.select(selector).first().text();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then_some(text)
}

/// The JSON-LD object that describes an article, searched through arrays and `@graph`.
fn json_ld_article(document: &Document) -> Option<Map<String, Value>> {
    document
        .select(r#"script[type="application/ld+json"]"#)
        .iter()
        .filter_map(|script| serde_json::from_str::<Value>(script.text().trim()).ok())
        .find_map(|value| find_article(&value))
}

fn find_article(value: &Value) -> Option<Map<String, Value>> {
    match value {
        Value::Array(items) => items.iter().find_map(find_article),
        Value::Object(object) if is_article_type(object.get("@type")) => Some(object.clone()),
        Value::Object(object) => object.get("@graph").and_then(find_article),
        _ => None,
    }
}

fn is_article_type(kind: Option<&Value>) -> bool {
    let is_article = |kind: &str| kind.ends_with("Article") || kind == "BlogPosting";
    match kind {
        Some(Value::String(kind)) => is_article(kind),
        Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).any(is_article),
        _ => false,
    }
}

/// A text, or the `name`s of an object or a list of them, joined with commas.
fn names_of(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(text) => text.trim().to_owned(),
        Value::Object(object) => names_of(object.get("name")?)?,
        Value::Array(items) => items
            .iter()
            .filter_map(names_of)
            .collect::<Vec<_>>()
            .join(", "),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// `<link rel=canonical>` or og:url resolved against the address the page came from.
fn page_url(document: &Document, fetched_from: Option<&str>) -> Option<String> {
    let declared = document
        .select(r#"link[rel="canonical"]"#)
        .first()
        .attr("href")
        .map(String::from)
        .or_else(|| meta(document, &["og:url"]));
    let base = fetched_from.and_then(|url| Url::parse(url).ok());
    let resolved = declared.and_then(|href| match &base {
        Some(base) => base.join(href.trim()).ok(),
        None => Url::parse(href.trim()).ok(),
    });
    resolved
        .filter(|url| matches!(url.scheme(), "http" | "https"))
        .map(String::from)
        .or_else(|| fetched_from.map(str::to_owned))
}

fn host_of(url: Option<&str>) -> Option<String> {
    let url = Url::parse(url?).ok()?;
    let host = url.host_str()?;
    Some(host.strip_prefix("www.").unwrap_or(host).to_owned())
}

/// The primary subtag of `<html lang>` (or Content-Language), lowercased: `en-US` → `en`.
fn page_language(document: &Document) -> Option<String> {
    let declared = document
        .select("html[lang]")
        .first()
        .attr("lang")
        .map(String::from)
        .or_else(|| {
            let tag = document.select(r#"meta[http-equiv="content-language" i]"#);
            tag.first().attr("content").map(String::from)
        })?;
    let primary = declared
        .trim()
        .split(['-', '_'])
        .next()?
        .to_ascii_lowercase();
    let is_subtag =
        (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
    is_subtag.then_some(primary)
}

fn rfc3339(text: &str) -> Option<String> {
    let date = parse_date(text)?;
    // Placeholder dates (0001-01-01, 1970-01-01) stand for "no date" in many templates.
    (date.timestamp() > 0).then(|| date.to_rfc3339())
}

/// A date in the path, as news sites file articles: `/2017/05/03/` or `/2017-05-03-`.
fn date_in_url(url: &str) -> Option<String> {
    let path = Url::parse(url).ok()?.path().to_owned();
    let segments: Vec<&str> = path.split('/').collect();
    let numeric = |text: &str, lengths: std::ops::RangeInclusive<usize>| {
        lengths.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
    };
    let from_segments = segments.windows(3).find_map(|window| {
        let [year, month, day] = window else {
            return None;
        };
        (numeric(year, 4..=4) && numeric(month, 1..=2) && numeric(day, 1..=2))
            .then(|| format!("{year}-{month:0>2}-{day:0>2}"))
    });
    let from_dashes = || {
        segments.iter().find_map(|segment| {
            let prefix = segment.get(..10)?;
            let parts: Vec<&str> = prefix.split('-').collect();
            let [year, month, day] = parts.as_slice() else {
                return None;
            };
            (numeric(year, 4..=4) && numeric(month, 2..=2) && numeric(day, 2..=2))
                .then(|| prefix.to_owned())
        })
    };
    from_segments
        .or_else(from_dashes)
        .and_then(|date| rfc3339(&date))
}

/// "Title | Site" → "Title". A suffix goes when it names the site; in `<title>`, where a
/// suffix is the rule, a short one after " | " goes too.
fn strip_site_suffix(title: &str, site: Option<&str>, is_title_element: bool) -> String {
    let compact = |text: &str| -> String {
        text.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let site = site.map(|site| compact(site.split('.').next().unwrap_or(site)));
    for separator in [" | ", " - ", " – ", " — ", " :: ", " » "] {
        let Some((head, tail)) = title.rsplit_once(separator) else {
            continue;
        };
        let tail_words = tail.split_whitespace().count();
        let names_site = site
            .as_deref()
            .is_some_and(|site| !site.is_empty() && compact(tail).contains(site));
        let short_pipe_suffix = is_title_element && separator == " | " && tail_words <= 4;
        if head.trim().len() > tail.len() && tail_words <= 6 && (names_site || short_pipe_suffix) {
            return strip_site_suffix(head.trim(), None, false);
        }
    }
    title.trim().to_owned()
}

// ---- News boilerplate left in the main text ----

fn clean_body(text: &str, title: Option<&str>) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let end = tail_start(&lines).unwrap_or(lines.len());
    let mut kept = Vec::new();
    let mut in_link_list = false;
    for (index, line) in lines[..end].iter().enumerate() {
        // The headlines listed under a "More:" or "Related:" heading are links, not story.
        in_link_list = in_link_list && is_headline(line);
        let repeats_title = index == 0 && title.is_some_and(|title| same_words(line, title));
        if !in_link_list && !repeats_title && !is_boilerplate_line(line) {
            kept.push(*line);
        }
        in_link_list = in_link_list || is_link_list_heading(line);
    }
    paragraphs(kept.into_iter())
}

const LINK_LIST_HEADINGS: [&str; 8] = [
    "more",
    "related",
    "read more",
    "read also",
    "also read",
    "see also",
    "don't miss",
    "more on this",
];

fn is_link_list_heading(line: &str) -> bool {
    let heading = line.to_lowercase().replace('’', "'");
    LINK_LIST_HEADINGS.contains(&heading.trim_end_matches([':', '.', ' ']))
}

/// A short line without the closing punctuation of a sentence.
fn is_headline(line: &str) -> bool {
    line.split_whitespace().count() <= 15 && !line.ends_with(['.', '!', '?', '"', '”', ':'])
}

fn same_words(left: &str, right: &str) -> bool {
    let words = |text: &str| -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    words(left) == words(right)
}

/// Lines that end an article: tag lists, related links, source and author boxes.
const TAIL_HEADINGS: [&str; 16] = [
    "tags",
    "topics",
    "related",
    "related articles",
    "related stories",
    "related content",
    "more stories",
    "you may also like",
    "you might also like",
    "recommended",
    "most popular",
    "most read",
    "about the author",
    "source",
    "share this",
    "filed under",
];

/// Starts of short lines that end an article as well: tag lists, more links, comment forms.
const TAIL_PREFIXES: [&str; 9] = [
    "tags:",
    "tags ",
    "topics:",
    "filed under",
    "you may also",
    "you might also",
    "more in ",
    "leave a reply",
    "leave a comment",
];

/// Where the trailing boilerplate begins: a short heading from [`TAIL_HEADINGS`] in the second
/// half of the text (a heading that early is a section of the article).
fn tail_start(lines: &[&str]) -> Option<usize> {
    let half = lines.len() / 2;
    (half.max(1)..lines.len()).find(|&index| {
        let line = lines[index].to_lowercase();
        let heading = line.trim_end_matches([':', '.', '|', ' ']);
        let words = heading.split_whitespace().count();
        TAIL_HEADINGS.contains(&heading)
            || (words <= 8 && TAIL_PREFIXES.iter().any(|prefix| line.starts_with(prefix)))
    })
}

/// Labels of advertisement slots, in the languages of the press most often read.
const ADVERTISEMENT_LABELS: [&str; 10] = [
    "advertisement",
    "advert",
    "ad",
    "sponsored",
    "sponsored links",
    "anzeige",
    "publicité",
    "publicidad",
    "iklan",
    "реклама",
];

/// Starts of lines that send the reader elsewhere rather than tell the story.
const PROMPT_STARTS: [&str; 9] = [
    "related:",
    "read more",
    "see more",
    "more:",
    "also read",
    "read also",
    "watch:",
    "first published",
    "updated at",
];

fn is_boilerplate_line(line: &str) -> bool {
    let lower = line.to_lowercase();
    let words = lower.split_whitespace().count();
    let label = lower.trim_matches(|c: char| !c.is_alphanumeric());
    // An advertisement slot's label, alone on its line.
    ADVERTISEMENT_LABELS.contains(&label)
        // Links to other stories, and the publishing stamp repeated in the text.
        || (words <= 20 && PROMPT_STARTS.iter().any(|start| lower.starts_with(start)))
        // Calls to click, subscribe or follow; a story does not address its reader so.
        || (words <= 30 && is_call_to_action(&lower))
        // Copyright and photo-credit lines.
        || (words <= 12 && (lower.contains('©') || ["copyright", "photo:", "image:", "credit:", "(photo"]
            .iter()
            .any(|start| lower.starts_with(start))))
        // A byline or reading time, kept apart from the story's first paragraph.
        || (words <= 8 && (lower.starts_with("by ") || lower.contains("min read") || lower.contains("minute read")))
        // Cookie-consent banners kept as text.
        || (words <= 60 && lower.contains("cookie") && ["consent", "accept", "we use"]
            .iter()
            .any(|word| lower.contains(word)))
}

fn is_call_to_action(lower: &str) -> bool {
    let social = ["twitter", "facebook", "instagram", "youtube"]
        .iter()
        .any(|network| lower.contains(network));
    [
        "click here",
        "clicking here",
        "newsletter",
        "subscribe",
        "sign up for",
    ]
    .iter()
    .any(|phrase| lower.contains(phrase))
        || (lower.starts_with("follow") && social)
        || (lower.contains("follow us")
            || lower.contains("follow her on")
            || lower.contains("follow him on"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_HINTS: PageHints<'static> = PageHints {
        url: None,
        date: None,
        charset: None,
    };

    const STORY: &str = "<p>The harbour council voted on Tuesday to close the old ferry pier after engineers found the pilings had rotted through in several places.</p>\
        <p>Fishermen who tie up at the pier said they had warned the council about the wood for years, and asked where their boats should go now.</p>\
        <p>The council promised a temporary pontoon by spring and said repairs to the pier itself would be put out to tender before the summer season begins.</p>";

    fn page(head: &str, body: &str) -> String {
        format!("<!doctype html><html lang=\"en-GB\"><head>{head}</head><body>{body}</body></html>")
    }

    fn field(page: &Page, name: &str) -> String {
        page.record.fields[name].as_str().unwrap().to_owned()
    }

    fn read(html: &str, hints: &PageHints<'_>) -> Page {
        read_page(html.as_bytes(), hints).expect("a page with a story")
    }

    #[test]
    fn keeps_the_story_and_drops_the_page_around_it() {
        let html = page(
            "<title>Pier closed</title>",
            &format!(
                "<nav><a href=/>Home</a> <a href=/world>World</a> <a href=/sport>Sport</a></nav>\
                 <div class=cookie-banner>We use cookies to improve your experience. Accept all cookies</div>\
                 <article><h1>Pier closed</h1>{STORY}<p>Advertisement</p>\
                 <p>Sign up for our morning newsletter to get the day's stories first</p>\
                 <h3>Related stories</h3><ul><li><a href=/a>Ferry fares to rise</a></li><li><a href=/b>Storm hits coast</a></li></ul></article>\
                 <div id=comments><h3>Comments</h3><p>First! Great article, totally agree with the harbour people.</p></div>\
                 <footer>Copyright 2024 The Harbour Times</footer>"
            ),
        );
        let body = field(&read(&html, &NO_HINTS), "body");
        assert!(body.starts_with("The harbour council voted"), "{body}");
        assert!(body.contains("put out to tender before the summer season begins."));
        assert_eq!(body.matches("\n\n").count(), 2, "three paragraphs: {body}");
        for boilerplate in [
            "Home",
            "cookies",
            "Advertisement",
            "newsletter",
            "Ferry fares",
            "First!",
            "Copyright",
        ] {
            assert!(!body.contains(boilerplate), "{boilerplate} left in {body}");
        }
    }

    #[test]
    fn cleaning_drops_trailing_boxes_and_link_lists() {
        let text = "A long first paragraph of the story, with the facts.\n\
            More:\nFerry fares to rise\nStorm hits the coast\n\
            The story goes on after the links.\n\
            Photo: Harbour Times\nBy Jane Doe\nThe last paragraph of the story.\n\
            Tags\nharbour\nferries";
        let cleaned = clean_body(text, None);
        assert_eq!(
            cleaned,
            "A long first paragraph of the story, with the facts.\n\n\
             The story goes on after the links.\n\nThe last paragraph of the story."
        );
    }

    #[test]
    fn json_ld_headline_wins_over_open_graph_and_title() {
        let head = r#"<title>Pier closed after inspection | Harbour Times</title>
            <meta property="og:title" content="Pier closed (open graph)">
            <meta property="og:site_name" content="Harbour Times">
            <script type="application/ld+json">{"@context":"https://schema.org","@graph":[
              {"@type":"WebSite","name":"Harbour Times"},
              {"@type":"NewsArticle","headline":"Pier closed (structured)","datePublished":"2024-03-05T09:30:00+01:00",
               "author":[{"@type":"Person","name":"Jane Doe"},{"@type":"Person","name":"Sam Roe"}]}]}</script>"#;
        let read = read(
            &page(head, &format!("<article>{STORY}</article>")),
            &NO_HINTS,
        );
        assert_eq!(field(&read, "title"), "Pier closed (structured)");
        assert_eq!(field(&read, "published"), "2024-03-05T08:30:00+00:00");
        assert_eq!(field(&read, "author"), "Jane Doe, Sam Roe");
        assert_eq!(field(&read, "source"), "Harbour Times");
        assert_eq!(field(&read, "language"), "en");
    }

    #[test]
    fn open_graph_title_wins_over_title_element() {
        let head = r#"<title>Something else</title><meta property="og:title" content="Pier closed after inspection">"#;
        let read = read(
            &page(head, &format!("<article>{STORY}</article>")),
            &NO_HINTS,
        );
        assert_eq!(field(&read, "title"), "Pier closed after inspection");
    }

    #[test]
    fn title_element_loses_its_site_suffix() {
        assert_eq!(
            strip_site_suffix("Pier closed after inspection | Harbour Times", None, true),
            "Pier closed after inspection"
        );
        assert_eq!(
            strip_site_suffix(
                "Pier closed after inspection - Harbour Times",
                Some("harbourtimes.example"),
                true
            ),
            "Pier closed after inspection"
        );
        assert_eq!(
            strip_site_suffix("Brexit - what happens next", Some("Harbour Times"), true),
            "Brexit - what happens next"
        );
    }

    #[test]
    fn date_comes_from_the_url_path_then_the_hint() {
        let html = page(
            "<title>Pier closed</title>",
            &format!("<article>{STORY}</article>"),
        );
        let hints = PageHints {
            url: Some("https://news.example/2017/05/03/pier-closed.html"),
            date: Some("Tue, 05 Mar 2024 09:30:00 GMT"),
            charset: None,
        };
        assert_eq!(
            field(&read(&html, &hints), "published"),
            "2017-05-03T00:00:00+00:00"
        );
        let hints = PageHints {
            url: Some("https://news.example/local/pier-closed"),
            ..hints
        };
        assert_eq!(
            field(&read(&html, &hints), "published"),
            "2024-03-05T09:30:00+00:00"
        );
        assert_eq!(
            date_in_url("https://news.example/2019-11-18-pier/"),
            Some("2019-11-18T00:00:00+00:00".to_owned())
        );
    }

    #[test]
    fn relative_canonical_is_resolved_against_the_fetched_url() {
        let html = page(
            r#"<link rel="canonical" href="/local/pier-closed">"#,
            &format!("<article>{STORY}</article>"),
        );
        let hints = PageHints {
            url: Some("https://news.example/amp/local/pier-closed?utm_source=feed"),
            ..NO_HINTS
        };
        let read = read(&html, &hints);
        assert_eq!(
            field(&read, "url"),
            "https://news.example/local/pier-closed"
        );
        assert_eq!(field(&read, "source"), "news.example");
    }

    fn encoded(encoding: &'static Encoding, html: &str) -> Vec<u8> {
        encoding.encode(html).0.into_owned()
    }

    fn cyrillic_page(head: &str) -> String {
        let paragraph = "<p>Городской совет закрыл старый паромный причал после того, как инженеры нашли гнилые сваи.</p>";
        page(head, &format!("<article>{}</article>", paragraph.repeat(4)))
    }

    #[test]
    fn declared_single_byte_charset_is_decoded() {
        let bytes = encoded(
            encoding_rs::WINDOWS_1251,
            &cyrillic_page(r#"<meta charset="windows-1251">"#),
        );
        let read = read_page(&bytes, &NO_HINTS).unwrap();
        assert!(field(&read, "body").contains("Городской совет закрыл"));
        assert!(read.warnings.is_empty(), "{:?}", read.warnings);
        let polish = page(
            r#"<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2">"#,
            &format!("<article>{}</article>", "<p>Rada miasta zamknęła stary pomost promowy, bo inżynierowie znaleźli zgniłe pale.</p>".repeat(4)),
        );
        let read = read_page(&encoded(encoding_rs::ISO_8859_2, &polish), &NO_HINTS).unwrap();
        assert!(field(&read, "body").contains("zamknęła stary pomost"));
    }

    #[test]
    fn undeclared_charset_is_detected_with_a_warning() {
        let bytes = encoded(encoding_rs::WINDOWS_1251, &cyrillic_page(""));
        let read = read_page(&bytes, &NO_HINTS).unwrap();
        assert!(field(&read, "body").contains("Городской совет закрыл"));
        assert_eq!(
            read.warnings,
            ["charset not declared; detected as windows-1251"]
        );
    }

    #[test]
    fn unknown_charset_label_is_a_warning_and_detection() {
        let bytes = encoded(encoding_rs::WINDOWS_1251, &cyrillic_page(""));
        let hints = PageHints {
            charset: Some("x-no-such-charset"),
            ..NO_HINTS
        };
        let read = read_page(&bytes, &hints).unwrap();
        assert!(field(&read, "body").contains("Городской совет закрыл"));
        assert_eq!(
            read.warnings,
            [r#"unknown charset "x-no-such-charset"; detected as windows-1251"#]
        );
    }

    #[test]
    fn http_charset_wins_over_meta_and_bom_over_both() {
        let bytes = encoded(
            encoding_rs::WINDOWS_1251,
            &cyrillic_page(r#"<meta charset="utf-8">"#),
        );
        let hints = PageHints {
            charset: Some("windows-1251"),
            ..NO_HINTS
        };
        assert!(field(&read_page(&bytes, &hints).unwrap(), "body").contains("Городской"));
        let mut with_bom = vec![0xEF, 0xBB, 0xBF];
        with_bom.extend_from_slice(cyrillic_page("").as_bytes());
        assert!(field(&read_page(&with_bom, &hints).unwrap(), "body").contains("Городской"));
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_read_as_a_page_or_a_reason(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096),
        ) {
            let hints = PageHints { url: None, date: None, charset: None };
            let _ = read_page(&bytes, &hints);
        }

        #[test]
        fn any_markup_reads_as_a_page_or_a_reason(
            html in "(<(p|div|article|nav|meta charset=\"[a-z0-9-]{0,12}\"|script|/p|/div)>|[A-Za-z ,.]{0,40}){0,60}",
        ) {
            let hints = PageHints { url: Some("https://news.example/a"), date: None, charset: None };
            if let Ok(page) = read_page(html.as_bytes(), &hints) {
                let words = field(&page, "body").split_whitespace().count();
                proptest::prop_assert!(words >= MIN_ARTICLE_WORDS, "{words} words");
            }
        }
    }

    #[test]
    fn a_page_without_text_is_an_error() {
        let html = page("<title>Empty</title>", "<nav><a href=/>Home</a></nav>");
        let error = read_page(html.as_bytes(), &NO_HINTS)
            .err()
            .expect("no article");
        assert!(error.starts_with(NO_TEXT), "{error}");
    }

    #[test]
    fn fragments_become_plain_paragraphs() {
        assert_eq!(
            fragment_text("<p>Pier <b>closed</b>.</p><p>Ferries move.</p>"),
            "Pier closed.\n\nFerries move."
        );
        assert_eq!(fragment_text("  "), "");
        let large = format!("{}<p>Advertisement</p>", STORY.repeat(5));
        let text = fragment_text(&large);
        assert!(text.starts_with("The harbour council voted"), "{text}");
        assert!(!text.contains("Advertisement"));
    }
}
