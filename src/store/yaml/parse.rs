//! YAML bytes to the tree, with every node's position.
//!
//! granit-parser gives a stream of events with byte spans, styles, tags,
//! anchors and comments. This module folds that stream into the tree with an
//! explicit stack (no recursion a file could drive), types scalars the way
//! go-yaml v3 does (through `resolve`), expands aliases against a node
//! budget, and records in the [`Layout`] where each leaf and comment sits.
//!
//! Comments need the most care. sops puts each comment line into the mapping
//! or sequence go-yaml attached it to, and that container's path is the
//! comment's additional data, so a reader must choose the same container or
//! real sops cannot decrypt the comment. go-yaml attaches by position: a
//! comment at the end of a line belongs with the node before it; an own-line
//! comment belongs to the innermost open block whose indentation is at most
//! the comment's column (so a comment indented like a nested mapping's keys
//! belongs to that mapping, and one at column 0 to the top level). Own-line
//! comments are therefore held until the next event shows which blocks are
//! open, and a comment that belongs to an outer block is placed after that
//! block's current entry, where sops's emitter would print it.

use std::hash::BuildHasher;

use foldhash::{HashMap, HashMapExt, HashSet};

use granit_parser::{Event, Options, Parser, Placement, ScalarStyle, Span, StructureStyle};

use super::layout::{
    CollectionEntry, DocumentLayout, EntryKey, Layout, LayoutParts, OriginalEntry, ScalarPos, SrcEntry,
    SrcSpan, TokenStyle,
};
use super::resolve::{Resolved, resolve_plain, resolve_tagged};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;
use crate::tree::{Comment, Document, Key, MapItem, Node, Pair, Scalar, SeqItem, Src, Tree, Value};

/// The deepest block or flow nesting accepted. go-yaml allows more, but no
/// secrets file comes near this, and the limit keeps every later recursive
/// pass over the tree far from the stack's end.
const MAX_NESTING: usize = 200;

/// Nodes that alias expansion may add, at least; larger files get a budget
/// proportional to their size. A billion-laughs document stops here.
const MIN_ALIAS_BUDGET: usize = 1_000_000;

const FORMAT: &str = "yaml";

/// Parse a YAML stream into documents (each a mapping) and their layout.
/// The layout keeps a copy of `input`; [`parse_owned`] keeps the bytes
/// themselves.
pub fn parse(input: &[u8]) -> Result<(Tree, Layout)> {
    parse_owned(crate::secret::SecretVec::new(input.to_vec()))
}

/// [`parse`], keeping `input` as the layout's source instead of a copy of
/// it: a decryption's input is four times the size of its output, and a
/// second copy of it was the largest single item of its peak memory.
pub fn parse_owned(input: crate::secret::SecretVec) -> Result<(Tree, Layout)> {
    let text = crate::secret::into_text(input).map_err(|(bytes, offset)| {
        let (line, column) = line_column(&bytes, offset);
        Error::Parse { format: FORMAT, message: format!("invalid UTF-8 at line {line}, column {column}") }
    })?;
    let (tree, parts) = parse_text(&text)?;
    Ok((tree, parts.into_layout(text)))
}

fn parse_text(text: &str) -> Result<(Tree, LayoutParts)> {
    if text.len() >= u32::MAX as usize {
        // Positions are kept in 32 bits (`layout::SrcSpan`).
        return Err(Error::LimitExceeded { format: FORMAT, message: "the file is 4 GiB or larger".into() });
    }
    if text.trim().is_empty() {
        return Err(Error::EmptyInput);
    }
    if let Some(parsed) = parse_block_subset(text) {
        return parsed;
    }
    let mut builder = Builder::new(text);
    let mut options = Options::default();
    options.block_nesting_limit = MAX_NESTING;
    options.flow_nesting_limit = MAX_NESTING;
    for event in Parser::new_from_str_with_options(text, options) {
        let (event, span) = event.map_err(|e| {
            let mark = e.marker();
            Error::Parse {
                format: FORMAT,
                message: format!("{} at line {}, column {}", e.kind(), mark.line(), mark.col() + 1),
            }
        })?;
        builder.event(event, span)?;
    }
    builder.finish()
}

