//! The English analyzer's normalization: lowercase, accents folded, stemmed, remembered.
//!
//! Lowercasing, folding and stemming every token anew took a fifth of the CPU of indexing. News
//! text is Zipfian, so [`NormalizeAndStem`] remembers the normalized form of the words it meets
//! and computes the others with tantivy's own [`LowerCaser`], [`AsciiFoldingFilter`] and
//! [`Stemmer`]: its tokens are those of the three filters in a row by construction.
//!
//! The memo works like a CPU cache, because a `HashMap` of strings (its table, keys and values
//! in three places) missed the CPU's own caches so often while indexing that it saved little
//! over stemming: a word may only be in the one set of two its hash picks, a set is one cache
//! line holding both words with their normalized forms, and the stream reads a token ahead to
//! have the CPU fetch that token's set while tantivy indexes the current one.

use std::hash::BuildHasher;

use std::cell::RefCell;
use std::collections::HashMap;

use rustc_hash::FxBuildHasher;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, Stemmer, Token, TokenFilter,
    TokenStream, Tokenizer,
};

/// Sets in a memo's table, a power of two: 1 MiB, 32768 words.
const SETS: usize = 1 << 14;

/// Words an analyzer reads before its memo gets a table of its own, [`KNOWN_WORDS`] serving
/// it until then: a query or a snippet is analyzed by a fresh clone of the analyzer (tantivy
/// clones it for every snippet), for which a table would cost more than it saves.
const WORDS_BEFORE_TABLE: usize = 4000;

/// Words each thread's [`KNOWN_WORDS`] keeps (about 2 MB); past that, a new word is computed
/// every time.
const KNOWN_WORDS_PER_THREAD: usize = 1 << 14;

/// Raw token text → normalized form.
type WordMap = HashMap<Box<str>, Box<str>, FxBuildHasher>;

thread_local! {
    /// Normalized forms every analyzer of this thread shares before it has a table of its own:
    /// the words of news repeat, so after a few searches a snippet's words are all known here
    /// and none is stemmed again. Per thread, so no lock; bounded.
    static KNOWN_WORDS: RefCell<WordMap> =
        const { RefCell::new(HashMap::with_hasher(FxBuildHasher)) };
}

/// Replaces `text` with its normalized form when this thread knows it.
fn known_word(text: &mut String) -> bool {
    KNOWN_WORDS.with_borrow(|words| match words.get(text.as_str()) {
        Some(normalized) => {
            text.clear();
            text.push_str(normalized);
            true
        }
        None => false,
    })
}

fn learn_word(raw: &str, normalized: &str) {
    KNOWN_WORDS.with_borrow_mut(|words| {
        if words.len() < KNOWN_WORDS_PER_THREAD {
            words.insert(raw.into(), normalized.into());
        }
    });
}

/// `LowerCaser`, then `AsciiFoldingFilter`, then the English `Stemmer`, as one filter that
/// remembers the normalized form of each raw token text.
#[derive(Debug, Clone, Copy, Default)]
pub struct NormalizeAndStem;

impl TokenFilter for NormalizeAndStem {
    type Tokenizer<T: Tokenizer> = NormalizeAndStemFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> NormalizeAndStemFilter<T> {
        NormalizeAndStemFilter {
            inner: tokenizer,
            memo: Memo::new(),
        }
    }
}

/// The tokenizer [`NormalizeAndStem`] makes. Each clone has a memo of its own, so no locks:
/// tantivy clones the analyzer for every indexing thread and field. A clone starts empty.
pub struct NormalizeAndStemFilter<T> {
    inner: T,
    memo: Memo,
}

impl<T: Clone> Clone for NormalizeAndStemFilter<T> {
    fn clone(&self) -> Self {
        NormalizeAndStemFilter {
            inner: self.inner.clone(),
            memo: Memo::new(),
        }
    }
}

