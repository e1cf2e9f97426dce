//! Tests of the dotenv store against outputs recorded from sops 3.11.0 (the
//! interop fixtures and the spec fixtures), real encrypt/decrypt round trips
//! through the library, and the splicing writer's handling of edits.

use super::*;
use crate::cipher::CipherKind;
use crate::env::Environment;
use crate::error::{Error, Result};
use crate::keys::group::DecryptionOrder;
use crate::keys::{KeyServices, MasterKey, age::AgeKey};
use crate::ops::{self, DecryptRequest, EncryptRequest};
use crate::secret::SecretBytes;
use crate::store::{Format, StoreOptions};
use crate::tree::{Comment, Document, Key, Pair};

pub(super) fn read(path: &str) -> Vec<u8> {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

pub(super) fn data(file: &str) -> Vec<u8> {
    read(&format!("tests/data/dotenv/{file}"))
}

fn case(file: &str) -> Vec<u8> {
    read(&format!("fixtures/sops-3.11/cases/dotenv_basic/{file}"))
}

pub(super) fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub(super) fn opts() -> StoreOptions {
    StoreOptions::default()
}

pub(super) fn parse_ok(text: &[u8]) -> (Tree, Layout) {
    parse(text).unwrap_or_else(|e| panic!("parse failed: {e}"))
}

/// The files of `tests/data/dotenv/` that sops 3.11 itself can encrypt.
pub(super) const SOPS_READABLE: [&str; 6] =
    ["awkward.env", "blank-lines.env", "crlf.env", "no-final-newline.env", "empty.env", "comments-only.env"];

/// Files with multi-line double-quoted values, which only we read.
pub(super) const MULTI_LINE: [&str; 3] = ["multiline.env", "multiline-crlf.env", "multiline-unencrypted.env"];

/// An age key file's text and the recipient on its `# public key:` line.
pub(super) fn age_key(path: &str) -> (String, String) {
    let text = show(&read(path));
    let recipient = text.lines().find_map(|l| l.strip_prefix("# public key: ")).expect("public key line");
    (text.clone(), recipient.trim().to_owned())
}

pub(super) const KEY1: &str = "fixtures/sops-3.11/keys/age1.txt";

pub(super) fn encrypt(plain: &[u8], cipher: CipherKind) -> Result<Vec<u8>> {
    encrypt_as(plain, Format::Dotenv, Format::Dotenv, cipher)
}

pub(super) fn encrypt_as(plain: &[u8], input: Format, output: Format, cipher: CipherKind) -> Result<Vec<u8>> {
    let (_, recipient) = age_key(KEY1);
    let request = EncryptRequest {
        input_format: input,
        output_format: output,
        key_groups: vec![vec![MasterKey::Age(AgeKey::new(&recipient).expect("recipient"))]],
        shamir_threshold: 0,
        rule: None,
        mac_only_encrypted: false,
        cipher,
        store_options: opts(),
    };
    ops::encrypt(plain, request, &KeyServices::new(Environment::empty()))
}

pub(super) fn decrypt_with_key(encrypted: &[u8], key_file: &str) -> Result<Vec<u8>> {
    let (secret, _) = age_key(key_file);
    let request = DecryptRequest {
        input_format: Format::Dotenv,
        output_format: Format::Dotenv,
        ignore_mac: false,
        extract: None,
        decryption_order: DecryptionOrder::default(),
        store_options: opts(),
    };
    let services = KeyServices::new(Environment::empty().with("SOPS_AGE_KEY", secret));
    Ok(ops::decrypt(encrypted, request, &services)?.output.to_vec())
}

pub(super) fn decrypt(encrypted: &[u8]) -> Result<Vec<u8>> {
    decrypt_with_key(encrypted, KEY1)
}

fn is_envelope(node: &Node) -> bool {
    matches!(&node.value.value_str(), Some(t) if t.starts_with("ENC["))
}

trait ValueStr {
    fn value_str(&self) -> Option<&str>;
}

impl ValueStr for Value {
    fn value_str(&self) -> Option<&str> {
        match self {
            Value::Scalar(scalar) => scalar.as_str(),
            _ => None,
        }
    }
}

/// Take the `sops` pair that parsing made of the `sops_*` lines.
fn split_metadata(tree: &mut Tree) -> Option<Node> {
    let items = &mut tree.documents[0].items;
    let at = items.iter().position(|item| matches!(item, MapItem::Pair(p) if p.key.name == "sops"))?;
    match items.remove(at) {
        MapItem::Pair(pair) => Some(pair.value),
        MapItem::Comment(_) => None,
    }
}

fn pairs_mut(tree: &mut Tree) -> impl Iterator<Item = &mut Pair> {
    tree.documents[0].items.iter_mut().filter_map(|item| match item {
        MapItem::Pair(pair) => Some(pair),
        MapItem::Comment(_) => None,
    })
}

fn comments_mut(tree: &mut Tree) -> impl Iterator<Item = &mut Comment> {
    tree.documents[0].items.iter_mut().filter_map(|item| match item {
        MapItem::Comment(comment) => Some(comment),
        MapItem::Pair(_) => None,
    })
}

fn str_node(text: &str) -> Node {
    Node::scalar(Scalar::str(text))
}

fn pair(key: &str, value: Node) -> MapItem {
    MapItem::Pair(Pair { key: Key::new(key), value })
}

pub(super) fn one_document(items: Vec<MapItem>) -> Tree {
    Tree { documents: vec![Document { items }] }
}

// ---------------------------------------------------------------------------
// Byte-exact against sops's files.

/// The decrypt direction by hand: put `plain`'s values and comments in
/// place of `enc`'s envelopes, splice without metadata, and expect `plain`.
fn check_decrypt_vector(enc: &[u8], plain: &[u8]) {
    let (mut enc_tree, enc_layout) = parse_ok(enc);
    assert!(split_metadata(&mut enc_tree).is_some());
    let (mut plain_tree, _) = parse_ok(plain);
    let plain_items = std::mem::take(&mut plain_tree.documents[0].items);
    let enc_items = &mut enc_tree.documents[0].items;
    assert_eq!(plain_items.len(), enc_items.len());
    for (target, source) in enc_items.iter_mut().zip(plain_items) {
        match (target, source) {
            (MapItem::Pair(t), MapItem::Pair(s)) => {
                assert_eq!(t.key, s.key);
                if is_envelope(&t.value) {
                    t.value.value = s.value.value;
                    t.value.changed = true;
                }
            }
            (MapItem::Comment(t), MapItem::Comment(s)) => {
                t.text = s.text;
                t.changed = true;
            }
            _ => panic!("different shapes"),
        }
    }
    let out = emit_spliced(&enc_tree, &enc_layout, None, &opts()).unwrap();
    assert_eq!(show(&out), show(plain), "splice into the encrypted layout");
    let (plain_tree, _) = parse_ok(plain);
    assert_eq!(show(&emit_fresh(&plain_tree, None, &opts()).unwrap()), show(plain), "fresh emission");
}

#[test]
fn fixture_dotenv_basic_decrypts_to_sops_output() {
    check_decrypt_vector(&case("enc.env"), &case("plain.env"));
}

/// The encrypt direction: sops's envelopes and metadata spliced into the
/// plaintext's layout give sops's encrypted file byte for byte (metadata
/// lines, their order and escapes included).
#[test]
fn splicing_sops_envelopes_into_the_plaintext_reproduces_sops_file() {
    let enc = case("enc.env");
    let (mut enc_tree, _) = parse_ok(&enc);
    let metadata = split_metadata(&mut enc_tree).unwrap();
    let (mut plain_tree, plain_layout) = parse_ok(&case("plain.env"));
    let envelopes = std::mem::take(&mut enc_tree.documents[0].items);
    for (target, source) in plain_tree.documents[0].items.iter_mut().zip(envelopes) {
        match (target, source) {
            (MapItem::Pair(t), MapItem::Pair(s)) if is_envelope(&s.value) => {
                t.value.value = s.value.value;
                t.value.changed = true;
            }
            (MapItem::Comment(t), MapItem::Comment(s)) => {
                t.text = s.text;
                t.changed = true;
            }
            _ => {}
        }
    }
    let out = emit_spliced(&plain_tree, &plain_layout, Some(&metadata), &opts()).unwrap();
    assert_eq!(show(&out), show(&enc));
    let fresh = emit_fresh(&plain_tree, Some(&metadata), &opts()).unwrap();
    assert_eq!(show(&fresh), show(&enc));
}

#[test]
fn real_decryption_of_sops_files_matches_sops_output() {
    let out = decrypt(&case("enc.env")).unwrap();
    assert_eq!(show(&out), show(&case("plain.env")));
    let spec_key = "fixtures/spec/keys/age-key1.txt";
    let out = decrypt_with_key(&read("fixtures/spec/sops/dotenv.env"), spec_key).unwrap();
    assert_eq!(show(&out), show(&read("fixtures/spec/expected/sops-dotenv.env")));
    let out = decrypt_with_key(&read("fixtures/spec/crafted/exC.env"), spec_key).unwrap();
    assert_eq!(show(&out), show(&read("fixtures/spec/expected/crafted-exC.env")));
}

#[test]
fn the_wrong_key_cannot_decrypt() {
    let err = decrypt_with_key(&case("enc.env"), "fixtures/sops-3.11/keys/age2.txt").unwrap_err();
    assert_eq!(err.exit_code(), 128);
}

#[test]
fn parsing_follows_the_sops_dialect() {
    let (tree, layout) = parse_ok(&read("fixtures/spec/plain/dotenv.env"));
    let items = &tree.documents[0].items;
    let seen: Vec<(String, String)> = items
        .iter()
        .map(|item| match item {
            MapItem::Comment(c) => ("#".to_owned(), show(c.text.as_bytes())),
            MapItem::Pair(p) => (p.key.name.clone(), p.value.value.value_str().unwrap().to_owned()),
        })
        .collect();
    let expected = [
        ("#", " comment line"),
        ("A", "hello"),
        ("B", "\"quoted value\""),
        ("C", "multi\nline"),
        ("D_unencrypted", "plain"),
        ("E", ""),
        ("export F", "x"),
        ("G ", " spaced "),
    ];
    let expected: Vec<(String, String)> =
        expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!(seen, expected);
    // The blank line is remembered for splicing, not in the tree.
    assert_eq!(layout.records[5].blank_before, 1);
}

#[test]
fn cr_stays_in_values_and_comments() {
    let (tree, _) = parse_ok(b"#c\r\nA=1\r\n");
    match &tree.documents[0].items[..] {
        [MapItem::Comment(c), MapItem::Pair(p)] => {
            assert_eq!(c.text.as_bytes(), b"c\r");
            assert_eq!(p.value.value.value_str(), Some("1\r"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn metadata_lines_anywhere_become_one_sops_pair_placed_first() {
    let text = b"sops_version=3.11.0\nA=1\nsops_age__list_0__map_enc=x\\ny\nsops=data\n";
    let (tree, layout) = parse_ok(text);
    let items = &tree.documents[0].items;
    assert_eq!(items.len(), 3);
    let MapItem::Pair(meta) = &items[0] else { panic!() };
    assert_eq!(meta.key.name, "sops");
    let Value::Map(fields) = &meta.value.value else { panic!("metadata is a mapping") };
    assert_eq!(crate::tree::map_get(fields, "version").unwrap().value.value_str(), Some("3.11.0"));
    let age = crate::tree::map_get(fields, "age").unwrap();
    let Value::Seq(list) = &age.value else { panic!() };
    let crate::tree::SeqItem::Value(entry) = &list[0] else { panic!() };
    let Value::Map(entry) = &entry.value else { panic!() };
    assert_eq!(crate::tree::map_get(entry, "enc").unwrap().value.value_str(), Some("x\ny"));
    // A key that is just `sops` is data, written back as it was.
    let MapItem::Pair(data) = &items[2] else { panic!() };
    assert_eq!((data.key.name.as_str(), data.value.value.value_str()), ("sops", Some("data")));
    let out = emit_spliced(&tree, &layout, None, &opts()).unwrap();
    assert_eq!(show(&out), "A=1\nsops=data\n");
}

#[test]
fn plaintext_with_sops_keys_is_already_encrypted() {
    let err = encrypt(b"A=1\nsops_anything=x\n", CipherKind::Aes256Gcm).unwrap_err();
    assert!(matches!(err, Error::AlreadyEncrypted));
    assert_eq!(err.exit_code(), 203);
}

// ---------------------------------------------------------------------------
// Our own round trips.

#[test]
fn decrypt_of_encrypt_is_the_identity_with_both_ciphers() {
    let corpus = SOPS_READABLE.iter().chain(&MULTI_LINE).map(|f| (f.to_string(), data(f)));
    let extra: Vec<(String, Vec<u8>)> = [
        &b"A=1"[..],
        b"\n",
        b"#",
        b"A=\nB=\n",
        b"K=\"open\nL=sops reads this as two lines\n",
        b"K=x \\n y\\\\n\n",
        b"E=\xc3\xa9\r\n",
        // An empty key: sops reads and writes it; we keep it where it is
        // (the fresh writer refuses to create one).
        b"=starts with equals\n",
    ]
    .iter()
    .map(|t| (show(t), t.to_vec()))
    .collect();
    for (name, plain) in corpus.chain(extra) {
        for cipher in [CipherKind::Aes256Gcm, CipherKind::XChaCha20Poly1305] {
            let encrypted = encrypt(&plain, cipher).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!show(&encrypted).contains("hunter"), "{name}");
            let back = decrypt(&encrypted).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(show(&back), show(&plain), "{name} with {cipher:?}");
        }
    }
}

#[test]
fn encrypted_files_are_sops_dialect_and_keep_blank_lines() {
    let encrypted = encrypt(&data("blank-lines.env"), CipherKind::Aes256Gcm).unwrap();
    let text = show(&encrypted);
    assert!(text.starts_with("\n\nA=ENC[AES256_GCM,"), "{text}");
    assert!(text.contains("\n\n#ENC[AES256_GCM,"), "{text}");
    // The metadata comes after the trailing blank lines, sorted.
    let tail = text.split("\n\n\n").last().unwrap();
    let keys: Vec<&str> = tail.lines().map(|l| l.split('=').next().unwrap()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(keys.iter().all(|k| k.starts_with("sops_")), "{keys:?}");
    assert!(text.ends_with("sops_version=3.11.0\n"));
}

#[test]
fn a_file_without_a_final_newline_stays_without_one() {
    let encrypted = encrypt(b"A=1\nB=2", CipherKind::Aes256Gcm).unwrap();
    assert!(encrypted.ends_with(b"sops_version=3.11.0"), "{}", show(&encrypted));
    assert_eq!(show(&decrypt(&encrypted).unwrap()), "A=1\nB=2");
}

#[test]
fn an_empty_file_encrypts_like_sops_does() {
    // sops 3.11 encrypts an empty dotenv file (exit 0): metadata only.
    let encrypted = encrypt(b"", CipherKind::Aes256Gcm).unwrap();
    assert!(show(&encrypted).starts_with("sops_age__list_0__map_enc="));
    assert_eq!(decrypt(&encrypted).unwrap(), b"");
}

#[test]
fn multi_line_values_are_one_envelope_and_come_back_as_written() {
    let plain = data("multiline.env");
    let encrypted = encrypt(&plain, CipherKind::Aes256Gcm).unwrap();
    let text = show(&encrypted);
    // Every line of the encrypted file is a line sops can read.
    for line in text.lines() {
        assert!(line.starts_with('#') || line.contains('='), "{line}");
    }
    assert!(text.contains("\nsops_rs_layout=ENC[AES256_GCM,"));
    assert_eq!(show(&decrypt(&encrypted).unwrap()), show(&plain));

    // Without the remembered layout (a file sops rewrote), the values come
    // back in the sops dialect on one line.
    let (mut tree, layout) = parse_ok(&plain);
    for pair in pairs_mut(&mut tree) {
        pair.value.changed = true;
    }
    let out = show(&emit_spliced(&tree, &layout, None, &opts()).unwrap());
    assert!(out.contains("\nCERT=\"-----BEGIN CERTIFICATE-----\\nMIIB"), "{out}");
    assert!(out.contains("\nSPACED = \"two\\nlines\" # a trailing comment"), "{out}");
    assert!(out.contains("\nEMPTY_LINES=\"\\n\\n\"\n"), "{out}");
}

#[test]
fn multi_line_values_are_read_only_where_sops_cannot_read_the_lines() {
    // The continuation line has no `=`: one value.
    let (tree, _) = parse_ok(b"K=\"a\nb\"\n");
    assert_eq!(tree.documents[0].items.len(), 1);
    // Each line is a line sops reads: sops's reading, two pairs.
    let (tree, _) = parse_ok(b"K=\"a\nb=\"\n");
    assert_eq!(tree.documents[0].items.len(), 2);
    // A quote left open with no later quote: sops's reading.
    let (tree, _) = parse_ok(b"K=\"a\nL=b\n");
    assert_eq!(tree.documents[0].items.len(), 2);
    // The value ends with the first line holding an unescaped quote.
    let (tree, _) = parse_ok(b"K=\"a\nb \\\" c\nd\" e\nL=1\n");
    let MapItem::Pair(first) = &tree.documents[0].items[0] else { panic!() };
    assert_eq!(first.value.value.value_str(), Some("\"a\nb \\\" c\nd\" e"));
    assert_eq!(tree.documents[0].items.len(), 2);
    // Only a double quote opens; a single quote never continues.
    assert!(parse(b"K='a\nb'\n").is_err());
}

#[test]
fn interop_with_yaml_conversions_writes_sops_output() {
    // sops 3.11's `decrypt --output-type dotenv` of this YAML (recorded).
    let yaml = b"# top\na: 1\ns: hi\nf: 1.5\ng: 1e21\nh: 2.0\ni: 100000\nj: 1e-7\nk: 123456789.0\n\
t: 2024-01-01T10:00:00Z\nt2: 2024-01-01\nb: true\nnl: \"x\\ny\"\nz: -0.0\ninf: .inf\n# trailing\n";
    let expected = "# top\na=1\ns=hi\nf=1.5\ng=1E+21\nh=2.0\ni=100000\nj=1E-07\nk=1.23456789E+08\n\
t=2024-01-01T10:00:00Z\nt2=2024-01-01T00:00:00Z\nb=true\nnl=x\\ny\nz=-0.0\ninf=+Inf\n# trailing\n";
    let (tree, _) = crate::store::yaml::parse(yaml).unwrap();
    assert_eq!(show(&emit_fresh(&tree, None, &opts()).unwrap()), expected);
    // And through the library: YAML encrypted to a dotenv file decrypts to it.
    let encrypted = encrypt_as(yaml, Format::Yaml, Format::Dotenv, CipherKind::Aes256Gcm).unwrap();
    assert_eq!(show(&decrypt(&encrypted).unwrap()), expected);
}

#[test]
fn values_sops_would_lose_are_kept() {
    let tree = one_document(vec![
        pair(
            "T",
            Node::scalar(Scalar::Time(
                crate::timestamp::Timestamp::parse_rfc3339("2024-01-01T10:00:00.5+02:00").unwrap(),
            )),
        ),
        pair("BIG", Node::scalar(Scalar::BigInt(SecretBytes::from_text("12345678901234567890")))),
        pair("N", Node::scalar(Scalar::Null)),
        pair("I", Node::scalar(Scalar::Int(-7))),
        pair("F", Node::scalar(Scalar::Bool(false))),
    ]);
    let out = show(&emit_fresh(&tree, None, &opts()).unwrap());
    assert_eq!(out, "T=2024-01-01T10:00:00.5+02:00\nBIG=12345678901234567890\nN=\nI=-7\nF=false\n");
}

#[test]
fn emit_value_prints_strings_and_refuses_the_rest() {
    assert_eq!(emit_value(&str_node("a\nb"), &opts()).unwrap(), b"a\nb");
    for (node, kind) in [
        (Node::scalar(Scalar::Int(1)), "an integer"),
        (Node::scalar(Scalar::Float(1.5)), "a number"),
        (Node::scalar(Scalar::Bool(true)), "a boolean"),
        (Node::scalar(Scalar::Null), "null"),
        (Node::seq(vec![]), "a list"),
        (Node::map(vec![]), "a mapping"),
    ] {
        let err = emit_value(&node, &opts()).unwrap_err();
        assert_eq!(err.exit_code(), 4);
        assert!(err.to_string().contains(&format!("only supports emitting strings, got {kind}")), "{err}");
    }
}

// ---------------------------------------------------------------------------
// Splicing.

#[test]
fn unchanged_splice_is_the_identity() {
    for file in SOPS_READABLE.iter().chain(&MULTI_LINE) {
        let text = data(file);
        let (tree, layout) = parse_ok(&text);
        let out = emit_spliced(&tree, &layout, None, &opts()).unwrap();
        assert_eq!(show(&out), show(&text), "{file}");
    }
}

#[test]
fn rewriting_an_encrypted_file_with_its_own_metadata_is_the_identity() {
    let enc = case("enc.env");
    let (mut tree, layout) = parse_ok(&enc);
    let with_pair = emit_spliced(&tree, &layout, tree.top_level("sops"), &opts()).unwrap();
    assert_eq!(show(&with_pair), show(&enc));
    let metadata = split_metadata(&mut tree).unwrap();
    let out = emit_spliced(&tree, &layout, Some(&metadata), &opts()).unwrap();
    assert_eq!(show(&out), show(&enc));
    // The fresh writer leaves the tree's own metadata pair out too.
    let (tree, _) = parse_ok(&enc);
    let fresh = emit_fresh(&tree, Some(&metadata), &opts()).unwrap();
    assert_eq!(show(&fresh), show(&enc));
}

#[test]
fn metadata_in_the_middle_is_dropped_and_appended_at_the_end() {
    let text = b"A=1\nsops_version=3.11.0\n\nsops_mac=x\nB=2\n";
    let (tree, layout) = parse_ok(text);
    let metadata = Node::map(vec![pair("version", str_node("3.11.0")), pair("enc", str_node("l1\nl2"))]);
    let out = emit_spliced(&tree, &layout, Some(&metadata), &opts()).unwrap();
    assert_eq!(show(&out), "A=1\n\nB=2\nsops_enc=l1\\nl2\nsops_version=3.11.0\n");
}

#[test]
fn set_and_unset_keep_everything_else() {
    let text = b"# head\nA=1\n\nB=\"two\nlines\"\nC=3\n# tail\n";
    let (mut tree, layout) = parse_ok(text);
    let items = &mut tree.documents[0].items;
    // unset A, change C, set D at the end and E after B, add a comment.
    items.remove(1);
    let MapItem::Pair(c) = &mut items[2] else { panic!() };
    c.value = Node { value: Value::Scalar(Scalar::str("new\nvalue")), src: c.value.src, changed: true };
    items.insert(2, pair("E", Node::scalar(Scalar::Int(5))));
    items.push(MapItem::Comment(Comment::new(SecretBytes::from_text(" added"))));
    items.push(pair("D", str_node("d")));
    let out = emit_spliced(&tree, &layout, None, &opts()).unwrap();
    assert_eq!(show(&out), "# head\n\nB=\"two\nlines\"\nE=5\nC=new\\nvalue\n# tail\n# added\nD=d\n");
}

#[test]
fn renamed_keys_moved_items_and_changed_comments() {
    let (mut tree, layout) = parse_ok(b"#one\nA=1\nB=2\n");
    for comment in comments_mut(&mut tree) {
        comment.text = SecretBytes::from_text("ONE");
        comment.changed = true;
    }
    pairs_mut(&mut tree).next().unwrap().key = Key::new("export A");
    tree.documents[0].items.swap(1, 2);
    // B keeps its line; A now comes after it, so it is written fresh.
    let out = emit_spliced(&tree, &layout, None, &opts()).unwrap();
    assert_eq!(show(&out), "#ONE\nB=2\nexport A=1\n");
}

#[test]
fn style_memory_restores_only_what_reads_back_the_same() {
    let text = b"K=\"a\nb\"\nL=x\n";
    let (tree, mut layout) = parse_ok(text);
    let srcs: Vec<Src> = tree.documents[0]
        .items
        .iter()
        .map(|i| match i {
            MapItem::Pair(p) => p.value.src,
            MapItem::Comment(c) => c.src,
        })
        .collect();
    assert_eq!(layout.token_text(srcs[0]), Some("\"a\nb\""));
    assert_eq!(layout.token_text(srcs[1]), Some("x"));
    assert_eq!(layout.token_text(Src::NONE), None);
    let styled = layout.styled_tokens(&tree);
    assert_eq!(styled.len(), 1);
    assert_eq!(styled.get(&srcs[0]).map(|t| t.as_str()), Some("\"a\nb\""));

    let mut changed = tree.clone();
    for pair in pairs_mut(&mut changed) {
        pair.value.changed = true;
    }
    layout.set_overrides(styled.clone());
    assert_eq!(show(&emit_spliced(&changed, &layout, None, &opts()).unwrap()), show(text));

    // A remembered text that no longer spells the value is ignored.
    let mut stale = changed.clone();
    let MapItem::Pair(k) = &mut stale.documents[0].items[0] else { panic!() };
    k.value.value = Value::Scalar(Scalar::str("\"a\nc\""));
    assert_eq!(show(&emit_spliced(&stale, &layout, None, &opts()).unwrap()), "K=\"a\\nc\"\nL=x\n");
    // So is one that would not read back as one value, alone, in place:
    // another line after it, a line break outside quotes, a line sops reads.
    for bad in ["\"a\nb\"\nX=1", "a\nb", "\"a\nb=\""] {
        layout.set_overrides([(srcs[0], zeroize::Zeroizing::new(bad.to_owned()))].into_iter().collect());
        let out = show(&emit_spliced(&changed, &layout, None, &opts()).unwrap());
        assert_eq!(out, "K=\"a\\nb\"\nL=x\n", "{bad:?}");
    }
}

#[test]
fn layout_debug_shows_no_text() {
    let (tree, layout) = parse_ok(b"#hunter2\nPASSWORD=hunter2\n");
    let shown = format!("{layout:?} {tree:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

/// The adversarial shape for the continuation look-ahead (every line opens
/// a quote, no line closes it) must stay linear: a quadratic scan would not
/// finish 100,000 lines.
#[test]
fn continuation_scanning_is_linear() {
    let mut text = Vec::new();
    for i in 0..100_000 {
        text.extend_from_slice(format!("K{i}=\"open\n").as_bytes());
    }
    let (tree, _) = parse_ok(&text);
    assert_eq!(tree.documents[0].items.len(), 100_000);
    let mut text = b"K=\"open\n".to_vec();
    for _ in 0..100_000 {
        text.extend_from_slice(b"A=no quote here\n");
    }
    text.extend_from_slice(b"bad line\n");
    let err = parse(&text).unwrap_err();
    assert!(err.to_string().contains("line 100002"), "{err}");
}
