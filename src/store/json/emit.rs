//! Writing JSON text: scalars as Go's `encoding/json` writes them, and whole
//! trees as sops writes them.
//!
//! sops builds compact JSON with `json.Marshal` and re-indents it with
//! `json.Indent`, so its output is fully determined by three things, each
//! pinned here against the real binary: the string escaper (HTML-safe,
//! `\b`/`\f` short forms as in Go 1.22+, U+2028/U+2029 escaped, invalid UTF-8
//! as `\ufffd`), the float formatter ([`gofmt::format_float_json`]), and the
//! indentation rules (one element per line, `"key": value`, empty containers
//! as `{}`/`[]`). Rather than build the compact text and re-indent it, the
//! writer produces the indented form directly; the same routine, given the
//! spacing of a particular file, renders fresh values for the splicer.
//!
//! Everything written may be plaintext, so it goes into a [`SecretBuf`],
//! which wipes a buffer before letting go of it, including when it grows.

use std::fmt::Write as _;

use super::{MAX_EMIT_DEPTH, word_at, word_needs_attention};
use crate::error::{Error, Result};
use crate::gofmt;
use crate::secret::{SecretBuf, wipe_string};
use crate::store::{MAX_JSON_INDENT, StoreOptions};
use crate::tree::{Key, MapItem, Node, Scalar, SeqItem, Tree, Value};

/// sops's output: Go `json.Marshal` then indented (TAB per level by default,
/// `options.json_indent = Some(n)` for n spaces, n = 0 still one element per
/// line), `"key": value`, `{}`/`[]` empty, trailing newline, comments
/// dropped, metadata appended as the last member. Any top-level member
/// named `sops` in the tree is left out in favour of `metadata`; only the
/// first document is written, as sops does.
pub fn emit_fresh(tree: &Tree, metadata: Option<&Node>, options: &StoreOptions) -> Result<Vec<u8>> {
    let unit = indent_unit(options)?;
    let style = Style { unit: &unit, newline: b"\n", comma: b",", colon: b": " };
    let items = tree.documents.first().map_or(&[][..], |doc| &doc.items[..]);
    let levels = unit.len() + 1;
    let size = size_of_items(items, levels, 1) + metadata.map_or(0, |node| size_of(node, levels, 2));
    let mut out = SecretBuf::with_capacity(size + size / 8 + 64);
    let sops = Key::new("sops");
    let members = top_level_members(items).chain(metadata.map(|node| (&sops, node)));
    style.write_map(&mut out, members, &mut Vec::new(), 1)?;
    out.push(b'\n');
    Ok(out.into_vec())
}

/// One indentation step: a TAB by default, else `json_indent` spaces.
/// Options built by the config loader or the command line are already
/// within [`MAX_JSON_INDENT`]; a library caller's are checked here.
pub(super) fn indent_unit(options: &StoreOptions) -> Result<Vec<u8>> {
    match options.json_indent {
        None => Ok(vec![b'\t']),
        Some(width) if width <= MAX_JSON_INDENT => Ok(vec![b' '; width]),
        Some(width) => Err(Error::Emit(format!(
            "a JSON indentation of {width} is more than the {MAX_JSON_INDENT} allowed"
        ))),
    }
}

/// One value on its own, as `--extract` prints a number or a list: the
/// value's JSON text, without a trailing newline (as sops prints it).
pub fn emit_value(node: &Node, options: &StoreOptions) -> Result<Vec<u8>> {
    let unit = indent_unit(options)?;
    let style = Style { unit: &unit, newline: b"\n", comma: b",", colon: b": " };
    let mut out = SecretBuf::with_capacity(size_of(node, unit.len() + 1, 1) + 16);
    style.write_value(&mut out, node, &mut Vec::new(), 1)?;
    Ok(out.into_vec())
}

/// One scalar as JSON text (for `--extract` of a non-string leaf, and for
/// splicing).
pub fn render_scalar(scalar: &Scalar) -> Result<String> {
    let mut out = SecretBuf::with_capacity(16);
    write_scalar(&mut out, scalar)?;
    Ok(String::from_utf8(out.into_vec()).expect("the JSON writer emits UTF-8"))
}

/// The members of a document's top level that are written: pairs other than
/// the reserved `sops` member.
pub(super) fn top_level_members(items: &[MapItem]) -> impl Iterator<Item = (&Key, &Node)> {
    pairs(items).filter(|(key, _)| key.name != "sops")
}

fn pairs(items: &[MapItem]) -> impl Iterator<Item = (&Key, &Node)> {
    items.iter().filter_map(|item| match item {
        MapItem::Pair(pair) => Some((&pair.key, &pair.value)),
        MapItem::Comment(_) => None,
    })
}

