//! Writing a whole tree as sops writes INI, for when there is no original
//! text to splice into (a conversion from another format), and one value
//! on its own for `--extract`.
//!
//! sops builds a go-ini file from the tree: each top-level entry becomes a
//! section (duplicates stay separate), a comment that is a section's first
//! entry becomes the section's comment, any later comment becomes the
//! comment of the key before it (replacing one it had), and a repeated key
//! updates the first one's value in place. go-ini then writes: each
//! section's comment, its `[name]` header (left out for a first section
//! named `DEFAULT` in any case, and such a section is skipped entirely when
//! it has no keys), each key's comment and `key = value` with the `=` signs
//! aligned within the section, and a blank line between sections. The
//! `[sops]` section comes last, its keys in byte order (sops's own order is
//! Go's random map order).

use foldhash::{HashMap, HashMapExt};
use std::borrow::Cow;

use super::render::{self, CommentStyle};
use crate::error::{Error, Result};
use crate::metadata::flat;
use crate::secret::SecretBuf;
use crate::secret::wipe_string;
use crate::store::StoreOptions;
use crate::store::json;
use crate::tree::{MapItem, Node, Scalar, SeqItem, Tree, Value};

/// A key as go-ini will write it.
pub(super) struct FreshKey<'t> {
    pub name: &'t str,
    pub value: Cow<'t, [u8]>,
    pub comment: Option<&'t [u8]>,
}

/// A section as go-ini will write it.
pub(super) struct FreshSection<'t> {
    pub name: &'t str,
    pub comment: Option<&'t [u8]>,
    pub keys: Vec<FreshKey<'t>>,
}

/// sops's INI output for `tree` (every document's sections, in order) with
/// `metadata` appended as the `[sops]` section. A top-level entry named
/// `sops` in the tree is left out in favour of `metadata`.
pub fn emit_fresh(tree: &Tree, metadata: Option<&Node>, _options: &StoreOptions) -> Result<Vec<u8>> {
    let metadata_pairs = metadata.map(flat::flatten).unwrap_or_default();
    let mut sections = Vec::new();
    for document in &tree.documents {
        for item in &document.items {
            let MapItem::Pair(pair) = item else { continue };
            if pair.key.name != "sops" {
                sections.push(fresh_section(&pair.key.name, &pair.value)?);
            }
        }
    }
    if metadata.is_some() {
        sections.push(metadata_section(&metadata_pairs));
    }
    let mut out = SecretBuf::with_capacity(size_of(&sections));
    write_sections(&mut out, &sections, b"\n", true);
    Ok(out.into_vec())
}

/// The `[sops]` section of flattened metadata pairs.
pub(super) fn metadata_section(pairs: &[(String, String)]) -> FreshSection<'_> {
    let keys = pairs
        .iter()
        .map(|(key, value)| FreshKey { name: key, value: Cow::Borrowed(value.as_bytes()), comment: None })
        .collect();
    FreshSection { name: "sops", comment: None, keys }
}

/// One top-level entry of the tree as the section sops makes of it.
pub(super) fn fresh_section<'t>(name: &'t str, node: &'t Node) -> Result<FreshSection<'t>> {
    let Value::Map(items) = &node.value else {
        return Err(Error::Emit(format!(
            "Error marshaling to ini: Error encoding section: Section values should always be TreeBranches \
             (the top-level key {name:?} holds a single value; INI holds only [sections] of key = value pairs)"
        )));
    };
    if name.is_empty() {
        return Err(Error::Emit(
            "Error marshaling to ini: Error encoding section : empty section name".into(),
        ));
    }
    let mut section = FreshSection { name, comment: None, keys: Vec::new() };
    let mut rest = &items[..];
    if let [MapItem::Comment(comment), tail @ ..] = rest {
        section.comment = Some(comment.text.as_bytes());
        rest = tail;
    }
    let mut positions: HashMap<&str, usize> = HashMap::new();
    let mut last = None;
    for item in rest {
        match item {
            MapItem::Comment(comment) => {
                if let Some(index) = last {
                    let key: &mut FreshKey = &mut section.keys[index];
                    key.comment = Some(comment.text.as_bytes());
                }
            }
            MapItem::Pair(pair) => {
                let Value::Scalar(scalar) = &pair.value.value else {
                    return Err(complex_value(name, &pair.key.name, &pair.value));
                };
                if pair.key.name.is_empty() {
                    return Err(Error::Emit(
                        "Error marshaling to ini: Error encoding key: error creating new key: empty key name"
                            .into(),
                    ));
                }
                let value = render::value_text(scalar);
                let index = match positions.get(pair.key.name.as_str()) {
                    // go-ini updates a repeated key in place.
                    Some(&index) => {
                        section.keys[index].value = value;
                        index
                    }
                    None => {
                        positions.insert(&pair.key.name, section.keys.len());
                        section.keys.push(FreshKey { name: &pair.key.name, value, comment: None });
                        section.keys.len() - 1
                    }
                };
                last = Some(index);
            }
        }
    }
    Ok(section)
}

