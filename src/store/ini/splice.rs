//! Writing a tree back into the INI text it was parsed from.
//!
//! The output is the original text with a list of edits applied in one
//! pass: the token of every value marked `changed` is replaced, every
//! comment marked `changed` is rewritten in place, sections, keys and
//! comments that are gone from the tree are cut out, ones the tree adds
//! (no source position) are written fresh at the end of their section or
//! of the data, the old `[sops]` section is dropped and the new metadata
//! appended. Everything else (spacing, alignment, quoting and comments of
//! untouched entries, blank lines, line breaks) is copied.
//!
//! A comment is one tree entry but may be spread over comment lines before
//! its key (with blank lines between them) and an inline part after the
//! value. A rewritten comment goes into the first line of that block, which
//! keeps its indentation and marker run (`# `, `;`, `;; `), so go-ini reads
//! exactly the new text from it; the other lines and the inline part go.
//! A comment that was only inline stays inline. When a block's marker run
//! is `; ` (which is what sops writes), a multi-line text is written the
//! way go-ini writes it, one marker per line, so decrypting a sops file
//! gives sops's output; otherwise the text's own lines are written back as
//! they are. A header's inline comment cannot stay inline once encrypted
//! (go-ini reads the section name up to the last `]` of the line, and an
//! envelope ends with one), so it moves to a line before the header. Style
//! memory, when present, gives back the original lines and inline part
//! exactly.
//!
//! The `[sops]` section is appended after a line break, so a file that
//! ended with one gets a blank line before it and a file that did not
//! gets none; dropping it removes that one line break again, which gives
//! back the file as it ended.

use super::emit::{self, FreshKey};
use super::parse::comment_text_of;
use super::render::{self, CommentStyle};
use super::{CommentEntry, CommentOwner, Entry, Layout, Span, is_section};
use crate::error::Result;
use crate::metadata::flat;
use crate::secret::SecretBuf;
use crate::store::StoreOptions;
use crate::tree::{Comment, MapItem, Node, Scalar, Tree, Value};

/// Splice `tree` into `layout`'s text, with `metadata` (if given) as the
/// new `[sops]` section. A tree of other than one document is written
/// fresh.
pub fn emit_spliced(
    tree: &Tree,
    layout: &Layout,
    metadata: Option<&Node>,
    options: &StoreOptions,
) -> Result<Vec<u8>> {
    let [document] = tree.documents.as_slice() else {
        return emit::emit_fresh(tree, metadata, options);
    };
    let mut plan = Plan { layout, edits: Vec::new(), present: vec![false; layout.entries.len()], growth: 0 };
    let mut new_sections = Vec::new();
    for item in &document.items {
        let MapItem::Pair(pair) = item else { continue };
        if pair.key.name == "sops" {
            continue;
        }
        if !is_section(&pair.value) {
            // Reports the error sops reports.
            emit::fresh_section(&pair.key.name, &pair.value)?;
        }
        match plan.section_entry(pair.value.src) {
            Some(index) => plan.section(index, &pair.key.name, &pair.value)?,
            None => new_sections.push((pair.key.name.as_str(), &pair.value)),
        }
    }
    plan.removals();
    let data_end = plan.data_end();
    if !new_sections.is_empty() {
        plan.growth += new_sections.len() * 64;
        plan.edits.push(Edit::at(data_end, Rank::NewSections, Op::NewSections(new_sections)));
    }
    if let Some(sops) = layout.sops {
        let text = &layout.text[..sops.start as usize];
        let line_break = if text.ends_with(b"\r\n") { 2 } else { usize::from(text.ends_with(b"\n")) };
        let start = (sops.start as usize - line_break) as u32;
        plan.edits.push(Edit { start, end: sops.end, rank: Rank::Replace, op: Op::Delete });
    }
    if let Some(node) = metadata {
        plan.growth += 4096;
        plan.edits.push(Edit::at(data_end, Rank::Metadata, Op::Metadata(node)));
    }
    plan.write()
}

/// Edits at the same position are applied in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    /// Keys added at the end of a section, before anything of the next.
    NewKeys,
    /// Comment lines added before a key or header line.
    BeforeLine,
    Replace,
    /// An inline comment added after a value or header.
    AfterToken,
    NewSections,
    Metadata,
}

