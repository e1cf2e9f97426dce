//! The one pass is held to the general path: whenever it takes a file, its
//! output and MAC must be the general path's, byte for byte. Files are
//! encrypted here with a fixed data key by the general writer (style memory
//! included), under several selection rules; a generator gives thousands of
//! documents, and hand-written ones pin what must be taken and what must be
//! declined.

use std::path::Path;

use super::{decrypt_in, metadata_start};
use crate::cipher::{CipherKind, ValueCipher};
use crate::ops::take_metadata;
use crate::secret::DataKey;
use crate::store::StoreOptions;
use crate::store::yaml::block_scan::tests::{Gen, generate_map, yaml_files};
use crate::store::yaml::pieces::{Pieces, cuts};
use crate::store::yaml::tests::metadata_with;
use crate::store::yaml::{emit_spliced, parse, styled_tokens};
use crate::style::StyleMemory;
use crate::walk::{self, LeafWalk, MacHex, Selection, SelectionRule};

pub(super) fn key() -> DataKey {
    DataKey::from_slice(&[9u8; 32]).unwrap()
}

pub(super) fn rule(field: &str, value: &str) -> SelectionRule {
    SelectionRule::from_field(field, value).unwrap()
}

/// `plain` encrypted by the general writer, with metadata naming `rule`
/// and the style memory; `None` when the general path refuses it.
pub(super) fn encrypted(
    plain: &str,
    rule: &SelectionRule,
    mac_only_encrypted: bool,
    indent: usize,
) -> Option<String> {
    let options = StoreOptions { yaml_indent: indent, ..StoreOptions::default() };
    let cipher = ValueCipher::new(&key());
    let (mut tree, layout) = parse(plain.as_bytes()).ok()?;
    let styled = styled_tokens(&tree, &layout, &options);
    let selection = Selection { rule: rule.clone(), mac_only_encrypted, encrypt_everything: false };
    walk::encrypt_tree(&mut tree, &selection, &cipher, CipherKind::Aes256Gcm, None).ok()?;
    let style_memory = StyleMemory::bind(&tree, styled).seal(&cipher, CipherKind::Aes256Gcm);
    let metadata = metadata_with(rule, mac_only_encrypted, style_memory);
    let output = emit_spliced(&tree, &layout, Some(&metadata), &options).ok()?;
    String::from_utf8(output).ok()
}

/// The general path: tree, walk, splice.
pub(super) fn general(encrypted: &str, options: &StoreOptions) -> Result<(Vec<u8>, MacHex), String> {
    let (mut tree, mut layout) = parse(encrypted.as_bytes()).map_err(|e| e.to_string())?;
    let metadata = take_metadata(&mut tree).map_err(|e| e.to_string())?;
    let selection = metadata.selection().map_err(|e| e.to_string())?;
    let cipher = ValueCipher::new(&key());
    let (mac, _) = walk::decrypt_tree(&mut tree, &selection, &cipher, None).map_err(|e| e.to_string())?;
    if let Some(sealed) = &metadata.style_memory {
        layout.set_overrides(StyleMemory::open(sealed, &cipher).texts_by_src(&tree));
    }
    let output = emit_spliced(&tree, &layout, None, options).map_err(|e| e.to_string())?;
    Ok((output, mac))
}

/// Pieces of a few bytes: every top-level key that can start one does.
pub(super) const SMALL_PIECES: Pieces = Pieces { count: 64, min_len: 1 };

/// The one pass, set up as `ops` sets it up, in one piece.
fn streamed(encrypted: &str, options: &StoreOptions) -> Option<(Vec<u8>, MacHex)> {
    streamed_in(encrypted, options, Pieces::one())
}

