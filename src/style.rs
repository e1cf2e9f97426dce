//! Style memory: how encrypted values were written, so decryption gives the
//! file back byte for byte.
//!
//! An envelope holds a value's type and canonical plaintext, which is all
//! sops needs, but not how the value was spelled: `'quoted'` and `quoted`,
//! `1.0` and `1`, `0x1F` and `31`, a literal block indented by two spaces,
//! `"caf\u00e9"` in JSON. Decrypting renders each value the way sops's
//! emitters would, which matches files sops wrote but not a user's own
//! layout. So when we encrypt a value whose original text differs from that
//! default rendering, we remember how it was written, in one extra metadata
//! field, `rs_layout`, itself an envelope under the data key.
//!
//! Entries are keyed by the value's path (its additional data) and its
//! position among the values at that path, not by its ciphertext, and a
//! store may record a style rather than the text (a YAML string's quotes):
//! so changing a quoted value keeps its entry as it was, the memory does not
//! change, and its envelope is kept, which keeps the diff of an edit to the
//! value's own line.
//!
//! Nothing here weakens the format: the field is encrypted and bound to its
//! name, sops ignores unknown metadata fields and drops them when it
//! rewrites a file (after which values are simply rendered the default
//! way), and an entry is only used when its text parses back to exactly the
//! decrypted value, so a stale or damaged entry can change spacing, never
//! content.

use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt};
use zeroize::Zeroizing;

use crate::cipher::{CipherKind, Envelope, ValueCipher};
use crate::secret::SecretBytes;
use crate::tree::{Comment, MapItem, Node, Scalar, SeqItem, Src, Tree, Value, ValueType};

/// The metadata field that holds the sealed memory.
pub const FIELD: &str = "rs_layout";

/// The additional data the memory is sealed with.
const AAD: &[u8] = b"sops:rs_layout:";

/// How values were written, by `path:#ordinal`.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct StyleMemory {
    by_place: BTreeMap<String, String>,
}

/// The texts are values as written (plaintext): wiped when the memory goes.
/// The places (paths) are key names, which sops never encrypts.
impl Drop for StyleMemory {
    fn drop(&mut self) {
        for text in self.by_place.values_mut() {
            crate::secret::wipe_string(text);
        }
    }
}

impl std::fmt::Debug for StyleMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StyleMemory({} entries)", self.by_place.len())
    }
}

impl StyleMemory {
    pub fn is_empty(&self) -> bool {
        self.by_place.is_empty()
    }

    /// Key the remembered styles (by source position) by place in the tree.
    pub fn bind(tree: &Tree, texts_by_src: crate::secret::TokenTexts) -> StyleMemory {
        let mut memory = StyleMemory::default();
        if texts_by_src.is_empty() {
            return memory;
        }
        for (src, place) in places_where(tree, |_| true, |src| texts_by_src.contains_key(&src)) {
            if let Some(text) = texts_by_src.get(&src) {
                memory.by_place.insert(place, String::clone(text));
            }
        }
        memory
    }

    /// Seal into an envelope for the metadata; `None` when there is nothing
    /// to remember.
    pub fn seal(&self, cipher: &ValueCipher, kind: CipherKind) -> Option<String> {
        if self.by_place.is_empty() {
            return None;
        }
        let json = zeroize::Zeroizing::new(serde_json::to_string(&self.by_place).ok()?);
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
        StyleMemory { by_place: opened.unwrap_or_default() }
    }

    /// Remember `text` at `place` (`a:b:#0`).
    pub fn remember(&mut self, place: String, text: String) {
        self.by_place.insert(place, text);
    }

    /// Take in what another memory remembers (of other places: a later
    /// piece of a file encrypted side by side).
    pub fn absorb(&mut self, mut other: StyleMemory) {
        self.by_place.append(&mut other.by_place);
    }

    /// The paths (`a:b:`) that have a remembered style.
    pub fn paths(&self) -> foldhash::HashSet<&str> {
        self.by_place.keys().filter_map(|place| place.rsplit_once('#').map(|(path, _)| path)).collect()
    }

    /// The remembered text at one place (`a:b:#0`).
    pub fn text_at(&self, place: &str) -> Option<&str> {
        self.by_place.get(place).map(String::as_str)
    }

    /// The remembered style for each leaf position of `tree`.
    pub fn texts_by_src(&self, tree: &Tree) -> crate::secret::TokenTexts {
        if self.by_place.is_empty() {
            return HashMap::new();
        }
        // Only the paths the memory names are counted and spelled out: a
        // file remembers a few styles, and building the place of each of
        // its 40,000 leaves was a seventh of decrypting it.
        let wanted = self.paths();
        places_where(tree, |path| wanted.contains(path), |_| true)
            .into_iter()
            .filter_map(|(src, place)| {
                self.by_place.get(&place).map(|text| (src, Zeroizing::new(text.clone())))
            })
            .collect()
    }
}

