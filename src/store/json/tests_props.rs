//! Property tests: random documents in random layouts.

use proptest::prelude::*;

use super::tests::{check_own_round_trip, leaves};
use super::*;
use crate::store::StoreOptions;
use crate::tree::{MapItem, Node, Scalar, SeqItem, Tree, Value};

/// A JSON value whose strings and numbers are kept as their source text.
#[derive(Clone, Debug)]
enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| format!("{f:?}")),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| format!("{f:e}")),
        "-?(0|[1-9][0-9]{0,25})(\\.[0-9]{1,5})?([eE][+-]?[0-9]{1,2})?",
    ]
}

/// The contents of a string literal, escapes as written.
fn string_body() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-zA-Z0-9 _.-]{1,5}",
        1 => Just("\\n".to_owned()),
        1 => Just("\\\"".to_owned()),
        1 => Just("\\\\".to_owned()),
        1 => Just("\\/".to_owned()),
        1 => Just("\\u00e9".to_owned()),
        1 => Just("\\uD83D\\uDE80".to_owned()),
        1 => Just("\\ud800".to_owned()),
        1 => Just("<>&".to_owned()),
        1 => Just("é".to_owned()),
        1 => Just("🚀".to_owned()),
        1 => Just("\u{2028}".to_owned()),
        1 => Just("\u{7f}".to_owned()),
        1 => Just("\\u0000\\u001F".to_owned()),
        1 => Just("\\b\\f\\r\\t".to_owned()),
    ];
    prop::collection::vec(piece, 0..5).prop_map(|pieces| pieces.concat())
}

fn value() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        number().prop_map(J::Num),
        string_body().prop_map(J::Str),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(J::Arr),
            prop::collection::vec((string_body(), inner), 0..6).prop_map(J::Obj),
        ]
    })
}

/// A document: the top-level members, and whitespace choices.
fn document() -> impl Strategy<Value = (Vec<(String, J)>, Vec<u8>)> {
    (prop::collection::vec((string_body(), value()), 0..8), prop::collection::vec(0u8..8, 1..40))
}

const SPACES: [&str; 8] = ["", " ", "\n", "\n  ", "\n\t\t", "\t", "\r\n    ", "  "];

struct Writer<'a> {
    out: String,
    choices: &'a [u8],
    next: usize,
}

impl Writer<'_> {
    fn ws(&mut self) {
        let choice = self.choices[self.next % self.choices.len()];
        self.next += 1;
        self.out.push_str(SPACES[choice as usize]);
    }

    fn value(&mut self, value: &J) {
        match value {
            J::Null => self.out.push_str("null"),
            J::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            J::Num(text) => self.out.push_str(text),
            J::Str(body) => {
                self.out.push('"');
                self.out.push_str(body);
                self.out.push('"');
            }
            J::Arr(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.ws();
                    self.value(item);
                    self.ws();
                }
                self.out.push(']');
            }
            J::Obj(members) => self.object(members),
        }
    }

    fn object(&mut self, members: &[(String, J)]) {
        self.out.push('{');
        for (i, (key, item)) in members.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.ws();
            self.out.push('"');
            self.out.push_str(key);
            self.out.push('"');
            self.ws();
            self.out.push(':');
            self.ws();
            self.value(item);
            self.ws();
        }
        self.out.push('}');
    }
}

fn render((members, choices): &(Vec<(String, J)>, Vec<u8>)) -> String {
    let mut writer = Writer { out: String::new(), choices, next: 0 };
    writer.ws();
    writer.object(members);
    writer.ws();
    writer.out
}

/// Trees equal as sops sees them: same keys in the same order, same
/// strings, numbers with the same canonical (MAC) bytes.
fn same_items(a: &[MapItem], b: &[MapItem]) -> bool {
    let pairs = |items: &'_ [MapItem]| -> Vec<(String, Node)> {
        items
            .iter()
            .filter_map(|item| match item {
                MapItem::Pair(p) => Some((p.key.name.clone(), p.value.clone())),
                MapItem::Comment(_) => None,
            })
            .collect()
    };
    let (a, b) = (pairs(a), pairs(b));
    a.len() == b.len() && a.iter().zip(&b).all(|((ka, va), (kb, vb))| ka == kb && same_node(va, vb))
}

fn same_node(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Map(a), Value::Map(b)) => same_items(a, b),
        (Value::Seq(a), Value::Seq(b)) => {
            let values = |items: &[SeqItem]| -> Vec<Node> {
                items
                    .iter()
                    .filter_map(|item| match item {
                        SeqItem::Value(node) => Some(node.clone()),
                        SeqItem::Comment(_) => None,
                    })
                    .collect()
            };
            let (a, b) = (values(a), values(b));
            a.len() == b.len() && a.iter().zip(&b).all(|(a, b)| same_node(a, b))
        }
        (Value::Scalar(a), Value::Scalar(b)) => {
            let number = |s: &Scalar| matches!(s, Scalar::Int(_) | Scalar::Float(_) | Scalar::BigInt(_));
            if number(a) && number(b) { a.mac_bytes() == b.mac_bytes() } else { a == b }
        }
        _ => false,
    }
}