impl<T: Tokenizer> Tokenizer for NormalizeAndStemFilter<T> {
    type TokenStream<'a> = NormalizeAndStemStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        let mut tail = self.inner.token_stream(text);
        let next_hash = tail
            .advance()
            .then(|| self.memo.prefetch(&tail.token().text));
        NormalizeAndStemStream {
            tail,
            memo: &mut self.memo,
            token: Token::default(),
            next_hash,
        }
    }
}

/// Reads one token ahead, so that the CPU fetches its memo set while the current one is
/// indexed: the tail holds the next token, and this stream its own copy of the current one.
pub struct NormalizeAndStemStream<'a, S> {
    tail: S,
    memo: &'a mut Memo,
    token: Token,
    /// The hash of the token the tail holds, `None` when the tail has no more.
    next_hash: Option<u64>,
}

impl<S: TokenStream> TokenStream for NormalizeAndStemStream<'_, S> {
    fn advance(&mut self) -> bool {
        let Some(hash) = self.next_hash else {
            return false;
        };
        // The tail's own token stays there: SimpleTokenizer counts positions on it.
        let ahead = self.tail.token_mut();
        self.token.offset_from = ahead.offset_from;
        self.token.offset_to = ahead.offset_to;
        self.token.position = ahead.position;
        self.token.position_length = ahead.position_length;
        std::mem::swap(&mut self.token.text, &mut ahead.text);
        // The tail writes its next token into this buffer; do not count on it clearing first.
        ahead.text.clear();
        self.next_hash = self
            .tail
            .advance()
            .then(|| self.memo.prefetch(&self.tail.token().text));
        self.memo.normalize(&mut self.token.text, hash);
        true
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// Tantivy's three filters over a one-token tokenizer: computes what the memo lacks.
type Normalizer = <Stemmer as TokenFilter>::Tokenizer<
    <AsciiFoldingFilter as TokenFilter>::Tokenizer<
        <LowerCaser as TokenFilter>::Tokenizer<RawTokenizer>,
    >,
>;

/// Raw token texts and their normalized forms, in a table of [`Set`]s: a word may only be in
/// the set its hash picks, where it evicts the older of two words. Bounded, allocation-free
/// once the table is there, and a word found reads one cache line.
struct Memo {
    /// Empty until `read` reaches `words_before_table`.
    sets: Vec<Set>,
    /// [`SETS`] and [`WORDS_BEFORE_TABLE`], smaller in tests.
    table_sets: usize,
    words_before_table: usize,
    /// Words read before the table, served by [`KNOWN_WORDS`].
    read: usize,
    computed: usize,
    normalizer: Normalizer,
}

impl Memo {
    fn new() -> Memo {
        let normalizer = Stemmer::new(Language::English)
            .transform(AsciiFoldingFilter.transform(LowerCaser.transform(RawTokenizer::default())));
        Memo {
            sets: Vec::new(),
            table_sets: SETS,
            words_before_table: WORDS_BEFORE_TABLE,
            read: 0,
            computed: 0,
            normalizer,
        }
    }

    /// The hash of raw token text `raw`, after asking the CPU to fetch its set.
    fn prefetch(&self, raw: &str) -> u64 {
        let hash = FxBuildHasher.hash_one(raw);
        if let Some(set) = self.set(hash) {
            prefetch(set);
        }
        hash
    }

    fn set(&self, hash: u64) -> Option<&Set> {
        self.sets.get(self.index(hash))
    }

    fn index(&self, hash: u64) -> usize {
        // The table's length is a power of two, and FxHasher's low bits the well-mixed ones.
        hash as usize & self.sets.len().wrapping_sub(1)
    }

    /// Replaces raw token `text`, whose hash is `hash`, with its normalized form.
    fn normalize(&mut self, text: &mut String, hash: u64) {
        if let Some(normalized) = self.set(hash).and_then(|set| set.get(text)) {
            text.clear();
            text.push_str(normalized);
            return;
        }
        let before_table = self.sets.is_empty() && self.read < self.words_before_table;
        if before_table {
            self.read += 1;
            if known_word(text) {
                return;
            }
        }
        let normalized = self.compute(text);
        if before_table {
            learn_word(text, &normalized);
        }
        self.remember(hash, text, &normalized);
        *text = normalized;
    }

    /// The normalized form of `raw`, by tantivy's filters.
    fn compute(&mut self, raw: &str) -> String {
        self.computed += 1;
        let mut stream = self.normalizer.token_stream(raw);
        assert!(stream.advance(), "the raw tokenizer yields one token");
        std::mem::take(&mut stream.token_mut().text)
    }

    fn remember(&mut self, hash: u64, raw: &str, normalized: &str) {
        if self.sets.is_empty() {
            if self.read < self.words_before_table {
                return;
            }
            self.sets = vec![Set::EMPTY; self.table_sets];
        }
        if let Some(slot) = Slot::new(raw, normalized) {
            let index = self.index(hash);
            self.sets[index].insert(slot);
        }
    }
}

/// Asks the CPU to bring `set` into its caches, without waiting for it.
fn prefetch(set: &Set) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: every x86_64 CPU has SSE, and a prefetch only hints: it never faults.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(set).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = set;
}