fn streamed_in(encrypted: &str, options: &StoreOptions, pieces: Pieces) -> Option<(Vec<u8>, MacHex)> {
    let start = metadata_start(encrypted)?;
    let (mut tail, _) = parse(&encrypted.as_bytes()[start..]).ok()?;
    let metadata = take_metadata(&mut tail).ok()?;
    let selection = metadata.selection().ok()?;
    let cipher = ValueCipher::new(&key());
    let styles = metadata.style_memory.as_ref().map(|sealed| StyleMemory::open(sealed, &cipher));
    let leaves = LeafWalk::new(&selection, &cipher);
    let done = decrypt_in(encrypted, start, leaves, styles.as_ref(), options, pieces)?;
    Some((done.output, done.mac))
}

/// Whether the one pass took `encrypted`, read whole; panics if it, or the
/// one pass reading it in small pieces, disagrees with the general path.
fn agrees_with(encrypted: &str, options: &StoreOptions) -> bool {
    agrees_in(encrypted, options, SMALL_PIECES);
    agrees_in(encrypted, options, Pieces::one())
}

fn agrees_in(encrypted: &str, options: &StoreOptions, pieces: Pieces) -> bool {
    let Some((output, mac)) = streamed_in(encrypted, options, pieces) else { return false };
    let (expected, expected_mac) = general(encrypted, options)
        .unwrap_or_else(|e| panic!("the one pass took a file the general path refuses ({e}):\n{encrypted}"));
    assert_eq!(
        String::from_utf8_lossy(&output),
        String::from_utf8_lossy(&expected),
        "outputs differ for:\n{encrypted}"
    );
    assert!(mac == expected_mac, "MACs differ for:\n{encrypted}");
    true
}

fn agrees(encrypted: &str) -> bool {
    agrees_with(encrypted, &StoreOptions::default())
}

pub(super) fn default_rule() -> SelectionRule {
    SelectionRule::default()
}

/// Encrypted with the default rule and indentation.
fn sealed(plain: &str) -> String {
    encrypted(plain, &default_rule(), false, 4).unwrap_or_else(|| panic!("does not encrypt:\n{plain}"))
}

/// Without own-line comments (the one pass declines files with comments,
/// so half the generated documents drop theirs to reach it).
pub(super) fn without_comment_lines(text: &str) -> String {
    text.split_inclusive('\n').filter(|line| !line.trim_start().starts_with('#')).collect()
}

/// One generated case per seed: the block-scan generator's document, a
/// selection rule with its MAC mode, and an indent width.
pub(super) struct Generated {
    pub seed: u64,
    pub plain: String,
    pub rule: SelectionRule,
    pub mac_only_encrypted: bool,
    pub indent: usize,
}

pub(super) fn generated(count: u64) -> impl Iterator<Item = Generated> {
    let rules = [
        (default_rule(), false),
        (rule("encrypted_regex", "^(a|key_1|b\\.c)$"), false),
        (rule("encrypted_regex", "^(a|key_1|b\\.c)$"), true),
        (rule("unencrypted_regex", "^(x-y|_k)$"), false),
        (rule("encrypted_suffix", "_1"), true),
        (rule("unencrypted_suffix", "o"), false),
    ];
    (1..=count).map(move |seed| {
        let mut g = Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut plain = String::new();
        generate_map(&mut g, 0, 0, &mut plain);
        let (rule, mac_only_encrypted) = rules[seed as usize % rules.len()].clone();
        Generated { seed, plain, rule, mac_only_encrypted, indent: [4, 2, 3][seed as usize % 3] }
    })
}

