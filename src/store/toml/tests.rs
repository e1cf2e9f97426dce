//! Tests of the TOML store's reader and writers on their own: typing,
//! where comments go, splicing, the fresh layout, and hostile input.
//! Encryption round trips are in `tests_ops.rs`.

use super::*;
use crate::error::Error;
use crate::secret::SecretBytes;
use crate::store::StoreOptions;
use crate::tree::{Comment, Document, Key, MapItem, Node, Pair, Scalar, SeqItem, Tree, Value};

pub(super) fn data(file: &str) -> Vec<u8> {
    let full = format!("{}/tests/data/toml/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

pub(super) const CORPUS: [&str; 7] = [
    "types.toml",
    "comments.toml",
    "layout.toml",
    "cargo_like.toml",
    "no_final_newline.toml",
    "crlf.toml",
    "only_comment.toml",
];

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn opts() -> StoreOptions {
    StoreOptions::default()
}

fn parse_ok(text: &str) -> (Tree, Layout) {
    parse(text.as_bytes()).unwrap_or_else(|e| panic!("parse failed: {e}"))
}

fn get<'t>(items: &'t [MapItem], path: &[&str]) -> &'t Node {
    let (first, rest) = path.split_first().expect("a path");
    let node = crate::tree::map_get(items, first).unwrap_or_else(|| panic!("no {first}"));
    match (rest.is_empty(), &node.value) {
        (true, _) => node,
        (false, Value::Map(items)) => get(items, rest),
        _ => panic!("{first} is not a table"),
    }
}

fn scalar<'t>(tree: &'t Tree, path: &[&str]) -> &'t Scalar {
    match &get(&tree.documents[0].items, path).value {
        Value::Scalar(s) => s,
        other => panic!("not a scalar: {other:?}"),
    }
}

/// Comment texts of a mapping or sequence, in order, with what follows each
/// (the next pair's key, or `$` at the end), to check placement.
fn comment_places(items: &[MapItem]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if let MapItem::Comment(c) = item {
            let next = items[i + 1..]
                .iter()
                .find_map(|item| match item {
                    MapItem::Pair(p) => Some(p.key.name.clone()),
                    MapItem::Comment(_) => None,
                })
                .unwrap_or_else(|| "$".into());
            out.push((c.text.as_str().unwrap().to_owned(), next));
        }
    }
    out
}

fn seq_comments(node: &Node) -> Vec<String> {
    let Value::Seq(items) = &node.value else { panic!("not a sequence") };
    items
        .iter()
        .filter_map(|item| match item {
            SeqItem::Comment(c) => Some(c.text.as_str().unwrap().to_owned()),
            SeqItem::Value(_) => None,
        })
        .collect()
}

#[test]
fn values_get_their_types() {
    let (tree, _) = parse_ok(&show(&data("types.toml")));
    let s = |path: &str| scalar(&tree, &[path]).clone();
    assert_eq!(s("basic"), Scalar::str("hello \"world\"\n\ttab é 🚀"));
    assert_eq!(s("literal"), Scalar::str(r"C:\Users\nodejs\templates"));
    assert_eq!(s("multi_basic"), Scalar::str("Roses are red\n  Violets are \"blue\" and trimmed\n"));
    assert_eq!(s("int"), Scalar::Int(42));
    assert_eq!(s("plus"), Scalar::Int(99));
    assert_eq!(s("underscored"), Scalar::Int(1_000_000));
    assert_eq!(s("hex"), Scalar::Int(0xDEAD_BEEF));
    assert_eq!(s("octal"), Scalar::Int(0o755));
    assert_eq!(s("binary"), Scalar::Int(13));
    assert_eq!(s("big"), Scalar::Int(i64::MAX));
    assert_eq!(s("small"), Scalar::Int(i64::MIN));
    assert_eq!(s("exp"), Scalar::Float(5e22));
    assert_eq!(s("trailing_zero"), Scalar::Float(1.5));
    assert_eq!(s("inf"), Scalar::Float(f64::INFINITY));
    assert_eq!(s("ninf"), Scalar::Float(f64::NEG_INFINITY));
    assert!(matches!(s("nan"), Scalar::Float(f) if f.is_nan()));
    assert!(matches!(s("neg_zero"), Scalar::Float(f) if f == 0.0 && f.is_sign_negative()));
    assert_eq!(s("yes"), Scalar::Bool(true));
    let Scalar::Time(odt) = s("odt_offset") else { panic!("offset date-time is a time") };
    assert_eq!((odt.year, odt.hour, odt.nanos, odt.offset_seconds), (1979, 0, 999_999_000, -7 * 3600));
    assert!(matches!(s("odt_lower"), Scalar::Time(_)));
    // No offset: strings holding the TOML literal.
    assert_eq!(s("ldt"), Scalar::str("1979-05-27T07:32:00"));
    assert_eq!(s("ld"), Scalar::str("1979-05-27"));
    assert_eq!(s("lt_frac"), Scalar::str("00:32:00.999999"));
    assert_eq!(s("looks_like_date"), Scalar::str("1979-05-27"));
}

