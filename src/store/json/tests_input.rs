//! Tests of hostile and malformed input: every error is a clear one with
//! the right exit code, names a position and quotes nothing; nesting is
//! bounded without ever exhausting the stack.

use super::tests::{leaves, meta, opts, parse_ok, show};
use super::*;
use crate::error::Error;
use crate::tree::{Document, Key, MapItem, Node, Pair, Scalar, SeqItem, Tree, Value};

fn parse_err(text: &[u8]) -> Error {
    match parse(text) {
        Ok(_) => panic!("parsed: {}", show(text)),
        Err(err) => err,
    }
}

/// The error is a parse error (exit 2), names a position, and quotes
/// nothing from the input.
fn assert_parse_error(text: &[u8], expect: &str, secret: &str) {
    let err = parse_err(text);
    let message = err.to_string();
    assert!(matches!(err, Error::Parse { .. }), "{message}");
    assert_eq!(err.exit_code(), 2);
    assert!(message.contains(expect), "{message:?} lacks {expect:?}");
    assert!(message.contains("line "), "{message}");
    assert!(!message.contains(secret), "{message} leaks {secret}");
}

#[test]
fn bad_input_gives_clear_errors() {
    let cases: &[(&[u8], &str, &str)] = &[
        (b"", "empty", "zz"),
        (b" \n\t", "empty", "zz"),
        (b"{\"pw\": \"hunter2", "string is not closed", "hunter2"),
        (b"{\"pw\": \"hunter2\"", "object is not closed", "hunter2"),
        (b"{\"pw\": [\"hunter2\"", "array is not closed", "hunter2"),
        (b"{\"pw\": \"hunter2\",", "end of input", "hunter2"),
        (b"{\"pw\": \"hunter2\",}", "object key", "hunter2"),
        (b"{\"pw\": [\"hunter2\",]}", "expected a value", "hunter2"),
        (b"{\"pw\" \"hunter2\"}", "expected ':'", "hunter2"),
        (b"{\"pw\": \"hunter2\"} trailing", "after the top-level object", "trailing"),
        (b"{\"pw\": \"hunter2\"}{}", "after the top-level object", "hunter2"),
        (b"{\"pw\": \"hun\\xter2\"}", "invalid escape", "hun"),
        (b"{\"pw\": \"hun\\u12G4\"}", "invalid escape", "hun"),
        (b"{\"pw\": \"hun\xffter2\"}", "invalid UTF-8", "hun"),
        (b"{\"pw\": \"hun\xed\xa0\x80ter2\"}", "invalid UTF-8", "hun"),
        (b"{\"pw\": \"hun\0ter2\"}", "control character", "hun"),
        (b"{\"pw\": \"hun\nter2\"}", "control character", "hun"),
        (b"{\"pw\":\0 1}", "expected a value", "pw"),
        (b"\xef\xbb\xbf{\"pw\": 1}", "expected a JSON object", "pw"),
        (b"{\"pw\": hunter2}", "expected a value", "hunter2"),
        (b"{\"pw\": tru}", "invalid literal", "pw"),
        (b"{\"pw\": 1e400}", "out of the range", "400"),
        (b"{\"pw\": -1e400}", "out of the range", "400"),
        (b"{\"pw\": 1.}", "digit after '.'", "hunter2"),
        (b"{\"pw\": 01}", "expected ',' or '}'", "01"),
        (b"{\"pw\": 1e}", "exponent", "hunter2"),
        (b"{\"pw\": -}", "expected a digit", "hunter2"),
        (b"{\"pw\": +1}", "expected a value", "+1"),
        (b"{\"pw\": .5}", "expected a value", ".5"),
        (b"{\"pw\": 0x10}", "expected ',' or '}'", "0x10"),
        (b"{\"pw\": NaN}", "expected a value", "NaN"),
        (b"{\"a\": 1 \"b\": 2}", "expected ',' or '}'", "zz"),
        (b"{\"a\": [1 2]}", "expected ',' or ']'", "zz"),
        (b"{\"a\": [1}", "expected ',' or ']'", "zz"),
        (b"{\"a\": {]}", "object key", "zz"),
        (b"{'a': 1}", "object key", "zz"),
        (b"{a: 1}", "object key", "zz"),
        (b"x", "expected a JSON object", "zz"),
    ];
    for (text, expect, secret) in cases {
        assert_parse_error(text, expect, secret);
    }
    // Big integer literals parse until a float cannot hold them.
    let digits = "9".repeat(400);
    assert_parse_error(format!("{{\"a\": {digits}}}").as_bytes(), "out of the range", "999");
    let (tree, _) = parse_ok(format!("{{\"a\": {}}}", "9".repeat(300)).as_bytes());
    assert!(matches!(tree.documents[0].get("a").unwrap().value, Value::Scalar(Scalar::BigInt(_))));
}

