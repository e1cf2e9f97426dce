//! The bodies of the fuzz targets, shared so each target file is one line.
//!
//! Every target feeds hostile bytes to one entry point of `sops_rs` and then
//! checks only what that code promises in its own documentation: errors are
//! fine, panics, hangs and runaway memory are not (libFuzzer reports those
//! itself). Where a cheap property is promised, it is asserted:
//!
//! * a store writing back the tree it just parsed, unchanged and without
//!   new metadata, gives the input again byte for byte (JSON, TOML and
//!   binary promise that for every file); YAML may instead fall back to its
//!   fresh emitter for documents it cannot splice (a flow mapping at the
//!   top), so there the output is the input or the fresh emission;
//! * whatever a writer produces, its own reader accepts;
//! * an envelope printed by `to_text` parses back to the same envelope;
//! * a YAML file decrypts to the same bytes, or fails with the same error,
//!   whether the one-pass reader takes it or the tree does;
//! * metadata written by `to_node` reads back equal, up to the order of
//!   keys inside a group, which `to_node` writes by type as sops does
//!   (unknown fields are promised to survive a rewrite).
//!
//! Files whose top level already has a `sops` entry are excluded from both
//! checks: the writers drop that entry by design (which may leave nothing).

use std::path::Path;
use std::sync::OnceLock;

use sops_rs::cipher::{Envelope, EnvelopeError, ValueCipher};
use sops_rs::config::Config;
use sops_rs::env::Environment;
use sops_rs::error::Error;
use sops_rs::keys::KeyServices;
use sops_rs::keys::group::DecryptionOrder;
use sops_rs::metadata::{EmptyList, Metadata};
use sops_rs::ops::{self, DecryptRequest};
use sops_rs::secret::{DataKey, SecretBytes};
use sops_rs::store::{self, Format, StoreOptions};
use sops_rs::tree::{MapItem, Tree, ValueType};

/// One store: read as plaintext and as an encrypted file, write back.
pub fn store(format: Format, data: &[u8]) {
    // What `decrypt` runs first on a file; it differs from the plaintext
    // reading only for binary (JSON), so the others are not read twice.
    if format == Format::Binary {
        let _ = store::parse_encrypted(format, data);
    }
    let Ok(parsed) = store::parse_plain(format, data) else { return };
    let options = StoreOptions::default();
    let _ = parsed.layout.styled_tokens(&parsed.tree, &options);
    let fresh = store::emit(format, &parsed.tree, None, None, &options);
    let spliced = store::emit(format, &parsed.tree, Some(&parsed.layout), None, &options);
    if has_metadata(&parsed.tree) {
        return;
    }
    for output in [&fresh, &spliced].into_iter().flatten() {
        if let Err(e) = store::parse_plain(format, output) {
            // A document of nothing but comments writes back as nothing.
            // go-ini's writer, which ours follows so that sops prints the
            // same, has gaps that no quoting can close: a value holding
            // `"""`, keys that differ only in surrounding spaces or quotes
            // (pinned by unit tests in store::ini). INI output is therefore
            // only checked not to crash.
            if !matches!(e, Error::EmptyInput) && format != Format::Ini {
                panic!("{} output does not parse again: {e}", format.name());
            }
        }
    }
    match format {
        Format::Json | Format::Toml | Format::Binary => {
            let out = spliced.expect("an unchanged tree can be written back");
            assert!(out == data, "{}: unchanged tree did not write back the input", format.name());
        }
        Format::Yaml => match spliced {
            Ok(out) => assert!(
                out == data || fresh.as_ref().is_ok_and(|f| *f == out),
                "yaml: unchanged tree wrote neither the input nor the fresh emission"
            ),
            Err(_) => assert!(fresh.is_err(), "yaml: splicing failed where the fresh emitter did not"),
        },
        // Being rewritten in other branches: assert only the weakest form,
        // which any splicing writer with a fresh fallback keeps.
        Format::Dotenv | Format::Ini => {
            if let Ok(out) = spliced {
                assert!(
                    out == data || fresh.as_ref().is_ok_and(|f| *f == out),
                    "{}: unchanged tree wrote neither the input nor the fresh emission",
                    format.name()
                );
            }
        }
    }
}