fn values(items: &[SeqItem]) -> impl Iterator<Item = &Node> {
    items.iter().filter_map(|item| match item {
        SeqItem::Value(node) => Some(node),
        SeqItem::Comment(_) => None,
    })
}

/// The spacing of written containers. With an empty `newline` everything
/// is on one line and elements are separated by `comma` alone; otherwise
/// each element is on its own line, indented by one more `unit` than its
/// container's line.
pub(super) struct Style<'a> {
    pub unit: &'a [u8],
    pub newline: &'a [u8],
    /// What follows an element that is not the last: `,` in the multi-line
    /// form, `, ` or `,` on one line.
    pub comma: &'a [u8],
    /// Between a key and its value: `: ` or `:`.
    pub colon: &'a [u8],
}

impl Style<'_> {
    /// Write `node`; `indent` is the indentation of the line it starts on.
    pub fn write_value(
        &self,
        out: &mut SecretBuf,
        node: &Node,
        indent: &mut Vec<u8>,
        depth: usize,
    ) -> Result<()> {
        match &node.value {
            Value::Scalar(scalar) => write_scalar(out, scalar),
            Value::Map(items) => self.write_map(out, pairs(items), indent, depth + 1),
            Value::Seq(items) => self.write_seq(out, values(items), indent, depth + 1),
        }
    }

    pub fn write_map<'t>(
        &self,
        out: &mut SecretBuf,
        members: impl Iterator<Item = (&'t Key, &'t Node)>,
        indent: &mut Vec<u8>,
        depth: usize,
    ) -> Result<()> {
        check_depth(depth)?;
        out.push(b'{');
        let outer = indent.len();
        indent.extend_from_slice(self.unit);
        let mut first = true;
        for (key, value) in members {
            self.element_start(out, first, indent);
            first = false;
            write_string(out, key.name.as_bytes());
            out.extend(self.colon);
            self.write_value(out, value, indent, depth)?;
        }
        indent.truncate(outer);
        self.close(out, first, indent, b'}');
        Ok(())
    }

    pub fn write_seq<'t>(
        &self,
        out: &mut SecretBuf,
        elements: impl Iterator<Item = &'t Node>,
        indent: &mut Vec<u8>,
        depth: usize,
    ) -> Result<()> {
        check_depth(depth)?;
        out.push(b'[');
        let outer = indent.len();
        indent.extend_from_slice(self.unit);
        let mut first = true;
        for value in elements {
            self.element_start(out, first, indent);
            first = false;
            self.write_value(out, value, indent, depth)?;
        }
        indent.truncate(outer);
        self.close(out, first, indent, b']');
        Ok(())
    }

    fn element_start(&self, out: &mut SecretBuf, first: bool, indent: &[u8]) {
        if !first {
            out.extend(self.comma);
        }
        if !self.newline.is_empty() {
            out.extend(self.newline);
            out.extend(indent);
        }
    }

    fn close(&self, out: &mut SecretBuf, empty: bool, indent: &[u8], bracket: u8) {
        if !empty && !self.newline.is_empty() {
            out.extend(self.newline);
            out.extend(indent);
        }
        out.push(bracket);
    }
}

/// About how many bytes `node` takes when written at `depth` with
/// `per_level` bytes of line break and indentation per level, so that the
/// output buffer is allocated once (growing it means copying plaintext).
pub(super) fn size_of(node: &Node, per_level: usize, depth: usize) -> usize {
    if depth > MAX_EMIT_DEPTH {
        return 0;
    }
    match &node.value {
        Value::Scalar(Scalar::Str(bytes)) => bytes.len() + 2,
        Value::Scalar(Scalar::BigInt(bytes)) => bytes.len(),
        Value::Scalar(_) => 24,
        Value::Map(items) => size_of_items(items, per_level, depth + 1),
        Value::Seq(items) => {
            2 + items
                .iter()
                .map(|item| match item {
                    SeqItem::Value(node) => 2 + per_level * depth + size_of(node, per_level, depth + 1),
                    SeqItem::Comment(_) => 0,
                })
                .sum::<usize>()
        }
    }
}

fn size_of_items(items: &[MapItem], per_level: usize, depth: usize) -> usize {
    2 + items
        .iter()
        .map(|item| match item {
            MapItem::Pair(pair) => {
                6 + pair.key.name.len() + per_level * depth + size_of(&pair.value, per_level, depth)
            }
            MapItem::Comment(_) => 0,
        })
        .sum::<usize>()
}

fn check_depth(depth: usize) -> Result<()> {
    if depth > MAX_EMIT_DEPTH {
        return Err(Error::Emit(format!(
            "objects and arrays are nested more than {MAX_EMIT_DEPTH} levels deep"
        )));
    }
    Ok(())
}

