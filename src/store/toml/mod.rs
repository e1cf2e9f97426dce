//! The TOML store. sops has none (its issue #369), so the layout is ours;
//! `docs/formats.md` (TOML) describes it for other tools.
//!
//! Reading uses `toml_edit`'s span-keeping [`toml_edit::Document`]: it gives
//! the logical tables in first-appearance order (which becomes the tree's
//! order, and so the walk, MAC and additional-data order) together with the
//! byte span of every value token and of every stretch of whitespace and
//! comments ("decor"). [`parse`] builds the tree from it and records each
//! node's position in a flat table (the [`Layout`]); each tree node carries
//! its index in that table as its [`Src`], as in the JSON store.
//!
//! Writing a file back splices instead of re-serialising: the output is the
//! original text with the tokens of changed values and the text of changed
//! comments replaced, the old `[sops]` table cut out, and the new one
//! appended. `toml_edit`'s own writer keeps nearly everything, but not all:
//! it regroups dotted keys that are interleaved with other keys
//! (`a.x = 1`, `b = 2`, `a.y = 3`), so splicing the original bytes is the
//! only way to promise `decrypt(encrypt(x)) == x` byte for byte for every
//! valid file, and it is one linear pass. When the tree's shape no longer
//! matches the text (keys added or removed by an edit), the writer goes
//! through `toml_edit::DocumentMut` instead, which keeps comments and
//! formatting of everything it does not touch.
//!
//! Comments are entries of the tree like YAML's: a comment line above a key
//! (or on its line, after the value) belongs to the table holding the key; a
//! comment above or on a `[table]` header belongs to the table's parent,
//! just before it; one above or on an `[[array]]` header belongs to that
//! array, before the element; comments inside an inline array belong to the
//! array; comments at the end of the file belong to the root. Each is
//! encrypted with its container's path as additional data, as sops does for
//! YAML, and written `#ENC[...,type:comment]`.
//!
//! TOML has types sops lacks: local date-times, dates and times, which have
//! no offset and so cannot be a `time` value. They are read as strings
//! holding the TOML literal (`1979-05-27`), and style memory, which
//! remembers every token that a plain rendering would spell differently,
//! writes them back bare on decryption; converted to another format they
//! are strings.

mod fresh;
mod parse;
mod rebuild;
mod render;
mod splice;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_ops;

use foldhash::{HashMap, HashMapExt};
use std::fmt;
use std::ops::Range;

use zeroize::Zeroizing;

use crate::tree::{MapItem, Node, Scalar, SeqItem, Src, Tree, Value};

pub use fresh::{emit_fresh, emit_value};
pub use parse::{parse, parse_owned};
pub use splice::emit_spliced;

/// The format name used in error messages.
const FORMAT: &str = "toml";

/// What a position in the [`Layout`] table points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlotKind {
    /// A scalar, array or inline table token (`"x"`, `0x1F`, `[1, 2]`).
    Value,
    /// A table, array of tables or dotted table: no token of its own.
    Container,
    /// A comment's text, after the `#` and up to the end of its line.
    Comment,
}

/// One entry of the position table.
#[derive(Clone, Copy, Debug)]
struct Slot {
    start: u32,
    end: u32,
    kind: SlotKind,
}

