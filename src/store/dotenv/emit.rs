//! Writing dotenv text: single entries (shared with the splicer), whole
//! trees (sops's own output), and the metadata lines.
//!
//! sops writes whatever it is given: a string holding a backslash followed
//! by `n` comes back as a newline, a key holding `=` comes back split at it,
//! a null becomes `<nil>`, a second YAML document vanishes. We write the
//! same bytes as sops wherever the result reads back as what was written,
//! and refuse (exit 4, naming the key but never the value) where it would
//! not. What is refused, and why, is listed in `docs/formats.md` (dotenv).
//!
//! Everything written may be plaintext, so it goes into a [`SecretBuf`],
//! which wipes a buffer before letting go of it, including when it grows.

use super::METADATA_PREFIX;
use crate::error::{Error, Result};
use crate::gofmt;
use crate::metadata::flat;
use crate::secret::{SecretBuf, SecretBytes};
use crate::store::StoreOptions;
use crate::tree::{MapItem, Node, Scalar, Tree, Value};

/// sops's dotenv output (spec 8.3.2): `#<text>` for comments, `KEY=value`
/// for pairs, in order, each line ending with `\n`, then the flattened
/// metadata as `sops_<key>=<value>` lines sorted byte-wise. A top-level
/// `sops` mapping in the tree is left out in favour of `metadata`. Refused
/// (exit 4): a nested mapping or list, more than one document, and the keys,
/// values and comments that would read back differently: a key that is
/// empty, holds `=` or a line break, or starts with `#` or `sops_`; a string
/// holding a backslash followed by `n`; a comment holding a line break; text
/// that is not UTF-8.
pub fn emit_fresh(tree: &Tree, metadata: Option<&Node>, _options: &StoreOptions) -> Result<Vec<u8>> {
    let items = single_document(tree)?;
    let meta_lines = metadata.map(flat::flatten).unwrap_or_default();
    let mut out = SecretBuf::with_capacity(estimated_size(items) + metadata_size(&meta_lines));
    for item in items {
        match item {
            MapItem::Comment(comment) => {
                write_comment(&mut out, &comment.text)?;
                out.push(b'\n');
            }
            MapItem::Pair(pair) if is_metadata_pair(&pair.key.name, &pair.value) => {}
            MapItem::Pair(pair) => {
                check_key(&pair.key.name)?;
                out.extend(pair.key.name.as_bytes());
                out.push(b'=');
                write_node(&mut out, &pair.key.name, &pair.value)?;
                out.push(b'\n');
            }
        }
    }
    for line in &meta_lines {
        write_metadata_line(&mut out, line);
        out.push(b'\n');
    }
    Ok(out.into_vec())
}

/// One value on its own (`--extract` of a leaf): a string's bytes as they
/// are, as sops prints them. Anything else is refused (exit 4), as sops
/// refuses it ("the dotenv store only supports emitting strings").
pub fn emit_value(node: &Node, _options: &StoreOptions) -> Result<Vec<u8>> {
    match &node.value {
        Value::Scalar(Scalar::Str(bytes)) => Ok(bytes.as_bytes().to_vec()),
        other => Err(Error::Emit(format!(
            "the dotenv store only supports emitting strings, got {}",
            kind_name(other)
        ))),
    }
}

fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Map(_) => "a mapping",
        Value::Seq(_) => "a list",
        Value::Scalar(Scalar::Null) => "null",
        Value::Scalar(Scalar::Bool(_)) => "a boolean",
        Value::Scalar(Scalar::Int(_) | Scalar::BigInt(_)) => "an integer",
        Value::Scalar(Scalar::Float(_)) => "a number",
        Value::Scalar(Scalar::Time(_)) => "a timestamp",
        Value::Scalar(Scalar::Str(_)) => "a string",
    }
}

/// The items of the one document a dotenv file holds. sops writes only the
/// first of several (a multi-document YAML file); that loses the others
/// without a word, so we refuse.
pub(super) fn single_document(tree: &Tree) -> Result<&[MapItem]> {
    match tree.documents.as_slice() {
        [] => Ok(&[]),
        [document] => Ok(&document.items),
        more => Err(Error::Emit(format!(
            "a dotenv file holds one document, and this one has {}; write each document separately",
            more.len()
        ))),
    }
}

/// The tree's own copy of the metadata (a top-level `sops` mapping), which
/// the writers replace by the `metadata` they are given. A `sops` key with
/// a string value is ordinary data in a dotenv file (sops reads it so), and
/// is written.
pub(super) fn is_metadata_pair(key: &str, value: &Node) -> bool {
    key == "sops" && matches!(value.value, Value::Map(_))
}

/// A key that reads back as itself, as data: not empty, no `=` (the key
/// ends at the first one) or newline (the line ends there), not starting
/// with `#` (a comment) or `sops_` (metadata).
pub(super) fn check_key(key: &str) -> Result<()> {
    let problem = if key.is_empty() {
        "it is empty"
    } else if key.contains('=') {
        "it contains `=`"
    } else if key.contains('\n') {
        "it contains a line break"
    } else if key.starts_with('#') {
        "it starts with `#`, which makes the line a comment"
    } else if key.starts_with(METADATA_PREFIX) {
        "it starts with `sops_`, which marks sops's own metadata"
    } else {
        return Ok(());
    };
    Err(Error::Emit(format!("the key {key:?} cannot be written to a dotenv file: {problem}")))
}

