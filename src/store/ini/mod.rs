//! The INI store: a reader that follows go-ini (the library sops uses) rule
//! for rule while remembering where everything was, a splicing writer that
//! keeps the file's own layout, and a fresh emitter that writes exactly what
//! sops writes.
//!
//! sops reads INI with gopkg.in/ini.v1 1.67.1 (non-unique sections) and
//! writes it back with the same library, which rewrites the whole file:
//! `=` signs aligned per section, comments moved above their keys, `#`
//! turned into `;`, quotes dropped, continuation lines joined. That is the
//! right output when there is no original text ([`emit_fresh`] reproduces
//! it byte for byte), but a hand-written file deserves to come back as it
//! was. So [`parse`] records where every section, value token and comment
//! sits (the [`Layout`]), tree nodes carry an index into that table as their
//! [`Src`], and [`emit_spliced`] copies the original bytes, replacing only
//! the text of values and comments marked `changed`, dropping the old
//! `[sops]` section and appending the new one.
//!
//! The tree is the one sops builds, because the MAC, the additional data of
//! every value and the comment-regex rules are all defined on it: each
//! section is a top-level pair whose value maps its keys (keys before the
//! first header belong to `DEFAULT`, which always comes first); a comment
//! block and the inline comment of a key are one comment entry placed after
//! the key; a section's comment is its first entry. Two things go beyond
//! sops, both so that nothing is lost or left in the clear: comments after
//! the last key of the file (which go-ini drops) are kept as a trailing
//! comment of the last section, and duplicate keys are kept as separate
//! entries (go-ini keeps the last value; refusing them is the caller's
//! choice).
//!
//! What a plaintext value or comment looked like (`"quoted"`, a continued
//! line, a `#` comment block with blank lines in it) cannot be recovered
//! from its envelope, so the writer renders values the way go-ini writes
//! them unless style memory gives back the original text; comments keep the
//! marker and spacing of their first line in the encrypted file, so the
//! usual one-line comments come back unchanged even without memory.
//!
//! Everything that may be plaintext (the input, comment buffers, output)
//! lives in zeroizing buffers, and no error message quotes the input.

mod emit;
mod parse;
mod render;
mod splice;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_input;
#[cfg(test)]
mod tests_interop;
#[cfg(test)]
mod tests_props;
#[cfg(test)]
mod tests_roundtrip;

use foldhash::{HashMap, HashMapExt};
use std::fmt;
use std::ops::Range;

use crate::tree::{MapItem, Node, Scalar, Src, Tree, Value};

pub use emit::{emit_fresh, emit_value};
pub use parse::parse;
pub use splice::emit_spliced;

/// The format name used in error messages.
const FORMAT: &str = "ini";

/// A half-open byte range into the original text, kept small because a
/// layout holds one per value and comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn new(start: usize, end: usize) -> Span {
        Span { start: start as u32, end: end as u32 }
    }

    fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// Where a section sits.
#[derive(Clone, Debug)]
struct SectionEntry {
    /// The section's text: its comment lines (if it has a comment block),
    /// header, keys, up to where the next section's text begins.
    region: Span,
    /// Where keys added to the section are written: after its last key
    /// (before any trailing comment), or after its header.
    insert_at: u32,
}

/// Where a value sits.
#[derive(Clone, Copy, Debug)]
struct ValueEntry {
    /// The value as written: from its first byte after the delimiter and
    /// spaces to its end (a quoted value up to the end of its line, a
    /// continued value up to its last line). What a change replaces and
    /// what style memory remembers.
    token: Span,
    /// The whole key line (lines, for a continued or multi-line value),
    /// from its start to its line break inclusive: what removing the key
    /// removes.
    line: Span,
}

/// What a comment is attached to, which decides how go-ini writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CommentOwner {
    /// The comment of the key whose value is this table index.
    Key(u32),
    /// A section's own comment (before or after its header).
    Section(u32),
    /// Comments after the last key of the file, which go-ini drops.
    Trailing,
}

/// Where a comment sits: up to two pieces, whole lines before its owner and
/// an inline part after the owner's value or header.
#[derive(Clone, Copy, Debug)]
struct CommentEntry {
    /// Comment lines and the blank lines between them, from the start of
    /// the first line to the end of the last one's text (its trailing
    /// spaces and line break are not part of it).
    block: Option<Span>,
    /// From the end of the owner's value token (or its `]`) to the end of
    /// the comment text.
    inline: Option<Span>,
    /// Where an inline part goes: the end of the owner's value token or
    /// just after its `]`.
    anchor: u32,
    /// The start of the owner's line, where a block goes when there is none.
    owner_line: u32,
    owner: CommentOwner,
}

#[derive(Clone, Debug)]
enum Entry {
    Section(SectionEntry),
    Value(ValueEntry),
    Comment(CommentEntry),
}

