//! The declarative data in `schema/`: index fields and entity dictionaries.
//!
//! The built-in files are compiled into the binary; `--schema DIR` replaces any of them with
//! the file of the same name in DIR. Every file is parsed with unknown keys rejected and then
//! validated as a whole (unique keys, references between dictionaries).

mod dictionaries;
mod fields;
mod lookup;

use std::path::{Path, PathBuf};

pub use dictionaries::{
    Country, Dictionaries, Organization, Person, Phrase, Region, Topic, TopicSet,
};
pub use fields::{DictionaryName, FieldKind, FieldSpec, Fields};
pub(crate) use lookup::edit_distance;
pub use lookup::{Catalogs, FacetCatalog, FacetEntry, normalize_alias};

use crate::hash::Fnv64;

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

/// One file of the schema, by its name in `schema/`.
struct SchemaFile {
    name: &'static str,
    builtin: &'static str,
}

const FILES: [SchemaFile; 7] = [
    SchemaFile {
        name: "fields.toml",
        builtin: include_str!("../../schema/fields.toml"),
    },
    SchemaFile {
        name: "regions.toml",
        builtin: include_str!("../../schema/regions.toml"),
    },
    SchemaFile {
        name: "countries.toml",
        builtin: include_str!("../../schema/countries.toml"),
    },
    SchemaFile {
        name: "people.toml",
        builtin: include_str!("../../schema/people.toml"),
    },
    SchemaFile {
        name: "organizations.toml",
        builtin: include_str!("../../schema/organizations.toml"),
    },
    SchemaFile {
        name: "topics.toml",
        builtin: include_str!("../../schema/topics.toml"),
    },
    SchemaFile {
        name: "stoplist.toml",
        builtin: include_str!("../../schema/stoplist.toml"),
    },
];

/// Everything geonews knows about fields and entities.
#[derive(Debug)]
pub struct Schema {
    pub fields: Fields,
    pub dictionaries: Dictionaries,
    /// Changes whenever the index layout changes (fields.toml).
    pub layout_fingerprint: u64,
    /// Changes whenever any dictionary changes: facets extracted with other dictionaries are stale.
    pub dictionary_fingerprint: u64,
}

impl Schema {
    /// The schema compiled into the binary.
    pub fn builtin() -> Result<Schema, SchemaError> {
        Schema::load(None)
    }

    /// The built-in schema with any file present in `dir` replacing its built-in twin.
    pub fn load(dir: Option<&Path>) -> Result<Schema, SchemaError> {
        let mut texts = Vec::with_capacity(FILES.len());
        for file in &FILES {
            texts.push((file.name, read_schema_file(dir, file)?));
        }
        let text_of = |name: &str| {
            texts
                .iter()
                .find(|(file, _)| *file == name)
                .map(|(_, text)| text.as_str())
                .expect("every schema file is listed in FILES")
        };
        let fields = Fields::parse(text_of("fields.toml"))?;
        let dictionaries = Dictionaries::parse(
            text_of("regions.toml"),
            text_of("countries.toml"),
            text_of("people.toml"),
            text_of("organizations.toml"),
            text_of("topics.toml"),
            text_of("stoplist.toml"),
        )?;
        let layout_fingerprint = Fnv64::of(text_of("fields.toml").as_bytes());
        let mut dictionary_hash = Fnv64::new();
        for (name, text) in &texts {
            if *name != "fields.toml" {
                dictionary_hash.write(text.as_bytes());
            }
        }
        Ok(Schema {
            fields,
            dictionaries,
            layout_fingerprint,
            dictionary_fingerprint: dictionary_hash.finish(),
        })
    }
}

fn read_schema_file(dir: Option<&Path>, file: &SchemaFile) -> Result<String, SchemaError> {
    let Some(path) = dir
        .map(|dir| dir.join(file.name))
        .filter(|path| path.exists())
    else {
        return Ok(file.builtin.to_owned());
    };
    std::fs::read_to_string(&path).map_err(|source| SchemaError::Read { path, source })
}

pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
) -> Result<T, SchemaError> {
    toml::from_str(text).map_err(|error| SchemaError::Parse {
        file: file.to_owned(),
        message: error.to_string().trim_end().to_owned(),
    })
}

pub(crate) fn invalid(file: &str, message: impl Into<String>) -> SchemaError {
    SchemaError::Invalid {
        file: file.to_owned(),
        message: message.into(),
    }
}
