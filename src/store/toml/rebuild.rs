//! Writing a tree whose shape changed since it was parsed (entries added or
//! removed by an edit), through `toml_edit::DocumentMut`.
//!
//! Splicing cannot add a key to a table or drop one, but `toml_edit` can,
//! and it keeps the formatting of everything it is not told to change. So
//! the text is first spliced with every edit that still applies (changed
//! values and comments whose positions are intact, the old metadata cut),
//! then read as a `DocumentMut`, and the document is brought to the tree's
//! shape table by table: keys missing from the tree are removed, keys
//! missing from the document are inserted fresh, values without a position
//! are replaced with their decor kept. Arrays are matched element by
//! element when their length and positions are unchanged, and rewritten
//! whole otherwise. Comments the tree gained have no place to go here and
//! are left out; the one cost of this path is that `toml_edit` regroups
//! dotted keys interleaved with other keys.

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, Value as TomlValue};

use super::render;
use super::splice::show_path;
use super::{Layout, SecretText, fresh};
use crate::error::{Error, Result};
use crate::tree::{MapItem, Node, SeqItem, Src, Value};

/// Write `document_items` into `spliced` (the text with every applicable
/// edit made and the metadata cut), reshaped to the tree, then append the
/// metadata.
pub(super) fn emit_rebuilt(
    document_items: &[MapItem],
    spliced: &str,
    layout: &Layout,
    seen: &[bool],
    metadata: Option<&Node>,
) -> Result<Vec<u8>> {
    let mut document: DocumentMut = spliced.parse().map_err(|_| {
        Error::Emit("the edited file is no longer valid TOML; write it with another --output-type".into())
    })?;
    let mut shaper = Shaper { layout, seen, path: Vec::new() };
    document.remove("sops");
    shaper.table(document.as_table_mut(), document_items, true)?;
    let text = zeroize::Zeroizing::new(document.to_string());
    let mut out = SecretText::with_capacity(text.len() + 4096);
    out.push_str(&text);
    if let Some(node) = metadata {
        let block = fresh::metadata_block(node, layout.newline)?;
        if !out.is_empty() {
            out.push_str(layout.newline);
        }
        out.push_str(block.as_str());
    }
    Ok(out.into_bytes())
}

struct Shaper<'t> {
    layout: &'t Layout,
    /// The positions the splice walk claimed: nodes whose text is already
    /// right in the document.
    seen: &'t [bool],
    path: Vec<&'t str>,
}

impl<'t> Shaper<'t> {
    fn kept(&self, src: Src) -> bool {
        src.get().is_some_and(|index| self.seen.get(index).copied().unwrap_or(false))
    }

    fn table(&mut self, table: &mut Table, items: &'t [MapItem], top: bool) -> Result<()> {
        let wanted: Vec<&'t str> =
            pairs(items).filter(|(name, _)| !(top && *name == "sops")).map(|(name, _)| name).collect();
        let stale: Vec<String> =
            table.iter().map(|(k, _)| k.to_owned()).filter(|k| !wanted.contains(&k.as_str())).collect();
        for key in stale {
            table.remove(&key);
        }
        for (name, node) in pairs(items) {
            if top && name == "sops" {
                continue;
            }
            self.path.push(name);
            match table.get_mut(name) {
                Some(item) => self.item(item, node)?,
                None => {
                    let item = self.fresh_item(node)?;
                    table.insert(name, item);
                }
            }
            self.path.pop();
        }
        Ok(())
    }

    fn item(&mut self, item: &mut Item, node: &'t Node) -> Result<()> {
        match (item, &node.value) {
            (Item::Table(table), Value::Map(items)) => self.table(table, items, false),
            (Item::Value(value), _) => self.value(value, node),
            (Item::ArrayOfTables(array), Value::Seq(items)) if self.aligned(items, array.len()) => {
                for (table, element) in array.iter_mut().zip(values(items)) {
                    match &element.value {
                        Value::Map(fields) => self.table(table, fields, false)?,
                        _ => unreachable!("aligned elements are mappings"),
                    }
                }
                Ok(())
            }
            (item, _) => {
                *item = self.fresh_item(node)?;
                Ok(())
            }
        }
    }