/// A parsed INI file's original bytes and the position of every section,
/// value and comment in them, indexed by [`Src`].
pub struct Layout {
    /// The input as given; it is plaintext, so it is wiped when dropped.
    text: crate::secret::SecretVec,
    entries: Vec<Entry>,
    /// The first `[sops]` section: from its header line to the next
    /// section's text or the end.
    sops: Option<Span>,
    /// Whether the file's line breaks are CRLF.
    crlf: bool,
    /// Remembered original texts (style memory), written instead of the
    /// default rendering when they still read back as the same value or
    /// comment.
    overrides: crate::secret::TokenTexts,
}

impl Layout {
    /// The original text of the value token for `src` (e.g. `"quoted"`,
    /// `` `p#q` ``), for remembering how a value was written.
    pub fn token_text(&self, src: Src) -> Option<&str> {
        match self.entry(src)? {
            Entry::Value(value) => self.str_at(value.token),
            _ => None,
        }
    }

    /// Use these texts for the values and comments at these positions when
    /// splicing.
    pub fn set_overrides(&mut self, overrides: crate::secret::TokenTexts) {
        self.overrides = overrides;
    }

    /// The original texts of values and comments whose default rendering
    /// would differ, by position (what style memory keeps). A value's entry
    /// is its token; a comment's is its lines and inline part (the length
    /// of the lines, a line break, the lines, the inline part). Comments
    /// are bound to their envelopes' tags like values.
    pub fn styled_tokens(&self, tree: &Tree) -> crate::secret::TokenTexts {
        let mut styled = HashMap::new();
        for document in &tree.documents {
            for item in &document.items {
                let MapItem::Pair(section) = item else { continue };
                let Value::Map(items) = &section.value.value else { continue };
                for item in items {
                    match item {
                        MapItem::Pair(pair) => {
                            let Value::Scalar(scalar) = &pair.value.value else { continue };
                            let Some(original) = self.token_text(pair.value.src) else { continue };
                            let rendered = render::value_token(scalar);
                            if rendered.as_slice() != original.as_bytes() {
                                styled.insert(pair.value.src, zeroize::Zeroizing::new(original.to_owned()));
                            }
                        }
                        MapItem::Comment(comment) => {
                            if let Some(memory) = splice::comment_memory(self, comment) {
                                styled.insert(comment.src, zeroize::Zeroizing::new(memory));
                            }
                        }
                    }
                }
            }
        }
        styled
    }

    /// The remembered text for the value at `src`, when it still reads back
    /// as exactly `scalar` in its place.
    fn value_override(&self, src: Src, scalar: &Scalar) -> Option<&str> {
        let text = self.overrides.get(&src)?;
        let Scalar::Str(expected) = scalar else { return None };
        let Entry::Value(entry) = self.entry(src)? else { return None };
        if !parse::token_reads_as(text, expected.as_bytes()) {
            return None;
        }
        // A continued value reads on until a blank line; it may only come
        // back where a blank line or the end of the file still follows.
        if text.trim_end().ends_with('\\') && !self.blank_after(entry.token.end as usize) {
            return None;
        }
        Some(text)
    }

    fn entry(&self, src: Src) -> Option<&Entry> {
        self.entries.get(src.get()?)
    }

    fn str_at(&self, span: Span) -> Option<&str> {
        std::str::from_utf8(self.text.get(span.range())?).ok()
    }

    /// Whether only spaces follow `at` on its line and the next line is
    /// blank or missing.
    fn blank_after(&self, at: usize) -> bool {
        let rest = &self.text[at..];
        let line_end = rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |n| n + 1);
        let is_blank = |bytes: &[u8]| std::str::from_utf8(bytes).is_ok_and(|s| s.trim().is_empty());
        if !is_blank(&rest[..line_end]) {
            return false;
        }
        let next = &rest[line_end..];
        let next_end = next.iter().position(|&b| b == b'\n').map_or(next.len(), |n| n + 1);
        is_blank(&next[..next_end])
    }

    /// `span` widened to whole lines: to just past the line break of the
    /// line it ends on.
    fn whole_lines(&self, span: Span) -> Span {
        let rest = &self.text[span.end as usize..];
        let end =
            rest.iter().position(|&b| b == b'\n').map_or(self.text.len(), |n| span.end as usize + n + 1);
        Span::new(span.start as usize, end)
    }

    /// The line break new lines are written with.
    fn newline(&self) -> &'static [u8] {
        if self.crlf { b"\r\n" } else { b"\n" }
    }

    /// The byte range of the `[sops]` section, if the file has one.
    pub fn sops_section(&self) -> Option<Range<usize>> {
        self.sops.map(Span::range)
    }
}

impl fmt::Debug for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The text is plaintext: describe its shape only.
        f.debug_struct("Layout")
            .field("bytes", &self.text.len())
            .field("entries", &self.entries.len())
            .field("sops", &self.sops)
            .field("crlf", &self.crlf)
            .field("overrides", &self.overrides.len())
            .finish()
    }
}

/// Whether a node is a section value (a mapping), the only thing INI holds
/// at the top level.
fn is_section(node: &Node) -> bool {
    matches!(node.value, Value::Map(_))
}
