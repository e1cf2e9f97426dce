//! The JSON store: a parser that remembers where everything was, a splicing
//! writer that keeps the file's own layout, and a fresh emitter that writes
//! exactly what sops writes.
//!
//! sops itself never keeps a JSON file's layout: it decodes the tokens into
//! its tree and writes the tree back with Go's `json.Marshal` followed by
//! `json.Indent` (one TAB per level). That is the right output when there is
//! no original text, and [`emit_fresh`] reproduces it byte for byte. But a
//! user's hand-written file (two-space indentation, short arrays on one
//! line, numbers written as `1.0`) would be rewritten wholesale by every
//! encrypt and decrypt, so when the original bytes are at hand we splice
//! instead: [`parse`] records the byte span of every value and member key in
//! a flat table (the [`Layout`]), each tree node carries its index in that
//! table as its [`Src`], and [`emit_spliced`] copies the original bytes,
//! replacing only the tokens of leaves marked `changed`.
//!
//! Identity is by `Src`, not by position. The splicer matches each container's
//! children in the tree against the container's original children in order:
//! a child whose `Src` is the next original child (or a later one, the ones
//! skipped being deleted) keeps its bytes; a child without a `Src` (added by
//! `set`, or the new metadata) is rendered fresh, indented like its siblings.
//! Separators are taken from the original gaps, so deleting the old `sops`
//! member and appending the new one leaves everything else byte-identical.
//! This gives one mechanism for all edits instead of a special case for the
//! metadata, and it never needs to fall back to a fresh file for a single
//! JSON document.
//!
//! The top-level member named `sops` is reserved: both writers leave out any
//! such member of the tree and write `metadata` there instead, so a caller
//! may hand in the parsed tree with or without its old metadata member.
//!
//! The parser is a single pass with an explicit stack (hostile nesting
//! cannot overflow the call stack, and [`MAX_DEPTH`] bounds the recursion of
//! everything that later walks the tree). Values are typed as sops 3.11 types
//! them, with one deliberate correction: integer literals that a float
//! cannot hold exactly are kept as exact digits (`Scalar::BigInt`).
//! Errors name a line and column and never quote the input, which may be a
//! secret.

mod emit;
mod parse;
mod splice;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_input;
#[cfg(test)]
mod tests_props;

use std::fmt;
use std::ops::Range;

use foldhash::{HashMap, HashMapExt};

use crate::tree::{MapItem, Node, Scalar, SeqItem, Src, Tree, Value};

pub use emit::{emit_fresh, emit_value, render_scalar};
pub use parse::{parse, parse_owned};
pub use splice::emit_spliced;

/// The deepest nesting of objects and arrays accepted, the top-level object
/// counting as one. Real files stay far below it (serde_json stops at 128;
/// Go at 10,000). It is low enough that every recursive consumer of the
/// tree (walk, emitters, clone, drop) is safe at this depth even in a debug
/// build on a 2 MiB thread stack: the splicer, the deepest, needs about
/// 2 KiB a level there and 0.5 KiB in release.
pub const MAX_DEPTH: usize = 256;

/// The deepest nesting the writers accept. Trees from other formats may be
/// deeper than a JSON file we would read; the limit only keeps writing
/// from exhausting the stack.
pub const MAX_EMIT_DEPTH: usize = 2 * MAX_DEPTH;

/// The format name used in error messages.
const FORMAT: &str = "json";

/// Eight bytes at a time: whether any byte of `word` is below 0x20, at or
/// above 0x80, or equal to one of `special`. Strings are most of a sops
/// file, and nearly all of their bytes need no attention, so the scanners
/// skip whole words and look at single bytes only near a hit (the test has
/// false positives, never false negatives).
#[inline]
fn word_needs_attention(word: u64, special: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let mut hits = (word.wrapping_sub(ONES * 0x20) | word) & HIGH;
    for &byte in special {
        hits |= has_zero(word ^ (ONES * byte as u64));
    }
    hits != 0
}

/// The eight bytes at `at`, if there are that many.
#[inline]
fn word_at(bytes: &[u8], at: usize) -> Option<u64> {
    let chunk = bytes.get(at..at + 8)?;
    Some(u64::from_le_bytes(chunk.try_into().expect("eight bytes")))
}

/// Marks the absence of a key (array elements, the top-level object) or of a
/// parent (the top-level object) in a [`Span`].
const NONE: u32 = u32::MAX;

/// Where one value sits in the original bytes. Index 0 of the table is the
/// top-level object; every other entry is the value of a member or element,
/// numbered in document (pre-)order, so a subtree is a contiguous range of
/// indices.
#[derive(Clone, Copy, Debug)]
struct Span {
    /// The value's token: `"..."`, `1.0`, or a whole `{...}`/`[...]`.
    start: u32,
    end: u32,
    /// The member's key token including quotes; `NONE` for elements.
    key_start: u32,
    key_end: u32,
    /// The index of the enclosing container; `NONE` for the top level.
    parent: u32,
    /// One past the last index in this value's subtree: the index of the
    /// next sibling, if there is one.
    subtree_end: u32,
}