#[test]
fn tables_nest_in_first_appearance_order() {
    let (tree, _) = parse_ok(&show(&data("layout.toml")));
    let items = &tree.documents[0].items;
    let keys: Vec<&str> = items
        .iter()
        .filter_map(|item| match item {
            MapItem::Pair(p) => Some(p.key.name.as_str()),
            MapItem::Comment(_) => None,
        })
        .take(5)
        .collect();
    // `a.y` joins `a`, which stays where it first appeared.
    assert_eq!(keys, ["a", "b", "quoted key", "literal key", "spaced"]);
    assert_eq!(get(items, &["a", "y"]).value.clone_scalar(), Some(Scalar::Int(3)));
    assert_eq!(get(items, &["a.b", "c"]).value.clone_scalar(), Some(Scalar::Int(4)));
    assert!(matches!(
        get(items, &["fruit", "apple", "texture", "smooth"]).value,
        Value::Scalar(Scalar::Bool(true))
    ));
    assert!(matches!(get(items, &["x", "y", "z", "w"]).value, Value::Map(ref m) if m.is_empty()));
    let Value::Seq(products) = &get(items, &["products"]).value else { panic!("array of tables") };
    assert_eq!(products.len(), 3);
    let Value::Seq(fruits) = &get(items, &["fruits"]).value else { panic!("array of tables") };
    let SeqItem::Value(apple) = &fruits[0] else { panic!() };
    let Value::Map(apple) = &apple.value else { panic!() };
    assert!(matches!(get(apple, &["varieties"]).value, Value::Seq(ref v) if v.len() == 2));
    assert!(matches!(get(apple, &["physical", "color"]).value, Value::Scalar(_)));
    let Value::Seq(mixed) = &get(items, &["mixed"]).value else { panic!("array") };
    assert_eq!(mixed.len(), 7);
}

trait CloneScalar {
    fn clone_scalar(&self) -> Option<Scalar>;
}

impl CloneScalar for Value {
    fn clone_scalar(&self) -> Option<Scalar> {
        match self {
            Value::Scalar(s) => Some(s.clone()),
            _ => None,
        }
    }
}

