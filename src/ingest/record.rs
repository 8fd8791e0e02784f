//! Maps an input record, with field names as real feeds spell them, to an [`Article`].

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::dates::{from_unix_number, parse_date};
use super::html::{PageHints, fragment_text, read_page};
use super::title::derive_title;
use chrono::Datelike;

use crate::article::{Article, SUPPORTED_YEARS, TaggedFacets};
use crate::dedup::canonical_url;

const ID: &[&str] = &["id", "articleid", "guid", "docid", "uuid"];
const TITLE: &[&str] = &["title", "headline", "heading"];
const BODY: &[&str] = &[
    "body",
    "text",
    "content",
    "articlebody",
    "article",
    "description",
];
const SUMMARY: &[&str] = &["summary", "subtitle", "abstract", "lead", "description"];
const PUBLISHED: &[&str] = &[
    "published",
    "date",
    "publishdate",
    "pubdate",
    "publishedat",
    "datepublished",
    "datetime",
    "timestamp",
];
const URL: &[&str] = &["url", "link", "articlesourcelink", "sourceurl", "permalink"];
const SOURCE: &[&str] = &["source", "publisher", "sourcename", "outlet", "site"];
const AUTHOR: &[&str] = &["author", "authors", "byline", "creator"];
const LANGUAGE: &[&str] = &["language", "lang"];
const COUNTRIES: &[&str] = &["countries", "country"];
const TOPICS: &[&str] = &["topics", "topic"];
const PEOPLE: &[&str] = &["people", "persons", "person"];
const ORGANIZATIONS: &[&str] = &["organizations", "organisations", "orgs", "organization"];
/// Evaluation labels: kept for `geonews eval`, never indexed.
const GOLD: &[&str] = &["gold"];

/// Whether a CSV header cell names a field geonews maps (so the first row is a header).
pub fn is_known_field(name: &str) -> bool {
    let name = canonical_name(name);
    [ID, TITLE, BODY, SUMMARY, PUBLISHED, URL, SOURCE]
        .iter()
        .any(|names| names.contains(&name.as_str()))
}

/// Whether a field of this name holds long text (a body or a summary), where line breaks are
/// normal.
pub fn is_long_text_field(name: &str) -> bool {
    let name = canonical_name(name);
    [BODY, SUMMARY]
        .iter()
        .any(|names| names.contains(&name.as_str()))
}

/// A record as read from a file, before mapping.
#[derive(Debug, Clone, Default)]
pub struct RawRecord {
    pub fields: Map<String, Value>,
    /// HTML to turn into the article's text when the record is mapped, which happens on every
    /// core at once: main-text extraction costs far more than reading.
    pub markup: Option<Markup>,
}

#[derive(Debug, Clone)]
pub enum Markup {
    /// A whole web page: its main text and metadata, with fallbacks from where it was found.
    Page {
        bytes: Vec<u8>,
        url: Option<String>,
        date: Option<String>,
        charset: Option<String>,
    },
    /// An HTML fragment (a feed item's content): its text is the body.
    Fragment(String),
}

impl RawRecord {
    pub fn from_fields(fields: Map<String, Value>) -> RawRecord {
        RawRecord {
            fields,
            markup: None,
        }
    }

    /// About how much memory the record holds, to bound what waits in the pipeline.
    pub fn approximate_bytes(&self) -> usize {
        let markup = match &self.markup {
            Some(Markup::Page { bytes, .. }) => bytes.len(),
            Some(Markup::Fragment(html)) => html.len(),
            None => 0,
        };
        let fields: usize = self
            .fields
            .iter()
            .map(|(name, value)| name.len() + value.as_str().map_or(16, str::len))
            .sum();
        markup + fields
    }

