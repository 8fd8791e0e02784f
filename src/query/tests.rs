use std::sync::OnceLock;

use super::*;
use chrono::{DateTime, Utc};

use crate::query::ast::TextMatch;
use crate::schema::Schema;

fn schema() -> &'static (Schema, Catalogs) {
    static SCHEMA: OnceLock<(Schema, Catalogs)> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let schema = Schema::builtin().unwrap();
        let catalogs = Catalogs::build(&schema.dictionaries);
        (schema, catalogs)
    })
}

fn resolve(query: &str) -> Result<Query, QueryError> {
    let (schema, catalogs) = schema();
    Resolver::new(&schema.fields, catalogs).parse(query)
}

fn error(query: &str) -> String {
    resolve(query).unwrap_err().to_string()
}

#[test]
fn facet_aliases_resolve_to_the_same_query() {
    let expected = resolve("country:NorthKorea").unwrap();
    for query in [
        "country:DPRK",
        "country:\"North Korea\"",
        "country:north-korea",
        "country:KP",
    ] {
        assert_eq!(resolve(query).unwrap(), expected, "{query}");
    }
    let Query::Facet { field, key, path } = expected else {
        panic!()
    };
    assert_eq!((field.as_str(), key.as_str()), ("country", "NorthKorea"));
    assert_eq!(path, ["Asia", "EastAsia", "NorthKorea"]);
}

#[test]
fn keyword_fields_normalize() {
    assert_eq!(
        resolve("source:\"Sample Times\"").unwrap(),
        Query::Keyword {
            field: "source".into(),
            value: "sampletimes".into()
        }
    );
}

#[test]
fn text_fields_scope_free_text() {
    assert_eq!(
        resolve("title:mines").unwrap(),
        Query::Text {
            text: "mines".into(),
            matching: TextMatch::Words,
            field: Some("title".into())
        }
    );
}

#[test]
fn date_filters() {
    let Query::Published(range) = resolve("date:2024-01..2024-03").unwrap() else {
        panic!()
    };
    assert_eq!(
        range.start.unwrap().to_rfc3339(),
        "2024-01-01T00:00:00+00:00"
    );
    assert_eq!(range.end.unwrap().to_rfc3339(), "2024-04-01T00:00:00+00:00");
    let Query::Published(range) = resolve("before:2025-06").unwrap() else {
        panic!()
    };
    assert_eq!(
        (range.start, range.end.unwrap().to_rfc3339().as_str()),
        (None, "2025-06-01T00:00:00+00:00")
    );
}

#[test]
fn empty_query_matches_everything() {
    assert_eq!(resolve("").unwrap(), Query::All);
}

const QUERY_LANGUAGE_DOC: &str = include_str!("../../docs/query-language.md");

/// The queries in the first column of the doc's tables headed `| Query |`, and in its
/// `geonews search '...'` examples.
pub(crate) fn documented_queries() -> Vec<&'static str> {
    let mut queries = Vec::new();
    let mut in_query_table = false;
    for line in QUERY_LANGUAGE_DOC.lines() {
        if let Some(command) = line.strip_prefix("geonews search '") {
            queries.push(command.strip_suffix('\'').expect("one quoted query"));
        }
        if line.starts_with("| Query |") {
            in_query_table = true;
        } else if !line.starts_with('|') {
            in_query_table = false;
        } else if in_query_table && !line.starts_with("| ---") {
            let cell = line["| ".len()..]
                .split(" | ")
                .next()
                .expect("a first cell");
            let query = cell.strip_prefix('`').and_then(|c| c.strip_suffix('`'));
            queries.push(query.unwrap_or_else(|| panic!("not a `query`: {line}")));
        }
    }
    queries
}

