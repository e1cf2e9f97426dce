//! Round trips through parse, walk and splice with a fixed data key.
use super::*;
use crate::cipher::{CipherKind, ValueCipher};
use crate::metadata::{EmptyList, Metadata};
use crate::ops::take_metadata;
use crate::secret::DataKey;
use crate::style::StyleMemory;
use crate::walk::{self, Selection};

fn key() -> DataKey {
    DataKey::from_slice(&[7u8; 32]).unwrap()
}

fn sample_metadata() -> Node {
    metadata_with(&crate::walk::SelectionRule::default(), false, None)
}

/// Metadata naming a dummy age key and `rule` (a placeholder MAC: the
/// tests that use it compare MACs, they do not check them).
pub(super) fn metadata_with(
    rule: &crate::walk::SelectionRule,
    mac_only_encrypted: bool,
    style_memory: Option<String>,
) -> Node {
    Metadata {
        key_groups: vec![vec![crate::keys::MasterKey::Age(crate::keys::age::AgeKey {
            recipient: "age1test".into(),
            enc: "-----BEGIN AGE ENCRYPTED FILE-----\nAAAA\n-----END AGE ENCRYPTED FILE-----\n".into(),
        })]],
        shamir_threshold: 0,
        last_modified: "2025-01-01T00:00:00Z".into(),
        mac: "ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]".into(),
        rule: Some((rule.field_name().into(), rule.value().into())),
        mac_only_encrypted,
        version: "3.11.0".into(),
        style_memory,
        unknown: Vec::new(),
    }
    .to_node(EmptyList::Brackets)
}

/// Encrypt `plain` with our splicing writer and style memory, decrypt the
/// result the same way, and return (encrypted text, decrypted text).
fn round_trip(plain: &str, kind: CipherKind) -> (String, String) {
    let options = StoreOptions::default();
    let cipher = ValueCipher::new(&key());
    let (mut tree, layout) = parse(plain.as_bytes()).expect("plaintext parses");
    let styled = styled_tokens(&tree, &layout, &options);
    let mac = walk::encrypt_tree(&mut tree, &Selection::default(), &cipher, kind, None).unwrap();
    let sealed = StyleMemory::bind(&tree, styled).seal(&cipher, kind);
    let encrypted = emit_spliced(&tree, &layout, Some(&sample_metadata()), &options).unwrap();
    let encrypted = String::from_utf8(encrypted).unwrap();
    let (mut tree, mut layout) = parse(encrypted.as_bytes()).expect("our output parses");
    take_metadata(&mut tree).expect("metadata is there");
    let (mac_back, warnings) = walk::decrypt_tree(&mut tree, &Selection::default(), &cipher, None).unwrap();
    assert_eq!(mac, mac_back);
    assert!(warnings.is_empty(), "comments that did not decrypt: {warnings:?}");
    if let Some(sealed) = sealed {
        layout.set_overrides(StyleMemory::open(&sealed, &cipher).texts_by_src(&tree));
    }
    let decrypted = String::from_utf8(emit_spliced(&tree, &layout, None, &options).unwrap()).unwrap();
    (encrypted, decrypted)
}

fn assert_round_trip(plain: &str) {
    for kind in [CipherKind::Aes256Gcm, CipherKind::XChaCha20Poly1305] {
        let (encrypted, decrypted) = round_trip(plain, kind);
        assert_eq!(decrypted, plain, "round trip changed the file; encrypted form:\n{encrypted}");
    }
}

#[test]
fn keeps_layout_comments_and_quoting() {
    assert_round_trip(
        "# head comment\n\nservice:\n  name: billing   # trailing\n  port: 8443\n  ratio: 0.5\n\n  # before tags\n  tags:\n    - a\n    - b # after b\n  nested: {k: v, list: [x, y]}\nempty: \"\"\nnothing: null\npublic_unencrypted: open\n",
    );
}

#[test]
fn keeps_multiple_documents_and_markers() {
    assert_round_trip("---\na: 1\n---\n# doc2\nb: two\n...\n---\nc: [x]\n");
}

