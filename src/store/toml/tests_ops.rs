//! Encrypting and decrypting TOML through the library: byte-for-byte round
//! trips with both ciphers, the metadata table, selection rules, tampering,
//! conversions to and from other formats, bad input, and generated
//! documents.

use proptest::prelude::*;

use super::tests::{CORPUS, data};
use crate::cipher::CipherKind;
use crate::env::Environment;
use crate::error::Error;
use crate::keys::age::AgeKey;
use crate::keys::group::DecryptionOrder;
use crate::keys::{KeyServices, MasterKey};
use crate::metadata::Metadata;
use crate::ops::{self, DecryptRequest, EncryptRequest};
use crate::store::{self, Format, StoreOptions};
use crate::tree::{MapItem, Value};

const IDENTITY: &str = include_str!("../../../fixtures/sops-3.11/keys/age1.txt");

fn services() -> KeyServices {
    KeyServices::new(Environment::empty().with("SOPS_AGE_KEY", IDENTITY))
}

fn recipient() -> String {
    IDENTITY.lines().find_map(|l| l.strip_prefix("# public key: ")).unwrap().trim().to_owned()
}

fn encrypt_as(input: &[u8], from: Format, to: Format, cipher: CipherKind) -> crate::error::Result<Vec<u8>> {
    let request = EncryptRequest {
        input_format: from,
        output_format: to,
        key_groups: vec![vec![MasterKey::Age(AgeKey::new(&recipient()).unwrap())]],
        shamir_threshold: 0,
        rule: None,
        mac_only_encrypted: false,
        cipher,
        store_options: StoreOptions::default(),
    };
    ops::encrypt(input, request, &services())
}

fn encrypt(input: &[u8], cipher: CipherKind) -> Vec<u8> {
    encrypt_as(input, Format::Toml, Format::Toml, cipher).unwrap_or_else(|e| panic!("encrypt: {e}"))
}

fn decrypt_as(input: &[u8], from: Format, to: Format) -> crate::error::Result<Vec<u8>> {
    let request = DecryptRequest {
        input_format: from,
        output_format: to,
        ignore_mac: false,
        extract: None,
        decryption_order: DecryptionOrder::default(),
        store_options: StoreOptions::default(),
    };
    ops::decrypt(input, request, &services()).map(|d| d.output.to_vec())
}

fn decrypt(input: &[u8]) -> Vec<u8> {
    decrypt_as(input, Format::Toml, Format::Toml).unwrap_or_else(|e| panic!("decrypt: {e}"))
}

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const CIPHERS: [CipherKind; 2] = [CipherKind::Aes256Gcm, CipherKind::XChaCha20Poly1305];

#[test]
fn every_corpus_file_round_trips_byte_for_byte() {
    for file in CORPUS {
        let input = data(file);
        for cipher in CIPHERS {
            let encrypted = encrypt(&input, cipher);
            assert_eq!(show(&decrypt(&encrypted)), show(&input), "{file} with {cipher:?}");
        }
    }
}

#[test]
fn encrypted_files_are_toml_with_a_readable_sops_table() {
    for file in CORPUS {
        let encrypted = encrypt(&data(file), CipherKind::Aes256Gcm);
        let text = show(&encrypted);
        // Any TOML reader accepts it.
        text.parse::<toml_edit::DocumentMut>().unwrap_or_else(|e| panic!("{file}: {e}"));
        let (mut tree, _) = super::parse(&encrypted).unwrap();
        let metadata = ops::take_metadata(&mut tree).unwrap();
        assert_eq!(metadata.version, "3.11.0");
        assert_eq!(metadata.key_groups.len(), 1);
        assert!(metadata.mac.starts_with("ENC[AES256_GCM,"));
        assert!(text.contains("\n[sops]") && text.contains("[[sops.age]]"), "{file}");
        // Every value outside the metadata is an envelope, an empty string,
        // or under an `_unencrypted` key.
        assert!(!text.contains("hunter2") && !text.contains("sk_live_51Hxyz"), "{file}");
    }
}