/// Two words in one cache line, the one stored last first.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Set([Slot; 2]);

impl Set {
    const EMPTY: Set = Set([Slot::EMPTY; 2]);

    fn get(&self, raw: &str) -> Option<&str> {
        self.0.iter().find_map(|slot| slot.get(raw))
    }

    fn insert(&mut self, slot: Slot) {
        self.0 = [slot, self.0[0]];
    }
}

/// Bytes of the two texts in a slot.
const SLOT_BYTES: usize = 30;

/// A raw token text and its normalized form, one after the other. Words too long for it
/// together (from about 16 bytes: 0.01% of the tokens of the shared corpora) are never
/// remembered.
#[derive(Clone, Copy)]
#[repr(C)]
struct Slot {
    /// `u8::MAX` in an empty slot, which holds no text.
    raw_len: u8,
    normalized_len: u8,
    bytes: [u8; SLOT_BYTES],
}

impl Slot {
    const EMPTY: Slot = Slot {
        raw_len: u8::MAX,
        normalized_len: 0,
        bytes: [0; SLOT_BYTES],
    };

    fn new(raw: &str, normalized: &str) -> Option<Slot> {
        let end = raw.len() + normalized.len();
        if end > SLOT_BYTES {
            return None;
        }
        let mut slot = Slot {
            raw_len: u8::try_from(raw.len()).ok()?,
            normalized_len: u8::try_from(normalized.len()).ok()?,
            bytes: [0; SLOT_BYTES],
        };
        slot.bytes[..raw.len()].copy_from_slice(raw.as_bytes());
        slot.bytes[raw.len()..end].copy_from_slice(normalized.as_bytes());
        Some(slot)
    }

    /// The normalized form of `raw`, if this slot holds it.
    fn get(&self, raw: &str) -> Option<&str> {
        let (stored, rest) = self.bytes.split_at_checked(usize::from(self.raw_len))?;
        if stored != raw.as_bytes() {
            return None;
        }
        let normalized = &rest[..usize::from(self.normalized_len)];
        Some(std::str::from_utf8(normalized).expect("a slot holds the bytes of a str"))
    }
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;
    use std::path::Path;
    use std::time::Instant;

    use proptest::prelude::*;
    use tantivy::tokenizer::{RemoveLongFilter, SimpleTokenizer, TextAnalyzer};

    use super::*;
    use crate::index::layout::english_analyzer;
    use crate::ingest::{self, Item, RecordOutcome};