#[test]
fn comments_belong_to_the_container_they_are_written_in() {
    let (tree, _) = parse_ok(&show(&data("comments.toml")));
    let root = &tree.documents[0].items;
    let places = comment_places(root);
    let expect = |text: &str, next: &str| {
        assert!(places.contains(&(text.to_owned(), next.to_owned())), "{text:?} before {next}: {places:?}");
    };
    expect(" Comment at the very top.", "title");
    expect(" after a value", "indented");
    expect(" an indented comment", "indented");
    expect("no space after the hash", "empty_comment_above");
    expect("", "empty_comment_above");
    // Header comments go to the parent, just before the table.
    expect(" Above a table header.", "database");
    expect(" on the header line", "database");
    expect(" The very last line is a comment.", "$");
    // A dotted key's comments go to the innermost table.
    let server = comment_places(match &get(root, &["server"]).value {
        Value::Map(items) => items,
        _ => panic!(),
    });
    assert_eq!(server[0], (" Above a dotted key.".into(), "host".into()));
    assert_eq!(server[1], (" after a dotted value".into(), "port".into()));
    // Inside a table body, including its end.
    let database = comment_places(match &get(root, &["database"]).value {
        Value::Map(items) => items,
        _ => panic!(),
    });
    assert_eq!(database, [(" trailing".to_owned(), "$".to_owned())]);
    // " At the end of a table body." is above the next header, an array of
    // tables: it goes to that array.
    // Arrays and arrays of tables hold their own.
    assert_eq!(
        seq_comments(get(root, &["numbers"])),
        [
            " after the opening bracket",
            " after one",
            " on its own line in the array",
            " before the comma",
            " at the end of the array"
        ]
    );
    assert_eq!(seq_comments(get(root, &["nested"])), [" after an inner array"]);
    assert_eq!(
        seq_comments(get(root, &["servers"])),
        [
            " At the end of a table body.",
            " Above an array of tables.",
            " on the first element's header",
            " Between elements."
        ]
    );
}

#[test]
fn unchanged_trees_write_back_byte_for_byte() {
    for file in CORPUS {
        let input = data(file);
        let (tree, layout) = parse(&input).unwrap();
        let out = emit_spliced(&tree, &layout, None, &opts()).unwrap();
        assert_eq!(show(&out), show(&input), "{file}");
    }
}

/// Mark every scalar changed (as decryption does) and every comment too.
fn touch_all(items: &mut [MapItem]) {
    fn touch(node: &mut Node) {
        match &mut node.value {
            Value::Scalar(_) => node.changed = true,
            Value::Map(items) => touch_all(items),
            Value::Seq(items) => {
                for item in items {
                    match item {
                        SeqItem::Value(v) => touch(v),
                        SeqItem::Comment(c) => c.changed = true,
                    }
                }
            }
        }
    }
    for item in items {
        match item {
            MapItem::Pair(p) => touch(&mut p.value),
            MapItem::Comment(c) => c.changed = true,
        }
    }
}

#[test]
fn rewritten_values_come_back_through_style_memory() {
    for file in CORPUS {
        let input = data(file);
        let (mut tree, mut layout) = parse(&input).unwrap();
        let styled = layout.styled_tokens(&tree);
        touch_all(&mut tree.documents[0].items);
        layout.set_overrides(styled.clone());
        let out = emit_spliced(&tree, &layout, None, &opts()).unwrap();
        assert_eq!(show(&out), show(&input), "{file}");
        // Without the memory the values are rendered plainly, and the file
        // reads back to the same tree.
        layout.set_overrides(Default::default());
        let plain = emit_spliced(&tree, &layout, None, &opts()).unwrap();
        let (again, _) = parse(&plain).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_same_tree(&tree, &again, file);
    }
}

#[test]
fn style_memory_is_ignored_when_it_spells_another_value() {
    let (mut tree, mut layout) = parse_ok("a = 0x1F\nb = 'x'\n");
    let styled = layout.styled_tokens(&tree);
    assert_eq!(styled.len(), 2);
    for item in &mut tree.documents[0].items {
        if let MapItem::Pair(p) = item {
            p.value.changed = true;
            if p.key.name == "a" {
                p.value.value = Value::Scalar(Scalar::Int(32));
            }
        }
    }
    layout.set_overrides(styled);
    let out = emit_spliced(&tree, &layout, None, &opts()).unwrap();
    assert_eq!(show(&out), "a = 32\nb = 'x'\n");
}

