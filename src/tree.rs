//! The format-neutral document every store parses into.
//!
//! sops models a file as a list of documents, each an ordered mapping whose
//! entries are key/value pairs or comments, and whose sequences hold values
//! or comments. The walk order of that model defines both the MAC and the
//! additional data of every value, so this tree keeps exactly that shape:
//! comments are entries, not decorations, and nothing is ever reordered.
//!
//! The tree does not own layout. Each node carries a [`Src`] handle into a
//! table kept by the store that parsed it; when the store writes the tree
//! back it splices the text of changed leaves into the original bytes and
//! leaves everything else alone. Nodes created after parsing (by `set`, or
//! by a conversion between formats) have no source and are emitted fresh.
//! Leaves that were replaced are marked `changed`, which is all a splicing
//! writer needs to know.

use std::fmt;

use crate::gofmt;
use crate::secret::SecretBytes;
use crate::timestamp::Timestamp;

/// A handle into the parsing store's table of source positions. `Src::NONE`
/// marks a node that did not come from the input text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Src(pub u32);

impl Src {
    pub const NONE: Src = Src(u32::MAX);

    pub fn get(self) -> Option<usize> {
        (self != Src::NONE).then_some(self.0 as usize)
    }
}

impl Default for Src {
    fn default() -> Self {
        Src::NONE
    }
}

/// A whole file: one or more documents. Only YAML has more than one.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    pub documents: Vec<Document>,
}

/// One document: an ordered top-level mapping.
#[derive(Clone, Debug, Default)]
pub struct Document {
    pub items: Vec<MapItem>,
}

/// A mapping entry.
#[derive(Clone, Debug)]
pub enum MapItem {
    Pair(Pair),
    Comment(Comment),
}

/// A key and its value.
#[derive(Clone, Debug)]
pub struct Pair {
    pub key: Key,
    pub value: Node,
}

/// A mapping key. Keys are never encrypted. sops requires string keys for
/// encryption; YAML can carry others (`1:`, `true:`), which are kept so the
/// error can name them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub name: String,
    pub is_string: bool,
}

impl Key {
    pub fn new(name: impl Into<String>) -> Key {
        Key { name: name.into(), is_string: true }
    }
}

/// A sequence element.
#[derive(Clone, Debug)]
pub enum SeqItem {
    Value(Node),
    Comment(Comment),
}

/// A comment line. Its text is what follows the comment marker (for YAML and
/// dotenv usually starting with a space) and may be secret once decrypted.
#[derive(Clone, Debug)]
pub struct Comment {
    pub text: SecretBytes,
    pub src: Src,
    pub changed: bool,
}

impl Comment {
    pub fn new(text: impl Into<SecretBytes>) -> Comment {
        Comment { text: text.into(), src: Src::NONE, changed: false }
    }
}

/// A value with its source handle.
#[derive(Clone, Debug)]
pub struct Node {
    pub value: Value,
    pub src: Src,
    /// Set when the value was replaced after parsing (encrypted, decrypted or
    /// edited), so a splicing writer knows to rewrite its text.
    pub changed: bool,
}

impl Node {
    pub fn new(value: Value) -> Node {
        Node { value, src: Src::NONE, changed: false }
    }

    pub fn scalar(scalar: Scalar) -> Node {
        Node::new(Value::Scalar(scalar))
    }

    pub fn map(items: Vec<MapItem>) -> Node {
        Node::new(Value::Map(items))
    }

    pub fn seq(items: Vec<SeqItem>) -> Node {
        Node::new(Value::Seq(items))
    }
}

/// The three shapes a value can take.
#[derive(Clone, Debug)]
pub enum Value {
    Map(Vec<MapItem>),
    Seq(Vec<SeqItem>),
    Scalar(Scalar),
}

/// A typed leaf.
#[derive(Clone, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A JSON integer too large for a float to hold exactly. It is stored
    /// as `type:float` (so sops 3.11 reads it as it reads its own files) but
    /// with the exact digits as plaintext, so we give them back unchanged.
    BigInt(SecretBytes),
    Str(SecretBytes),
    Time(Timestamp),
}

