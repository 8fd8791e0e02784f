//! geonews's own analysis for engines that cannot run it (Quickwit has no stemmer): the
//! English analyzer's words with their positions, and snippets over analysed query words, the
//! same as the local index's.

use tantivy::tokenizer::TextAnalyzer;

use super::layout::english_analyzer;
use super::search::{SNIPPET_CHARS, lead_snippet};
use super::snippet::Snippets;
use crate::results::Snippet;

/// Stands for a word the analyzer dropped (one of 48 bytes or more) in [`spaced_words`], so
/// that the words after it keep their positions. No query word analyses to it.
pub const GAP: &str = "_";

/// The English analyzer (lowercase, accents folded, stemmed), for text outside a local index.
#[derive(Clone)]
pub struct EnglishWords {
    analyzer: TextAnalyzer,
}

impl Default for EnglishWords {
    fn default() -> Self {
        EnglishWords {
            analyzer: english_analyzer(),
        }
    }
}

impl EnglishWords {
    /// Each analysed word of `text` with its position.
    pub fn words(&mut self, text: &str) -> Vec<(usize, String)> {
        let mut stream = self.analyzer.token_stream(text);
        let mut words = Vec::new();
        while stream.advance() {
            let token = stream.token();
            words.push((token.position, token.text.clone()));
        }
        words
    }

    /// The analysed words of `text` separated by single spaces, a [`GAP`] where a word was
    /// dropped: split at spaces, they are the local index's words at the same positions.
    pub fn spaced_words(&mut self, text: &str) -> String {
        let mut spaced = String::with_capacity(text.len());
        let mut stream = self.analyzer.token_stream(text);
        let mut next_position = 0;
        while stream.advance() {
            let token = stream.token();
            for _ in next_position..token.position {
                spaced.push_str(GAP);
                spaced.push(' ');
            }
            spaced.push_str(&token.text);
            spaced.push(' ');
            next_position = token.position + 1;
        }
        spaced.pop();
        spaced
    }
}

/// The passage of `body` where `words` (analysed) are densest, marked; else the opening of
/// `summary` or `body`, as a local index's hit has it.
pub fn snippet_of(
    words: &[String],
    body: &str,
    summary: Option<&str>,
    max_bytes: Option<usize>,
) -> Snippet {
    Snippets::for_terms(
        words.iter().cloned(),
        english_analyzer(),
        max_bytes.unwrap_or(SNIPPET_CHARS),
    )
    .snippet(body)
    .unwrap_or_else(|| lead_snippet(summary.unwrap_or(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaced_words_keep_positions_across_dropped_words() {
        let long = "x".repeat(60);
        let mut words = EnglishWords::default();
        let spaced = words.spaced_words(&format!("Sanctions {long} on Türkiye"));
        assert_eq!(spaced, "sanction _ on turkiy");
        let positions: Vec<usize> = words
            .words(&format!("Sanctions {long} on Türkiye"))
            .into_iter()
            .map(|(position, _)| position)
            .collect();
        assert_eq!(positions, [0, 2, 3]);
    }

    #[test]
    fn snippets_mark_the_analysed_words() {
        let body = "Talks stalled. New sanctions were announced against the regime today.";
        let snippet = snippet_of(&["sanction".to_owned()], body, None, None);
        let marked: Vec<&str> = snippet
            .highlights
            .iter()
            .map(|&(start, end)| &snippet.text[start..end])
            .collect();
        assert_eq!(marked, ["sanctions"]);
    }
}