/// Same entries, keys, scalars (NaN equal to NaN) and comments.
pub(super) fn assert_same_tree(a: &Tree, b: &Tree, what: &str) {
    fn items(a: &[MapItem], b: &[MapItem], what: &str) {
        assert_eq!(a.len(), b.len(), "{what}: entry count");
        for (x, y) in a.iter().zip(b) {
            match (x, y) {
                (MapItem::Pair(x), MapItem::Pair(y)) => {
                    assert_eq!(x.key, y.key, "{what}");
                    node(&x.value, &y.value, what);
                }
                (MapItem::Comment(x), MapItem::Comment(y)) => assert_eq!(x.text, y.text, "{what}"),
                _ => panic!("{what}: entry kinds differ"),
            }
        }
    }
    fn node(a: &Node, b: &Node, what: &str) {
        match (&a.value, &b.value) {
            (Value::Scalar(x), Value::Scalar(y)) => {
                assert!(crate::style::same_value(x, y), "{what}: {x:?} vs {y:?}")
            }
            (Value::Map(x), Value::Map(y)) => items(x, y, what),
            (Value::Seq(x), Value::Seq(y)) => {
                assert_eq!(x.len(), y.len(), "{what}: element count");
                for (x, y) in x.iter().zip(y) {
                    match (x, y) {
                        (SeqItem::Value(x), SeqItem::Value(y)) => node(x, y, what),
                        (SeqItem::Comment(x), SeqItem::Comment(y)) => assert_eq!(x.text, y.text, "{what}"),
                        _ => panic!("{what}: element kinds differ"),
                    }
                }
            }
            _ => panic!("{what}: node kinds differ"),
        }
    }
    assert_eq!(a.documents.len(), b.documents.len());
    for (x, y) in a.documents.iter().zip(&b.documents) {
        items(&x.items, &y.items, what);
    }
}

fn without_comments(tree: &Tree) -> Tree {
    fn items(items: &[MapItem]) -> Vec<MapItem> {
        items
            .iter()
            .filter_map(|item| match item {
                MapItem::Pair(p) => Some(MapItem::Pair(Pair { key: p.key.clone(), value: node(&p.value) })),
                MapItem::Comment(_) => None,
            })
            .collect()
    }
    fn node(n: &Node) -> Node {
        match &n.value {
            Value::Map(m) => Node::map(items(m)),
            Value::Seq(s) => Node::seq(
                s.iter()
                    .filter_map(|item| match item {
                        SeqItem::Value(v) => Some(SeqItem::Value(node(v))),
                        SeqItem::Comment(_) => None,
                    })
                    .collect(),
            ),
            Value::Scalar(_) => n.clone(),
        }
    }
    Tree { documents: tree.documents.iter().map(|d| Document { items: items(&d.items) }).collect() }
}

fn count_comments(tree: &Tree) -> usize {
    fn items(items: &[MapItem]) -> usize {
        items
            .iter()
            .map(|item| match item {
                MapItem::Pair(p) => node(&p.value),
                MapItem::Comment(_) => 1,
            })
            .sum()
    }
    fn node(n: &Node) -> usize {
        match &n.value {
            Value::Map(m) => items(m),
            Value::Seq(s) => s
                .iter()
                .map(|item| match item {
                    SeqItem::Value(v) => node(v),
                    SeqItem::Comment(_) => 1,
                })
                .sum(),
            Value::Scalar(_) => 0,
        }
    }
    tree.documents.iter().map(|d| items(&d.items)).sum()
}

fn pair(key: &str, value: Node) -> MapItem {
    MapItem::Pair(Pair { key: Key::new(key), value })
}

fn tree_of(items: Vec<MapItem>) -> Tree {
    Tree { documents: vec![Document { items }] }
}

fn map(items: Vec<MapItem>) -> Node {
    Node::map(items)
}

fn int(i: i64) -> Node {
    Node::scalar(Scalar::Int(i))
}

fn comment(text: &str) -> MapItem {
    MapItem::Comment(Comment::new(SecretBytes::from_text(text)))
}

