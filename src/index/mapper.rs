//! Both directions between an article and a tantivy document, in one place: what indexing
//! writes, and what reading a hit gets back.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tantivy::schema::{Facet, Value};
use tantivy::{DateTime as TantivyDate, TantivyDocument};

use super::IndexError;
use super::layout::{
    AUTHOR_FIELD, BODY_FIELD, CLUSTER_FIELD, ID_FIELD, LANGUAGE_FIELD, Layout, SOURCE_FIELD,
    SUMMARY_FIELD, TITLE_FIELD, URL_FIELD,
};
use crate::article::{Article, MODEL_FIELDS};
use crate::backend::{DocumentFacts, DocumentMapper};
use crate::dedup::Signature;
use crate::extract::Entities;
use crate::pipeline::Analysed;
use crate::results::StoredArticle;
use crate::schema::Schema;

/// An article ready for the index, with what deciding whether it changed takes.
pub struct PreparedDocument {
    pub key: String,
    /// Changes with the article or the dictionaries: the document must be written again.
    pub content_hash: u64,
    /// Changes with the article or its entities: the article is news again.
    pub news_hash: u64,
    /// The body's near-duplicate signature, when it is long enough to have one.
    pub signature: Option<Signature>,
    pub document: TantivyDocument,
}

/// Articles to documents and documents back to stored articles, for one index layout.
#[derive(Clone)]
pub struct DocMapper {
    layout: Arc<Layout>,
    schema: Arc<Schema>,
}

impl DocMapper {
    pub fn new(layout: Arc<Layout>, schema: Arc<Schema>) -> DocMapper {
        DocMapper { layout, schema }
    }

    /// The document for `article`: its own fields by name, the timestamp, a facet and a
    /// countable key per entity, and the entities themselves, stored for display.
    pub fn to_document(&self, article: &Article, entities: &Entities) -> PreparedDocument {
        let layout = &self.layout;
        let facts = DocumentFacts::of(article, entities, &self.schema);
        let mut document = TantivyDocument::new();
        for (field, name) in &layout.values {
            if let Some(value) = article.value_of(name).filter(|value| !value.is_empty()) {
                document.add_text(*field, value);
            }
        }
        if let Some(published) = article.published {
            document.add_date(
                layout.timestamp,
                TantivyDate::from_timestamp_secs(published.timestamp()),
            );
        }
        // Both come from fields.toml's facets, in its order.
        for (facet, values) in layout.facets.iter().zip(&facts.facets) {
            for (key, path) in &values.values {
                document.add_facet(facet.facet, Facet::from_path(path));
                document.add_text(facet.keys, key);
            }
        }
        let entities_json = serde_json::to_string(entities).expect("entities serialize");
        let (content_hash, news_hash) = (facts.content_hash, facts.news_hash);
        document.add_text(layout.entities, entities_json);
        document.add_u64(layout.content_hash, content_hash);
        document.add_u64(layout.news_hash, news_hash);
        PreparedDocument {
            key: article.key.clone(),
            content_hash,
            news_hash,
            signature: layout
                .cluster
                .and_then(|_| Signature::of(&article.body, article.published)),
            document,
        }
    }

    /// The article a document stores, with its entities.
    pub fn to_stored_article(
        &self,
        document: &TantivyDocument,
    ) -> Result<StoredArticle, IndexError> {
        let schema = &self.layout.schema;
        let text = |name: &str| {
            schema
                .get_field(name)
                .ok()
                .and_then(|field| document.get_first(field))
                .and_then(|value| value.as_str())
                .map(str::to_owned)
        };
        let entities: Entities = match document
            .get_first(self.layout.entities)
            .and_then(|value| value.as_str())
        {
            Some(json) => serde_json::from_str(json)
                .map_err(|error| IndexError::Corrupt(error.to_string()))?,
            None => Entities::default(),
        };
        // The values of the fields fields.toml adds beyond the article model (`tags`).
        let extra = self
            .layout
            .values
            .iter()
            .filter(|(_, name)| !MODEL_FIELDS.contains(&name.as_str()))
            .filter_map(|(field, name)| {
                let value = document.get_first(*field)?.as_str()?;
                Some((name.clone(), value.to_owned()))
            })
            .collect();
        let published = document
            .get_first(self.layout.timestamp)
            .and_then(|value| value.as_datetime())
            .and_then(|date| DateTime::<Utc>::from_timestamp(date.into_timestamp_secs(), 0));
        Ok(StoredArticle {
            id: text(ID_FIELD)
                .ok_or_else(|| IndexError::Corrupt("an article has no id".to_owned()))?,
            title: text(TITLE_FIELD).unwrap_or_default(),
            summary: text(SUMMARY_FIELD),
            body: text(BODY_FIELD).unwrap_or_default(),
            published,
            source: text(SOURCE_FIELD),
            url: text(URL_FIELD),
            author: text(AUTHOR_FIELD),
            language: text(LANGUAGE_FIELD),
            entities,
            cluster: text(CLUSTER_FIELD),
            extra,
        })
    }
}

impl DocumentMapper for DocMapper {
    type Document = PreparedDocument;

    fn document(&self, analysed: Analysed) -> PreparedDocument {
        self.to_document(&analysed.article, &analysed.entities)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Extractor;

    #[test]
    fn an_article_comes_back_as_it_went_in() {
        let schema = Arc::new(Schema::builtin().unwrap());
        let layout = Arc::new(Layout::build(&schema.fields));
        let mapper = DocMapper::new(layout, Arc::clone(&schema));
        let article = Article {
            key: "a-1".into(),
            title: "Sanctions on North Korea".into(),
            title_is_derived: false,
            summary: Some("New measures".into()),
            body: "Pyongyang answered the sanctions with a missile test.".into(),
            published: DateTime::from_timestamp(1_700_000_000, 0),
            url: Some("https://example.org/a-1".into()),
            source: Some("Sample Times".into()),
            author: Some("A. Writer".into()),
            language: Some("en".into()),
            tagged: Default::default(),
            extra: [("tags".to_owned(), "Diplomacy, Asia".to_owned())].into(),
            gold: None,
        };
        let extractor = Extractor::new(&schema.dictionaries, &schema.places().unwrap()).unwrap();
        let (entities, _) = extractor.extract(&article);
        assert!(!entities.countries.is_empty());
        let prepared = mapper.to_document(&article, &entities);
        assert_eq!(prepared.key, "a-1");
        let stored = mapper.to_stored_article(&prepared.document).unwrap();
        assert_eq!(
            stored,
            StoredArticle {
                id: article.key,
                title: article.title,
                summary: article.summary,
                body: article.body,
                published: article.published,
                source: article.source,
                url: article.url,
                cluster: None,
                author: article.author,
                language: article.language,
                entities,
                extra: article.extra,
            }
        );
    }
}
