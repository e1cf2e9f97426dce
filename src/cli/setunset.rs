//! `set` and `unset` (and legacy `--set`): change one value in place.

use std::path::Path;

use super::args::{OpenArgs, SetArgs, TypeArgs, UnsetArgs};
use super::common::{self, Context, Destination};
use crate::error::{Error, Result};
use crate::keys::KeyServices;
use crate::keys::group::DecryptionOrder;
use crate::ops::update::{self, UpdateRequest};
use crate::store::{self, Format};
use crate::tree::{Node, Value};
use crate::treepath::{self, Step};

fn request(ctx: &Context, path: &Path, types: &TypeArgs, decrypt: &OpenArgs) -> Result<UpdateRequest> {
    let format =
        types.input_type.as_deref().and_then(Format::from_name).unwrap_or_else(|| Format::from_path(path));
    Ok(UpdateRequest {
        format,
        ignore_mac: decrypt.ignore_mac,
        decryption_order: decrypt
            .decryption_order
            .as_deref()
            .map(DecryptionOrder::parse)
            .transpose()?
            .unwrap_or_default(),
        store_options: ctx.config()?.map(|c| c.stores).unwrap_or_default(),
    })
}

fn steps(path: &str) -> Result<Vec<Step>> {
    treepath::parse(path).map_err(Error::InvalidSetFormat)
}

/// A JSON value as a tree node (read with the JSON store, so numbers,
/// strings and escapes mean what they mean in JSON files).
pub fn value_from_json(text: &str) -> Result<Node> {
    let document = format!("{{\"v\": {}}}", text.trim());
    let (tree, _) =
        store::parse_plain(Format::Json, document.as_bytes()).map(|p| (p.tree, ())).map_err(|_| {
            Error::InvalidSetFormat("the value is not valid JSON (strings need quotes: '\"text\"')".into())
        })?;
    let node = tree.documents.first().and_then(|d| d.get("v")).cloned().ok_or_else(|| {
        Error::InvalidSetFormat("the value is not valid JSON (strings need quotes: '\"text\"')".into())
    })?;
    Ok(strip_sources(node))
}

/// A node from another document must not point into this file's layout.
fn strip_sources(mut node: Node) -> Node {
    node.src = crate::tree::Src::NONE;
    node.changed = true;
    match &mut node.value {
        Value::Map(items) => {
            for item in items {
                if let crate::tree::MapItem::Pair(pair) = item {
                    pair.value = strip_sources(std::mem::replace(
                        &mut pair.value,
                        Node::scalar(crate::tree::Scalar::Null),
                    ));
                }
            }
        }
        Value::Seq(items) => {
            for item in items {
                if let crate::tree::SeqItem::Value(value) = item {
                    *value = strip_sources(std::mem::replace(value, Node::scalar(crate::tree::Scalar::Null)));
                }
            }
        }
        Value::Scalar(_) => {}
    }
    node
}

/// A value read for `set` as text; the bytes are wiped either way.
fn utf8_value(mut bytes: crate::secret::SecretVec, from: &str) -> Result<zeroize::Zeroizing<String>> {
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(text) => Ok(zeroize::Zeroizing::new(text)),
        Err(error) => {
            // Take the bytes back so the Zeroizing wrapper wipes them.
            *bytes = error.into_bytes();
            Err(Error::ReadInput {
                path: from.into(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, "the value is not valid UTF-8"),
            })
        }
    }
}