impl Slot {
    fn range(&self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A parsed TOML file's original text and the position of every node in it,
/// indexed by [`Src`].
pub struct Layout {
    /// The input as given; it is plaintext, so it is wiped when dropped.
    text: Zeroizing<String>,
    slots: Vec<Slot>,
    /// The slots of the top-level `sops` entry's subtree (contiguous: the
    /// table is numbered in one piece).
    sops_slots: Range<u32>,
    /// The byte ranges a writer cuts to drop the original metadata.
    sops_cut: Vec<Range<usize>>,
    /// Set when the metadata is written in a form the splicer cannot cut
    /// out (dotted `sops.x = ...` keys spread over the root table).
    sops_uncuttable: bool,
    /// The file's line break: `"\r\n"` when its first one is CRLF.
    newline: &'static str,
    /// Remembered original tokens (style memory), written instead of the
    /// default rendering when they still spell the same value.
    overrides: crate::secret::TokenTexts,
}

impl Layout {
    /// The original text of the token for `src` (e.g. `'x'`, `0x1F`,
    /// `1979-05-27`), for remembering how a value was written.
    pub fn token_text(&self, src: Src) -> Option<&str> {
        let slot = self.slots.get(src.get()?)?;
        (slot.kind == SlotKind::Value).then(|| &self.text[slot.range()])
    }

    /// Use these texts for the values at these positions when splicing.
    pub fn set_overrides(&mut self, overrides: crate::secret::TokenTexts) {
        self.overrides = overrides;
    }

    /// The original tokens of scalar leaves whose default rendering would
    /// differ, by position (what style memory keeps).
    pub fn styled_tokens(&self, tree: &Tree) -> crate::secret::TokenTexts {
        let mut styled = HashMap::new();
        let mut stack: Vec<&Node> = Vec::new();
        for document in &tree.documents {
            stack.extend(pair_values(&document.items));
        }
        while let Some(node) = stack.pop() {
            match &node.value {
                Value::Scalar(scalar) => {
                    let Some(original) = self.token_text(node.src) else { continue };
                    if render::scalar_token(scalar).ok().as_deref() != Some(original) {
                        styled.insert(node.src, Zeroizing::new(original.to_owned()));
                    }
                }
                Value::Map(items) => stack.extend(pair_values(items)),
                Value::Seq(items) => stack.extend(items.iter().filter_map(|item| match item {
                    SeqItem::Value(value) => Some(value),
                    SeqItem::Comment(_) => None,
                })),
            }
        }
        styled
    }

    /// The remembered token for the value at `src`, when it still reads back
    /// as exactly `scalar`.
    fn override_for(&self, src: Src, scalar: &Scalar) -> Option<&str> {
        let text = self.overrides.get(&src)?;
        let parsed = parse::scalar_of_token(text)?;
        crate::style::same_value(&parsed, scalar).then_some(text.as_str())
    }
}

impl fmt::Debug for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The text is plaintext: describe its shape only.
        f.debug_struct("Layout")
            .field("bytes", &self.text.len())
            .field("slots", &self.slots.len())
            .field("sops_slots", &self.sops_slots)
            .field("sops_cut", &self.sops_cut)
            .field("crlf", &(self.newline == "\r\n"))
            .finish()
    }
}

/// The values of a mapping's pairs.
fn pair_values(items: &[MapItem]) -> impl Iterator<Item = &Node> {
    items.iter().filter_map(|item| match item {
        MapItem::Pair(pair) => Some(&pair.value),
        MapItem::Comment(_) => None,
    })
}

/// A growing output buffer that wipes what it held: writers copy plaintext
/// into it, and a plain `String` would leave copies behind each time it
/// grows.
struct SecretText(Zeroizing<String>);

impl SecretText {
    fn with_capacity(capacity: usize) -> SecretText {
        SecretText(Zeroizing::new(String::with_capacity(capacity)))
    }

    fn push_str(&mut self, text: &str) {
        if self.0.capacity() - self.0.len() < text.len() {
            let capacity = (self.0.len() + text.len()).max(self.0.capacity() * 2).max(64);
            let mut bigger = String::with_capacity(capacity);
            bigger.push_str(&self.0);
            // Dropping the old buffer wipes it.
            self.0 = Zeroizing::new(bigger);
        }
        self.0.push_str(text);
    }

    fn as_str(&self) -> &str {
        &self.0
    }

    fn ends_with(&self, text: &str) -> bool {
        self.0.ends_with(text)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn into_bytes(mut self) -> Vec<u8> {
        std::mem::take(&mut *self.0).into_bytes()
    }
}
