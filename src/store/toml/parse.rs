//! Reading TOML into the tree.
//!
//! `toml_edit` parses; this module only translates its span-keeping
//! document into the tree and the position table, in one recursive pass
//! whose depth is bounded by `toml_edit`'s own nesting limit (80 levels of
//! arrays and inline tables, 80 keys in a dotted key or header), so hostile
//! nesting ends in a parse error, never a stack overflow.
//!
//! Comments are found by scanning the decor `toml_edit` hands back: the
//! stretches between tokens that hold only whitespace, line breaks and
//! comments, so every `#` in them starts a comment that runs to the end of
//! its line. Which stretch a comment sits in decides its container (see the
//! module above).

use std::ops::Range;

use toml_edit::{ArrayOfTables, Datetime, Decor, Document, InlineTable, Item, RawString, Table, Value};
use zeroize::Zeroizing;

use super::{FORMAT, Layout, Slot, SlotKind};
use crate::error::{Error, Position, Result};
use crate::secret::SecretBytes;
use crate::timestamp::Timestamp;
use crate::tree::{
    Comment, Document as TreeDocument, Key as TreeKey, MapItem, Node, Pair, Scalar, SeqItem, Src, Tree,
};

/// Parse a TOML file. Empty input (nothing but whitespace) is refused with
/// sops's "cannot be completely empty" (exit 92), as sops refuses an empty
/// YAML file: there is nothing to encrypt, and an accidentally truncated
/// file should not become a valid encrypted one.
pub fn parse(input: &[u8]) -> Result<(Tree, Layout)> {
    parse_owned(crate::secret::SecretVec::new(input.to_vec()))
}

/// [`parse`], keeping `input` as the layout's text instead of a copy of it
/// (a decryption's input is four times its output).
pub fn parse_owned(input: crate::secret::SecretVec) -> Result<(Tree, Layout)> {
    let text = crate::secret::into_text(input).map_err(|(bytes, offset)| {
        let at = position_of(&bytes, offset);
        Error::Parse { format: FORMAT, message: format!("invalid UTF-8 at {at}") }
    })?;
    let (tree, layout) = parse_text(&text)?;
    Ok((tree, Layout { text, ..layout }))
}

/// The tree and the layout of `text`, with an empty text in the layout
/// (the caller puts the text itself there).
fn parse_text(text: &str) -> Result<(Tree, Layout)> {
    if text.bytes().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::EmptyInput);
    }
    let document = Document::parse(text).map_err(|e| parse_error(text, &e))?;
    let mut builder =
        Builder { text, slots: Vec::new(), headers: Vec::new(), sops_slots: 0..0, in_sops: false };
    let mut items = builder.table_items(document.as_table(), true);
    let trailing = builder.decor_range(document.trailing());
    builder.map_comments(trailing, &mut items);

    let (sops_cut, sops_uncuttable) = builder.sops_cut(document.as_table());
    let newline = match text.find('\n') {
        Some(at) if at > 0 && text.as_bytes()[at - 1] == b'\r' => "\r\n",
        _ => "\n",
    };
    let layout = Layout {
        text: Zeroizing::default(),
        slots: builder.slots,
        sops_slots: builder.sops_slots,
        sops_cut,
        sops_uncuttable,
        newline,
        overrides: Default::default(),
    };
    Ok((Tree { documents: vec![TreeDocument { items }] }, layout))
}

/// The scalar a lone value token stands for (style memory checks that a
/// remembered token still spells the decrypted value). Simple strings are
/// read directly; anything else goes through `toml_edit`.
pub(super) fn scalar_of_token(token: &str) -> Option<Scalar> {
    let bytes = token.as_bytes();
    if bytes.len() >= 2 && !token.contains(['\n', '\r']) {
        let (first, last) = (bytes[0], bytes[bytes.len() - 1]);
        let inner = &token[1..token.len() - 1];
        let simple = match (first, last) {
            (b'\'', b'\'') => !inner.contains('\''),
            (b'"', b'"') => !inner.contains(['"', '\\']),
            _ => false,
        };
        if simple && !inner.chars().any(|c| c.is_control() && c != '\t') {
            return Some(Scalar::str(inner));
        }
    }
    let value: Value = token.parse().ok()?;
    match value {
        Value::Array(_) | Value::InlineTable(_) => None,
        other => Some(scalar_of(&other)),
    }
}