#[test]
fn keeps_block_scalars() {
    assert_round_trip(
        "cert: |\n  line one\n  line two\nkeep: |+\n  text\n\nstrip: |-\n  no newline\nlast: x\n",
    );
}

#[test]
fn keeps_odd_scalars() {
    assert_round_trip(
        "q1: 'single'\nq2: \"double\"\nyes: yes\nhex: 0x1F\noct: 0777\nflt: 1.0\nexp: 1e3\ndate: 2024-01-01\ninf_value: .Inf\ntagged: !!str 123\nbin: !!binary aGVsbG8=\nfolded: >\n  a\n  b\nplainmulti: first\n  second\nuni: \"caf\\u00e9 \\U0001F680\"\nbig: 18446744073709551615\nneg: -0\nplus: +12\ntilde: ~\nempty:\n",
    );
}

#[test]
fn keeps_crlf_line_endings() {
    assert_round_trip("a: 1\r\nb:\r\n  c: two\r\n");
}

#[test]
fn encrypts_values_in_place() {
    let (encrypted, _) = round_trip("a: 1\nb:\n  - x\n  - {k: v}\n", CipherKind::Aes256Gcm);
    let lines: Vec<&str> = encrypted.lines().collect();
    assert!(lines[0].starts_with("a: ENC[AES256_GCM,data:"), "{encrypted}");
    assert!(lines[0].ends_with(",type:int]"));
    assert_eq!(lines[1], "b:");
    assert!(lines[2].starts_with("  - ENC[AES256_GCM,"));
    assert!(lines[3].starts_with("  - {k: \"ENC[AES256_GCM,"), "flow values are quoted: {}", lines[3]);
    assert_eq!(lines[4], "sops:");
}

#[test]
fn aliases_are_expanded_when_their_values_change() {
    let (encrypted, decrypted) = round_trip(
        "base: &b\n  user: u\nprod:\n  <<: *b\n  host: h\nscalar: &s v\ncopy: *s\n",
        CipherKind::Aes256Gcm,
    );
    assert!(!encrypted.contains("*b"), "{encrypted}");
    assert!(!encrypted.contains("*s"), "{encrypted}");
    assert!(decrypted.contains("<<: {user: u}"), "{decrypted}");
    assert!(decrypted.contains("copy: v"), "{decrypted}");
}

#[test]
fn comment_containers_follow_indentation() {
    let plain = "a:\n  b: 1\n  # foot of a\n# top\nc:\n  # head of d\n  d: 2\nl:\n  - x # on x\n  # before y\n  - y\n";
    let (mut tree, _) = parse(plain.as_bytes()).unwrap();
    // Encrypting with the path of each comment's container must let the
    // walk decrypt it with that same path first.
    let cipher = ValueCipher::new(&key());
    walk::encrypt_tree(&mut tree, &Selection::default(), &cipher, CipherKind::Aes256Gcm, None).unwrap();
    let items = &tree.documents[0].items;
    let map_comments = |node: &Node| match &node.value {
        crate::tree::Value::Map(items) => {
            items.iter().filter(|i| matches!(i, crate::tree::MapItem::Comment(_))).count()
        }
        crate::tree::Value::Seq(items) => {
            items.iter().filter(|i| matches!(i, crate::tree::SeqItem::Comment(_))).count()
        }
        _ => 0,
    };
    let top_comments = items.iter().filter(|i| matches!(i, crate::tree::MapItem::Comment(_))).count();
    assert_eq!(top_comments, 1, "only '# top' is at the top level");
    assert_eq!(map_comments(tree.documents[0].get("a").unwrap()), 1);
    assert_eq!(map_comments(tree.documents[0].get("c").unwrap()), 1);
    assert_eq!(map_comments(tree.documents[0].get("l").unwrap()), 2);
}

