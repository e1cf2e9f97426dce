use super::*;
use crate::secret::DataKey;
use crate::tree::{Document, Key, Pair};

fn pair(key: &str, value: Node) -> MapItem {
    MapItem::Pair(Pair { key: Key::new(key), value })
}

fn s(text: &str) -> Node {
    Node::scalar(Scalar::str(text))
}

fn comment(text: &str) -> Comment {
    Comment::new(SecretBytes::from_text(text))
}

fn spec_key() -> DataKey {
    DataKey::from_slice(&(0u8..32).collect::<Vec<_>>()).unwrap()
}

/// The plaintext tree of spec 14.1.
fn spec_yaml_tree() -> Tree {
    let db = Node::map(vec![
        pair("user", s("admin")),
        pair("port", Node::scalar(Scalar::Int(5432))),
        pair("ratio", Node::scalar(Scalar::Float(0.5))),
        pair("debug", Node::scalar(Scalar::Bool(false))),
        pair("hosts", Node::seq(vec![SeqItem::Value(s("a.example")), SeqItem::Value(s("b.example"))])),
    ]);
    Tree {
        documents: vec![Document {
            items: vec![
                MapItem::Comment(comment(" Database settings")),
                pair("db", db),
                pair("api_key_unencrypted", s("public-value")),
                pair("empty", s("")),
                pair("nothing", Node::scalar(Scalar::Null)),
            ],
        }],
    }
}

fn leaf<'a>(tree: &'a Tree, path: &[&str]) -> &'a Node {
    let mut items = &tree.documents[0].items;
    let mut node = None;
    for (i, key) in path.iter().enumerate() {
        let found = crate::tree::map_get(items, key).expect("path exists");
        if i + 1 < path.len() {
            let Value::Map(next) = &found.value else { panic!("not a map") };
            items = next;
        }
        node = Some(found);
    }
    node.unwrap()
}

fn text_of(node: &Node) -> String {
    match &node.value {
        Value::Scalar(Scalar::Str(b)) => b.as_str().unwrap().to_owned(),
        _ => panic!("not a string"),
    }
}

const SPEC_14_1_MAC: &str = "4232C968ED153F27E5D74AC88597BD5127A0CAA7411AA4516E9EA627D3799851CD3E1F5AD1742D05C741392C587809B13B4CF7014BB2AD44453F618147F07F8D";

#[test]
fn mac_matches_spec_14_1() {
    let selection = Selection::default();
    assert_eq!(mac_of_plaintext(&spec_yaml_tree(), &selection).unwrap().0, SPEC_14_1_MAC);
}

#[test]
fn encrypt_then_decrypt_restores_values_and_mac() {
    let key = spec_key();
    let cipher = ValueCipher::new(&key);
    let selection = Selection::default();
    for kind in [CipherKind::Aes256Gcm, CipherKind::XChaCha20Poly1305] {
        let mut tree = spec_yaml_tree();
        let mac = encrypt_tree(&mut tree, &selection, &cipher, kind, None).unwrap();
        assert_eq!(mac.0, SPEC_14_1_MAC);
        let user = text_of(leaf(&tree, &["db", "user"]));
        assert!(user.starts_with(&format!("ENC[{},data:", kind.envelope_name())), "{user}");
        assert!(user.ends_with(",type:str]"));
        assert!(text_of(leaf(&tree, &["db", "port"])).ends_with(",type:int]"));
        assert_eq!(text_of(leaf(&tree, &["api_key_unencrypted"])), "public-value");
        assert_eq!(text_of(leaf(&tree, &["empty"])), "");
        let MapItem::Comment(top) = &tree.documents[0].items[0] else { panic!() };
        assert!(top.text.as_str().unwrap().ends_with(",type:comment]"));

        let (mac, warnings) = decrypt_tree(&mut tree, &selection, &cipher, None).unwrap();
        assert_eq!(mac.0, SPEC_14_1_MAC);
        assert!(warnings.is_empty());
        assert_eq!(text_of(leaf(&tree, &["db", "user"])), "admin");
        assert!(matches!(leaf(&tree, &["db", "port"]).value, Value::Scalar(Scalar::Int(5432))));
        let MapItem::Comment(top) = &tree.documents[0].items[0] else { panic!() };
        assert_eq!(top.text.as_str().unwrap(), " Database settings");
    }
}

/// Spec 14.1's fixed envelope for `db.user`, decrypted through the walk.
#[test]
fn decrypts_spec_envelope_with_its_path() {
    let cipher = ValueCipher::new(&spec_key());
    let mut tree = Tree {
        documents: vec![Document {
            items: vec![pair(
                "db",
                Node::map(vec![pair(
                    "user",
                    s(
                        "ENC[AES256_GCM,data:Dh+ULCQ=,iv:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=,tag:3qHiBMfi/H/7GOUMxXK/rA==,type:str]",
                    ),
                )]),
            )],
        }],
    };
    decrypt_tree(&mut tree, &Selection::default(), &cipher, None).unwrap();
    assert_eq!(text_of(leaf(&tree, &["db", "user"])), "admin");
}

