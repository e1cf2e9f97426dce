//! Changing an encrypted file's values under its own data key: `edit`,
//! `set`, `unset`, and encrypting a plaintext onto an existing encrypted
//! file.
//!
//! All of them open the file remembering every envelope, change the
//! plaintext tree, and seal it again with the same data key: a value whose
//! path and plaintext did not change gets its old envelope back, byte for
//! byte, and when nothing changed at all the MAC and `lastmodified` are kept
//! too, so the output is the input and nothing needs writing. The git diff
//! of an edit is the changed values' lines plus `lastmodified` and `mac`.

use foldhash::{HashMap, HashMapExt};

use super::{Opened, Purpose, Reuse, Sealing, empty_list_style, open};
use crate::error::{Error, Result};
use crate::keys::KeyServices;
use crate::keys::group::DecryptionOrder;
use crate::metadata::KeyGroup;
use crate::store::{self, Format, Parsed, StoreOptions};
use crate::tree::{Document, Key, MapItem, Node, Pair, SeqItem, Tree, Value};
use crate::treepath::Step;

/// What an update needs besides the input.
pub struct UpdateRequest {
    pub format: Format,
    pub ignore_mac: bool,
    pub decryption_order: DecryptionOrder,
    pub store_options: StoreOptions,
}

/// The result of an update.
pub struct Updated {
    pub output: Vec<u8>,
    /// The output is byte for byte the input: nothing to write.
    pub unchanged: bool,
}

/// Seal an opened file's (changed) tree again under its own data key and
/// write it into `layout`, which is the opened file's own or that of an
/// edited plaintext.
fn reseal(
    opened: &mut Opened,
    tree: &mut Tree,
    layout: &store::Layout,
    styled: crate::secret::TokenTexts,
    format: Format,
    options: &StoreOptions,
) -> Result<Vec<u8>> {
    let metadata = &opened.metadata;
    let sealing = Sealing {
        data_key: &opened.data_key,
        cipher: metadata.cipher(),
        selection: metadata.selection()?,
        rule: metadata.rule.clone(),
        version: metadata.version.clone(),
    };
    let reuse = Reuse { envelopes: &mut opened.envelopes, metadata, plaintext_mac: &opened.plaintext_mac };
    let sealed =
        sealing.seal(tree, styled, metadata.key_groups.clone(), metadata.shamir_threshold, Some(reuse))?;
    let node = sealed.to_node(empty_list_style(format));
    let same_format = layout.format() == format;
    store::emit(format, tree, same_format.then_some(layout), Some(&node), options)
}

/// Open `input`, let `change` edit its plaintext tree, and seal it again.
pub fn update(
    input: &[u8],
    request: &UpdateRequest,
    services: &KeyServices,
    change: impl FnOnce(&mut Tree) -> Result<()>,
) -> Result<Updated> {
    let mut opened = open(
        input,
        request.format,
        request.ignore_mac,
        &request.decryption_order,
        services,
        Purpose::Update,
    )?;
    let mut tree = std::mem::take(&mut opened.parsed.tree);
    change(&mut tree)?;
    let styled = opened.restored_styles.clone();
    let layout = std::mem::replace(&mut opened.parsed.layout, store::Layout::Binary);
    let output = reseal(&mut opened, &mut tree, &layout, styled, request.format, &request.store_options)?;
    Ok(Updated { unchanged: output == input, output })
}

/// The plaintext a user edits: the opened file written without metadata,
/// in its own layout.
pub fn plaintext_of(
    opened: &Opened,
    format: Format,
    options: &StoreOptions,
) -> Result<crate::secret::SecretVec> {
    let same_format = opened.parsed.layout.format() == format;
    store::emit(format, &opened.parsed.tree, same_format.then_some(&opened.parsed.layout), None, options)
        .map(crate::secret::SecretVec::new)
}

/// Seal an edited plaintext of an opened file: the edited text's layout is
/// kept, and unchanged values keep their envelopes.
pub fn apply_edit(
    opened: &mut Opened,
    edited: &[u8],
    format: Format,
    options: &StoreOptions,
) -> Result<Vec<u8>> {
    let Parsed { mut tree, layout } = store::parse_plain(format, edited)?;
    if tree.documents.first().is_some_and(|d| d.get("sops").is_some()) {
        return Err(Error::InvalidArgument(
            "the edited file has a top-level `sops` key, which is reserved for the metadata; rename or remove it"
                .into(),
        ));
    }
    let styled = layout.styled_tokens(&tree, options);
    reseal(opened, &mut tree, &layout, styled, format, options)
}