/// The fast path: the block subset read by `block_scan` into the same
/// builder, or None when the text is outside it (and the builder, which
/// may have seen part of it, is dropped).
fn parse_block_subset(text: &str) -> Option<Result<(Tree, LayoutParts)>> {
    let mut builder = Builder::new(text);
    match super::block_scan::scan(text, |event, span| builder.event(event, span)) {
        super::block_scan::Scan::Declined => None,
        super::block_scan::Scan::Done(Ok(())) => Some(builder.finish()),
        super::block_scan::Scan::Done(Err(error)) => Some(Err(error)),
    }
}

/// granit's events for `text` (for the fast path's differential tests).
#[cfg(test)]
pub(super) fn granit_events(text: &str) -> std::result::Result<Vec<(Event<'_>, Span)>, String> {
    let mut options = Options::default();
    options.block_nesting_limit = MAX_NESTING;
    options.flow_nesting_limit = MAX_NESTING;
    Parser::new_from_str_with_options(text, options).map(|e| e.map_err(|e| e.to_string())).collect()
}

/// 1-based line and column of a byte offset, for messages.
pub(crate) fn line_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    (line, column)
}

enum Items {
    Map {
        items: Vec<MapItem>,
        /// The key waiting for its value, its column and its byte offset.
        pending_key: Option<(Key, usize, usize)>,
        /// Hashes of the keys so far, for duplicates: a hash seen before is
        /// confirmed against the keys in `items`, so a collision never
        /// refuses a file, and no key is copied into the set.
        seen: HashSet<u64>,
    },
    Seq(Vec<SeqItem>),
}

struct Frame {
    items: Items,
    /// Column of the first key or dash: what own-line comments compare with.
    indent: usize,
    flow: bool,
    /// Comments that belong here but arrived while an entry was open.
    deferred: Vec<Comment>,
    anchor: usize,
    src: Src,
    /// End of the last content byte, for the extent of the `sops` entry.
    content_end: usize,
    /// Where the collection starts (its `{`/`[`, or its first entry).
    start: usize,
    /// Each entry's lines, with the key of a mapping's pairs.
    entries: Vec<OriginalEntry>,
    /// Names of its keys not written as themselves.
    named_keys: Vec<Box<str>>,
    /// Source handles of a sequence's items.
    item_srcs: Vec<Src>,
}

/// Where the node being started sits.
#[derive(Clone, Copy)]
struct Context {
    flow: bool,
    owner_column: usize,
    dash: Option<usize>,
    is_key: bool,
}

struct Builder<'s> {
    source: &'s str,
    entries: Vec<SrcEntry>,
    frames: Vec<Frame>,
    documents: Vec<Document>,
    layouts: Vec<DocumentLayout>,
    current_layout: Option<DocumentLayout>,
    root: Option<Node>,
    /// Own-line comments waiting for the next event, with their columns.
    pending: Vec<(Comment, usize)>,
    /// The last event completed an entry of the top frame (for end-of-line
    /// comments, which go before that entry).
    just_completed: bool,
    /// Each anchor's node, its node count and its height (see [`Anchored`]).
    anchors: HashMap<usize, Anchored>,
    alias_budget: usize,
    saw_comment: bool,
}

impl<'s> Builder<'s> {
    fn new(source: &'s str) -> Self {
        Builder {
            source,
            entries: Vec::new(),
            frames: Vec::new(),
            documents: Vec::new(),
            layouts: Vec::new(),
            current_layout: None,
            root: None,
            pending: Vec::new(),
            just_completed: false,
            anchors: HashMap::new(),
            alias_budget: MIN_ALIAS_BUDGET.max(source.len()),
            saw_comment: false,
        }
    }