    /// Whether a sequence's elements still match an original array of `len`
    /// elements one to one (arrays of tables also need every element to be
    /// a mapping, which they are when kept).
    fn aligned(&self, items: &[SeqItem], len: usize) -> bool {
        values(items).count() == len && values(items).all(|node| self.kept(node.src))
    }

    fn value(&mut self, value: &mut TomlValue, node: &'t Node) -> Result<()> {
        match (value, &node.value) {
            (TomlValue::InlineTable(table), Value::Map(items)) => self.inline_table(table, items),
            (TomlValue::Array(array), Value::Seq(items)) if self.aligned(items, array.len()) => {
                for (element, node) in array.iter_mut().zip(values(items)) {
                    self.value(element, node)?;
                }
                Ok(())
            }
            (value, Value::Scalar(_))
                if self.kept(node.src) && !value.is_array() && !value.is_inline_table() =>
            {
                Ok(())
            }
            (value, _) => {
                let decor = value.decor().clone();
                *value = self.fresh_value(node)?;
                *value.decor_mut() = decor;
                Ok(())
            }
        }
    }

    fn inline_table(&mut self, table: &mut InlineTable, items: &'t [MapItem]) -> Result<()> {
        let wanted: Vec<&str> = pairs(items).map(|(name, _)| name).collect();
        let stale: Vec<String> =
            table.iter().map(|(k, _)| k.to_owned()).filter(|k| !wanted.contains(&k.as_str())).collect();
        for key in stale {
            table.remove(&key);
        }
        for (name, node) in pairs(items) {
            self.path.push(name);
            match table.get_mut(name) {
                Some(value) => self.value(value, node)?,
                None => {
                    let value = self.fresh_value(node)?;
                    table.insert(name, value);
                }
            }
            self.path.pop();
        }
        Ok(())
    }

    /// A new entry for a table: a mapping becomes a `[table]`, anything else
    /// a value.
    fn fresh_item(&mut self, node: &'t Node) -> Result<Item> {
        match &node.value {
            Value::Map(items) => {
                let mut table = Table::new();
                for (name, child) in pairs(items) {
                    self.path.push(name);
                    let item = self.fresh_item(child)?;
                    self.path.pop();
                    table.insert(name, item);
                }
                Ok(Item::Table(table))
            }
            _ => Ok(Item::Value(self.fresh_value(node)?)),
        }
    }

    fn fresh_value(&mut self, node: &'t Node) -> Result<TomlValue> {
        match &node.value {
            Value::Scalar(scalar) => {
                let remembered = self.layout.override_for(node.src, scalar).map(str::to_owned);
                let token = match remembered {
                    Some(token) => token,
                    None => render::scalar_token(scalar).map_err(|why| {
                        Error::Emit(format!("the value at {} {}", show_path(&self.path), why.describe()))
                    })?,
                };
                let token = zeroize::Zeroizing::new(token);
                token.parse::<TomlValue>().map_err(|_| {
                    Error::Emit(format!("the value at {} has no TOML spelling", show_path(&self.path)))
                })
            }
            Value::Map(items) => {
                let mut table = InlineTable::new();
                for (name, child) in pairs(items) {
                    self.path.push(name);
                    let value = self.fresh_value(child)?;
                    self.path.pop();
                    table.insert(name, value);
                }
                Ok(TomlValue::InlineTable(table))
            }
            Value::Seq(items) => {
                let mut array = Array::new();
                for child in values(items) {
                    array.push(self.fresh_value(child)?);
                }
                Ok(TomlValue::Array(array))
            }
        }
    }
}

fn pairs(items: &[MapItem]) -> impl Iterator<Item = (&str, &Node)> {
    items.iter().filter_map(|item| match item {
        MapItem::Pair(pair) => Some((pair.key.name.as_str(), &pair.value)),
        MapItem::Comment(_) => None,
    })
}

fn values(items: &[SeqItem]) -> impl Iterator<Item = &Node> {
    items.iter().filter_map(|item| match item {
        SeqItem::Value(value) => Some(value),
        SeqItem::Comment(_) => None,
    })
}