/// A TOML scalar as a tree scalar. Local date-times, dates and times become
/// strings holding their TOML literal.
fn scalar_of(value: &Value) -> Scalar {
    match value {
        Value::String(s) => Scalar::Str(SecretBytes::from_text(s.value())),
        Value::Integer(i) => Scalar::Int(*i.value()),
        Value::Float(f) => Scalar::Float(*f.value()),
        Value::Boolean(b) => Scalar::Bool(*b.value()),
        Value::Datetime(dt) => datetime_scalar(dt.value()),
        Value::Array(_) | Value::InlineTable(_) => unreachable!("containers are not scalars"),
    }
}

fn datetime_scalar(dt: &Datetime) -> Scalar {
    match (dt.date, dt.time, dt.offset) {
        (Some(date), Some(time), Some(offset)) => {
            let offset_seconds = match offset {
                toml_edit::Offset::Z => 0,
                toml_edit::Offset::Custom { minutes } => i32::from(minutes) * 60,
            };
            Scalar::Time(Timestamp {
                year: i32::from(date.year),
                month: date.month,
                day: date.day,
                hour: time.hour,
                minute: time.minute,
                second: time.second.unwrap_or(0),
                nanos: time.nanosecond.unwrap_or(0),
                offset_seconds,
            })
        }
        _ => Scalar::Str(SecretBytes::from(dt.to_string())),
    }
}

/// A parse error with a position and `toml_edit`'s message, which names
/// what was expected, never the input's text. Duplicate keys name the key:
/// keys are not secret.
fn parse_error(text: &str, error: &toml_edit::TomlError) -> Error {
    let message = error.message();
    let Some(span) = error.span() else {
        return if message.contains("recursion") {
            Error::LimitExceeded { format: FORMAT, message: "nesting too deep".into() }
        } else {
            Error::Parse { format: FORMAT, message: message.to_owned() }
        };
    };
    let at = position_of(text.as_bytes(), span.start);
    if message.contains("recurse") || message.contains("recursion") {
        return Error::LimitExceeded { format: FORMAT, message: format!("nesting too deep at {at}") };
    }
    let message = match text.get(span.clone()) {
        Some(key) if message == "duplicate key" && !key.is_empty() && !key.contains('\n') => {
            format!("duplicate key {key} at {at}")
        }
        _ => format!("{message} at {at}"),
    };
    Error::Parse { format: FORMAT, message }
}

/// The 1-based line and column (in characters) of byte `offset`.
fn position_of(bytes: &[u8], offset: usize) -> Position {
    let before = &bytes[..offset.min(bytes.len())];
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
    Position { line, column }
}

/// A table header, for finding where the metadata's text ends.
struct Header {
    /// Where the stretch before the header (its decor prefix) starts.
    prefix_start: usize,
    /// The `[`.
    start: usize,
    /// Whether it is `[sops]` or a table below it.
    in_sops: bool,
}

struct Builder<'a> {
    text: &'a str,
    slots: Vec<Slot>,
    headers: Vec<Header>,
    sops_slots: Range<u32>,
    /// Set while the top-level `sops` entry is being read.
    in_sops: bool,
}

impl<'a> Builder<'a> {
    fn slot(&mut self, range: Range<usize>, kind: SlotKind) -> Src {
        let src = Src(self.slots.len() as u32);
        self.slots.push(Slot { start: range.start as u32, end: range.end as u32, kind });
        src
    }

    /// The byte range of a decor string; empty when it has no span (it was
    /// empty in the input).
    fn decor_range(&self, raw: &RawString) -> Range<usize> {
        raw.span().unwrap_or(0..0)
    }

    fn prefix(&self, decor: &Decor) -> Range<usize> {
        decor.prefix().map_or(0..0, |raw| self.decor_range(raw))
    }

    fn suffix(&self, decor: &Decor) -> Range<usize> {
        decor.suffix().map_or(0..0, |raw| self.decor_range(raw))
    }

