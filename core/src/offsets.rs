//! Offsets: byte spans inside the engine, the caller's unit at the edge.
//!
//! Every stage carries UTF-8 byte offsets into the original document.
//! Callers choose the unit of the spans they receive: UTF-8 bytes (Rust,
//! C), Unicode code points (Python string indices) or UTF-16 code units
//! (JavaScript, Java, .NET). The conversion happens once, when an
//! `Extraction` is built, through an [`OffsetMap`].

use serde::{Deserialize, Serialize};

use crate::extraction::Span;

/// The unit of every `start` / `end` in an extraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum OffsetUnit {
    /// UTF-8 bytes: `&text[start..end]` in Rust.
    Utf8,
    /// Unicode scalar values (code points): `text[start:end]` in Python.
    #[default]
    Char,
    /// UTF-16 code units: `text.slice(start, end)` in JavaScript.
    Utf16,
}

impl OffsetUnit {
    /// The name used in the schema and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            OffsetUnit::Utf8 => "utf8",
            OffsetUnit::Char => "char",
            OffsetUnit::Utf16 => "utf16",
        }
    }
}

impl std::str::FromStr for OffsetUnit {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "utf8" | "utf-8" | "byte" | "bytes" => Ok(OffsetUnit::Utf8),
            "char" | "chars" | "codepoint" | "codepoints" => Ok(OffsetUnit::Char),
            "utf16" | "utf-16" => Ok(OffsetUnit::Utf16),
            other => Err(format!("unknown offset unit '{other}': use utf8, char or utf16")),
        }
    }
}

/// Converts byte offsets of one document into another unit.
///
/// Built once per document in O(n); each conversion is then a binary search
/// over the document's multi-byte characters only (ASCII text costs nothing).
#[derive(Debug, Clone)]
pub struct OffsetMap {
    /// Byte offset of each non-ASCII character, with the unit offset at
    /// which it starts and the number of extra bytes it occupies beyond its
    /// width in the target unit.
    wide: Vec<(usize, usize)>,
}

impl OffsetMap {
    /// A converter for `text` into `unit`.
    pub fn new(text: &str, unit: OffsetUnit) -> Self {
        let mut wide = Vec::new();
        if unit != OffsetUnit::Utf8 {
            // Running difference between bytes and target units after each
            // wide char.
            let mut shrink = 0usize;
            for (i, c) in text.char_indices() {
                let bytes = c.len_utf8();
                if bytes > 1 {
                    let units = match unit {
                        OffsetUnit::Char => 1,
                        OffsetUnit::Utf16 => c.len_utf16(),
                        OffsetUnit::Utf8 => bytes,
                    };
                    shrink += bytes - units;
                    wide.push((i + bytes, shrink));
                }
            }
        }
        OffsetMap { wide }
    }

    /// The document's byte range `bytes` (char boundaries) as a span in
    /// the target unit.
    pub fn span(&self, bytes: &std::ops::Range<usize>) -> Span {
        Span { start: self.convert(bytes.start), end: self.convert(bytes.end) }
    }

    /// `byte` (a char boundary of the document) in the target unit.
    pub fn convert(&self, byte: usize) -> usize {
        // Entries are (byte just after a wide char, total shrink so far).
        match self.wide.partition_point(|&(after, _)| after <= byte) {
            0 => byte,
            k => byte - self.wide[k - 1].1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_every_boundary() {
        let text = "a€b😀c\u{301}東";
        for unit in [OffsetUnit::Utf8, OffsetUnit::Char, OffsetUnit::Utf16] {
            let map = OffsetMap::new(text, unit);
            for (i, _) in text.char_indices().chain([(text.len(), ' ')]) {
                let want = match unit {
                    OffsetUnit::Utf8 => i,
                    OffsetUnit::Char => text[..i].chars().count(),
                    OffsetUnit::Utf16 => text[..i].encode_utf16().count(),
                };
                assert_eq!(map.convert(i), want, "{unit:?} at byte {i}");
            }
        }
    }

    #[test]
    fn parses_unit_names() {
        assert_eq!("utf16".parse::<OffsetUnit>(), Ok(OffsetUnit::Utf16));
        assert!("lines".parse::<OffsetUnit>().unwrap_err().contains("utf8, char or utf16"));
    }
}
