//! Writing a YAML tree back into the bytes it came from.
//!
//! Only what changed is rewritten: each changed leaf's token, each changed
//! comment's text, the `sops` block (dropped, replaced or appended), and
//! aliases whose expansion now differs from their anchor. Everything else -
//! indentation, quoting of keys, blank lines, comments, key order - is copied
//! through. Edits come in source order as the tree is walked, so each is
//! written out at once, after the source text before it, into one wiping
//! buffer. Should one come out of order (a `sops` block that is not last,
//! entries removed from a mapping), that pass is dropped and a second one
//! collects every edit, sorts them and applies them; that is rare, and the
//! first pass keeps the common case from holding every new text twice.
//!
//! When the tree holds something with no position (a node added after
//! parsing), or a document cannot be spliced (a flow mapping at the top),
//! the whole file is emitted fresh instead; splicing never guesses.

use foldhash::{HashMap, HashMapExt};
use std::ops::Range;

use super::emit::{self, ScalarContext};
use super::layout::{CollectionEntry, Layout, OriginalEntry, ScalarPos, SrcEntry, TokenStyle};
use super::plain_as_written::{is_plain_as_written, is_plain_without_analysis};
use super::splice_match::{OriginalItems, OriginalPairs};
use crate::cipher::looks_encrypted;
use crate::error::Result;
use crate::secret::SecretBuf;
use crate::store::StoreOptions;
use crate::tree::{Comment, MapItem, Node, Scalar, SeqItem, Src, Tree, Value};

struct Edit {
    range: Range<usize>,
    /// Where the new text is in `Collector::texts`.
    text: Range<usize>,
}

/// Something in the tree that splicing cannot place.
struct NeedsFresh;

/// Write `tree` into its original layout; see the module docs.
pub fn emit_spliced(
    tree: &Tree,
    layout: &Layout,
    metadata: Option<&Node>,
    options: &StoreOptions,
) -> Result<Vec<u8>> {
    if tree.documents.len() != layout.documents.len() || layout.documents.iter().any(|d| d.not_spliceable) {
        return emit::emit_fresh(tree, metadata, options);
    }
    // A decryption's output is about a quarter of its source, an
    // encryption's up to about four and a half times (plus the metadata):
    // room for five, as growing past four copied the 10 MB file's 42 MB
    // output into a new 80 MB buffer (253 instead of 212 MiB at the peak).
    // Capacity that is never written costs address space, not memory (see
    // SecretBuf).
    let capacity = if metadata.is_some() { layout.source.len() * 5 + 4096 } else { layout.source.len() + 64 };
    let streaming = Sink::Streaming { out: SecretBuf::with_capacity(capacity), at: 0 };
    let sink = match collect_edits(tree, layout, metadata, options, streaming) {
        Ok(Sink::Streaming { mut out, at }) => {
            out.extend(&layout.source.as_bytes()[at..]);
            return Ok(out.into_vec());
        }
        Ok(_) => collect_edits(
            tree,
            layout,
            metadata,
            options,
            Sink::Buffered(Vec::new(), SecretBuf::with_capacity(layout.source.len() + 64)),
        ),
        Err(NeedsFresh) => Err(NeedsFresh),
    };
    match sink {
        Ok(Sink::Buffered(mut edits, texts)) => {
            edits.sort_by_key(|e| (e.range.start, e.range.end));
            if edits.windows(2).any(|w| w[0].range.end > w[1].range.start) {
                return emit::emit_fresh(tree, metadata, options);
            }
            Ok(apply(layout, &edits, &texts))
        }
        Ok(_) => unreachable!("a buffering pass stays buffering"),
        Err(NeedsFresh) => emit::emit_fresh(tree, metadata, options),
    }
}

/// Walk the tree, handing every edit to `sink`; the sink as it ends up.
fn collect_edits(
    tree: &Tree,
    layout: &Layout,
    metadata: Option<&Node>,
    options: &StoreOptions,
    sink: Sink,
) -> std::result::Result<Sink, NeedsFresh> {
    let mut collector = Collector { layout, options, sink };
    for (document, doc_layout) in tree.documents.iter().zip(&layout.documents) {
        match layout.entry(doc_layout.root) {
            Some(SrcEntry::Collection(entry)) if entry.is_map && !entry.flow => {
                collector.block_map(&document.items, entry, true)?
            }
            _ => collector.map_items(&document.items)?,
        }
        let block = metadata.map(|meta| collector.metadata_block(meta, doc_layout.top_column));
        match (&doc_layout.sops_range, block) {
            (Some(range), block) => collector.edit(range.clone(), block.unwrap_or_default()),
            (None, Some(block)) => {
                let at = doc_layout.insert_at;
                let source = layout.source.as_bytes();
                let mut text = String::new();
                if at > 0 && source[at - 1] != b'\n' {
                    text.push_str(layout.line_break);
                }
                text.push_str(&block);
                collector.edit(at..at, text);
            }
            (None, None) => {}
        }
        if matches!(collector.sink, Sink::OutOfOrder) {
            break;
        }
    }
    Ok(collector.sink)
}