/// A top-level `sops` entry (YAML, JSON, TOML) or flattened `sops_*` keys
/// (dotenv, INI) in any document.
fn has_metadata(tree: &Tree) -> bool {
    tree.documents.iter().flat_map(|d| &d.items).any(|item| match item {
        MapItem::Pair(pair) => pair.key.name == "sops" || pair.key.name.starts_with("sops_"),
        MapItem::Comment(_) => false,
    })
}

/// The envelope grammar: parse, print, parse again; and try to open it
/// with a fixed key (the length checks run before authentication).
pub fn envelope(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = sops_rs::cipher::looks_encrypted(text);
    // Decrypting in place (which decodes first and puts the text back when
    // a field is not base64) answers as parsing and then decrypting does,
    // errors included.
    let cipher = fixed_cipher();
    let two_steps = Envelope::parse(text).and_then(|envelope| {
        if envelope.value_type == ValueType::Comment {
            return Err(EnvelopeError::BadPlaintext("value (it is a comment)"));
        }
        let value_type = envelope.value_type;
        cipher.decrypt_owned(envelope, b"aad:").map(|plain| (value_type, plain.as_bytes().to_vec()))
    });
    let in_place = cipher
        .decrypt_value_in_place(SecretBytes::from_text(text), b"aad:")
        .map(|(value_type, plain)| (value_type, plain.as_bytes().to_vec()));
    assert_eq!(in_place, two_steps, "decrypting in place differs");
    let Ok(envelope) = Envelope::parse(text) else { return };
    let printed = envelope.to_text();
    let again = Envelope::parse(&printed).expect("to_text output parses");
    assert_eq!(again, envelope, "envelope changed through to_text");
    let _ = fixed_cipher().decrypt(&envelope, b"aad:");
}

fn fixed_cipher() -> &'static ValueCipher {
    static CIPHER: OnceLock<ValueCipher> = OnceLock::new();
    CIPHER.get_or_init(|| ValueCipher::new(&DataKey::from_slice(&[7u8; 32]).expect("32 bytes")))
}

/// Metadata loading: the `sops` entry of a YAML and of a JSON document, and
/// the flattened form dotenv and INI files use (`key=value` lines).
pub fn metadata(data: &[u8]) {
    for format in [Format::Yaml, Format::Json] {
        let Ok(mut parsed) = store::parse_encrypted(format, data) else { continue };
        if let Ok(metadata) = ops::take_metadata(&mut parsed.tree) {
            check_metadata(&metadata);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        // As a dotenv file holds them: `sops_` and the flattened path.
        let pairs: Vec<(String, String)> = text
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.strip_prefix("sops_").unwrap_or(k).to_owned(), v.to_owned()))
            .collect();
        if let Ok(node) = sops_rs::metadata::flat::unflatten(&pairs)
            && let Ok(metadata) = Metadata::from_node(&node)
        {
            check_metadata(&metadata);
        }
    }
}

fn check_metadata(metadata: &Metadata) {
    let _ = metadata.selection();
    let _ = metadata.cipher();
    let _ = metadata.mac_aad();
    for style in [EmptyList::Brackets, EmptyList::Null] {
        let node = metadata.to_node(style);
        let again = Metadata::from_node(&node).expect("metadata written by to_node reads back");
        // Keys are written grouped by type in sops's field order, so only
        // their order within a group may change.
        assert!(by_type(&again) == by_type(metadata), "metadata changed through to_node");
        let _ = sops_rs::metadata::flat::flatten(&node);
    }
}

/// The metadata with each key group's keys in type order (stable).
fn by_type(metadata: &Metadata) -> Metadata {
    let mut sorted = metadata.clone();
    for group in &mut sorted.key_groups {
        group.sort_by_key(|key| key.type_id());
    }
    sorted
}