fn same_tree(a: &Tree, b: &Tree) -> bool {
    same_items(&a.documents[0].items, &b.documents[0].items)
}

proptest! {
    /// The style memory skips strings written as themselves in quotes
    /// without rendering them: rendering one gives that very text.
    #[test]
    fn a_string_that_needs_no_escape_renders_as_itself_in_quotes(text in "[ -~]{0,40}|[a-zA-Z0-9+/=,:\\[\\]]{0,200}") {
        if !super::emit::needs_escape(text.as_bytes()) {
            let rendered = super::emit::render_scalar(&Scalar::str(&text)).unwrap();
            prop_assert_eq!(rendered, format!("\"{text}\""));
        }
    }

    /// Strings without a byte that needs escaping are copied whole; the
    /// byte-by-byte writer agrees.
    #[test]
    fn the_no_escape_shortcut_writes_what_the_escaping_loop_does(text in "[ -~]{0,40}|[ -~\u{80}-\u{10FFFF}]{0,40}|[a-zA-Z0-9+/=,:\\[\\]]{0,200}") {
        let mut fast = crate::secret::SecretBuf::with_capacity(0);
        super::emit::write_valid(&mut fast, text.as_bytes());
        let mut slow = crate::secret::SecretBuf::with_capacity(0);
        super::emit::write_escaped(&mut slow, text.as_bytes());
        prop_assert_eq!(fast.as_slice(), slow.as_slice());
    }


    #[test]
    fn fresh_emission_reparses_to_the_same_tree(doc in document()) {
        let text = render(&doc);
        let (tree, _) = parse(text.as_bytes()).unwrap();
        let out = emit_fresh(&tree, None, &StoreOptions::default()).unwrap();
        let (again, _) = parse(&out).unwrap();
        prop_assert!(same_tree(&tree, &again) || tree.top_level("sops").is_some());
        // Fresh emission is a fixed point.
        let out2 = emit_fresh(&again, None, &StoreOptions::default()).unwrap();
        prop_assert_eq!(out, out2);
    }

    #[test]
    fn splicing_without_changes_is_the_identity(doc in document()) {
        let text = render(&doc);
        let (tree, layout) = parse(text.as_bytes()).unwrap();
        prop_assume!(tree.top_level("sops").is_none());
        let out = emit_spliced(&tree, &layout, None, &StoreOptions::default()).unwrap();
        prop_assert_eq!(String::from_utf8(out).unwrap(), text);
    }

    #[test]
    fn splicing_every_value_reparses_to_the_same_tree(doc in document()) {
        let text = render(&doc);
        let (mut tree, layout) = parse(text.as_bytes()).unwrap();
        prop_assume!(tree.top_level("sops").is_none());
        for leaf in leaves(&mut tree) {
            leaf.changed = true;
        }
        let out = emit_spliced(&tree, &layout, None, &StoreOptions::default()).unwrap();
        let (again, _) = parse(&out).unwrap();
        prop_assert!(same_tree(&tree, &again));
    }

    #[test]
    fn encrypt_then_decrypt_keeps_the_layout(doc in document()) {
        let text = render(&doc);
        let (tree, _) = parse(text.as_bytes()).unwrap();
        prop_assume!(tree.top_level("sops").is_none());
        check_own_round_trip(text.as_bytes());
    }

    #[test]
    fn damaged_documents_never_panic_and_agree_with_serde_json(
        doc in document(),
        cut in any::<prop::sample::Index>(),
        byte in prop::sample::select(b"{}[],:\" \\0aeE.-+nx\n".to_vec()),
        insert in any::<bool>(),
    ) {
        let mut text = render(&doc).into_bytes();
        let at = cut.index(text.len() + 1);
        if insert {
            text.insert(at, byte);
        } else if at < text.len() {
            text.remove(at);
        }
        let ours = parse(&text);
        if let Err(err) = &ours {
            prop_assert!(matches!(err.exit_code(), 2));
        }
        // serde_json rejects lone surrogates, which Go (and we) accept.
        if !text.windows(2).any(|w| w == b"\\u") {
            let theirs = serde_json::from_slice::<serde_json::Value>(&text);
            let theirs_ok = matches!(theirs, Ok(serde_json::Value::Object(_)));
            prop_assert_eq!(ours.is_ok(), theirs_ok, "{}", String::from_utf8_lossy(&text));
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = parse(&bytes);
        let mut text = b"{\"a\": ".to_vec();
        text.extend_from_slice(&bytes);
        let _ = parse(&text);
    }
}
