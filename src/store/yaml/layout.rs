//! Where each node of a parsed YAML file sits in its bytes.
//!
//! The splicing writer needs, for every leaf that may change, the byte range
//! to replace and enough context to write valid YAML there: whether the leaf
//! is inside a flow collection (where an envelope must be quoted), the column
//! of its key or dash (where a block scalar's lines go), and whether it is a
//! sequence item (an encrypted comment element becomes a `#` line again).
//! Per document it needs where the `sops` block is (to drop it) and where a
//! new one goes.

use std::ops::Range;

use granit_parser::ScalarStyle;
use zeroize::Zeroizing;

use crate::tree::Src;

/// How a scalar was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

impl TokenStyle {
    pub(super) fn of(style: ScalarStyle) -> TokenStyle {
        match style {
            ScalarStyle::Plain => TokenStyle::Plain,
            ScalarStyle::SingleQuoted => TokenStyle::SingleQuoted,
            ScalarStyle::DoubleQuoted => TokenStyle::DoubleQuoted,
            ScalarStyle::Literal => TokenStyle::Literal,
            ScalarStyle::Folded => TokenStyle::Folded,
        }
    }
}

/// A byte range of the source in 32 bits: a layout holds one position per
/// token, which made the layout entries the largest part of a large
/// file's peak memory at 48 bytes each (24 now). Sources of 4 GiB or more
/// are refused by the parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SrcSpan {
    start: u32,
    end: u32,
}

impl SrcSpan {
    /// `range`, which the parser has checked to lie below 4 GiB.
    pub fn of(range: Range<usize>) -> SrcSpan {
        let narrow = |at: usize| u32::try_from(at).expect("the parser refuses sources of 4 GiB or more");
        SrcSpan { start: narrow(range.start), end: narrow(range.end) }
    }

    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A layout without its source, which the builder only borrows.
pub(super) struct LayoutParts {
    pub(super) entries: Vec<SrcEntry>,
    pub(super) documents: Vec<DocumentLayout>,
    pub(super) line_break: &'static str,
}

impl LayoutParts {
    pub(super) fn into_layout(self, source: Zeroizing<String>) -> Layout {
        let LayoutParts { entries, documents, line_break } = self;
        Layout { source, entries, documents, line_break, overrides: Default::default() }
    }
}

/// The position of one node or comment.
#[derive(Clone, Debug)]
pub enum SrcEntry {
    /// A scalar value.
    Scalar(ScalarPos),
    /// An alias (`*name`), whose expansion may need rewriting.
    Alias(SrcSpan),
    /// A comment: from `#` to the end of its text.
    Comment(SrcSpan),
    /// A mapping or sequence: enough to add, remove and replace entries.
    Collection(Box<CollectionEntry>),
}

/// Where a scalar is: the bytes to replace (from its tag or block
/// indicator to its end), how it was written, and its context.
#[derive(Clone, Debug)]
pub struct ScalarPos {
    span: SrcSpan,
    /// Byte offset of the `-` when the scalar is a block sequence item,
    /// else `NO_DASH`.
    dash: u32,
    /// The column a block scalar's lines are indented from: the dash of a
    /// sequence item (plus 2), or the mapping's key column (plus the
    /// indent width), where a mapping that is a sequence item counts
    /// from its dash, as go-yaml lays it out.
    owner_column: u32,
    pub style: TokenStyle,
    pub flow: bool,
}

impl ScalarPos {
    const NO_DASH: u32 = u32::MAX;

    pub fn new(
        range: Range<usize>,
        style: TokenStyle,
        flow: bool,
        owner_column: usize,
        dash: Option<usize>,
    ) -> Self {
        let dash = dash.map_or(Self::NO_DASH, |at| SrcSpan::of(at..at).start);
        // A column is at most the source's length, so it fits too.
        let owner_column = SrcSpan::of(owner_column..owner_column).start;
        ScalarPos { span: SrcSpan::of(range), dash, owner_column, style, flow }
    }

    pub fn range(&self) -> Range<usize> {
        self.span.range()
    }

    pub fn dash(&self) -> Option<usize> {
        (self.dash != Self::NO_DASH).then_some(self.dash as usize)
    }

