//! The binary store: a whole file as one value (spec 5.6).
//!
//! Any file sops does not recognise is encrypted whole: its bytes become
//! the single string value `data`, encrypted with the additional data
//! `data:`, and the encrypted file is a JSON document `{"data": ..., "sops":
//! ...}` written by the JSON store. Decrypting to binary writes the value's
//! bytes exactly, with nothing added. Selection rules do not apply (the one
//! value is always encrypted) and no rule is written to the metadata.

use crate::error::{Error, Result};
use crate::secret::SecretBytes;
use crate::tree::{Document, Key, MapItem, Node, Pair, Scalar, Tree, Value};

/// The key that holds the file's bytes.
pub const DATA_KEY: &str = "data";

/// A plaintext file as a tree: `{data: <bytes>}`. Empty files are fine.
pub fn tree_of(input: &[u8]) -> Tree {
    let value = Node::scalar(Scalar::Str(SecretBytes::new(input.to_vec())));
    Tree { documents: vec![Document { items: vec![MapItem::Pair(Pair { key: Key::new(DATA_KEY), value })] }] }
}

/// The bytes of the `data` value of a decrypted tree.
pub fn bytes_of(tree: &Tree) -> Result<Vec<u8>> {
    match tree.documents.first().and_then(|d| d.get(DATA_KEY)) {
        Some(Node { value: Value::Scalar(Scalar::Str(bytes)), .. }) => Ok(bytes.as_bytes().to_vec()),
        Some(Node { value: Value::Scalar(other), .. }) => Ok(other.mac_bytes().as_bytes().to_vec()),
        Some(_) => Err(Error::Emit("the `data` value is not a single value; binary output needs one".into())),
        None => Err(Error::Emit(
            "there is no top-level `data` key to write as binary; choose another --output-type".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_including_invalid_utf8_and_empty() {
        for input in [&b"hello\0\xffworld\n"[..], b"", b"no newline"] {
            assert_eq!(bytes_of(&tree_of(input)).unwrap(), input);
        }
    }

    #[test]
    fn missing_data_is_exit_4() {
        let tree = Tree { documents: vec![Document { items: Vec::new() }] };
        assert_eq!(bytes_of(&tree).unwrap_err().exit_code(), 4);
    }
}