impl fmt::Debug for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values are secrets: show the type only.
        match self {
            Scalar::Null => f.write_str("Null"),
            Scalar::Bool(_) => f.write_str("Bool(..)"),
            Scalar::Int(_) => f.write_str("Int(..)"),
            Scalar::Float(_) => f.write_str("Float(..)"),
            Scalar::BigInt(b) => write!(f, "BigInt({b:?})"),
            Scalar::Str(b) => write!(f, "Str({b:?})"),
            Scalar::Time(_) => f.write_str("Time(..)"),
        }
    }
}

/// The `type:` names of sops envelopes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ValueType {
    Str,
    Int,
    Float,
    Bool,
    Time,
    Comment,
    Bytes,
}

impl ValueType {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Str => "str",
            ValueType::Int => "int",
            ValueType::Float => "float",
            ValueType::Bool => "bool",
            ValueType::Time => "time",
            ValueType::Comment => "comment",
            ValueType::Bytes => "bytes",
        }
    }

    pub fn parse(text: &str) -> Option<ValueType> {
        ValueType::parse_bytes(text.as_bytes())
    }

    /// [`parse`](Self::parse) of bytes, for an envelope read as bytes
    /// (which then needs no UTF-8 check of its type's name).
    pub fn parse_bytes(text: &[u8]) -> Option<ValueType> {
        Some(match text {
            b"str" => ValueType::Str,
            b"int" => ValueType::Int,
            b"float" => ValueType::Float,
            b"bool" => ValueType::Bool,
            b"time" => ValueType::Time,
            b"comment" => ValueType::Comment,
            b"bytes" => ValueType::Bytes,
            _ => return None,
        })
    }
}

/// Why a decrypted plaintext could not become a value of its declared type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadPlaintext(pub ValueType);

impl Scalar {
    pub fn str(text: &str) -> Scalar {
        Scalar::Str(SecretBytes::from_text(text))
    }

    /// The envelope type of a value that is encrypted; `None` for null,
    /// which sops never encrypts.
    pub fn value_type(&self) -> Option<ValueType> {
        Some(match self {
            Scalar::Null => return None,
            Scalar::Bool(_) => ValueType::Bool,
            Scalar::Int(_) => ValueType::Int,
            Scalar::Float(_) | Scalar::BigInt(_) => ValueType::Float,
            Scalar::Str(_) => ValueType::Str,
            Scalar::Time(_) => ValueType::Time,
        })
    }

    /// The bytes that go inside the envelope (spec 2.3).
    pub fn plaintext(&self) -> SecretBytes {
        match self {
            Scalar::BigInt(digits) => digits.clone(),
            other => other.mac_bytes(),
        }
    }

    /// The canonical bytes fed to the MAC: what sops computes after parsing
    /// the plaintext back into a typed value (spec 4.1).
    pub fn mac_bytes(&self) -> SecretBytes {
        match self {
            Scalar::Null => SecretBytes::default(),
            Scalar::Bool(true) => SecretBytes::from_text("True"),
            Scalar::Bool(false) => SecretBytes::from_text("False"),
            Scalar::Int(i) => SecretBytes::from(i.to_string()),
            Scalar::Float(f) => SecretBytes::from(gofmt::format_float_f(*f)),
            Scalar::BigInt(digits) => {
                let text = digits.as_str().unwrap_or("0");
                let value = text.parse::<f64>().unwrap_or(0.0);
                SecretBytes::from(gofmt::format_float_f(value))
            }
            Scalar::Str(bytes) => bytes.clone(),
            Scalar::Time(ts) => SecretBytes::from(ts.to_rfc3339_nano()),
        }
    }