/// The doc's error examples: blocks whose first line starts with `error:`.
fn documented_errors() -> Vec<String> {
    QUERY_LANGUAGE_DOC
        .split("```text\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .filter(|block| block.starts_with("error: "))
        .map(|block| block.trim_end().to_owned())
        .collect()
}

/// The instant relative dates count back from in the doc's examples.
fn doc_now() -> DateTime<Utc> {
    "2026-03-31T15:30:00Z".parse().unwrap()
}

fn resolve_at_doc_now(query: &str) -> Result<Query, QueryError> {
    let (schema, catalogs) = schema();
    Resolver::new(&schema.fields, catalogs)
        .at(doc_now())
        .parse(query)
}

/// A resolved query as an s-expression, for snapshots that a reviewer can read.
fn sexpr(query: &Query) -> String {
    let all = |name: &str, queries: &[Query]| {
        let parts: Vec<String> = queries.iter().map(sexpr).collect();
        format!("({name} {})", parts.join(" "))
    };
    match query {
        Query::All => "all".to_owned(),
        Query::Text {
            text,
            matching,
            field,
        } => {
            let field = field.as_deref().unwrap_or("text");
            let how = match matching {
                TextMatch::Words => String::new(),
                TextMatch::Phrase { slop } => format!(" phrase~{slop}"),
                TextMatch::Fuzzy { distance } => format!(" fuzzy~{distance}"),
                TextMatch::Prefix => " prefix".to_owned(),
            };
            format!("({field} {text:?}{how})")
        }
        Query::Facet { field, path, .. } => format!("({field} /{})", path.join("/")),
        Query::Keyword { field, value } => format!("({field} {value:?})"),
        Query::Published(range) => {
            let end =
                |date: Option<DateTime<Utc>>| date.map(|d| d.to_rfc3339()).unwrap_or_default();
            format!("(published {}..{})", end(range.start), end(range.end))
        }
        Query::IndexedWithin { after, through } => format!("(indexed {after}..{through}]"),
        Query::Not { query } => format!("(not {})", sexpr(query)),
        Query::And { queries } => all("and", queries),
        Query::Or { queries } => all("or", queries),
    }
}

#[test]
fn every_documented_query_resolves_as_snapshotted() {
    let queries = documented_queries();
    assert!(queries.len() >= 50, "found only {} examples", queries.len());
    let resolved: Vec<String> = queries
        .iter()
        .map(|query| match resolve_at_doc_now(query) {
            Ok(resolved) => format!("{query}\n    {}", sexpr(&resolved)),
            Err(error) => panic!("documented query fails:\n{error}"),
        })
        .collect();
    insta::assert_snapshot!(resolved.join("\n"));
}

#[test]
fn documented_errors_are_printed_as_shown() {
    let errors = documented_errors();
    assert!(
        errors.len() >= 5,
        "found only {} error examples",
        errors.len()
    );
    for documented in errors {
        let query = documented
            .lines()
            .nth(1)
            .expect("the query line")
            .trim_start();
        let printed = format!("error: {}", resolve_at_doc_now(query).unwrap_err());
        assert_eq!(printed, documented);
    }
}

mod never_panics {
    use proptest::prelude::*;

    use super::*;

    /// Pieces of the grammar, glued at random into query lines far nastier than typos.
    fn query_soup() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "country:",
            "title:",
            "date:",
            "after:",
            "topic:",
            "lang:",
            "contry:",
            "(",
            ")",
            "\"",
            "\\",
            "-",
            "+",
            "OR",
            "AND",
            "NOT",
            "~",
            "~2",
            "~9",
            "*",
            ",",
            "..",
            ":",
            " ",
            " ",
            "Russia",
            "sanctions",
            "2024-01",
            "last-3d",
            "Türkiye",
            "ü",
            "x",
            "0",
        ]);
        prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
    }

    fn check(query: &str) {
        if let Err(error) = resolve(query) {
            let columns = query.chars().count() + 1;
            assert!(
                (1..=columns).contains(&error.column),
                "{query:?}: {error:?}"
            );
            assert!(error.width >= 1, "{query:?}: {error:?}");
            assert!(!error.to_string().is_empty());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        #[test]
        fn on_any_text(query in "\\PC{0,40}") {
            check(&query);
        }

        #[test]
        fn on_grammar_soup(query in query_soup()) {
            check(&query);
        }
    }
}

/// Every message the parser and resolver can give, each with its caret.
#[test]
fn every_error_message() {
    let queries: [&str; 33] = [
        "country: Russia",
        "\"land mines",
        "\"mine clearance\"~",
        "\"mine clearance\"~3x",
        "sanctions)",
        "sanctions AND",
        "sanctions OR",
        "sanctions -(",
        "(sanctions NOT)",
        "()",
        "(sanctions",
        "OR sanctions",
        "country:)",
        "country:Russia,,Ukraine",
        "country:(Russia topic:sanctions)",
        "*",
        "sanctions~3",
        "landmines country:\"Nort Korea\" topic:sanctions",
        "topic:sanktions",
        "contry:Ukraine",
        "country:Russia*",
        "topic:sanctions~",
        "source:\"Sample Times\"~2",
        "date:last-tuesday",
        "date:..",
        "date:2024-05..2024-01",
        "after:1600",
        "date:\"20x4..2024\"",
        "(sanctions OR embargo country:Iran",
        &format!("{}a{}", "(".repeat(70), ")".repeat(70)),
        "country:-Russia",
        "country:\"North Korea\",Ukraine",
        "date:last-0d",
    ];
    let errors: Vec<String> = queries
        .iter()
        .map(|query| format!("error: {}", error(query)))
        .collect();
    insta::assert_snapshot!(errors.join("\n\n"));
}

#[test]
fn nested_groups_flatten_so_multi_select_finds_their_filters() {
    for query in [
        "sanctions country:Russia",
        "sanctions (country:Russia embargo)",
        "sanctions AND (embargo AND country:Russia)",
    ] {
        let without = resolve(query).unwrap().without_filters_on("country");
        assert!(without.is_some(), "{query}");
        assert!(!format!("{without:?}").contains("country"), "{query}");
    }
    assert_eq!(
        resolve("sanctions").unwrap().without_filters_on("country"),
        None
    );
    assert_eq!(
        resolve("country:(Russia OR Ukraine)")
            .unwrap()
            .without_filters_on("country"),
        Some(Query::All)
    );
}

#[test]
fn people_outside_the_dictionary_are_found_by_their_name() {
    let Query::Facet { key, path, .. } = resolve("person:\"Arvid Kallastu\"").unwrap() else {
        panic!()
    };
    assert_eq!(
        (key.as_str(), path),
        ("ArvidKallastu", vec!["ArvidKallastu".to_owned()])
    );
    assert!(resolve("person:\"!!\"").is_err());
    let typo = resolve("person:Putn").unwrap_err();
    assert_eq!(typo.suggestions[0], "VladimirPutin");
}

#[test]
fn costly_queries_are_refused_at_the_term_over_the_limit() {
    let fuzzy: Vec<String> = (0..17).map(|n| format!("word{n}~")).collect();
    let query = fuzzy.join(" OR ");
    let message = error(&query);
    assert!(message.contains("16 fuzzy words"), "{message}");
    let refused = resolve(&query).unwrap_err();
    assert_eq!(refused.column, query.find("word16~").unwrap() + 1);

    let words: Vec<String> = (0..300).map(|n| format!("w{n}")).collect();
    let message = error(&words.join(" OR "));
    assert!(message.contains("256 words and phrases"), "{message}");
    assert!(resolve(&words[..256].join(" OR ")).is_ok());
}
