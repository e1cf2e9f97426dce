//! Property tests: for generated documents, `decrypt(encrypt(x)) == x`
//! byte for byte (with both ciphers), and parsing what the emitter writes
//! gives the same tree back.

use proptest::prelude::*;
use sops_rs::cipher::CipherKind;
use sops_rs::env::Environment;
use sops_rs::keys::KeyServices;
use sops_rs::keys::MasterKey;
use sops_rs::keys::age::AgeKey;
use sops_rs::keys::group::DecryptionOrder;
use sops_rs::ops::{self, DecryptRequest, EncryptRequest};
use sops_rs::secret::SecretBytes;
use sops_rs::store::{self, Format, StoreOptions};
use sops_rs::tree::{Document, Key, MapItem, Node, Pair, Scalar, SeqItem, Tree, Value};

const IDENTITY: &str = include_str!("../fixtures/sops-3.11/keys/age1.txt");

fn services() -> KeyServices {
    KeyServices::new(Environment::empty().with("SOPS_AGE_KEY", IDENTITY))
}

fn recipient() -> String {
    IDENTITY.lines().find_map(|l| l.strip_prefix("# public key: ")).unwrap().trim().to_owned()
}

fn round_trip(input: &[u8], format: Format, cipher: CipherKind) -> Vec<u8> {
    let services = services();
    let request = EncryptRequest {
        input_format: format,
        output_format: format,
        key_groups: vec![vec![MasterKey::Age(AgeKey::new(&recipient()).unwrap())]],
        shamir_threshold: 0,
        rule: None,
        mac_only_encrypted: false,
        cipher,
        store_options: StoreOptions::default(),
    };
    let encrypted = ops::encrypt(input, request, &services).expect("encrypts");
    let request = DecryptRequest {
        input_format: format,
        output_format: format,
        ignore_mac: false,
        extract: None,
        decryption_order: DecryptionOrder::default(),
        store_options: StoreOptions::default(),
    };
    ops::decrypt(&encrypted, request, &services).expect("decrypts").output.to_vec()
}

/// Scalars with the characters that make quoting interesting.
fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        Just(Scalar::Null),
        any::<bool>().prop_map(Scalar::Bool),
        any::<i64>().prop_map(Scalar::Int),
        (-1e12f64..1e12).prop_map(Scalar::Float),
        "[ -~]{0,12}".prop_map(|s| Scalar::Str(SecretBytes::from(s))),
        "[a-z: #'\"\\-\\[\\]{},&*!|>%@`\t\né世🚀]{0,10}".prop_map(|s| Scalar::Str(SecretBytes::from(s))),
        prop_oneof![
            Just("yes"),
            Just("~"),
            Just("0x1F"),
            Just("1e3"),
            Just("2024-01-01"),
            Just(".inf"),
            Just("")
        ]
        .prop_map(Scalar::str),
    ]
}

fn key() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,6}"
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = scalar().prop_map(Node::scalar);
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| Node::seq(items.into_iter().map(SeqItem::Value).collect())),
            prop::collection::btree_map(key(), inner, 0..4).prop_map(|entries| {
                Node::map(
                    entries
                        .into_iter()
                        .map(|(k, v)| MapItem::Pair(Pair { key: Key::new(k), value: v }))
                        .collect(),
                )
            }),
        ]
    })
}

fn tree() -> impl Strategy<Value = Tree> {
    prop::collection::btree_map(key(), node(), 1..6).prop_map(|entries| Tree {
        documents: vec![Document {
            items: entries
                .into_iter()
                .map(|(k, v)| MapItem::Pair(Pair { key: Key::new(k), value: v }))
                .collect(),
        }],
    })
}

fn same_node(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Scalar(x), Value::Scalar(y)) => {
            std::mem::discriminant(x) == std::mem::discriminant(y) && x.mac_bytes() == y.mac_bytes()
        }
        (Value::Map(x), Value::Map(y)) => same_items(x, y),
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|p| match p {
                    (SeqItem::Value(a), SeqItem::Value(b)) => same_node(a, b),
                    (SeqItem::Comment(a), SeqItem::Comment(b)) => a.text == b.text,
                    _ => false,
                })
        }
        _ => false,
    }
}