/// The config loader, then rule matching for a few kinds of path.
pub fn config(data: &[u8]) {
    let Ok(config) = Config::from_bytes(Path::new("/fuzz/project/.sops.yaml"), data) else { return };
    for file in [
        "/fuzz/project/secrets.yaml",
        "/fuzz/project/dev/app.enc.json",
        "/fuzz/project/.env",
        "/elsewhere/prod/db.ini",
        "relative/file.toml",
        "/fuzz/project/sub dir/ünïcode.bin",
    ] {
        let _ = config.rule_for(Path::new(file));
    }
    // The `stores` settings shape every later write: use them once.
    let tree = sample_tree();
    for format in [Format::Yaml, Format::Json] {
        let _ = store::emit(format, &tree, None, None, &config.stores);
    }
}

/// `{a: {b: [1, "x"]}}`: enough nesting for indentation to matter.
fn sample_tree() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| {
        let (tree, _) = store::json::parse(br#"{"a": {"b": [1, "x"]}}"#).expect("valid JSON");
        tree
    })
}

/// The age identities of the fixtures, and nothing from the process
/// environment or the home directory.
fn services() -> &'static KeyServices {
    static SERVICES: OnceLock<KeyServices> = OnceLock::new();
    SERVICES.get_or_init(|| {
        let keys = [
            include_str!("../../fixtures/sops-3.11/keys/age1.txt"),
            include_str!("../../fixtures/sops-3.11/keys/age2.txt"),
            include_str!("../../fixtures/spec/keys/age-key1.txt"),
            include_str!("../../fixtures/spec/keys/age-key2.txt"),
        ]
        .join("\n");
        KeyServices::new(Environment::empty().with("SOPS_AGE_KEY", keys))
    })
}

/// The format named by a decrypt input's first byte; uppercase asks for a
/// conversion (to JSON, or to YAML from JSON) instead of a same-format
/// decryption. Seeds are written this way by `seed.sh`.
fn decrypt_formats(selector: u8) -> (Format, Format) {
    let input = match selector.to_ascii_lowercase() {
        b'y' => Format::Yaml,
        b'j' => Format::Json,
        b'e' => Format::Dotenv,
        b'i' => Format::Ini,
        b't' => Format::Toml,
        b'b' => Format::Binary,
        other => [Format::Yaml, Format::Json, Format::Dotenv, Format::Ini, Format::Toml, Format::Binary]
            [usize::from(other) % 6],
    };
    let output = match (selector.is_ascii_uppercase(), input) {
        (false, input) => input,
        (true, Format::Json) => Format::Yaml,
        (true, _) => Format::Json,
    };
    (input, output)
}

/// Whole-file decryption with fixed identities. The selector's high bit
/// asks for the MAC check; without it the MAC is ignored (as with
/// `--ignore-mac`), so mutations of unencrypted parts, which change the
/// MAC, still reach the value decryption and the writers.
pub fn decrypt(data: &[u8]) {
    let Some((&selector, file)) = data.split_first() else { return };
    let (input_format, output_format) = decrypt_formats(selector & 0x7f);
    let request = DecryptRequest {
        input_format,
        output_format,
        ignore_mac: selector & 0x80 == 0,
        extract: None,
        decryption_order: DecryptionOrder::default(),
        store_options: StoreOptions::default(),
    };
    let yaml_to_yaml = input_format == Format::Yaml && output_format == Format::Yaml;
    let ignore_mac = request.ignore_mac;
    let result = ops::decrypt(file, request, services());
    if yaml_to_yaml {
        // YAML is decrypted in one pass when it can be: the general path
        // must give the same output, or the same error.
        let options = StoreOptions::default();
        let order = DecryptionOrder::default();
        let general = ops::open(file, Format::Yaml, ignore_mac, &order, services(), ops::Purpose::Read)
            .and_then(|o| store::emit(Format::Yaml, &o.parsed.tree, Some(&o.parsed.layout), None, &options));
        match (&result, &general) {
            (Ok(one_pass), Ok(general)) => assert!(*one_pass.output == *general, "outputs differ"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            _ => panic!("the one pass and the general path disagree on success"),
        }
    }
}