impl Span {
    /// Where the member (key included) or element begins.
    fn member_start(&self) -> usize {
        if self.key_start == NONE { self.start as usize } else { self.key_start as usize }
    }
}

/// One level of indentation as the file writes it: a run of TABs or spaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndentUnit {
    pub byte: u8,
    pub width: usize,
}

/// A parsed JSON file's original bytes and the position of every value in
/// them, indexed by [`Src`].
pub struct Layout {
    /// The input as given; it is plaintext, so it is wiped when dropped.
    text: crate::secret::SecretVec,
    spans: Vec<Span>,
    /// The table index of the value of the last top-level `sops` member.
    sops: Option<u32>,
    /// The indentation step, when the file shows one.
    indent: Option<IndentUnit>,
    /// Whether the file's line breaks are CRLF.
    crlf: bool,
    /// Remembered original texts of values (style memory), written instead
    /// of the default rendering when they still spell the same value.
    overrides: crate::secret::TokenTexts,
}

impl Layout {
    /// The original text of the token for `src` (e.g. `1.0`,
    /// `"caf\u00e9"`), for remembering how a value was written.
    pub fn token_text(&self, src: Src) -> Option<&str> {
        let span = self.spans.get(src.get()?)?;
        std::str::from_utf8(&self.text[span.start as usize..span.end as usize]).ok()
    }

    /// Use these texts for the values at these positions when splicing.
    pub fn set_overrides(&mut self, overrides: crate::secret::TokenTexts) {
        self.overrides = overrides;
    }

    /// The original texts of leaves whose default rendering would differ,
    /// by position (what style memory keeps).
    pub fn styled_tokens(&self, tree: &Tree) -> crate::secret::TokenTexts {
        let mut styled = HashMap::new();
        let mut stack: Vec<&Node> = Vec::new();
        for document in &tree.documents {
            stack.extend(document.items.iter().filter_map(|i| match i {
                MapItem::Pair(p) => Some(&p.value),
                MapItem::Comment(_) => None,
            }));
        }
        while let Some(node) = stack.pop() {
            match &node.value {
                Value::Scalar(scalar) => {
                    let Some(original) = self.token_text(node.src) else { continue };
                    // A string written as itself in quotes is what the
                    // writer writes: known without rendering it.
                    if let Scalar::Str(bytes) = scalar
                        && original.len() == bytes.len() + 2
                        && original.starts_with('"')
                        && original.ends_with('"')
                        && &original.as_bytes()[1..original.len() - 1] == bytes.as_bytes()
                        && !emit::needs_escape(bytes.as_bytes())
                    {
                        continue;
                    }
                    if render_scalar(scalar).ok().as_deref() != Some(original) {
                        styled.insert(node.src, zeroize::Zeroizing::new(original.to_owned()));
                    }
                }
                Value::Map(items) => stack.extend(items.iter().filter_map(|i| match i {
                    MapItem::Pair(p) => Some(&p.value),
                    MapItem::Comment(_) => None,
                })),
                Value::Seq(items) => stack.extend(items.iter().filter_map(|i| match i {
                    SeqItem::Value(v) => Some(v),
                    SeqItem::Comment(_) => None,
                })),
            }
        }
        styled
    }

    /// The remembered text for the value at `src`, when it still reads back
    /// as exactly `scalar`.
    pub(crate) fn override_for(&self, src: Src, scalar: &Scalar) -> Option<&str> {
        let text = self.overrides.get(&src)?;
        let document = zeroize::Zeroizing::new(format!("{{\"x\": {}}}", text.as_str()));
        let (tree, _) = parse::parse(document.as_bytes()).ok()?;
        match tree.documents.first()?.get("x")? {
            Node { value: Value::Scalar(parsed), .. } if crate::style::same_value(parsed, scalar) => {
                Some(text)
            }
            _ => None,
        }
    }

    /// The byte range of the top-level `sops` member, key included.
    pub fn sops_member(&self) -> Option<Range<usize>> {
        let span = self.spans[self.sops? as usize];
        Some(span.member_start()..span.end as usize)
    }

    /// The byte offset of the top-level object's closing brace.
    pub fn closing_brace(&self) -> usize {
        self.spans[0].end as usize - 1
    }

    /// The indentation step detected in the file, if any.
    pub fn indent(&self) -> Option<IndentUnit> {
        self.indent
    }
}

impl fmt::Debug for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The text is plaintext: describe its shape only.
        f.debug_struct("Layout")
            .field("bytes", &self.text.len())
            .field("values", &self.spans.len())
            .field("sops", &self.sops)
            .field("indent", &self.indent)
            .field("crlf", &self.crlf)
            .finish()
    }
}