    /// The comments in a stretch of decor, as tree comments with positions.
    fn comments(&mut self, range: Range<usize>, mut push: impl FnMut(Comment)) {
        let text = self.text;
        let mut at = range.start;
        while let Some(found) = text[at..range.end].find('#') {
            let start = at + found + 1;
            let rest = &text[start..range.end];
            let mut end = start + rest.find('\n').unwrap_or(rest.len());
            if end > start && text.as_bytes()[end - 1] == b'\r' {
                end -= 1;
            }
            let src = self.slot(start..end, SlotKind::Comment);
            push(Comment { text: SecretBytes::from_text(&text[start..end]), src, changed: false });
            at = end;
        }
    }

    fn map_comments(&mut self, range: Range<usize>, items: &mut Vec<MapItem>) {
        self.comments(range, |c| items.push(MapItem::Comment(c)));
    }

    fn seq_comments(&mut self, range: Range<usize>, items: &mut Vec<SeqItem>) {
        self.comments(range, |c| items.push(SeqItem::Comment(c)));
    }

    /// The entries of a standard, dotted or root table, in `toml_edit`'s
    /// order (first appearance), with their comments.
    fn table_items(&mut self, table: &Table, is_root: bool) -> Vec<MapItem> {
        let mut items = Vec::with_capacity(table.len());
        for (name, item) in table.iter() {
            let key = table.key(name).expect("an entry has a key");
            let is_sops = is_root && name == "sops";
            self.in_sops |= is_sops;
            match item {
                Item::Value(value) => {
                    let prefix = self.prefix(key.leaf_decor());
                    self.map_comments(prefix, &mut items);
                    let first_slot = self.slots.len() as u32;
                    let node = self.value(value);
                    if is_sops {
                        self.sops_slots = first_slot..self.slots.len() as u32;
                    }
                    push_pair(&mut items, name, node);
                    // A comment after the value on its line follows the pair.
                    let suffix = self.suffix(value.decor());
                    self.map_comments(suffix, &mut items);
                }
                Item::Table(sub) => {
                    if !sub.is_implicit() && !sub.is_dotted() {
                        self.header(sub);
                        let (prefix, suffix) = (self.prefix(sub.decor()), self.suffix(sub.decor()));
                        self.map_comments(prefix, &mut items);
                        self.map_comments(suffix, &mut items);
                    }
                    let first_slot = self.slots.len() as u32;
                    let src = self.slot(0..0, SlotKind::Container);
                    let children = self.table_items(sub, false);
                    if is_sops {
                        self.sops_slots = first_slot..self.slots.len() as u32;
                    }
                    push_pair(&mut items, name, map_node(children, src));
                }
                Item::ArrayOfTables(array) => {
                    let first_slot = self.slots.len() as u32;
                    let node = self.array_of_tables(array);
                    if is_sops {
                        self.sops_slots = first_slot..self.slots.len() as u32;
                    }
                    push_pair(&mut items, name, node);
                }
                Item::None => {}
            }
            if is_sops {
                self.in_sops = false;
            }
        }
        items
    }

    fn header(&mut self, table: &Table) {
        let Some(span) = table.span() else { return };
        let prefix = self.prefix(table.decor());
        let prefix_start = if prefix.is_empty() { span.start } else { prefix.start };
        self.headers.push(Header { prefix_start, start: span.start, in_sops: self.in_sops });
    }

    fn array_of_tables(&mut self, array: &ArrayOfTables) -> Node {
        let src = self.slot(0..0, SlotKind::Container);
        let mut elements = Vec::with_capacity(array.len());
        for table in array.iter() {
            self.header(table);
            let (prefix, suffix) = (self.prefix(table.decor()), self.suffix(table.decor()));
            self.seq_comments(prefix, &mut elements);
            self.seq_comments(suffix, &mut elements);
            let element_src = self.slot(0..0, SlotKind::Container);
            let children = self.table_items(table, false);
            elements.push(SeqItem::Value(map_node(children, element_src)));
        }
        Node { value: crate::tree::Value::Seq(elements), src, changed: false }
    }

