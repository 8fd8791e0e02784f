//! The tantivy schema built from `schema/fields.toml`, and the analyzers it names.

use tantivy::schema::{
    DateOptions, DateTimePrecision, FacetOptions, Field, IndexRecordOption, NumericOptions, STORED,
    Schema as TantivySchema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    RawTokenizer, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, Token, TokenStream, Tokenizer,
    TokenizerManager,
};

use super::analyzer::NormalizeAndStem;
use crate::schema::{DictionaryName, FieldKind, Fields, normalize_alias};

/// English: lowercase, accents folded (`Türkiye` = `Turkiye`), stemmed (`sanction` = `sanctions`).
pub const ENGLISH_ANALYZER: &str = "geonews_en";
/// One token: the value lowercased, accents folded, punctuation and spaces dropped.
const KEYWORD_ANALYZER: &str = "geonews_keyword";
const ENTITIES_FIELD: &str = "_entities";
pub const CONTENT_HASH_FIELD: &str = "_content_hash";
/// When each article was (last) written: microseconds since the epoch, increasing.
pub const INDEXED_AT_FIELD: &str = "_indexed_at";
/// A hash of what a reader sees of an article, its text and the facet values it is found
/// under: an article written again with the same one keeps its indexing stamp (a dictionary
/// change that finds the same entities is not news).
pub const NEWS_HASH_FIELD: &str = "_news_hash";
/// The story an article is a copy of: the key of the story's first article written. Declared
/// in fields.toml (a keyword, so that `cluster:KEY` finds a story's copies and `facets cluster`
/// counts them); filled by the writer, never from the input.
pub const CLUSTER_FIELD: &str = "cluster";
/// The article model's fields, as fields.toml must name them.
pub const ID_FIELD: &str = "id";
pub const TITLE_FIELD: &str = "title";
pub const SUMMARY_FIELD: &str = "summary";
pub const BODY_FIELD: &str = "body";
pub const URL_FIELD: &str = "url";
pub const SOURCE_FIELD: &str = "source";
pub const AUTHOR_FIELD: &str = "author";
pub const LANGUAGE_FIELD: &str = "language";

/// A facet field: the hierarchical facet, and the raw keys for counting.
#[derive(Debug, Clone)]
pub struct FacetField {
    pub name: String,
    pub dictionary: DictionaryName,
    /// Only the countries an article is about (`about:`).
    pub salient_only: bool,
    pub facet: Field,
    pub keys: Field,
}

/// Handles to the fields the code reads and writes.
#[derive(Debug, Clone)]
pub struct Layout {
    pub schema: TantivySchema,
    pub id: Field,
    pub body: Field,
    /// The publication date: the one datetime field of fields.toml.
    pub timestamp: Field,
    pub timestamp_name: String,
    /// Fields an article fills with a value of its own, by name (text, keyword and stored).
    pub values: Vec<(Field, String)>,
    pub entities: Field,
    pub content_hash: Field,
    pub news_hash: Field,
    pub indexed_at: Field,
    /// `None` when fields.toml declares no `cluster`: then copies are not looked for.
    pub cluster: Option<Field>,
    pub facets: Vec<FacetField>,
    /// Searched text fields with their boosts.
    pub searched: Vec<(Field, f32)>,
    /// Countable fields and the raw-string fast column that holds their values.
    count_columns: Vec<(String, String)>,
}

impl Layout {
    pub fn build(fields: &Fields) -> Layout {
        let mut builder = TantivySchema::builder();
        for spec in fields.iter() {
            match spec.kind {
                FieldKind::Text => {
                    let indexing = TextFieldIndexing::default()
                        .set_tokenizer(ENGLISH_ANALYZER)
                        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
                    let mut options = TextOptions::default().set_indexing_options(indexing);
                    if spec.stored {
                        options = options.set_stored();
                    }
                    builder.add_text_field(&spec.name, options);
                }
                FieldKind::Keyword => {
                    // Ids match exactly; other keywords match however they are spelled.
                    let analyzer = if spec.name == ID_FIELD {
                        "raw"
                    } else {
                        KEYWORD_ANALYZER
                    };
                    let indexing = TextFieldIndexing::default()
                        .set_tokenizer(analyzer)
                        .set_index_option(IndexRecordOption::Basic);
                    let mut options = TextOptions::default().set_indexing_options(indexing);
                    if spec.stored {
                        options = options.set_stored();
                    }
                    if spec.fast || spec.name == ID_FIELD {
                        options = options.set_fast("raw");
                    }
                    builder.add_text_field(&spec.name, options);
                }
                FieldKind::Datetime => {
                    let mut options = DateOptions::default()
                        .set_indexed()
                        .set_fast()
                        .set_precision(DateTimePrecision::Seconds);
                    if spec.stored {
                        options = options.set_stored();
                    }
                    builder.add_date_field(&spec.name, options);
                }
                FieldKind::Facet => {
                    builder.add_facet_field(&spec.name, FacetOptions::default());
                    let keys = TextOptions::default()
                        .set_indexing_options(TextFieldIndexing::default().set_tokenizer("raw"))
                        .set_fast("raw");
                    builder.add_text_field(&format!("{}_key", spec.name), keys);
                }
                FieldKind::Stored => {
                    builder.add_text_field(&spec.name, STORED);
                }
            }
        }
        builder.add_text_field(ENTITIES_FIELD, STORED);
        builder.add_u64_field(CONTENT_HASH_FIELD, NumericOptions::default().set_fast());
        builder.add_u64_field(NEWS_HASH_FIELD, NumericOptions::default().set_fast());
        // Filtered by range through its fast column: no inverted index needed.
        builder.add_u64_field(INDEXED_AT_FIELD, NumericOptions::default().set_fast());
        Layout::from_schema(builder.build(), fields).expect("a schema built from `fields` has them")
    }