#[test]
fn rejects_bad_yaml_with_sops_exit_codes() {
    for (text, code) in [
        ("", 92),
        ("\n\n", 92),
        ("# only a comment\n", 2),
        ("- a\n- b\n", 2),
        ("just a string\n", 2),
        ("a: 1\na: 2\n", 2),
        ("a: [1, 2\n", 2),
        ("a: *nope\n", 2),
        ("a: \"unterminated\n", 2),
    ] {
        let err = parse(text.as_bytes()).err().unwrap_or_else(|| panic!("{text:?} parsed"));
        assert_eq!(err.exit_code(), code, "{text:?}: {err}");
    }
    let err = parse(b"a: \xff\n").unwrap_err();
    assert_eq!(err.exit_code(), 2);
}

/// Found by fuzzing: a collection in key position reached `complete` with
/// no key pending and panicked. sops refuses these with exit 2 too.
#[test]
fn collections_as_mapping_keys_are_refused_not_a_panic() {
    for text in ["{}:", "[a, b]: x\n", "a: 1\n? {k: v}\n: x\n", "x: {[1]: 2}\n", "? - a\n"] {
        let err = parse(text.as_bytes()).err().unwrap_or_else(|| panic!("{text:?} parsed"));
        assert_eq!(err.exit_code(), 2, "{text:?}: {err}");
        assert!(err.to_string().contains("cannot be a mapping key"), "{text:?}: {err}");
    }
}

/// Found by fuzzing: a comment left pending after a nested sequence was
/// written between `k:` and its `{}`, which then started a line at the
/// key's column and the output did not parse. It is indented as a value.
#[test]
fn fresh_output_with_a_comment_before_an_empty_collection_parses() {
    for text in ["b:\n-\n#\n -\nk: {}\n", "b:\n-\n#\n -\n- []\n", "a:\n  b:\n  -\n  #\n   -\n  k: []\nz: 1\n"]
    {
        let (tree, _) = parse(text.as_bytes()).unwrap();
        let fresh = emit_fresh(&tree, None, &StoreOptions::default()).unwrap();
        let (again, _) = parse(&fresh)
            .unwrap_or_else(|e| panic!("{text:?} wrote {:?}: {e}", String::from_utf8_lossy(&fresh)));
        assert_eq!(again.documents[0].items.len(), tree.documents[0].items.len());
    }
}

#[test]
fn alias_bombs_are_stopped() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!("a{i}: &a{i} [{}]\n", [prev.as_str(); 10].join(", ")));
    }
    let err = parse(text.as_bytes()).expect_err("the bomb is refused");
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("alias"), "{err}");
}

/// Regression: each anchor nests the previous alias 190 levels down, so
/// 80 KB of text expanded into a tree 38,000 levels deep and the walk
/// overflowed the stack (exit 134). Expansion now obeys the nesting limit.
#[test]
fn aliases_cannot_nest_past_the_depth_limit() {
    let depth = 190;
    let mut text = format!("x0: &x0 {}leaf{}\n", "[".repeat(depth), "]".repeat(depth));
    for i in 1..200 {
        text.push_str(&format!("x{i}: &x{i} {}*x{}{}\n", "[".repeat(depth), i - 1, "]".repeat(depth)));
    }
    let err = parse(text.as_bytes()).expect_err("the expansion is refused");
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("alias expands to nesting deeper than 200"), "{err}");
    // Aliases of shallow anchors inside deep-ish structures still work.
    let fine = format!("a: &a {{b: [1, 2]}}\nc: {}*a{}\n", "[".repeat(150), "]".repeat(150));
    assert!(parse(fine.as_bytes()).is_ok());
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = "[".repeat(100_000);
    assert_eq!(parse(format!("a: {deep}").as_bytes()).unwrap_err().exit_code(), 2);
    let mut block = String::new();
    for i in 0..100_000 {
        block.push_str(&" ".repeat(i.min(5000)));
        block.push_str("k:\n");
    }
    assert!(parse(block.as_bytes()).is_err());
}

#[test]
fn sops_block_is_found_and_removed() {
    let text = "a: 1\nsops:\n    age: []\n    lastmodified: \"2025-01-01T00:00:00Z\"\n    version: 3.11.0\n";
    let (mut tree, layout) = parse(text.as_bytes()).unwrap();
    assert_eq!(layout.documents[0].sops_range, Some(5..text.len()));
    tree.documents[0].items.retain(|i| !matches!(i, crate::tree::MapItem::Pair(p) if p.key.name == "sops"));
    let out = emit_spliced(&tree, &layout, None, &StoreOptions::default()).unwrap();
    assert_eq!(out, b"a: 1\n");
}