enum Op<'t> {
    Delete,
    Bytes(&'t [u8]),
    /// Bytes and a line break.
    Lines(&'t [u8]),
    Value(&'t Scalar, u32),
    /// The comment into its block (replacing it), or as lines before its
    /// owner's line (when inserting).
    Block(&'t Comment, u32),
    Inline(&'t Comment, u32),
    NewKeys(&'t str, Vec<&'t MapItem>),
    NewSections(Vec<(&'t str, &'t Node)>),
    Metadata(&'t Node),
}

struct Edit<'t> {
    start: u32,
    end: u32,
    rank: Rank,
    op: Op<'t>,
}

impl<'t> Edit<'t> {
    fn at(at: u32, rank: Rank, op: Op<'t>) -> Edit<'t> {
        Edit { start: at, end: at, rank, op }
    }

    fn replace(span: Span, op: Op<'t>) -> Edit<'t> {
        Edit { start: span.start, end: span.end, rank: Rank::Replace, op }
    }
}

struct Plan<'t> {
    layout: &'t Layout,
    edits: Vec<Edit<'t>>,
    /// Which layout entries the tree still has.
    present: Vec<bool>,
    /// About how many bytes the output grows by.
    growth: usize,
}

impl<'t> Plan<'t> {
    /// The index of the not yet claimed section entry `src` points at.
    fn section_entry(&self, src: crate::tree::Src) -> Option<usize> {
        let index = src.get()?;
        (matches!(self.layout.entries.get(index), Some(Entry::Section(_))) && !self.present[index])
            .then_some(index)
    }

    fn claim(&mut self, src: crate::tree::Src) -> Option<(usize, &'t Entry)> {
        let index = src.get()?;
        let entry = self.layout.entries.get(index)?;
        if self.present[index] {
            return None;
        }
        self.present[index] = true;
        Some((index, entry))
    }

    fn section(&mut self, index: usize, name: &'t str, node: &'t Node) -> Result<()> {
        self.present[index] = true;
        let Entry::Section(section) = &self.layout.entries[index] else {
            unreachable!("checked by the caller")
        };
        let Value::Map(items) = &node.value else { unreachable!("checked by the caller") };
        let mut added = Vec::new();
        for item in items {
            match item {
                MapItem::Pair(pair) => {
                    let Value::Scalar(scalar) = &pair.value.value else {
                        return Err(emit::complex_value(name, &pair.key.name, &pair.value));
                    };
                    match self.claim(pair.value.src) {
                        Some((entry, Entry::Value(value))) => {
                            if pair.value.changed {
                                self.growth += 2 * value.token.range().len() + 128;
                                self.edits.push(Edit::replace(value.token, Op::Value(scalar, entry as u32)));
                            }
                        }
                        _ => added.push(item),
                    }
                }
                MapItem::Comment(comment) => match self.claim(comment.src) {
                    Some((entry, Entry::Comment(span))) => {
                        if comment.changed {
                            self.comment(comment, entry as u32, span);
                        }
                    }
                    _ => added.push(item),
                },
            }
        }
        if !added.is_empty() {
            self.growth += added.len() * 64;
            self.edits.push(Edit::at(section.insert_at, Rank::NewKeys, Op::NewKeys(name, added)));
        }
        Ok(())
    }

    /// Edits for a changed comment.
    fn comment(&mut self, comment: &'t Comment, index: u32, span: &'t CommentEntry) {
        self.growth += 2 * comment.text.len() + 128;
        let owner_present = match span.owner {
            CommentOwner::Key(value) => self.present[value as usize],
            CommentOwner::Section(_) | CommentOwner::Trailing => true,
        };
        if let Some((block, inline)) = self.layout.comment_override(index, span, comment) {
            match span.block {
                Some(old) if block.is_empty() => {
                    self.edits.push(Edit::replace(self.layout.whole_lines(old), Op::Delete))
                }
                Some(old) => self.edits.push(Edit::replace(old, Op::Bytes(block))),
                None if !block.is_empty() && owner_present => {
                    self.edits.push(Edit::at(span.owner_line, Rank::BeforeLine, Op::Lines(block)));
                }
                None => {}
            }
            match span.inline {
                Some(old) if owner_present => self.edits.push(Edit::replace(old, Op::Bytes(inline))),
                None if !inline.is_empty() && owner_present => {
                    self.edits.push(Edit::at(span.anchor, Rank::AfterToken, Op::Bytes(inline)));
                }
                _ => {}
            }
            return;
        }
        // go-ini reads a header's name up to the last `]` of its line, and
        // an envelope ends with one: a header's comment always goes on a
        // line of its own.
        let inline_fits =
            !comment.text.as_bytes().contains(&b'\n') && !matches!(span.owner, CommentOwner::Section(_));
        match (span.block, span.inline) {
            (Some(block), inline) => {
                self.edits.push(Edit::replace(block, Op::Block(comment, index)));
                if let Some(inline) = inline.filter(|_| owner_present) {
                    self.edits.push(Edit::replace(inline, Op::Delete));
                }
            }
            (None, Some(inline)) if owner_present && inline_fits => {
                self.edits.push(Edit::replace(inline, Op::Inline(comment, index)));
            }
            (None, Some(inline)) if owner_present => {
                self.edits.push(Edit::replace(inline, Op::Delete));
                self.edits.push(Edit::at(span.owner_line, Rank::BeforeLine, Op::Block(comment, index)));
            }
            _ => {}
        }
    }

    /// Cut out what the tree no longer has.
    fn removals(&mut self) {
        let mut in_removed_section = false;
        for (index, entry) in self.layout.entries.iter().enumerate() {
            if let Entry::Section(section) = entry {
                in_removed_section = !self.present[index];
                if in_removed_section {
                    self.edits.push(Edit::replace(section.region, Op::Delete));
                }
                continue;
            }
            if in_removed_section || self.present[index] {
                continue;
            }
            match entry {
                Entry::Value(value) => self.edits.push(Edit::replace(value.line, Op::Delete)),
                Entry::Comment(comment) => {
                    if let Some(block) = comment.block {
                        self.edits.push(Edit::replace(self.layout.whole_lines(block), Op::Delete));
                    }
                    let owner_present = match comment.owner {
                        CommentOwner::Key(value) => self.present[value as usize],
                        _ => true,
                    };
                    if let Some(inline) = comment.inline.filter(|_| owner_present) {
                        self.edits.push(Edit::replace(inline, Op::Delete));
                    }
                }
                Entry::Section(_) => unreachable!("handled above"),
            }
        }
    }

    /// Where the data ends: the end of the last data section's text.
    fn data_end(&self) -> u32 {
        let mut end = 0;
        for entry in &self.layout.entries {
            if let Entry::Section(section) = entry {
                end = end.max(section.region.end);
            }
        }
        end
    }

    fn write(mut self) -> Result<Vec<u8>> {
        let text: &[u8] = &self.layout.text;
        self.edits.sort_by_key(|edit| (edit.start, edit.rank));
        let mut out = SecretBuf::with_capacity(text.len() + self.growth + self.growth / 4 + 64);
        let mut cursor = 0usize;
        for edit in &self.edits {
            let (mut start, end) = (edit.start as usize, edit.end as usize);
            if start < cursor {
                // Removals can overlap (a removed key line and the line
                // break before the old metadata), and additions can fall
                // inside a removal (the metadata where the old one was);
                // nothing is ever written twice.
                let insertion = start == end;
                if !insertion && (!matches!(edit.op, Op::Delete) || end <= cursor) {
                    continue;
                }
                start = cursor;
            }
            out.extend(&text[cursor..start]);
            self.apply(&mut out, edit)?;
            cursor = cursor.max(end);
        }
        out.extend(&text[cursor..]);
        Ok(out.into_vec())
    }

    fn apply(&self, out: &mut SecretBuf, edit: &Edit) -> Result<()> {
        let layout = self.layout;
        let newline = layout.newline();
        match &edit.op {
            Op::Delete => {}
            Op::Bytes(bytes) => out.extend(bytes),
            Op::Lines(bytes) => {
                out.extend(bytes);
                out.extend(newline);
            }
            Op::Value(scalar, index) => {
                let src = crate::tree::Src(*index);
                if edit.start == edit.end && matches!(out.last(), Some(b'=' | b':')) {
                    out.push(b' ');
                }
                match layout.value_override(src, scalar) {
                    Some(original) => out.extend(original.as_bytes()),
                    None => render::write_value(out, scalar),
                }
            }
            Op::Block(comment, index) => {
                let Entry::Comment(span) = &layout.entries[*index as usize] else { return Ok(()) };
                match span.block.filter(|_| edit.start != edit.end) {
                    Some(block) => {
                        write_block(out, layout, &layout.text[block.range()], comment.text.as_bytes(), span)
                    }
                    None => {
                        // New lines before the owner's line, indented like it.
                        let line = &layout.text[span.owner_line as usize..];
                        let indent = &line[..line.len() - line.trim_ascii_start().len()];
                        let indent =
                            &indent[..indent.iter().position(|&b| b == b'\n').unwrap_or(indent.len())];
                        let style = comment_style(span);
                        render::write_comment(
                            out,
                            comment.text.as_bytes(),
                            style,
                            indent,
                            newline,
                            layout.crlf,
                        );
                        out.extend(newline);
                    }
                }
            }
            Op::Inline(comment, index) => {
                let Entry::Comment(span) = &layout.entries[*index as usize] else { return Ok(()) };
                let Some(inline) = span.inline else { return Ok(()) };
                let old = &layout.text[inline.range()];
                out.extend(&old[..marker_run_end(old)]);
                out.extend(comment.text.as_bytes());
            }
            Op::NewKeys(section, items) => {
                if !out.as_slice().is_empty() && out.last() != Some(b'\n') {
                    out.extend(newline);
                }
                write_new_items(out, section, items, newline)?;
            }
            Op::NewSections(sections) => {
                let mut fresh = Vec::with_capacity(sections.len());
                for (name, node) in sections {
                    fresh.push(emit::fresh_section(name, node)?);
                }
                let at_start = out.as_slice().is_empty();
                if !at_start {
                    if out.last() != Some(b'\n') {
                        out.extend(newline);
                    }
                    out.extend(newline);
                }
                emit::write_sections(out, &fresh, newline, at_start);
            }
            Op::Metadata(node) => {
                let pairs = flat::flatten(node);
                if !out.as_slice().is_empty() {
                    out.extend(newline);
                }
                let section = emit::metadata_section(&pairs);
                emit::write_sections(out, &[section], newline, false);
            }
        }
        Ok(())
    }
}

fn comment_style(span: &CommentEntry) -> CommentStyle {
    match span.owner {
        CommentOwner::Section(_) => CommentStyle::Section,
        CommentOwner::Key(_) | CommentOwner::Trailing => CommentStyle::Key,
    }
}

/// Keys (and comments) the tree adds to an existing section: each key after
/// the comments that follow it in the tree, which go-ini reads as its own.
fn write_new_items(out: &mut SecretBuf, section: &str, items: &[&MapItem], newline: &[u8]) -> Result<()> {
    let mut index = 0;
    while index < items.len() {
        match items[index] {
            MapItem::Comment(comment) => {
                render::write_comment(out, comment.text.as_bytes(), CommentStyle::Key, b"", newline, false);
                out.extend(newline);
                index += 1;
            }
            MapItem::Pair(pair) => {
                let Value::Scalar(scalar) = &pair.value.value else {
                    return Err(emit::complex_value(section, &pair.key.name, &pair.value));
                };
                let mut comment = None;
                while let Some(MapItem::Comment(c)) = items.get(index + 1) {
                    comment = Some(c.text.as_bytes());
                    index += 1;
                }
                let key = FreshKey { name: &pair.key.name, value: render::value_text(scalar), comment };
                emit::write_keys(out, &[key], newline);
                index += 1;
            }
        }
    }
    Ok(())
}

/// Where the marker run of a comment piece ends: past the spaces (and, on
/// a header line, anything else) before the first `#` or `;`, and past the
/// run of that marker and spaces that sops strips.
fn marker_run_end(piece: &[u8]) -> usize {
    let Some(at) = piece.iter().position(|&b| b == b'#' || b == b';') else { return piece.len() };
    let marker = piece[at];
    at + piece[at..].iter().take_while(|&&b| b == marker || b == b' ').count()
}

/// A comment written into the place of comment lines `old`: the first
/// line's indentation and marker run, then the text. Under the `; ` run
/// sops writes, or when the text's own lines could not be written back
/// safely, the text is written as go-ini writes it.
fn write_block(out: &mut SecretBuf, layout: &Layout, old: &[u8], text: &[u8], span: &CommentEntry) {
    let indent_len = old.len() - old.trim_ascii_start().len();
    let indent = &old[..indent_len];
    let run = &old[indent_len..indent_len + marker_run_end(&old[indent_len..])];
    if run == b"; " || !lines_are_comments(text) {
        let newline = layout.newline();
        render::write_comment(out, text, comment_style(span), indent, newline, layout.crlf);
    } else {
        out.extend(indent);
        out.extend(run);
        out.extend(text);
    }
}

/// Whether every line of `text` after the first is a comment line, so the
/// text can follow a marker as it is.
fn lines_are_comments(text: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(text) else { return false };
    text.split('\n').skip(1).all(|line| line.trim_start().starts_with(['#', ';']))
}

/// What style memory keeps for a comment whose default round trip (its
/// first line's marker run kept in the encrypted file, the text written
/// back behind it) would not give back its original lines and inline part:
/// the two pieces, encoded by [`encode_comment_memory`].
pub(super) fn comment_memory(layout: &Layout, comment: &Comment) -> Option<String> {
    let Some(Entry::Comment(span)) = layout.entry(comment.src) else { return None };
    let block = span.block.map_or(Some(""), |b| layout.str_at(b))?;
    let inline = span.inline.map_or(Some(""), |i| layout.str_at(i))?;
    let text = comment.text.as_bytes();
    let mut predicted = SecretBuf::with_capacity(block.len() + inline.len() + 8);
    let same = if !block.is_empty() {
        write_block(&mut predicted, layout, block.as_bytes(), text, span);
        predicted.as_slice() == block.as_bytes() && inline.is_empty()
    } else if matches!(span.owner, CommentOwner::Section(_)) {
        // Moved to a line before the header when encrypted.
        false
    } else {
        let run = marker_run_end(inline.as_bytes());
        predicted.extend(&inline.as_bytes()[..run]);
        predicted.extend(text);
        predicted.as_slice() == inline.as_bytes()
    };
    (!same).then(|| encode_comment_memory(block, inline))
}

/// A comment's lines and inline part as one string: the length of the
/// lines in decimal, a line break, the lines, the inline part.
fn encode_comment_memory(block: &str, inline: &str) -> String {
    format!("{}\n{block}{inline}", block.len())
}

fn decode_comment_memory(memory: &str) -> Option<(&str, &str)> {
    let (length, rest) = memory.split_once('\n')?;
    let length: usize = length.parse().ok()?;
    if !rest.is_char_boundary(length) {
        return None;
    }
    Some(rest.split_at(length))
}

impl Layout {
    /// The remembered lines and inline part of comment `index`, when they
    /// read back as exactly its text and fit where they go (whole lines
    /// before the owner's line, spaces and a comment after its value).
    fn comment_override(&self, index: u32, span: &CommentEntry, comment: &Comment) -> Option<(&[u8], &[u8])> {
        let memory = self.overrides.get(&crate::tree::Src(index))?;
        let (block, inline) = decode_comment_memory(memory)?;
        // Lines end at their text; their line break stays in the file.
        if block.ends_with('\n') {
            return None;
        }
        if !inline.is_empty() && span.owner == CommentOwner::Trailing {
            return None;
        }
        let header = matches!(span.owner, CommentOwner::Section(_));
        let line_break = if self.crlf { "\r\n" } else { "\n" };
        let text = comment_text_of(block, line_break, inline, header)?;
        (text.as_bytes() == comment.text.as_bytes()).then_some((block.as_bytes(), inline.as_bytes()))
    }
}
