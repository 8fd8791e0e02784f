//! Copies of one story. Exact copies share a key once their URLs are canonical (tracking
//! parameters, AMP paths and trailing slashes stripped); syndicated and lightly rewritten
//! copies share a near-duplicate signature of their bodies: a MinHash over word 4-shingles
//! (one permutation, [`SLOTS`] slots), looked up by [`BANDS`] bands of [`ROWS`] slots each,
//! and the same figures.

use std::ops::Range;

use chrono::{DateTime, Utc};
use url::Url;

use crate::hash::Fnv64;

pub const SLOTS: usize = 64;
/// Bands of [`ROWS`] slots, from the first slots. Two bodies sharing a share J of their
/// shingles share a band with probability 1 - (1 - J²)^3: 0.58 at J = 0.5, 0.87 at 0.7, 0.95
/// at 0.8, 0.99 at 0.9 (syndicated copies), 1 for exact copies. Each band is a term in the
/// index, all but unique, and costs indexing time: 8 bands cost 14%, 3 about 5%.
pub const BANDS: usize = 3;
const ROWS: usize = 2;
/// Copies of a story appear within days of each other; a report of the same kind weeks later
/// (the weekly bulletin, the monthly rate notice) is another story, however alike.
const MAX_DAYS_APART: i32 = 3;
const UNDATED: i32 = i32::MIN;
const SHINGLE_WORDS: usize = 4;
/// Bodies with fewer shingles are too short to tell a copy from a story on the same subject, or
/// from the next of a series of notices worded alike.
const MIN_SHINGLES: usize = 60;
/// Bodies where one word in this many is a figure are tables (market sheets, results), whose
/// editions differ only in their figures or the time of day: they are data, not stories to
/// merge.
const TABLE_FIGURES_ONE_IN: usize = 4;
/// The estimated share of shingles two bodies must have in common to be copies of one story.
const SAME_STORY: f64 = 0.5;
const EMPTY_SLOT: u16 = u16::MAX;

/// Query parameters that track a reader rather than name a page.
const TRACKING_PARAMETERS: [&str; 22] = [
    "fbclid",
    "gclid",
    "dclid",
    "gclsrc",
    "msclkid",
    "yclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "ocid",
    "cmpid",
    "ito",
    "smid",
    "smtyp",
    "ns_mchannel",
    "ns_source",
    "ns_campaign",
    "ns_linkname",
    "ref_src",
    "outputtype",
];

/// The URL without what varies between links to one page: the fragment, tracking parameters
/// (`utm_*`, `fbclid`, `gclid`…), an AMP version's marks (`/amp`, `.amp.html`, `amp=1`) and a
/// trailing slash. Text that is not an http(s) URL is returned as it is.
pub fn canonical_url(text: &str) -> String {
    let Ok(mut url) = Url::parse(text.trim()) else {
        return text.to_owned();
    };
    if !matches!(url.scheme(), "http" | "https") {
        return text.to_owned();
    }
    url.set_fragment(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| !is_tracking(name))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    let path = without_amp(url.path());
    let path = match path.strip_suffix('/') {
        Some(trimmed) if !trimmed.is_empty() => trimmed.to_owned(),
        _ => path,
    };
    url.set_path(&path);
    url.to_string()
}

fn is_tracking(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_") || name == "amp" || TRACKING_PARAMETERS.contains(&name.as_str())
}

/// The path of the page an AMP version stands for: `/amp/x` and `/x/amp` are `/x`,
/// `/x.amp.html` is `/x.html`.
fn without_amp(path: &str) -> String {
    let path = path.replace(".amp.html", ".html");
    let segments: Vec<&str> = path
        .split('/')
        .filter(|segment| *segment != "amp")
        .collect();
    let joined = segments.join("/");
    if joined.is_empty() {
        "/".to_owned()
    } else {
        joined
    }
}

/// Distinct figures (words starting with a digit) two bodies must both have for their figures to be
/// compared.
const MIN_FIGURES: u32 = 3;

/// A body's near-duplicate signature: per slot, the least hash of the shingles that fall in
/// it; and a sketch of the figures it gives (a bit per distinct number, dates included), as
/// recurring bulletins (weekly output, rate tables) repeat their wording with new figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    slots: [u16; SLOTS],
    figures: u64,
    /// The day of publication (days since 1970-01-01), or [`UNDATED`].
    day: i32,
}

