//! Text in UTF-16 or UTF-32, told by its byte-order mark, read as UTF-8 as it streams:
//! UTF-16 through encoding_rs's decoder, UTF-32 (which encoding_rs leaves out) four bytes at
//! a time here.

use std::io::{self, Read};

use encoding_rs::{Decoder, UTF_16BE, UTF_16LE};

/// The encoding a byte-order mark names, other than UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WideEncoding {
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
}

impl WideEncoding {
    /// The encoding whose byte-order mark starts `head`.
    pub fn of(head: &[u8]) -> Option<WideEncoding> {
        // UTF-32LE's mark starts with UTF-16LE's: it is looked for first.
        if head.starts_with(b"\xff\xfe\x00\x00") {
            Some(WideEncoding::Utf32Le)
        } else if head.starts_with(b"\x00\x00\xfe\xff") {
            Some(WideEncoding::Utf32Be)
        } else if head.starts_with(b"\xff\xfe") {
            Some(WideEncoding::Utf16Le)
        } else if head.starts_with(b"\xfe\xff") {
            Some(WideEncoding::Utf16Be)
        } else {
            None
        }
    }
}

/// `inner`, in `encoding` with its byte-order mark, as UTF-8 without it. Units that are not
/// characters become U+FFFD.
pub struct ToUtf8<R> {
    inner: R,
    big_endian: bool,
    /// UTF-16's decoder; `None` for UTF-32.
    utf16: Option<Decoder>,
    /// UTF-32's byte-order mark is still to be passed over.
    mark_ahead: bool,
    input: Vec<u8>,
    /// Bytes read but not yet decoded (part of a unit).
    carried: usize,
    output: Vec<u8>,
    at: usize,
    ended: bool,
}

const CHUNK: usize = 64 * 1024;

impl<R: Read> ToUtf8<R> {
    pub fn new(inner: R, encoding: WideEncoding) -> ToUtf8<R> {
        let utf16 = match encoding {
            WideEncoding::Utf16Le => Some(UTF_16LE.new_decoder_with_bom_removal()),
            WideEncoding::Utf16Be => Some(UTF_16BE.new_decoder_with_bom_removal()),
            WideEncoding::Utf32Le | WideEncoding::Utf32Be => None,
        };
        ToUtf8 {
            inner,
            big_endian: matches!(encoding, WideEncoding::Utf16Be | WideEncoding::Utf32Be),
            mark_ahead: utf16.is_none(),
            utf16,
            input: vec![0; CHUNK],
            carried: 0,
            output: Vec::new(),
            at: 0,
            ended: false,
        }
    }

    /// Decodes the next chunk of input into `output`.
    fn refill(&mut self) -> io::Result<()> {
        let read = self.inner.read(&mut self.input[self.carried..])?;
        let available = self.carried + read;
        self.ended = read == 0;
        self.output.clear();
        self.at = 0;
        match &mut self.utf16 {
            Some(decoder) => {
                let capacity = decoder
                    .max_utf8_buffer_length(available)
                    .unwrap_or(available * 3);
                self.output.resize(capacity, 0);
                let (_, _, written, _) =
                    decoder.decode_to_utf8(&self.input[..available], &mut self.output, self.ended);
                self.output.truncate(written);
                self.carried = 0;
            }
            None => self.decode_utf32(available),
        }
        Ok(())
    }

    fn decode_utf32(&mut self, available: usize) {
        let whole = available - available % 4;
        let mut units = self.input[..whole].chunks_exact(4);
        if self.mark_ahead && whole >= 4 {
            self.mark_ahead = false;
            units.next();
        }
        for unit in units {
            let bytes = [unit[0], unit[1], unit[2], unit[3]];
            let code = if self.big_endian {
                u32::from_be_bytes(bytes)
            } else {
                u32::from_le_bytes(bytes)
            };
            let c = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
            let mut buffer = [0; 4];
            self.output
                .extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
        }
        self.input.copy_within(whole..available, 0);
        self.carried = available - whole;
        if self.ended && self.carried > 0 {
            self.output.extend_from_slice("\u{fffd}".as_bytes());
            self.carried = 0;
        }
    }
}

impl<R: Read> Read for ToUtf8<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        while self.at == self.output.len() {
            if self.ended {
                return Ok(0);
            }
            self.refill()?;
        }
        let count = buffer.len().min(self.output.len() - self.at);
        buffer[..count].copy_from_slice(&self.output[self.at..self.at + count]);
        self.at += count;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf8_of(bytes: Vec<u8>) -> String {
        let encoding = WideEncoding::of(&bytes).unwrap();
        let mut text = String::new();
        ToUtf8::new(bytes.as_slice(), encoding)
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    const TEXT: &str = "title,body\nŁódź talks,\"Ceasefire 🕊 holds\"\n";

    #[test]
    fn utf16_either_way_reads_as_utf8() {
        let le: Vec<u8> = [0xfeff_u16]
            .into_iter()
            .chain(TEXT.encode_utf16())
            .flat_map(u16::to_le_bytes)
            .collect();
        let be: Vec<u8> = [0xfeff_u16]
            .into_iter()
            .chain(TEXT.encode_utf16())
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(utf8_of(le), TEXT);
        assert_eq!(utf8_of(be), TEXT);
    }

    #[test]
    fn utf32_either_way_reads_as_utf8() {
        let units = || ['\u{feff}'].into_iter().chain(TEXT.chars()).map(u32::from);
        let le: Vec<u8> = units().flat_map(u32::to_le_bytes).collect();
        let be: Vec<u8> = units().flat_map(u32::to_be_bytes).collect();
        assert_eq!(utf8_of(le), TEXT);
        assert_eq!(utf8_of(be), TEXT);
    }

    #[test]
    fn long_text_crosses_chunks_unharmed() {
        let long = "Ceasefire talks résumé 🕊 ".repeat(20_000);
        let bytes: Vec<u8> = ['\u{feff}']
            .into_iter()
            .chain(long.chars())
            .map(u32::from)
            .flat_map(u32::to_le_bytes)
            .collect();
        assert_eq!(utf8_of(bytes), long);
    }
}