#[test]
fn agrees_on_generated_documents() {
    let (mut taken, mut tried, mut cut, mut taken_in_pieces) = (0, 0, 0, 0);
    for case in generated(3000) {
        let plain = if case.seed % 2 == 0 { without_comment_lines(&case.plain) } else { case.plain };
        let Some(mut text) = encrypted(&plain, &case.rule, case.mac_only_encrypted, case.indent) else {
            continue;
        };
        if case.seed % 4 >= 2 {
            // Without style memory every value takes the default rendering.
            text = text.split_inclusive('\n').filter(|line| !line.contains(" rs_layout: ")).collect();
        }
        tried += 1;
        let options = StoreOptions { yaml_indent: case.indent, ..StoreOptions::default() };
        if !agrees_with(&text, &options) {
            continue;
        }
        taken += 1;
        let body_end = metadata_start(&text).unwrap_or(text.len());
        if cuts(&text, body_end, SMALL_PIECES).len() > 1 {
            cut += 1;
            taken_in_pieces += usize::from(agrees_in(&text, &options, SMALL_PIECES));
        }
    }
    // What the one pass takes whole and can cut, it takes in pieces.
    assert!(cut > 50 && taken_in_pieces == cut, "{taken_in_pieces} of {cut} taken in pieces");
    assert!(taken > 150, "the one pass took only {taken} of {tried} generated files");
    assert!(taken < tried, "no generated file was declined ({taken} of {tried})");
}

#[test]
fn agrees_on_every_plaintext_fixture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["fixtures", "tests/data"] {
        yaml_files(&root.join(dir), &mut files);
    }
    let mut taken = 0;
    for file in &files {
        let Ok(plain) = std::fs::read_to_string(file) else { continue };
        if metadata_start(&plain).is_some() {
            continue;
        }
        for plain in [plain.clone(), without_comment_lines(&plain)] {
            if let Some(text) = encrypted(&plain, &default_rule(), false, 4)
                && agrees(&text)
            {
                taken += 1;
            }
        }
    }
    assert!(taken >= 20, "the one pass took only {taken} fixtures");
}

/// Plaintexts of the shapes secrets files have, without comments.
pub(super) const SECRETS_SHAPES: &[&str] = &[
    "a: 1\nb: x y\n",
    "db:\n    user: admin\n    password: hunter2\n    port: 5432\n    ratio: 0.5\n    on: true\n",
    "list:\n    - a\n    - 2\n    - name: x\n      port: 80\nzero:\n- p\n- q\n",
    "cert: |\n    line one\n    line two\nstrip: |-\n    no newline\nlast: x\n",
    "quoted: 'single'\ndouble: \"double\"\nempty: ''\nnothing:\nnull_word: null\nhex: 0x1F\nfloat: 1.0\n",
    "public_unencrypted: open\nsecret: closed\nnested_unencrypted:\n    inner: open too\n",
    "long: this value is long enough that go-yaml would fold it somewhere past the eightieth column, yes\n",
    "k: héllo wörld\nwhen: 2024-01-01T00:00:00Z\nbig: 18446744073709551615\nyes_word: yes\n",
    "a:\n  b:\n    c: deep\n  d:\n  - 1\n",
    "no_newline_at_end: x",
];

/// Comments, whose additional data is the block go-yaml attaches them to.
pub(super) const COMMENTED: [&str; 3] = [
    "# head\na: 1 # right\nb:\n    # first in b\n    c: 2\n# back at the top\nd: 3\n",
    "l:\n    - x # on x\n    # in the list\n    - y\n  # between\nm:\n    n:\n        o: 1\n    # after o, in m\n# the end\n",
    "p_unencrypted:\n    # stays as it is\n    q: 1\n",
];

#[test]
fn takes_the_shapes_secrets_files_have() {
    // Keep-chomping, which the reader takes once it is an envelope.
    let keep = ["keep: |+\n    kept\n\nlast: x\n"];
    for plain in SECRETS_SHAPES.iter().chain(&COMMENTED).chain(&keep) {
        let text = sealed(plain);
        assert!(agrees(&text), "declined:\n{text}");
    }
}

