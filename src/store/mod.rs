//! Stores: reading and writing each file format.
//!
//! A store turns bytes into a [`Tree`] plus a [`Layout`] (the original bytes
//! and where every node sits in them), and turns a tree back into bytes. When
//! the layout of the same format is at hand the writer splices: it replaces
//! the text of changed leaves, drops the original `sops` metadata block, and
//! appends the new one, leaving every other byte alone. Without a layout
//! (a conversion to another format) it emits the tree fresh, in the style
//! sops's own emitters use, so our output matches sops's byte for byte.

pub mod binary;
pub mod dotenv;
pub mod ini;
pub mod json;
pub mod toml;
pub mod yaml;

use foldhash::{HashMap, HashMapExt};
use std::path::Path;

use crate::error::Result;
use crate::tree::{Node, Tree};

/// A file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
    Ini,
    Toml,
    Binary,
}

impl Format {
    /// The format sops picks from a file name (spec 8): `.yaml`/`.yml`,
    /// `.json`, `.env`, `.ini`, and binary for anything else; plus `.toml`,
    /// which sops lacks. Suffixes are matched case-sensitively, as sops does.
    pub fn from_path(path: &Path) -> Format {
        let name = path.to_string_lossy();
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            Format::Yaml
        } else if name.ends_with(".json") {
            Format::Json
        } else if name.ends_with(".env") {
            Format::Dotenv
        } else if name.ends_with(".ini") {
            Format::Ini
        } else if name.ends_with(".toml") {
            Format::Toml
        } else {
            Format::Binary
        }
    }

    /// A `--input-type`/`--output-type` name. Unknown names give `None`;
    /// sops then falls back to detection by extension.
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "yaml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            "dotenv" => Some(Format::Dotenv),
            "ini" => Some(Format::Ini),
            "toml" => Some(Format::Toml),
            "binary" => Some(Format::Binary),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Dotenv => "dotenv",
            Format::Ini => "ini",
            Format::Toml => "toml",
            Format::Binary => "binary",
        }
    }
}

/// Output settings from the `stores` section of the config file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreOptions {
    /// YAML indentation; sops's default is 4.
    pub yaml_indent: usize,
    /// JSON indentation: `None` is one TAB per level (sops's default),
    /// `Some(n)` is n spaces.
    pub json_indent: Option<usize>,
}

/// The widest JSON indentation accepted (`stores.json.indent`, `--indent`).
/// sops has no limit, but the unit is repeated on every line at every
/// level, so a config saying 10^12 would make each write ask for terabytes
/// (found by fuzzing); no real file is indented by more than a few spaces.
pub const MAX_JSON_INDENT: usize = 64;

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { yaml_indent: 4, json_indent: None }
    }
}

/// A parsed file: the tree and how it was laid out.
pub struct Parsed {
    pub tree: Tree,
    pub layout: Layout,
}

/// Where a parsed file's nodes sit in its bytes, per format.
pub enum Layout {
    Yaml(yaml::Layout),
    Json(json::Layout),
    Dotenv(dotenv::Layout),
    Ini(ini::Layout),
    Toml(toml::Layout),
    /// A plaintext binary file: nothing to splice into.
    Binary,
}

impl Layout {
    pub fn format(&self) -> Format {
        match self {
            Layout::Yaml(_) => Format::Yaml,
            Layout::Json(_) => Format::Json,
            Layout::Dotenv(_) => Format::Dotenv,
            Layout::Ini(_) => Format::Ini,
            Layout::Toml(_) => Format::Toml,
            Layout::Binary => Format::Binary,
        }
    }

    /// Where the first document's `sops` entry starts (YAML only): what a
    /// data key recovered from a one-pass read is checked against.
    pub fn metadata_start(&self) -> Option<usize> {
        match self {
            Layout::Yaml(layout) => layout.metadata_start(),
            _ => None,
        }
    }

    /// The original texts of leaves that the default rendering would spell
    /// differently (what style memory keeps).
    pub fn styled_tokens(&self, tree: &Tree, options: &StoreOptions) -> crate::secret::TokenTexts {
        match self {
            Layout::Yaml(layout) => yaml::styled_tokens(tree, layout, options),
            Layout::Json(layout) => layout.styled_tokens(tree),
            Layout::Dotenv(layout) => layout.styled_tokens(tree),
            Layout::Ini(layout) => layout.styled_tokens(tree),
            Layout::Toml(layout) => layout.styled_tokens(tree),
            Layout::Binary => HashMap::new(),
        }
    }