    /// A value: a scalar token, an inline array or an inline table.
    fn value(&mut self, value: &Value) -> Node {
        match value {
            Value::Array(array) => {
                let src = self.slot(array.span().unwrap_or(0..0), SlotKind::Value);
                let mut elements = Vec::with_capacity(array.len());
                for element in array.iter() {
                    let prefix = self.prefix(element.decor());
                    self.seq_comments(prefix, &mut elements);
                    let node = self.value(element);
                    elements.push(SeqItem::Value(node));
                    let suffix = self.suffix(element.decor());
                    self.seq_comments(suffix, &mut elements);
                }
                let trailing = self.decor_range(array.trailing());
                self.seq_comments(trailing, &mut elements);
                Node { value: crate::tree::Value::Seq(elements), src, changed: false }
            }
            Value::InlineTable(table) => {
                let src = self.slot(table.span().unwrap_or(0..0), SlotKind::Value);
                let items = self.inline_items(table);
                map_node(items, src)
            }
            scalar => {
                let src = self.slot(scalar.span().unwrap_or(0..0), SlotKind::Value);
                Node { value: crate::tree::Value::Scalar(scalar_of(scalar)), src, changed: false }
            }
        }
    }

    /// The entries of an inline table (TOML 1.1 allows comments in one).
    fn inline_items(&mut self, table: &InlineTable) -> Vec<MapItem> {
        let mut items = Vec::with_capacity(table.len());
        for (name, value) in table.iter() {
            let key = table.key(name).expect("an entry has a key");
            let node = match value {
                // A dotted key inside an inline table (`{ a.b = 1 }`).
                Value::InlineTable(sub) if sub.is_dotted() => {
                    let src = self.slot(0..0, SlotKind::Container);
                    let children = self.inline_items(sub);
                    map_node(children, src)
                }
                value => {
                    let prefix = self.prefix(key.leaf_decor());
                    self.map_comments(prefix, &mut items);
                    let node = self.value(value);
                    push_pair(&mut items, name, node);
                    let suffix = self.suffix(value.decor());
                    self.map_comments(suffix, &mut items);
                    continue;
                }
            };
            push_pair(&mut items, name, node);
        }
        let trailing = self.decor_range(table.trailing());
        self.map_comments(trailing, &mut items);
        items
    }

    /// Where the original metadata's text lies, for writers to cut it out:
    /// a `[sops]` table with the tables below it, or a `sops = {...}` line.
    /// Dotted `sops.x = ...` keys are marked uncuttable.
    fn sops_cut(&mut self, root: &Table) -> (Vec<Range<usize>>, bool) {
        let Some((key, item)) = root.get_key_value("sops") else { return (Vec::new(), false) };
        let text = self.text;
        match item {
            Item::Value(value) => {
                let Some(start) = key.span().map(|s| s.start) else { return (Vec::new(), true) };
                let end = value.decor().suffix().and_then(RawString::span).map(|s| s.end);
                let end = end.or_else(|| value.span().map(|s| s.end)).unwrap_or(start);
                let line = start..line_end(text, end);
                (vec![line], false)
            }
            Item::Table(table) if table.is_dotted() => (Vec::new(), true),
            Item::Table(_) | Item::ArrayOfTables(_) => {
                self.headers.sort_by_key(|h| h.start);
                let mut cuts = Vec::new();
                let mut i = 0;
                while i < self.headers.len() {
                    if !self.headers[i].in_sops {
                        i += 1;
                        continue;
                    }
                    let first = self.headers[i].start;
                    while i < self.headers.len() && self.headers[i].in_sops {
                        i += 1;
                    }
                    let end = self.headers.get(i).map_or(text.len(), |next| next.prefix_start);
                    // Take the line break before the header too: we add one
                    // when appending, and it joins what is left either way.
                    let nl = if text[..first].ends_with("\r\n") {
                        2
                    } else {
                        usize::from(text[..first].ends_with('\n'))
                    };
                    cuts.push(first - nl..end);
                }
                (cuts, false)
            }
            Item::None => (Vec::new(), false),
        }
    }
}

/// The offset just past the line break at or after `at` (or the end).
fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

fn map_node(items: Vec<MapItem>, src: Src) -> Node {
    Node { value: crate::tree::Value::Map(items), src, changed: false }
}

fn push_pair(items: &mut Vec<MapItem>, name: &str, value: Node) {
    items.push(MapItem::Pair(Pair { key: TreeKey::new(name), value }));
}
