//! Our promise for INI files: decrypting what we encrypted gives the file
//! back byte for byte, with either cipher, whatever its layout.
//!
//! Run through `ops` with real age keys over `tests/data/ini/roundtrip/`,
//! whose values and comments all contain the marker `s3cr3t`, which must
//! appear nowhere in the encrypted files. Values and comments whose layout
//! go-ini's writer would change (a block with blank lines in it, a key with
//! both comment lines and an inline comment, a header's inline comment)
//! come back through style memory, which binds comments by place as it
//! binds values.

use super::tests::{decrypt, encrypt, read, show, vector_key};
use crate::cipher::CipherKind;

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
            if decrypted != plain {
                failures.push(format!("{name} ({cipher:?}):\n{}", diff(&decrypted, &plain)));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Encrypt and decrypt through `ops` with the vector key; returns the
/// decrypted file.
pub(super) fn round_trip(plain: &[u8], kind: CipherKind) -> Vec<u8> {
    let (identity, recipient) = vector_key();
    let encrypted = encrypt(plain, &recipient, kind).expect("encrypts");
    decrypt(&encrypted, &identity).expect("decrypts")
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
    // Style memory puts it back on the header's line.
    let decrypted = decrypt(encrypted.as_bytes(), &identity).unwrap();
    assert_eq!(show(&decrypted), show(plain));
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