/// A comment that reads back as itself: UTF-8 without line breaks.
pub(super) fn check_comment(text: &SecretBytes) -> Result<&[u8]> {
    let bytes = text.as_bytes();
    if std::str::from_utf8(bytes).is_err() {
        return Err(Error::Emit("a comment is not UTF-8 text, which a dotenv file must be".into()));
    }
    if bytes.contains(&b'\n') {
        return Err(Error::Emit(
            "a comment contains a line break, which a dotenv comment cannot hold".into(),
        ));
    }
    Ok(bytes)
}

pub(super) fn write_comment(out: &mut SecretBuf, text: &SecretBytes) -> Result<()> {
    let bytes = check_comment(text)?;
    out.push(b'#');
    out.extend(bytes);
    Ok(())
}

/// A pair's value; `key` names it in errors.
pub(super) fn write_node(out: &mut SecretBuf, key: &str, node: &Node) -> Result<()> {
    match &node.value {
        Value::Scalar(scalar) => write_scalar(out, key, scalar),
        Value::Map(_) | Value::Seq(_) => {
            Err(Error::Emit(format!("cannot use complex value in dotenv file; offending key {key}")))
        }
    }
}

/// A scalar in the sops dialect (spec 8.3.2). Strings have each newline
/// written as `\n`; a string that already holds a backslash followed by `n`
/// is refused, as it would read back as a newline. Booleans are
/// `true`/`false`, integers decimal (big ones with all their digits), floats
/// Go's `'G'` with `.0` added when it has neither `.` nor `E`, timestamps
/// RFC 3339 (with their fraction of a second, which sops drops), null
/// empty (sops writes `<nil>`).
pub(super) fn write_scalar(out: &mut SecretBuf, key: &str, scalar: &Scalar) -> Result<()> {
    match scalar {
        Scalar::Str(bytes) => write_string(out, key, bytes.as_bytes()),
        Scalar::Null => Ok(()),
        Scalar::Bool(b) => {
            out.extend(if *b { b"true" } else { b"false" });
            Ok(())
        }
        Scalar::Int(i) => {
            out.extend(i.to_string().as_bytes());
            Ok(())
        }
        Scalar::BigInt(digits) => write_string(out, key, digits.as_bytes()),
        Scalar::Float(f) => {
            out.extend(gofmt::format_float_dotenv(*f).as_bytes());
            Ok(())
        }
        Scalar::Time(ts) => {
            out.extend(ts.to_rfc3339_nano().as_bytes());
            Ok(())
        }
    }
}

fn write_string(out: &mut SecretBuf, key: &str, bytes: &[u8]) -> Result<()> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(Error::Emit(format!(
            "the value of {key:?} is not UTF-8 text, which a dotenv file must be"
        )));
    };
    // `str::find` with a `char` searches a word at a time; values are most
    // of a file, and few of them hold a backslash or a newline.
    if let Some(first) = text.find('\\')
        && text[first..].contains("\\n")
    {
        return Err(Error::Emit(format!(
            "the value of {key:?} contains a backslash followed by `n`, which a dotenv file would read \
             back as a line break; use another output format for it"
        )));
    }
    out.reserve(bytes.len() + 16);
    let mut rest = text;
    while let Some(at) = rest.find('\n') {
        out.extend(&rest.as_bytes()[..at]);
        out.extend(b"\\n");
        rest = &rest[at + 1..];
    }
    out.extend(rest.as_bytes());
    Ok(())
}

/// `sops_<key>=<value>` (the value already has its newlines escaped).
pub(super) fn write_metadata_line(out: &mut SecretBuf, (key, value): &(String, String)) {
    out.extend(METADATA_PREFIX.as_bytes());
    out.extend(key.as_bytes());
    out.push(b'=');
    out.extend(value.as_bytes());
}

pub(super) fn metadata_size(lines: &[(String, String)]) -> usize {
    lines.iter().map(|(k, v)| METADATA_PREFIX.len() + k.len() + v.len() + 2).sum()
}

/// About how many bytes the items take written fresh (an upper bound for
/// strings, whose newlines grow to two bytes).
pub(super) fn estimated_size(items: &[MapItem]) -> usize {
    items
        .iter()
        .map(|item| match item {
            MapItem::Comment(comment) => comment.text.len() + 2,
            MapItem::Pair(pair) => pair.key.name.len() + 2 + estimated_value_size(&pair.value),
        })
        .sum()
}

pub(super) fn estimated_value_size(node: &Node) -> usize {
    match &node.value {
        Value::Scalar(Scalar::Str(bytes) | Scalar::BigInt(bytes)) => 2 * bytes.len(),
        Value::Scalar(_) => 40,
        _ => 0,
    }
}
