//! The one article model every input format is mapped to.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::hash::{Fnv64, Wide64};

/// Publication years an article may carry: what a nanosecond timestamp, as search backends
/// store dates, can hold.
pub const SUPPORTED_YEARS: std::ops::RangeInclusive<i32> = 1678..=2261;

/// The article model's fields, as fields.toml names them: any other text, keyword or stored
/// field of fields.toml is an extra the input record carried (`tags`).
pub const MODEL_FIELDS: [&str; 8] = [
    "id", "title", "summary", "body", "url", "source", "author", "language",
];

/// Where a record came from: a file (or URL) and, for line-oriented formats, a line; for a
/// JSON array, a feed or a web archive, the element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub path: Arc<Path>,
    pub line: Option<u64>,
    /// The element of a file holding many: `array item 3`, `feed item 2`, `record 7`.
    pub part: Option<(&'static str, u64)>,
}

impl Origin {
    pub fn file(path: Arc<Path>) -> Origin {
        Origin {
            path,
            line: None,
            part: None,
        }
    }

    pub fn at_line(&self, line: u64) -> Origin {
        Origin {
            line: Some(line),
            ..self.clone()
        }
    }

    /// The 1-based `number`th element of kind `kind` (`"record"`) of the file.
    pub fn at_part(&self, kind: &'static str, number: u64) -> Origin {
        Origin {
            part: Some((kind, number)),
            ..self.clone()
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some((kind, number)) = self.part {
            write!(f, " ({kind} {number})")?;
        }
        Ok(())
    }
}

/// Facet values an input record already carries (`"countries": ["Japan"]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TaggedFacets {
    pub countries: Vec<String>,
    pub topics: Vec<String>,
    pub people: Vec<String>,
    pub organizations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    /// The article's identity in the index: its id, else its URL, else a hash of title + body.
    pub key: String,
    pub title: String,
    /// The title was made from the first sentence of the text, so it is not text of its own.
    pub title_is_derived: bool,
    pub summary: Option<String>,
    pub body: String,
    pub published: Option<DateTime<Utc>>,
    pub url: Option<String>,
    pub source: Option<String>,
    pub author: Option<String>,
    pub language: Option<String>,
    pub tagged: TaggedFacets,
    /// Other scalar fields of the input record, by name, for fields a user declares in the schema.
    pub extra: BTreeMap<String, String>,
    /// Evaluation labels the record carried under `gold`, by field (`countries`,
    /// `countries_disputed`...), for `geonews eval`; never indexed.
    pub gold: Option<BTreeMap<String, Vec<String>>>,
}

impl Article {
    /// The id, else the URL, else a hash of title and body. An id or URL too long to be an
    /// index term is replaced by its hash.
    pub fn derive_key(id: Option<&str>, url: Option<&str>, title: &str, body: &str) -> String {
        const MAX_KEY_BYTES: usize = 512;
        let mut hash = Fnv64::new();
        match id.or(url) {
            Some(key) if key.len() <= MAX_KEY_BYTES => return key.to_owned(),
            Some(key) => hash.write_field(key),
            None => {
                hash.write_field(title);
                hash.write_field(body);
            }
        }
        format!("h{:016x}", hash.finish())
    }

    /// The article's value for a field of fields.toml: its own fields by name, else the input
    /// record's extra value under that name.
    pub fn value_of(&self, field: &str) -> Option<&str> {
        match field {
            "id" => Some(&self.key),
            "title" => Some(&self.title),
            "summary" => self.summary.as_deref(),
            "body" => Some(&self.body),
            "url" => self.url.as_deref(),
            "source" => self.source.as_deref(),
            "author" => self.author.as_deref(),
            "language" => self.language.as_deref(),
            other => self
                .extra
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(other))
                .map(|(_, value)| value.as_str()),
        }
    }

    /// A fingerprint of everything indexed for this article: a changed article replaces the old one.
    pub fn content_hash(&self) -> u64 {
        let mut hash = Wide64::new();
        for field in [
            Some(self.key.as_str()),
            Some(self.title.as_str()),
            self.summary.as_deref(),
            Some(self.body.as_str()),
            self.url.as_deref(),
            self.source.as_deref(),
            self.author.as_deref(),
            self.language.as_deref(),
        ] {
            hash.write_field(field.unwrap_or("\u{0}"));
        }
        hash.write_field(
            &self
                .published
                .map(|date| date.to_rfc3339())
                .unwrap_or_default(),
        );
        for values in [
            &self.tagged.countries,
            &self.tagged.topics,
            &self.tagged.people,
            &self.tagged.organizations,
        ] {
            hash.write_field(&values.join("\u{1}"));
        }
        for (name, value) in &self.extra {
            hash.write_field(name);
            hash.write_field(value);
        }
        hash.finish()
    }

    /// The text to extract entities from, and how many of its first bytes are the title: the
    /// title, summary and body, without a derived title (its words are already in the text).
    pub fn extraction_text(&self) -> (String, usize) {
        let title = if self.title_is_derived {
            ""
        } else {
            self.title.as_str()
        };
        let mut text = String::with_capacity(title.len() + self.body.len() + 4);
        text.push_str(title);
        for part in self.summary.iter().chain([&self.body]) {
            if !part.is_empty() {
                if !text.is_empty() {
                    text.push_str("\n\n");
                }
                text.push_str(part);
            }
        }
        (text, title.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_prefers_id_then_url_then_hash() {
        assert_eq!(
            Article::derive_key(Some("a1"), Some("http://x"), "t", "b"),
            "a1"
        );
        assert_eq!(
            Article::derive_key(None, Some("http://x"), "t", "b"),
            "http://x"
        );
        let hashed = Article::derive_key(None, None, "t", "b");
        assert!(hashed.starts_with('h') && hashed.len() == 17, "{hashed}");
        assert_ne!(hashed, Article::derive_key(None, None, "t", "c"));
        let long = "x".repeat(70_000);
        let key = Article::derive_key(Some(&long), None, "t", "b");
        assert!(key.starts_with('h') && key.len() == 17);
        assert_eq!(key, Article::derive_key(Some(&long), None, "other", "text"));
    }
}