    /// The English analyzer as it was: tantivy's filters one after the other.
    fn stock_analyzer() -> TextAnalyzer {
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(48))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .filter(Stemmer::new(Language::English))
            .build()
    }

    /// The English analyzer unboxed, so that tests see its memo, with a table of `sets` from
    /// the first word.
    fn memoizing(sets: usize) -> NormalizeAndStemFilter<impl Tokenizer> {
        let mut analyzer = NormalizeAndStem
            .transform(RemoveLongFilter::limit(48).transform(SimpleTokenizer::default()));
        analyzer.memo.table_sets = sets;
        analyzer.memo.words_before_table = 0;
        analyzer
    }

    fn tokens(mut stream: impl TokenStream) -> Vec<Token> {
        let mut tokens = Vec::new();
        stream.process(&mut |token| tokens.push(token.clone()));
        tokens
    }

    /// Each text twice through the same instances: as registered (no table yet), with a full
    /// table, and with a table of four sets where words evict each other all the time.
    fn assert_same_tokens<'a>(texts: impl IntoIterator<Item = &'a str>) {
        let mut stock = stock_analyzer();
        let mut registered = english_analyzer();
        let (mut full, mut tiny) = (memoizing(SETS), memoizing(4));
        for text in texts {
            let expected = tokens(stock.token_stream(text));
            for _ in 0..2 {
                assert_eq!(tokens(registered.token_stream(text)), expected, "{text:?}");
                assert_eq!(tokens(full.token_stream(text)), expected, "{text:?}");
                assert_eq!(tokens(tiny.token_stream(text)), expected, "{text:?}");
            }
        }
    }

    #[test]
    fn same_tokens_as_tantivy_filters_on_tricky_text() {
        let long = "x".repeat(47) + " " + &"y".repeat(48) + " " + &"é".repeat(24) + " end";
        assert_same_tokens([
            "",
            " \t\n,.;",
            "Türkiye TÜRKIYE turkiye Côte d'Ivoire Ærø straße STRASSE İstanbul ǅemal",
            "Sanctions sanctioned SANCTIONING; the sanction's reach — Nations' votes",
            "G7 G20 COVID-19 2024-01-05 1,000,000 3rd 42nd ½ ² Ⅻ ⑫",
            "O'Brien can't won't l'État aujourd'hui rock'n'roll",
            "北京 東京 서울 Москва Ελλάδα العربية हिन्दी 🇺🇦 👍🏽",
            "ﬁnance ﬂights Ａｂｃ Ⓐ ŉ ẞ Σίσυφος ΣΊΣΥΦΟΣ",
            "the the the The THE running runs ran runner ran the the",
            &long,
            "ınıquity İİİ ʼn ǰ",
        ]);
    }

    #[test]
    fn words_are_computed_once_until_evicted() {
        let text = "Sanctions on sanctions, SANCTIONS on Sanctions";
        let mut analyzer = memoizing(SETS);
        for _ in 0..3 {
            tokens(analyzer.token_stream(text));
            assert_eq!(analyzer.memo.computed, 4, "one per distinct raw text");
        }
        let clone = analyzer.clone();
        assert!(clone.memo.sets.is_empty() && clone.memo.computed == 0);

        let text: String = (0..100).map(|i| format!("Wörds{i}ing ")).collect();
        let mut tiny = memoizing(4);
        tokens(tiny.token_stream(&text));
        tokens(tiny.token_stream(&text));
        assert!(
            tiny.memo.computed > 190,
            "eight words fit: {}",
            tiny.memo.computed
        );
    }

    #[test]
    fn the_table_comes_after_many_words() {
        let mut analyzer = NormalizeAndStem.transform(SimpleTokenizer::default());
        let words: Vec<String> = (0..WORDS_BEFORE_TABLE).map(|i| format!("w{i}")).collect();
        tokens(analyzer.token_stream(&words[..WORDS_BEFORE_TABLE - 1].join(" ")));
        assert!(analyzer.memo.sets.is_empty());
        tokens(analyzer.token_stream(&words.join(" ")));
        assert_eq!(analyzer.memo.sets.len(), SETS);
        assert_eq!(std::mem::size_of::<Set>(), 64, "a set is a cache line");
    }

    /// News words, accents, capitals, digits and separators, glued at random.
    fn word_soup() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "Türkiye",
            "Côte",
            "d'Ivoire",
            "Ærø",
            "straße",
            "İ",
            "ı",
            "Σ",
            "ﬁ",
            "北京",
            "🇺🇦",
            "sanctions",
            "Sanctioned",
            "RUNNING",
            "nations'",
            "O'Brien",
            "G7",
            "2024",
            "½",
            "x",
            "é",
            "e\u{301}",
            " ",
            " ",
            "  ",
            "-",
            ",",
            ".",
            "'",
            "\n",
            "\u{a0}",
        ]);
        prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

        #[test]
        fn same_tokens_on_any_text(text in "(?s).{0,80}") {
            assert_same_tokens([text.as_str()]);
        }

        #[test]
        fn same_tokens_on_word_soup(soup in word_soup(), word in "[a-zA-Z]{40,60}") {
            let long_words = format!("{soup} {word} {soup}");
            assert_same_tokens([soup.as_str(), long_words.as_str()]);
        }
    }

    /// Title, summary and body of the articles in `folders` of ../shared/corpora (tests that
    /// call it are ignored where it is absent: build.rs sets `shared_data`).
    fn corpus_texts(folders: &[&str]) -> Vec<String> {
        let corpora = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
        let paths: Vec<_> = folders.iter().map(|folder| corpora.join(folder)).collect();
        let mut texts = Vec::new();
        for file in &ingest::discover(&paths, None).files {
            ingest::read(file, &ingest::ReadLimits::default(), &mut |item| {
                if let Item::Record { record, .. } = item
                    && let RecordOutcome::Article { article, .. } = ingest::to_article(record)
                {
                    texts.push(article.title);
                    texts.extend(article.summary);
                    texts.push(article.body);
                }
                ControlFlow::Continue(())
            });
        }
        texts
    }

    /// Percent of `tokens` that `analyzer` did not compute.
    fn hit_rate<T>(analyzer: &NormalizeAndStemFilter<T>, tokens: usize) -> f64 {
        100.0 * (1.0 - analyzer.memo.computed as f64 / tokens as f64)
    }

    #[test]
    #[cfg_attr(not(shared_data), ignore = "needs ../shared, absent on this machine")]
    fn same_tokens_on_real_articles() {
        let texts = corpus_texts(&["wikinews", "agnews"]);
        let (mut stock, mut analyzer) = (stock_analyzer(), memoizing(SETS));
        let mut count = 0;
        for text in &texts {
            let expected = tokens(stock.token_stream(text));
            assert_eq!(tokens(analyzer.token_stream(text)), expected, "{text}");
            count += expected.len();
        }
        let rate = hit_rate(&analyzer, count);
        println!(
            "{} texts, {count} tokens, {rate:.1}% remembered",
            texts.len()
        );
    }

    /// `cargo test --release --lib analyzer_throughput -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement"]
    fn analyzer_throughput() {
        let texts = corpus_texts(&["."]);
        let mut analyzers = [
            ("tantivy's filters", stock_analyzer()),
            ("NormalizeAndStem", english_analyzer()),
            (
                "no normalization",
                TextAnalyzer::builder(SimpleTokenizer::default())
                    .filter(RemoveLongFilter::limit(48))
                    .build(),
            ),
        ];
        let mut rates = vec![Vec::new(); analyzers.len()];
        for _ in 0..5 {
            for ((_, analyzer), rates) in analyzers.iter_mut().zip(&mut rates) {
                let started = Instant::now();
                let mut count = 0;
                for text in &texts {
                    analyzer.token_stream(text).process(&mut |_| count += 1);
                }
                rates.push(count as f64 / started.elapsed().as_secs_f64() / 1e6);
            }
        }
        for ((name, _), rates) in analyzers.iter().zip(&mut rates) {
            rates.sort_by(f64::total_cmp);
            println!("{name}: {:.1} M tokens/s (median of 5)", rates[2]);
        }
        let mut analyzer = NormalizeAndStem.transform(SimpleTokenizer::default());
        let mut count = 0;
        for text in &texts {
            analyzer.token_stream(text).process(&mut |_| count += 1);
        }
        let rate = hit_rate(&analyzer, count);
        println!(
            "{} texts, {count} tokens, {rate:.1}% remembered",
            texts.len()
        );
    }
}