impl Signature {
    /// The length of [`Signature::to_bytes`].
    pub const BYTES: usize = 2 * SLOTS + 8 + 4;

    /// The signature as bytes, for [`Signature::from_bytes`].
    pub fn to_bytes(&self) -> [u8; Signature::BYTES] {
        let mut bytes = [0; Signature::BYTES];
        let (slots, rest) = bytes.split_at_mut(2 * SLOTS);
        for (place, slot) in slots.chunks_exact_mut(2).zip(self.slots) {
            place.copy_from_slice(&slot.to_le_bytes());
        }
        rest[..8].copy_from_slice(&self.figures.to_le_bytes());
        rest[8..].copy_from_slice(&self.day.to_le_bytes());
        bytes
    }

    pub fn from_bytes(bytes: &[u8; Signature::BYTES]) -> Signature {
        let (slots, rest) = bytes.split_at(2 * SLOTS);
        let mut signature = Signature {
            slots: [0; SLOTS],
            figures: u64::from_le_bytes(rest[..8].try_into().expect("8 bytes")),
            day: i32::from_le_bytes(rest[8..].try_into().expect("4 bytes")),
        };
        for (slot, place) in signature.slots.iter_mut().zip(slots.chunks_exact(2)) {
            *slot = u16::from_le_bytes([place[0], place[1]]);
        }
        signature
    }

    /// The signature of a body published on `published`, or `None` when it is too short to
    /// compare.
    pub fn of(text: &str, published: Option<DateTime<Utc>>) -> Option<Signature> {
        // Too few bytes for the words needed: no need to read them.
        if text.len() < 2 * (SHINGLE_WORDS + MIN_SHINGLES) {
            return None;
        }
        let mut slots = [EMPTY_SLOT; SLOTS];
        let mut figures = 0u64;
        let mut last_words = [0u64; SHINGLE_WORDS];
        let (mut words, mut figure_words) = (0, 0);
        for_each_word(text, |hash, is_figure| {
            if is_figure {
                figures |= 1 << (hash % 64);
                figure_words += 1;
            }
            last_words.rotate_left(1);
            last_words[SHINGLE_WORDS - 1] = hash;
            words += 1;
            if words >= SHINGLE_WORDS {
                let hash = mix(&last_words);
                let slot = (hash >> 58) as usize;
                // Never EMPTY_SLOT: an empty slot stays distinguishable from a filled one.
                let value = ((hash >> 16) as u16).min(EMPTY_SLOT - 1);
                slots[slot] = slots[slot].min(value);
            }
        });
        if words < SHINGLE_WORDS + MIN_SHINGLES - 1 || figure_words * TABLE_FIGURES_ONE_IN >= words
        {
            return None;
        }
        let day = published.map_or(UNDATED, |date| {
            i32::try_from(date.timestamp().div_euclid(86_400)).unwrap_or(UNDATED)
        });
        Some(Signature {
            slots,
            figures,
            day,
        })
    }

    /// Whether the two are copies of one story: most shingles shared, and the same figures
    /// where both give several.
    pub fn same_story(&self, other: &Signature) -> bool {
        self.similarity(other) >= SAME_STORY
            && self.figures_agree(other)
            && self.near_in_time(other)
    }

    fn near_in_time(&self, other: &Signature) -> bool {
        self.day == UNDATED
            || other.day == UNDATED
            || self.day.abs_diff(other.day) <= MAX_DAYS_APART.unsigned_abs()
    }

    fn figures_agree(&self, other: &Signature) -> bool {
        let (a, b) = (self.figures, other.figures);
        if a.count_ones() < MIN_FIGURES || b.count_ones() < MIN_FIGURES {
            return true;
        }
        2 * (a & b).count_ones() >= (a | b).count_ones()
    }

    /// The estimated share of shingles the two bodies have in common (their Jaccard
    /// similarity), over the slots either fills.
    pub fn similarity(&self, other: &Signature) -> f64 {
        let (mut filled, mut equal) = (0u32, 0u32);
        for (&a, &b) in self.slots.iter().zip(&other.slots) {
            if a == EMPTY_SLOT && b == EMPTY_SLOT {
                continue;
            }
            filled += 1;
            equal += u32::from(a == b);
        }
        if filled == 0 {
            0.0
        } else {
            f64::from(equal) / f64::from(filled)
        }
    }

