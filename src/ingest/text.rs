//! Plain text and Markdown articles, with optional YAML (`---`) or TOML (`+++`) front matter.

use serde_json::{Map, Value};

use super::record::RawRecord;

const TITLE_MAX_CHARS: usize = 160;

/// Front matter that cannot be read, with the line of the file where the problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontMatterError {
    pub line: u64,
    pub message: String,
}

/// Splits front matter from the text and turns the rest into title and body.
pub fn parse_text_article(text: &str) -> Result<RawRecord, FrontMatterError> {
    let (mut fields, content) = split_front_matter(text)?;
    let has_title = ["title", "headline"]
        .iter()
        .any(|name| fields.contains_key(*name));
    let content = content.trim();
    let body = if has_title {
        content.to_owned()
    } else {
        let (title, body) = split_title_line(content);
        if let Some(title) = title {
            fields.insert("title".into(), Value::String(title));
        }
        body.to_owned()
    };
    fields.insert("body".into(), Value::String(body));
    Ok(RawRecord::from_fields(fields))
}

/// A front matter parser: the value, or the line within the front matter and a message.
type FrontMatterParser = fn(&str) -> Result<Value, (u64, String)>;

/// Front matter holds a few fields: past this size or nesting it is not parsed (YAML parsers
/// take quadratic time on deeply nested input).
const MAX_FRONT_MATTER_BYTES: usize = 64 * 1024;
const MAX_FRONT_MATTER_DEPTH: usize = 32;

fn split_front_matter(text: &str) -> Result<(Map<String, Value>, &str), FrontMatterError> {
    for (fence, parse) in [
        ("---", parse_yaml as FrontMatterParser),
        ("+++", parse_toml),
    ] {
        let Some(rest) = text.strip_prefix(fence).and_then(strip_line_end) else {
            continue;
        };
        let Some((front, content)) = split_at_fence(rest, fence) else {
            return Err(FrontMatterError {
                line: 1,
                message: format!("front matter opened with `{fence}` is never closed"),
            });
        };
        check_front_matter_size(front)?;
        // Lines of the front matter are counted from the opening fence, line 1 of the file.
        let value = parse(front).map_err(|(line, message)| FrontMatterError {
            line: line + 1,
            message,
        })?;
        return match value {
            Value::Object(fields) => Ok((fields, content)),
            Value::Null => Ok((Map::new(), content)),
            _ => Err(FrontMatterError {
                line: 1,
                message: "front matter is not a table of fields".to_owned(),
            }),
        };
    }
    Ok((Map::new(), text))
}

fn check_front_matter_size(front: &str) -> Result<(), FrontMatterError> {
    let too_large = |message: String| Err(FrontMatterError { line: 1, message });
    if front.len() > MAX_FRONT_MATTER_BYTES {
        return too_large(format!(
            "front matter of {} KB; more than {} KB is not read",
            front.len() / 1024,
            MAX_FRONT_MATTER_BYTES / 1024
        ));
    }
    if nesting_depth(front) > MAX_FRONT_MATTER_DEPTH {
        return too_large(format!(
            "front matter nested more than {MAX_FRONT_MATTER_DEPTH} levels deep is not read"
        ));
    }
    Ok(())
}

/// The deepest nesting of brackets and braces, or of indentation (two spaces a level), in
/// YAML or TOML text, counted without parsing it.
fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for line in text.lines() {
        let indent = line.len() - line.trim_start_matches([' ', '-']).len();
        deepest = deepest.max(indent / 2);
        for byte in line.bytes() {
            match byte {
                b'[' | b'{' => {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    deepest
}

fn strip_line_end(text: &str) -> Option<&str> {
    text.strip_prefix("\r\n")
        .or_else(|| text.strip_prefix('\n'))
}

/// Finds a line holding only `fence`; returns what is before it and what is after it.
fn split_at_fence<'a>(text: &'a str, fence: &str) -> Option<(&'a str, &'a str)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == fence {
            return Some((&text[..offset], &text[offset + line.len()..]));
        }
        offset += line.len();
    }
    None
}

fn parse_yaml(text: &str) -> Result<Value, (u64, String)> {
    serde_yaml_ng::from_str(text).map_err(|error| {
        let line = error
            .location()
            .map_or(1, |location| location.line() as u64);
        (line, format!("YAML front matter: {error}"))
    })
}

fn parse_toml(text: &str) -> Result<Value, (u64, String)> {
    let table: toml::Table = toml::from_str(text).map_err(|error| {
        let line = error.span().map_or(1, |span| {
            text[..span.start].matches('\n').count() as u64 + 1
        });
        (line, format!("TOML front matter: {}", error.message()))
    })?;
    Ok(toml_to_json(toml::Value::Table(table)))
}