    fn add_entry(&mut self, entry: SrcEntry) -> Src {
        self.entries.push(entry);
        Src((self.entries.len() - 1) as u32)
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<()> {
        let range = span.byte_range().unwrap_or(0..0);
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Anchor(..) => {}
            Event::DocumentStart(..) => {
                self.current_layout = Some(DocumentLayout::default());
                self.root = None;
                self.anchors.clear();
            }
            Event::DocumentEnd => self.end_document(range.start)?,
            Event::Comment(text, placement) => {
                self.saw_comment = true;
                let src = self.add_entry(SrcEntry::Comment(SrcSpan::of(range.clone())));
                let comment = Comment { text: SecretBytes::from_text(&text), src, changed: false };
                if placement == Placement::Right {
                    self.attach_end_of_line_comment(comment);
                } else {
                    self.pending.push((comment, span.start.col()));
                }
            }
            Event::MappingStart(style, anchor, _) | Event::SequenceStart(style, anchor, _) => {
                let is_map = matches!(event, Event::MappingStart(..));
                let ctx = self.context(range.start);
                if ctx.is_key {
                    // `{}: x`, `? [a, b]`: keys are names in the tree, and
                    // sops (go-yaml into strings) refuses these too. Without
                    // this check the collection would complete as a value
                    // with no key pending (found by fuzzing).
                    let what = if is_map { "a mapping" } else { "a sequence" };
                    return Err(self.error_at(range.start, &format!("{what} cannot be a mapping key")));
                }
                let flow = style == StructureStyle::Flow || ctx.flow;
                let indent = if !is_map && !flow { self.dash_column(range.start) } else { span.start.col() };
                if self.current_layout.as_ref().is_some_and(|_| self.frames.is_empty()) {
                    let layout = self.current_layout.as_mut().expect("checked");
                    layout.top_column = indent;
                    layout.not_spliceable = flow || !is_map;
                }
                // Collections need no position of their own: only their
                // leaves and comments are ever rewritten.
                let src = Src::NONE;
                let items = if is_map {
                    Items::Map { items: Vec::new(), pending_key: None, seen: HashSet::default() }
                } else {
                    Items::Seq(Vec::new())
                };
                self.frames.push(Frame {
                    items,
                    indent,
                    flow,
                    deferred: Vec::new(),
                    anchor,
                    src,
                    content_end: range.end,
                    start: range.start,
                    entries: Vec::new(),
                    named_keys: Vec::new(),
                    item_srcs: Vec::new(),
                });
                self.just_completed = false;
                self.flush_pending();
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.flush_pending();
                let frame = self.frames.pop().expect("the parser balances start and end events");
                let is_map = matches!(frame.items, Items::Map { .. });
                let mut node = match frame.items {
                    Items::Map { items, .. } => Node::map(items),
                    Items::Seq(items) => Node::seq(items),
                };
                let end = if frame.flow { range.end.max(frame.content_end) } else { frame.content_end };
                let collection_range = if frame.flow {
                    frame.start..end
                } else {
                    let first = frame.entries.first().map_or(frame.start, |e| e.lines().start);
                    let last = frame.entries.last().map_or(end, |e| e.lines().end);
                    first..last
                };
                node.src = if frame.src == Src::NONE {
                    self.add_entry(SrcEntry::Collection(Box::new(CollectionEntry {
                        is_map,
                        flow: frame.flow,
                        range: collection_range,
                        indent: frame.indent,
                        entries: frame.entries,
                        named_keys: frame.named_keys,
                        item_srcs: frame.item_srcs,
                    })))
                } else {
                    frame.src
                };
                let item_start = dash_before(self.source, frame.start);
                self.complete(node, frame.anchor, end, item_start)?;
            }
            Event::Scalar(value, style, anchor, tag) => {
                self.flush_pending();
                let ctx = self.context(range.start);
                let token_start = token_start(self.source, &span, style, range.start);
                if ctx.is_key {
                    let key_column = span.start.col();
                    let resolved = resolve_scalar(self.source, &value, style, tag.as_deref(), range.start)?;
                    let is_string = matches!(resolved, Scalar::Str(_));
                    let name = if is_string { value.into_owned() } else { value.trim().to_owned() };
                    self.complete_key(Key { name, is_string }, key_column, range.start, range.end)?;
                    return Ok(());
                }
                let scalar = resolve_scalar(self.source, &value, style, tag.as_deref(), range.start)?;
                let src = self.add_entry(SrcEntry::Scalar(ScalarPos::new(
                    token_start..token_end(self.source, style, range.end),
                    TokenStyle::of(style),
                    ctx.flow,
                    ctx.owner_column,
                    ctx.dash,
                )));
                let mut node = Node::scalar(scalar);
                node.src = src;
                self.complete(node, anchor, range.end, ctx.dash)?;
            }
            Event::Alias(id) => {
                self.flush_pending();
                let ctx = self.context(range.start);
                let Some(anchored) = self.anchors.get(&id) else {
                    return Err(self.error_at(range.start, "unknown anchor"));
                };
                if anchored.count > self.alias_budget {
                    return Err(Error::LimitExceeded {
                        format: FORMAT,
                        message: "the document expands aliases into too many nodes (an alias bomb?)".into(),
                    });
                }
                // The parser bounds the nesting of the text, but an alias
                // pastes a whole subtree where it stands: an anchor 190
                // levels deep aliased inside another 190 levels deep, and so
                // on, builds a tree thousands of levels deep from a few
                // kilobytes, and the recursive passes over the tree (walk,
                // emitters, clone, drop) then overflow the stack. Expanded
                // nesting is held to the same limit as written nesting.
                if !ctx.is_key && self.frames.len() + anchored.height > MAX_NESTING {
                    let (line, column) = line_column(self.source.as_bytes(), range.start);
                    let message = format!(
                        "an alias expands to nesting deeper than {MAX_NESTING} levels at line {line}, column {column}"
                    );
                    return Err(Error::LimitExceeded { format: FORMAT, message });
                }
                self.alias_budget -= anchored.count;
                let mut node = anchored.node.clone();
                if ctx.is_key {
                    let name = self.source.get(range.clone()).unwrap_or("").to_owned();
                    let column = span.start.col();
                    return self.complete_key(Key { name, is_string: false }, column, range.start, range.end);
                }
                node.src = self.add_entry(SrcEntry::Alias(SrcSpan::of(range.clone())));
                self.complete(node, 0, range.end, ctx.dash)?;
            }
            Event::UnresolvedAlias(_) => return Err(self.error_at(range.start, "unknown anchor")),
            _ => {}
        }
        Ok(())
    }

