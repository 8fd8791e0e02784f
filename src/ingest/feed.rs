//! News feeds (RSS 2.0, RSS 1.0/RDF, Atom), read with `feed-rs`: each item an article. An
//! item's HTML content goes through the same main-text path as a web page.

use std::io::Read;

use feed_rs::model::{Entry, Feed, Text};
use serde_json::{Map, Value};

use super::html::fragment_text;
use super::record::{Markup, RawRecord};
use super::{Item, Problem};
use crate::article::Origin;

/// The root elements of the feeds geonews reads, by local name.
const FEED_ROOTS: [&str; 3] = ["rss", "feed", "RDF"];

/// Whether an XML document's first element names a feed; `Err` with the element found when
/// it does not, or when there is no element.
pub(super) fn check_feed_root(head: &str) -> Result<(), String> {
    let root = root_element(head).ok_or("not XML: no root element")?;
    let local = root.rsplit(':').next().unwrap_or(root);
    if FEED_ROOTS.contains(&local) {
        Ok(())
    } else {
        Err(format!(
            "not a news feed: the root element is <{root}>, not <rss>, <feed> or <rdf:RDF>"
        ))
    }
}

/// The name of the first element, past the XML declaration, comments, processing
/// instructions and a doctype.
fn root_element(text: &str) -> Option<&str> {
    let mut rest = text.trim_start_matches('\u{feff}');
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = &after[after.find("-->")? + 3..];
        } else if rest.starts_with("<?") || rest.starts_with("<!") {
            rest = &rest[rest.find('>')? + 1..];
        } else if let Some(after) = rest.strip_prefix('<') {
            let end = after.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
            return Some(&after[..end]);
        } else {
            return None;
        }
    }
}

/// Every item of the feed in `input` as a record, handed to `emit`.
pub(super) fn read_feed(
    input: impl Read,
    origin: &Origin,
    emit: super::formats::Emit<'_>,
) -> std::io::Result<()> {
    let feed = match feed_rs::parser::parse(input) {
        Ok(feed) => feed,
        Err(error) => {
            let problem = Problem::skipped(origin.clone(), format!("unreadable feed: {error}"));
            let _ = emit(Item::Problem(problem));
            return Ok(());
        }
    };
    if feed.entries.is_empty() {
        let _ = emit(Item::Problem(Problem::skipped(
            origin.clone(),
            "feed has no items",
        )));
        return Ok(());
    }
    let site = feed_site_name(&feed);
    for (number, entry) in (1..).zip(feed.entries) {
        let record = item_record(entry, site.as_deref());
        let origin = origin.at_part("feed item", number);
        if emit(Item::Record { origin, record }).is_break() {
            break;
        }
    }
    Ok(())
}

fn feed_site_name(feed: &Feed) -> Option<String> {
    feed.title
        .as_ref()
        .map(plain_text)
        .filter(|title| !title.is_empty())
}