#[test]
fn moved_value_fails_authentication_and_names_the_path() {
    let cipher = ValueCipher::new(&spec_key());
    let mut tree = Tree {
        documents: vec![Document {
            items: vec![pair(
                "other",
                s(
                    "ENC[AES256_GCM,data:Dh+ULCQ=,iv:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=,tag:3qHiBMfi/H/7GOUMxXK/rA==,type:str]",
                ),
            )],
        }],
    };
    let err = decrypt_tree(&mut tree, &Selection::default(), &cipher, None).unwrap_err();
    assert_eq!(err.exit_code(), 25);
    let message = err.to_string();
    assert!(message.contains("[\"other\"]"), "{message}");
    assert!(!message.contains("admin"));
}

#[test]
fn plaintext_where_an_envelope_belongs_is_an_error() {
    let cipher = ValueCipher::new(&spec_key());
    let mut tree = Tree { documents: vec![Document { items: vec![pair("a", s("hunter2"))] }] };
    let err = decrypt_tree(&mut tree, &Selection::default(), &cipher, None).unwrap_err();
    assert_eq!(err.exit_code(), 25);
    assert!(!err.to_string().contains("hunter2"));
    let mut tree =
        Tree { documents: vec![Document { items: vec![pair("a", Node::scalar(Scalar::Int(42)))] }] };
    let err = decrypt_tree(&mut tree, &Selection::default(), &cipher, None).unwrap_err();
    assert_eq!(err.exit_code(), 25);
    assert!(!err.to_string().contains("42"));
}

/// Spec 14.4: mac_only_encrypted with encrypted_regex.
#[test]
fn mac_only_encrypted_matches_spec_14_4() {
    let tree = Tree {
        documents: vec![Document {
            items: vec![
                pair("user", s("bob")),
                pair("password", s("s3cret")),
                pair("port", Node::scalar(Scalar::Int(22))),
            ],
        }],
    };
    let mut selection = Selection {
        rule: SelectionRule::from_field("encrypted_regex", "^password$").unwrap(),
        mac_only_encrypted: true,
        encrypt_everything: false,
    };
    assert_eq!(
        mac_of_plaintext(&tree, &selection).unwrap().0,
        "3A9701A1E569EBBB34D2913569EBAA901F06D62BE736229D90CEAD3B62304468579622419F699D4FBB90D4596BAE96AE85B1F02FF3DDFC0801AD53FCEB682AE6"
    );
    selection.mac_only_encrypted = false;
    assert_eq!(
        mac_of_plaintext(&tree, &selection).unwrap().0,
        "888B49E6ECEA078C2B2A16C9F28778EC1DE7E7FA497E50513AB6C87FD216ED95466CC49FEC32E85B4C202B15719603FD6FBE371913CC14F6D58A1E388A58FDEA"
    );
}

fn is_envelope(node: &Node) -> bool {
    text_of(node).starts_with("ENC[")
}

/// Spec 3.5.2's example for encrypted_comment_regex.
#[test]
fn encrypted_comment_regex_follows_the_comment_stack() {
    let mut tree = Tree {
        documents: vec![Document {
            items: vec![
                MapItem::Comment(comment(" sops:enc")),
                pair("a", s("1")),
                pair("b", s("2")),
                pair(
                    "nested",
                    Node::map(vec![
                        MapItem::Comment(comment(" sops:enc")),
                        pair("x", s("y")),
                        pair("z", s("w")),
                    ]),
                ),
                pair(
                    "list",
                    Node::seq(vec![
                        SeqItem::Comment(comment(" sops:enc")),
                        SeqItem::Value(s("l1")),
                        SeqItem::Value(s("l2")),
                    ]),
                ),
            ],
        }],
    };
    let selection = Selection {
        rule: SelectionRule::from_field("encrypted_comment_regex", "sops:enc").unwrap(),
        ..Selection::default()
    };
    let cipher = ValueCipher::new(&spec_key());
    encrypt_tree(&mut tree, &selection, &cipher, CipherKind::Aes256Gcm, None).unwrap();
    let items = &tree.documents[0].items;
    let MapItem::Comment(marker) = &items[0] else { panic!() };
    assert_eq!(marker.text.as_str().unwrap(), " sops:enc", "marker stays plaintext");
    assert!(is_envelope(leaf(&tree, &["a"])));
    assert!(!is_envelope(leaf(&tree, &["b"])));
    assert!(is_envelope(leaf(&tree, &["nested", "x"])));
    assert!(!is_envelope(leaf(&tree, &["nested", "z"])));
    let Value::Seq(list) = &leaf(&tree, &["list"]).value else { panic!() };
    let SeqItem::Value(l1) = &list[1] else { panic!() };
    let SeqItem::Value(l2) = &list[2] else { panic!() };
    assert!(is_envelope(l1));
    assert!(!is_envelope(l2));
}