/// One scalar as Go's `json.Marshal` writes it.
pub(super) fn write_scalar(out: &mut SecretBuf, scalar: &Scalar) -> Result<()> {
    match scalar {
        Scalar::Null => out.extend(b"null"),
        Scalar::Bool(true) => out.extend(b"true"),
        Scalar::Bool(false) => out.extend(b"false"),
        Scalar::Int(value) => {
            write!(out, "{value}").expect("writing to memory cannot fail");
        }
        Scalar::Float(value) => {
            let Some(mut text) = gofmt::format_float_json(*value) else {
                return Err(Error::Emit("a number is NaN or infinite, which JSON cannot represent".into()));
            };
            out.extend(text.as_bytes());
            wipe_string(&mut text);
        }
        Scalar::BigInt(digits) => {
            let bytes = digits.as_bytes();
            let magnitude = bytes.strip_prefix(b"-").unwrap_or(bytes);
            if magnitude.is_empty() || !magnitude.iter().all(u8::is_ascii_digit) {
                return Err(Error::Emit("a big integer value is not a decimal integer".into()));
            }
            out.extend(bytes);
        }
        Scalar::Str(bytes) => write_string(out, bytes.as_bytes()),
        Scalar::Time(time) => {
            let mut text = time.to_rfc3339_nano();
            out.push(b'"');
            out.extend(text.as_bytes());
            out.push(b'"');
            wipe_string(&mut text);
        }
    }
    Ok(())
}

/// ASCII bytes that Go writes as they are: printable, and not `"`, `\`,
/// or the HTML-sensitive `<`, `>`, `&`. DEL (0x7F) is written raw.
const SAFE_ASCII: [bool; 128] = {
    let mut table = [false; 128];
    let mut b = 0x20;
    while b < 0x80 {
        table[b] = !matches!(b as u8, b'"' | b'\\' | b'<' | b'>' | b'&');
        b += 1;
    }
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A JSON string as Go's `encoding/json` (with HTML escaping) writes it.
pub(super) fn write_string(out: &mut SecretBuf, bytes: &[u8]) {
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if std::str::from_utf8(bytes).is_ok() {
        write_valid(out, bytes);
        out.push(b'"');
        return;
    }
    for chunk in bytes.utf8_chunks() {
        write_valid(out, chunk.valid().as_bytes());
        // Go decodes invalid UTF-8 one byte at a time, each becoming an
        // escaped replacement character.
        for _ in chunk.invalid() {
            out.extend(b"\\ufffd");
        }
    }
    out.push(b'"');
}

/// Whether any byte of `text` is escaped in a JSON string (or is part of a
/// character that may be). Most strings (every envelope) need no escape,
/// which this test, without early exits, finds many bytes at a time; the
/// escaping loop goes a word or a byte at a time, about 6 instructions a
/// byte.
pub(super) fn needs_escape(text: &[u8]) -> bool {
    let attention = |b: u8| {
        !(0x20..0x80).contains(&b) | (b == b'"') | (b == b'\\') | (b == b'<') | (b == b'>') | (b == b'&')
    };
    text.iter().fold(false, |found, &b| found | attention(b))
}

pub(super) fn write_valid(out: &mut SecretBuf, text: &[u8]) {
    if !needs_escape(text) {
        out.extend(text);
        return;
    }
    write_escaped(out, text);
}

/// `write_valid` the long way, a word or a byte at a time.
pub(super) fn write_escaped(out: &mut SecretBuf, text: &[u8]) {
    let mut start = 0;
    let mut i = 0;
    while i < text.len() {
        if let Some(word) = word_at(text, i)
            && !word_needs_attention(word, b"\"\\<>&")
        {
            i += 8;
            continue;
        }
        let b = text[i];
        if b < 0x80 {
            if SAFE_ASCII[b as usize] {
                i += 1;
                continue;
            }
            out.extend(&text[start..i]);
            match b {
                b'"' => out.extend(b"\\\""),
                b'\\' => out.extend(b"\\\\"),
                b'\n' => out.extend(b"\\n"),
                b'\r' => out.extend(b"\\r"),
                b'\t' => out.extend(b"\\t"),
                0x08 => out.extend(b"\\b"),
                0x0C => out.extend(b"\\f"),
                _ => out.extend(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 0xF) as usize]]),
            }
            i += 1;
            start = i;
        } else if b == 0xE2 && text.get(i + 1) == Some(&0x80) && matches!(text.get(i + 2), Some(0xA8 | 0xA9))
        {
            // U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR.
            out.extend(&text[start..i]);
            out.extend(if text[i + 2] == 0xA8 { b"\\u2028" } else { b"\\u2029" });
            i += 3;
            start = i;
        } else {
            i += 1;
        }
    }
    out.extend(&text[start..]);
}

impl std::fmt::Write for SecretBuf {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.extend(text.as_bytes());
        Ok(())
    }
}
