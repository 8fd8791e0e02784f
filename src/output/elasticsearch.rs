//! Elasticsearch and OpenSearch, as an export path (geonews does not search a cluster): the
//! body that creates an index for geonews's articles, generated from fields.toml, and each
//! article as a `_bulk` action line and a document line.
//!
//! A document holds the article's fields by their fields.toml names (`published` in RFC 3339)
//! and, per facet field `NAME`, the entity keys in `NAME` and every prefix of every key's path
//! in `NAME_path` (`/Asia`, `/Asia/EastAsia`, `/Asia/EastAsia/NorthKorea`), so that a `term`
//! filter on a region finds the articles about the countries in it, as `region:Asia` does.

use std::collections::HashSet;
use std::io::{self, Write};

use chrono::SecondsFormat;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value, json};

use super::{Printer, Render, plural, write_json, write_json_line};
use crate::results::StoredArticle;
use crate::schema::{DictionaryName, FieldKind, FieldSpec, Schema};
use crate::service::ExportResponse;

/// The normalizer of keyword fields: geonews matches `source:"Sample Times"` as
/// `source:sampletimes` (letters and digits only, lowercased, accents folded).
const KEYWORD_NORMALIZER: &str = "geonews_keyword";
const LETTERS_AND_DIGITS: &str = "geonews_letters_and_digits";
/// The suffix of the field holding a facet's path prefixes.
const PATH_SUFFIX: &str = "_path";

/// Writes the mapping and the bulk lines of one schema, for one Elasticsearch index.
pub struct EsExport<'s> {
    schema: &'s Schema,
    index: String,
    /// Per facet field, its name and the name of its path field.
    path_fields: Vec<(&'s str, String)>,
}