#[test]
fn error_positions_are_lines_and_characters() {
    let err = parse_err("{\n  \"é\": x\n}".as_bytes());
    assert!(err.to_string().contains("at line 2, column 8"), "{err}");
    assert_eq!(
        err.to_string(),
        "Error unmarshalling input json: unexpected character: expected a value at line 2, column 8"
    );
}

#[test]
fn top_level_must_be_an_object() {
    for (text, what) in [
        (&b"[1]"[..], "an array"),
        (b"  \"secret\"", "a string"),
        (b"12", "a number"),
        (b"true", "a boolean"),
        (b"null", "null"),
    ] {
        let err = parse_err(text);
        assert!(matches!(err, Error::Shape { .. }));
        assert_eq!(err.exit_code(), 2);
        assert_eq!(
            err.to_string(),
            format!("Error unmarshalling input json: Expected JSON object start, got {what} instead")
        );
        assert!(err.hint().is_some());
    }
}

#[test]
fn nesting_is_limited_without_overflowing_the_stack() {
    for open in [b'[', b'{'] {
        let mut text = b"{\"a\":".to_vec();
        for _ in 0..100_000 {
            text.push(open);
            if open == b'{' {
                text.extend_from_slice(b"\"a\":");
            }
        }
        let err = parse_err(&text);
        assert!(matches!(err, Error::LimitExceeded { .. }), "{err}");
        assert_eq!(err.exit_code(), 2);
    }
    // A truncated run of brackets is an error too, not a hang.
    assert!(parse(&[b'['; 100_000]).is_err());
}

/// `{"a": [[...[1]...]]}` with `depth` containers in all.
fn nested(depth: usize) -> Vec<u8> {
    let mut text = b"{\"a\":".to_vec();
    text.extend(std::iter::repeat_n(b'[', depth - 1));
    text.push(b'1');
    text.extend(std::iter::repeat_n(b']', depth - 1));
    text.push(b'}');
    text
}

#[test]
fn the_deepest_allowed_document_round_trips() {
    // Parse, emit and splice run on the test thread's small stack.
    let text = nested(MAX_DEPTH);
    let (mut tree, layout) = parse_ok(&text);
    let fresh = emit_fresh(&tree, None, &opts()).unwrap();
    let (again, _) = parse_ok(&fresh);
    drop(again);
    for leaf in leaves(&mut tree) {
        leaf.value = Value::Scalar(Scalar::str("x"));
        leaf.changed = true;
    }
    let spliced = emit_spliced(&tree, &layout, Some(&meta()), &opts()).unwrap();
    assert!(parse(&spliced).is_ok());
    // One level more is refused when read; trees from other formats may
    // be deeper when written, up to a limit of their own.
    let err = parse_err(&nested(MAX_DEPTH + 1));
    assert!(matches!(err, Error::LimitExceeded { .. }), "{err}");
    let mut deeper = Node::scalar(Scalar::Null);
    for _ in 0..MAX_EMIT_DEPTH {
        deeper = Node::seq(vec![SeqItem::Value(deeper)]);
    }
    let tree = Tree {
        documents: vec![Document { items: vec![MapItem::Pair(Pair { key: Key::new("a"), value: deeper })] }],
    };
    assert!(matches!(emit_fresh(&tree, None, &opts()), Err(Error::Emit(_))));
}