    /// Column of the `-` before a block sequence item starting at `offset`.
    fn dash_column(&self, offset: usize) -> usize {
        column_of(self.source, dash_before(self.source, offset).unwrap_or(offset))
    }

    /// The context of a node starting at `offset`, from the top frame.
    fn context(&self, offset: usize) -> Context {
        match self.frames.last() {
            None => Context { flow: false, owner_column: 0, dash: None, is_key: false },
            Some(frame) => match &frame.items {
                Items::Map { pending_key: None, .. } => {
                    Context { flow: frame.flow, owner_column: frame.indent, dash: None, is_key: true }
                }
                Items::Map { pending_key: Some((_, column, _)), .. } => {
                    Context { flow: frame.flow, owner_column: *column, dash: None, is_key: false }
                }
                Items::Seq(_) => {
                    let dash = if frame.flow { None } else { dash_before(self.source, offset) };
                    let owner_column = dash.map_or(frame.indent, |d| column_of(self.source, d));
                    Context { flow: frame.flow, owner_column, dash, is_key: false }
                }
            },
        }
    }

    fn error_at(&self, offset: usize, message: &str) -> Error {
        error_at(self.source, offset, message)
    }

    fn complete_key(&mut self, key: Key, column: usize, start: usize, end: usize) -> Result<()> {
        let source = self.source.as_bytes();
        let frame = self.frames.last_mut().expect("keys only exist inside mappings");
        let Items::Map { items, pending_key, seen } = &mut frame.items else {
            unreachable!("key outside a mapping")
        };
        let hash = seen.hasher().hash_one(key.name.as_str());
        let repeated = !seen.insert(hash)
            && items.iter().any(|item| matches!(item, MapItem::Pair(pair) if pair.key.name == key.name));
        if repeated {
            let (line, _) = line_column(source, start);
            return Err(Error::Parse {
                format: FORMAT,
                message: format!("mapping key {:?} already defined (duplicate at line {line})", key.name),
            });
        }
        *pending_key = Some((key, column, start));
        frame.content_end = frame.content_end.max(end);
        self.just_completed = false;
        Ok(())
    }

