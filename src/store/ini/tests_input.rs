//! Tests of malformed and hostile input: every error is a clear one with
//! the right exit code, names a line and quotes nothing from the file.

use super::tests::{decrypt, encrypt, show, vector_key};
use super::*;
use crate::cipher::CipherKind;
use crate::error::Error;

fn parse_err(text: &[u8]) -> Error {
    match parse(text) {
        Ok(_) => panic!("parsed: {}", show(text)),
        Err(err) => err,
    }
}

/// A parse error (exit 2) that names line `line`, says `expect` and does
/// not quote `secret`.
fn assert_parse_error(text: &[u8], line: usize, expect: &str, secret: &str) {
    let err = parse_err(text);
    let message = err.to_string();
    assert!(matches!(err, Error::Parse { .. }), "{message}");
    assert_eq!(err.exit_code(), 2);
    assert!(message.contains(&format!("line {line}: ")), "{message}");
    assert!(message.contains(expect), "{message:?} lacks {expect:?}");
    assert!(!message.contains(secret), "{message} leaks {secret}");
    assert!(!format!("{err:?}").contains(secret), "{err:?} leaks {secret}");
}

#[test]
fn bad_input_gives_clear_errors() {
    let cases: &[(&[u8], usize, &str, &str)] = &[
        (b"a = 1\n[hunter2\nk = v\n", 2, "no closing ']'", "hunter2"),
        (b"[]\nk = hunter2\n", 1, "empty name", "hunter2"),
        (b"[s]\nhunter2\n", 2, "neither a comment", "hunter2"),
        (b"= hunter2\n", 1, "empty name", "hunter2"),
        (b"\"hunter2 = v\n", 1, "quoted key is not closed", "hunter2"),
        (b"`hunter2` v\n", 1, "neither a comment", "hunter2"),
        (b"k = `hunter2\nmore\n", 1, "quoted value is not closed", "hunter2"),
        (b"a = 1\nk = \"\"\"hunter2\n", 2, "quoted value is not closed", "hunter2"),
        (b"k = v\npw = hun\xfftern2\n", 2, "not valid UTF-8", "hun"),
        (b"\xef\xbb\xbfk = \xc3\x28\n", 1, "not valid UTF-8", "k = "),
    ];
    for (text, line, expect, secret) in cases {
        assert_parse_error(text, *line, expect, secret);
    }
}

#[test]
fn sops_rejects_the_same_inputs() {
    // Each of these made `sops encrypt` 3.11 fail with exit 2 ("Error
    // unmarshalling file: Could not unmarshal input data: ...").
    for text in [&b"[abc\nk=v\n"[..], b"[]\nk=v\n", b"novalue\n", b"= v\n", b"\"k = v\n", b"k = `abc\nmore\n"]
    {
        assert_eq!(parse_err(text).exit_code(), 2, "{}", show(text));
    }
}

#[test]
fn odd_but_valid_input_reads_as_go_ini_reads_it() {
    let cases: &[(&[u8], &str)] = &[
        // Empty files and files of blank lines or comments only.
        (b"", "[DEFAULT]\n"),
        (b"\n\n", "[DEFAULT]\n"),
        (b"; only\n", "[DEFAULT] #\"only\"\n"),
        // A name runs to the last `]`, spaces kept.
        (b"[a]b] ; c ]\nk=v\n", "[DEFAULT]\n[a]b] ; c ] k=\"v\"\n"),
        (b"[ sp ]\n", "[DEFAULT]\n[ sp ]\n"),
        // Keys named `-` are numbered per section.
        (b"- = a\n- = b\n[s]\n- = c\n", "[DEFAULT] #1=\"a\" #2=\"b\"\n[s] #1=\"c\"\n"),
        // A quoted key may be followed by anything before the delimiter.
        (b"\"k\" junk = v\n", "[DEFAULT] k=\"v\"\n"),
        // A byte order mark is skipped.
        (b"\xef\xbb\xbfk = v\n", "[DEFAULT] k=\"v\"\n"),
        // A continuation at the end of the file.
        (b"k = a \\", "[DEFAULT] k=\"a \"\n"),
        // Quotes are removed only when they are the only ones.
        (b"k = \"a\"b\"\n", "[DEFAULT] k=\"\\\"a\\\"b\\\"\"\n"),
        (b"k = 'a'\n", "[DEFAULT] k=\"a\"\n"),
        // An empty value with a comment; a comment that strips to nothing.
        (b"k = ;c\nj = #\n", "[DEFAULT] k=\"\" #\"c\" j=\"\" #\"\"\n"),
        // Text after a single-line backquoted value is ignored.
        (b"k = `a` ; gone\n", "[DEFAULT] k=\"a\"\n"),
    ];
    for (text, tree) in cases {
        let (parsed, _) = super::tests::parse_ok(text);
        assert_eq!(super::tests::describe(&parsed), *tree, "{}", show(text));
    }
}

#[test]
fn a_plaintext_with_a_sops_section_cannot_be_encrypted() {
    let (_, recipient) = vector_key();
    for text in [&b"a = 1\n[sops]\nversion = 1\n"[..], b"[sops]\n", b"[sops]\nage__list_x = 1\n"] {
        let err = encrypt(text, &recipient, CipherKind::Aes256Gcm).unwrap_err();
        assert!(matches!(err, Error::AlreadyEncrypted), "{err}");
        assert_eq!(err.exit_code(), 203);
    }
}

#[test]
fn files_without_metadata_or_with_bad_metadata_cannot_be_decrypted() {
    let (identity, _) = vector_key();
    let err = decrypt(b"[s]\nk = v\n", &identity).unwrap_err();
    assert!(matches!(err, Error::MetadataNotFound), "{err}");
    assert_eq!(err.exit_code(), 1);
    for text in
        [&b"[s]\nk = hunter2\n[sops]\nversion = 3.11.0\n"[..], b"[sops]\nage__list_x__map_enc = hunter2\n"]
    {
        let err = decrypt(text, &identity).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert_ne!(err.exit_code(), 0);
    }
}

#[test]
fn a_tampered_value_fails_the_mac_or_its_tag() {
    let (identity, recipient) = vector_key();
    let encrypted = show(&encrypt(b"[s]\na = 1\nb = 2\n", &recipient, CipherKind::Aes256Gcm).unwrap());
    let lines: Vec<&str> = encrypted.lines().collect();
    // Swap the two values: each is bound to its key.
    let (a, b) = (lines[1].strip_prefix("a = ").unwrap(), lines[2].strip_prefix("b = ").unwrap());
    let swapped =
        encrypted.replacen(lines[1], &format!("a = {b}"), 1).replacen(lines[2], &format!("b = {a}"), 1);
    let err = decrypt(swapped.as_bytes(), &identity).unwrap_err();
    assert_eq!(err.exit_code(), 25, "{err}");
    // Remove a value: the MAC no longer matches.
    let removed = encrypted.replacen(&format!("{}\n", lines[2]), "", 1);
    let err = decrypt(removed.as_bytes(), &identity).unwrap_err();
    assert_eq!(err.exit_code(), 51, "{err}");
}

#[test]
fn many_keys_are_read_and_written_in_linear_time() {
    let mut text = String::from("[s]\n");
    for i in 0..50_000 {
        text.push_str(&format!("key{i} = value{i} ; c{i}\n"));
    }
    let start = std::time::Instant::now();
    let (tree, layout) = parse(text.as_bytes()).unwrap();
    let out = emit_spliced(&tree, &layout, None, &crate::store::StoreOptions::default()).unwrap();
    assert_eq!(out, text.as_bytes());
    // Generous: about 50 ms in a debug build here.
    assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
}
