use std::sync::OnceLock;

use super::*;
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

#[test]
fn error_unknown_country() {
    insta::assert_snapshot!(error("landmines country:\"Nort Korea\" topic:sanctions"));
}

#[test]
fn error_unknown_topic() {
    insta::assert_snapshot!(error("topic:sanktions"));
}

#[test]
fn error_unknown_field() {
    insta::assert_snapshot!(error("mines contry:Ukraine"));
}

#[test]
fn error_bad_date() {
    insta::assert_snapshot!(error("after:last-tuesday"));
}

#[test]
fn error_empty_date_range() {
    insta::assert_snapshot!(error("date:2024-05..2024-01"));
}

#[test]
fn error_unclosed_parenthesis() {
    insta::assert_snapshot!(error("(sanctions OR embargo country:Iran"));
}

#[test]
fn error_unclosed_quote() {
    insta::assert_snapshot!(error("\"land mines country:Ukraine"));
}

#[test]
fn error_dangling_or() {
    insta::assert_snapshot!(error("sanctions OR"));
}

#[test]
fn error_open_date_range() {
    insta::assert_snapshot!(error("date:.."));
}

#[test]
fn error_quoted_date_points_inside_the_quotes() {
    insta::assert_snapshot!(error("date:\"20x4..2024\""));
}

#[test]
fn error_out_of_range_year() {
    insta::assert_snapshot!(error("after:1600"));
}