pub fn set(ctx: &Context, services: &KeyServices, args: &SetArgs) -> Result<()> {
    let value_text = match (args.value_stdin, args.value_file, &args.value) {
        (true, _, Some(_)) => {
            return Err(Error::ConflictingParameters("with --value-stdin, give only FILE and PATH".into()));
        }
        (true, _, None) => {
            let bytes = ctx.read_stdin()?;
            utf8_value(bytes, "<stdin>")?
        }
        (false, true, Some(file)) => {
            let bytes = crate::fsio::read_file(Path::new(file), ctx.size_limit)
                .map_err(|source| Error::ReadInput { path: file.into(), source })?;
            utf8_value(crate::secret::SecretVec::new(bytes), file)?
        }
        (false, _, Some(value)) => zeroize::Zeroizing::new(value.clone()),
        (false, _, None) => {
            return Err(Error::InvalidSetFormat(
                "give the value as the third argument, or use --value-stdin".into(),
            ));
        }
    };
    let path = steps(&args.path)?;
    let value = value_from_json(&value_text)?;
    set_in_file(ctx, services, &args.file, &args.types, &args.decrypt, &path, value, args.idempotent)
}

#[allow(clippy::too_many_arguments)]
pub fn set_in_file(
    ctx: &Context,
    services: &KeyServices,
    file: &Path,
    types: &TypeArgs,
    decrypt: &OpenArgs,
    path: &[Step],
    value: Node,
    idempotent: bool,
) -> Result<()> {
    let request = request(ctx, file, types, decrypt)?;
    let input = ctx.read_file(file)?;
    let mut changed = false;
    let updated = update::update(&input, &request, services, |tree| {
        changed = update::set_value(tree, path, value)?;
        Ok(())
    })?;
    write_back(file, &updated.output, updated.unchanged || (idempotent && !changed))
}

pub fn unset(ctx: &Context, services: &KeyServices, args: &UnsetArgs) -> Result<()> {
    let path = steps(&args.path)?;
    let request = request(ctx, &args.file, &args.types, &args.decrypt)?;
    let input = ctx.read_file(&args.file)?;
    let mut found = false;
    let updated = update::update(&input, &request, services, |tree| {
        found = update::unset_value(tree, &path)?;
        Ok(())
    })?;
    if !found {
        if args.idempotent {
            return Ok(());
        }
        let shown: String = path.iter().map(ToString::to_string).collect();
        return Err(Error::PathNotFound(shown));
    }
    write_back(&args.file, &updated.output, updated.unchanged)
}

/// Write in place, unless nothing changed (then the file is left alone).
fn write_back(path: &Path, output: &[u8], unchanged: bool) -> Result<()> {
    if unchanged {
        return Ok(());
    }
    common::write(&Destination::File { path: path.to_owned(), new_mode: crate::fsio::SHARED_MODE }, output)
}

/// Legacy `--set '["a"]["b"] value'`: the path, a space, the JSON value.
pub fn legacy_set(
    ctx: &Context,
    services: &KeyServices,
    spec: &str,
    file: &Path,
    types: &TypeArgs,
    decrypt: &OpenArgs,
) -> Result<()> {
    let (path, value) = split_legacy_set(spec)?;
    set_in_file(ctx, services, file, types, decrypt, &steps(path)?, value_from_json(value)?, false)
}

/// The path ends at the last `]` before the first space that follows one.
fn split_legacy_set(spec: &str) -> Result<(&str, &str)> {
    let at =
        spec.find("] ").ok_or_else(|| Error::InvalidSetFormat("--set needs `'[\"path\"] value'`".into()))?;
    Ok((&spec[..=at], spec[at + 2..].trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_json() {
        assert!(matches!(
            value_from_json("\"x\"").unwrap().value,
            Value::Scalar(crate::tree::Scalar::Str(_))
        ));
        assert!(matches!(value_from_json("5").unwrap().value, Value::Scalar(crate::tree::Scalar::Int(5))));
        assert!(matches!(value_from_json("{\"a\": [1]}").unwrap().value, Value::Map(_)));
        assert_eq!(value_from_json("unquoted").unwrap_err().exit_code(), 7);
        assert_eq!(value_from_json("").unwrap_err().exit_code(), 7);
    }

    #[test]
    fn legacy_set_splits_path_and_value() {
        assert_eq!(split_legacy_set(r#"["a"]["b"] "v w""#).unwrap(), (r#"["a"]["b"]"#, r#""v w""#));
        assert!(split_legacy_set("nope").is_err());
    }
}
