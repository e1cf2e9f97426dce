//! The dotenv store: sops's line format, read and written so that sops and
//! we agree on every file either of us can read, plus three things sops
//! lacks.
//!
//! sops's dotenv dialect is tiny (spec 8.3): split on `\n`, skip empty
//! lines, `#` in column 0 starts a comment, every other line is `KEY=value`
//! with the key everything before the first `=` and the value everything
//! after it, verbatim, where only the two characters `\n` mean something (a
//! newline). Quotes, `export` and spaces are part of the key or value. We
//! keep that dialect exactly for the file, because it is what makes sops
//! decrypt our files and us decrypt sops's, byte for byte: the additional
//! data of each value is its key as written, and the plaintext is the value
//! as written.
//!
//! What we add:
//!
//! * **Multi-line double-quoted values.** A value that opens a `"` and does
//!   not close it on its line continues over the following lines up to the
//!   first line that closes it, *when sops could not read those lines on
//!   their own* (one of them is neither empty, nor a comment, nor contains
//!   `=`). So a file sops accepts is read exactly as sops reads it, and a PEM
//!   block in quotes, which sops rejects, becomes one value (see
//!   [`parse`] and `docs/formats.md` (dotenv)).
//! * **The dialect people mean** ([`interpret`]): `export`, quotes, escapes
//!   and inline comments, as a pure function for `exec-env` and
//!   conversions. The store itself never applies it: values stay raw.
//! * **Errors instead of silent changes** when writing: a value whose text
//!   would read back as something else (a literal backslash-`n`), a key the
//!   format cannot hold, a nested value, more than one document.
//!
//! Layout is kept by splicing, as in the JSON store: [`parse`] records each
//! entry's byte range in a flat table (the [`Layout`]), every tree node
//! carries its index there as its [`Src`], and [`emit_spliced`] copies the
//! original bytes, rewriting only the entries marked `changed`, dropping the
//! original `sops_*` lines and appending the new ones. Blank lines, which
//! sops drops, survive; so does a missing final newline. A multi-line value
//! is written on one line with `\n` escapes when it changes (that is the
//! sops dialect), and style memory brings its original form back on
//! decryption (see [`Layout::styled_tokens`]).

mod dialect;
mod emit;
mod parse;
mod splice;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_dialect;
#[cfg(test)]
mod tests_errors;
#[cfg(test)]
mod tests_interop;
#[cfg(test)]
mod tests_props;

use foldhash::{HashMap, HashMapExt};
use std::fmt;

use zeroize::Zeroizing;

use crate::tree::{MapItem, Node, Scalar, Src, Tree, Value};

pub use dialect::{Interpreted, interpret};
pub use emit::{emit_fresh, emit_value};
pub use parse::parse;
pub use splice::emit_spliced;

/// The format name used in error messages.
const FORMAT: &str = "dotenv";

/// The prefix that marks a line as metadata, wherever it is (spec 5.5.3).
const METADATA_PREFIX: &str = "sops_";

/// What a record of the file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RecordKind {
    /// `#text`: a [`MapItem::Comment`].
    Comment,
    /// `KEY=value`: a [`MapItem::Pair`].
    Pair,
    /// `sops_KEY=value`: part of the metadata, never written back.
    Metadata,
}

/// One entry of the file: a comment line, or a pair spanning one line or,
/// for a multi-line double-quoted value, several.
#[derive(Clone, Copy, Debug)]
struct Record {
    kind: RecordKind,
    /// The first byte of the record's first line.
    start: u32,
    /// Pairs: the `=` ending the key. Comments: `start` (the `#`).
    eq: u32,
    /// One past the last byte of the record's last line, before its `\n`.
    end: u32,
    /// How many empty lines come right before this record.
    blank_before: u32,
}

impl Record {
    fn key_range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.eq as usize
    }

    /// The value as written, after the `=` (for comments, the text after the `#`).
    fn value_range(&self) -> std::ops::Range<usize> {
        self.eq as usize + 1..self.end as usize
    }
}

/// A parsed dotenv file's original bytes and where every entry sits in
/// them, indexed by [`Src`].
pub struct Layout {
    /// The input as given; it is plaintext, so it is wiped when dropped.
    text: crate::secret::SecretVec,
    records: Vec<Record>,
    /// Empty lines after the last record.
    trailing_blank_lines: u32,
    /// Whether the last line ends with `\n` (an empty file counts as one
    /// that does: what we append to it is terminated, as sops writes it).
    final_newline: bool,
    /// Remembered original texts of values (style memory), written instead
    /// of the default rendering when they still read back as the same value.
    overrides: HashMap<Src, Zeroizing<String>>,
}

impl Layout {
    /// The original text of the value for `src`, as written after its `=`
    /// (quotes, `\n` escapes and, for a multi-line value, line breaks
    /// included), for remembering how a value was written.
    pub fn token_text(&self, src: Src) -> Option<&str> {
        let record = self.records.get(src.get()?)?;
        if record.kind != RecordKind::Pair {
            return None;
        }
        std::str::from_utf8(&self.text[record.value_range()]).ok()
    }

    /// Use these texts for the values at these positions when splicing.
    pub fn set_overrides(&mut self, overrides: crate::secret::TokenTexts) {
        self.overrides = overrides;
    }

    /// The original texts of values whose default rendering would differ,
    /// by position (what style memory keeps). In the sops dialect a value
    /// read from one line is written back exactly as it was, so only
    /// multi-line values qualify: the default rendering puts them on one
    /// line with `\n` escapes.
    pub fn styled_tokens(&self, tree: &Tree) -> crate::secret::TokenTexts {
        let mut styled = HashMap::new();
        for document in &tree.documents {
            for item in &document.items {
                let MapItem::Pair(pair) = item else { continue };
                let Node { value: Value::Scalar(Scalar::Str(_)), src, .. } = pair.value else { continue };
                let Some(token) = self.token_text(src) else { continue };
                if token.contains('\n') {
                    styled.insert(src, Zeroizing::new(token.to_owned()));
                }
            }
        }
        styled
    }

    /// The remembered text for the value at `src`, when it still reads back
    /// as exactly `scalar`, in one piece.
    fn override_for(&self, src: Src, scalar: &Scalar) -> Option<&str> {
        let text = self.overrides.get(&src)?;
        let Scalar::Str(value) = scalar else { return None };
        // Read it back the way the whole file will be read: as the value of
        // a line of its own. The lines around it in the output cannot change
        // how it reads (a following line never joins a value that its own
        // lines do not continue; see `parse`), so this check is enough.
        let mut document = Zeroizing::new(Vec::with_capacity(text.len() + 2));
        document.extend_from_slice(b"K=");
        document.extend_from_slice(text.as_bytes());
        let (tree, _) = parse::parse(&document).ok()?;
        match tree.documents.first()?.items.as_slice() {
            [MapItem::Pair(pair)] if pair.key.name == "K" => match &pair.value.value {
                Value::Scalar(Scalar::Str(parsed)) if parsed == value => Some(text.as_str()),
                _ => None,
            },
            _ => None,
        }
    }
}

impl fmt::Debug for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The text is plaintext: describe its shape only.
        f.debug_struct("Layout")
            .field("bytes", &self.text.len())
            .field("records", &self.records.len())
            .field("trailing_blank_lines", &self.trailing_blank_lines)
            .field("final_newline", &self.final_newline)
            .field("overrides", &self.overrides.len())
            .finish()
    }
}