#[test]
fn fresh_layout_keeps_the_tree_order() {
    let tree = tree_of(vec![
        pair("db", map(vec![pair("user", Node::scalar(Scalar::str("u"))), pair("port", int(5))])),
        comment(" head"),
        pair("name", Node::scalar(Scalar::str("x\ny"))),
        pair(
            "list",
            Node::seq(vec![SeqItem::Value(int(1)), SeqItem::Value(Node::scalar(Scalar::Bool(true)))]),
        ),
        comment(" before tables"),
        pair(
            "t",
            map(vec![pair("k", int(1)), pair("sub", map(vec![pair("z", Node::scalar(Scalar::Float(2.0)))]))]),
        ),
        pair(
            "aot",
            Node::seq(vec![
                SeqItem::Value(map(vec![pair("a", int(1))])),
                SeqItem::Comment(Comment::new(SecretBytes::from_text(" second"))),
                SeqItem::Value(map(vec![])),
            ]),
        ),
    ]);
    let out = emit_fresh(&tree, None, &opts()).unwrap();
    let expected = "db.user = \"u\"\ndb.port = 5\n# head\nname = \"\"\"\nx\ny\"\"\"\nlist = [1, true]\n\n\
                    # before tables\n[t]\nk = 1\n\n[t.sub]\nz = 2.0\n\n[[aot]]\na = 1\n\n# second\n[[aot]]\n";
    assert_eq!(show(&out), expected);
    let (back, _) = parse(&out).unwrap();
    assert_same_tree(&tree, &back, "fresh");
}

#[test]
fn fresh_output_of_every_corpus_file_reads_back_the_same() {
    for file in CORPUS {
        let (tree, _) = parse(&data(file)).unwrap();
        let out = emit_fresh(&tree, None, &opts()).unwrap();
        let (back, _) = parse(&out).unwrap_or_else(|e| panic!("{file}: {e}\n{}", show(&out)));
        // Comments may change container (one above a dotted key goes into
        // the dotted table); the values, their order and the number of
        // comments come back.
        assert_same_tree(&without_comments(&tree), &without_comments(&back), file);
        assert_eq!(count_comments(&tree), count_comments(&back), "{file}");
    }
}

#[test]
fn fresh_refuses_what_toml_cannot_hold_and_names_the_path() {
    let cases: Vec<(Tree, &str)> = vec![
        (tree_of(vec![pair("a", map(vec![pair("b", Node::scalar(Scalar::Null))]))]), "a.b"),
        (tree_of(vec![pair("list", Node::seq(vec![SeqItem::Value(Node::scalar(Scalar::Null))]))]), "list"),
        (tree_of(vec![pair("x", int(1)), pair("x", int(2))]), "x"),
        (
            tree_of(vec![MapItem::Pair(Pair {
                key: Key { name: "1".into(), is_string: false },
                value: int(1),
            })]),
            "1",
        ),
        (tree_of(vec![pair("bin", Node::scalar(Scalar::Str(SecretBytes::new(vec![0xff, 0xfe]))))]), "bin"),
    ];
    for (tree, path) in cases {
        let err = emit_fresh(&tree, None, &opts()).unwrap_err();
        assert!(matches!(err, Error::Emit(_)), "{err}");
        assert_eq!(err.exit_code(), 4);
        assert!(err.to_string().contains(path), "{err}");
    }
    let two = Tree { documents: vec![Document::default(), Document::default()] };
    assert!(matches!(emit_fresh(&two, None, &opts()), Err(Error::Emit(_))));
}