/// TOML values as JSON, with TOML's native dates as their RFC 3339 text.
fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(text) => Value::String(text),
        toml::Value::Integer(number) => Value::from(number),
        toml::Value::Float(number) => Value::from(number),
        toml::Value::Boolean(flag) => Value::Bool(flag),
        toml::Value::Datetime(date) => Value::String(date.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(
            table
                .into_iter()
                .map(|(key, value)| (key, toml_to_json(value)))
                .collect(),
        ),
    }
}

/// The first line is the title when it reads as one: short, a line of its own, no closing period.
fn split_title_line(content: &str) -> (Option<String>, &str) {
    let Some((first, rest)) = content.split_once('\n') else {
        return (None, content);
    };
    let heading = first.trim().trim_start_matches('#').trim();
    let reads_as_title = !heading.is_empty()
        && heading.chars().count() <= TITLE_MAX_CHARS
        && (first.starts_with('#') || !heading.ends_with(['.', ',', ';', ':']))
        && !rest.trim().is_empty();
    if reads_as_title {
        (Some(heading.to_owned()), rest.trim_start())
    } else {
        (None, content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field<'a>(record: &'a RawRecord, name: &str) -> Option<&'a str> {
        record.fields.get(name).and_then(Value::as_str)
    }

    #[test]
    fn title_line_then_body() {
        let record =
            parse_text_article("Labour plans pay rise\n\nMaternity pay is to rise.\n").unwrap();
        assert_eq!(field(&record, "title"), Some("Labour plans pay rise"));
        assert_eq!(field(&record, "body"), Some("Maternity pay is to rise."));
    }

    #[test]
    fn paragraph_first_line_is_not_a_title() {
        let text = "North Korean leader Kim Jong-un has confirmed that troops are clearing mines, \
                    a development that alarmed Seoul.\nSecond paragraph.";
        let record = parse_text_article(text).unwrap();
        assert_eq!(field(&record, "title"), None);
        assert_eq!(field(&record, "body"), Some(text));
    }

    #[test]
    fn front_matter_too_large_or_deep_is_not_parsed() {
        let deep = format!(
            "---\nkey: {}1{}\n---\nBody.\n",
            "[".repeat(40),
            "]".repeat(40)
        );
        let error = parse_text_article(&deep).unwrap_err();
        assert!(
            error.message.contains("nested more than 32 levels"),
            "{}",
            error.message
        );
        let indented: String = (0..40)
            .map(|level| format!("{}k{level}:\n", "  ".repeat(level)))
            .collect();
        let error = parse_text_article(&format!("---\n{indented}---\nBody.\n")).unwrap_err();
        assert!(error.message.contains("nested"), "{}", error.message);
        let large = format!("---\nnote: {}\n---\nBody.\n", "x".repeat(70_000));
        let error = parse_text_article(&large).unwrap_err();
        assert!(
            error.message.contains("more than 64 KB"),
            "{}",
            error.message
        );
    }

    #[test]
    fn yaml_and_toml_front_matter() {
        let yaml = parse_text_article("---\ntitle: Hello\ndate: 2024-03-05\n---\nBody.\n").unwrap();
        assert_eq!(field(&yaml, "title"), Some("Hello"));
        assert_eq!(field(&yaml, "date"), Some("2024-03-05"));
        assert_eq!(field(&yaml, "body"), Some("Body."));
        let toml = parse_text_article(
            "+++\ntitle = \"Hi\"\ndate = 2025-08-05T10:00:00+12:00\n+++\n# Heading\n\nBody.\n",
        )
        .unwrap();
        assert_eq!(field(&toml, "title"), Some("Hi"));
        assert_eq!(field(&toml, "date"), Some("2025-08-05T10:00:00+12:00"));
        assert_eq!(field(&toml, "body"), Some("# Heading\n\nBody."));
    }

    #[test]
    fn markdown_heading_becomes_title() {
        let record = parse_text_article("# Summit ends\n\nLeaders left.").unwrap();
        assert_eq!(field(&record, "title"), Some("Summit ends"));
    }

    #[test]
    fn front_matter_errors_carry_the_line_of_the_file() {
        let error = parse_text_article("---\ntitle: x\nBody").unwrap_err();
        assert_eq!(error.line, 1);
        assert!(error.message.contains("never closed"), "{error:?}");
        let error = parse_text_article("+++\ntitle = \"x\"\ndate = \n+++\nBody").unwrap_err();
        assert_eq!(error.line, 3, "{error:?}");
        let error = parse_text_article("---\ntitle: x\n  bad: [\n---\nBody").unwrap_err();
        assert!(error.line >= 3, "{error:?}");
    }
}