    /// The signature as text (hexadecimal), for an engine that stores text.
    pub fn to_hex(&self) -> String {
        self.to_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    pub fn from_hex(text: &str) -> Option<Signature> {
        let mut bytes = [0u8; Signature::BYTES];
        if text.len() != 2 * Signature::BYTES || !text.is_ascii() {
            return None;
        }
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        Some(Signature::from_bytes(&bytes))
    }

    /// One hash per band of slots: two bodies sharing a band are candidates to compare.
    pub fn bands(&self) -> [u64; BANDS] {
        let mut bands = [0; BANDS];
        for (band, rows) in bands.iter_mut().zip(self.slots.chunks_exact(ROWS)) {
            let mut hash = Fnv64::new();
            for row in rows {
                hash.write(&row.to_le_bytes());
            }
            *band = hash.finish();
        }
        for (number, band) in (0u64..).zip(bands.iter_mut()) {
            // The band's number is part of its hash: band 1 never matches band 2.
            *band ^= number.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
        bands
    }
}

/// The most similar earlier copy of a story found so far: its similarity, and its cluster.
pub type BestCopy = Option<(f64, String)>;

/// Keeps `candidate` as the best copy when it tells the same story as `signature` and is more
/// similar than the best so far.
pub fn consider_copy(
    best: &mut BestCopy,
    signature: &Signature,
    candidate: &Signature,
    cluster: impl FnOnce() -> String,
) {
    let similarity = signature.similarity(candidate);
    let better = best.as_ref().is_none_or(|(most, _)| similarity > *most);
    if better && signature.same_story(candidate) {
        *best = Some((similarity, cluster()));
    }
}

/// A word's hash, built eight bytes at a step for runs of ASCII letters and digits (this runs
/// on every byte of every body) and a character at a time for others, mixed once at the end of
/// the word. A word is always split into the same steps, so it always has the same hash.
#[derive(Clone, Copy)]
struct WordHash(u64);

const ONE_PER_BYTE: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
/// Set in each byte, it makes an ASCII letter lowercase and leaves a digit as it is.
const LOWERCASE_BITS: u64 = 0x2020_2020_2020_2020;

impl WordHash {
    fn new() -> WordHash {
        WordHash(0x6a09_e667_f3bc_c908)
    }

    fn absorb(&mut self, step: u64) {
        self.0 = (self.0 ^ step)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(27);
    }

    /// Absorbs a character that is not ASCII, lowercased.
    fn absorb_char(&mut self, c: char) {
        for lower in c.to_lowercase() {
            // Its lowest byte is zero, which an ASCII step's never is.
            self.absorb(u64::from(u32::from(lower)) << 32);
        }
    }

    /// Absorbs the run of ASCII letters and digits starting at `start`, lowercased, and
    /// returns where it ends.
    fn absorb_ascii_run(&mut self, bytes: &[u8], start: usize) -> usize {
        let mut at = start;
        loop {
            let step = eight_bytes_at(bytes, at);
            let length = leading_alphanumeric_bytes(step) as usize;
            if length == 0 {
                return at;
            }
            let kept = u64::MAX >> (64 - 8 * length);
            self.absorb((step | LOWERCASE_BITS) & kept);
            at += length;
            if length < 8 {
                return at;
            }
        }
    }

    /// MurmurHash3's 64-bit finalizer.
    fn finish(self) -> u64 {
        let mut hash = self.0;
        hash ^= hash >> 33;
        hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
        hash ^= hash >> 33;
        hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        hash ^ (hash >> 33)
    }

    #[cfg(test)]
    fn of(word: &str) -> u64 {
        let mut hashes = Vec::new();
        for_each_word(word, |hash, _| hashes.push(hash));
        assert_eq!(hashes.len(), 1, "{word} is one word");
        hashes[0]
    }
}

/// The eight bytes from `at` as a little-endian number, zeros past the end.
fn eight_bytes_at(bytes: &[u8], at: usize) -> u64 {
    match bytes.get(at..at + 8) {
        Some(eight) => u64::from_le_bytes(eight.try_into().expect("eight bytes")),
        None => {
            let mut padded = [0; 8];
            let rest = &bytes[at.min(bytes.len())..];
            padded[..rest.len()].copy_from_slice(rest);
            u64::from_le_bytes(padded)
        }
    }
}

/// How many of the eight bytes, from the lowest, are ASCII letters or digits: all eight
/// compared at once.
fn leading_alphanumeric_bytes(eight: u64) -> u32 {
    // Per byte below 0x80, the high bit of `(byte | 0x80) - c` is set when byte >= c; no
    // byte borrows from the next, as each is at least 0x80 before the subtraction.
    let at_least =
        |bytes: u64, c: u8| ((bytes | HIGH_BITS) - ONE_PER_BYTE * u64::from(c)) & HIGH_BITS;
    let ascii = !eight & HIGH_BITS;
    let digit = at_least(eight, b'0') & !at_least(eight, b'9' + 1);
    let lower = eight | LOWERCASE_BITS;
    let letter = at_least(lower, b'a') & !at_least(lower, b'z' + 1);
    let alphanumeric = (digit | letter) & ascii;
    (!alphanumeric & HIGH_BITS).trailing_zeros() / 8
}

/// Calls `visit` with the hash of each alphanumeric word, lowercased, and whether it is a
/// figure (starts with a digit: `1987`, `3rd`, not `G20`). Runs of ASCII letters and digits
/// are read eight bytes at a step; only other characters are decoded.
fn for_each_word(text: &str, mut visit: impl FnMut(u64, bool)) {
    for_each_word_at(text, |hash, is_figure, _| visit(hash, is_figure));
}

/// [`for_each_word`], with each word's place in `text`.
pub(crate) fn for_each_word_at(text: &str, mut visit: impl FnMut(u64, bool, Range<usize>)) {
    let bytes = text.as_bytes();
    // The word being read: its hash, whether it is a figure, and where it starts.
    let mut word: Option<(WordHash, bool, usize)> = None;
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        if byte.is_ascii_alphanumeric() {
            let (hash, _, _) =
                word.get_or_insert_with(|| (WordHash::new(), byte.is_ascii_digit(), at));
            at = hash.absorb_ascii_run(bytes, at);
            continue;
        }
        let start = at;
        let c = if byte.is_ascii() {
            at += 1;
            char::from(byte)
        } else {
            let c = text[at..].chars().next().expect("a character starts here");
            at += c.len_utf8();
            c
        };
        if !byte.is_ascii() && c.is_alphanumeric() {
            word.get_or_insert_with(|| (WordHash::new(), false, start))
                .0
                .absorb_char(c);
        } else if let Some((hash, is_figure, first)) = word.take() {
            visit(hash.finish(), is_figure, first..start);
        }
    }
    if let Some((hash, is_figure, first)) = word {
        visit(hash.finish(), is_figure, first..bytes.len());
    }
}

/// A well-spread hash of a shingle from its words' (already well-spread) hashes: each word
/// rotated by its place, so that word order counts, then one multiply to mix.
fn mix(words: &[u64; SHINGLE_WORDS]) -> u64 {
    let combined =
        words[0] ^ words[1].rotate_left(17) ^ words[2].rotate_left(31) ^ words[3].rotate_left(47);
    let mixed = combined.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    mixed ^ (mixed >> 29)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn canonical_urls_drop_tracking_amp_fragments_and_trailing_slashes() {
        let cases = [
            (
                "https://News.Example.com/world/story/?utm_source=rss&utm_medium=feed#top",
                "https://news.example.com/world/story",
            ),
            (
                "https://news.example.com/a?id=7&fbclid=x&gclid=y",
                "https://news.example.com/a?id=7",
            ),
            (
                "https://news.example.com/amp/world/a",
                "https://news.example.com/world/a",
            ),
            (
                "https://news.example.com/world/a/amp/",
                "https://news.example.com/world/a",
            ),
            (
                "https://news.example.com/a.amp.html?amp=1",
                "https://news.example.com/a.html",
            ),
            ("https://news.example.com/", "https://news.example.com/"),
            ("http://news.example.com:80/a", "http://news.example.com/a"),
            ("not a url", "not a url"),
            ("urn:uuid:1234", "urn:uuid:1234"),
        ];
        for (given, canonical) in cases {
            assert_eq!(canonical_url(given), canonical, "{given}");
        }
    }

    fn story(variant: &str) -> String {
        let words: Vec<String> = (0..200).map(|n| format!("word{n}")).collect();
        format!("{variant} {}", words.join(" "))
    }

    #[test]
    fn copies_are_similar_and_other_stories_are_not() {
        let original = Signature::of(&story("Geneva"), None).unwrap();
        let copy = Signature::of(&story("Reuters reports from Geneva"), None).unwrap();
        assert!(original.similarity(&copy) > 0.9);
        assert!(
            original
                .bands()
                .iter()
                .any(|band| copy.bands().contains(band))
        );
        let other: Vec<String> = (0..200).map(|n| format!("other{n}")).collect();
        let other = Signature::of(&other.join(" "), None).unwrap();
        assert!(original.similarity(&other) < 0.1);
        assert!(
            !original
                .bands()
                .iter()
                .any(|band| other.bands().contains(band))
        );
    }

    #[test]
    fn half_rewritten_copies_are_near_the_threshold() {
        let words: Vec<String> = (0..400).map(|n| format!("w{n}")).collect();
        let mut rewritten = words.clone();
        for word in rewritten.iter_mut().skip(300) {
            word.push('x');
        }
        let a = Signature::of(&words.join(" "), None).unwrap();
        let b = Signature::of(&rewritten.join(" "), None).unwrap();
        // 297 of 397 shingles shared with b's 397: Jaccard 297 / 497 = 0.60.
        let similarity = a.similarity(&b);
        assert!((0.45..0.75).contains(&similarity), "{similarity}");
    }

    #[test]
    fn bulletins_with_the_same_wording_and_other_figures_are_other_stories() {
        let bulletin = |week: u32| {
            let words: Vec<String> = (0..120).map(|n| format!("word{n}")).collect();
            format!(
                "{} output rose to {} units in the week to June {} from {} units a year ago, {} pct",
                words.join(" "),
                1000 + week,
                week,
                900 + week,
                week % 7
            )
        };
        let (one, same, next) = (
            Signature::of(&bulletin(3), None).unwrap(),
            Signature::of(&bulletin(3), None).unwrap(),
            Signature::of(&bulletin(10), None).unwrap(),
        );
        assert!(one.similarity(&next) >= SAME_STORY);
        assert!(one.same_story(&same));
        assert!(!one.same_story(&next));
    }

    #[test]
    fn words_are_hashed_lowercased_with_figures_marked() {
        let mut words = Vec::new();
        for_each_word("Ölpreis, OPEC's 3rd G20 façade", |hash, figure| {
            words.push((hash, figure))
        });
        let expected: Vec<(u64, bool)> = ["ölpreis", "opec", "s", "3rd", "g20", "façade"]
            .iter()
            .map(|word| (WordHash::of(word), word.starts_with('3')))
            .collect();
        assert_eq!(words, expected);
    }

    proptest::proptest! {
        #[test]
        fn words_are_the_alphanumeric_runs_whatever_the_case(
            text in "[a-zA-Z0-9 ,.'éÖçΣ€—-]{0,80}"
        ) {
            let mut found = Vec::new();
            for_each_word(&text, |hash, figure| found.push((hash, figure)));
            let expected: Vec<(u64, bool)> = text
                .split(|c: char| !c.is_alphanumeric())
                .filter(|word| !word.is_empty())
                .map(|word| {
                    let lower: String = word.chars().flat_map(char::to_lowercase).collect();
                    let upper: String = word.chars().flat_map(char::to_uppercase).collect();
                    proptest::prop_assert_eq!(WordHash::of(&lower), WordHash::of(&upper));
                    Ok((WordHash::of(&lower), word.starts_with(|c: char| c.is_ascii_digit())))
                })
                .collect::<Result<_, _>>()?;
            proptest::prop_assert_eq!(found, expected);
        }
    }

    #[test]
    fn signatures_read_back_from_bytes_unchanged() {
        let day = Some(Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap());
        let signature = Signature::of(&format!("{} 17 March 2025", story("Geneva")), day).unwrap();
        assert_eq!(Signature::from_bytes(&signature.to_bytes()), signature);
    }

    #[test]
    fn tables_have_no_signature() {
        let table: Vec<String> = (0..100)
            .map(|n| format!("row{n} {} {}", 100 + n, 200 + n))
            .collect();
        assert_eq!(Signature::of(&table.join(" "), None), None);
    }

    #[test]
    fn copies_are_published_within_days_of_each_other() {
        let day = |d| Some(Utc.with_ymd_and_hms(2025, 3, d, 12, 0, 0).unwrap());
        let text = story("Geneva");
        let first = Signature::of(&text, day(1)).unwrap();
        assert!(first.same_story(&Signature::of(&text, day(4)).unwrap()));
        assert!(!first.same_story(&Signature::of(&text, day(5)).unwrap()));
        assert!(first.same_story(&Signature::of(&text, None).unwrap()));
    }

    #[test]
    fn short_texts_have_no_signature() {
        assert_eq!(Signature::of("Ceasefire holds in the north.", None), None);
    }
}