#[test]
fn emit_value_writes_one_inline_token() {
    let seq = Node::seq(vec![
        SeqItem::Value(int(1)),
        SeqItem::Value(Node::scalar(Scalar::str("a\"b"))),
        SeqItem::Value(map(vec![pair("k", Node::scalar(Scalar::Bool(false)))])),
    ]);
    assert_eq!(show(&emit_value(&seq, &opts()).unwrap()), r#"[1, "a\"b", { k = false }]"#);
    assert_eq!(show(&emit_value(&Node::scalar(Scalar::Float(1.0)), &opts()).unwrap()), "1.0");
    assert!(emit_value(&Node::scalar(Scalar::Null), &opts()).is_err());
}

#[test]
fn edits_that_change_the_shape_go_through_toml_edit() {
    let input = "# top\na = 1 # one\nb = 'keep'\n\n[t]\nx = 1\ny = 2 # why\n";
    let (mut tree, layout) = parse_ok(input);
    let items = &mut tree.documents[0].items;
    items.retain(|item| !matches!(item, MapItem::Pair(p) if p.key.name == "a"));
    items.push(pair("c", Node::scalar(Scalar::str("new"))));
    let t = items.iter_mut().find_map(|item| match item {
        MapItem::Pair(p) if p.key.name == "t" => Some(&mut p.value),
        _ => None,
    });
    if let Some(Node { value: Value::Map(t), .. }) = t {
        t.retain(|item| !matches!(item, MapItem::Pair(p) if p.key.name == "x"));
        t.push(pair("z", int(3)));
    }
    let out = show(&emit_spliced(&tree, &layout, None, &opts()).unwrap());
    let (back, _) = parse_ok(&out);
    let root = &back.documents[0].items;
    assert!(crate::tree::map_get(root, "a").is_none());
    assert_eq!(scalar(&back, &["c"]), &Scalar::str("new"));
    assert_eq!(scalar(&back, &["t", "z"]), &Scalar::Int(3));
    assert!(out.contains("b = 'keep'"), "{out}");
    assert!(out.contains("y = 2 # why"), "{out}");
}

#[test]
fn metadata_is_cut_and_appended_exactly() {
    let sops = map(vec![
        pair("lastmodified", Node::scalar(Scalar::str("2025-01-01T00:00:00Z"))),
        pair("mac", Node::scalar(Scalar::str("ENC[x]"))),
        pair(
            "age",
            Node::seq(vec![SeqItem::Value(map(vec![
                pair("recipient", Node::scalar(Scalar::str("age1x"))),
                pair("enc", Node::scalar(Scalar::str("-----BEGIN\nabc\n-----END\n"))),
            ]))]),
        ),
        pair("hc_vault", Node::scalar(Scalar::Null)),
        pair("version", Node::scalar(Scalar::str("3.11.0"))),
    ]);
    for input in ["a = 1\n", "a = 1", "# c", "\n\n# c\n\n", "a = 1\r\nb = 2\r\n", "[t]\nx = 1\n"] {
        let (tree, layout) = parse_ok(input);
        let with = emit_spliced(&tree, &layout, Some(&sops), &opts()).unwrap();
        let (tree2, layout2) = parse(&with).unwrap();
        let meta = get(&tree2.documents[0].items, &["sops"]);
        let Value::Map(fields) = &meta.value else { panic!("the metadata is a table") };
        assert_eq!(get(fields, &["version"]).value.clone_scalar(), Some(Scalar::str("3.11.0")));
        let without = emit_spliced(&tree2, &layout2, None, &opts()).unwrap();
        assert_eq!(show(&without), input, "{}", show(&with));
    }
    let (tree, layout) = parse_ok("a = 1\n");
    let with = show(&emit_spliced(&tree, &layout, Some(&sops), &opts()).unwrap());
    let expected = "a = 1\n\n[sops]\nlastmodified = \"2025-01-01T00:00:00Z\"\nmac = \"ENC[x]\"\n\
                    version = \"3.11.0\"\n\n[[sops.age]]\nrecipient = \"age1x\"\n\
                    enc = \"\"\"\n-----BEGIN\nabc\n-----END\n\"\"\"\n";
    assert_eq!(with, expected);
    // CRLF files get CRLF metadata, with the armor escaped.
    let (tree, layout) = parse_ok("a = 1\r\n");
    let with = show(&emit_spliced(&tree, &layout, Some(&sops), &opts()).unwrap());
    assert!(with.contains("\r\n[[sops.age]]\r\n") && with.contains(r#"enc = "-----BEGIN\nabc\n-----END\n""#));
    assert!(!with.replace("\r\n", "").contains('\n'));
}

#[test]
fn user_content_after_the_metadata_is_kept() {
    let input = "a = 1\n\n[sops]\nversion = \"3.11.0\"\n\n[[sops.age]]\nrecipient = \"x\"\n\n# mine\n[after]\nb = 2\n";
    let (tree, layout) = parse_ok(input);
    let out = show(&emit_spliced(&tree, &layout, None, &opts()).unwrap());
    assert_eq!(out, "a = 1\n\n# mine\n[after]\nb = 2\n");
    let (tree, layout) = parse_ok("a = 1\nsops = { version = \"3.11.0\" } # meta\nb = 2\n");
    let out = show(&emit_spliced(&tree, &layout, None, &opts()).unwrap());
    assert_eq!(out, "a = 1\nb = 2\n");
}

#[test]
fn key_groups_and_kms_context_read_back_through_from_node() {
    use crate::keys::age::AgeKey;
    use crate::keys::{KmsKey, MasterKey};
    use crate::metadata::{EmptyList, Metadata};
    let age =
        |r: &str| MasterKey::Age(AgeKey { recipient: r.into(), enc: "-----BEGIN\nx\n-----END\n".into() });
    let kms = MasterKey::Kms(KmsKey {
        arn: "arn:aws:kms:eu-west-1:1:key/x".into(),
        role: String::new(),
        context: vec![("app".into(), "pay".into()), ("env".into(), "prod".into())],
        created_at: "2025-01-01T00:00:00Z".into(),
        enc: "c2VjcmV0".into(),
        aws_profile: String::new(),
    });
    let metadata = Metadata {
        key_groups: vec![vec![age("age1a")], vec![kms, age("age1b")]],
        shamir_threshold: 2,
        last_modified: "2025-01-01T00:00:00Z".into(),
        mac: "ENC[x]".into(),
        rule: Some(("encrypted_regex".into(), "^(data|stringData)$".into())),
        mac_only_encrypted: true,
        version: "3.11.0".into(),
        style_memory: None,
        unknown: Vec::new(),
    };
    let node = metadata.to_node(EmptyList::Null);
    let block = show(super::fresh::metadata_block(&node, "\n").unwrap().as_str().as_bytes());
    let expected_headers = [
        "[sops]",
        "[[sops.key_groups]]",
        "[[sops.key_groups.age]]",
        "[[sops.key_groups]]",
        "[[sops.key_groups.kms]]",
        "[sops.key_groups.kms.context]",
        "[[sops.key_groups.age]]",
    ];
    let headers: Vec<&str> = block.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(headers, expected_headers, "{block}");
    assert!(block.starts_with(
        "[sops]\nshamir_threshold = 2\nlastmodified = \"2025-01-01T00:00:00Z\"\nmac = \"ENC[x]\"\n\
         encrypted_regex = \"^(data|stringData)$\"\nmac_only_encrypted = true\nversion = \"3.11.0\"\n"
    ));
    assert!(!block.contains("hc_vault"), "{block}");
    let (tree, _) = parse_ok(&block);
    let back = Metadata::from_node(tree.top_level("sops").unwrap()).unwrap();
    assert_eq!(back, metadata);
}

#[test]
fn parse_owned_keeps_the_given_bytes_as_the_layout_text_without_a_copy() {
    let input = crate::secret::SecretVec::new(b"a = 1 # one\n[t]\nb = \"x\"\n".to_vec());
    let address = input.as_ptr();
    let (_, layout) = super::parse_owned(input).unwrap();
    assert_eq!(layout.text.as_ptr(), address);
}

#[test]
fn parse_owned_names_where_utf8_breaks() {
    let err =
        super::parse_owned(crate::secret::SecretVec::new(b"a = 1\nb = \"x\xffy\"\n".to_vec())).unwrap_err();
    assert!(err.to_string().contains("invalid UTF-8 at line 2, column 7"), "{err}");
}
