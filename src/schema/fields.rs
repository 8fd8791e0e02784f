use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::{SchemaError, invalid, parse_toml};

const FILE: &str = "fields.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    Text,
    Keyword,
    Datetime,
    Facet,
    Stored,
}

/// A dictionary of entities, by the name of its file in `schema/` without `.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(from = "String", into = "String")]
pub enum DictionaryName {
    Countries,
    Regions,
    Topics,
    People,
    Organizations,
    /// A dictionary a schema adds, of entities known by their names alone: `weapons` is read
    /// from `weapons.toml` (see [`super::Dictionaries`]).
    Added(String),
}

impl DictionaryName {
    /// The dictionaries every schema has, with rules of their own.
    pub const BUILT_IN: [DictionaryName; 5] = [
        DictionaryName::Countries,
        DictionaryName::Regions,
        DictionaryName::Topics,
        DictionaryName::People,
        DictionaryName::Organizations,
    ];

    pub fn as_str(&self) -> &str {
        match self {
            DictionaryName::Countries => "countries",
            DictionaryName::Regions => "regions",
            DictionaryName::Topics => "topics",
            DictionaryName::People => "people",
            DictionaryName::Organizations => "organizations",
            DictionaryName::Added(name) => name,
        }
    }

    pub fn file_name(&self) -> String {
        format!("{}.toml", self.as_str())
    }
}

impl From<String> for DictionaryName {
    fn from(name: String) -> DictionaryName {
        DictionaryName::BUILT_IN
            .into_iter()
            .find(|built_in| built_in.as_str() == name)
            .unwrap_or(DictionaryName::Added(name))
    }
}

impl From<DictionaryName> for String {
    fn from(name: DictionaryName) -> String {
        name.as_str().to_owned()
    }
}

impl std::fmt::Display for DictionaryName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldKind,
    #[serde(default)]
    pub stored: bool,
    #[serde(default)]
    pub fast: bool,
    pub search_boost: Option<f32>,
    pub dictionary: Option<DictionaryName>,
    /// A countries facet holding only the countries an article is about (`about:`).
    #[serde(default)]
    pub salient_only: bool,
    #[serde(default)]
    pub query_names: Vec<String>,
}

