//! The dialect people mean ([`interpret`]): a table of lines as written in
//! a file, read by the store and then interpreted, plus its properties.

use proptest::prelude::*;

use super::tests::parse_ok;
use super::*;

/// Each line as a file spells it, and the (name, value) it means.
const CASES: &[(&str, &str, &str)] = &[
    // Names.
    ("A=1", "A", "1"),
    ("export A=1", "A", "1"),
    ("export\tA=1", "A", "1"),
    ("  export   A  =1", "A", "1"),
    ("exported=1", "exported", "1"),
    ("export=1", "export", "1"),
    ("export =1", "export", "1"),
    ("A B=1", "A B", "1"),
    ("=1", "", "1"),
    // Unquoted: trimmed, cut at an inline comment, `\n` a newline.
    ("A=  spaced  ", "A", "spaced"),
    ("A=\tx\t", "A", "x"),
    ("A=value # comment", "A", "value"),
    ("A=value\t# comment", "A", "value"),
    ("A=value#not-a-comment", "A", "value#not-a-comment"),
    ("A=#not-a-comment", "A", "#not-a-comment"),
    ("A= # only a comment", "A", ""),
    ("A=a=b=c", "A", "a=b=c"),
    ("A=", "A", ""),
    ("A=multi\\nline", "A", "multi\nline"),
    ("A=a\\tb", "A", "a\\tb"),
    ("A=a\\\\nb", "A", "a\\\nb"),
    ("A=it's", "A", "it's"),
    ("A=x\r", "A", "x"),
    // Single quotes: literal.
    ("A='single'", "A", "single"),
    ("A='with \"double\" inside'", "A", "with \"double\" inside"),
    ("A='no \\n escapes'", "A", "no \\n escapes"),
    ("A='#hash' # comment", "A", "#hash"),
    ("A=  'padded'  ", "A", "padded"),
    ("A=''", "A", ""),
    ("A='unclosed", "A", "'unclosed"),
    ("A='a' b", "A", "'a' b"),
    ("A='a'\r", "A", "a"),
    // Double quotes: escapes.
    ("A=\"double\"", "A", "double"),
    ("A=\"\"", "A", ""),
    ("A=\"a\\nb\"", "A", "a\nb"),
    ("A=\"a\\tb\"", "A", "a\tb"),
    ("A=\"say \\\"hi\\\"\"", "A", "say \"hi\""),
    ("A=\"back\\\\slash\"", "A", "back\\slash"),
    ("A=\"a\\\\nb\"", "A", "a\\nb"),
    ("A=\"keep \\x and \\$\"", "A", "keep \\x and \\$"),
    ("A=\"it's\"", "A", "it's"),
    ("A=\"# not a comment\" # a comment", "A", "# not a comment"),
    ("A=\"x\"#comment", "A", "x"),
    ("A= \"spaced\" ", "A", "spaced"),
    ("A=\"trailing backslash\\\"", "A", "\"trailing backslash\\\""),
    ("A=\"unclosed", "A", "\"unclosed"),
    ("A=\"a\" \"b\"", "A", "\"a\" \"b\""),
    ("A=\"x\"\r", "A", "x"),
    ("export A=\"x\" # c", "A", "x"),
    ("A=\"h\u{e9}llo \u{1F680}\"", "A", "h\u{e9}llo \u{1F680}"),
];

#[test]
fn interprets_what_people_write() {
    for (line, name, value) in CASES {
        let (tree, _) = parse_ok(line.as_bytes());
        let [MapItem::Pair(pair)] = tree.documents[0].items.as_slice() else { panic!("{line}") };
        let stored = pair.value.value.value_str();
        let got = interpret(&pair.key.name, &stored);
        assert_eq!((got.name.as_str(), got.value.as_str()), (*name, *value), "{line:?}");
    }
}

trait StoredStr {
    fn value_str(&self) -> String;
}

impl StoredStr for Value {
    fn value_str(&self) -> String {
        match self {
            Value::Scalar(scalar) => scalar.as_str().unwrap().to_owned(),
            _ => panic!("not a string"),
        }
    }
}

#[test]
fn multi_line_double_quoted_values_mean_their_lines() {
    let (tree, _) = parse_ok(&super::tests::data("multiline.env"));
    let values: Vec<(String, String)> = tree.documents[0]
        .items
        .iter()
        .filter_map(|item| match item {
            MapItem::Pair(p) => {
                let got = interpret(&p.key.name, &p.value.value.value_str());
                Some((got.name.clone(), got.value.to_string()))
            }
            MapItem::Comment(_) => None,
        })
        .collect();
    let expected = [
        ("BEFORE", "1"),
        (
            "CERT",
            "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2Vy+dGlmaWNhdGU=\n\n# not a comment: inside the value\n\
             KEY=VALUE inside the value\n-----END CERTIFICATE-----",
        ),
        ("SPACED", "two\nlines"),
        ("ESCAPED", "a \"quoted\" word\nand an escaped \n too"),
        ("EXPORTED", "x\ny"),
        ("EMPTY_LINES", "\n\n"),
        ("AFTER", "2"),
    ];
    let expected: Vec<(String, String)> =
        expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!(values, expected);
}

#[test]
fn works_on_values_from_other_formats_too() {
    // A YAML string with a real newline, converted: the newline stays.
    assert_eq!(interpret("K", "a\nb").value.as_str(), "a\nb");
    assert_eq!(interpret("K", "\"a\nb\"").value.as_str(), "a\nb");
    assert_eq!(interpret("K", "'a\nb'").value.as_str(), "a\\nb");
    assert_eq!(interpret("K", "").value.as_str(), "");
}

#[test]
fn debug_shows_the_name_but_not_the_value() {
    let shown = format!("{:?}", interpret("export TOKEN", "hunter2"));
    assert!(shown.contains("TOKEN") && !shown.contains("hunter2"), "{shown}");
}

proptest! {
    #[test]
    fn never_panics_and_names_are_trimmed(
        key in "[ \texport]{0,3}[A-Za-z_ \t=]{0,8}",
        value in "[ \t\r\n\"'\\\\n#a=\u{e9}]{0,16}",
    ) {
        let got = interpret(&key, &value);
        prop_assert_eq!(got.name.trim_matches([' ', '\t']), got.name.as_str());
        prop_assert!(!got.name.starts_with("export ") && !got.name.starts_with("export\t"));
        // The value is never longer than what it was read from.
        prop_assert!(got.value.len() <= value.len() + value.matches('\n').count());
    }

    #[test]
    fn plain_words_mean_themselves(word in "[A-Za-z0-9_./:@%+-]{0,20}") {
        for spelled in [word.clone(), format!("'{word}'"), format!("\"{word}\"")] {
            let got = interpret("K", &spelled);
            prop_assert_eq!(got.value.as_str(), word.as_str());
        }
    }
}
