//! Property tests: generated documents (comments, blank lines, awkward
//! values, multi-line double-quoted values, CRLF, missing final newline)
//! survive splicing, fresh emission and real encryption unchanged.

use proptest::prelude::*;

use super::tests::{decrypt, encrypt, opts};
use super::*;
use crate::cipher::CipherKind;

/// Text for values and comments: the characters that matter to the
/// dialect, plus some that do not.
const TEXT: &str = "[ab \t\"'\\\\n#=\u{e9}\u{1F680}\r]{0,12}";

fn key() -> impl Strategy<Value = String> {
    // The first character after the prefix is never `s`, so no key is
    // metadata (`sops_`).
    ("(|export |  )", "[A-Z_][A-Za-z0-9_ .\u{e9}-]{0,6}").prop_map(|(prefix, name)| format!("{prefix}{name}"))
}

fn multi_line_value() -> impl Strategy<Value = String> {
    // An opener, lines sops cannot read (no `=`, no quote, not a comment,
    // not empty) or blank ones, and a closing line.
    let middle = prop_oneof![Just(String::new()), "[a-z][a-z \t\\\\#\r]{0,8}"];
    ("[ \t]{0,1}", "[a-z \\\\#=]{0,6}", prop::collection::vec(middle, 1..4), "[a-z \\\\]{0,6}", "(| # c|\r)")
        .prop_map(|(lead, first, middle, last, tail)| {
            let mut middle = middle;
            // At least one line sops would reject.
            middle.push("x".to_owned());
            format!("{lead}\"{first}\n{}\n{last}\"{tail}", middle.join("\n"))
        })
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just(String::new()),
        2 => TEXT.prop_map(|text| format!("#{}", text.replace('\n', ""))),
        6 => (key(), TEXT).prop_map(|(k, v)| format!("{k}={v}")),
        1 => (key(), multi_line_value()).prop_map(|(k, v)| format!("{k}={v}")),
    ]
}

fn document() -> impl Strategy<Value = Vec<u8>> {
    (prop::collection::vec(line(), 0..12), any::<bool>(), any::<bool>()).prop_map(
        |(lines, final_newline, crlf)| {
            let separator = if crlf { "\r\n" } else { "\n" };
            let mut text = lines.join(separator);
            if final_newline || text.is_empty() || text.ends_with('\n') {
                text.push_str(separator);
            }
            text.into_bytes()
        },
    )
}

/// The entries of a tree as comparable text.
fn entries(tree: &Tree) -> Vec<(bool, String, Vec<u8>)> {
    tree.documents[0]
        .items
        .iter()
        .map(|item| match item {
            MapItem::Comment(c) => (false, String::new(), c.text.as_bytes().to_vec()),
            MapItem::Pair(p) => match &p.value.value {
                Value::Scalar(Scalar::Str(s)) => (true, p.key.name.clone(), s.as_bytes().to_vec()),
                other => panic!("{other:?}"),
            },
        })
        .collect()
}

proptest! {
    #[test]
    fn splicing_without_changes_is_the_identity(doc in document()) {
        let Ok((tree, layout)) = parse(&doc) else { return Ok(()) };
        let out = emit_spliced(&tree, &layout, None, &opts()).unwrap();
        prop_assert_eq!(out, doc);
    }

    #[test]
    fn fresh_emission_reads_back_as_the_same_entries(doc in document()) {
        let Ok((tree, _)) = parse(&doc) else { return Ok(()) };
        let fresh = emit_fresh(&tree, None, &opts()).unwrap();
        let (again, _) = parse(&fresh).unwrap();
        prop_assert_eq!(entries(&again), entries(&tree));
        // And it is plain sops dialect: one line per entry.
        prop_assert_eq!(fresh.iter().filter(|&&b| b == b'\n').count(), tree.documents[0].items.len());
    }

    #[test]
    fn splicing_every_value_anew_reads_back_as_the_same_entries(doc in document()) {
        let Ok((mut tree, layout)) = parse(&doc) else { return Ok(()) };
        for item in &mut tree.documents[0].items {
            match item {
                MapItem::Pair(pair) => pair.value.changed = true,
                MapItem::Comment(comment) => comment.changed = true,
            }
        }
        let out = emit_spliced(&tree, &layout, None, &opts()).unwrap();
        let (again, _) = parse(&out).unwrap();
        prop_assert_eq!(entries(&again), entries(&tree));
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok((tree, layout)) = parse(&bytes) {
            let _ = emit_spliced(&tree, &layout, None, &opts());
            let _ = emit_fresh(&tree, None, &opts());
        }
    }

    #[test]
    fn random_text_from_the_dialect_never_panics(text in "[a=\"\\\\#\n\r ]{0,40}") {
        if let Ok((tree, layout)) = parse(text.as_bytes()) {
            let out = emit_spliced(&tree, &layout, None, &opts()).unwrap();
            prop_assert_eq!(out, text.as_bytes());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn decrypt_of_encrypt_is_the_identity(doc in document(), xchacha in any::<bool>()) {
        // Invalid lines, and repeated keys (refused before encrypting).
        prop_assume!(crate::store::parse_plain(crate::store::Format::Dotenv, &doc).is_ok());
        let cipher = if xchacha { CipherKind::XChaCha20Poly1305 } else { CipherKind::Aes256Gcm };
        let encrypted = encrypt(&doc, cipher).unwrap();
        let back = decrypt(&encrypted).unwrap();
        prop_assert_eq!(back, doc);
    }
}