impl<'s> EsExport<'s> {
    /// The export of `schema`'s fields into the Elasticsearch index `index`, or why they
    /// cannot go there (a name Elasticsearch refuses, or two fields that would share one).
    pub fn new(schema: &'s Schema, index: &str) -> Result<EsExport<'s>, String> {
        if let Some(why) = index_name_problem(index) {
            return Err(format!("--es-index {index:?}: {why}"));
        }
        let path_fields: Vec<(&str, String)> = schema
            .fields
            .facets()
            .map(|spec| (spec.name.as_str(), format!("{}{PATH_SUFFIX}", spec.name)))
            .collect();
        for spec in schema.fields.iter() {
            if spec.name.starts_with('_') {
                return Err(format!(
                    "fields.toml: field `{}` cannot be exported to Elasticsearch, which keeps \
                     names starting with `_` for its own fields",
                    spec.name
                ));
            }
            if let Some((facet, _)) = path_fields.iter().find(|(_, path)| *path == spec.name) {
                return Err(format!(
                    "fields.toml: field `{}` has the name the export gives the paths of facet \
                     `{facet}`; rename it to export to Elasticsearch",
                    spec.name
                ));
            }
        }
        Ok(EsExport {
            schema,
            index: index.to_owned(),
            path_fields,
        })
    }

    /// The body of `PUT /INDEX`: the keyword normalizer, and a property per field (two per
    /// facet field), with what Elasticsearch has no place for (search boosts, the schema's
    /// fingerprints) in `_meta`.
    pub fn mapping(&self) -> Value {
        let mut properties = Map::new();
        for spec in self.schema.fields.iter() {
            properties.insert(spec.name.clone(), property(spec));
            if let Some(path) = self.path_field(&spec.name) {
                properties.insert(path.to_owned(), json!({ "type": "keyword" }));
            }
        }
        let search_boost: Map<String, Value> = self
            .schema
            .fields
            .searched()
            .map(|(name, boost)| (name.to_owned(), json!(boost)))
            .collect();
        let facets: Map<String, Value> = self
            .schema
            .fields
            .facets()
            .map(|spec| {
                let dictionary = spec.dictionary.as_ref().map(DictionaryName::as_str);
                let about = json!({
                    "dictionary": dictionary,
                    "salient_only": spec.salient_only,
                    "paths": self.path_field(&spec.name),
                });
                (spec.name.clone(), about)
            })
            .collect();
        json!({
            "settings": {
                "analysis": {
                    "char_filter": {
                        LETTERS_AND_DIGITS: {
                            "type": "pattern_replace",
                            "pattern": "[^\\p{L}\\p{Nd}]",
                            "replacement": "",
                        },
                    },
                    "normalizer": {
                        KEYWORD_NORMALIZER: {
                            "type": "custom",
                            "char_filter": [LETTERS_AND_DIGITS],
                            "filter": ["lowercase", "asciifolding"],
                        },
                    },
                },
            },
            "mappings": {
                "dynamic": "strict",
                "_meta": {
                    "generator": "geonews",
                    "geonews_version": env!("CARGO_PKG_VERSION"),
                    "layout_fingerprint": format!("{:016x}", self.schema.layout_fingerprint),
                    "dictionary_fingerprint":
                        format!("{:016x}", self.schema.dictionary_fingerprint),
                    "search_boost": search_boost,
                    "search_boost_note": "geonews searches free text over these fields with \
                        these boosts; in Elasticsearch a boost is given at query time \
                        (multi_match with title^3)",
                    "facets": facets,
                    "facets_note": "a facet field holds entity keys (NorthKorea), and its \
                        `paths` field every prefix of every key's path (/Asia, /Asia/EastAsia, \
                        /Asia/EastAsia/NorthKorea): a term filter on a path finds the articles \
                        with any value below it; `salient_only` keeps the countries an article \
                        is about",
                },
                "properties": properties,
            },
        })
    }

    pub fn write_mapping(&self, out: &mut dyn Write) -> io::Result<()> {
        write_json(out, &self.mapping())
    }

    /// The two lines of `_bulk` NDJSON that index `article`: the action, then the document.
    pub fn write_bulk(&self, out: &mut dyn Write, article: &StoredArticle) -> io::Result<()> {
        let action = Action {
            index: Target {
                index: &self.index,
                id: &article.id,
            },
        };
        write_json_line(out, &action)?;
        write_json_line(out, &self.document(article))
    }

    /// The document of `article`, serialized as it is written: its text is not copied.
    pub fn document<'a>(&'a self, article: &'a StoredArticle) -> impl Serialize + 'a {
        Document {
            export: self,
            article,
        }
    }

    fn path_field(&self, facet: &str) -> Option<&str> {
        self.path_fields
            .iter()
            .find(|(name, _)| *name == facet)
            .map(|(_, path)| path.as_str())
    }
}

/// The Elasticsearch property of one field of fields.toml (a facet's keys; its paths are a
/// property of their own).
fn property(spec: &FieldSpec) -> Value {
    match spec.kind {
        FieldKind::Text => json!({ "type": "text", "analyzer": "english" }),
        // Ids match exactly, as in geonews.
        FieldKind::Keyword if spec.name == "id" => json!({ "type": "keyword" }),
        // `.raw` keeps the spelling for aggregations (`Sample Times`, not `sampletimes`).
        FieldKind::Keyword => json!({
            "type": "keyword",
            "normalizer": KEYWORD_NORMALIZER,
            "fields": { "raw": { "type": "keyword" } },
        }),
        FieldKind::Datetime => json!({
            "type": "date",
            "format": "strict_date_optional_time||epoch_second",
        }),
        FieldKind::Facet => json!({ "type": "keyword" }),
        // Kept for display only.
        FieldKind::Stored => json!({ "type": "keyword", "index": false, "doc_values": false }),
    }
}

/// `{"index":{"_index":INDEX,"_id":ID}}`: index (or replace) the document on the next line.
#[derive(Serialize)]
struct Action<'a> {
    index: Target<'a>,
}

#[derive(Serialize)]
struct Target<'a> {
    #[serde(rename = "_index")]
    index: &'a str,
    #[serde(rename = "_id")]
    id: &'a str,
}

struct Document<'a> {
    export: &'a EsExport<'a>,
    article: &'a StoredArticle,
}

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let article = self.article;
        let schema = self.export.schema;
        let mut map = serializer.serialize_map(None)?;
        for spec in schema.fields.iter() {
            match spec.kind {
                FieldKind::Text | FieldKind::Keyword | FieldKind::Stored => {
                    let value = article
                        .value_of(&spec.name)
                        .filter(|value| !value.is_empty());
                    if let Some(value) = value {
                        map.serialize_entry(&spec.name, value)?;
                    }
                }
                FieldKind::Datetime => {
                    if let Some(published) = article.published {
                        let published = published.to_rfc3339_opts(SecondsFormat::Secs, true);
                        map.serialize_entry(&spec.name, &published)?;
                    }
                }
                FieldKind::Facet => {
                    let values = article.entities.facet_values(spec, schema.catalogs());
                    let keys: Vec<&str> = values.iter().map(|(key, _)| *key).collect();
                    map.serialize_entry(&spec.name, &keys)?;
                    if let Some(path) = self.export.path_field(&spec.name) {
                        map.serialize_entry(path, &path_prefixes(&values))?;
                    }
                }
            }
        }
        map.end()
    }
}