    /// Parse a decrypted plaintext back into a value of the declared type
    /// (spec 2.3, right-hand column). `Comment` is not a scalar type.
    pub fn from_plaintext(value_type: ValueType, bytes: SecretBytes) -> Result<Scalar, BadPlaintext> {
        let bad = BadPlaintext(value_type);
        match value_type {
            ValueType::Str | ValueType::Bytes => Ok(Scalar::Str(bytes)),
            ValueType::Comment => Err(bad),
            ValueType::Int => {
                let text = bytes.as_str().ok_or(bad)?;
                gofmt::parse_go_int(text).map(Scalar::Int).ok_or(bad)
            }
            ValueType::Float => {
                let text = bytes.as_str().ok_or(bad)?;
                let value = gofmt::parse_go_float(text).ok_or(bad)?;
                // An integer literal that is not what Go would print for the
                // float is one of our exact big integers.
                let digits = text.strip_prefix('-').unwrap_or(text);
                if !digits.is_empty()
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && gofmt::format_float_f(value) != text
                {
                    return Ok(Scalar::BigInt(bytes));
                }
                Ok(Scalar::Float(value))
            }
            ValueType::Bool => {
                let text = bytes.as_str().ok_or(bad)?;
                gofmt::parse_go_bool(text).map(Scalar::Bool).ok_or(bad)
            }
            ValueType::Time => {
                let text = bytes.as_str().ok_or(bad)?;
                Timestamp::parse_rfc3339(text).map(Scalar::Time).ok_or(bad)
            }
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Str(bytes) => bytes.as_str(),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Scalar::Null)
    }
}

impl Tree {
    /// The value of the top-level key `name` in the first document.
    pub fn top_level(&self, name: &str) -> Option<&Node> {
        self.documents.first()?.items.iter().find_map(|item| match item {
            MapItem::Pair(pair) if pair.key.name == name => Some(&pair.value),
            _ => None,
        })
    }
}

impl Document {
    pub fn get(&self, name: &str) -> Option<&Node> {
        map_get(&self.items, name)
    }
}

/// The value of `name` in a mapping's entries.
pub fn map_get<'a>(items: &'a [MapItem], name: &str) -> Option<&'a Node> {
    items.iter().find_map(|item| match item {
        MapItem::Pair(pair) if pair.key.name == name => Some(&pair.value),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_is_canonical() {
        assert_eq!(Scalar::Bool(true).plaintext().as_bytes(), b"True");
        assert_eq!(Scalar::Int(-12).plaintext().as_bytes(), b"-12");
        assert_eq!(Scalar::Float(1.0).plaintext().as_bytes(), b"1");
        assert_eq!(Scalar::Float(f64::INFINITY).plaintext().as_bytes(), b"+Inf");
    }

    #[test]
    fn big_integers_keep_their_digits_but_hash_as_floats() {
        let big = Scalar::BigInt(SecretBytes::from_text("12345678901234567890"));
        assert_eq!(big.plaintext().as_bytes(), b"12345678901234567890");
        assert_eq!(big.mac_bytes().as_bytes(), b"12345678901234567000");
        let back = Scalar::from_plaintext(ValueType::Float, big.plaintext()).unwrap();
        assert_eq!(back, big);
        // What sops writes is a plain float again.
        let sops =
            Scalar::from_plaintext(ValueType::Float, SecretBytes::from_text("12345678901234567000")).unwrap();
        assert_eq!(sops, Scalar::Float(12345678901234567000.0));
    }

    #[test]
    fn parses_plaintext_like_sops() {
        let int = Scalar::from_plaintext(ValueType::Int, SecretBytes::from_text("007")).unwrap();
        assert_eq!(int.mac_bytes().as_bytes(), b"7");
        let float = Scalar::from_plaintext(ValueType::Float, SecretBytes::from_text("1.50")).unwrap();
        assert_eq!(float.mac_bytes().as_bytes(), b"1.5");
        let boolean = Scalar::from_plaintext(ValueType::Bool, SecretBytes::from_text("true")).unwrap();
        assert_eq!(boolean.mac_bytes().as_bytes(), b"True");
        assert!(Scalar::from_plaintext(ValueType::Int, SecretBytes::from_text("x")).is_err());
        assert!(Scalar::from_plaintext(ValueType::Time, SecretBytes::from_text("2024-01-01")).is_err());
    }

    #[test]
    fn debug_never_shows_values() {
        let text = format!("{:?}", Scalar::str("hunter2"));
        assert!(!text.contains("hunter2"));
        let text = format!("{:?}", Scalar::Int(424242));
        assert!(!text.contains("424242"));
    }
}