fn top_pair<'a>(tree: &'a mut crate::tree::Tree, name: &str) -> &'a mut Node {
    tree.documents[0]
        .items
        .iter_mut()
        .find_map(|i| match i {
            crate::tree::MapItem::Pair(p) if p.key.name == name => Some(&mut p.value),
            _ => None,
        })
        .unwrap()
}

fn new_pair(name: &str, value: Node) -> crate::tree::MapItem {
    crate::tree::MapItem::Pair(crate::tree::Pair { key: crate::tree::Key::new(name), value })
}

fn splice_after(text: &str, change: impl FnOnce(&mut crate::tree::Tree)) -> String {
    let (mut tree, layout) = parse(text.as_bytes()).unwrap();
    change(&mut tree);
    String::from_utf8(emit_spliced(&tree, &layout, None, &StoreOptions::default()).unwrap()).unwrap()
}

#[test]
fn structural_changes_touch_only_their_lines() {
    use crate::tree::{MapItem, Scalar, SeqItem, Value};
    let text = "# head\na: 1   # keep me\nb:\n  c: 2\n  d: 3\nl:\n  - x\n  - y\nf: {p: 1, q: 2}\nz: last\n";
    // Add a top-level key: appended after the last pair.
    let out =
        splice_after(text, |t| t.documents[0].items.push(new_pair("new", Node::scalar(Scalar::str("v")))));
    assert_eq!(out, format!("{text}new: v\n"));
    // Add a nested key: after `d`, at the mapping's indentation.
    let out = splice_after(text, |t| {
        let Value::Map(items) = &mut top_pair(t, "b").value else { panic!() };
        items.push(new_pair("e", Node::scalar(Scalar::Int(4))));
    });
    assert_eq!(out, text.replace("  d: 3\n", "  d: 3\n  e: 4\n"));
    // Remove a key: its line goes, the rest stays.
    let out = splice_after(text, |t| {
        let Value::Map(items) = &mut top_pair(t, "b").value else { panic!() };
        items.retain(|i| !matches!(i, MapItem::Pair(p) if p.key.name == "c"));
    });
    assert_eq!(out, text.replace("  c: 2\n", ""));
    // Replace a scalar by a mapping: that pair is written again.
    let out = splice_after(text, |t| {
        *top_pair(t, "z") = Node::map(vec![new_pair("k", Node::scalar(Scalar::str("v")))]);
    });
    assert_eq!(out, text.replace("z: last\n", "z:\n    k: v\n"));
    // Append to and remove from a list.
    let out = splice_after(text, |t| {
        let Value::Seq(items) = &mut top_pair(t, "l").value else { panic!() };
        items.remove(0);
        items.push(SeqItem::Value(Node::scalar(Scalar::str("w"))));
    });
    assert_eq!(out, text.replace("  - x\n  - y\n", "  - y\n  - w\n"));
    // A flow mapping that gains a key is written again on its line.
    let out = splice_after(text, |t| {
        let Value::Map(items) = &mut top_pair(t, "f").value else { panic!() };
        items.push(new_pair("r", Node::scalar(Scalar::Int(3))));
    });
    assert_eq!(out, text.replace("f: {p: 1, q: 2}", "f: {p: 1, q: 2, r: 3}"));
    // Removing the last top-level key of a file without a final newline.
    let out = splice_after("a: 1\nb: 2", |t| {
        t.documents[0].items.push(new_pair("c", Node::scalar(Scalar::Int(3))))
    });
    assert_eq!(out, "a: 1\nb: 2\nc: 3\n");
}

