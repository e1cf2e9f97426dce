//! Bad input and values the format cannot hold: clear messages, sops's
//! exit codes, and never a value's text in a message.

use super::tests::{decrypt, encrypt, encrypt_as, one_document, opts, parse_ok};
use super::*;
use crate::cipher::CipherKind;
use crate::error::Error;
use crate::secret::SecretBytes;
use crate::store::Format;
use crate::tree::{Comment, Document, Key, Pair};

/// Parsing `text` fails with exit 2, a message naming `line` and holding
/// `expect`, and no trace of `secret`.
fn assert_parse_error(text: &[u8], line: usize, expect: &str, secret: &str) {
    let err = match parse(text) {
        Ok(_) => panic!("parsed: {:?}", String::from_utf8_lossy(text)),
        Err(err) => err,
    };
    let message = err.to_string();
    assert_eq!(err.exit_code(), 2, "{message}");
    assert!(message.contains(&format!("invalid dotenv input line {line}:")), "{message}");
    assert!(message.contains(expect), "{message}");
    assert!(!message.contains(secret), "{message}");
    assert!(!format!("{err:?}").contains(secret));
}

#[test]
fn bad_lines_are_named_by_number() {
    assert_parse_error(b"A=1\nhunter2\n", 2, "expected KEY=value, a # comment or an empty line", "hunter2");
    assert_parse_error(b"A=1\n  \n", 2, "only spaces, tabs or a carriage return", "  ");
    assert_parse_error(b"A=1\r\n\r\nB=2\r\n", 2, "an empty line must be truly empty", "B=2");
    assert_parse_error(b"A=1\n  # hunter2\n", 2, "a comment's # must be in the first column", "hunter2");
    assert_parse_error(b"hunter2", 1, "expected KEY=value", "hunter2");
}

#[test]
fn invalid_utf8_is_refused_with_its_line() {
    assert_parse_error(b"A=1\n#ok\nB=hunter2\xff\n", 3, "not valid UTF-8", "hunter2");
    assert_parse_error(b"\xc3", 1, "not valid UTF-8", "\u{fffd}");
}

#[test]
fn an_unterminated_multi_line_value_names_where_it_started() {
    let text = b"A=1\nB=\"hunter2 starts\nhunter2 continues\nC=3\n";
    assert_parse_error(text, 3, "the double-quoted value that starts on line 2 is never closed", "hunter2");
    // The line numbers after a multi-line value count its lines.
    assert_parse_error(b"A=\"x\ny\"\n\nbad\n", 4, "expected KEY=value", "bad");
}

fn assert_emit_error(result: crate::error::Result<Vec<u8>>, expect: &str, secret: &str) {
    let err = result.expect_err("emitting should fail");
    let message = err.to_string();
    assert_eq!(err.exit_code(), 4, "{message}");
    assert!(matches!(err, Error::Emit(_)));
    assert!(message.contains(expect), "{message}");
    assert!(!message.contains(secret), "{message}");
}

/// Both writers refuse `tree`: fresh, and spliced into a file (where the
/// offending item is new).
fn assert_both_refuse(tree: &Tree, expect: &str, secret: &str) {
    assert_emit_error(emit_fresh(tree, None, &opts()), expect, secret);
    let (_, layout) = parse_ok(b"OLD=1\n");
    assert_emit_error(emit_spliced(tree, &layout, None, &opts()), expect, secret);
}

fn single(key: &str, value: Node) -> Tree {
    one_document(vec![MapItem::Pair(Pair { key: Key::new(key), value })])
}

#[test]
fn a_literal_backslash_n_is_refused() {
    let tree = single("K", Node::scalar(Scalar::str("hunter2\\nmore")));
    assert_both_refuse(&tree, "contains a backslash followed by `n`", "hunter2");
    // A changed value in an existing line too.
    let (mut tree, layout) = parse_ok(b"K=x\n");
    let MapItem::Pair(pair) = &mut tree.documents[0].items[0] else { panic!() };
    pair.value.value = Value::Scalar(Scalar::str("hunter2\\n"));
    pair.value.changed = true;
    assert_emit_error(emit_spliced(&tree, &layout, None, &opts()), "`n`", "hunter2");
}

