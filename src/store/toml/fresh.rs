//! Writing a tree as a new TOML document (conversions from other formats,
//! the appended `[sops]` table, `--extract` of one value).
//!
//! The layout is canonical and order-preserving, because the tree's order
//! is the MAC's order: a file written here must read back with its entries
//! in the same order, or a file converted while encrypted would fail its
//! MAC. TOML forces every key/value line of a table to come before its
//! sub-tables, so a table's entries are split at the start of its final run
//! of table-shaped entries (mappings, and arrays made only of mappings):
//! that run is written as `[table]` and `[[array]]` sections, everything
//! before it as key/value lines, where a mapping becomes dotted keys
//! (`db.user = "x"`) and so keeps its place. Arrays are inline, on one line
//! unless they hold comments. Comments become `#` lines wherever TOML 1.0
//! allows one (not inside inline tables, where they are left out).
//!
//! TOML cannot hold everything the tree can: null, non-string and duplicate
//! keys, several documents, strings that are not UTF-8. Those are errors
//! that name the path, never the value.

use foldhash::{HashSet, HashSetExt};

use super::render::{self, Unrenderable};
use super::splice::{comment_text, show_path};
use super::{SecretText, pair_values};
use crate::error::{Error, Result};
use crate::store::StoreOptions;
use crate::tree::{Comment, Key, MapItem, Node, Pair, Scalar, SeqItem, Tree, Value};

/// The deepest nesting the writer follows; trees from other formats are
/// bounded by their parsers, this guards the recursion regardless.
const MAX_EMIT_DEPTH: usize = 512;

/// Write `tree` as a TOML document, with `metadata` as a `[sops]` table at
/// the end.
pub fn emit_fresh(tree: &Tree, metadata: Option<&Node>, _options: &StoreOptions) -> Result<Vec<u8>> {
    let mut writer = Writer::new("\n");
    match tree.documents.as_slice() {
        [] => {}
        [document] => writer.table_body(&[], &document.items, true, 0)?,
        several => {
            return Err(Error::Emit(format!(
                "TOML holds one document, and this file has {}; use --output-type yaml",
                several.len()
            )));
        }
    }
    if let Some(node) = metadata {
        let block = metadata_block(node, "\n")?;
        if !writer.out.is_empty() {
            writer.out.push_str("\n");
        }
        writer.out.push_str(block.as_str());
    }
    Ok(writer.out.into_bytes())
}

/// One value on its own, for `--extract` of a value that is not a string:
/// its TOML token, inline (`42`, `[1, "a"]`), with no line break.
pub fn emit_value(node: &Node, _options: &StoreOptions) -> Result<Vec<u8>> {
    let mut writer = Writer::new("\n");
    let mut line = String::new();
    writer.inline(&mut line, node, false, 0, 0)?;
    writer.out.push_str(&line);
    Ok(writer.out.into_bytes())
}

/// The `[sops]` table for the metadata mapping, ending with a line break.
/// Null fields are left out (TOML has no null); each table lists its plain
/// fields first and its key lists and key groups after, as TOML requires,
/// each part in sops's field order. Multi-line values (the armored `enc` of
/// age and PGP keys) are multi-line strings unless the file's line breaks
/// are CRLF, where they are escaped so the value's bytes stay exact.
pub(super) fn metadata_block(metadata: &Node, newline: &'static str) -> Result<SecretText> {
    let prepared = tables_last(metadata);
    let mut writer = Writer::new(newline);
    writer.path.push("sops");
    writer.section(&["sops"], &prepared, 0)?;
    Ok(writer.out)
}

/// A copy of a metadata node without null fields, each mapping's
/// table-shaped entries moved after the others (stable).
fn tables_last(node: &Node) -> Node {
    match &node.value {
        Value::Map(items) => {
            let mut plain = Vec::new();
            let mut tables = Vec::new();
            for item in items {
                let MapItem::Pair(pair) = item else { continue };
                if matches!(pair.value.value, Value::Scalar(Scalar::Null)) {
                    continue;
                }
                let value = tables_last(&pair.value);
                let entry = MapItem::Pair(Pair { key: pair.key.clone(), value });
                if table_shaped(&pair.value) { tables.push(entry) } else { plain.push(entry) }
            }
            plain.extend(tables);
            Node::map(plain)
        }
        Value::Seq(items) => Node::seq(
            items
                .iter()
                .filter_map(|item| match item {
                    SeqItem::Value(value) => Some(SeqItem::Value(tables_last(value))),
                    SeqItem::Comment(_) => None,
                })
                .collect(),
        ),
        Value::Scalar(_) => node.clone(),
    }
}

