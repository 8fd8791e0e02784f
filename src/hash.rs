//! FNV-1a, 64 bit: a small hash that is stable across Rust versions and platforms, for article
//! keys and content fingerprints stored in the index.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_reference_vectors() {
        assert_eq!(Fnv64::of(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(Fnv64::of(b"a"), 0xaf63_dc4c_8601_ec8c);
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
