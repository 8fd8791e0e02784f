//! The declarative data in `schema/`: index fields and entity dictionaries.
//!
//! The built-in files are compiled into the binary; `--schema DIR` replaces any of them with
//! the file of the same name in DIR. Every file is parsed with unknown keys rejected and then
//! validated as a whole (unique keys, references between dictionaries).

mod dictionaries;
mod fields;
mod lookup;
mod topic_model;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use dictionaries::{
    AddedDictionary, Country, Dictionaries, NamedEntity, Organization, Person, Phrase, Place,
    PlaceKind, Region, Topic, TopicSet,
};
pub use fields::{DictionaryName, FieldKind, FieldSpec, Fields};
pub(crate) use lookup::edit_distance;
pub use lookup::{Catalogs, FacetCatalog, FacetEntry, normalize_alias, person_key};
pub use topic_model::{FeatureSettings, TopicClassifier, TopicModelSpec};

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

const FILES: [SchemaFile; 10] = [
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
        name: "history.toml",
        builtin: include_str!("../../schema/history.toml"),
    },
    SchemaFile {
        name: "places.toml",
        builtin: include_str!("../../schema/places.toml"),
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
    SchemaFile {
        name: "topic-model.toml",
        builtin: include_str!("../../schema/topic-model.toml"),
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
    /// places.toml, parsed only by [`Schema::places`]: it is large, and only extraction needs it.
    places_text: String,
    dir: Option<PathBuf>,
    /// Built on first use: query resolution and indexing need them, extraction alone does not.
    catalogs: OnceLock<Catalogs>,
}

impl Schema {
    /// The schema compiled into the binary.
    pub fn builtin() -> Result<Schema, SchemaError> {
        Schema::load(None)
    }

    /// The built-in schema with any file present in `dir` replacing its built-in twin.
    pub fn load(dir: Option<&Path>) -> Result<Schema, SchemaError> {
        Schema::load_texts(dir).map_err(|error| error.located(dir))
    }

    fn load_texts(dir: Option<&Path>) -> Result<Schema, SchemaError> {
        if let Some(dir) = dir.filter(|dir| !dir.is_dir()) {
            return Err(SchemaError::Read {
                path: dir.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
            });
        }
        let mut texts = Vec::with_capacity(FILES.len());
        for file in &FILES {
            texts.push((file.name, read_schema_file(dir, file)?));
        }
        // The built-in model reads the built-in phrases' scores: with other phrases, no model
        // unless the folder brings its own.
        let has = |name: &str| dir.is_some_and(|dir| dir.join(name).exists());
        if has("topics.toml") && !has("topic-model.toml") {
            let model = texts
                .iter_mut()
                .find(|(name, _)| *name == "topic-model.toml");
            model.expect("topic-model.toml is listed in FILES").1 = String::new();
        }
        let text_of = |name: &str| {
            texts
                .iter()
                .find(|(file, _)| *file == name)
                .map(|(_, text)| text.as_str())
                .expect("every schema file is listed in FILES")
        };
        let fields = Fields::parse(text_of("fields.toml"))?;
        let added = fields
            .added_dictionaries()
            .into_iter()
            .map(|name| read_added_dictionary(dir, name))
            .collect::<Result<Vec<_>, _>>()?;
        let dictionaries = Dictionaries::parse(text_of, added)?;
        let places_text = text_of("places.toml").to_owned();
        let mut dictionary_fingerprint = Fnv64::new();
        dictionary_fingerprint
            .write(&serde_json::to_vec(&dictionaries).expect("dictionaries serialize"));
        // places.toml is not parsed here (see `places`): its lines count, its comments do not.
        for line in places_text.lines().map(str::trim) {
            if !line.is_empty() && !line.starts_with('#') {
                dictionary_fingerprint.write_field(line);
            }
        }
        Ok(Schema {
            layout_fingerprint: fingerprint(&fields),
            dictionary_fingerprint: dictionary_fingerprint.finish(),
            fields,
            dictionaries,
            places_text,
            dir: dir.map(Path::to_owned),
            catalogs: OnceLock::new(),
        })
    }

    /// Every dictionary's entries with the names a query may use for them.
    pub fn catalogs(&self) -> &Catalogs {
        self.catalogs
            .get_or_init(|| Catalogs::build(&self.dictionaries))
    }

    /// The cities, provinces and US states of places.toml, validated against the countries.
    pub fn places(&self) -> Result<Vec<Place>, SchemaError> {
        dictionaries::parse_places(&self.places_text, &self.dictionaries)
            .map_err(|error| error.located(self.dir.as_deref()))
    }
}

/// A fingerprint of what was parsed, so that comments and formatting do not count.
fn fingerprint<T: serde::Serialize>(value: &T) -> u64 {
    Fnv64::of(&serde_json::to_vec(value).expect("schema values serialize"))
}

impl SchemaError {
    /// Names the file in its folder: the user's copy under `--schema DIR`, else the built-in.
    fn located(self, dir: Option<&Path>) -> SchemaError {
        let locate = |file: String| match dir.map(|dir| dir.join(&file)) {
            Some(path) if path.exists() => path.display().to_string(),
            _ => format!("built-in schema/{file}"),
        };
        match self {
            SchemaError::Parse { file, message } => SchemaError::Parse {
                file: locate(file),
                message,
            },
            SchemaError::Invalid { file, message } => SchemaError::Invalid {
                file: locate(file),
                message,
            },
            read @ SchemaError::Read { .. } => read,
        }
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

/// A dictionary fields.toml adds: its file must be in the schema folder.
fn read_added_dictionary(
    dir: Option<&Path>,
    name: &DictionaryName,
) -> Result<AddedDictionary, SchemaError> {
    let file = name.file_name();
    let Some(path) = dir.map(|dir| dir.join(&file)).filter(|path| path.exists()) else {
        return Err(invalid(
            "fields.toml",
            format!(
                "dictionary `{name}` has no file: put {file} in the --schema folder, beside \
                 fields.toml"
            ),
        ));
    };
    let text =
        std::fs::read_to_string(&path).map_err(|source| SchemaError::Read { path, source })?;
    AddedDictionary::parse(name.clone(), &text)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_do_not_change_fingerprints() {
        let dir = tempfile::tempdir().unwrap();
        let fields = format!("# a comment\n{}", FILES[0].builtin);
        std::fs::write(dir.path().join("fields.toml"), fields).unwrap();
        let places = FILES
            .iter()
            .find(|file| file.name == "places.toml")
            .unwrap();
        let places = format!("# a comment\n{}\n# another\n", places.builtin);
        std::fs::write(dir.path().join("places.toml"), places).unwrap();
        let builtin = Schema::builtin().unwrap();
        let commented = Schema::load(Some(dir.path())).unwrap();
        assert_eq!(builtin.layout_fingerprint, commented.layout_fingerprint);
        assert_eq!(
            builtin.dictionary_fingerprint,
            commented.dictionary_fingerprint
        );
    }

    #[test]
    fn errors_name_the_users_file_or_the_built_in_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("topics.toml"), "threshold = 1\n").unwrap();
        let error = Schema::load(Some(dir.path())).unwrap_err().to_string();
        assert!(
            error.starts_with(&dir.path().join("topics.toml").display().to_string()),
            "{error}"
        );
        let missing = Schema::load(Some(&dir.path().join("nope")))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("no such folder"), "{missing}");
    }

    #[test]
    fn query_names_belong_to_keyword_and_facet_fields() {
        let dir = tempfile::tempdir().unwrap();
        let fields = FILES[0].builtin.replace(
            "name = \"author\"\ntype = \"stored\"",
            "name = \"author\"\ntype = \"stored\"\nquery_names = [\"by\"]",
        );
        std::fs::write(dir.path().join("fields.toml"), fields).unwrap();
        let error = Schema::load(Some(dir.path())).unwrap_err().to_string();
        assert!(
            error.contains("only keyword and facet fields take `query_names`"),
            "{error}"
        );
    }
}
