//! Both directions between an article and a Quickwit document (the counterpart of the local
//! index's `DocMapper`), and the names of the fields a Quickwit index has.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::QuickwitError;
use crate::analytics::Interval;
use crate::article::MODEL_FIELDS;
use crate::backend::{DocumentFacts, DocumentMapper};
use crate::dedup::Signature;
use crate::extract::Entities;
use crate::index::EnglishWords;
use crate::pipeline::Analysed;
use crate::results::StoredArticle;
use crate::schema::{FieldKind, Schema, normalize_alias};

/// The entities as extracted, a JSON string, for display.
pub const ENTITIES: &str = "gn_entities";
pub const CONTENT_HASH: &str = "gn_content_hash";
pub const NEWS_HASH: &str = "gn_news_hash";
/// When the article was written, in microseconds since the epoch (saved searches).
pub const INDEXED_AT: &str = "gn_indexed_at";
/// The body's near-duplicate signature (hexadecimal), and its bands, which find candidate
/// copies (when fields.toml declares `cluster`).
pub const SIGNATURE: &str = "gn_signature";
pub const BANDS: &str = "gn_bands";
/// The story an article is a copy of, filled by the sink (see `dedup`).
pub const CLUSTER: &str = "cluster";

/// The analysed words of text field `name`, indexed with Quickwit's whitespace tokenizer.
pub fn words_field(name: &str) -> String {
    format!("{name}_words")
}

/// A keyword's normalized value, matched by queries (`source:"Sample Times"` = `sampletimes`).
pub fn normalized_field(name: &str) -> String {
    format!("{name}_norm")
}

/// Every prefix of every path of a facet's values (`/Asia`, `/Asia/EastAsia`...): a query for
/// a region or topic finds what lies below it.
pub fn path_field(name: &str) -> String {
    format!("{name}_path")
}

/// The calendar bucket an article's date falls in (its first day, as days since 1970-01-01),
/// precomputed because Quickwit's date histograms take fixed intervals only.
pub fn bucket_field(interval: Interval) -> &'static str {
    match interval {
        Interval::Day => "gn_day",
        Interval::Week => "gn_week",
        Interval::Month => "gn_month",
        Interval::Year => "gn_year",
    }
}

pub const INTERVALS: [Interval; 4] = [
    Interval::Day,
    Interval::Week,
    Interval::Month,
    Interval::Year,
];

/// The path of a facet value as a term of `<field>_path`.
pub fn path_term(path: &[String]) -> String {
    let mut term = String::new();
    for part in path {
        term.push('/');
        term.push_str(part);
    }
    term
}

/// An article ready for Quickwit, with what deciding whether it changed takes.
#[derive(Debug, Clone)]
pub struct QuickwitDocument {
    pub key: String,
    pub content_hash: u64,
    pub news_hash: u64,
    /// The body's near-duplicate signature, when the schema looks for copies and the body is
    /// long enough to have one.
    pub signature: Option<Signature>,
    /// The document as JSON, every field but the indexing stamp and the story, which the sink
    /// adds when it sends the document: serialized here, on every core, not in the sink.
    pub json: OpenObject,
}

/// A JSON object without its closing brace, for fields to be added to it.
#[derive(Debug, Clone)]
pub struct OpenObject(Vec<u8>);

impl OpenObject {
    fn of(fields: &Map<String, Value>) -> OpenObject {
        let mut bytes = serde_json::to_vec(fields).expect("JSON serializes");
        bytes.pop();
        OpenObject(bytes)
    }

    /// Adds a field (to an object with fields already: a document always has its id).
    pub fn push(&mut self, name: &str, value: &Value) {
        self.0.push(b',');
        serde_json::to_writer(&mut self.0, name).expect("JSON serializes");
        self.0.push(b':');
        serde_json::to_writer(&mut self.0, value).expect("JSON serializes");
    }

    /// The object closed, as one line of NDJSON.
    pub fn into_line(mut self) -> Vec<u8> {
        self.0.extend_from_slice(b"}\n");
        self.0
    }
}

/// Articles to Quickwit documents, and Quickwit hits back to stored articles.
#[derive(Clone)]
pub struct QuickwitMapper {
    schema: Arc<Schema>,
    words: EnglishWords,
}

impl QuickwitMapper {
    pub fn new(schema: Arc<Schema>) -> QuickwitMapper {
        QuickwitMapper {
            schema,
            words: EnglishWords::default(),
        }
    }

    /// Whether the schema looks for copies of a story (fields.toml declares `cluster`).
    pub fn finds_copies(&self) -> bool {
        self.schema.fields.get(CLUSTER).is_some()
    }

    pub fn to_document(&self, analysed: &Analysed) -> QuickwitDocument {
        let (fields, facts, signature) = self.fields(analysed);
        QuickwitDocument {
            key: analysed.article.key.clone(),
            content_hash: facts.0,
            news_hash: facts.1,
            signature,
            json: OpenObject::of(&fields),
        }
    }