fn same_items(x: &[MapItem], y: &[MapItem]) -> bool {
    x.len() == y.len()
        && x.iter().zip(y).all(|p| match p {
            (MapItem::Pair(a), MapItem::Pair(b)) => a.key == b.key && same_node(&a.value, &b.value),
            (MapItem::Comment(a), MapItem::Comment(b)) => a.text == b.text,
            _ => false,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn yaml_emit_then_parse_gives_the_tree_back(tree in tree()) {
        let text = store::emit(Format::Yaml, &tree, None, None, &StoreOptions::default()).unwrap();
        let parsed = match store::parse_plain(Format::Yaml, &text) {
            Ok(parsed) => parsed.tree,
            Err(e) => return Err(TestCaseError::fail(format!("{e}\nemitted:\n{}", String::from_utf8_lossy(&text)))),
        };
        prop_assert!(same_items(&parsed.documents[0].items, &tree.documents[0].items),
            "emitted:\n{}", String::from_utf8_lossy(&text));
    }

    #[test]
    fn yaml_decrypt_of_encrypt_is_identity(tree in tree(), aes in any::<bool>()) {
        let text = store::emit(Format::Yaml, &tree, None, None, &StoreOptions::default()).unwrap();
        let cipher = if aes { CipherKind::Aes256Gcm } else { CipherKind::XChaCha20Poly1305 };
        let back = round_trip(&text, Format::Yaml, cipher);
        prop_assert_eq!(String::from_utf8_lossy(&back), String::from_utf8_lossy(&text));
    }

    /// Hand-written spellings sops's emitter would never produce: quoting
    /// styles, block scalars, flow collections, comments, odd numbers.
    #[test]
    fn yaml_user_styles_survive(values in prop::collection::vec((0usize..12, "[a-z ]{1,8}"), 1..8)) {
        let mut text = String::from("# head\n");
        for (i, (style, word)) in values.iter().enumerate() {
            let word = word.trim();
            let word = if word.is_empty() { "w" } else { word };
            let value = match style {
                0 => format!("'{word}'"),
                1 => format!("\"{word}\""),
                2 => format!("|\n  {word}\n  {word}\n"),
                3 => format!(">-\n  {word}\n  {word}\n"),
                4 => format!("[{word}, 2, '{word}']"),
                5 => format!("{{a: {word}, b: 0x1F}}"),
                6 => format!("{word}  # note"),
                7 => "1.0".to_owned(),
                8 => "0777".to_owned(),
                9 => "!!str 12".to_owned(),
                10 => format!("\n  - {word}\n  - '{word}'"),
                _ => format!("\n  nested: \"{word}\"\n  # foot"),
            };
            text.push_str(&format!("k{i}: {value}"));
            if !text.ends_with('\n') {
                text.push('\n');
            }
        }
        for cipher in [CipherKind::Aes256Gcm, CipherKind::XChaCha20Poly1305] {
            let back = round_trip(text.as_bytes(), Format::Yaml, cipher);
            prop_assert_eq!(String::from_utf8_lossy(&back), text.as_str());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// JSON as people write it: any indentation, number spellings sops
    /// would normalise, escapes, big integers, CRLF.
    #[test]
    fn json_user_styles_survive(
        values in prop::collection::vec(0usize..10, 1..8),
        indent in prop_oneof![Just("  "), Just("    "), Just("\t"), Just("")],
        crlf in any::<bool>(),
    ) {
        let newline = if crlf { "\r\n" } else { "\n" };
        let sep = if indent.is_empty() { "" } else { newline };
        let mut members = Vec::new();
        for (i, style) in values.iter().enumerate() {
            let value = match style {
                0 => "1.0".to_owned(),
                1 => "1e3".to_owned(),
                2 => "\"caf\\u00e9 \\/ <tag>\"".to_owned(),
                3 => "12345678901234567890".to_owned(),
                4 => "-0".to_owned(),
                5 => "[1, \"two\", 3.50]".to_owned(),
                6 => format!("{{{sep}{indent}{indent}\"k\":\"v\"{sep}{indent}}}"),
                7 => "true".to_owned(),
                8 => "\"\"".to_owned(),
                _ => "null".to_owned(),
            };
            members.push(format!("{indent}\"k{i}\": {value}"));
        }
        let text = format!("{{{sep}{}{sep}}}{newline}", members.join(&format!(",{sep}")));
        for cipher in [CipherKind::Aes256Gcm, CipherKind::XChaCha20Poly1305] {
            let back = round_trip(text.as_bytes(), Format::Json, cipher);
            prop_assert_eq!(String::from_utf8_lossy(&back), text.as_str());
        }
    }
}
