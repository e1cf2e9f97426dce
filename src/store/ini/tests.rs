//! Tests of the INI store against outputs recorded from sops 3.11.0: the
//! interop vectors, the spec fixtures and `tests/data/ini/`, decrypted for
//! real through `ops`, plus the tree the reader builds.

use super::*;
use crate::cipher::CipherKind;
use crate::env::Environment;
use crate::error::Error;
use crate::keys::age::AgeKey;
use crate::keys::{KeyServices, MasterKey};
use crate::ops::{self, DecryptRequest, EncryptRequest};
use crate::secret::SecretBytes;
use crate::store::{Format, StoreOptions};
use crate::tree::{MapItem, Scalar, Value};

pub(super) fn read(path: &str) -> Vec<u8> {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn case(name: &str, file: &str) -> Vec<u8> {
    read(&format!("fixtures/sops-3.11/cases/{name}/{file}"))
}

pub(super) fn data(file: &str) -> Vec<u8> {
    read(&format!("tests/data/ini/{file}"))
}

pub(super) fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub(super) fn opts() -> StoreOptions {
    StoreOptions::default()
}

/// The age identity file of the interop vectors (`age1.txt`) and its
/// recipient.
pub(super) fn vector_key() -> (String, String) {
    key_file("fixtures/sops-3.11/keys/age1.txt")
}

pub(super) fn key_file(path: &str) -> (String, String) {
    let text = show(&read(path));
    let recipient = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("age-keygen files name their public key")
        .to_owned();
    (text, recipient)
}

pub(super) fn services(identity: &str) -> KeyServices {
    KeyServices::new(Environment::empty().with("SOPS_AGE_KEY", identity))
}

pub(super) fn decrypt(input: &[u8], identity: &str) -> crate::error::Result<Vec<u8>> {
    let request = DecryptRequest {
        input_format: Format::Ini,
        output_format: Format::Ini,
        ignore_mac: false,
        extract: None,
        decryption_order: Default::default(),
        store_options: opts(),
    };
    ops::decrypt(input, request, &services(identity)).map(|d| d.output.to_vec())
}

pub(super) fn encrypt(input: &[u8], recipient: &str, cipher: CipherKind) -> crate::error::Result<Vec<u8>> {
    let request = EncryptRequest {
        input_format: Format::Ini,
        output_format: Format::Ini,
        key_groups: vec![vec![MasterKey::Age(AgeKey::new(recipient).expect("a valid recipient"))]],
        shamir_threshold: 0,
        rule: None,
        mac_only_encrypted: false,
        cipher,
        store_options: opts(),
    };
    ops::encrypt(input, request, &KeyServices::new(Environment::empty()))
}

pub(super) fn parse_ok(text: &[u8]) -> (Tree, Layout) {
    parse(text).unwrap_or_else(|e| panic!("parse failed: {e}"))
}

/// The tree as a compact description: `[section] key=value #comment`.
pub(super) fn describe(tree: &Tree) -> String {
    let mut out = String::new();
    for item in &tree.documents[0].items {
        let MapItem::Pair(section) = item else { continue };
        out.push_str(&format!("[{}]", section.key.name));
        let Value::Map(items) = &section.value.value else {
            out.push_str(" <not a section>\n");
            continue;
        };
        for item in items {
            match item {
                MapItem::Pair(pair) => {
                    let value = match &pair.value.value {
                        Value::Scalar(Scalar::Str(s)) => show(s.as_bytes()),
                        other => format!("{other:?}"),
                    };
                    out.push_str(&format!(" {}={:?}", pair.key.name, value));
                }
                MapItem::Comment(comment) => out.push_str(&format!(" #{:?}", show(comment.text.as_bytes()))),
            }
        }
        out.push('\n');
    }
    out
}

#[test]
fn vectors_decrypt_to_sops_output_byte_for_byte() {
    let (identity, _) = vector_key();
    let basic = decrypt(&case("ini_basic", "enc.ini"), &identity).unwrap();
    assert_eq!(show(&basic), show(&case("ini_basic", "dec.ini")));
    let canonical = decrypt(&case("ini_canonical", "enc.ini"), &identity).unwrap();
    assert_eq!(show(&canonical), show(&case("ini_canonical", "plain.ini")));
}

#[test]
fn spec_fixtures_decrypt_to_sops_output_byte_for_byte() {
    let (identity, _) = key_file("fixtures/spec/keys/age-key1.txt");
    let sections = decrypt(&read("fixtures/spec/sops/sections.ini"), &identity).unwrap();
    assert_eq!(show(&sections), show(&read("fixtures/spec/expected/sops-sections.ini")));
    let crafted = decrypt(&read("fixtures/spec/crafted/exE.ini"), &identity).unwrap();
    assert_eq!(show(&crafted), show(&read("fixtures/spec/expected/crafted-exE.ini")));
}

#[test]
fn the_wrong_key_cannot_decrypt() {
    let (identity, _) = key_file("fixtures/sops-3.11/keys/age2.txt");
    let err = decrypt(&case("ini_basic", "enc.ini"), &identity).unwrap_err();
    assert_eq!(err.exit_code(), 128, "{err}");
}

/// Remove the comments after the last key of the file, which go-ini drops
/// and we keep.
pub(super) fn without_trailing_comments(tree: &mut Tree, layout: &Layout) {
    for item in &mut tree.documents[0].items {
        let MapItem::Pair(section) = item else { continue };
        let Value::Map(items) = &mut section.value.value else { continue };
        items.retain(|item| match item {
            MapItem::Comment(c) => !matches!(
                layout.entry(c.src),
                Some(Entry::Comment(CommentEntry { owner: CommentOwner::Trailing, .. }))
            ),
            MapItem::Pair(_) => true,
        });
    }
}

/// `plain` emitted fresh is what sops prints for it (after encrypting and
/// decrypting it).
fn check_fresh(plain: &[u8], sops_output: &[u8]) {
    let (mut tree, layout) = parse_ok(plain);
    without_trailing_comments(&mut tree, &layout);
    let fresh = emit_fresh(&tree, None, &opts()).unwrap();
    assert_eq!(show(&fresh), show(sops_output), "tree: {}", describe(&tree));
}

#[test]
fn fresh_emission_is_what_sops_prints() {
    check_fresh(&case("ini_basic", "plain.ini"), &case("ini_basic", "dec.ini"));
    check_fresh(&case("ini_canonical", "plain.ini"), &case("ini_canonical", "plain.ini"));
    check_fresh(&read("fixtures/spec/plain/sections.ini"), &read("fixtures/spec/expected/sops-sections.ini"));
    check_fresh(
        &read("fixtures/spec/expected/crafted-exE.ini"),
        &read("fixtures/spec/expected/crafted-exE.ini"),
    );
    // Inputs probed with sops 3.11: what `sops decrypt` printed for sops's
    // own encryption of each.
    for name in ["quirks", "multiline", "crlf", "sections", "duplicates", "empty-default"] {
        check_fresh(&data(&format!("{name}.ini")), &data(&format!("{name}.sops.ini")));
    }
}

#[test]
fn reads_the_tree_sops_reads() {
    let (tree, _) = parse_ok(&case("ini_basic", "plain.ini"));
    assert_eq!(
        describe(&tree),
        "[DEFAULT]\n\
         [DEFAULT] #\"top comment\" timeout=\"30\" owner=\"root\"\n\
         [database] host=\"db.internal.example\" #\"hash comment\" port=\"5432\" password=\"s3cr3t!\" empty=\"\"\n\
         [server \"web\"] name=\"web01\" ratio=\"0.75\"\n"
    );
    // Comment lines before a key and its inline comment are one comment,
    // after the key; a header's comment is the section's first entry.
    let (tree, _) = parse_ok(&read("fixtures/spec/plain/sections.ini"));
    assert_eq!(
        describe(&tree),
        "[DEFAULT] top=\"level\" #\"global comment\"\n\
         [section1] key1=\"value1\" #\"section comment\\n; not a comment?\" key2=\"quoted\" num=\"42\" \
         secret_unencrypted=\"open\"\n\
         [section2] a=\"b\" c=\"d\" #\"trailing comment\"\n"
    );
}

#[test]
fn reads_values_as_go_ini_reads_them() {
    let (tree, _) = parse_ok(&data("quirks.ini"));
    assert_eq!(show(&data("quirks.tree")), describe(&tree));
    let (tree, _) = parse_ok(&data("multiline.ini"));
    assert_eq!(show(&data("multiline.tree")), describe(&tree));
}

#[test]
fn the_metadata_section_becomes_the_sops_entry() {
    let (tree, layout) = parse_ok(&case("ini_basic", "enc.ini"));
    let sops = tree.top_level("sops").expect("a sops entry");
    let metadata = crate::metadata::Metadata::from_node(sops).unwrap();
    assert_eq!(metadata.version, "3.11.0");
    assert_eq!(metadata.last_modified, "2026-11-22T19:15:05Z");
    assert_eq!(metadata.key_groups.len(), 1);
    let range = layout.sops_section().unwrap();
    assert!(show(&layout.text[range.clone()]).starts_with("[sops]\n"));
    assert_eq!(range.end, layout.text.len());
}

#[test]
fn a_plaintext_with_a_sops_section_is_already_encrypted() {
    let (_, recipient) = vector_key();
    let err = encrypt(b"a = 1\n[sops]\nversion = 1\n", &recipient, CipherKind::Aes256Gcm).unwrap_err();
    assert!(matches!(err, Error::AlreadyEncrypted), "{err}");
    assert_eq!(err.exit_code(), 203);
}

#[test]
fn top_level_values_cannot_be_written() {
    let (tree, _) = crate::store::json::parse(br#"{"top": "x"}"#).unwrap();
    let err = emit_fresh(&tree, None, &opts()).unwrap_err();
    assert_eq!(err.exit_code(), 4);
    assert!(err.to_string().contains("Section values should always be TreeBranches"), "{err}");
    let (tree, _) = crate::store::json::parse(br#"{"s": {"m": {"x": "hunter2"}}}"#).unwrap();
    let err = emit_fresh(&tree, None, &opts()).unwrap_err();
    assert_eq!(err.exit_code(), 4);
    assert!(!err.to_string().contains("hunter2"), "{err}");
    let (tree, _) = crate::store::json::parse(br#"{"": {"a": "1"}}"#).unwrap();
    assert!(emit_fresh(&tree, None, &opts()).unwrap_err().to_string().contains("empty section name"));
    let (tree, _) = crate::store::json::parse(br#"{"s": {"": "1"}}"#).unwrap();
    assert!(emit_fresh(&tree, None, &opts()).unwrap_err().to_string().contains("empty key name"));
}

#[test]
fn converted_trees_are_written_as_sops_writes_them() {
    // Recorded from `sops decrypt --output-type ini` of sops's encryption of
    // each JSON or YAML input.
    let cases: &[(&[u8], &str)] = &[
        (br#"{"default": {"a": "1"}, "DEFAULT": {"b": "2"}, "x": {}}"#, "a = 1\n\n[DEFAULT]\nb = 2\n\n[x]\n"),
        (br#"{"x": {}, "DEFAULT": {}, "y": {"a":"1"}}"#, "[x]\n\n[DEFAULT]\n\n[y]\na = 1\n"),
        (br#"{"DEFAULT": {}, "y": {}}"#, "[y]\n"),
        // (sops 3.11 reads the JSON number 5 as the float 5.0 and writes
        // `5.0`; our JSON store reads integers as integers, written `5`.)
        (
            br#"{"s": {"f": 1.5, "f2": 1e21, "f3": 2.0, "b": true, "n": null, "e": ""}}"#,
            "[s]\nf  = 1.5\nf2 = 1E+21\nf3 = 2.0\nb  = true\nn  = <nil>\ne  = \n",
        ),
    ];
    for (json, expected) in cases {
        let (tree, _) = crate::store::json::parse(json).unwrap();
        assert_eq!(show(&emit_fresh(&tree, None, &opts()).unwrap()), *expected);
    }
    let (tree, _) = crate::store::json::parse(&data("keys-and-values.json")).unwrap();
    // Byte for byte what sops wrote, except the keys starting with `#`, `;`
    // or `[`, which sops writes bare (and then reads as a comment or a
    // broken section header) and we backquote (see render::key_token).
    let sops_wrote = show(&data("keys-and-values.sops.ini"));
    let expected = sops_wrote
        .replace("\n#k5       = v", "\n`#k5`     = v")
        .replace("\n;k6       = v", "\n`;k6`     = v")
        .replace("\n[k8]      = v", "\n`[k8]`    = v");
    assert_ne!(expected, sops_wrote);
    assert_eq!(show(&emit_fresh(&tree, None, &opts()).unwrap()), expected);
    // YAML comments: a section's first comment goes before its header as
    // it is; a later one replaces the comment of the key before it.
    let yaml = b"# c0\nDEFAULT:\n    # c1\n    a: x\ny:\n    # c2\n    b: 2\n    # c3\n    c: 3\n    # c4\n    # c5\n";
    let (tree, _) = crate::store::yaml::parse(yaml).unwrap();
    assert_eq!(
        show(&emit_fresh(&tree, None, &opts()).unwrap()),
        ";  c1\na = x\n\n;  c2\n[y]\n; c3\nb = 2\n; c5\nc = 3\n"
    );
}

#[test]
fn extracted_values_are_json_as_sops_prints_them() {
    // Recorded from `sops decrypt --extract '["s"]["x"]' --output-type ini`.
    let yaml =
        b"s:\n  i: 5\n  f: 1.5\n  b: true\n  l: [a, 1, {x: y}]\n  n: null\n  t: 2024-01-01\n  str: \"x<y\"\n";
    let (tree, _) = crate::store::yaml::parse(yaml).unwrap();
    let section = tree.top_level("s").unwrap();
    let Value::Map(items) = &section.value else { panic!() };
    let value = |name: &str| show(&emit_value(crate::tree::map_get(items, name).unwrap(), &opts()).unwrap());
    assert_eq!(value("i"), "5");
    assert_eq!(value("f"), "1.5");
    assert_eq!(value("b"), "true");
    assert_eq!(value("l"), r#"["a",1,[{"Key":"x","Value":"y"}]]"#);
    assert_eq!(value("n"), "null");
    assert_eq!(value("t"), "\"2024-01-01T00:00:00Z\"");
    assert_eq!(value("str"), "\"x\\u003cy\"");
}

/// The items of section number `index` of a parsed tree.
fn section_items(tree: &mut Tree, index: usize) -> &mut Vec<MapItem> {
    let MapItem::Pair(section) = &mut tree.documents[0].items[index] else { panic!("not a section") };
    let Value::Map(items) = &mut section.value.value else { panic!("not a mapping") };
    items
}

fn new_pair(key: &str, value: &str) -> MapItem {
    MapItem::Pair(crate::tree::Pair {
        key: crate::tree::Key::new(key),
        value: Node::scalar(Scalar::str(value)),
    })
}

#[test]
fn added_and_removed_entries_are_spliced_in_and_out() {
    let text = b"a = 1\n[s]\nb = 2 ; c\nc = 3\n";
    let splice = |edit: &dyn Fn(&mut Tree)| {
        let (mut tree, layout) = parse_ok(text);
        edit(&mut tree);
        show(&emit_spliced(&tree, &layout, None, &opts()).unwrap())
    };
    // Remove a key with its comment.
    assert_eq!(splice(&|t| drop(section_items(t, 1).drain(0..2))), "a = 1\n[s]\nc = 3\n");
    // Remove a key, keep its comment: the inline part goes with the line.
    assert_eq!(splice(&|t| drop(section_items(t, 1).remove(0))), "a = 1\n[s]\nc = 3\n");
    // Add a key at the end of a section, with a comment after it in the
    // tree (written above it, where go-ini reads it as its comment).
    assert_eq!(
        splice(&|t| {
            section_items(t, 1).push(new_pair("d", "x;y"));
            section_items(t, 1)
                .push(MapItem::Comment(crate::tree::Comment::new(SecretBytes::from_text("new"))));
        }),
        "a = 1\n[s]\nb = 2 ; c\nc = 3\n; new\nd = `x;y`\n"
    );
    // Add a section; remove one; remove the keys before the first header.
    let added = |t: &mut Tree| {
        let section = Node::map(vec![new_pair("k", "v")]);
        let pair = crate::tree::Pair { key: crate::tree::Key::new("t"), value: section };
        t.documents[0].items.push(MapItem::Pair(pair));
    };
    assert_eq!(splice(&added), "a = 1\n[s]\nb = 2 ; c\nc = 3\n\n[t]\nk = v\n");
    assert_eq!(splice(&|t| drop(t.documents[0].items.remove(1))), "a = 1\n");
    assert_eq!(splice(&|t| drop(t.documents[0].items.remove(0))), "[s]\nb = 2 ; c\nc = 3\n");
    // A file without a final line break.
    let (mut tree, layout) = parse_ok(b"[s]\nb = 2");
    section_items(&mut tree, 1).push(new_pair("d", "4"));
    assert_eq!(show(&emit_spliced(&tree, &layout, None, &opts()).unwrap()), "[s]\nb = 2\nd = 4\n");
}

#[test]
fn changed_values_keep_their_place_and_read_back() {
    let text = b"[s]\nk   =   old   ; note\nempty =\nq = \"  x  \"\n";
    let (mut tree, layout) = parse_ok(text);
    for item in section_items(&mut tree, 1).iter_mut() {
        if let MapItem::Pair(pair) = item {
            pair.value.value = Value::Scalar(Scalar::str(" new;value "));
            pair.value.changed = true;
        }
    }
    let out = emit_spliced(&tree, &layout, None, &opts()).unwrap();
    assert_eq!(show(&out), "[s]\nk   =   ` new;value `   ; note\nempty = ` new;value `\nq = ` new;value `\n");
    let (again, _) = parse_ok(&out);
    assert_eq!(describe(&again).matches("k=\" new;value \"").count(), 1, "{}", describe(&again));
}

/// Found by fuzzing: go-ini writes the value `"""` as it is, and reads that
/// line back as the start of a `"""`-quoted value that never closes. sops
/// prints the same line when decrypting such a value, so we print it too
/// (compatibility over repair); the gap is pinned here so that a change to
/// either side is a decision, not an accident.
#[test]
fn a_value_of_three_double_quotes_does_not_read_back_as_in_go_ini() {
    let parsed = crate::store::parse_plain(Format::Ini, b"a=\"\"\"").unwrap();
    let fresh = crate::store::emit(Format::Ini, &parsed.tree, None, None, &StoreOptions::default()).unwrap();
    assert_eq!(fresh, b"a = \"\"\"\n");
    let Err(error) = crate::store::parse_plain(Format::Ini, &fresh) else { panic!("it read back") };
    assert!(error.to_string().contains("line 1: a quoted value is not closed"), "{error}");
}

/// Found by fuzzing: keys that differ only in surrounding spaces are
/// distinct in a tree converted from JSON or YAML but the same key to
/// go-ini, which trims every key, quoted or not. The written file then has
/// a repeated key, which our reader refuses (exit 2) rather than keep one.
#[test]
fn keys_differing_only_in_surrounding_spaces_collide_as_in_go_ini() {
    let (tree, _) = crate::store::json::parse(br#"{"s": {"a": "1", " a": "2"}}"#).unwrap();
    let fresh = emit_fresh(&tree, None, &opts()).unwrap();
    let Err(error) = crate::store::parse_plain(Format::Ini, &fresh) else { panic!("it read back") };
    assert!(error.to_string().contains("is defined twice"), "{error}");
    assert_eq!(error.exit_code(), 2);
}
