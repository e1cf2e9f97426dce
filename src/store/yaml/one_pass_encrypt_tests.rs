//! One-pass encryption against the general writer. Envelopes hold fresh
//! nonces, so the two outputs are compared with every envelope masked; and
//! each output, decrypted by the general path, must give the same
//! plaintext and the same MAC (which also holds the style memories equal:
//! decryption restores spellings from them).

use super::decrypt_tests::{
    COMMENTED, SECRETS_SHAPES, SMALL_PIECES, default_rule, encrypted, general, generated, key,
    without_comment_lines,
};
use super::encrypt_in;
use crate::cipher::{CipherKind, ValueCipher};
use crate::store::StoreOptions;
use crate::store::yaml::pieces::{Pieces, cuts};
use crate::store::yaml::tests::metadata_with;
use crate::walk::{LeafWalk, MacHex, Selection, SelectionRule};

/// `text` with each `ENC[...]` envelope replaced by `ENC`.
fn masked(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("ENC[") {
        out.push_str(&rest[..at]);
        out.push_str("ENC");
        let end = rest[at..].find(']').map_or(rest.len(), |e| at + e + 1);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `plain` encrypted in one pass, with the metadata the general writer
/// gets in `encrypted`; `None` when declined.
fn one_pass(plain: &str, rule: &SelectionRule, mac_only_encrypted: bool, indent: usize) -> Option<String> {
    one_pass_in(plain, rule, mac_only_encrypted, indent, Pieces::one()).map(|(text, _)| text)
}

/// [`one_pass`] in `pieces`, with the MAC it computed (which the metadata
/// here does not hold: `agrees_in` checks it against the output's values).
fn one_pass_in(
    plain: &str,
    rule: &SelectionRule,
    mac_only_encrypted: bool,
    indent: usize,
    pieces: Pieces,
) -> Option<(String, MacHex)> {
    let options = StoreOptions { yaml_indent: indent, ..StoreOptions::default() };
    let cipher = ValueCipher::new(&key());
    let selection = Selection { rule: rule.clone(), mac_only_encrypted, encrypt_everything: false };
    let leaves = LeafWalk::encrypting(&selection, &cipher, CipherKind::Aes256Gcm);
    let mut mac = None;
    let metadata = |done: super::StreamEncrypted| {
        mac = Some(done.mac);
        let style_memory = done.style_memory.seal(&cipher, CipherKind::Aes256Gcm);
        Ok(metadata_with(rule, mac_only_encrypted, style_memory))
    };
    let output = encrypt_in(plain, leaves, &options, metadata, pieces)?;
    let parts = output.expect("the metadata builds");
    assert_eq!(parts.len(), cuts(plain, plain.len(), pieces).len(), "one part per piece");
    let text = String::from_utf8(parts.concat()).unwrap();
    Some((text, mac.expect("the metadata was built")))
}

/// Whether the one pass took `plain`, read whole; panics if it, or the one
/// pass reading it in small pieces, disagrees with the general writer.
fn agrees(plain: &str, rule: &SelectionRule, mac_only_encrypted: bool, indent: usize) -> bool {
    agrees_in(plain, rule, mac_only_encrypted, indent, SMALL_PIECES);
    agrees_in(plain, rule, mac_only_encrypted, indent, Pieces::one())
}

fn agrees_in(
    plain: &str,
    rule: &SelectionRule,
    mac_only_encrypted: bool,
    indent: usize,
    pieces: Pieces,
) -> bool {
    let Some((ours, mac)) = one_pass_in(plain, rule, mac_only_encrypted, indent, pieces) else {
        return false;
    };
    let theirs = encrypted(plain, rule, mac_only_encrypted, indent)
        .unwrap_or_else(|| panic!("the one pass took a file the general writer refuses:\n{plain}"));
    assert_eq!(masked(&ours), masked(&theirs), "encrypted layouts differ for:\n{plain}");
    let options = StoreOptions { yaml_indent: indent, ..StoreOptions::default() };
    let (ours_back, ours_mac) = general(&ours, &options).expect("our output decrypts");
    let (theirs_back, theirs_mac) = general(&theirs, &options).expect("theirs decrypts");
    assert_eq!(String::from_utf8_lossy(&ours_back), String::from_utf8_lossy(&theirs_back), "for:\n{plain}");
    assert!(ours_mac == theirs_mac, "MACs differ for:\n{plain}");
    assert!(mac == ours_mac, "the MAC computed while encrypting is not that of the values, for:\n{plain}");
    assert_eq!(
        comment_aads(&ours, plain),
        comment_aads(&theirs, plain),
        "comment paths differ for:\n{plain}"
    );
    true
}

/// The additional data each encrypted comment of `text` was sealed with,
/// in order, found by trying every path of `plain` (decryption alone
/// would also accept an enclosing block's path).
fn comment_aads(text: &str, plain: &str) -> Vec<String> {
    let (tree, _) = crate::store::yaml::parse(plain.as_bytes()).expect("plaintext parses");
    let mut paths = vec![":".to_owned()];
    for (_, place) in crate::style::places_by_src(&tree) {
        let path = place.rsplit_once('#').map_or("", |(path, _)| path);
        let mut end = 0;
        while let Some(colon) = path[end..].find(':') {
            end += colon + 1;
            paths.push(path[..end].to_owned());
        }
    }
    paths.sort();
    paths.dedup();
    let cipher = ValueCipher::new(&key());
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("#ENC[") {
        let end = rest[at..].find(']').map_or(rest.len(), |e| at + e + 1);
        let envelope = crate::cipher::Envelope::parse(&rest[at + 1..end]).expect("an envelope");
        let aads: Vec<&String> =
            paths.iter().filter(|aad| cipher.decrypt(&envelope, aad.as_bytes()).is_ok()).collect();
        found.push(format!("{aads:?}"));
        rest = &rest[end..];
    }
    found
}

#[test]
fn agrees_on_generated_documents() {
    let (mut taken, mut tried, mut cut, mut taken_in_pieces) = (0, 0, 0, 0);
    for case in generated(3000) {
        let plain = if case.seed % 2 == 0 { without_comment_lines(&case.plain) } else { case.plain };
        if encrypted(&plain, &case.rule, case.mac_only_encrypted, case.indent).is_none() {
            continue;
        }
        tried += 1;
        if !agrees(&plain, &case.rule, case.mac_only_encrypted, case.indent) {
            continue;
        }
        taken += 1;
        if cuts(&plain, plain.len(), SMALL_PIECES).len() > 1 {
            cut += 1;
            let in_pieces = agrees_in(&plain, &case.rule, case.mac_only_encrypted, case.indent, SMALL_PIECES);
            taken_in_pieces += usize::from(in_pieces);
        }
    }
    // What the one pass takes whole and can cut, it takes in pieces.
    assert!(cut > 50 && taken_in_pieces == cut, "{taken_in_pieces} of {cut} taken in pieces");
    assert!(taken > 150, "the one pass took only {taken} of {tried} generated files");
    assert!(taken < tried, "no generated file was declined ({taken} of {tried})");
}

#[test]
fn takes_the_shapes_secrets_files_have() {
    for plain in SECRETS_SHAPES.iter().chain(&COMMENTED) {
        assert!(agrees(plain, &default_rule(), false, 4), "declined:\n{plain}");
    }
}

/// Regression: the metadata was written at column 0 under a top-level
/// mapping indented as a whole (found reading the change over).
#[test]
fn metadata_goes_at_the_column_of_an_indented_document() {
    assert!(agrees("  a: 1\n  b:\n    c: 2\n", &default_rule(), false, 4));
    let text = one_pass("  a: 1\n", &default_rule(), false, 4).expect("taken");
    assert!(text.contains("\n  sops:\n"), "{text}");
}

#[test]
fn declines_what_the_tree_must_handle() {
    let cases = [
        "sops:\n    x: 1\n",
        "a: 1\na: 2\n",
        "1: x\n",
        "a: &x 1\nb: *x\n",
        "a: {b: 1}\n",
        "- a\n",
        // A key repeated in another piece; `sops` in a piece other than the first.
        "a: 1\nb: 2\na: 3\n",
        "a: 1\nb: 2\nsops: 3\n",
        // Several documents, whose second would read as a piece's first
        // (the block scanner refuses document markers; `cuts` does not cut
        // at them either).
        "a: 1\n...\nb: 2\nc: 3\n",
        "a: 1\n---\nb: 2\nc: 3\n",
    ];
    for plain in cases {
        assert!(one_pass(plain, &default_rule(), false, 4).is_none(), "taken:\n{plain}");
        assert!(one_pass_in(plain, &default_rule(), false, 4, SMALL_PIECES).is_none(), "taken:\n{plain}");
    }
}

/// Lines that look like top-level keys inside a quoted scalar or a flow
/// collection would be cuts; the file is declined or read as it is whole.
#[test]
fn lines_that_only_look_like_keys_are_not_misread() {
    for plain in ["a: \"one\nb: two\"\nc: 3\n", "a: 'one\nb: two'\nc: 3\n", "a: [1,\nb, 2]\nc: 3\n"] {
        assert!(cuts(plain, plain.len(), SMALL_PIECES).len() > 1, "{plain}");
        agrees(plain, &default_rule(), false, 4);
        assert!(one_pass_in(plain, &default_rule(), false, 4, SMALL_PIECES).is_none(), "{plain}");
    }
}

#[test]
fn a_file_encrypted_in_pieces_reads_as_it_does_whole() {
    let plain: String = (0..40)
        .map(|i| format!("k{i}:\n    # in k{i}\n    - x: |\n        line {i}\n    - {i}\n# c{i}\n"))
        .collect();
    for count in [2, 3, 7, 64] {
        let pieces = Pieces { count, min_len: 1 };
        assert_eq!(cuts(&plain, plain.len(), pieces).len(), count.min(40));
        assert!(agrees_in(&plain, &default_rule(), false, 4, pieces), "declined in {count} pieces");
    }
}

/// A key holding a colon spells the same path as a nested key (`a:b` and
/// `a` then `b` are both `a:b:`), so two values would share a place in the
/// style memory, and pieces, each counting places from zero, would give
/// both `#0` (read whole, they are `#0` and `#1`). The one pass counts only
/// paths inside sequences, which holds because it takes no key with a
/// colon: such files, whole or in pieces, are the general path's.
#[test]
fn keys_with_a_colon_are_the_general_paths() {
    let plain = "a:\n    b: \"x\"\nc: 1\na:b: 'y'\nd: 2\n";
    let pieces = Pieces { count: 3, min_len: 1 };
    assert!(cuts(plain, plain.len(), pieces).len() > 1);
    for pieces in [Pieces::one(), pieces] {
        assert!(one_pass_in(plain, &default_rule(), false, 4, pieces).is_none());
    }
    assert!(encrypted(plain, &default_rule(), false, 4).is_some(), "the general path takes it");
}
