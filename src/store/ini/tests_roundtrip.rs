//! Our promise for INI files: decrypting what we encrypted gives the file
//! back byte for byte, with either cipher, whatever its layout.
//!
//! Run through `ops` with real age keys over `tests/data/ini/roundtrip/`,
//! whose values and comments all contain the marker `s3cr3t`, which must
//! appear nowhere in the encrypted files. Values come back through style
//! memory as it is. Comment layouts that only style memory can restore (a
//! block with blank lines in it, a key with both comment lines and an
//! inline comment, a header's inline comment) need `style.rs` to bind
//! comments as it binds values; until it does, `ops` gives those comments
//! back with the same text in go-ini's layout, and [`simulate`] checks the
//! byte-exact round trip with comments bound.

use std::collections::HashMap;

use super::tests::{decrypt, describe, encrypt, parse_ok, read, show, vector_key};
use super::*;
use crate::cipher::{CipherKind, ValueCipher};
use crate::secret::DataKey;
use crate::tree::{MapItem, SeqItem};
use crate::walk::{self, Selection};

const MARKER: &str = "s3cr3t";

pub(super) fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = format!("{}/tests/data/ini/roundtrip", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| entry.expect("a directory entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".ini"))
        .collect();
    files.sort();
    files.into_iter().map(|name| (name.clone(), read(&format!("tests/data/ini/roundtrip/{name}")))).collect()
}

/// Whether some comment of `plain` can come back only through style memory.
fn needs_comment_memory(plain: &[u8]) -> bool {
    let (tree, layout) = parse_ok(plain);
    layout.styled_tokens(&tree).keys().any(|src| matches!(layout.entry(*src), Some(Entry::Comment(_))))
}

/// The tree's sections and values, without comments.
fn values_of(text: &[u8]) -> String {
    let (mut tree, _) = parse_ok(text);
    for item in &mut tree.documents[0].items {
        if let MapItem::Pair(section) = item
            && let Value::Map(items) = &mut section.value.value
        {
            items.retain(|item| matches!(item, MapItem::Pair(_)));
        }
    }
    describe(&tree)
}

/// The lines that differ, for failure messages.
fn diff(got: &[u8], want: &[u8]) -> String {
    let (got, want) = (show(got), show(want));
    let mut out = String::new();
    for (i, (g, w)) in got.split('\n').zip(want.split('\n')).enumerate() {
        if g != w {
            out.push_str(&format!("line {}: got {g:?}\n        want {w:?}\n", i + 1));
        }
    }
    if got.split('\n').count() != want.split('\n').count() {
        out.push_str(&format!("got {} lines, want {}\n", got.split('\n').count(), want.split('\n').count()));
    }
    out
}

#[test]
fn decrypt_of_encrypt_is_the_input_with_both_ciphers() {
    let (identity, recipient) = vector_key();
    let mut failures = Vec::new();
    for (name, plain) in corpus() {
        for cipher in [CipherKind::Aes256Gcm, CipherKind::XChaCha20Poly1305] {
            let encrypted = encrypt(&plain, &recipient, cipher).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!show(&encrypted).contains(MARKER), "{name} ({cipher:?}) leaks:\n{}", show(&encrypted));
            let decrypted = decrypt(&encrypted, &identity).unwrap_or_else(|e| panic!("{name}: {e}"));
            if decrypted == plain {
                continue;
            }
            // Only comments may differ (laid out and spelled as go-ini
            // writes them), and only where style memory for comments is
            // needed; every value is the same.
            let same_values = values_of(&decrypted) == values_of(&plain);
            if !(needs_comment_memory(&plain) && same_values) {
                failures.push(format!(
                    "{name} ({cipher:?}), same values: {same_values}:\n{}",
                    diff(&decrypted, &plain)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn decrypt_of_encrypt_is_the_input_when_comments_are_remembered() {
    for (name, plain) in corpus() {
        for kind in [CipherKind::Aes256Gcm, CipherKind::XChaCha20Poly1305] {
            let back = simulate(&plain, kind);
            assert!(back == plain, "{name} ({kind:?}):\n{}", diff(&back, &plain));
        }
    }
}

/// The envelope tag of every value and comment, by position: what
/// `style::tags_by_src` gives when it also visits comments.
fn tags(tree: &Tree) -> HashMap<Src, String> {
    fn tag_of(text: &[u8]) -> Option<String> {
        let text = std::str::from_utf8(text).ok().filter(|t| t.starts_with("ENC["))?;
        let start = text.find(",tag:")? + 5;
        Some(text[start..start + text[start..].find(',')?].to_owned())
    }
    fn visit(items: &[MapItem], out: &mut HashMap<Src, String>) {
        for item in items {
            match item {
                MapItem::Pair(pair) => match &pair.value.value {
                    Value::Map(items) => visit(items, out),
                    Value::Scalar(Scalar::Str(text)) => {
                        if let Some(tag) = tag_of(text.as_bytes()) {
                            out.insert(pair.value.src, tag);
                        }
                    }
                    Value::Scalar(_) => {}
                    Value::Seq(items) => assert!(items.iter().all(|i| matches!(i, SeqItem::Value(_)))),
                },
                MapItem::Comment(comment) => {
                    if let Some(tag) = tag_of(comment.text.as_bytes()) {
                        out.insert(comment.src, tag);
                    }
                }
            }
        }
    }
    let mut out = HashMap::new();
    visit(&tree.documents[0].items, &mut out);
    out
}

/// Encrypt and decrypt at the store level as `ops` does, with style memory
/// binding comments as well as values (by envelope tag); returns the
/// decrypted file.
pub(super) fn simulate(plain: &[u8], kind: CipherKind) -> Vec<u8> {
    let (mut tree, layout) = parse_ok(plain);
    let styled = layout.styled_tokens(&tree);
    let cipher = ValueCipher::new(&DataKey::generate().unwrap());
    let selection = Selection::default();
    walk::encrypt_tree(&mut tree, &selection, &cipher, kind).unwrap();
    let by_tag: HashMap<String, String> = tags(&tree)
        .into_iter()
        .filter_map(|(src, tag)| styled.get(&src).map(|text| (tag, text.clone())))
        .collect();
    let metadata = crate::metadata::flat::unflatten(&[("version".into(), "3.11.0".into())]).unwrap();
    let encrypted = emit_spliced(&tree, &layout, Some(&metadata), &super::tests::opts()).unwrap();
    assert!(!show(&encrypted).contains(MARKER), "leaks:\n{}", show(&encrypted));

    let (mut tree, mut layout) = parse_ok(&encrypted);
    crate::ops::take_metadata(&mut tree).map(|_| ()).unwrap_or(());
    let remembered: HashMap<Src, String> = tags(&tree)
        .into_iter()
        .filter_map(|(src, tag)| by_tag.get(&tag).map(|text| (src, text.clone())))
        .collect();
    walk::decrypt_tree(&mut tree, &selection, &cipher).unwrap();
    layout.set_overrides(remembered);
    emit_spliced(&tree, &layout, None, &super::tests::opts()).unwrap()
}

#[test]
fn encrypting_changes_only_values_and_comments() {
    // Keys, headers, spacing and blank lines stay where they were.
    let (_, recipient) = vector_key();
    let plain = b"; note\n[db]\nhost   = example\n\nport = 5432 ; why\n";
    let encrypted = show(&encrypt(plain, &recipient, CipherKind::Aes256Gcm).unwrap());
    let lines: Vec<&str> = encrypted.lines().collect();
    assert!(lines[0].starts_with("; ENC[AES256_GCM,data:") && lines[0].ends_with(",type:comment]"));
    assert_eq!(lines[1], "[db]");
    assert!(lines[2].starts_with("host   = ENC[AES256_GCM,"));
    assert_eq!(lines[3], "");
    assert!(
        lines[4].starts_with("port = ENC[AES256_GCM,") && lines[4].contains(",type:str] ; ENC[AES256_GCM,")
    );
    assert_eq!(lines[5], "");
    assert_eq!(lines[6], "[sops]");
}

#[test]
fn hash_comments_keep_their_marker_when_encrypted() {
    let (identity, recipient) = vector_key();
    let plain = b"# note\nk = v\n";
    let encrypted = encrypt(plain, &recipient, CipherKind::Aes256Gcm).unwrap();
    assert!(show(&encrypted).starts_with("# ENC[AES256_GCM,data:"), "{}", show(&encrypted));
    assert_eq!(decrypt(&encrypted, &identity).unwrap(), plain);
}

#[test]
fn a_header_comment_moves_above_the_header_when_encrypted() {
    // go-ini reads a section name up to the last `]` of the line.
    let (identity, recipient) = vector_key();
    let plain = b"[db] ; note\nk = v\n";
    let encrypted = show(&encrypt(plain, &recipient, CipherKind::Aes256Gcm).unwrap());
    let lines: Vec<&str> = encrypted.lines().collect();
    assert!(lines[0].starts_with("; ENC[") && lines[1] == "[db]", "{encrypted}");
    // Without memory for comments it comes back where sops puts it.
    let decrypted = decrypt(encrypted.as_bytes(), &identity).unwrap();
    assert!(decrypted == plain || decrypted == b"; note\n[db]\nk = v\n", "{}", show(&decrypted));
}

#[test]
fn the_metadata_section_comes_and_goes_without_a_trace() {
    let (identity, recipient) = vector_key();
    for plain in [&b"a = 1\n"[..], b"a = 1", b"a = 1\n\n\n", b"", b"\n", b"a = 1\r\n", b"[s]\n; end"] {
        let encrypted = encrypt(plain, &recipient, CipherKind::Aes256Gcm).unwrap();
        let text = show(&encrypted);
        let at = text.find("[sops]").unwrap();
        assert!(at == 0 || text[..at].ends_with('\n'), "{text}");
        assert_eq!(show(&decrypt(&encrypted, &identity).unwrap()), show(plain));
    }
}