fn apply(layout: &Layout, edits: &[Edit], texts: &SecretBuf) -> Vec<u8> {
    let source = layout.source.as_bytes();
    let texts = texts.as_slice();
    let mut out = SecretBuf::with_capacity(source.len() + texts.len());
    let mut at = 0;
    for edit in edits {
        out.extend(&source[at..edit.range.start]);
        out.extend(&texts[edit.text.clone()]);
        at = edit.range.end;
    }
    out.extend(&source[at..]);
    out.into_vec()
}

/// Where the edits go.
enum Sink {
    /// Every edit so far came after the one before it: the output up to
    /// source offset `at` is written.
    Streaming { out: SecretBuf, at: usize },
    /// An edit came before the one before it: this pass is dropped.
    OutOfOrder,
    /// Every edit, with its new text in one wiping buffer (a string per
    /// edit would be far more memory: a 10 MB file has 290,000).
    Buffered(Vec<Edit>, SecretBuf),
}

struct Collector<'a> {
    layout: &'a Layout,
    options: &'a StoreOptions,
    sink: Sink,
}

impl Collector<'_> {
    /// Replace `range` of the source with `text`, which is wiped here.
    fn edit(&mut self, range: Range<usize>, mut text: String) {
        match &mut self.sink {
            Sink::Streaming { out, at } if range.start >= *at => {
                out.extend(&self.layout.source.as_bytes()[*at..range.start]);
                out.extend(text.as_bytes());
                *at = range.end;
            }
            // Dropping the output wipes it.
            Sink::Streaming { .. } => self.sink = Sink::OutOfOrder,
            Sink::OutOfOrder => {}
            Sink::Buffered(edits, texts) => {
                let start = texts.as_slice().len();
                texts.extend(text.as_bytes());
                edits.push(Edit { range, text: start..texts.as_slice().len() });
            }
        }
        crate::secret::wipe_string(&mut text);
    }

    fn map_items(&mut self, items: &[MapItem]) -> std::result::Result<(), NeedsFresh> {
        for item in items {
            match item {
                MapItem::Comment(comment) => self.comment(comment)?,
                MapItem::Pair(pair) => self.node(&pair.value)?,
            }
        }
        Ok(())
    }

    fn comment(&mut self, comment: &Comment) -> std::result::Result<(), NeedsFresh> {
        if !comment.changed {
            return Ok(());
        }
        let text = format!("#{}", String::from_utf8_lossy(comment.text.as_bytes()));
        match self.layout.entry(comment.src) {
            Some(SrcEntry::Comment(span)) => self.edit(span.range(), text),
            // An encrypted comment that sops wrote as a sequence element
            // (`- ENC[...,type:comment]`) becomes a comment line again.
            Some(SrcEntry::Scalar(pos)) if pos.dash().is_some() => {
                self.edit(pos.dash().unwrap_or_default()..pos.range().end, text)
            }
            _ => return Err(NeedsFresh),
        }
        Ok(())
    }

    fn node(&mut self, node: &Node) -> std::result::Result<(), NeedsFresh> {
        if let Some(SrcEntry::Alias(span)) = self.layout.entry(node.src) {
            if any_changed(node) {
                let text = flow_text(node);
                self.edit(span.range(), text);
            }
            return Ok(());
        }
        let collection = match self.layout.entry(node.src) {
            Some(SrcEntry::Collection(entry)) => Some(&**entry),
            _ => None,
        };
        match (&node.value, collection) {
            (Value::Map(items), Some(entry)) if entry.is_map && !entry.flow => {
                self.block_map(items, entry, false)
            }
            (Value::Seq(items), Some(entry)) if !entry.is_map && !entry.flow => self.block_seq(items, entry),
            (Value::Map(_) | Value::Seq(_), Some(entry))
                if entry.flow && flow_shape_changed(node, entry, self.layout) =>
            {
                self.edit(entry.range.clone(), flow_text(node));
                Ok(())
            }
            (Value::Map(items), _) => self.map_items(items),
            (Value::Seq(items), _) => {
                for item in items {
                    match item {
                        SeqItem::Comment(comment) => self.comment(comment)?,
                        SeqItem::Value(value) => self.node(value)?,
                    }
                }
                Ok(())
            }
            (Value::Scalar(scalar), _) => {
                if !node.changed {
                    return Ok(());
                }
                let Some(SrcEntry::Scalar(pos)) = self.layout.entry(node.src) else {
                    return Err(NeedsFresh);
                };
                let range = pos.range();
                let site = LeafSite::of(self.layout, pos);
                let remembered = self.layout.overrides.get(&node.src).map(|memory| memory.as_str());
                let text = leaf_text(&site, scalar, self.options, remembered);
                self.edit(range, text);
                Ok(())
            }
        }
    }

    /// A block mapping whose pairs may have been added, removed or given a
    /// value of another kind: pairs are matched to the original ones by key;
    /// a removed pair's lines go, a new pair is written after the pair before
    /// it, and a pair whose value no longer fits its original text is
    /// rewritten whole. Everything else is spliced as usual.
    /// At the top level the original `sops` entry is not the tree's (the
    /// metadata is handled on its own) and is left to `collect_edits`.
    fn block_map(
        &mut self,
        items: &[MapItem],
        entry: &CollectionEntry,
        top_level: bool,
    ) -> std::result::Result<(), NeedsFresh> {
        let source = self.layout.source();
        let mut seen = vec![false; entry.entries.len()];
        let mut by_key = OriginalPairs::InOrder(0);
        let mut insert_at = entry.range.start;
        for item in items {
            let pair = match item {
                MapItem::Comment(comment) => {
                    self.comment(comment)?;
                    continue;
                }
                MapItem::Pair(pair) => pair,
            };
            match by_key.take(&pair.key.name, entry, source) {
                Some(i) => {
                    seen[i] = true;
                    let lines = entry.entries[i].lines();
                    insert_at = lines.end;
                    if self.fits(&pair.value) {
                        self.node(&pair.value)?;
                    } else {
                        let text = self.pair_text(pair, entry.indent, lines.start);
                        self.edit(lines, text);
                    }
                }
                None => {
                    let text = self.pair_text(pair, entry.indent, insert_at);
                    self.edit(insert_at..insert_at, text);
                }
            }
        }
        for (i, lines) in entry.entries.iter().map(OriginalEntry::lines).enumerate() {
            let metadata_entry = top_level && entry.key(i, source) == Some("sops");
            if !seen[i] && !metadata_entry {
                self.edit(lines, String::new());
            }
        }
        Ok(())
    }

    /// A block sequence whose items may have been added, removed or
    /// replaced; items are matched to the original ones by their position
    /// handles.
    fn block_seq(
        &mut self,
        items: &[SeqItem],
        entry: &CollectionEntry,
    ) -> std::result::Result<(), NeedsFresh> {
        let mut seen = vec![false; entry.entries.len()];
        let mut originals = OriginalItems::InOrder(0);
        let mut insert_at = entry.range.start;
        for item in items {
            let value = match item {
                SeqItem::Comment(comment) => {
                    self.comment(comment)?;
                    continue;
                }
                SeqItem::Value(value) => value,
            };
            let original = originals.take(value.src, entry, &seen);
            match original {
                Some(i) => {
                    seen[i] = true;
                    let lines = entry.entries[i].lines();
                    insert_at = lines.end;
                    self.node(value)?;
                }
                None => {
                    let text = self.item_text(value, entry.indent, insert_at);
                    self.edit(insert_at..insert_at, text);
                }
            }
        }
        for (i, lines) in entry.entries.iter().map(OriginalEntry::lines).enumerate() {
            if !seen[i] {
                self.edit(lines, String::new());
            }
        }
        Ok(())
    }

    /// Does a value still fit the text it came from (so it can be spliced
    /// into it)?
    fn fits(&self, node: &Node) -> bool {
        match (&node.value, self.layout.entry(node.src)) {
            (_, Some(SrcEntry::Alias(_))) => true,
            (Value::Scalar(_), Some(SrcEntry::Scalar(_))) => true,
            (Value::Map(_), Some(SrcEntry::Collection(c))) => c.is_map,
            (Value::Seq(_), Some(SrcEntry::Collection(c))) => !c.is_map,
            _ => false,
        }
    }

    /// A new `key: value` entry at `indent`, as lines.
    fn pair_text(&self, pair: &crate::tree::Pair, indent: usize, at: usize) -> String {
        let mut text = self.line_start_prefix(at);
        text.push_str(&" ".repeat(indent));
        text.push_str(&emit::render_key(&pair.key));
        text.push(':');
        text.push_str(&emit::emit_block_value(&pair.value, indent, self.options));
        self.with_line_breaks(text)
    }

    /// A new `- item` at `indent`, as lines (collections in flow style).
    fn item_text(&self, node: &Node, indent: usize, at: usize) -> String {
        let mut text = self.line_start_prefix(at);
        text.push_str(&" ".repeat(indent));
        text.push_str("- ");
        match &node.value {
            Value::Scalar(scalar) => {
                let ctx = ScalarContext {
                    flow: false,
                    block_indent: indent + 2,
                    is_key: false,
                    parent_column: indent,
                };
                text.push_str(&render_leaf(scalar, &ctx));
            }
            _ => text.push_str(&flow_text(node)),
        }
        if !text.ends_with('\n') {
            text.push('\n');
        }
        self.with_line_breaks(text)
    }

    /// A line break first when text is inserted after a last line that has
    /// none.
    fn line_start_prefix(&self, at: usize) -> String {
        let source = self.layout.source.as_bytes();
        if at > 0 && source.get(at - 1) != Some(&b'\n') { "\n".to_owned() } else { String::new() }
    }

    fn with_line_breaks(&self, text: String) -> String {
        if self.layout.line_break != "\n" { text.replace('\n', self.layout.line_break) } else { text }
    }

    fn metadata_block(&self, metadata: &Node, top_column: usize) -> String {
        metadata_block(metadata, top_column, self.layout.line_break, self.options)
    }
}