/// Edits come in source order but for a few cases, which the splicer
/// sorts: these outputs come from that second pass.
#[test]
fn edits_out_of_source_order_are_sorted_before_writing() {
    use crate::tree::{MapItem, Scalar, Value};
    fn change(node: &mut Node, value: i64) {
        node.value = Value::Scalar(Scalar::Int(value));
        node.changed = true;
    }
    // A `sops` block before the last key: dropping it is the last edit.
    let out = splice_after("a: 1\nsops:\n    version: 3.11.0\nb: 2\n", |t| {
        t.documents[0].items.retain(|i| !matches!(i, MapItem::Pair(p) if p.key.name == "sops"));
        change(top_pair(t, "b"), 3);
    });
    assert_eq!(out, "a: 1\nb: 3\n");
    // A removed key's lines go after the keys that follow it are edited.
    let out = splice_after("a: 1\nb: 2\nc: 3\n# end\n", |t| {
        t.documents[0].items.retain(|i| !matches!(i, MapItem::Pair(p) if p.key.name == "b"));
        change(top_pair(t, "a"), 0);
        change(top_pair(t, "c"), 4);
    });
    assert_eq!(out, "a: 0\nc: 4\n# end\n");
}

proptest::proptest! {
    /// The envelope test reads bytes from the end and without early exits;
    /// it accepts exactly what the plain definition does.
    #[test]
    fn envelope_test_is_the_plain_definition(
        body in "[A-Za-z0-9+/=,:_ \t\"'#\\\\\\]\\[]{0,60}",
        with_type in proptest::bool::ANY,
        at in 0usize..60,
    ) {
        let mut body = body;
        if with_type {
            let at = at.min(body.len());
            body.insert_str(at, ",type:");
        }
        for text in [format!("ENC[{body}]"), format!("ENC[{body}"), body.clone()] {
            let plain_definition = text.starts_with("ENC[")
                && text.ends_with(']')
                && text.contains(",type:")
                && !text.bytes().any(|b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'#' | b'\\'));
            proptest::prop_assert_eq!(super::splice::is_envelope_text(&text), plain_definition, "{:?}", text);
        }
    }
}

proptest::proptest! {
    /// The shortcut that skips the emitter for simple plain values agrees
    /// with the emitter: whatever it accepts is written back as it was.
    #[test]
    fn plain_shortcut_agrees_with_the_emitter(
        text in "[A-Za-z0-9][A-Za-z0-9_./ -]{0,90}|y|n|yes|No|ON|off|true|false|True|FALSE|null|1e3|0x1F|12|1_000|.5|-?[0-9]{1,20}|[-+]0|0o17|-9223372036854775808",
        column in 0usize..40,
    ) {
        if let Some(resolved) = match super::resolve::resolve_plain(&text) {
            super::resolve::Resolved::Scalar(scalar) => Some(scalar),
            _ => None,
        } && super::plain_as_written::is_plain_as_written(&resolved, &text, column + 3)
        {
            // As the value of a key that ends where the token starts.
            let key = "k".repeat(column + 1);
            let document = format!("{key}: {text}\n");
            let (tree, layout) = parse(document.as_bytes()).unwrap();
            let rendered = super::splice::rendered_text(&layout, tree.documents[0].items.iter().find_map(|i| match i {
                crate::tree::MapItem::Pair(p) => Some(p.value.src),
                _ => None,
            }).unwrap(), &resolved, &crate::store::StoreOptions::default());
            proptest::prop_assert_eq!(rendered.as_deref(), Some(text.as_str()));
        }
    }

    /// The decrypt-side shortcut agrees with the emitter, in block and flow
    /// context, at any column.
    #[test]
    fn plain_without_analysis_agrees_with_the_emitter(
        text in "[A-Za-z0-9][A-Za-z0-9_./-]{0,100}|y|n|yes|No|ON|off|true|null|1e3|0x1F|12|1_000|.5|2001-12-14|1:20|.inf|0o17",
        parent_column in 0usize..60,
        flow in proptest::bool::ANY,
    ) {
        if super::plain_as_written::is_plain_without_analysis(&text) {
            let ctx = super::emit::ScalarContext { flow, block_indent: parent_column + 2, is_key: false, parent_column };
            let emitted = super::emit_scalar::render_scalar(&crate::tree::Scalar::str(&text), &ctx);
            proptest::prop_assert_eq!(emitted, text);
        }
    }

    /// Numbers, booleans, null and times skip the emitter; it would have
    /// written the same text.
    #[test]
    fn non_strings_without_analysis_agree_with_the_emitter(
        int in proptest::num::i64::ANY,
        float in proptest::num::f64::ANY,
        parent_column in 0usize..60,
        flow in proptest::bool::ANY,
    ) {
        let time = crate::timestamp::Timestamp::parse_rfc3339("2024-05-06T07:08:09.5+02:00").unwrap();
        for scalar in [
            crate::tree::Scalar::Int(int),
            crate::tree::Scalar::Float(float),
            crate::tree::Scalar::Float(f64::INFINITY),
            crate::tree::Scalar::Float(f64::NAN),
            crate::tree::Scalar::Bool(int % 2 == 0),
            crate::tree::Scalar::Null,
            crate::tree::Scalar::Time(time),
        ] {
            let ctx = super::emit::ScalarContext { flow, block_indent: parent_column + 2, is_key: false, parent_column };
            let emitted = super::emit_scalar::render_scalar(&scalar, &ctx);
            if let Some(text) = super::emit_scalar::plain_text(&scalar).filter(|t| !t.contains([' ', '\n'])) {
                proptest::prop_assert_eq!(emitted, text);
            }
        }
    }
}