#[test]
fn unencrypted_comment_regex_exempts_marker_and_next_leaf() {
    let mut tree = Tree {
        documents: vec![Document {
            items: vec![
                MapItem::Comment(comment(" sops:plain")),
                pair("a", s("1")),
                MapItem::Comment(comment(" other comment")),
                pair("b", s("2")),
            ],
        }],
    };
    let selection = Selection {
        rule: SelectionRule::from_field("unencrypted_comment_regex", "sops:plain").unwrap(),
        ..Selection::default()
    };
    let cipher = ValueCipher::new(&spec_key());
    encrypt_tree(&mut tree, &selection, &cipher, CipherKind::Aes256Gcm, None).unwrap();
    let items = &tree.documents[0].items;
    let MapItem::Comment(marker) = &items[0] else { panic!() };
    assert_eq!(marker.text.as_str().unwrap(), " sops:plain");
    assert!(!is_envelope(leaf(&tree, &["a"])));
    let MapItem::Comment(other) = &items[2] else { panic!() };
    assert!(other.text.as_str().unwrap().starts_with("ENC["));
    assert!(is_envelope(leaf(&tree, &["b"])));
}

#[test]
fn suffix_rules_apply_to_every_ancestor() {
    let mut tree = Tree {
        documents: vec![Document {
            items: vec![
                pair("public_unencrypted", Node::map(vec![pair("deep", s("x"))])),
                pair("secret", Node::map(vec![pair("deep", s("y"))])),
            ],
        }],
    };
    let cipher = ValueCipher::new(&spec_key());
    encrypt_tree(&mut tree, &Selection::default(), &cipher, CipherKind::Aes256Gcm, None).unwrap();
    assert!(!is_envelope(leaf(&tree, &["public_unencrypted", "deep"])));
    assert!(is_envelope(leaf(&tree, &["secret", "deep"])));
}

#[test]
fn sequence_comment_elements_become_comments_again() {
    let key = spec_key();
    let cipher = ValueCipher::new(&key);
    let envelope = cipher.encrypt(CipherKind::Aes256Gcm, b" inline x", b"b:", ValueType::Comment).unwrap();
    let mut tree = Tree {
        documents: vec![Document {
            items: vec![pair(
                "b",
                Node::seq(vec![SeqItem::Value(s(&envelope.to_text())), SeqItem::Value(s("x"))]),
            )],
        }],
    };
    // "x" is not encrypted, which is an error; encrypt it first.
    let x = cipher.encrypt(CipherKind::Aes256Gcm, b"x", b"b:", ValueType::Str).unwrap();
    if let Value::Seq(items) = &mut tree.documents[0].items[0].pair_mut().value.value {
        items[1] = SeqItem::Value(s(&x.to_text()));
    }
    decrypt_tree(&mut tree, &Selection::default(), &cipher, None).unwrap();
    let Value::Seq(items) = &leaf(&tree, &["b"]).value else { panic!() };
    let SeqItem::Comment(c) = &items[0] else { panic!("comment element was not turned back into a comment") };
    assert_eq!(c.text.as_str().unwrap(), " inline x");
}

#[test]
fn comments_with_foreign_aad_are_kept_with_a_warning() {
    let cipher = ValueCipher::new(&spec_key());
    let envelope = cipher.encrypt(CipherKind::Aes256Gcm, b" c", b"elsewhere:", ValueType::Comment).unwrap();
    let mut tree =
        Tree { documents: vec![Document { items: vec![MapItem::Comment(comment(&envelope.to_text()))] }] };
    let (_, warnings) = decrypt_tree(&mut tree, &Selection::default(), &cipher, None).unwrap();
    assert_eq!(warnings.len(), 1);
}

#[test]
fn comment_aad_falls_back_to_ancestors() {
    let cipher = ValueCipher::new(&spec_key());
    // Encrypted with the top-level path but found inside `a`.
    let envelope = cipher.encrypt(CipherKind::Aes256Gcm, b" c", b":", ValueType::Comment).unwrap();
    let mut tree = Tree {
        documents: vec![Document {
            items: vec![pair("a", Node::map(vec![MapItem::Comment(comment(&envelope.to_text()))]))],
        }],
    };
    let (_, warnings) = decrypt_tree(&mut tree, &Selection::default(), &cipher, None).unwrap();
    assert!(warnings.is_empty());
}

#[test]
fn non_string_keys_cannot_be_encrypted() {
    let mut tree = Tree {
        documents: vec![Document {
            items: vec![MapItem::Pair(Pair {
                key: Key { name: "1".into(), is_string: false },
                value: s("x"),
            })],
        }],
    };
    let cipher = ValueCipher::new(&spec_key());
    let err =
        encrypt_tree(&mut tree, &Selection::default(), &cipher, CipherKind::Aes256Gcm, None).unwrap_err();
    assert_eq!(err.exit_code(), 23);
}

impl MapItem {
    fn pair_mut(&mut self) -> &mut Pair {
        match self {
            MapItem::Pair(p) => p,
            MapItem::Comment(_) => panic!("not a pair"),
        }
    }
}
