//! Tests of `emit_scalar`: go-yaml's scalar styles, and the shortcuts
//! held to the full paths they skip.

use super::*;

proptest::proptest! {
    /// The letters-and-digits shortcut changes nothing: random text
    /// over letters, digits, every indicator, blanks, breaks and a few
    /// non-ASCII and unprintable characters.
    #[test]
    fn the_analysis_shortcut_is_the_full_scan(text in r#"[a-zA-Z09 \t\n\r:#,?\[\]{}&*!|>'"%@`.\-=é\x{85}\x{2028}\x{1}\x{FEFF}]{0,16}"#) {
        proptest::prop_assert_eq!(Analysis::scan(&text, true), Analysis::scan(&text, false), "{:?}", text);
        proptest::prop_assert_eq!(Analysis::of(&text), Analysis::scan(&text, false), "{:?}", text);
    }

    /// The quiet-text answer is the full scan's, for text of letters,
    /// digits, spaces and line feeds (and a few that are not, which it
    /// must leave to the scan).
    #[test]
    fn the_quiet_text_answer_is_the_full_scan(text in r#"[ab0 \n]{0,24}|[ab \n]{0,8}[\r\t:#-][ab \n]{0,8}"#) {
        if let Some(quiet) = Analysis::of_quiet_ascii(text.as_bytes()) {
            proptest::prop_assert_eq!(quiet, Analysis::scan(&text, false), "{:?}", text);
        } else {
            proptest::prop_assert!(text.is_empty() || text.bytes().any(|b| !(b.is_ascii_alphanumeric() || b == b' ' || b == b'\n')), "{:?}", text);
        }
    }

    /// A literal block written line by line is the block written
    /// character by character (the writer's state included), for text
    /// over every kind of line break, blanks and characters whose first
    /// bytes are those of the non-ASCII breaks.
    #[test]
    fn a_literal_block_line_by_line_is_character_by_character(
        text in r"[ab \t\n\r\x{85}\x{2028}\x{2029}\x{a3}\x{2020}é]{0,24}",
        indent in 0usize..6,
        column in 0usize..4,
    ) {
        let start = || {
            let mut w = Writer::new();
            w.push_str(&"k".repeat(column));
            w.line_start = column == 0;
            w
        };
        let mut by_line = start();
        write_literal_lines(&mut by_line, &text, indent);
        let mut by_char = start();
        write_literal_lines_by_character(&mut by_char, &text, indent);
        proptest::prop_assert_eq!(by_line.out.as_slice(), by_char.out.as_slice(), "{:?}", text);
        proptest::prop_assert_eq!(
            (by_line.column, by_line.line_start, by_line.whitespace),
            (by_char.column, by_char.line_start, by_char.whitespace)
        );
    }
}

/// The lines' loop as it was, one character at a time.
fn write_literal_lines_by_character(w: &mut Writer, text: &str, indent: usize) {
    let mut after_break = true;
    for c in text.chars() {
        if is_break(c) {
            w.text_break(c);
            after_break = true;
        } else {
            if after_break {
                w.indent_to(indent);
            }
            w.push_char(c);
            w.line_start = false;
            after_break = false;
        }
    }
}

#[test]
fn render_scalar_in_context() {
    let value = ScalarContext { flow: false, block_indent: 4, is_key: false, parent_column: 0 };
    let key = ScalarContext { is_key: true, ..value };
    let flow = ScalarContext { flow: true, ..value };
    assert_eq!(render_scalar(&Scalar::str("yes"), &value), "\"yes\"");
    assert_eq!(render_scalar(&Scalar::str("a\nb"), &value), "|-\n    a\n    b\n");
    assert_eq!(render_scalar(&Scalar::str("a\nb"), &key), "\"a\\nb\"");
    assert_eq!(render_scalar(&Scalar::str("a\nb"), &flow), "\"a\\nb\"");
    assert_eq!(render_scalar(&Scalar::str("a,b"), &value), "a,b");
    assert_eq!(render_scalar(&Scalar::str("a,b"), &flow), "'a,b'");
    assert_eq!(render_scalar(&Scalar::Float(1e21), &value), "1e+21");
    assert_eq!(render_scalar(&Scalar::Null, &value), "null");
    // `d: 2024-01-01` decrypts to `d: 2024-01-01T00:00:00Z` (sops 3.11).
    let Some(ts) = crate::timestamp::Timestamp::parse_yaml("2024-01-01") else {
        panic!("date");
    };
    assert_eq!(render_scalar(&Scalar::Time(ts), &value), "2024-01-01T00:00:00Z");
    assert_eq!(render_scalar(&Scalar::str("2024-01-01"), &value), "\"2024-01-01\"");
    // A multi-line string starting with a tab: sops prints null
    // (recorded: {"k": "\ty\nz"} converts to `k: null`), losing the
    // value; we keep it in double quotes (docs/compatibility.md).
    assert_eq!(render_scalar(&Scalar::str("\ty\nz"), &value), "\"\\ty\\nz\"");
}

/// `!!binary` values holding invalid UTF-8: `sops encrypt` then `sops
/// decrypt` of tests/data/yaml_emit/bin.yaml gives `b0: !!binary /w==`,
/// a literal block of 70-column lines for longer ones.
#[test]
fn invalid_utf8_as_binary() {
    let ctx = ScalarContext { flow: false, block_indent: 4, is_key: false, parent_column: 0 };
    let bytes = |b: &[u8]| Scalar::Str(crate::secret::SecretBytes::new(b.to_vec()));
    assert_eq!(render_scalar(&bytes(b"\xff"), &ctx), "!!binary /w==");
    assert_eq!(render_scalar(&bytes(b"ok\xc3"), &ctx), "!!binary b2vD");
    let mut long = b"\xff".to_vec();
    long.extend(std::iter::repeat_n(b'a', 52));
    assert_eq!(
        render_scalar(&bytes(&long), &ctx),
        "!!binary |\n    /2FhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYW\n    E=\n"
    );
}