#[test]
fn decrypting_a_literal_backslash_n_is_refused_not_changed() {
    // sops encrypts this YAML string (backslash, n) into a dotenv file and
    // decrypts it to `K=x\ny`, which reads back as a line break.
    let encrypted = encrypt_as(b"K: 'x\\ny'\n", Format::Yaml, Format::Dotenv, CipherKind::Aes256Gcm).unwrap();
    let err = decrypt(&encrypted).unwrap_err();
    assert_eq!(err.exit_code(), 4, "{err}");
    assert!(err.to_string().contains("the value of \"K\""), "{err}");
}

#[test]
fn keys_the_format_cannot_hold_are_refused() {
    for (key, problem) in [
        ("", "it is empty"),
        ("A=B", "contains `=`"),
        ("A\nB", "line break"),
        ("#A", "starts with `#`"),
        ("sops_x", "starts with `sops_`"),
    ] {
        let tree = single(key, Node::scalar(Scalar::str("hunter2")));
        assert_both_refuse(&tree, problem, "hunter2");
    }
    // A renamed key in an existing line is checked too.
    let (mut tree, layout) = parse_ok(b"K=x\n");
    let MapItem::Pair(pair) = &mut tree.documents[0].items[0] else { panic!() };
    pair.key = Key::new("A=B");
    assert_emit_error(emit_spliced(&tree, &layout, None, &opts()), "contains `=`", "x");
}

#[test]
fn nested_values_are_refused_with_sops_message_and_hint() {
    for value in [Node::map(vec![]), Node::seq(vec![])] {
        let tree = single("nested", value);
        assert_both_refuse(&tree, "cannot use complex value in dotenv file; offending key nested", "hunter2");
        let err = emit_fresh(&tree, None, &opts()).unwrap_err();
        assert!(err.hint().unwrap().contains("flat KEY=value"));
    }
    // Through the library: a nested YAML file cannot become dotenv.
    let err =
        encrypt_as(b"a:\n  b: hunter2\n", Format::Yaml, Format::Dotenv, CipherKind::Aes256Gcm).unwrap_err();
    assert_eq!(err.exit_code(), 4);
    assert!(!err.to_string().contains("hunter2"));
}

#[test]
fn comments_and_values_that_are_not_one_line_of_text_are_refused() {
    let comment =
        |bytes: &[u8]| one_document(vec![MapItem::Comment(Comment::new(SecretBytes::new(bytes.to_vec())))]);
    assert_both_refuse(&comment(b"hunter2\nsecond line"), "a comment contains a line break", "hunter2");
    assert_both_refuse(&comment(b"hunter2\xff"), "a comment is not UTF-8", "hunter2");
    let tree = single("K", Node::scalar(Scalar::Str(SecretBytes::new(b"hunter2\xff".to_vec()))));
    assert_both_refuse(&tree, "is not UTF-8 text", "hunter2");
}

#[test]
fn several_documents_are_refused() {
    let document = || Document { items: vec![] };
    let tree = Tree { documents: vec![document(), document()] };
    assert_both_refuse(&tree, "a dotenv file holds one document, and this one has 2", "hunter2");
    let err =
        encrypt_as(b"a: 1\n---\nb: 2\n", Format::Yaml, Format::Dotenv, CipherKind::Aes256Gcm).unwrap_err();
    assert_eq!(err.exit_code(), 4);
}

#[test]
fn encrypting_refuses_what_it_could_not_give_back() {
    // The plaintext reads fine; its metadata-looking key is refused by
    // encryption itself (exit 203), before anything is written.
    let err = encrypt(b"sops_mac=hunter2\n", CipherKind::Aes256Gcm).unwrap_err();
    assert_eq!(err.exit_code(), 203);
    assert!(!err.to_string().contains("hunter2"));
}