impl FieldSpec {
    fn is_countable(&self) -> bool {
        match self.kind {
            FieldKind::Facet => true,
            FieldKind::Keyword => self.fast && self.name != "id",
            FieldKind::Text | FieldKind::Datetime | FieldKind::Stored => false,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldsFile {
    field: Vec<FieldSpec>,
}

/// The validated field list of `fields.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Fields {
    specs: Vec<FieldSpec>,
}

/// Fields the code relies on, with the type each must have.
const REQUIRED: [(&str, FieldKind); 3] = [
    ("id", FieldKind::Keyword),
    ("title", FieldKind::Text),
    ("body", FieldKind::Text),
];

/// Names an added dictionary cannot take: schema files that hold no dictionary, and the keys
/// beside which its entities appear in an extracted article's JSON.
const RESERVED_FILES: [&str; 13] = [
    "fields",
    "places",
    "history",
    "stoplist",
    "id",
    "title",
    "published",
    "url",
    "source",
    "language",
    "summary",
    "body",
    "explain",
];

impl Fields {
    pub(super) fn parse(text: &str) -> Result<Fields, SchemaError> {
        let file: FieldsFile = parse_toml(FILE, text)?;
        let fields = Fields { specs: file.field };
        fields.validate()?;
        Ok(fields)
    }

    pub fn iter(&self) -> impl Iterator<Item = &FieldSpec> {
        self.specs.iter()
    }

    pub fn get(&self, name: &str) -> Option<&FieldSpec> {
        self.specs.iter().find(|spec| spec.name == name)
    }

    /// Text fields searched by free text, with their boosts.
    pub fn searched(&self) -> impl Iterator<Item = (&str, f32)> {
        self.specs
            .iter()
            .filter_map(|spec| spec.search_boost.map(|boost| (spec.name.as_str(), boost)))
    }

    /// The publication date: the one datetime field (validated).
    pub fn timestamp(&self) -> &FieldSpec {
        self.specs
            .iter()
            .find(|spec| spec.kind == FieldKind::Datetime)
            .expect("validated: one datetime field")
    }

    /// The dictionaries a schema adds to the built-in ones, in field order.
    pub fn added_dictionaries(&self) -> Vec<&DictionaryName> {
        let mut added: Vec<&DictionaryName> = Vec::new();
        for dictionary in self.facets().filter_map(|spec| spec.dictionary.as_ref()) {
            if matches!(dictionary, DictionaryName::Added(_)) && !added.contains(&dictionary) {
                added.push(dictionary);
            }
        }
        added
    }

    pub fn facets(&self) -> impl Iterator<Item = &FieldSpec> {
        self.specs
            .iter()
            .filter(|spec| spec.kind == FieldKind::Facet)
    }

    /// The field a query name such as `country` or `lang` refers to.
    pub fn by_query_name(&self, query_name: &str) -> Option<&FieldSpec> {
        let query_name = query_name.to_ascii_lowercase();
        self.specs
            .iter()
            .find(|spec| spec.query_names.contains(&query_name))
    }

    /// The field that `--facets NAME` counts: a facet field or a fast keyword field, by its name
    /// or a query name.
    pub fn countable(&self, name: &str) -> Option<&FieldSpec> {
        let name = name.trim().to_ascii_lowercase();
        self.specs.iter().find(|spec| {
            (spec.name == name || spec.query_names.contains(&name)) && spec.is_countable()
        })
    }

    pub fn countable_names(&self) -> impl Iterator<Item = &str> {
        self.specs
            .iter()
            .filter(|spec| spec.is_countable())
            .map(|spec| spec.name.as_str())
    }

    /// Every name a query may put before a colon, for suggestions and help.
    pub fn query_names(&self) -> impl Iterator<Item = &str> {
        self.specs
            .iter()
            .flat_map(|spec| spec.query_names.iter().map(String::as_str))
    }

    fn validate(&self) -> Result<(), SchemaError> {
        let mut names = HashSet::new();
        let mut query_names = HashSet::new();
        for spec in &self.specs {
            if !names.insert(spec.name.as_str()) {
                return Err(invalid(
                    FILE,
                    format!("field `{}` is declared twice", spec.name),
                ));
            }
            for query_name in &spec.query_names {
                if query_name.to_ascii_lowercase() != *query_name {
                    return Err(invalid(
                        FILE,
                        format!("query name `{query_name}` must be lowercase"),
                    ));
                }
                if !query_names.insert(query_name.as_str()) {
                    return Err(invalid(
                        FILE,
                        format!("query name `{query_name}` is used by two fields"),
                    ));
                }
            }
            validate_spec(spec)?;
        }
        for (name, kind) in REQUIRED {
            match self.get(name) {
                Some(spec) if spec.kind == kind => {}
                Some(_) => {
                    return Err(invalid(
                        FILE,
                        format!("field `{name}` must have type {kind:?}").to_lowercase(),
                    ));
                }
                None => return Err(invalid(FILE, format!("required field `{name}` is missing"))),
            }
        }
        let dates: Vec<&str> = self
            .specs
            .iter()
            .filter(|spec| spec.kind == FieldKind::Datetime)
            .map(|spec| spec.name.as_str())
            .collect();
        if dates.len() != 1 {
            return Err(invalid(
                FILE,
                format!(
                    "declare exactly one datetime field, the publication date (found {})",
                    if dates.is_empty() {
                        "none".to_owned()
                    } else {
                        dates.join(", ")
                    }
                ),
            ));
        }
        Ok(())
    }
}

fn validate_spec(spec: &FieldSpec) -> Result<(), SchemaError> {
    let name = &spec.name;
    if !spec.query_names.is_empty() && !matches!(spec.kind, FieldKind::Keyword | FieldKind::Facet) {
        return Err(invalid(
            FILE,
            format!(
                "field `{name}`: only keyword and facet fields take `query_names` \
                 (text fields are queried by their own name, `title:word`)"
            ),
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(invalid(
            FILE,
            format!("field name `{name}` must be lowercase letters, digits and underscores"),
        ));
    }
    if name.ends_with("_key") {
        return Err(invalid(
            FILE,
            format!("field name `{name}`: the suffix `_key` is reserved for facet counts"),
        ));
    }
    if spec.salient_only && spec.dictionary != Some(DictionaryName::Countries) {
        return Err(invalid(
            FILE,
            format!("field `{name}`: only a countries facet takes `salient_only`"),
        ));
    }
    if let Some(DictionaryName::Added(dictionary)) = &spec.dictionary {
        let valid = !dictionary.is_empty()
            && dictionary
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !valid || RESERVED_FILES.contains(&dictionary.as_str()) {
            return Err(invalid(
                FILE,
                format!(
                    "field `{name}`: `{dictionary}` cannot name a dictionary file: use lowercase \
                     letters, digits, `-` or `_`, and none of {}",
                    RESERVED_FILES.join(", ")
                ),
            ));
        }
    }
    match (spec.kind, &spec.dictionary) {
        (FieldKind::Facet, None) => Err(invalid(
            FILE,
            format!("facet field `{name}` needs a `dictionary`"),
        )),
        (FieldKind::Facet, Some(_)) => Ok(()),
        (_, Some(_)) => Err(invalid(
            FILE,
            format!("field `{name}`: only facet fields take a `dictionary`"),
        )),
        (FieldKind::Text, None) => Ok(()),
        (_, None) if spec.search_boost.is_some() => Err(invalid(
            FILE,
            format!("field `{name}`: only text fields take a `search_boost`"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_unknown_keys() {
        let error = Fields::parse("[[field]]\nname = \"id\"\ntype = \"keyword\"\nstorred = true\n")
            .unwrap_err();
        assert!(error.to_string().contains("storred"), "{error}");
    }

    #[test]
    fn requires_core_fields() {
        let error = Fields::parse("[[field]]\nname = \"id\"\ntype = \"keyword\"\n").unwrap_err();
        assert!(error.to_string().contains("`title` is missing"), "{error}");
    }

    #[test]
    fn facet_needs_dictionary() {
        let error = validate_spec(&FieldSpec {
            name: "country".into(),
            kind: FieldKind::Facet,
            stored: false,
            fast: false,
            search_boost: None,
            dictionary: None,
            salient_only: false,
            query_names: vec![],
        })
        .unwrap_err();
        assert!(error.to_string().contains("needs a `dictionary`"));
    }

    #[test]
    fn only_countries_can_be_salient_only() {
        let error = Fields::parse(
            "[[field]]\nname = \"about_topic\"\ntype = \"facet\"\ndictionary = \"topics\"\n\
             salient_only = true\n",
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("only a countries facet"),
            "{error}"
        );
    }
}