#[test]
fn metadata_reads_back_through_from_node() {
    let encrypted = encrypt(b"a = 1\n", CipherKind::XChaCha20Poly1305);
    let (tree, _) = super::parse(&encrypted).unwrap();
    let node = tree.top_level("sops").unwrap();
    let metadata = Metadata::from_node(node).unwrap();
    assert_eq!(metadata.rule, Some(("unencrypted_suffix".into(), "_unencrypted".into())));
    let MasterKey::Age(key) = &metadata.key_groups[0][0] else { panic!("an age key") };
    assert_eq!(key.recipient, recipient());
    assert!(key.enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n") && key.enc.ends_with("-----\n"));
}

#[test]
fn unencrypted_suffix_keys_stay_plaintext() {
    let encrypted = show(&encrypt(&data("layout.toml"), CipherKind::Aes256Gcm));
    assert!(encrypted.contains("password_unencrypted = \"visible\""));
    assert!(encrypted.contains("plain_unencrypted = { a = 1, b = [2, 3] }"));
    assert!(!encrypted.contains("\"far\""));
}

#[test]
fn tampering_is_detected() {
    let input = b"a = \"one\"\nb = \"two\"\n";
    let encrypted = show(&encrypt(input, CipherKind::Aes256Gcm));
    // Swapping two envelopes: each fails its own additional data.
    let lines: Vec<&str> = encrypted.lines().collect();
    let a = lines[0].trim_start_matches("a = ");
    let b = lines[1].trim_start_matches("b = ");
    let swapped = encrypted.replacen(a, "@", 1).replacen(b, a, 1).replacen('@', b, 1);
    assert_eq!(decrypt_as(swapped.as_bytes(), Format::Toml, Format::Toml).unwrap_err().exit_code(), 25);
    // Removing a value: the MAC no longer matches.
    let removed = encrypted.replacen(lines[1], "", 1);
    let err = decrypt_as(removed.as_bytes(), Format::Toml, Format::Toml).unwrap_err();
    assert!(matches!(err, Error::Mac(_)), "{err}");
    assert_eq!(err.exit_code(), 51);
    // Changing the MAC's time.
    let retimed = encrypted.replacen("lastmodified = \"2", "lastmodified = \"1", 1);
    assert_eq!(decrypt_as(retimed.as_bytes(), Format::Toml, Format::Toml).unwrap_err().exit_code(), 51);
}

#[test]
fn conversions_keep_values_and_types() {
    // TOML -> JSON: local dates become strings, the rest keeps its type.
    let input = b"s = 'x'\ni = 0x10\nf = 1.5\nb = true\nd = 1979-05-27\nl = [1, \"a\"]\n[t]\nk = -1\n";
    let encrypted = encrypt(input, CipherKind::Aes256Gcm);
    let json = show(&decrypt_as(&encrypted, Format::Toml, Format::Json).unwrap());
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"s": "x", "i": 16, "f": 1.5, "b": true, "d": "1979-05-27", "l": [1, "a"], "t": {"k": -1}})
    );
    let yaml = show(&decrypt_as(&encrypted, Format::Toml, Format::Yaml).unwrap());
    assert!(yaml.contains("i: 16") && yaml.contains("b: true") && yaml.contains("k: -1"), "{yaml}");

    // JSON and YAML -> TOML, plaintext and encrypted.
    let json_in = br#"{"name": "x", "n": 3, "pi": 3.25, "on": false, "nested": {"a": [1, 2]}, "after": "y", "list": [{"k": 1}, {"k": 2}]}"#;
    let (tree, _) = crate::store::json::parse(json_in).unwrap();
    let toml = store::emit(Format::Toml, &tree, None, None, &StoreOptions::default()).unwrap();
    let (back, _) = super::parse(&toml).unwrap();
    let again = show(&store::emit(Format::Json, &back, None, None, &StoreOptions::default()).unwrap());
    let expected: serde_json::Value = serde_json::from_slice(json_in).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&again).unwrap(), expected);

    let yaml_in = b"# top\nuser: admin\nport: 5432\nratio: 0.5\nenabled: true\nwhen: 2024-01-01T00:00:00Z\ntags: [a, b]\n";
    for cipher in CIPHERS {
        let encrypted = encrypt_as(yaml_in, Format::Yaml, Format::Toml, cipher).unwrap();
        // The TOML file decrypts (its MAC holds: the order survived).
        let toml = show(&decrypt_as(&encrypted, Format::Toml, Format::Toml).unwrap());
        assert_eq!(
            toml,
            "# top\nuser = \"admin\"\nport = 5432\nratio = 0.5\nenabled = true\nwhen = 2024-01-01T00:00:00Z\ntags = [\"a\", \"b\"]\n"
        );
        let yaml = show(&decrypt_as(&encrypted, Format::Toml, Format::Yaml).unwrap());
        assert_eq!(yaml, show(yaml_in).replace("tags: [a, b]", "tags:\n    - a\n    - b"));
    }
}