    /// The document's fields (but its stamp and story), its content and news hashes, and its
    /// signature.
    fn fields(&self, analysed: &Analysed) -> (Map<String, Value>, (u64, u64), Option<Signature>) {
        let (article, entities) = (&analysed.article, &analysed.entities);
        let facts = DocumentFacts::of(article, entities, &self.schema);
        let mut words = self.words.clone();
        let mut fields = Map::new();
        for spec in self.schema.fields.iter() {
            let name = spec.name.as_str();
            match spec.kind {
                FieldKind::Datetime => {
                    if let Some(published) = article.published {
                        let seconds = published.timestamp();
                        fields.insert(name.to_owned(), json!(seconds));
                        for interval in INTERVALS {
                            fields.insert(
                                bucket_field(interval).to_owned(),
                                json!(interval.bucket(seconds)),
                            );
                        }
                    }
                }
                FieldKind::Facet => {}
                // The sink finds the story an article is a copy of.
                FieldKind::Keyword if name == CLUSTER => {}
                FieldKind::Text | FieldKind::Keyword | FieldKind::Stored => {
                    let Some(value) = article.value_of(name).filter(|value| !value.is_empty())
                    else {
                        continue;
                    };
                    fields.insert(name.to_owned(), json!(value));
                    if spec.kind == FieldKind::Text {
                        fields.insert(words_field(name), json!(words.spaced_words(value)));
                    } else if spec.kind == FieldKind::Keyword && name != "id" {
                        fields.insert(normalized_field(name), json!(normalize_alias(value)));
                    }
                }
            }
        }
        for facet in &facts.facets {
            let keys: Vec<&str> = facet.values.iter().map(|(key, _)| *key).collect();
            let mut paths: Vec<String> = Vec::new();
            for (_, path) in &facet.values {
                for depth in 1..=path.len() {
                    paths.push(path_term(&path[..depth]));
                }
            }
            paths.sort_unstable();
            paths.dedup();
            fields.insert(facet.field.name.clone(), json!(keys));
            fields.insert(path_field(&facet.field.name), json!(paths));
        }
        let entities_json = serde_json::to_string(entities).expect("entities serialize");
        fields.insert(ENTITIES.to_owned(), json!(entities_json));
        fields.insert(CONTENT_HASH.to_owned(), json!(facts.content_hash));
        fields.insert(NEWS_HASH.to_owned(), json!(facts.news_hash));
        let signature = self
            .finds_copies()
            .then(|| Signature::of(&article.body, article.published))
            .flatten();
        if let Some(signature) = &signature {
            fields.insert(SIGNATURE.to_owned(), json!(signature.to_hex()));
            fields.insert(BANDS.to_owned(), json!(signature.bands()));
        }
        (fields, (facts.content_hash, facts.news_hash), signature)
    }

    /// The document of an article another engine stored, as a sink would send it (its story
    /// kept, no indexing stamp): for `geonews export --format quickwit`.
    pub fn exported(&self, stored: &StoredArticle) -> Map<String, Value> {
        let analysed = Analysed {
            article: stored.to_article(),
            entities: stored.entities.clone(),
        };
        let (mut fields, _, _) = self.fields(&analysed);
        if let Some(cluster) = stored.cluster.as_ref().filter(|_| self.finds_copies()) {
            fields.insert(normalized_field(CLUSTER), json!(normalize_alias(cluster)));
            fields.insert(CLUSTER.to_owned(), json!(cluster));
        }
        fields
    }

    /// The article a Quickwit hit holds, with its entities.
    pub fn to_stored_article(&self, hit: &Value) -> Result<StoredArticle, QuickwitError> {
        let text = |name: &str| hit.get(name).and_then(Value::as_str).map(str::to_owned);
        let entities: Entities = match hit.get(ENTITIES).and_then(Value::as_str) {
            Some(json) => serde_json::from_str(json)
                .map_err(|error| QuickwitError::Corrupt(error.to_string()))?,
            None => Entities::default(),
        };
        let published = hit
            .get(&self.schema.fields.timestamp().name)
            .and_then(datetime);
        // The values of the fields fields.toml adds beyond the article model (`tags`).
        let extra = self
            .schema
            .fields
            .iter()
            .filter(|spec| {
                matches!(
                    spec.kind,
                    FieldKind::Text | FieldKind::Keyword | FieldKind::Stored
                ) && !MODEL_FIELDS.contains(&spec.name.as_str())
                    && spec.name != "cluster"
            })
            .filter_map(|spec| Some((spec.name.clone(), text(&spec.name)?)))
            .collect();
        Ok(StoredArticle {
            id: text("id").ok_or_else(|| QuickwitError::Corrupt("a hit has no id".to_owned()))?,
            title: text("title").unwrap_or_default(),
            summary: text("summary"),
            body: text("body").unwrap_or_default(),
            published,
            source: text("source"),
            url: text("url"),
            author: text("author"),
            language: text("language"),
            entities,
            cluster: text("cluster"),
            extra,
        })
    }
}

/// A date as Quickwit returns it: RFC 3339 text, or a number of seconds or of their fractions.
pub fn datetime(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::String(text) => DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|date| date.with_timezone(&Utc)),
        Value::Number(number) => {
            let number = number.as_f64()?;
            // Seconds until the year 5138, then milliseconds, microseconds, nanoseconds (what
            // Quickwit's metric aggregations give for dates).
            let seconds = match number.abs() {
                n if n < 1e11 => number,
                n if n < 1e14 => number / 1e3,
                n if n < 1e17 => number / 1e6,
                _ => number / 1e9,
            };
            DateTime::<Utc>::from_timestamp(seconds.floor() as i64, 0)
        }
        _ => None,
    }
}

impl DocumentMapper for QuickwitMapper {
    type Document = QuickwitDocument;

    fn document(&self, analysed: Analysed) -> QuickwitDocument {
        self.to_document(&analysed)
    }
}