/// Every leaf's place, `path:#n` where `path:` is its additional data and
/// `n` counts the leaves at that path in walk order (list items share a
/// path), by the leaf's source position. Leaves without one still count.
pub fn places_by_src(tree: &Tree) -> Vec<(Src, String)> {
    places_where(tree, |_| true, |_| true)
}

/// [`places_by_src`] for the leaves whose path `wanted_path` accepts (the
/// counts are per path, so leaving other paths out changes no place) and
/// whose position `wanted_src` accepts (the others are still counted).
///
/// One path buffer grows and shrinks with the walk, and a place is spelled
/// out only when it is kept: building a string per leaf was a seventh of
/// encrypting a 40,000-leaf file. The recursion follows the tree, whose
/// depth the readers bound (200).
fn places_where(
    tree: &Tree,
    wanted_path: impl Fn(&str) -> bool,
    wanted_src: impl Fn(Src) -> bool,
) -> Vec<(Src, String)> {
    struct Walk<P, S> {
        wanted_path: P,
        wanted_src: S,
        places: Vec<(Src, String)>,
        counts: HashMap<String, usize>,
        // Comments have envelopes too, and a store may remember how they
        // were laid out (INI keeps `;` or `#` and the spacing); they are
        // counted apart from values, per enclosing path.
        comment_counts: HashMap<String, usize>,
    }

    fn next(counts: &mut HashMap<String, usize>, path: &str) -> usize {
        let count = match counts.get_mut(path) {
            Some(count) => count,
            None => counts.entry(path.to_owned()).or_insert(0),
        };
        *count += 1;
        *count - 1
    }

    impl<P: Fn(&str) -> bool, S: Fn(Src) -> bool> Walk<P, S> {
        fn comment(&mut self, comment: &Comment, path: &str) {
            if !(self.wanted_path)(path) {
                return;
            }
            let count = next(&mut self.comment_counts, path);
            if comment.src != Src::NONE && (self.wanted_src)(comment.src) {
                self.places.push((comment.src, format!("{path}#c{count}")));
            }
        }

        fn node(&mut self, node: &Node, path: &mut String) {
            match &node.value {
                Value::Scalar(_) => {
                    if !(self.wanted_path)(path) {
                        return;
                    }
                    let count = next(&mut self.counts, path);
                    if node.src != Src::NONE && (self.wanted_src)(node.src) {
                        self.places.push((node.src, format!("{path}#{count}")));
                    }
                }
                Value::Map(items) => {
                    for item in items.iter() {
                        if let MapItem::Comment(comment) = item {
                            self.comment(comment, path);
                        }
                    }
                    for item in items.iter() {
                        if let MapItem::Pair(pair) = item {
                            let len = path.len();
                            path.push_str(&pair.key.name);
                            path.push(':');
                            self.node(&pair.value, path);
                            path.truncate(len);
                        }
                    }
                }
                Value::Seq(items) => {
                    for item in items.iter() {
                        if let SeqItem::Comment(comment) = item {
                            self.comment(comment, path);
                        }
                    }
                    for item in items.iter() {
                        if let SeqItem::Value(value) = item {
                            self.node(value, path);
                        }
                    }
                }
            }
        }
    }

    let mut walk = Walk {
        wanted_path,
        wanted_src,
        places: Vec::new(),
        counts: HashMap::new(),
        comment_counts: HashMap::new(),
    };
    for document in tree.documents.iter() {
        for item in document.items.iter() {
            if let MapItem::Comment(comment) = item {
                walk.comment(comment, "");
            }
        }
    }
    let mut path = String::new();
    for document in tree.documents.iter() {
        for item in document.items.iter() {
            if let MapItem::Pair(pair) = item {
                path.clear();
                path.push_str(&pair.key.name);
                path.push(':');
                walk.node(&pair.value, &mut path);
            }
        }
    }
    walk.places
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
        let memory =
            StyleMemory::bind(&tree, [(Src(3), Zeroizing::new("'x'".to_owned()))].into_iter().collect());
        let sealed = memory.seal(&cipher, CipherKind::Aes256Gcm).unwrap();
        assert!(!sealed.contains("'x'"));
        let opened = StyleMemory::open(&sealed, &cipher);
        let restored = opened.texts_by_src(&tree);
        assert_eq!(restored.get(&Src(3)).map(|t| t.as_str()), Some("'x'"));
        // Another key cannot open it; nothing is restored.
        let other = ValueCipher::new(&DataKey::from_slice(&[2; 32]).unwrap());
        assert!(StyleMemory::open(&sealed, &other).is_empty());
    }
}