    /// Field handles of an index whose schema was built from `fields`, or the name of a field
    /// it lacks (an index another layout built).
    pub fn from_schema(schema: TantivySchema, fields: &Fields) -> Result<Layout, String> {
        let wanted = fields
            .iter()
            .map(|spec| spec.name.clone())
            .chain(fields.facets().map(|spec| format!("{}_key", spec.name)))
            .chain(
                [
                    ENTITIES_FIELD,
                    CONTENT_HASH_FIELD,
                    NEWS_HASH_FIELD,
                    INDEXED_AT_FIELD,
                ]
                .map(str::to_owned),
            );
        for name in wanted {
            if schema.get_field(&name).is_err() {
                return Err(name);
            }
        }
        let field = |name: &str| {
            schema
                .get_field(name)
                .expect("checked above: every field the layout names exists")
        };
        let facets = fields
            .facets()
            .map(|spec| FacetField {
                name: spec.name.clone(),
                dictionary: spec
                    .dictionary
                    .clone()
                    .expect("validated: facets have dictionaries"),
                salient_only: spec.salient_only,
                facet: field(&spec.name),
                keys: field(&format!("{}_key", spec.name)),
            })
            .collect();
        let count_columns = fields
            .countable_names()
            .map(|name| {
                let column = match fields.get(name).map(|spec| spec.kind) {
                    Some(FieldKind::Facet) => format!("{name}_key"),
                    _ => name.to_owned(),
                };
                (name.to_owned(), column)
            })
            .collect();
        let searched = fields
            .searched()
            .map(|(name, boost)| (field(name), boost))
            .collect();
        let timestamp_name = fields.timestamp().name.clone();
        let values = fields
            .iter()
            .filter(|spec| {
                matches!(
                    spec.kind,
                    FieldKind::Text | FieldKind::Keyword | FieldKind::Stored
                ) && spec.name != CLUSTER_FIELD
            })
            .map(|spec| (field(&spec.name), spec.name.clone()))
            .collect();
        Ok(Layout {
            id: field(ID_FIELD),
            body: field(BODY_FIELD),
            timestamp: field(&timestamp_name),
            timestamp_name,
            values,
            entities: field(ENTITIES_FIELD),
            content_hash: field(CONTENT_HASH_FIELD),
            news_hash: field(NEWS_HASH_FIELD),
            indexed_at: field(INDEXED_AT_FIELD),
            cluster: schema.get_field(CLUSTER_FIELD).ok(),
            facets,
            searched,
            count_columns,
            schema,
        })
    }

    pub fn facet(&self, name: &str) -> Option<&FacetField> {
        self.facets.iter().find(|facet| facet.name == name)
    }

    /// The fast column holding the values of countable field `name`.
    pub fn count_column(&self, name: &str) -> Option<&str> {
        self.count_columns
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, column)| column.as_str())
    }
}

pub fn register_analyzers(manager: &TokenizerManager) {
    manager.register(ENGLISH_ANALYZER, english_analyzer());
    manager.register(
        KEYWORD_ANALYZER,
        TextAnalyzer::from(KeywordTokenizer::default()),
    );
    manager.register("raw", TextAnalyzer::from(RawTokenizer::default()));
}

/// Words split at anything not alphanumeric, those of 48 bytes or more dropped, then lowercased,
/// folded and stemmed: `LowerCaser`, `AsciiFoldingFilter` and the English `Stemmer`, remembered.
pub(super) fn english_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(NormalizeAndStem)
        .build()
}

#[derive(Debug, Clone, Default)]
struct KeywordTokenizer {
    token: Token,
}

struct KeywordTokenStream<'a> {
    token: &'a mut Token,
    emitted: bool,
}

impl Tokenizer for KeywordTokenizer {
    type TokenStream<'a> = KeywordTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> KeywordTokenStream<'a> {
        self.token.reset();
        self.token.text = normalize_alias(text);
        self.token.position = 0;
        self.token.offset_to = text.len();
        KeywordTokenStream {
            token: &mut self.token,
            emitted: false,
        }
    }
}

impl TokenStream for KeywordTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let first = !self.emitted;
        self.emitted = true;
        first
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(analyzer: &str, text: &str) -> Vec<String> {
        let manager = TokenizerManager::default();
        register_analyzers(&manager);
        let mut analyzer = manager.get(analyzer).unwrap();
        let mut stream = analyzer.token_stream(text);
        let mut tokens = Vec::new();
        while stream.advance() {
            tokens.push(stream.token().text.clone());
        }
        tokens
    }

    #[test]
    fn english_folds_accents_and_stems() {
        assert_eq!(
            tokens(ENGLISH_ANALYZER, "Türkiye sanctions"),
            ["turkiy", "sanction"]
        );
        assert_eq!(
            tokens(ENGLISH_ANALYZER, "Turkiye sanction"),
            ["turkiy", "sanction"]
        );
    }

    #[test]
    fn keywords_are_one_normalized_token() {
        assert_eq!(tokens(KEYWORD_ANALYZER, "Sample Times"), ["sampletimes"]);
    }
}
