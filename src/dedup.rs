//! Copies of one story. Exact copies share a key once their URLs are canonical (tracking
//! parameters, AMP paths and trailing slashes stripped); syndicated and lightly rewritten
//! copies share a near-duplicate signature of their bodies: a MinHash over word 4-shingles
//! (one permutation, [`SLOTS`] slots), looked up by [`BANDS`] bands of [`ROWS`] slots each.

use url::Url;

use crate::hash::Fnv64;

pub const SLOTS: usize = 64;
pub const BANDS: usize = 16;
const ROWS: usize = SLOTS / BANDS;
const SHINGLE_WORDS: usize = 4;
/// Bodies with fewer shingles are too short to tell a copy from a story on the same subject.
const MIN_SHINGLES: usize = 40;
/// The estimated share of shingles two bodies must have in common to be copies of one story.
pub const SAME_STORY: f64 = 0.5;
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

/// A body's near-duplicate signature: per slot, the least hash of the shingles that fall in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature([u16; SLOTS]);

impl Signature {
    /// The signature of `text`, or `None` when it is too short to compare.
    pub fn of(text: &str) -> Option<Signature> {
        let words: Vec<u64> = words(text).map(|word| Fnv64::of(word.as_bytes())).collect();
        if words.len() < SHINGLE_WORDS + MIN_SHINGLES - 1 {
            return None;
        }
        let mut slots = [EMPTY_SLOT; SLOTS];
        for shingle in words.windows(SHINGLE_WORDS) {
            let hash = mix(shingle);
            let slot = (hash >> 58) as usize;
            // Never EMPTY_SLOT: an empty slot stays distinguishable from a filled one.
            let value = ((hash >> 16) as u16).min(EMPTY_SLOT - 1);
            slots[slot] = slots[slot].min(value);
        }
        Some(Signature(slots))
    }

    /// The estimated share of shingles the two bodies have in common (their Jaccard
    /// similarity), over the slots either fills.
    pub fn similarity(&self, other: &Signature) -> f64 {
        let (mut filled, mut equal) = (0u32, 0u32);
        for (a, b) in self.0.iter().zip(&other.0) {
            if *a == EMPTY_SLOT && *b == EMPTY_SLOT {
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

    /// One hash per band of slots: two bodies sharing a band are candidates to compare.
    pub fn bands(&self) -> [u64; BANDS] {
        let mut bands = [0; BANDS];
        for (band, rows) in bands.iter_mut().zip(self.0.chunks(ROWS)) {
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

    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|slot| slot.to_le_bytes()).collect()
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Signature> {
        if bytes.len() != SLOTS * 2 {
            return None;
        }
        let mut slots = [0; SLOTS];
        for (slot, pair) in slots.iter_mut().zip(bytes.chunks_exact(2)) {
            *slot = u16::from_le_bytes([pair[0], pair[1]]);
        }
        Some(Signature(slots))
    }
}

/// Lowercased alphanumeric words.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
}

/// A well-spread hash of a shingle from its words' hashes.
fn mix(words: &[u64]) -> u64 {
    let mut hash = 0x243f_6a88_85a3_08d3u64;
    for &word in words {
        hash = (hash ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        hash ^= hash >> 29;
    }
    hash
}

#[cfg(test)]
mod tests {
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
        let original = Signature::of(&story("Geneva")).unwrap();
        let copy = Signature::of(&story("Reuters reports from Geneva")).unwrap();
        assert!(original.similarity(&copy) > 0.9);
        assert!(
            original
                .bands()
                .iter()
                .any(|band| copy.bands().contains(band))
        );
        let other: Vec<String> = (0..200).map(|n| format!("other{n}")).collect();
        let other = Signature::of(&other.join(" ")).unwrap();
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
        let a = Signature::of(&words.join(" ")).unwrap();
        let b = Signature::of(&rewritten.join(" ")).unwrap();
        // 297 of 397 shingles shared with b's 397: Jaccard 297 / 497 = 0.60.
        let similarity = a.similarity(&b);
        assert!((0.45..0.75).contains(&similarity), "{similarity}");
    }

    #[test]
    fn short_texts_have_no_signature_and_bytes_round_trip() {
        assert_eq!(Signature::of("Ceasefire holds in the north."), None);
        let signature = Signature::of(&story("x")).unwrap();
        assert_eq!(
            Signature::from_bytes(&signature.to_bytes()),
            Some(signature)
        );
        assert_eq!(Signature::from_bytes(&[1, 2, 3]), None);
    }
}
