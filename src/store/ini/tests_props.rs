//! Property tests: random INI documents in random layouts, and random
//! bytes.

use proptest::prelude::*;

use super::tests::{opts, parse_ok};
use super::tests_roundtrip::round_trip;
use super::*;
use crate::cipher::CipherKind;

/// Text without line breaks or characters that change how a line reads.
fn plain_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9_.-]{1,8}",
        1 => "[a-z]{1,4} [a-z]{1,4}",
        1 => Just("é日本🚀".to_owned()),
        1 => Just("a=b:c".to_owned()),
        1 => Just("x\"y'z".to_owned()),
        1 => Just("[br]".to_owned()),
    ]
}

fn spaces() -> impl Strategy<Value = String> {
    prop_oneof![4 => Just(String::new()), 3 => Just(" ".to_owned()), 1 => Just("   ".to_owned()), 1 => Just("\t".to_owned())]
}

fn marker_run() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("; ".to_owned()),
        Just(";".to_owned()),
        Just("# ".to_owned()),
        Just("#".to_owned()),
        Just(";; ".to_owned()),
        Just("#  ".to_owned()),
    ]
}

/// A value as written after the delimiter (no line break unless it spans
/// lines on purpose).
fn value_form() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => plain_text(),
        1 => Just(String::new()),
        1 => plain_text().prop_map(|t| format!("\"{t}\"")),
        1 => plain_text().prop_map(|t| format!("'{t}'")),
        1 => plain_text().prop_map(|t| format!("\"  {t}  \"")),
        1 => plain_text().prop_map(|t| format!("`{t}#{t}`")),
        1 => plain_text().prop_map(|t| format!("\"\"\"{t};{t}\"\"\"")),
        1 => (plain_text(), plain_text()).prop_map(|(a, b)| format!("{a} \\\n  {b}")),
        1 => (plain_text(), plain_text()).prop_map(|(a, b)| format!("`{a}\n{b}`")),
        1 => (plain_text(), plain_text()).prop_map(|(a, b)| format!("{a}#{b}")),
    ]
}

#[derive(Clone, Debug)]
enum Line {
    Blank(String),
    Comment {
        indent: String,
        run: String,
        text: String,
    },
    Header {
        indent: String,
        name: String,
        comment: Option<(String, String, String)>,
    },
    Key {
        indent: String,
        key: String,
        delimiter: char,
        around: (String, String),
        value: String,
        comment: Option<(String, String, String)>,
    },
}

fn inline_comment() -> impl Strategy<Value = Option<(String, String, String)>> {
    prop::option::weighted(
        0.3,
        (prop_oneof![Just(" ".to_owned()), Just("  ".to_owned())], marker_run(), plain_text()),
    )
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        2 => spaces().prop_map(Line::Blank),
        3 => (spaces(), marker_run(), plain_text()).prop_map(|(indent, run, text)| Line::Comment { indent, run, text }),
        1 => (spaces(), "[a-zA-Z0-9 ._-]{1,8}", inline_comment())
            .prop_map(|(indent, name, comment)| Line::Header { indent, name, comment }),
        5 => (
            spaces(),
            prop_oneof![4 => "[a-zA-Z0-9_.]{1,8}", 1 => Just("\"quoted key\"".to_owned()), 1 => Just("`k=v`".to_owned())],
            prop_oneof![4 => Just('='), 1 => Just(':')],
            (spaces(), spaces()),
            value_form(),
            inline_comment(),
        )
            .prop_map(|(indent, key, delimiter, around, value, comment)| Line::Key {
                indent,
                key,
                delimiter,
                around,
                value,
                comment,
            }),
    ]
}

fn render(lines: &[Line], crlf: bool, final_newline: bool) -> String {
    let mut out = String::new();
    for line in lines {
        match line {
            Line::Blank(spaces) => out.push_str(spaces),
            Line::Comment { indent, run, text } => out.push_str(&format!("{indent}{run}{text}")),
            Line::Header { indent, name, comment } => {
                out.push_str(&format!("{indent}[{name}]"));
                if let Some((gap, run, text)) = comment {
                    out.push_str(&format!("{gap}{run}{text}"));
                }
            }
            Line::Key { indent, key, delimiter, around, value, comment } => {
                out.push_str(&format!("{indent}{key}{}{delimiter}{}{value}", around.0, around.1));
                // An inline comment reads as one only after a plain value.
                let plain = !value.is_empty() && !value.contains(['`', '"', '\'', '\\', '#', ';', '\n']);
                if let Some((gap, run, text)) = comment.as_ref().filter(|_| plain) {
                    out.push_str(&format!("{gap}{run}{text}"));
                }
            }
        }
        out.push('\n');
    }
    if !final_newline {
        out.pop();
    }
    if crlf { out.replace('\n', "\r\n") } else { out }
}

fn document() -> impl Strategy<Value = String> {
    (prop::collection::vec(line(), 0..24), any::<bool>(), any::<bool>())
        .prop_map(|(lines, crlf, final_newline)| render(&lines, crlf, final_newline))
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_parse_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn ini_like_text_parses_or_fails_cleanly(text in "[\\[\\]=:;#`\"' \\\\a-c\\n\\r\\t]{0,80}") {
        if let Ok((tree, layout)) = parse(text.as_bytes()) {
            // Writing an unchanged tree gives the text back.
            let out = emit_spliced(&tree, &layout, None, &opts()).unwrap();
            prop_assert_eq!(out, text.as_bytes());
        }
    }

    #[test]
    fn unchanged_trees_are_written_back_unchanged(text in document()) {
        let (tree, layout) = parse_ok(text.as_bytes());
        let out = emit_spliced(&tree, &layout, None, &opts()).unwrap();
        prop_assert_eq!(String::from_utf8(out).unwrap(), text);
    }

    #[test]
    fn encrypted_documents_decrypt_to_themselves(text in document(), xchacha in any::<bool>()) {
        // Repeated keys are refused before encrypting.
        prop_assume!(crate::store::parse_plain(crate::store::Format::Ini, text.as_bytes()).is_ok());
        let kind = if xchacha { CipherKind::XChaCha20Poly1305 } else { CipherKind::Aes256Gcm };
        let back = round_trip(text.as_bytes(), kind);
        prop_assert_eq!(String::from_utf8(back).unwrap(), text);
    }

    #[test]
    fn fresh_output_reads_back_as_the_same_sections_and_keys(text in document()) {
        let (tree, _) = parse_ok(text.as_bytes());
        let fresh = emit_fresh(&tree, None, &opts()).unwrap();
        let (again, _) = parse_ok(&fresh);
        prop_assert_eq!(keys_of(&again), keys_of(&tree));
    }
}

/// Section and key names in order (go-ini's writer keeps them, though not
/// every value: `"x"` comes back as `x`).
fn keys_of(tree: &Tree) -> Vec<String> {
    let mut names = Vec::new();
    for item in &tree.documents[0].items {
        let crate::tree::MapItem::Pair(section) = item else { continue };
        let Value::Map(items) = &section.value.value else { continue };
        if items.is_empty() && section.key.name == parse::DEFAULT_SECTION {
            // go-ini leaves out an empty first DEFAULT section.
            continue;
        }
        names.push(format!("[{}]", section.key.name));
        let mut seen = std::collections::HashSet::new();
        for item in items {
            if let crate::tree::MapItem::Pair(pair) = item
                && seen.insert(pair.key.name.clone())
            {
                names.push(pair.key.name.clone());
            }
        }
    }
    names
}