    /// The record's own fields, with what its markup gives for those it lacks.
    fn with_markup_read(mut self) -> Result<(Map<String, Value>, Vec<String>), String> {
        let Some(markup) = self.markup.take() else {
            return Ok((self.fields, Vec::new()));
        };
        let (found, warnings) = match markup {
            Markup::Page {
                bytes,
                url,
                date,
                charset,
            } => {
                let hints = PageHints {
                    url: url.as_deref(),
                    date: date.as_deref(),
                    charset: charset.as_deref(),
                };
                let page = read_page(&bytes, &hints)?;
                (page.record.fields, page.warnings)
            }
            Markup::Fragment(html) => {
                let mut found = Map::new();
                found.insert("body".to_owned(), Value::String(fragment_text(&html)));
                (found, Vec::new())
            }
        };
        for (name, value) in found {
            self.fields.entry(name).or_insert(value);
        }
        Ok((self.fields, warnings))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RecordOutcome {
    Article {
        article: Box<Article>,
        /// Problems that did not stop the article from being indexed.
        warnings: Vec<String>,
    },
    Skipped(String),
}

/// Field names compared without case, underscores, hyphens or spaces: `pubDate` = `pub_date`.
fn canonical_name(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

struct Fields {
    by_canonical_name: BTreeMap<String, (String, Value)>,
    /// Warnings for text fields given as lists or objects, read as text.
    coerced: Vec<String>,
}

impl Fields {
    fn new(fields: Map<String, Value>) -> Fields {
        let mut by_canonical_name = BTreeMap::new();
        for (name, value) in fields {
            by_canonical_name
                .entry(canonical_name(&name))
                .or_insert((name, value));
        }
        Fields {
            by_canonical_name,
            coerced: Vec::new(),
        }
    }

    /// The first non-empty text value among `names`, removed from the record. A list or an
    /// object read as text is noted in [`Fields::coerced`].
    fn take_text(&mut self, names: &[&str]) -> Option<String> {
        for name in names {
            if let Some((original, value)) = self.by_canonical_name.get(*name)
                && let Some(text) = scalar_text(value)
                && !text.trim().is_empty()
            {
                match value {
                    Value::Array(_) => self.coerced.push(format!(
                        "`{original}` is a list; its items were joined into one text"
                    )),
                    Value::Object(_) => self.coerced.push(format!(
                        "`{original}` is an object; its `name` was taken as the text"
                    )),
                    _ => {}
                }
                self.by_canonical_name.remove(*name);
                return Some(text.trim().to_owned());
            }
        }
        None
    }

    fn take_value(&mut self, names: &[&str]) -> Option<Value> {
        names
            .iter()
            .find_map(|name| self.by_canonical_name.remove(*name))
            .map(|(_, value)| value)
    }

    fn take_list(&mut self, names: &[&str]) -> Vec<String> {
        self.take_value(names)
            .map(|value| list_of(&value))
            .unwrap_or_default()
            .into_iter()
            .filter(|item| !item.is_empty())
            .collect()
    }
}

/// A list value, or a text of items separated by commas or semicolons.
fn list_of(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().filter_map(scalar_text).collect(),
        value => scalar_text(value)
            .map(|text| {
                text.split([',', ';'])
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Object(object) => object.get("name").and_then(scalar_text),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(scalar_text).collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        Value::Null => None,
    }
}

pub fn to_article(record: RawRecord) -> RecordOutcome {
    let (fields, mut warnings) = match record.with_markup_read() {
        Ok(read) => read,
        Err(reason) => return RecordOutcome::Skipped(reason),
    };
    let mut fields = Fields::new(fields);
    let gold = take_gold(&mut fields, &mut warnings);
    let id = fields.take_text(ID);
    let mut title = fields.take_text(TITLE);
    let body = fields.take_text(BODY).unwrap_or_default();
    let summary = fields.take_text(SUMMARY);
    let published = take_published(&mut fields, &mut warnings);
    let url = fields.take_text(URL).map(|url| canonical_url(&url));
    let title_is_derived = title.is_none();
    if title_is_derived {
        title = derive_title(summary.as_deref().unwrap_or(&body));
    }
    let Some(title) = title else {
        return RecordOutcome::Skipped("record has neither title nor body".to_owned());
    };
    let tagged = TaggedFacets {
        countries: fields.take_list(COUNTRIES),
        topics: fields.take_list(TOPICS),
        people: fields.take_list(PEOPLE),
        organizations: fields.take_list(ORGANIZATIONS),
    };
    let source = fields.take_text(SOURCE);
    let author = fields.take_text(AUTHOR);
    let language = fields.take_text(LANGUAGE).map(|lang| lang.to_lowercase());
    warnings.append(&mut fields.coerced);
    let article = Article {
        key: Article::derive_key(id.as_deref(), url.as_deref(), &title, &body),
        title,
        title_is_derived,
        summary,
        body,
        published,
        url,
        source,
        author,
        language,
        tagged,
        gold,
        extra: fields
            .by_canonical_name
            .into_values()
            .filter_map(|(name, value)| scalar_text(&value).map(|text| (name, text)))
            .collect(),
    };
    RecordOutcome::Article {
        article: Box::new(article),
        warnings,
    }
}

/// The `gold` object: each field's labels, as a list or a comma-separated text.
fn take_gold(
    fields: &mut Fields,
    warnings: &mut Vec<String>,
) -> Option<BTreeMap<String, Vec<String>>> {
    match fields.take_value(GOLD)? {
        Value::Object(labels) => Some(
            labels
                .into_iter()
                .map(|(field, value)| (field, list_of(&value)))
                .collect(),
        ),
        _ => {
            warnings.push("`gold` is not an object of label lists; ignored".to_owned());
            None
        }
    }
}

fn take_published(
    fields: &mut Fields,
    warnings: &mut Vec<String>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let published = read_published(fields, warnings)?;
    if SUPPORTED_YEARS.contains(&published.year()) {
        return Some(published);
    }
    warnings.push(format!(
        "date {} is outside the years {}-{}; kept without a date",
        published.date_naive(),
        SUPPORTED_YEARS.start(),
        SUPPORTED_YEARS.end()
    ));
    None
}

fn read_published(
    fields: &mut Fields,
    warnings: &mut Vec<String>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    match fields.take_value(PUBLISHED)? {
        Value::Number(number) => {
            let parsed = number.as_i64().and_then(from_unix_number);
            if parsed.is_none() {
                warnings.push(format!("unreadable date ({number}); kept without a date"));
            }
            parsed
        }
        Value::String(text) if text.trim().is_empty() => None,
        Value::String(text) => {
            let parsed = parse_date(&text);
            if parsed.is_none() {
                warnings.push(format!("unreadable date {text:?}; kept without a date"));
            }
            parsed
        }
        Value::Null => None,
        other => {
            warnings.push(format!("unreadable date ({other}); kept without a date"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(value: Value) -> RecordOutcome {
        let Value::Object(fields) = value else {
            unreachable!()
        };
        to_article(RawRecord::from_fields(fields))
    }

    fn article(value: Value) -> (Article, Vec<String>) {
        match map(value) {
            RecordOutcome::Article { article, warnings } => (*article, warnings),
            RecordOutcome::Skipped(reason) => panic!("skipped: {reason}"),
        }
    }

    #[test]
    fn maps_feed_spellings() {
        let (article, warnings) = article(json!({
            "article_id": 7, "headline": "Talks resume", "content": "Body text.",
            "pubDate": "Tue, 05 Mar 2024 09:30:00 GMT", "link": "https://x.example/7",
            "subtitle": "A lead", "publisher": "Atlas Daily", "Lang": "EN",
            "gold": {"countries": ["KP"]}, "section": "world"
        }));
        assert!(warnings.is_empty());
        assert_eq!(article.key, "7");
        assert_eq!(article.title, "Talks resume");
        assert_eq!(article.body, "Body text.");
        assert_eq!(article.summary.as_deref(), Some("A lead"));
        assert_eq!(article.url.as_deref(), Some("https://x.example/7"));
        assert_eq!(article.source.as_deref(), Some("Atlas Daily"));
        assert_eq!(article.language.as_deref(), Some("en"));
        assert_eq!(
            article.published.unwrap().to_rfc3339(),
            "2024-03-05T09:30:00+00:00"
        );
        assert_eq!(
            article.extra.get("section").map(String::as_str),
            Some("world")
        );
        assert!(!article.extra.contains_key("gold"));
    }

    #[test]
    fn description_is_body_only_without_another_body() {
        let (both, _) = article(json!({"title": "T", "text": "B", "description": "D"}));
        assert_eq!(
            (both.body.as_str(), both.summary.as_deref()),
            ("B", Some("D"))
        );
        let (only, _) = article(json!({"title": "T", "description": "D"}));
        assert_eq!((only.body.as_str(), only.summary), ("D", None));
    }

    #[test]
    fn bad_date_warns_but_keeps_the_article() {
        let (article, warnings) = article(json!({"title": "T", "published": "sometime next week"}));
        assert_eq!(article.published, None);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("sometime next week"));
    }

    #[test]
    fn dates_outside_the_supported_years_are_dropped_with_a_warning() {
        let (ancient, warnings) = article(json!({"title": "T", "date": "1500-01-01"}));
        assert_eq!(ancient.published, None);
        assert!(
            warnings[0].contains("outside the years 1678-2261"),
            "{warnings:?}"
        );
        let (extreme, _) = article(json!({"title": "T", "date": i64::MIN}));
        assert_eq!(extreme.published, None);
    }

    #[test]
    fn tagged_facets_accept_lists_and_strings() {
        let (article, _) = article(json!({
            "title": "T", "countries": ["Japan", "KP"], "topics": "trade, energy"
        }));
        assert_eq!(article.tagged.countries, ["Japan", "KP"]);
        assert_eq!(article.tagged.topics, ["trade", "energy"]);
    }

    #[test]
    fn text_fields_given_as_lists_or_objects_are_read_with_a_warning() {
        let record = RawRecord::from_fields(
            serde_json::from_str(
                r#"{"title": "Talks", "body": ["First part.", "Second part."], "author": {"name": "A. Reporter"}}"#,
            )
            .unwrap(),
        );
        let RecordOutcome::Article { article, warnings } = to_article(record) else {
            panic!("an article")
        };
        assert_eq!(article.body, "First part., Second part.");
        assert_eq!(article.author.as_deref(), Some("A. Reporter"));
        assert_eq!(
            warnings,
            [
                "`body` is a list; its items were joined into one text",
                "`author` is an object; its `name` was taken as the text"
            ]
        );
    }

    #[test]
    fn empty_record_is_skipped() {
        assert!(matches!(
            map(json!({"id": "x", "date": "2024-01-01"})),
            RecordOutcome::Skipped(_)
        ));
    }
}