#[test]
fn trees_toml_cannot_hold_fail_to_convert() {
    let err = encrypt_as(b"a: null\n", Format::Yaml, Format::Toml, CipherKind::Aes256Gcm).unwrap_err();
    assert_eq!(err.exit_code(), 4, "{err}");
    assert!(err.to_string().contains(" a "), "{err}");
}

#[test]
fn bad_input_is_refused_with_a_position_and_no_value_text() {
    let cases: [(&[u8], i32); 6] = [
        (b"a = \"hunter2", 2),
        (b"a = 1\nb = 'hunter2'\na = 2\n", 2),
        (b"[t]\nx = 'hunter2'\n[t]\n", 2),
        (b"a = hunter2\n", 2),
        (b"a = \"hunter2\xff\"\n", 2),
        (b"  \n\t\n", 92),
    ];
    for (input, code) in cases {
        let err = encrypt_as(input, Format::Toml, Format::Toml, CipherKind::Aes256Gcm).unwrap_err();
        assert_eq!(err.exit_code(), code, "{err}");
        let message = format!("{err} {err:?}");
        assert!(!message.contains("hunter2"), "{message}");
        if code == 2 {
            assert!(message.contains("line "), "{message}");
        }
    }
    let err = encrypt_as(b"a = 1\na = 2\n", Format::Toml, Format::Toml, CipherKind::Aes256Gcm).unwrap_err();
    assert!(err.to_string().contains("duplicate key a at line 2"), "{err}");
    let deep = format!("a = {}", "[".repeat(10_000));
    let err = encrypt_as(deep.as_bytes(), Format::Toml, Format::Toml, CipherKind::Aes256Gcm).unwrap_err();
    assert_eq!(err.exit_code(), 2, "{err}");
    let deep = format!("a = {}1{}", "{b = ".repeat(5_000), "}".repeat(5_000));
    assert_eq!(
        encrypt_as(deep.as_bytes(), Format::Toml, Format::Toml, CipherKind::Aes256Gcm)
            .unwrap_err()
            .exit_code(),
        2
    );
}

#[test]
fn a_sops_table_in_a_plaintext_means_already_encrypted() {
    for input in [&b"a = 1\n[sops]\nversion = \"3.11.0\"\n"[..], b"sops.x = 1\n", b"sops = {}\n"] {
        let err = encrypt_as(input, Format::Toml, Format::Toml, CipherKind::Aes256Gcm).unwrap_err();
        assert!(matches!(err, Error::AlreadyEncrypted), "{err}");
        assert_eq!(err.exit_code(), 203);
    }
}

#[test]
fn comments_are_encrypted_and_restored() {
    let input = data("comments.toml");
    let encrypted = show(&encrypt(&input, CipherKind::Aes256Gcm));
    assert!(!encrypted.contains("Comment at the very top"));
    assert!(encrypted.contains("#ENC[AES256_GCM,") && encrypted.contains("type:comment]"));
    // Comments under an unencrypted key stay as they are.
    assert!(encrypted.contains("# inside an unencrypted table"));
    let (tree, _) = super::parse(encrypted.as_bytes()).unwrap();
    let comments = tree.documents[0].items.iter().filter(|i| matches!(i, MapItem::Comment(_))).count();
    assert!(comments > 5);
    assert!(matches!(tree.top_level("numbers").map(|n| &n.value), Some(Value::Seq(_))));
}