/// Every prefix of every value's path, each once, outermost first: `/Asia`, `/Asia/EastAsia`,
/// `/Asia/EastAsia/NorthKorea`, then `/Asia/EastAsia/SouthKorea` for a second country.
fn path_prefixes(values: &[(&str, Vec<String>)]) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut prefixes = Vec::new();
    for (_, path) in values {
        let mut prefix = String::new();
        for part in path {
            prefix.push('/');
            prefix.push_str(part);
            if seen.insert(prefix.clone()) {
                prefixes.push(prefix.clone());
            }
        }
    }
    prefixes
}

/// Why Elasticsearch would refuse `name` for an index, if it would.
fn index_name_problem(name: &str) -> Option<String> {
    const FORBIDDEN: [char; 12] = ['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':'];
    if name.is_empty() {
        return Some("an index needs a name".to_owned());
    }
    if name == "." || name == ".." {
        return Some("`.` and `..` cannot name an index".to_owned());
    }
    if name.len() > 255 {
        return Some(format!(
            "{} bytes, where an index name takes 255",
            name.len()
        ));
    }
    if name.starts_with(['-', '_', '+']) {
        return Some("an index name cannot start with `-`, `_` or `+`".to_owned());
    }
    if name.chars().any(char::is_uppercase) {
        return Some("an index name is lowercase".to_owned());
    }
    if let Some(c) = name.chars().find(|c| FORBIDDEN.contains(c)) {
        return Some(format!(
            "an index name cannot hold {c:?} (nor any of {})",
            FORBIDDEN.iter().collect::<String>()
        ));
    }
    None
}

impl Render for ExportResponse {
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        let matching = match self.query.trim() {
            "" => String::new(),
            query => format!(" matching {}", printer.style.title(query)),
        };
        let what = match &self.es_index {
            Some(index) => format!("as bulk actions for the index {index}"),
            None => "as Quickwit documents".to_owned(),
        };
        writeln!(
            out,
            "exported {} article{}{matching} from {} {what}",
            self.articles,
            plural(self.articles),
            self.location,
        )
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::extract::Extractor;

    fn builtin() -> Schema {
        Schema::builtin().unwrap()
    }

    #[test]
    fn the_mapping_has_a_property_of_the_right_type_for_every_field() {
        let schema = builtin();
        let mapping = EsExport::new(&schema, "geonews").unwrap().mapping();
        let properties = mapping["mappings"]["properties"].as_object().unwrap();
        let normalizers = &mapping["settings"]["analysis"]["normalizer"];
        for spec in schema.fields.iter() {
            let property = &properties[&spec.name];
            match spec.kind {
                FieldKind::Text => {
                    assert_eq!(property["type"], "text", "{}", spec.name);
                    assert_eq!(property["analyzer"], "english", "{}", spec.name);
                }
                FieldKind::Keyword if spec.name == "id" => {
                    assert_eq!(*property, json!({ "type": "keyword" }));
                }
                FieldKind::Keyword => {
                    assert_eq!(property["type"], "keyword", "{}", spec.name);
                    let normalizer = property["normalizer"].as_str().unwrap();
                    assert!(normalizers.get(normalizer).is_some(), "{normalizer}");
                }
                FieldKind::Datetime => {
                    assert_eq!(property["type"], "date");
                    assert_eq!(
                        property["format"],
                        "strict_date_optional_time||epoch_second"
                    );
                }
                FieldKind::Facet => {
                    assert_eq!(property["type"], "keyword", "{}", spec.name);
                    let path = &properties[&format!("{}_path", spec.name)];
                    assert_eq!(path["type"], "keyword", "{}", spec.name);
                }
                FieldKind::Stored => {
                    assert_eq!(property["type"], "keyword", "{}", spec.name);
                    assert_eq!(property["index"], false, "{}", spec.name);
                }
            }
        }
        let facets = schema.fields.facets().count();
        assert_eq!(properties.len(), schema.fields.iter().count() + facets);
        let meta = &mapping["mappings"]["_meta"];
        assert_eq!(meta["generator"], "geonews");
        assert_eq!(meta["search_boost"]["title"], 3.0);
        assert_eq!(
            meta["layout_fingerprint"],
            format!("{:016x}", schema.layout_fingerprint)
        );
    }

    #[test]
    fn the_builtin_mapping() {
        let schema = builtin();
        let mapping = EsExport::new(&schema, "geonews").unwrap().mapping();
        // The fingerprints change with every dictionary edit, the version with every release.
        insta::assert_json_snapshot!(mapping, {
            ".mappings._meta.geonews_version" => "[version]",
            ".mappings._meta.layout_fingerprint" => "[fingerprint]",
            ".mappings._meta.dictionary_fingerprint" => "[fingerprint]",
        });
    }

    #[test]
    fn paths_give_every_prefix_once() {
        let schema = builtin();
        let entities = crate::extract::Entities {
            countries: ["NorthKorea", "SouthKorea"]
                .map(|key| crate::extract::CountryMention {
                    key: key.to_owned(),
                    iso2: String::new(),
                    name: key.to_owned(),
                    mentions: 1,
                    first_offset: None,
                    evidence: Vec::new(),
                    in_title: false,
                    in_dateline: false,
                    in_lead: false,
                    salient: key == "NorthKorea",
                })
                .into(),
            ..Default::default()
        };
        let field = |name: &str| schema.fields.get(name).unwrap();
        let all = entities.facet_values(field("country"), schema.catalogs());
        assert_eq!(
            path_prefixes(&all),
            [
                "/Asia",
                "/Asia/EastAsia",
                "/Asia/EastAsia/NorthKorea",
                "/Asia/EastAsia/SouthKorea"
            ]
        );
        let about = entities.facet_values(field("about"), schema.catalogs());
        assert_eq!(
            path_prefixes(&about),
            ["/Asia", "/Asia/EastAsia", "/Asia/EastAsia/NorthKorea"]
        );
    }

    #[test]
    fn a_document_holds_the_fields_keys_and_paths() {
        let schema = builtin();
        let extractor = Extractor::new(&schema.dictionaries, &schema.places().unwrap()).unwrap();
        let mut article = StoredArticle {
            id: "a-1".into(),
            title: "Sanctions on North Korea".into(),
            summary: None,
            body: "PYONGYANG (Wire) - North Korea answered the new UN sanctions with a missile \
                   test, said Kim Jong Un."
                .into(),
            published: DateTime::from_timestamp(1_700_000_000, 0),
            source: Some("Sample Times".into()),
            url: Some("https://example.org/a-1".into()),
            author: None,
            language: Some("en".into()),
            entities: Default::default(),
            cluster: Some("a-1".into()),
            extra: [("tags".to_owned(), "Asia, nuclear".to_owned())].into(),
        };
        article.entities = extractor.extract(&article.to_article()).0;
        let export = EsExport::new(&schema, "news").unwrap();
        let mut out = Vec::new();
        export.write_bulk(&mut out, &article).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert!(text.ends_with('\n'));
        assert_eq!(
            lines[0],
            json!({ "index": { "_index": "news", "_id": "a-1" } })
        );
        let document = lines[1].as_object().unwrap();
        assert_eq!(document["id"], "a-1");
        assert_eq!(document["published"], "2023-11-14T22:13:20Z");
        assert_eq!(document["tags"], "Asia, nuclear");
        assert_eq!(document["source"], "Sample Times");
        assert_eq!(document["cluster"], "a-1");
        // Absent and empty values are left out.
        assert!(!document.contains_key("summary"));
        assert!(!document.contains_key("author"));
        let strings = |name: &str| -> Vec<&str> {
            document[name]
                .as_array()
                .unwrap_or_else(|| panic!("{name} is not an array"))
                .iter()
                .map(|value| value.as_str().unwrap())
                .collect()
        };
        assert!(strings("country").contains(&"NorthKorea"));
        assert!(strings("about").contains(&"NorthKorea"));
        assert!(strings("country_path").contains(&"/Asia/EastAsia/NorthKorea"));
        assert!(strings("region_path").contains(&"/Asia"));
        assert!(strings("topic").contains(&"sanctions"));
        assert!(strings("topic_path").contains(&"/sanctions"));
        // Every key of the document is a property of the mapping.
        let mapping = export.mapping();
        for name in document.keys() {
            assert!(
                mapping["mappings"]["properties"].get(name).is_some(),
                "{name}"
            );
        }
    }

    #[test]
    fn index_names_elasticsearch_refuses_are_refused() {
        let schema = builtin();
        for good in ["geonews", "news-2025.01", "a_b"] {
            assert!(EsExport::new(&schema, good).is_ok(), "{good}");
        }
        for bad in [
            "", ".", "..", "News", "_news", "-news", "my news", "a/b", "a,b", "a:b",
        ] {
            let error = EsExport::new(&schema, bad)
                .err()
                .unwrap_or_else(|| panic!("{bad}"));
            assert!(error.starts_with("--es-index"), "{error}");
        }
    }

    #[test]
    fn a_field_named_like_a_facets_paths_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fields = format!(
            "{}\n[[field]]\nname = \"topic_path\"\ntype = \"stored\"\n",
            include_str!("../../schema/fields.toml")
        );
        std::fs::write(dir.path().join("fields.toml"), fields).unwrap();
        let schema = Schema::load(Some(dir.path())).unwrap();
        let error = EsExport::new(&schema, "geonews").err().unwrap();
        assert!(error.contains("`topic_path`"), "{error}");
        assert!(error.contains("facet `topic`"), "{error}");
    }
}