    pub fn owner_column(&self) -> usize {
        self.owner_column as usize
    }
}

/// Where a mapping's or sequence's entries are.
#[derive(Clone, Debug)]
pub struct CollectionEntry {
    pub is_map: bool,
    pub flow: bool,
    /// A flow collection's whole text (`{...}`, `[...]`); for a block one,
    /// from its first entry to the end of its last entry's line.
    pub range: Range<usize>,
    /// Column of the keys or dashes.
    pub indent: usize,
    /// Each entry's lines (block collections): a pair from its key's line
    /// (or the key itself when something precedes it on the line, like a
    /// sequence dash) to the end of its value's last line; an item from its
    /// dash. With the key names of a mapping's pairs, in order.
    pub entries: Vec<OriginalEntry>,
    /// The names of keys not written as themselves ([`EntryKey::Named`]).
    pub named_keys: Vec<Box<str>>,
    /// The source handles of the entries' values (a sequence's items, a
    /// mapping's values), in order, to tell which original ones are still
    /// there.
    pub item_srcs: Vec<Src>,
}

impl CollectionEntry {
    /// The key of original entry `i`: `None` for a sequence item.
    pub fn key<'a>(&'a self, i: usize, source: &'a str) -> Option<&'a str> {
        match self.entries[i].key {
            EntryKey::Item => None,
            EntryKey::InSource { start, len } => source.get(start as usize..(start + len) as usize),
            EntryKey::Named(at) => self.named_keys.get(at as usize).map(|name| &**name),
        }
    }
}

/// One original entry of a block collection: its key and its lines. There
/// is one per mapping entry and sequence item of the file, so it is kept to
/// 20 bytes (it was 40, 24 MB of a 10 MB file's decryption).
#[derive(Clone, Debug)]
pub struct OriginalEntry {
    pub key: EntryKey,
    lines: SrcSpan,
}

impl OriginalEntry {
    pub fn new(key: EntryKey, lines: Range<usize>) -> OriginalEntry {
        OriginalEntry { key, lines: SrcSpan::of(lines) }
    }

    /// From the key's line (or the key itself, or the dash) to the end of
    /// the value's last line.
    pub fn lines(&self) -> Range<usize> {
        self.lines.range()
    }
}

/// The key of an original mapping entry. Most keys are written as their
/// names (plain keys), so they are found in the source rather than copied:
/// a copy per key was 7% of the peak memory of a decryption.
#[derive(Clone, Copy, Debug)]
pub enum EntryKey {
    /// The entry is a sequence item.
    Item,
    /// The key's name is the source text at `start`.
    InSource { start: u32, len: u32 },
    /// A key written otherwise (quoted, escaped, tagged): its name is the
    /// collection's `named_keys[i]`.
    Named(u32),
}

impl EntryKey {
    /// The key `name`, written at byte `start` of `source`; a name not found
    /// there is added to `named_keys`.
    pub fn new(name: &str, start: usize, source: &str, named_keys: &mut Vec<Box<str>>) -> EntryKey {
        let written_as_name = source.as_bytes().get(start..start + name.len()) == Some(name.as_bytes());
        match (written_as_name, u32::try_from(start), u32::try_from(name.len())) {
            (true, Ok(start), Ok(len)) if start.checked_add(len).is_some() => {
                EntryKey::InSource { start, len }
            }
            _ => {
                named_keys.push(name.into());
                // At most one name per source byte, and sources are below 4 GiB.
                EntryKey::Named(u32::try_from(named_keys.len() - 1).expect("fewer names than source bytes"))
            }
        }
    }
}

/// One document's position in the file.
#[derive(Clone, Debug, Default)]
pub struct DocumentLayout {
    /// Where a new `sops` block is inserted: the end of the document's text.
    pub insert_at: usize,
    /// Column of the top-level keys.
    pub top_column: usize,
    /// The top-level mapping is a flow mapping or absent: the document is
    /// written fresh instead of spliced.
    pub not_spliceable: bool,
    /// The lines of the top-level `sops` entry, when the document has one.
    pub sops_range: Option<Range<usize>>,
    /// The top-level mapping's position (a `Collection` entry).
    pub root: Src,
}

/// The original bytes of a YAML file and where its nodes are.
pub struct Layout {
    pub(crate) source: Zeroizing<String>,
    pub(crate) entries: Vec<SrcEntry>,
    pub(crate) documents: Vec<DocumentLayout>,
    /// `\r\n` when the file's first line break is one.
    pub(crate) line_break: &'static str,
    /// Remembered original texts of values, used instead of the default
    /// rendering when they still spell the same value (see `style`).
    pub(crate) overrides: crate::secret::TokenTexts,
}

impl std::fmt::Debug for Layout {
    /// The source may be plaintext: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Layout({} bytes, {} positions)", self.source.len(), self.entries.len())
    }
}

impl Layout {
    pub(crate) fn entry(&self, src: Src) -> Option<&SrcEntry> {
        self.entries.get(src.get()?)
    }

    /// The original text of a scalar or alias (its whole token, including
    /// quotes, tag or block header), for remembering how it was written.
    pub fn token_text(&self, src: Src) -> Option<&str> {
        match self.entry(src)? {
            SrcEntry::Scalar(pos) => self.source.get(pos.range()),
            SrcEntry::Alias(span) | SrcEntry::Comment(span) => self.source.get(span.range()),
            SrcEntry::Collection(_) => None,
        }
    }

    /// The original bytes.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Where the first document's `sops` entry starts, when it has one.
    pub fn metadata_start(&self) -> Option<usize> {
        self.documents.first()?.sops_range.as_ref().map(|range| range.start)
    }

    /// Use these texts for the values at these positions when writing.
    pub fn set_overrides(&mut self, overrides: crate::secret::TokenTexts) {
        self.overrides = overrides;
    }
}