/// Duplicate keys are found by hash and confirmed by name: a repeat
/// anywhere in one mapping is refused with its line, in both readers (the
/// block reader and granit for flow style); the same key in different
/// mappings, or keys that differ only in quoting style, are not repeats.
#[test]
fn duplicate_keys_are_refused_only_within_one_mapping() {
    let refused = [
        ("a: 1\nb: 2\nc: 3\na: 4\n", 4),
        ("x:\n  k: 1\n  j: 2\n  k: 3\n", 4),
        ("x: {k: 1, j: 2, k: 3}\n", 1),
        ("a: 1\n'a': 2\n", 2),
        ("l:\n- m: 1\n  n: 2\n  m: 3\n", 4),
    ];
    for (text, line) in refused {
        let message = parse::parse(text.as_bytes()).unwrap_err().to_string();
        assert!(message.contains("already defined"), "{text:?}: {message}");
        assert!(message.contains(&format!("duplicate at line {line}")), "{text:?}: {message}");
    }
    let accepted = [
        "a: 1\nb:\n  a: 2\nc:\n  a: 3\n",
        "l:\n- a: 1\n- a: 2\n",
        "x: {k: 1}\ny: {k: 2}\n",
        "a: 1\nA: 2\n\"a \": 3\n",
    ];
    for text in accepted {
        parse::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    }
}

#[test]
fn parse_owned_keeps_the_given_bytes_as_the_source_without_a_copy() {
    let input = crate::secret::SecretVec::new(b"a: 1 # one\nb: [2, 3]\n".to_vec());
    let address = input.as_ptr();
    let (tree, layout) = super::parse_owned(input).unwrap();
    assert_eq!(layout.source.as_ptr(), address);
    // And it reads the same as the copying entry point.
    let (copied_tree, copied_layout) = super::parse(b"a: 1 # one\nb: [2, 3]\n").unwrap();
    assert_eq!(format!("{tree:?}"), format!("{copied_tree:?}"));
    assert_eq!(format!("{:?}", layout.entries), format!("{:?}", copied_layout.entries));
}

#[test]
fn parse_owned_names_where_utf8_breaks() {
    let err = super::parse_owned(crate::secret::SecretVec::new(b"a: 1\nb: x\xffy\n".to_vec())).unwrap_err();
    assert!(err.to_string().contains("invalid UTF-8 at line 2, column 5"), "{err}");
}

/// The layout's records, one per token and one per collection entry, stay
/// small: at 48 and 40 bytes they were the largest parts of a 10 MB file's
/// peak memory after the input.
#[test]
fn layout_records_stay_small() {
    use std::mem::size_of;
    let sizes = (size_of::<super::layout::SrcEntry>(), size_of::<super::layout::OriginalEntry>());
    assert!(sizes.0 <= 24 && sizes.1 <= 20, "position, original entry: {sizes:?}");
}