/// Encrypt a plaintext onto an existing encrypted file that was opened:
/// same data key, same master keys, and the envelopes of unchanged values.
pub fn encrypt_onto(
    mut previous: Opened,
    plaintext: &[u8],
    input_format: Format,
    output_format: Format,
    options: &StoreOptions,
) -> Result<Vec<u8>> {
    let Parsed { mut tree, layout } = store::parse_plain(input_format, plaintext)?;
    if tree.documents.first().is_some_and(|d| d.get("sops").is_some()) {
        return Err(Error::AlreadyEncrypted);
    }
    let styled =
        if layout.format() == output_format { layout.styled_tokens(&tree, options) } else { HashMap::new() };
    reseal(&mut previous, &mut tree, &layout, styled, output_format, options)
}

/// Whether an existing file's master keys are the ones a new encryption
/// would use, so its data key may be kept.
pub fn same_keys(existing: &[KeyGroup], wanted: &[KeyGroup]) -> bool {
    let ids = |groups: &[KeyGroup]| -> Vec<Vec<(String, String)>> {
        groups
            .iter()
            .map(|g| {
                let mut ids: Vec<_> = g.iter().map(|k| (k.type_id().to_owned(), k.identifier())).collect();
                ids.sort();
                ids
            })
            .collect()
    };
    ids(existing) == ids(wanted)
}

/// `set`: put `value` at `path` in the first document, creating missing
/// mappings; an index past a list's end appends. Returns whether anything
/// changed (an equal value is left alone).
pub fn set_value(tree: &mut Tree, path: &[Step], value: Node) -> Result<bool> {
    if tree.documents.is_empty() {
        tree.documents.push(Document::default());
    }
    let (last, parents) =
        path.split_last().ok_or_else(|| Error::InvalidSetFormat("the path is empty".into()))?;
    let mut items: Container<'_> = Container::Map(&mut tree.documents[0].items);
    for step in parents {
        items = items.child(step)?;
    }
    items.put(last, value)
}

/// `unset`: remove the key or list element at `path`. Returns whether it
/// was there.
pub fn unset_value(tree: &mut Tree, path: &[Step]) -> Result<bool> {
    let Some(document) = tree.documents.first_mut() else { return Ok(false) };
    let (last, parents) =
        path.split_last().ok_or_else(|| Error::InvalidSetFormat("the path is empty".into()))?;
    let mut items: Container<'_> = Container::Map(&mut document.items);
    for step in parents {
        match items.existing_child(step) {
            Some(child) => items = child,
            None => return Ok(false),
        }
    }
    Ok(items.remove(last))
}