/// A generated TOML document: keys, every scalar type in several
/// spellings, arrays, inline tables, dotted keys, tables and arrays of
/// tables, with comments and blank lines between.
fn document() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        "[a-z][a-z0-9_]{0,5}",
        Just("\"quoted key\"".to_owned()),
        Just("'lit.key'".to_owned()),
        Just("k_unencrypted".to_owned())
    ];
    let scalar = prop_oneof![
        "[ -~&&[^\"\\\\]]{0,10}".prop_map(|s| format!("\"{s}\"")),
        "[a-z é🚀\"\\\\]{0,8}".prop_map(|s| format!("'''{}'''", s.replace('\'', ""))),
        "[a-z]{0,6}".prop_map(|s| format!("'{s}'")),
        "[a-z\\n]{0,12}".prop_map(|s| format!("\"\"\"\n{s}\"\"\"")),
        any::<i64>().prop_map(|i| i.to_string()),
        (0u32..0xffff).prop_map(|i| format!("0x{i:X}")),
        Just("1_000".to_owned()),
        (-1e9f64..1e9).prop_map(|f| format!("{f:?}")),
        Just("6.0e-3".to_owned()),
        Just("-inf".to_owned()),
        Just("nan".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("1979-05-27T07:32:00-08:00".to_owned()),
        Just("1979-05-27 07:32:00.5".to_owned()),
        Just("1979-05-27".to_owned()),
        Just("07:32:00".to_owned()),
    ];
    let value = scalar.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec(inner.clone(), 1..3)
                .prop_map(|v| format!("[\n  {}, # c\n  # own\n]", v.join(",\n  "))),
            prop::collection::vec(inner, 0..3).prop_map(|v| {
                let fields: Vec<String> = v.iter().enumerate().map(|(i, v)| format!("f{i} = {v}")).collect();
                format!("{{ {} }}", fields.join(", "))
            }),
        ]
    });
    let line =
        (key.clone(), value, prop::option::of("[ a-z]{0,8}"), any::<bool>()).prop_map(|(k, v, c, blank)| {
            let comment = c.map(|c| format!(" #{c}")).unwrap_or_default();
            format!("{}{k} = {v}{comment}\n", if blank { "\n# above\n" } else { "" })
        });
    let body = prop::collection::vec(line, 0..5).prop_map(|lines| {
        // Keys must be unique within a table: number them.
        lines.iter().enumerate().map(|(i, l)| l.replacen(" = ", &format!("{i} = "), 1)).collect::<String>()
    });
    let section = (prop_oneof![Just("[t{}]"), Just("[[a{}]]"), Just("[d.e{}]")], body.clone());
    (body, prop::collection::vec(section, 0..4), any::<bool>(), any::<bool>()).prop_map(
        |(root, sections, crlf, final_nl)| {
            let mut out = root;
            for (i, (header, body)) in sections.iter().enumerate() {
                out.push_str(&header.replace("{}", &(i % 2).to_string()));
                out.push('\n');
                out.push_str(body);
            }
            if out.trim().is_empty() {
                out.push_str("x = 1\n");
            }
            if !final_nl {
                while out.ends_with('\n') {
                    out.pop();
                }
            }
            if crlf { out.replace('\n', "\r\n") } else { out }
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn generated_documents_round_trip(text in document()) {
        // Generated text can repeat a table header; only valid TOML counts.
        prop_assume!(text.parse::<toml_edit::DocumentMut>().is_ok());
        for cipher in CIPHERS {
            let encrypted = encrypt(text.as_bytes(), cipher);
            prop_assert_eq!(show(&decrypt(&encrypted)), text.clone());
        }
        let (tree, _) = super::parse(text.as_bytes()).unwrap();
        let fresh = super::emit_fresh(&tree, None, &StoreOptions::default()).unwrap();
        let (back, _) = super::parse(&fresh).unwrap();
        let json = |t| store::emit(Format::Json, t, None, None, &StoreOptions::default()).map(|b| show(&b));
        // JSON cannot write NaN: compare where it can.
        if let (Ok(a), Ok(b)) = (json(&tree), json(&back)) {
            prop_assert_eq!(a, b);
        }
    }
}
