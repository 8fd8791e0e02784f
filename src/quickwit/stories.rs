//! Which story an article sent to Quickwit is a copy of: the most similar earlier article
//! sharing a band of its near-duplicate signature, among those of this run (kept in memory:
//! Quickwit finds them only once committed) and those the index held before it (found by
//! their bands, a batch at a time).

use rustc_hash::FxHashMap;

use crate::dedup::{BestCopy, Signature, consider_copy};

/// Earlier articles by band: each band to the last article written with it, as the local
/// index keeps them.
#[derive(Default)]
pub struct Stories {
    written: Vec<(Signature, String)>,
    bands: FxHashMap<u64, usize>,
}

impl Stories {
    /// Remembers an article written earlier with `signature`, in `cluster`.
    pub fn remember(&mut self, signature: Signature, cluster: String) {
        for band in signature.bands() {
            self.bands.insert(band, self.written.len());
        }
        self.written.push((signature, cluster));
    }

    /// The cluster of the article `key` with `signature`: that of its most similar copy in
    /// this run or among `held` (the index's), else its own key. The article is remembered.
    pub fn assign(&mut self, key: &str, signature: &Signature, held: &Stories) -> String {
        let mut best: BestCopy = None;
        for stories in [held, &*self] {
            for band in signature.bands() {
                if let Some(&position) = stories.bands.get(&band) {
                    let (other, cluster) = &stories.written[position];
                    consider_copy(&mut best, signature, other, || cluster.clone());
                }
            }
        }
        let cluster = best.map_or_else(|| key.to_owned(), |(_, cluster)| cluster);
        self.remember(signature.clone(), cluster.clone());
        cluster
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORY: &str = "The foreign ministers of the two countries met in Geneva on Tuesday \
        to discuss a ceasefire along the border, after weeks of shelling that killed 42 people \
        and forced 12,000 to flee their homes, officials said. The talks will resume next week \
        in Vienna, a spokesman for the mediators added, without giving details of the proposals \
        on the table or of the guarantees the two sides have asked for.";

    const OTHER: &str = "Farmers in the northern provinces began the wheat harvest early this \
        year after a dry spring, and the agriculture ministry expects yields to fall by a fifth, \
        raising the price of bread in the capital's markets, where queues formed on Monday. \
        Exporters said contracts signed in March would be honoured despite the shortfall, and \
        that shipments through the southern port would continue as planned this summer.";

    #[test]
    fn a_copy_joins_the_story_of_the_article_it_copies() {
        let first = Signature::of(STORY, None).unwrap();
        let copy = Signature::of(&format!("{STORY} Reporting by a wire."), None).unwrap();
        let other = Signature::of(OTHER, None).unwrap();
        let mut stories = Stories::default();
        let held = Stories::default();
        assert_eq!(stories.assign("a", &first, &held), "a");
        assert_eq!(stories.assign("b", &copy, &held), "a");
        assert_eq!(stories.assign("c", &other, &held), "c");
    }

    #[test]
    fn a_copy_of_an_article_the_index_held_joins_its_story() {
        let mut held = Stories::default();
        held.remember(Signature::of(STORY, None).unwrap(), "old".to_owned());
        let mut stories = Stories::default();
        let copy = Signature::of(&format!("{STORY} Reporting by a wire."), None).unwrap();
        assert_eq!(stories.assign("new", &copy, &held), "old");
    }
}