    /// A value is complete: add it to the enclosing collection, or make it
    /// the document's root.
    fn complete(&mut self, node: Node, anchor: usize, end: usize, item_start: Option<usize>) -> Result<()> {
        if anchor != 0 {
            let (count, height) = count_nodes(&node);
            self.anchors.insert(anchor, Anchored { node: strip_sources(node.clone()), count, height });
        }
        let depth = self.frames.len();
        let Some(frame) = self.frames.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        frame.content_end = frame.content_end.max(end);
        let source = self.source;
        match &mut frame.items {
            Items::Map { items, pending_key, .. } => {
                let (key, _, key_start) = pending_key.take().expect("a value follows its key");
                let is_sops = depth == 1 && key.name == "sops";
                if !frame.flow {
                    let entry_key = EntryKey::new(&key.name, key_start, source, &mut frame.named_keys);
                    frame.entries.push(OriginalEntry::new(entry_key, entry_lines(source, key_start, end)));
                }
                frame.item_srcs.push(node.src);
                items.push(MapItem::Pair(Pair { key, value: node }));
                items.extend(frame.deferred.drain(..).map(MapItem::Comment));
                if is_sops {
                    self.record_sops_entry(key_start, end);
                }
            }
            Items::Seq(items) => {
                if !frame.flow {
                    let start = item_start.unwrap_or(end);
                    frame.entries.push(OriginalEntry::new(EntryKey::Item, entry_lines(source, start, end)));
                }
                frame.item_srcs.push(node.src);
                items.push(SeqItem::Value(node));
                items.extend(frame.deferred.drain(..).map(SeqItem::Comment));
            }
        }
        self.just_completed = true;
        Ok(())
    }

    /// The lines of the top-level `sops` entry: from the start of its key's
    /// line to the end of the line where its value ends.
    fn record_sops_entry(&mut self, key_start: usize, end: usize) {
        let Some(layout) = self.current_layout.as_mut() else {
            return;
        };
        let bytes = self.source.as_bytes();
        let line_start = self.source[..key_start].rfind('\n').map_or(0, |p| p + 1);
        if !self.source[line_start..key_start].trim().is_empty() {
            // The key does not start its line (a flow mapping): no splicing.
            layout.not_spliceable = true;
            return;
        }
        let mut line_end = end.min(bytes.len());
        if line_end > 0 && bytes[line_end - 1] != b'\n' {
            line_end = self.source[line_end..].find('\n').map_or(bytes.len(), |p| line_end + p + 1);
        }
        layout.sops_range = Some(line_start..line_end);
    }

