//! Small hashes that are stable across Rust versions and platforms, for values stored in the
//! index: FNV-1a (64 bit) for article keys, and a wider-stepping one for fingerprints of whole
//! articles.

#[derive(Debug, Clone, Copy)]
pub struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64::new()
    }
}

impl Fnv64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    pub fn new() -> Fnv64 {
        Fnv64(Self::OFFSET_BASIS)
    }

    pub fn of(bytes: &[u8]) -> u64 {
        let mut hash = Fnv64::new();
        hash.write(bytes);
        hash.finish()
    }

    pub fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    /// Writes a field and a separator, so that ("ab", "c") and ("a", "bc") differ.
    pub fn write_field(&mut self, text: &str) {
        self.write(text.as_bytes());
        self.write(&[0xff]);
    }

    pub fn finish(self) -> u64 {
        self.0
    }
}

/// A hash of long texts, eight bytes at a step (FNV-1a takes one): for fingerprints of whole
/// articles, stable across platforms (bytes read little-endian).
#[derive(Debug, Clone, Copy)]
pub struct Wide64(u64);

impl Default for Wide64 {
    fn default() -> Self {
        Wide64::new()
    }
}

impl Wide64 {
    const SEED: u64 = 0x2545_f491_4f6c_dd1d;
    const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

    pub fn new() -> Wide64 {
        Wide64(Self::SEED)
    }

    fn mix(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(Self::MULTIPLIER);
        self.0 ^= self.0 >> 32;
    }

    /// Writes a field and its length, so that ("ab", "c") and ("a", "bc") differ.
    pub fn write_field(&mut self, text: &str) {
        let mut chunks = text.as_bytes().chunks_exact(8);
        for chunk in &mut chunks {
            self.mix(u64::from_le_bytes(chunk.try_into().expect("eight bytes")));
        }
        let mut tail = [0u8; 8];
        tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.mix(u64::from_le_bytes(tail));
        self.mix(text.len() as u64);
    }

    pub fn finish(self) -> u64 {
        let mut hash = self.0;
        hash ^= hash >> 33;
        hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
        hash ^ (hash >> 33)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_reference_vectors() {
        assert_eq!(Fnv64::of(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(Fnv64::of(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn wide_fields_are_separated_and_every_byte_counts() {
        let of = |fields: &[&str]| {
            let mut hash = Wide64::new();
            for field in fields {
                hash.write_field(field);
            }
            hash.finish()
        };
        assert_ne!(of(&["ab", "c"]), of(&["a", "bc"]));
        assert_ne!(of(&["abcdefghi"]), of(&["abcdefghj"]));
        assert_ne!(of(&["abcdefgh"]), of(&["abcdefgh\0"]));
        assert_eq!(of(&["same text"]), of(&["same text"]));
    }

    #[test]
    fn fields_are_separated() {
        let mut first = Fnv64::new();
        first.write_field("ab");
        first.write_field("c");
        let mut second = Fnv64::new();
        second.write_field("a");
        second.write_field("bc");
        assert_ne!(first.finish(), second.finish());
    }
}
