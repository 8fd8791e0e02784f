//! What reading one file or record may cost, so that memory stays bounded whatever the input:
//! how far a compressed file may inflate (a gzip bomb is refused with its numbers), and how
//! long an article may be (longer bodies are cut; longer records are skipped).

use std::io::{self, BufRead, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Bytes a compressed file may inflate to.
    pub max_decompressed: u64,
    /// How many times its compressed size a file may inflate to (checked past the first
    /// [`RATIO_GRACE_BYTES`]: small files of one repeated line inflate far more).
    pub max_ratio: u64,
    /// Bytes of an article's body: longer ones are cut, the stored and indexed text alike.
    pub max_article: usize,
}

/// Inflated bytes before the ratio counts.
pub const RATIO_GRACE_BYTES: u64 = 64 << 20;

impl Default for ReadLimits {
    fn default() -> ReadLimits {
        ReadLimits {
            // As `--max-decompressed 64GB` and `--max-article 2MB` give them.
            max_decompressed: 64_000_000_000,
            max_ratio: 100,
            max_article: 2_000_000,
        }
    }
}

impl ReadLimits {
    /// A record (a JSON line, a JSON document) longer than this is skipped, and a text file
    /// read this far: a body could not be cut without first holding it whole.
    pub fn max_record(&self) -> usize {
        self.max_article.saturating_mul(4)
    }
}

/// Counts the bytes read through it, for [`Inflating`] to compare.
pub struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.count.fetch_add(read as u64, Ordering::Relaxed);
        Ok(read)
    }
}

/// A decompressor's output, stopped with an error when it inflates past the limits.
pub struct Inflating<R> {
    inner: R,
    compressed: Arc<AtomicU64>,
    inflated: u64,
    limits: ReadLimits,
}

/// The gzip stream `raw` (of any number of members) inflated, within `limits`.
pub fn gunzip<R: Read>(raw: R, limits: ReadLimits) -> Inflating<MultiGzDecoder<Counted<R>>> {
    let compressed = Arc::new(AtomicU64::new(0));
    let counted = Counted {
        inner: raw,
        count: Arc::clone(&compressed),
    };
    Inflating {
        inner: MultiGzDecoder::new(counted),
        compressed,
        inflated: 0,
        limits,
    }
}

impl<R: Read> Read for Inflating<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.inflated += read as u64;
        let compressed = self.compressed.load(Ordering::Relaxed).max(1);
        let (limits, inflated) = (self.limits, self.inflated);
        if inflated > limits.max_decompressed {
            return Err(io::Error::other(format!(
                "decompresses to more than {} (--max-decompressed); refused",
                megabytes(limits.max_decompressed)
            )));
        }
        if inflated > RATIO_GRACE_BYTES && inflated / compressed > limits.max_ratio {
            return Err(io::Error::other(format!(
                "{} inflated from {} so far, more than {} times its size (--max-ratio): a \
                 compression bomb? refused",
                megabytes(inflated),
                megabytes(compressed),
                limits.max_ratio
            )));
        }
        Ok(read)
    }
}

/// Reads a line (through `\n`) into `line` unless it is longer than `max` bytes: then it is
/// passed over without being held, and its length returned as `Err`. `Ok(0)` at the end.
pub fn read_line_within(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    max: usize,
) -> io::Result<Result<usize, u64>> {
    line.clear();
    let read = reader
        .by_ref()
        .take(max as u64 + 1)
        .read_until(b'\n', line)?;
    if line.len() <= max || line.ends_with(b"\n") {
        return Ok(Ok(read));
    }
    // Too long: skip the rest of the line.
    let mut skipped = line.len() as u64;
    line.clear();
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(Err(skipped));
        }
        let (used, done) = match buffer.iter().position(|&byte| byte == b'\n') {
            Some(at) => (at + 1, true),
            None => (buffer.len(), false),
        };
        reader.consume(used);
        skipped += used as u64;
        if done {
            return Ok(Err(skipped));
        }
    }
}

/// `12.3 MB`: sizes in the messages, in powers of 1000 as the flags take them.
pub fn megabytes(bytes: u64) -> String {
    if bytes >= 10_000_000 {
        format!("{} MB", bytes / 1_000_000)
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}

/// `text` cut to at most `max` bytes, at a character boundary.
pub fn cut_to(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn inflate(compressed: &[u8], limits: ReadLimits) -> io::Result<u64> {
        io::copy(&mut gunzip(compressed, limits), &mut io::sink())
    }

    #[test]
    fn a_bomb_is_refused_with_its_numbers() {
        let bomb = gzip(&vec![b'a'; 200 << 20]);
        let error = inflate(&bomb, ReadLimits::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("more than 100 times its size"), "{error}");
        let capped = ReadLimits {
            max_decompressed: 10 << 20,
            ..ReadLimits::default()
        };
        let error = inflate(&bomb, capped).unwrap_err().to_string();
        assert!(error.contains("more than 10 MB"), "{error}");
    }

    #[test]
    fn ordinary_files_inflate_whole() {
        let text: Vec<u8> = (0..2_000_000u32)
            .flat_map(|n| format!("{n} ").into_bytes())
            .collect();
        let inflated = inflate(&gzip(&text), ReadLimits::default()).unwrap();
        assert_eq!(inflated, text.len() as u64);
    }

    #[test]
    fn long_lines_are_passed_over_without_being_held() {
        let input = format!("short\n{}\nafter\n", "x".repeat(5000));
        let mut reader = io::BufReader::with_capacity(64, input.as_bytes());
        let mut line = Vec::new();
        assert_eq!(
            read_line_within(&mut reader, &mut line, 100).unwrap(),
            Ok(6)
        );
        assert_eq!(
            read_line_within(&mut reader, &mut line, 100).unwrap(),
            Err(5001)
        );
        assert!(line.capacity() < 1000);
        assert_eq!(
            read_line_within(&mut reader, &mut line, 100).unwrap(),
            Ok(6)
        );
        assert_eq!(line, b"after\n");
        assert_eq!(
            read_line_within(&mut reader, &mut line, 100).unwrap(),
            Ok(0)
        );
    }

    #[test]
    fn text_is_cut_at_a_character_boundary() {
        let mut text = "aé".repeat(10);
        cut_to(&mut text, 5);
        assert_eq!(text, "aéa", "the next é would end at byte 6");
    }
}