/// `sops:` and the metadata mapping, at the document's top-level column.
pub(super) fn metadata_block(
    metadata: &Node,
    top_column: usize,
    line_break: &str,
    options: &StoreOptions,
) -> String {
    let mut text = " ".repeat(top_column);
    text.push_str("sops:");
    text.push_str(&emit::emit_block_value(metadata, top_column, options));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    if line_break != "\n" {
        text = text.replace('\n', line_break);
    }
    text
}

/// Where a leaf is written: enough to render its new text without the
/// layout, so a reader that streams a file (`one_pass`) renders each
/// value exactly as splicing the tree would.
pub(super) struct LeafSite<'a> {
    pub source: &'a str,
    pub line_break: &'static str,
    pub pos: &'a ScalarPos,
}

impl<'a> LeafSite<'a> {
    fn of(layout: &'a Layout, pos: &'a ScalarPos) -> LeafSite<'a> {
        LeafSite { source: &layout.source, line_break: layout.line_break, pos }
    }

    fn at(layout: &'a Layout, src: Src) -> Option<LeafSite<'a>> {
        match layout.entry(src) {
            Some(SrcEntry::Scalar(pos)) => Some(LeafSite::of(layout, pos)),
            _ => None,
        }
    }

    /// The context a value's text is written in: go-yaml indents a block
    /// scalar two columns after a sequence dash, and under a key to the
    /// next multiple of the indent width.
    fn context(&self, options: &StoreOptions) -> ScalarContext {
        let width = emit::indent_width(options);
        let owner_column = self.pos.owner_column();
        let block_indent = if self.pos.dash().is_some() {
            owner_column + 2
        } else {
            width * ((owner_column + width) / width)
        };
        ScalarContext { flow: self.pos.flow, block_indent, is_key: false, parent_column: owner_column }
    }
}