    /// An end-of-line comment goes before the entry on its line, in the
    /// collection holding that entry.
    fn attach_end_of_line_comment(&mut self, comment: Comment) {
        let just_completed = self.just_completed;
        let Some(frame) = self.frames.last_mut() else {
            self.pending.push((comment, 0));
            return;
        };
        match &mut frame.items {
            Items::Map { items, .. } => {
                let at = if just_completed && !items.is_empty() { items.len() - 1 } else { items.len() };
                items.insert(at, MapItem::Comment(comment));
            }
            Items::Seq(items) => {
                let at = if just_completed && !items.is_empty() { items.len() - 1 } else { items.len() };
                items.insert(at, SeqItem::Comment(comment));
            }
        }
    }

    /// Place held own-line comments in the innermost open block whose
    /// indentation is at most the comment's column.
    fn flush_pending(&mut self) {
        if self.pending.is_empty() || self.frames.is_empty() {
            return;
        }
        let top = self.frames.len() - 1;
        for (comment, column) in std::mem::take(&mut self.pending) {
            let target = (0..=top)
                .rev()
                .find(|&i| self.frames[i].flow || self.frames[i].indent <= column)
                .unwrap_or(0);
            let frame = &mut self.frames[target];
            if target == top {
                match &mut frame.items {
                    Items::Map { items, .. } => items.push(MapItem::Comment(comment)),
                    Items::Seq(items) => items.push(SeqItem::Comment(comment)),
                }
            } else {
                frame.deferred.push(comment);
            }
        }
    }

    fn end_document(&mut self, end: usize) -> Result<()> {
        let mut layout = self.current_layout.take().unwrap_or_default();
        layout.insert_at = end;
        let mut items = match self.root.take() {
            None => {
                layout.not_spliceable = true;
                Vec::new()
            }
            Some(Node { value: Value::Map(items), src, .. }) => {
                layout.root = src;
                items
            }
            Some(Node { value: Value::Scalar(Scalar::Null), .. }) => {
                layout.not_spliceable = true;
                Vec::new()
            }
            Some(Node { value: Value::Seq(_), .. }) => {
                let (line, _) = line_column(self.source.as_bytes(), end);
                return Err(Error::Shape {
                    format: FORMAT,
                    message: format!("the document ending at line {line} is a sequence, not a mapping"),
                });
            }
            Some(Node { value: Value::Scalar(_), .. }) => {
                let (line, _) = line_column(self.source.as_bytes(), end);
                return Err(Error::Shape {
                    format: FORMAT,
                    message: format!("the document ending at line {line} is a scalar, not a mapping"),
                });
            }
        };
        // Comments after the last entry that no later event claimed.
        items.extend(self.pending.drain(..).map(|(c, _)| MapItem::Comment(c)));
        self.documents.push(Document { items });
        self.layouts.push(layout);
        Ok(())
    }

    fn finish(mut self) -> Result<(Tree, LayoutParts)> {
        if self.documents.is_empty() {
            return Err(if self.saw_comment {
                Error::Parse { format: FORMAT, message: "the file holds only comments (EOF)".into() }
            } else {
                Error::EmptyInput
            });
        }
        if !self.pending.is_empty() {
            let last = self.documents.last_mut().expect("checked above");
            last.items.extend(self.pending.drain(..).map(|(c, _)| MapItem::Comment(c)));
        }
        let line_break = match self.source.find('\n') {
            Some(pos) if pos > 0 && self.source.as_bytes()[pos - 1] == b'\r' => "\r\n",
            _ => "\n",
        };
        let parts = LayoutParts { entries: self.entries, documents: self.layouts, line_break };
        Ok((Tree { documents: self.documents }, parts))
    }
}