/// A mapping (a `[table]`), or a non-empty array of nothing but mappings
/// (an `[[array]]`).
fn table_shaped(node: &Node) -> bool {
    match &node.value {
        Value::Map(_) => true,
        Value::Seq(items) => {
            let mut values = items.iter().filter_map(|item| match item {
                SeqItem::Value(value) => Some(value),
                SeqItem::Comment(_) => None,
            });
            let mut any = false;
            let all_maps = values.all(|value| {
                any = true;
                matches!(value.value, Value::Map(_))
            });
            any && all_maps
        }
        Value::Scalar(_) => false,
    }
}

struct Writer<'t> {
    out: SecretText,
    newline: &'static str,
    /// Keys down to the current node, for error messages.
    path: Vec<&'t str>,
    /// Whether the last line written was a comment (which then stays right
    /// above the next header, with no blank line between).
    after_comment: bool,
}

impl<'t> Writer<'t> {
    fn new(newline: &'static str) -> Writer<'t> {
        Writer { out: SecretText::with_capacity(256), newline, path: Vec::new(), after_comment: false }
    }

    fn multiline_strings(&self) -> bool {
        self.newline == "\n"
    }

    fn depth_check(&self, depth: usize) -> Result<()> {
        if depth > MAX_EMIT_DEPTH {
            return Err(Error::Emit(format!("the tree is nested deeper than {MAX_EMIT_DEPTH} levels")));
        }
        Ok(())
    }

    fn fail(&self, why: Unrenderable) -> Error {
        Error::Emit(format!("the value at {} {}", show_path(&self.path), why.describe()))
    }

    fn line(&mut self, text: &str) {
        self.out.push_str(text);
        self.out.push_str(self.newline);
    }

    fn comment(&mut self, comment: &Comment) -> Result<()> {
        let text = comment_text(comment, &self.path)?;
        self.out.push_str("#");
        self.out.push_str(text);
        self.out.push_str(self.newline);
        self.after_comment = true;
        Ok(())
    }

    /// Separate a new section from what came before with one blank line.
    fn blank_line(&mut self) {
        let nl = self.newline;
        if !self.out.is_empty() && !self.out.ends_with(&[nl, nl].concat()) {
            self.out.push_str(nl);
        }
    }

    /// Refuse what TOML keys cannot be: non-strings and duplicates.
    fn check_keys(&self, items: &[MapItem]) -> Result<()> {
        let pairs = items.iter().filter_map(|item| match item {
            MapItem::Pair(pair) => Some(&pair.key),
            MapItem::Comment(_) => None,
        });
        let mut seen: HashSet<&str> = HashSet::new();
        for key in pairs {
            let name = || {
                let mut shown = String::new();
                render::write_key(&mut shown, &key.name);
                shown
            };
            if !key.is_string {
                return Err(Error::Emit(format!(
                    "the key {} in {} is not a string, and TOML keys are strings",
                    name(),
                    show_path(&self.path)
                )));
            }
            if !seen.insert(&key.name) {
                return Err(Error::Emit(format!(
                    "the key {} appears twice in {}, which TOML does not allow",
                    name(),
                    show_path(&self.path)
                )));
            }
        }
        Ok(())
    }

    /// The body of a table at `path`: key/value lines, then its final run of
    /// table-shaped entries as sections.
    fn table_body(&mut self, path: &[&'t str], items: &'t [MapItem], top: bool, depth: usize) -> Result<()> {
        self.depth_check(depth)?;
        self.check_keys(items)?;
        let split = tables_start(items, top);
        for item in &items[..split] {
            match item {
                MapItem::Comment(comment) => self.comment(comment)?,
                MapItem::Pair(pair) if top && pair.key.name == "sops" => {}
                MapItem::Pair(pair) => {
                    let mut line = String::new();
                    self.key_value(&mut line, &pair.key, &pair.value, depth)?;
                }
            }
        }
        let mut sub_path = path.to_vec();
        for item in &items[split..] {
            match item {
                MapItem::Comment(comment) => {
                    if !self.after_comment {
                        self.blank_line();
                    }
                    self.comment(comment)?;
                }
                MapItem::Pair(pair) if top && pair.key.name == "sops" => {}
                MapItem::Pair(pair) => {
                    sub_path.push(&pair.key.name);
                    self.path.push(&pair.key.name);
                    self.section(&sub_path, &pair.value, depth + 1)?;
                    self.path.pop();
                    sub_path.pop();
                }
            }
        }
        Ok(())
    }

    /// A table-shaped entry as `[path]` or `[[path]]` sections.
    fn section(&mut self, path: &[&'t str], node: &'t Node, depth: usize) -> Result<()> {
        match &node.value {
            Value::Map(items) => {
                self.header(path, false);
                self.table_body(path, items, false, depth)
            }
            Value::Seq(items) => {
                for item in items {
                    match item {
                        SeqItem::Comment(comment) => {
                            if !self.after_comment {
                                self.blank_line();
                            }
                            self.comment(comment)?;
                        }
                        SeqItem::Value(element) => {
                            let Value::Map(fields) = &element.value else {
                                unreachable!("sections are made of mappings only")
                            };
                            self.header(path, true);
                            self.table_body(path, fields, false, depth + 1)?;
                        }
                    }
                }
                Ok(())
            }
            Value::Scalar(_) => unreachable!("a scalar is not table-shaped"),
        }
    }

    fn header(&mut self, path: &[&str], array: bool) {
        if !self.after_comment {
            self.blank_line();
        }
        let mut line = String::from(if array { "[[" } else { "[" });
        for (i, key) in path.iter().enumerate() {
            if i > 0 {
                line.push('.');
            }
            render::write_key(&mut line, key);
        }
        line.push_str(if array { "]]" } else { "]" });
        self.line(&line);
        self.after_comment = false;
    }

    /// `key = value` lines for one entry; a mapping becomes one line per
    /// leaf with dotted keys. `prefix` holds the dotted keys so far.
    fn key_value(&mut self, prefix: &mut String, key: &'t Key, node: &'t Node, depth: usize) -> Result<()> {
        self.depth_check(depth)?;
        let mark = prefix.len();
        if !prefix.is_empty() {
            prefix.push('.');
        }
        render::write_key(prefix, &key.name);
        self.path.push(&key.name);
        match &node.value {
            Value::Map(items) if pair_values(items).next().is_some() => {
                self.check_keys(items)?;
                for item in items {
                    match item {
                        MapItem::Comment(comment) => self.comment(comment)?,
                        MapItem::Pair(pair) => self.key_value(prefix, &pair.key, &pair.value, depth + 1)?,
                    }
                }
            }
            _ => {
                let mut line = zeroize::Zeroizing::new(prefix.clone());
                line.push_str(" = ");
                let multiline = self.multiline_strings();
                match &node.value {
                    Value::Scalar(scalar) => {
                        render::write_scalar(&mut line, scalar, multiline).map_err(|why| self.fail(why))?
                    }
                    _ => self.inline(&mut line, node, true, 0, depth)?,
                }
                self.line(&line);
                self.after_comment = false;
            }
        }
        self.path.pop();
        prefix.truncate(mark);
        Ok(())
    }

    /// A value written inline. Arrays holding comments are written one
    /// element per line when `lines` allows it (inside an inline table it
    /// does not: TOML 1.0 keeps those on one line).
    fn inline(
        &mut self,
        out: &mut String,
        node: &'t Node,
        lines: bool,
        indent: usize,
        depth: usize,
    ) -> Result<()> {
        self.depth_check(depth)?;
        match &node.value {
            Value::Scalar(scalar) => render::write_scalar(out, scalar, false).map_err(|why| self.fail(why)),
            Value::Map(items) => {
                self.check_keys(items)?;
                let mut first = true;
                out.push('{');
                for pair in items.iter().filter_map(|item| match item {
                    MapItem::Pair(pair) => Some(pair),
                    MapItem::Comment(_) => None,
                }) {
                    out.push_str(if first { " " } else { ", " });
                    first = false;
                    render::write_key(out, &pair.key.name);
                    out.push_str(" = ");
                    self.path.push(&pair.key.name);
                    self.inline(out, &pair.value, false, indent, depth + 1)?;
                    self.path.pop();
                }
                out.push_str(if first { "}" } else { " }" });
                Ok(())
            }
            Value::Seq(items) => {
                let has_comments = items.iter().any(|item| matches!(item, SeqItem::Comment(_)));
                if lines && has_comments {
                    let inner = " ".repeat(indent + 4);
                    out.push('[');
                    out.push_str(self.newline);
                    for item in items {
                        out.push_str(&inner);
                        match item {
                            SeqItem::Comment(comment) => {
                                out.push('#');
                                out.push_str(comment_text(comment, &self.path)?);
                            }
                            SeqItem::Value(value) => {
                                self.inline(out, value, true, indent + 4, depth + 1)?;
                                out.push(',');
                            }
                        }
                        out.push_str(self.newline);
                    }
                    out.push_str(&" ".repeat(indent));
                    out.push(']');
                    return Ok(());
                }
                out.push('[');
                let mut first = true;
                for value in items.iter().filter_map(|item| match item {
                    SeqItem::Value(value) => Some(value),
                    SeqItem::Comment(_) => None,
                }) {
                    if !first {
                        out.push_str(", ");
                    }
                    first = false;
                    self.inline(out, value, false, indent, depth + 1)?;
                }
                out.push(']');
                Ok(())
            }
        }
    }
}

/// Where a table's final run of table-shaped entries starts (comments just
/// before it go with it). The top level's `sops` entry is skipped, being
/// written separately.
fn tables_start(items: &[MapItem], top: bool) -> usize {
    for (i, item) in items.iter().enumerate().rev() {
        match item {
            MapItem::Comment(_) => {}
            MapItem::Pair(pair) if top && pair.key.name == "sops" => {}
            MapItem::Pair(pair) if table_shaped(&pair.value) => {}
            MapItem::Pair(_) => return i + 1,
        }
    }
    0
}