/// A changed leaf's new text: its remembered text (style memory) when that
/// still spells the value, else the default rendering.
pub(super) fn leaf_text(
    site: &LeafSite,
    scalar: &Scalar,
    options: &StoreOptions,
    remembered: Option<&str>,
) -> String {
    let remembered = remembered.and_then(|memory| {
        let text = match memory.strip_prefix(QUOTE_MARK) {
            Some(quote) => quoted_at(site, scalar, quote.chars().next()?, options)?,
            None => memory.to_owned(),
        };
        if !spells(&text, scalar) {
            return None;
        }
        Some(fit_text(site, text))
    });
    match remembered {
        Some(text) => text,
        None => fit_text(site, render_leaf(scalar, &site.context(options))),
    }
}

/// The text a changed leaf is written as by default, fitted to the bytes it
/// replaces; `None` when the position is not a scalar's.
#[cfg(test)]
pub(crate) fn rendered_text(
    layout: &Layout,
    src: Src,
    scalar: &Scalar,
    options: &StoreOptions,
) -> Option<String> {
    let site = LeafSite::at(layout, src)?;
    Some(fit_text(&site, render_leaf(scalar, &site.context(options))))
}

/// Adjust a value's text to the bytes it replaces: a block scalar's text
/// ends with a line break, which the token it replaces may or may not
/// include; and the file's own line breaks are used.
fn fit_text(site: &LeafSite, mut text: String) -> String {
    let pos = site.pos;
    let original_ends_line = site.source.as_bytes().get(pos.range().end.wrapping_sub(1)) == Some(&b'\n')
        && matches!(pos.style, TokenStyle::Literal | TokenStyle::Folded);
    let rendered_ends_line = text.ends_with('\n');
    if rendered_ends_line && !original_ends_line {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    } else if original_ends_line && !rendered_ends_line {
        text.push('\n');
    }
    if site.line_break != "\n" && text.contains('\n') {
        text = text.replace("\r\n", "\n").replace('\n', site.line_break);
    }
    text
}