/// Where a scalar's replaceable text starts: its tag, or the `|`/`>` of
/// a block scalar, or its first character.
pub(super) fn token_start(source: &str, span: &Span, style: ScalarStyle, start: usize) -> usize {
    let tag_start = span.tag_start().and_then(|m| m.byte_offset());
    match style {
        ScalarStyle::Literal | ScalarStyle::Folded => {
            let from = tag_start.unwrap_or(0).max(line_before(source, start));
            let indicator = if style == ScalarStyle::Literal { '|' } else { '>' };
            let search_end = start.min(source.len());
            source[..search_end]
                .rfind(indicator)
                .filter(|pos| *pos >= from || tag_start.is_none())
                .map(|pos| tag_start.filter(|t| *t < pos).unwrap_or(pos))
                .unwrap_or(start)
        }
        _ => tag_start.filter(|t| *t < start).unwrap_or(start),
    }
}

/// Where a scalar's replaceable text ends. A block scalar's span runs
/// into the indentation of the line after it; stop at its last line
/// break instead, so the next line keeps its indentation.
pub(super) fn token_end(source: &str, style: ScalarStyle, end: usize) -> usize {
    if !matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
        return end;
    }
    let before = &source[..end.min(source.len())];
    match memchr::memrchr(b'\n', before.as_bytes()) {
        Some(newline) if before[newline + 1..].bytes().all(|b| b == b' ' || b == b'\t') => newline + 1,
        _ => end,
    }
}

/// Start of the line before the one containing `offset` (a block
/// scalar's header is on the line above its content).
fn line_before(source: &str, offset: usize) -> usize {
    let bytes = source.as_bytes();
    let mut pos = offset.min(bytes.len());
    // Back to the start of the content line, then over the header line.
    while pos > 0 && bytes[pos - 1] != b'\n' {
        pos -= 1;
    }
    pos = pos.saturating_sub(1);
    while pos > 0 && bytes[pos - 1] != b'\n' {
        pos -= 1;
    }
    pos
}

/// 0-based column (in characters) of a byte offset.
pub(super) fn column_of(source: &str, offset: usize) -> usize {
    let line_start = memchr::memrchr(b'\n', &source.as_bytes()[..offset]).map_or(0, |p| p + 1);
    source[line_start..offset].chars().count()
}

/// The `-` indicator of the block sequence item that starts at `offset`.
pub(super) fn dash_before(source: &str, offset: usize) -> Option<usize> {
    let bytes = source.as_bytes();
    if bytes.get(offset) == Some(&b'-') && bytes.get(offset + 1).is_none_or(|b| b.is_ascii_whitespace()) {
        return Some(offset);
    }
    let mut pos = offset.min(bytes.len());
    while pos > 0 && matches!(bytes[pos - 1], b' ' | b'\t') {
        pos -= 1;
    }
    (pos > 0 && bytes[pos - 1] == b'-').then(|| pos - 1)
}

/// A scalar typed the way go-yaml v3 types it (tagged or by its plain
/// form); `offset` places errors.
pub(super) fn resolve_scalar(
    source: &str,
    value: &str,
    style: ScalarStyle,
    tag: Option<&granit_parser::Tag>,
    offset: usize,
) -> Result<Scalar> {
    let plain = style == ScalarStyle::Plain;
    let resolved = match tag {
        Some(tag) => {
            let name = if tag.handle() == "tag:yaml.org,2002:" {
                tag.suffix().to_owned()
            } else {
                format!("{}{}", tag.handle(), tag.suffix())
            };
            resolve_tagged(&name, value, plain).map_err(|message| error_at(source, offset, &message))?
        }
        None if plain => resolve_plain(value),
        None => Resolved::Scalar(Scalar::Str(SecretBytes::from_text(value))),
    };
    Ok(match resolved {
        Resolved::Scalar(scalar) => scalar,
        // Integers from 2^63 to 2^64-1: sops cannot store them; we keep
        // the exact digits (see Scalar::BigInt).
        Resolved::Uint64 => match parse_unsigned(value) {
            Some(n) => Scalar::BigInt(SecretBytes::from(n.to_string())),
            None => Scalar::Str(SecretBytes::from_text(value)),
        },
    })
}