    /// Write these texts for the values at these positions (restored style
    /// memory).
    pub fn set_overrides(&mut self, overrides: crate::secret::TokenTexts) {
        match self {
            Layout::Yaml(layout) => layout.set_overrides(overrides),
            Layout::Json(layout) => layout.set_overrides(overrides),
            Layout::Dotenv(layout) => layout.set_overrides(overrides),
            Layout::Ini(layout) => layout.set_overrides(overrides),
            Layout::Toml(layout) => layout.set_overrides(overrides),
            Layout::Binary => {}
        }
    }
}

/// A file's bytes on their way into a parser. Handed over by value they
/// become the YAML, JSON or TOML layout's source as they are; lent, they are
/// copied once, as the layout must keep the text it splices into. Wiped
/// when dropped, as they may be plaintext.
pub struct Source(crate::secret::SecretVec);

impl Source {
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// Give up an encrypted file that was only read, without wiping it
    /// (`SecretVec::into_public`).
    pub fn release_encrypted(self) {
        drop(self.0.into_public());
    }
}

impl From<crate::secret::SecretVec> for Source {
    fn from(bytes: crate::secret::SecretVec) -> Source {
        Source(bytes)
    }
}

impl From<Vec<u8>> for Source {
    fn from(bytes: Vec<u8>) -> Source {
        Source(crate::secret::SecretVec::new(bytes))
    }
}

/// Lent bytes of any kind (a slice, an array, a `Vec`, a wiping `Vec`,
/// a `str`): copied once.
impl<T: AsRef<[u8]> + ?Sized> From<&T> for Source {
    fn from(bytes: &T) -> Source {
        Source(crate::secret::SecretVec::new(bytes.as_ref().to_vec()))
    }
}

/// Parse a plaintext file. A binary file is its bytes as one value.
///
/// dotenv, INI and JSON readers keep a repeated key as two entries (files
/// sops wrote that way still decrypt), but a plaintext with one is refused:
/// both entries would be bound to the same path, go-ini keeps only the last
/// one (so sops reports a MAC mismatch on such a file), and which value a
/// program sees is a guess. YAML and TOML refuse them while parsing.
pub fn parse_plain(format: Format, input: impl Into<Source>) -> Result<Parsed> {
    let input = input.into();
    match format {
        Format::Binary => Ok(Parsed { tree: binary::tree_of(&input.0), layout: Layout::Binary }),
        Format::Dotenv | Format::Ini | Format::Json => {
            let parsed = parse(format, input)?;
            refuse_repeated_keys(format, &parsed.tree)?;
            Ok(parsed)
        }
        other => parse(other, input),
    }
}

/// The first key defined twice in one mapping (a dotenv file, an INI
/// section, any JSON object) is an error naming it. Repeated INI sections
/// stay separate entries, as sops's go-ini reads them, so they are fine.
fn refuse_repeated_keys(format: Format, tree: &Tree) -> Result<()> {
    use crate::tree::{MapItem, SeqItem, Value};
    fn check(items: &[MapItem], within: &str, format: Format) -> Result<()> {
        let mut seen = foldhash::HashSet::default();
        for item in items {
            let MapItem::Pair(pair) = item else { continue };
            if !seen.insert(pair.key.name.as_str()) {
                let message = format!("key {:?} is defined twice{within}; keep one", pair.key.name);
                return Err(crate::error::Error::Parse { format: format.name(), message });
            }
        }
        Ok(())
    }
    for document in &tree.documents {
        match format {
            Format::Ini => {
                for item in &document.items {
                    if let MapItem::Pair(section) = item
                        && let Value::Map(keys) = &section.value.value
                    {
                        check(keys, &format!(" in section [{}]", section.key.name), format)?;
                    }
                }
            }
            Format::Json => {
                // Every object, without recursion (nesting depth is the
                // parser's to limit, not ours to overflow).
                check(&document.items, "", format)?;
                let mut stack: Vec<&Node> = document
                    .items
                    .iter()
                    .filter_map(|item| if let MapItem::Pair(p) = item { Some(&p.value) } else { None })
                    .collect();
                while let Some(node) = stack.pop() {
                    match &node.value {
                        Value::Map(items) => {
                            check(items, "", format)?;
                            stack.extend(items.iter().filter_map(|item| match item {
                                MapItem::Pair(p) => Some(&p.value),
                                MapItem::Comment(_) => None,
                            }));
                        }
                        Value::Seq(items) => stack.extend(items.iter().filter_map(|item| match item {
                            SeqItem::Value(v) => Some(v),
                            SeqItem::Comment(_) => None,
                        })),
                        Value::Scalar(_) => {}
                    }
                }
            }
            _ => check(&document.items, "", format)?,
        }
    }
    Ok(())
}

