//! What every engine's document mapper derives from an analysed article beside its text: the
//! values of each facet field, and the hashes that tell whether an article changed.

use crate::article::Article;
use crate::extract::Entities;
use crate::hash::Fnv64;
use crate::schema::{FieldSpec, Schema};

/// One facet field's values for one article: each key with its path in the dictionary's tree.
pub struct FacetValues<'a> {
    pub field: &'a FieldSpec,
    pub values: Vec<(&'a str, Vec<String>)>,
}

/// The facet values of an article and its hashes.
pub struct DocumentFacts<'a> {
    pub facets: Vec<FacetValues<'a>>,
    /// Changes with the article or the dictionaries: the document must be written again.
    pub content_hash: u64,
    /// Changes with what a reader sees, the text and the facet values it is found under: the
    /// article is news again (saved searches).
    pub news_hash: u64,
}

impl<'a> DocumentFacts<'a> {
    pub fn of(article: &Article, entities: &'a Entities, schema: &'a Schema) -> DocumentFacts<'a> {
        let article_hash = article.content_hash();
        let catalogs = schema.catalogs();
        let mut news = Fnv64::new();
        news.write(&article_hash.to_le_bytes());
        let facets = schema
            .fields
            .facets()
            .map(|field| {
                news.write_field(&field.name);
                let values = entities.facet_values(field, catalogs);
                for (key, _) in &values {
                    news.write_field(key);
                }
                FacetValues { field, values }
            })
            .collect();
        DocumentFacts {
            facets,
            content_hash: article_hash ^ schema.dictionary_fingerprint,
            news_hash: news.finish(),
        }
    }
}
