//! The Quickwit index a schema needs, created through Quickwit's REST API
//! (`geonews quickwit init`).

use serde_json::{Value, json};

use super::client::{Body, Client};
use super::document::{
    BANDS, CLUSTER, CONTENT_HASH, ENTITIES, INDEXED_AT, INTERVALS, NEWS_HASH, SIGNATURE,
    bucket_field, normalized_field, path_field, words_field,
};
use super::{QuickwitError, Target};
use crate::schema::{FieldKind, Schema};

/// Seconds Quickwit waits before it commits what it was sent (a run's last batch waits for it).
const COMMIT_TIMEOUT_SECS: u64 = 5;
/// How long a split keeps being merged. Quickwit applies delete tasks (a deleted or replaced
/// article) only to mature splits: its default of 48 hours would leave both versions of a
/// replaced article searchable for two days.
const MATURATION_PERIOD: &str = "1h";

/// The index creation request (`POST /api/v1/indexes`) for `schema`'s fields.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexConfig {
    pub index_id: String,
    pub json: Value,
}

/// Texts as written are stored for display; their analysed words are indexed with positions.
/// Keywords keep the value as written (fast, for counting) and its normalized form (matched).
/// Facets hold their keys (fast, counted) and every prefix of their paths (matched). No
/// `timestamp_field`: Quickwit would drop the articles without a date.
pub fn index_config(schema: &Schema, index_id: &str) -> IndexConfig {
    let mut mappings = Vec::new();
    for spec in schema.fields.iter() {
        let name = spec.name.as_str();
        match spec.kind {
            FieldKind::Text => {
                mappings.push(stored_text(name));
                mappings.push(json!({
                    "name": words_field(name), "type": "text", "tokenizer": "whitespace",
                    "record": "position", "stored": false,
                }));
            }
            FieldKind::Keyword => {
                let countable = spec.fast || name == "id";
                mappings.push(json!({
                    "name": name, "type": "text", "tokenizer": "raw", "stored": true,
                    "fast": countable,
                }));
                if name != "id" {
                    mappings.push(json!({
                        "name": normalized_field(name), "type": "text", "tokenizer": "raw",
                        "stored": false,
                    }));
                }
            }
            FieldKind::Datetime => {
                mappings.push(json!({
                    "name": name, "type": "datetime", "stored": true, "indexed": true,
                    "fast": true, "fast_precision": "seconds",
                    "input_formats": ["unix_timestamp", "rfc3339"],
                    "output_format": "unix_timestamp_secs",
                }));
                for interval in INTERVALS {
                    mappings.push(json!({
                        "name": bucket_field(interval), "type": "i64", "stored": false,
                        "indexed": false, "fast": true,
                    }));
                }
            }
            FieldKind::Facet => {
                mappings.push(json!({
                    "name": name, "type": "array<text>", "tokenizer": "raw", "stored": false,
                    "fast": true,
                }));
                mappings.push(json!({
                    "name": path_field(name), "type": "array<text>", "tokenizer": "raw",
                    "stored": false,
                }));
            }
            FieldKind::Stored => mappings.push(stored_text(name)),
        }
    }
    if schema.fields.get(CLUSTER).is_some() {
        mappings.push(stored_text(SIGNATURE));
        mappings.push(json!({
            "name": BANDS, "type": "array<u64>", "stored": false, "indexed": true, "fast": false,
        }));
    }
    mappings.push(stored_text(ENTITIES));
    mappings.push(json!({
        "name": CONTENT_HASH, "type": "u64", "stored": true, "indexed": false, "fast": false,
    }));
    mappings.push(json!({
        "name": NEWS_HASH, "type": "u64", "stored": true, "indexed": false, "fast": false,
    }));
    mappings.push(json!({
        "name": INDEXED_AT, "type": "u64", "stored": true, "indexed": true, "fast": true,
    }));
    IndexConfig {
        index_id: index_id.to_owned(),
        json: json!({
            "version": "0.9",
            "index_id": index_id,
            "doc_mapping": {
                "mode": "strict",
                "store_source": false,
                "field_mappings": mappings,
            },
            "indexing_settings": {
                "commit_timeout_secs": COMMIT_TIMEOUT_SECS,
                "merge_policy": { "type": "stable_log", "maturation_period": MATURATION_PERIOD },
            },
            "search_settings": { "default_search_fields": [] },
        }),
    }
}

/// Creates the index `target` names for `schema`'s fields; with `replace`, an index of that id
/// is deleted first, with every article in it.
pub fn create_index(
    target: &Target,
    schema: &Schema,
    replace: bool,
) -> Result<IndexConfig, QuickwitError> {
    let client = Client::new(target.nodes.clone());
    let config = index_config(schema, &target.index);
    if replace {
        match client.delete::<Value>(&format!("/api/v1/indexes/{}", target.index)) {
            Ok(_) | Err(QuickwitError::Status { status: 404, .. }) => {}
            Err(error) => return Err(error),
        }
    }
    client.post::<Value>("/api/v1/indexes", Body::Json(&config.json))?;
    Ok(config)
}

fn stored_text(name: &str) -> Value {
    json!({ "name": name, "type": "text", "indexed": false, "stored": true })
}

impl IndexConfig {
    /// Each field's name and type, as an index created from this config lists them.
    pub fn fields(&self) -> Vec<(String, String)> {
        field_types(&self.json["doc_mapping"]["field_mappings"])
    }
}

/// `(name, type)` of each field mapping of a doc mapping's `field_mappings`.
pub fn field_types(mappings: &Value) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = mappings
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|mapping| {
            Some((
                mapping.get("name")?.as_str()?.to_owned(),
                mapping.get("type")?.as_str()?.to_owned(),
            ))
        })
        .collect();
    fields.sort();
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_of_the_schema_is_mapped_with_its_type() {
        let schema = Schema::builtin().unwrap();
        let config = index_config(&schema, "news");
        let fields = config.fields();
        let type_of = |name: &str| {
            fields
                .iter()
                .find(|(field, _)| field == name)
                .map(|(_, kind)| kind.as_str())
        };
        assert_eq!(type_of("body"), Some("text"));
        assert_eq!(type_of("body_words"), Some("text"));
        assert_eq!(type_of("country"), Some("array<text>"));
        assert_eq!(type_of("country_path"), Some("array<text>"));
        assert_eq!(type_of("published"), Some("datetime"));
        assert_eq!(type_of("gn_month"), Some("i64"));
        assert_eq!(type_of("source_norm"), Some("text"));
        assert_eq!(type_of("id_norm"), None);
        assert!(config.json.get("timestamp_field").is_none());
        assert!(config.json["doc_mapping"].get("timestamp_field").is_none());
    }
}