/// Parse an encrypted file. The binary store's encrypted form is JSON.
pub fn parse_encrypted(format: Format, input: impl Into<Source>) -> Result<Parsed> {
    let input = input.into();
    match format {
        Format::Binary => parse(Format::Json, input),
        other => parse(other, input),
    }
}

fn parse(format: Format, input: Source) -> Result<Parsed> {
    let (tree, layout) = match format {
        Format::Yaml => yaml::parse_owned(input.0).map(|(t, l)| (t, Layout::Yaml(l)))?,
        Format::Json | Format::Binary => json::parse_owned(input.0).map(|(t, l)| (t, Layout::Json(l)))?,
        Format::Dotenv => dotenv::parse(&input.0).map(|(t, l)| (t, Layout::Dotenv(l)))?,
        Format::Ini => ini::parse(&input.0).map(|(t, l)| (t, Layout::Ini(l)))?,
        Format::Toml => toml::parse_owned(input.0).map(|(t, l)| (t, Layout::Toml(l)))?,
    };
    Ok(Parsed { tree, layout })
}

/// Write `tree` as `format`, with `metadata` (the `sops` mapping) appended
/// when given. With a layout of the same format the original bytes are
/// spliced; otherwise the tree is emitted fresh. Binary output is the
/// `data` value's bytes when decrypted, and JSON when encrypted.
pub fn emit(
    format: Format,
    tree: &Tree,
    layout: Option<&Layout>,
    metadata: Option<&Node>,
    options: &StoreOptions,
) -> Result<Vec<u8>> {
    // Only YAML holds several documents. sops writes the first and drops
    // the others without a word; we refuse rather than lose them.
    if format != Format::Yaml && tree.documents.len() > 1 {
        return Err(crate::error::Error::Emit(format!(
            "a {} file holds one document, and this one has {}; decrypt to YAML instead",
            format.name(),
            tree.documents.len()
        )));
    }
    match (format, layout) {
        (Format::Yaml, Some(Layout::Yaml(layout))) => yaml::emit_spliced(tree, layout, metadata, options),
        (Format::Yaml, _) => yaml::emit_fresh(tree, metadata, options),
        (Format::Json, Some(Layout::Json(layout))) => json::emit_spliced(tree, layout, metadata, options),
        (Format::Json, _) => json::emit_fresh(tree, metadata, options),
        (Format::Dotenv, Some(Layout::Dotenv(layout))) => {
            dotenv::emit_spliced(tree, layout, metadata, options)
        }
        (Format::Dotenv, _) => dotenv::emit_fresh(tree, metadata, options),
        (Format::Ini, Some(Layout::Ini(layout))) => ini::emit_spliced(tree, layout, metadata, options),
        (Format::Ini, _) => ini::emit_fresh(tree, metadata, options),
        (Format::Toml, Some(Layout::Toml(layout))) => toml::emit_spliced(tree, layout, metadata, options),
        (Format::Toml, _) => toml::emit_fresh(tree, metadata, options),
        (Format::Binary, _) => match metadata {
            Some(_) => json::emit_fresh(tree, metadata, options),
            None => binary::bytes_of(tree),
        },
    }
}

/// One value on its own (`--extract` of something that is not a string or a
/// mapping): a YAML scalar or sequence document, a JSON value.
pub fn emit_value(format: Format, node: &Node, options: &StoreOptions) -> Result<Vec<u8>> {
    match format {
        Format::Yaml => Ok(yaml::emit_value_doc(node, options).into_bytes()),
        Format::Json => json::emit_value(node, options),
        Format::Dotenv => dotenv::emit_value(node, options),
        Format::Ini => ini::emit_value(node, options),
        Format::Toml => toml::emit_value(node, options),
        Format::Binary => match &node.value {
            crate::tree::Value::Scalar(scalar) => Ok(scalar.mac_bytes().as_bytes().to_vec()),
            _ => Err(crate::error::Error::Emit("binary output needs a single value".into())),
        },
    }
}

/// A top-level key and value as an environment variable (`exec-env`):
/// dotenv files are read in our documented dialect (`export KEY=`, quotes
/// that are not part of the value, inline comments; see docs/formats.md);
/// other formats give the key and value as they are.
pub fn interpret_env(
    format: Format,
    key: &str,
    value: zeroize::Zeroizing<String>,
) -> (String, zeroize::Zeroizing<String>) {
    match format {
        Format::Dotenv => {
            let interpreted = dotenv::interpret(key, &value);
            (interpreted.name, interpreted.value)
        }
        _ => (key.to_owned(), value),
    }
}