/// An item's fields by the names records use; its HTML content becomes the body when the
/// record is mapped.
fn item_record(entry: Entry, site: Option<&str>) -> RawRecord {
    let mut fields = Map::new();
    let mut put = |name: &str, value: Option<String>| {
        if let Some(value) = value.filter(|value| !value.trim().is_empty()) {
            fields.insert(name.to_owned(), Value::String(value));
        }
    };
    let link = entry
        .links
        .iter()
        .find(|link| link.rel.as_deref().is_none_or(|rel| rel == "alternate"))
        .map(|link| link.href.clone());
    put("id", Some(entry.id.clone()));
    put("url", link);
    put("title", entry.title.as_ref().map(plain_text));
    put(
        "published",
        entry
            .published
            .or(entry.updated)
            .map(|date| date.to_rfc3339()),
    );
    put(
        "author",
        Some(
            entry
                .authors
                .iter()
                .filter_map(|person| person.name.clone())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    );
    put("source", site.map(str::to_owned));
    put("language", entry.language.clone());
    let categories: Vec<String> = entry
        .categories
        .iter()
        .map(|category| category.label.clone().unwrap_or(category.term.clone()))
        .collect();
    put("tags", Some(categories.join(", ")));
    let summary = entry.summary.as_ref().map(plain_text);
    let content = entry.content.and_then(|content| content.body);
    let markup = match content {
        Some(html) if !html.trim().is_empty() => {
            put("summary", summary);
            Some(Markup::Fragment(html))
        }
        // The description is all the item has: it is the body.
        _ => {
            put("body", summary);
            None
        }
    };
    RawRecord { fields, markup }
}

/// A feed text as plain text: HTML (escaped or not) reduced to its words.
fn plain_text(text: &Text) -> String {
    let content = text.content.trim();
    let is_html = text.content_type.essence().to_string().contains("html")
        || (content.contains('<') && content.contains('>'));
    if is_html {
        fragment_text(content)
    } else {
        content.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;
    use std::path::Path;
    use std::sync::Arc;

    use super::*;

    fn records(xml: &str) -> (Vec<RawRecord>, Vec<String>) {
        let origin = Origin::file(Arc::from(Path::new("f.rss")));
        let (mut records, mut problems) = (Vec::new(), Vec::new());
        read_feed(xml.as_bytes(), &origin, &mut |item| {
            match item {
                Item::Record { record, origin } => {
                    assert_eq!(origin.part, Some(("feed item", records.len() as u64 + 1)));
                    records.push(record);
                }
                Item::Problem(problem) => problems.push(problem.to_string()),
            }
            ControlFlow::Continue(())
        })
        .unwrap();
        (records, problems)
    }

    #[test]
    fn rss_items_become_records_with_content_as_markup() {
        let xml = r#"<?xml version="1.0"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>World Desk</title><link>https://desk.example/</link>
<item><guid isPermaLink="false">desk-1</guid><link>https://desk.example/a</link>
<title>Envoys meet</title><pubDate>Tue, 04 Feb 2025 10:00:00 GMT</pubDate>
<dc:creator>A. Writer</dc:creator><category>Diplomacy</category>
<description>&lt;p&gt;Short &lt;b&gt;summary&lt;/b&gt;.&lt;/p&gt;</description>
<content:encoded><![CDATA[<p>Full text of the story.</p>]]></content:encoded></item>
<item><title>Second</title><description>Only a description.</description></item>
</channel></rss>"#;
        let (records, problems) = records(xml);
        assert!(problems.is_empty(), "{problems:?}");
        let first = &records[0].fields;
        assert_eq!(first["id"], "desk-1");
        assert_eq!(first["url"], "https://desk.example/a");
        assert_eq!(first["title"], "Envoys meet");
        assert_eq!(first["published"], "2025-02-04T10:00:00+00:00");
        assert_eq!(first["author"], "A. Writer");
        assert_eq!(first["source"], "World Desk");
        assert_eq!(first["tags"], "Diplomacy");
        assert!(
            matches!(&records[0].markup, Some(Markup::Fragment(html)) if html.contains("Full text"))
        );
        assert!(records[1].markup.is_none());
        assert_eq!(records[1].fields["body"], "Only a description.");
    }

    #[test]
    fn atom_entries_become_records() {
        let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>Analysis</title>
<id>tag:a.example,2025:feed</id><updated>2025-03-01T00:00:00Z</updated>
<entry><id>tag:a.example,2025:1</id><title>Grain deal</title>
<link rel="alternate" href="https://a.example/1"/><updated>2025-03-01T00:00:00Z</updated>
<published>2025-02-28T09:30:00Z</published><author><name>B. Analyst</name></author>
<content type="html">&lt;p&gt;Ports reopened.&lt;/p&gt;</content></entry></feed>"#;
        let (records, _) = records(xml);
        let fields = &records[0].fields;
        assert_eq!(fields["id"], "tag:a.example,2025:1");
        assert_eq!(fields["published"], "2025-02-28T09:30:00+00:00");
        assert_eq!(fields["url"], "https://a.example/1");
    }

    #[test]
    fn not_a_feed_is_reported() {
        let (records, problems) = records("this is not xml at all");
        assert!(records.is_empty());
        assert!(
            problems[0].contains("skipped: unreadable feed"),
            "{problems:?}"
        );
    }

    #[test]
    fn roots_are_sniffed_past_declarations_and_comments() {
        let rdf = "<?xml version=\"1.0\"?>\n<!-- c --><rdf:RDF xmlns:rdf=\"x\">";
        assert_eq!(check_feed_root(rdf), Ok(()));
        assert_eq!(check_feed_root("<rss version=\"2.0\">"), Ok(()));
        assert_eq!(
            check_feed_root("<?xml version=\"1.0\"?><urlset>"),
            Err(
                "not a news feed: the root element is <urlset>, not <rss>, <feed> or <rdf:RDF>"
                    .to_owned()
            )
        );
        assert!(check_feed_root("plain").is_err());
    }
}