/// A mapping's or sequence's entries, being walked by a path.
enum Container<'a> {
    Map(&'a mut Vec<MapItem>),
    Seq(&'a mut Vec<SeqItem>),
}

impl<'a> Container<'a> {
    /// The collection at `step`, created (as a mapping) when missing or not
    /// a collection.
    fn child(self, step: &Step) -> Result<Container<'a>> {
        let node = match (self, step) {
            (Container::Map(items), Step::Key(key)) => {
                let position = items.iter().position(|i| matches!(i, MapItem::Pair(p) if p.key.name == *key));
                let index = match position {
                    Some(index) => index,
                    None => {
                        items.push(MapItem::Pair(Pair {
                            key: Key::new(key.clone()),
                            value: Node::map(Vec::new()),
                        }));
                        items.len() - 1
                    }
                };
                let MapItem::Pair(pair) = &mut items[index] else { unreachable!("found a pair") };
                &mut pair.value
            }
            (Container::Seq(items), Step::Index(index)) => {
                if *index >= items.len() {
                    items.push(SeqItem::Value(Node::map(Vec::new())));
                }
                let last = items.len() - 1;
                match &mut items[(*index).min(last)] {
                    SeqItem::Value(node) => node,
                    SeqItem::Comment(_) => {
                        return Err(Error::InvalidSetFormat(format!("{step} is a comment, not a value")));
                    }
                }
            }
            (_, step) => {
                return Err(Error::InvalidSetFormat(format!("{step} does not fit the value it indexes")));
            }
        };
        if !matches!(node.value, Value::Map(_) | Value::Seq(_)) {
            *node = Node::map(Vec::new());
        }
        Ok(match &mut node.value {
            Value::Map(items) => Container::Map(items),
            Value::Seq(items) => Container::Seq(items),
            Value::Scalar(_) => unreachable!("made a collection above"),
        })
    }

    /// The collection at `step`, when there is one.
    fn existing_child(self, step: &Step) -> Option<Container<'a>> {
        let node = match (self, step) {
            (Container::Map(items), Step::Key(key)) => items.iter_mut().find_map(|i| match i {
                MapItem::Pair(p) if p.key.name == *key => Some(&mut p.value),
                _ => None,
            })?,
            (Container::Seq(items), Step::Index(index)) => match items.get_mut(*index)? {
                SeqItem::Value(node) => node,
                SeqItem::Comment(_) => return None,
            },
            _ => return None,
        };
        match &mut node.value {
            Value::Map(items) => Some(Container::Map(items)),
            Value::Seq(items) => Some(Container::Seq(items)),
            Value::Scalar(_) => None,
        }
    }

    fn put(self, step: &Step, value: Node) -> Result<bool> {
        let slot = match (self, step) {
            (Container::Map(items), Step::Key(key)) => {
                match items.iter_mut().find_map(|i| match i {
                    MapItem::Pair(p) if p.key.name == *key => Some(&mut p.value),
                    _ => None,
                }) {
                    Some(slot) => slot,
                    None => {
                        items.push(MapItem::Pair(Pair { key: Key::new(key.clone()), value }));
                        return Ok(true);
                    }
                }
            }
            (Container::Seq(items), Step::Index(index)) => match items.get_mut(*index) {
                Some(SeqItem::Value(slot)) => slot,
                Some(SeqItem::Comment(_)) => {
                    return Err(Error::InvalidSetFormat(format!("{step} is a comment, not a value")));
                }
                None => {
                    items.push(SeqItem::Value(value));
                    return Ok(true);
                }
            },
            (_, step) => {
                return Err(Error::InvalidSetFormat(format!("{step} does not fit the value it indexes")));
            }
        };
        if same_content(slot, &value) {
            return Ok(false);
        }
        match (&mut slot.value, value.value) {
            // A scalar replaced by a scalar keeps its place in the text.
            (Value::Scalar(old), Value::Scalar(new)) => {
                *old = new;
                slot.changed = true;
            }
            (_, new) => *slot = Node::new(new),
        }
        Ok(true)
    }

    fn remove(self, step: &Step) -> bool {
        match (self, step) {
            (Container::Map(items), Step::Key(key)) => {
                let before = items.len();
                if let Some(position) =
                    items.iter().position(|i| matches!(i, MapItem::Pair(p) if p.key.name == *key))
                {
                    items.remove(position);
                }
                items.len() != before
            }
            (Container::Seq(items), Step::Index(index)) if *index < items.len() => {
                items.remove(*index);
                true
            }
            _ => false,
        }
    }
}

/// Two values with the same content (types and canonical bytes).
pub fn same_content(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Scalar(x), Value::Scalar(y)) => crate::style::same_value(x, y),
        (Value::Map(x), Value::Map(y)) => {
            let pairs = |items: &[MapItem]| -> Vec<(String, Node)> {
                items
                    .iter()
                    .filter_map(|i| match i {
                        MapItem::Pair(p) => Some((p.key.name.clone(), p.value.clone())),
                        MapItem::Comment(_) => None,
                    })
                    .collect()
            };
            let (x, y) = (pairs(x), pairs(y));
            x.len() == y.len() && x.iter().zip(&y).all(|(a, b)| a.0 == b.0 && same_content(&a.1, &b.1))
        }
        (Value::Seq(x), Value::Seq(y)) => {
            let values = |items: &[SeqItem]| -> Vec<Node> {
                items
                    .iter()
                    .filter_map(|i| match i {
                        SeqItem::Value(v) => Some(v.clone()),
                        SeqItem::Comment(_) => None,
                    })
                    .collect()
            };
            let (x, y) = (values(x), values(y));
            x.len() == y.len() && x.iter().zip(&y).all(|(a, b)| same_content(a, b))
        }
        _ => false,
    }
}
