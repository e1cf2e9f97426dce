//! Style memory: how encrypted values were written, so decryption gives the
//! file back byte for byte.
//!
//! An envelope holds a value's type and canonical plaintext, which is all
//! sops needs, but not how the value was spelled: `'quoted'` and `quoted`,
//! `1.0` and `1`, `0x1F` and `31`, a literal block indented by two spaces,
//! `"caf\u00e9"` in JSON. Decrypting renders each value the way sops's
//! emitters would, which matches files sops wrote but not a user's own
//! layout. So when we encrypt a value whose original text differs from that
//! default rendering, we remember the original text, keyed by the envelope's
//! tag (which changes whenever the value changes), in one extra metadata
//! field, `rs_layout`, itself an envelope under the data key.
//!
//! Nothing here weakens the format: the field is encrypted and bound to its
//! name, sops ignores unknown metadata fields and drops them when it
//! rewrites a file (after which values are simply rendered the default
//! way), and an entry is only used when its text parses back to exactly the
//! decrypted value, so a stale or damaged entry can change spacing, never
//! content.

use std::collections::{BTreeMap, HashMap};

use crate::cipher::{CipherKind, Envelope, ValueCipher, looks_encrypted};
use crate::secret::SecretBytes;
use crate::tree::{MapItem, Node, Scalar, SeqItem, Src, Tree, Value, ValueType};

/// The metadata field that holds the sealed memory.
pub const FIELD: &str = "rs_layout";

/// The additional data the memory is sealed with.
const AAD: &[u8] = b"sops:rs_layout:";

/// Original token texts by envelope tag (base64, as written in the envelope).
#[derive(Default, Clone, PartialEq, Eq)]
pub struct StyleMemory {
    by_tag: BTreeMap<String, String>,
}

impl std::fmt::Debug for StyleMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StyleMemory({} entries)", self.by_tag.len())
    }
}

impl StyleMemory {
    pub fn is_empty(&self) -> bool {
        self.by_tag.is_empty()
    }

    /// After encryption: bind each remembered text (by source position) to
    /// the tag of the envelope now at that position.
    pub fn bind(tree: &Tree, texts_by_src: HashMap<Src, String>) -> StyleMemory {
        let mut memory = StyleMemory::default();
        if texts_by_src.is_empty() {
            return memory;
        }
        for_each_leaf(tree, &mut |src, scalar| {
            if let (Some(text), Some(tag)) = (texts_by_src.get(&src), envelope_tag(scalar)) {
                memory.by_tag.insert(tag.to_owned(), text.clone());
            }
        });
        memory
    }

    /// Seal into an envelope for the metadata; `None` when there is nothing
    /// to remember.
    pub fn seal(&self, cipher: &ValueCipher, kind: CipherKind) -> Option<String> {
        if self.by_tag.is_empty() {
            return None;
        }
        let json = zeroize::Zeroizing::new(serde_json::to_string(&self.by_tag).ok()?);
        cipher.encrypt(kind, json.as_bytes(), AAD, ValueType::Str).ok().map(|e| e.to_text())
    }

    /// Open the sealed field; anything that does not open is ignored (the
    /// values are then rendered the default way).
    pub fn open(sealed: &str, cipher: &ValueCipher) -> StyleMemory {
        let opened = Envelope::parse(sealed)
            .ok()
            .and_then(|envelope| cipher.decrypt(&envelope, AAD).ok())
            .and_then(|plain: SecretBytes| {
                serde_json::from_slice::<BTreeMap<String, String>>(plain.as_bytes()).ok()
            });
        StyleMemory { by_tag: opened.unwrap_or_default() }
    }

    /// The remembered text for each position whose envelope tag is known.
    pub fn texts_by_src(&self, tags_by_src: &HashMap<Src, String>) -> HashMap<Src, String> {
        tags_by_src
            .iter()
            .filter_map(|(src, tag)| self.by_tag.get(tag).map(|text| (*src, text.clone())))
            .collect()
    }
}

/// Before decryption: the envelope tag at each leaf position.
pub fn tags_by_src(tree: &Tree) -> HashMap<Src, String> {
    let mut tags = HashMap::new();
    for_each_leaf(tree, &mut |src, scalar| {
        if let Some(tag) = envelope_tag(scalar) {
            tags.insert(src, tag.to_owned());
        }
    });
    tags
}

/// The `tag:` field of an envelope string, without decoding it.
fn envelope_tag(scalar: &Scalar) -> Option<&str> {
    let text = scalar.as_str().filter(|t| looks_encrypted(t))?;
    let start = text.find(",tag:")? + 5;
    let end = start + text[start..].find(',')?;
    Some(&text[start..end])
}

/// Visit every scalar leaf that has a source position.
fn for_each_leaf(tree: &Tree, visit: &mut dyn FnMut(Src, &Scalar)) {
    let mut stack: Vec<&Node> = Vec::new();
    for document in &tree.documents {
        for item in &document.items {
            if let MapItem::Pair(pair) = item {
                stack.push(&pair.value);
            }
        }
    }
    while let Some(node) = stack.pop() {
        match &node.value {
            Value::Scalar(scalar) => {
                if node.src != Src::NONE {
                    visit(node.src, scalar);
                }
            }
            Value::Map(items) => {
                for item in items {
                    if let MapItem::Pair(pair) = item {
                        stack.push(&pair.value);
                    }
                }
            }
            Value::Seq(items) => {
                for item in items {
                    if let SeqItem::Value(value) = item {
                        stack.push(value);
                    }
                }
            }
        }
    }
}

/// Two scalars are the same value when they have the same type and the same
/// canonical bytes (which also makes NaN equal to NaN).
pub fn same_value(a: &Scalar, b: &Scalar) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b) && a.mac_bytes() == b.mac_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::DataKey;
    use crate::tree::{Document, Key, Pair};

    #[test]
    fn seals_binds_and_opens() {
        let cipher = ValueCipher::new(&DataKey::from_slice(&[1; 32]).unwrap());
        let envelope = cipher.encrypt(CipherKind::Aes256Gcm, b"x", b"a:", ValueType::Str).unwrap().to_text();
        let mut node = Node::scalar(Scalar::str(&envelope));
        node.src = Src(3);
        let tree = Tree {
            documents: vec![Document {
                items: vec![MapItem::Pair(Pair { key: Key::new("a"), value: node })],
            }],
        };
        let memory = StyleMemory::bind(&tree, HashMap::from([(Src(3), "'x'".to_owned())]));
        let sealed = memory.seal(&cipher, CipherKind::Aes256Gcm).unwrap();
        assert!(!sealed.contains("'x'"));
        let opened = StyleMemory::open(&sealed, &cipher);
        let restored = opened.texts_by_src(&tags_by_src(&tree));
        assert_eq!(restored.get(&Src(3)).map(String::as_str), Some("'x'"));
        // Another key cannot open it; nothing is restored.
        let other = ValueCipher::new(&DataKey::from_slice(&[2; 32]).unwrap());
        assert!(StyleMemory::open(&sealed, &other).is_empty());
    }
}