/// The original texts of leaves whose default rendering would differ, by
/// position: what style memory must remember for `decrypt(encrypt(x))` to
/// give `x` back.
pub fn styled_tokens(tree: &Tree, layout: &Layout, options: &StoreOptions) -> crate::secret::TokenTexts {
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
                let Some(site) = LeafSite::at(layout, node.src) else { continue };
                if let Some(text) = styled_token(&site, scalar, options) {
                    styled.insert(node.src, zeroize::Zeroizing::new(text));
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

/// What style memory must remember of the value at `site` (its original
/// token text, or its quote), when the default rendering would differ.
pub(super) fn styled_token(site: &LeafSite, scalar: &Scalar, options: &StoreOptions) -> Option<String> {
    let (range, style) = (site.pos.range(), &site.pos.style);
    let original = &site.source[range.clone()];
    let column =
        range.start - memchr::memrchr(b'\n', &site.source.as_bytes()[..range.start]).map_or(0, |i| i + 1);
    if *style == TokenStyle::Plain && is_plain_as_written(scalar, original, column) {
        return None;
    }
    if fit_text(site, render_leaf(scalar, &site.context(options))) == original {
        return None;
    }
    // A quoted string that its quotes alone explain is remembered as the
    // quote, so changing the value keeps the memory as it is.
    let quote = original.chars().next().filter(|c| *c == '\'' || *c == '"');
    let by_quote = quote.filter(|q| {
        quoted_at(site, scalar, *q, options).map(|text| fit_text(site, text)).as_deref() == Some(original)
    });
    Some(match by_quote {
        Some(q) => format!("{QUOTE_MARK}{q}"),
        None => original.to_owned(),
    })
}

/// Marks a remembered style that is a string's quote character rather than
/// its whole text (a character no YAML source can contain).
const QUOTE_MARK: char = '\u{1}';

/// A string value written in `quote`s at a position, when that works.
fn quoted_at(site: &LeafSite, scalar: &Scalar, quote: char, options: &StoreOptions) -> Option<String> {
    super::emit_scalar::render_quoted(scalar.as_str()?, quote, &site.context(options))
}

/// Does this YAML text, as a mapping value, read back as exactly `scalar`?
fn spells(text: &str, scalar: &Scalar) -> bool {
    let document = format!("x: {text}{}", if text.ends_with('\n') { "" } else { "\n" });
    let Ok((tree, _)) = super::parse::parse(document.as_bytes()) else {
        return false;
    };
    match tree.documents.first().and_then(|d| d.get("x")) {
        Some(Node { value: Value::Scalar(parsed), .. }) => crate::style::same_value(parsed, scalar),
        _ => false,
    }
}

/// A leaf's text: envelopes as plain scalars (quoted inside flow
/// collections, where `[`, `]` and `,` are syntax), other values as go-yaml
/// writes them.
fn render_leaf(scalar: &Scalar, ctx: &ScalarContext) -> String {
    match scalar {
        // The text is checked for UTF-8 once, then for the two shortcuts.
        Scalar::Str(bytes) => match bytes.as_str() {
            Some(text) if is_envelope_text(text) => {
                return if ctx.flow { format!("\"{text}\"") } else { text.to_owned() };
            }
            Some(text) if is_plain_without_analysis(text) => return text.to_owned(),
            _ => {}
        },
        // Numbers, booleans, null and times are written as their plain
        // text, which never holds a space or a line break layout could touch.
        _ => {
            if let Some(text) = super::emit_scalar::plain_text(scalar).filter(|t| !t.contains([' ', '\n'])) {
                return text;
            }
        }
    }
    emit::render_scalar(scalar, ctx)
}

/// An `ENC[...]` envelope: safe to write as a plain scalar in block context
/// because it has no spaces, quotes or `#`.
pub(super) fn is_envelope_text(text: &str) -> bool {
    let bytes = text.as_bytes();
    // The type field is last, so the search from the end is short; and the
    // byte test has no early exit, so it runs many bytes at a time (a
    // substring searcher and a byte-at-a-time scan were 1,700 instructions
    // for each value written).
    let unsafe_byte =
        |b: u8| b.is_ascii_whitespace() | (b == b'"') | (b == b'\'') | (b == b'#') | (b == b'\\');
    looks_encrypted(text)
        && text.ends_with(']')
        && bytes.windows(6).rev().any(|w| w == b",type:")
        && !bytes.iter().fold(false, |found, &b| found | unsafe_byte(b))
}

/// Did a flow collection gain, lose or replace entries (so it is written
/// again whole)?
fn flow_shape_changed(node: &Node, entry: &CollectionEntry, layout: &Layout) -> bool {
    let fits = |child: &Node| match (&child.value, layout.entry(child.src)) {
        (Value::Scalar(_), Some(SrcEntry::Scalar(_))) | (_, Some(SrcEntry::Alias(_))) => true,
        (Value::Map(_), Some(SrcEntry::Collection(c))) => c.is_map,
        (Value::Seq(_), Some(SrcEntry::Collection(c))) => !c.is_map,
        _ => false,
    };
    let children: Vec<&Node> = match &node.value {
        Value::Map(items) => items
            .iter()
            .filter_map(|i| match i {
                MapItem::Pair(p) => Some(&p.value),
                MapItem::Comment(_) => None,
            })
            .collect(),
        Value::Seq(items) => items
            .iter()
            .filter_map(|i| match i {
                SeqItem::Value(v) => Some(v),
                SeqItem::Comment(_) => None,
            })
            .collect(),
        Value::Scalar(_) => return true,
    };
    children.len() != entry.item_srcs.len()
        || children.iter().zip(&entry.item_srcs).any(|(child, src)| child.src != *src || !fits(child))
}

/// An expanded alias written on one line in flow style, which fits in any
/// context without re-indenting. Comments inside it cannot be kept.
fn flow_text(node: &Node) -> String {
    let mut out = String::new();
    write_flow(node, &mut out);
    out
}

fn write_flow(node: &Node, out: &mut String) {
    let ctx = ScalarContext { flow: true, block_indent: 0, is_key: false, parent_column: 0 };
    match &node.value {
        Value::Scalar(scalar) => out.push_str(&render_leaf(scalar, &ctx)),
        Value::Map(items) => {
            out.push('{');
            let mut first = true;
            for item in items {
                if let MapItem::Pair(pair) = item {
                    if !first {
                        out.push_str(", ");
                    }
                    first = false;
                    out.push_str(&emit::render_key(&pair.key));
                    out.push_str(": ");
                    write_flow(&pair.value, out);
                }
            }
            out.push('}');
        }
        Value::Seq(items) => {
            out.push('[');
            let mut first = true;
            for item in items {
                if let SeqItem::Value(value) = item {
                    if !first {
                        out.push_str(", ");
                    }
                    first = false;
                    write_flow(value, out);
                }
            }
            out.push(']');
        }
    }
}

fn any_changed(node: &Node) -> bool {
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        if node.changed {
            return true;
        }
        match &node.value {
            Value::Map(items) => {
                for item in items {
                    match item {
                        MapItem::Pair(pair) => stack.push(&pair.value),
                        MapItem::Comment(c) if c.changed => return true,
                        MapItem::Comment(_) => {}
                    }
                }
            }
            Value::Seq(items) => {
                for item in items {
                    match item {
                        SeqItem::Value(value) => stack.push(value),
                        SeqItem::Comment(c) if c.changed => return true,
                        SeqItem::Comment(_) => {}
                    }
                }
            }
            Value::Scalar(_) => {}
        }
    }
    false
}