fn error_at(source: &str, offset: usize, message: &str) -> Error {
    let (line, column) = line_column(source.as_bytes(), offset);
    Error::Parse { format: FORMAT, message: format!("{message} at line {line}, column {column}") }
}

/// An unsigned integer as go-yaml reads one: underscores removed, Go base
/// prefixes, a leading zero for octal.
fn parse_unsigned(text: &str) -> Option<u64> {
    let cleaned: String = text.chars().filter(|c| *c != '_').collect();
    let digits = cleaned.strip_prefix('+').unwrap_or(&cleaned);
    let lower = digits.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix("0x") {
        u64::from_str_radix(hex, 16).ok()
    } else if let Some(oct) = lower.strip_prefix("0o") {
        u64::from_str_radix(oct, 8).ok()
    } else if let Some(bin) = lower.strip_prefix("0b") {
        u64::from_str_radix(bin, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') {
        u64::from_str_radix(&lower[1..], 8).ok()
    } else {
        lower.parse().ok()
    }
}

/// The lines of an entry that starts at `start` and whose value ends at
/// `end`: from the start of its line (when only indentation precedes it) to
/// the end of the line holding `end`, line break included.
fn entry_lines(source: &str, start: usize, end: usize) -> std::ops::Range<usize> {
    let line_start = memchr::memrchr(b'\n', &source.as_bytes()[..start]).map_or(0, |p| p + 1);
    let from = if source[line_start..start].trim().is_empty() { line_start } else { start };
    let bytes = source.as_bytes();
    let mut to = end.min(bytes.len());
    if to > 0 && bytes[to - 1] != b'\n' {
        to = memchr::memchr(b'\n', &bytes[to..]).map_or(bytes.len(), |p| to + p + 1);
    }
    from..to.max(from)
}

/// An anchored node, kept for the aliases that name it.
struct Anchored {
    node: Node,
    /// Its nodes, for the alias budget.
    count: usize,
    /// Its nesting: 0 for a scalar, 1 + the deepest child's for a
    /// collection; for the depth limit on expansion.
    height: usize,
}

/// How many nodes a subtree holds (for the alias budget) and how deeply its
/// collections nest (for the depth limit), without recursion.
fn count_nodes(node: &Node) -> (usize, usize) {
    let mut count = 0;
    let mut height = 0;
    // Each node with the number of collections from the subtree's root
    // down to and including it.
    let mut stack = vec![(node, 0)];
    while let Some((node, above)) = stack.pop() {
        count += 1;
        match &node.value {
            Value::Map(items) => {
                height = height.max(above + 1);
                for item in items {
                    match item {
                        MapItem::Pair(pair) => stack.push((&pair.value, above + 1)),
                        MapItem::Comment(_) => count += 1,
                    }
                }
            }
            Value::Seq(items) => {
                height = height.max(above + 1);
                for item in items {
                    match item {
                        SeqItem::Value(value) => stack.push((value, above + 1)),
                        SeqItem::Comment(_) => count += 1,
                    }
                }
            }
            Value::Scalar(_) => {}
        }
    }
    (count, height)
}

/// A copy for alias expansion: its nodes have no source position of their
/// own (the text they came from belongs to the anchor).
fn strip_sources(mut node: Node) -> Node {
    let mut stack = vec![&mut node];
    while let Some(node) = stack.pop() {
        node.src = Src::NONE;
        match &mut node.value {
            Value::Map(items) => {
                for item in items {
                    match item {
                        MapItem::Pair(pair) => stack.push(&mut pair.value),
                        MapItem::Comment(c) => c.src = Src::NONE,
                    }
                }
            }
            Value::Seq(items) => {
                for item in items {
                    match item {
                        SeqItem::Value(value) => stack.push(value),
                        SeqItem::Comment(c) => c.src = Src::NONE,
                    }
                }
            }
            Value::Scalar(_) => {}
        }
    }
    node
}