#[test]
fn declines_what_the_tree_must_handle() {
    let base = sealed("a: 1\nb:\n    c: two\n");
    let cases = [
        // Comments under a rule that selects by comments (the walk keeps
        // counts of them in the tree's order).
        encrypted("# secret\na: 1\n", &rule("encrypted_comment_regex", "secret"), false, 4).unwrap(),
        // A comment that does not decrypt (the general path warns).
        sealed("# head\na: 1\n").replacen("#ENC[AES256_GCM,data:", "#ENC[AES256_GCM,data:AA", 1),
        // Anchors and aliases, tags, flow collections.
        base.replacen("b:\n", "b: &anchor\n", 1),
        base.replacen("a: ENC", "a: !!str ENC", 1),
        sealed("a: {b: 1}\n"),
        // A key after the metadata.
        format!("{base}z: 1\n"),
        // The metadata first.
        {
            let at = metadata_start(&base).unwrap();
            format!("{}{}", &base[at..], &base[..at])
        },
        // A duplicate key.
        base.replacen("b:\n", "a: 2\nb:\n", 1),
        // A value left in plain text where an envelope belongs.
        base.replacen("a: ENC[", "a: 5\nx: ENC[", 1),
        // A damaged envelope.
        base.replacen(",iv:", ",iv:AAAA", 1),
        // No metadata.
        "a: 1\n".to_owned(),
    ];
    for text in cases {
        assert!(streamed(&text, &StoreOptions::default()).is_none(), "taken:\n{text}");
        assert!(streamed_in(&text, &StoreOptions::default(), SMALL_PIECES).is_none(), "taken:\n{text}");
    }
}

/// A line that looks like a top-level key but is inside a quoted scalar
/// makes a cut whose pieces do not read as the file does: the piece
/// before it is left unfinished, and the file is declined, not misread
/// (the one pass declines such a scalar read whole too). Top-level keys
/// repeated in different pieces are caught when the pieces are joined.
#[test]
fn pieces_that_do_not_fit_are_declined() {
    let options = StoreOptions::default();
    let quoted = sealed("a_unencrypted: \"one\nb: two\"\nc: 3\n");
    let body_end = metadata_start(&quoted).unwrap();
    assert!(cuts(&quoted, body_end, SMALL_PIECES).len() > 1);
    assert!(general(&quoted, &options).is_ok(), "a valid file");
    assert!(streamed_in(&quoted, &options, SMALL_PIECES).is_none(), "taken in pieces:\n{quoted}");

    let base = sealed("a: 1\nb: 2\nc: 3\n");
    let repeated = base.replacen("c: ", "a: ", 1);
    assert!(cuts(&repeated, metadata_start(&repeated).unwrap(), SMALL_PIECES).len() == 3);
    assert!(streamed_in(&repeated, &options, SMALL_PIECES).is_none(), "taken:\n{repeated}");
}

#[test]
fn a_file_read_in_pieces_reads_as_it_does_whole() {
    let plain: String = (0..40)
        .map(|i| format!("k{i}:\n    # in k{i}\n    - x: |\n        line {i}\n    - {i}\n# c{i}\n"))
        .collect();
    let text = sealed(&plain);
    let body_end = metadata_start(&text).unwrap();
    for count in [2, 3, 7, 64] {
        let pieces = Pieces { count, min_len: 1 };
        assert_eq!(cuts(&text, body_end, pieces).len(), count.min(40));
        assert!(agrees_in(&text, &StoreOptions::default(), pieces), "declined in {count} pieces");
    }
}

#[test]
fn finds_the_metadata_entry_by_its_line() {
    assert_eq!(metadata_start("a: 1\nsops:\n    x: 1\n"), Some(5));
    assert_eq!(metadata_start("sops:\n    x: 1\n"), Some(0));
    assert_eq!(metadata_start("sops: x\n"), Some(0));
    // The last such line: sops writes the metadata last.
    assert_eq!(metadata_start("sops:\n  a: 1\nb: 2\nsops:\n  c: 3\n"), Some(18));
    for text in ["a: 1\nsopsy: 2\n", "a: 1\n  sops:\n", "a: \"sops:\"\n", "nosops:\n"] {
        assert_eq!(metadata_start(text), None, "{text}");
    }
}