/// sops would print Go's debug formatting of a nested value (`[{x 1}]`),
/// which reads back as a different value; we refuse instead.
pub(super) fn complex_value(section: &str, key: &str, node: &Node) -> Error {
    let kind = if matches!(node.value, Value::Seq(_)) { "a list" } else { "a mapping" };
    Error::Emit(format!(
        "Error marshaling to ini: the key {key:?} in section {section:?} holds {kind}; \
         INI values are single strings (choose another --output-type)"
    ))
}

fn size_of(sections: &[FreshSection]) -> usize {
    sections
        .iter()
        .map(|s| {
            s.name.len()
                + 8
                + s.comment.map_or(0, |c| c.len() + 8)
                + s.keys.iter().map(|k| k.name.len() * 2 + k.value.len() + 16).sum::<usize>()
        })
        .sum::<usize>()
        + 64
}

/// go-ini's `writeToBuffer` with sops's settings. With `first_is_start`, the
/// first section is the first of the file, where a `DEFAULT` header is left
/// out.
pub(super) fn write_sections(
    out: &mut SecretBuf,
    sections: &[FreshSection],
    newline: &[u8],
    first_is_start: bool,
) {
    let last = sections.len().saturating_sub(1);
    for (i, section) in sections.iter().enumerate() {
        if let Some(comment) = section.comment.filter(|c| !c.is_empty()) {
            render::write_comment(out, comment, CommentStyle::Section, b"", newline, false);
            out.extend(newline);
        }
        if i > 0 || !first_is_start || section.name.to_uppercase() != "DEFAULT" {
            out.push(b'[');
            out.extend(section.name.as_bytes());
            out.push(b']');
            out.extend(newline);
        } else if section.keys.is_empty() {
            continue;
        }
        write_keys(out, &section.keys, newline);
        if i < last {
            out.extend(newline);
        }
    }
}

/// Keys with their comments, `=` aligned as go-ini aligns them.
pub(super) fn write_keys(out: &mut SecretBuf, keys: &[FreshKey], newline: &[u8]) {
    let tokens: Vec<Cow<str>> = keys.iter().map(|k| render::key_token(k.name)).collect();
    let align = tokens.iter().map(|t| t.len()).max().unwrap_or(0);
    for (key, token) in keys.iter().zip(&tokens) {
        if let Some(comment) = key.comment.filter(|c| !c.is_empty()) {
            render::write_comment(out, comment, CommentStyle::Key, b"", newline, false);
            out.extend(newline);
        }
        out.extend(token.as_bytes());
        for _ in token.len()..align {
            out.push(b' ');
        }
        out.extend(b" = ");
        render::write_value_text(out, &key.value);
        out.extend(newline);
    }
}

/// The deepest nesting `emit_value` writes.
const MAX_VALUE_DEPTH: usize = 512;

/// One value on its own (`--extract` of something that is not a string):
/// sops marshals it with Go's `encoding/json`, compact, no line break. A
/// mapping is a list of `{"Key":..,"Value":..}` objects, a comment
/// `{"Value":..}`, as sops's tree types marshal.
pub fn emit_value(node: &Node, _options: &StoreOptions) -> Result<Vec<u8>> {
    let mut out = SecretBuf::with_capacity(64);
    write_json(&mut out, node, 0)?;
    Ok(out.into_vec())
}

fn write_json(out: &mut SecretBuf, node: &Node, depth: usize) -> Result<()> {
    if depth > MAX_VALUE_DEPTH {
        return Err(Error::Emit(format!("a value nests deeper than {MAX_VALUE_DEPTH} levels")));
    }
    match &node.value {
        Value::Scalar(scalar) => write_json_scalar(out, scalar)?,
        Value::Seq(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match item {
                    SeqItem::Value(value) => write_json(out, value, depth + 1)?,
                    SeqItem::Comment(comment) => write_json_comment(out, comment.text.as_bytes())?,
                }
            }
            out.push(b']');
        }
        Value::Map(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend(b"{\"Key\":");
                match item {
                    MapItem::Pair(pair) => {
                        write_json_scalar(out, &Scalar::str(&pair.key.name))?;
                        out.extend(b",\"Value\":");
                        write_json(out, &pair.value, depth + 1)?;
                    }
                    MapItem::Comment(comment) => {
                        write_json_comment(out, comment.text.as_bytes())?;
                        out.extend(b",\"Value\":null");
                    }
                }
                out.push(b'}');
            }
            out.push(b']');
        }
    }
    Ok(())
}

fn write_json_comment(out: &mut SecretBuf, text: &[u8]) -> Result<()> {
    out.extend(b"{\"Value\":");
    write_json_scalar(out, &Scalar::Str(crate::secret::SecretBytes::new(text.to_vec())))?;
    out.push(b'}');
    Ok(())
}

fn write_json_scalar(out: &mut SecretBuf, scalar: &Scalar) -> Result<()> {
    let mut text = json::render_scalar(scalar)?;
    out.extend(text.as_bytes());
    wipe_string(&mut text);
    Ok(())
}
