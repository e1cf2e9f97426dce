//! The fast reader is held to granit: whenever it accepts a text, its
//! events must be granit's, event for event, with the same byte ranges and
//! start columns (the span fields the tree builder reads) and the same
//! comment placement as the builder sees it (end of line or not). Texts it
//! declines are granit's alone. Fixtures give real files; a generator gives
//! thousands of documents mixing the subset with what it must decline.

use std::ops::Range;
use std::path::Path;

use granit_parser::{Event, Placement, Span};

use super::{Scan, scan};
use crate::store::yaml::parse::granit_events;

/// What the builder reads of an event and its span.
type Seen<'a> = (Event<'a>, Range<usize>, usize);

fn seen<'a>(events: Vec<(Event<'a>, Span)>) -> Vec<Seen<'a>> {
    events
        .into_iter()
        .map(|(event, span)| {
            let event = match event {
                // The builder only asks whether a comment ends a line.
                Event::Comment(text, placement) => {
                    let placement =
                        if placement == Placement::Right { Placement::Right } else { Placement::Above };
                    Event::Comment(text, placement)
                }
                other => other,
            };
            (event, span.byte_range().expect("byte offsets"), span.start.col())
        })
        .collect()
}

/// Whether the fast reader accepted `text`; panics if it disagrees with
/// granit.
fn agrees(text: &str) -> bool {
    let mut events = Vec::new();
    let scanned = scan(text, |event: Event<'_>, span| {
        events.push((event, span));
        Ok::<(), ()>(())
    });
    if let Scan::Declined = scanned {
        return false;
    }
    let reference = match granit_events(text) {
        Ok(events) => events,
        Err(e) => panic!("accepted what granit refuses ({e}):\n{text}"),
    };
    let ours = seen(events);
    let theirs = seen(reference);
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "event {i} differs in:\n{text}\nours:   {ours:?}\ngranit: {theirs:?}");
    }
    assert_eq!(ours.len(), theirs.len(), "event counts differ in:\n{text}");
    true
}

pub(in crate::store::yaml) fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

#[test]
fn agrees_with_granit_on_every_fixture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["fixtures", "tests/data"] {
        yaml_files(&root.join(dir), &mut files);
    }
    let mut accepted = 0;
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        if agrees(&text) {
            accepted += 1;
        }
    }
    // Most fixtures are files sops wrote: the fast path must take them.
    assert!(accepted * 2 > files.len(), "the fast path took only {accepted} of {} fixtures", files.len());
}

#[test]
fn takes_the_shapes_secrets_files_have() {
    let files = [
        "a: 1\nb: x y\n",
        "# head\n\na:\n  # c\n  b: 1 # right\nz:\n# mid\ny: 2\nl:\n  - 1\n  # in seq\n  - 2\nw:",
        "d:\n- p\n- q: 1\n  r: 2\ne:\nf: \"dq\"\ng: 'sq'\n",
        "c: |\n  l1\n\n  l2\nd: |-\n    x\ne: 1 #c\n\n",
        "sops:\n    age:\n        - recipient: age1x\n          enc: |\n            -----BEGIN\n            abc\n            \
         -----END\n    lastmodified: \"2024-01-01T00:00:00Z\"\n    mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n",
        "a:\n  b:\n# c\nd: 1\n",
        "a:\n    b:\n        c: 1\nd: 2\n",
        "k: héllo wörld # ünïcode\n",
        "key_groups:\n    - hc_vault: []\n      age: {} # none\n",
    ];
    for text in files {
        assert!(agrees(text), "declined:\n{text}");
    }
}

#[test]
fn declines_what_it_does_not_know() {
    for text in [
        "a: [1, 2]\n",
        "a: []x\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "---\na: 1\n",
        "a: >\n  folded\n",
        "a: |2\n   x\n",
        "a: \"esc\\n\"\n",
        "a: multi\n  line\n",
        "a:\tb\n",
        "a: 1\r\n",
        "\"quoted key\": 1\n",
        "- top\n",
        "a: b: c\n",
        "a: 'it''s'\n",
        "a: |\n\n  late\n",
    ] {
        assert!(!agrees(text), "accepted:\n{text}");
    }
}

/// A small deterministic generator (xorshift) of block documents (also
/// `one_pass`'s differential tests).
pub(in crate::store::yaml) struct Gen(pub u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64)]
    }

    /// Mostly a value the fast path takes, sometimes a tricky one.
    fn value(&mut self) -> &'static str {
        if self.below(4) > 0 { self.pick(SIMPLE) } else { self.pick(TRICKY) }
    }
}

const KEYS: &[&str] =
    &["a", "key_1", "b.c", "x-y", "path/to", "true", "null", "1", "y", "_k", "a b", "'q'", "k:v"];

/// Values the fast path takes.
const SIMPLE: &[&str] = &[
    "x",
    "hello world",
    "1",
    "-1",
    "1.5",
    "true",
    "~",
    "null",
    "yes",
    "a #b",
    "'sq'",
    "\"dq\"",
    "\"\"",
    "''",
    "héllo",
    "a  b  ",
    "x # c",
    "x #c  ",
    "http://x:1/y",
    "a:b",
    "ENC[AES256_GCM,data:q0=,iv:x,tag:y,type:str]",
    "2024-01-01",
    "0x1F",
    ".inf",
    "\"a # b\"",
    "'a: b'",
    "|",
    "|-",
    "a]b",
    "a,b",
    "-x",
    "x - y",
    "[]",
    "{}",
    "[] # c",
];

/// Values around and outside the subset (the fast path must decline
/// most of these, or agree with granit on them).
const TRICKY: &[&str] = &[
    "a: b", "x:", "'it''s'", "\"e\\n\"", "[a]", "{a: 1}", "&a x", "*a", "!t x", "- x", "-", "--- x", "@x",
    "`x`", "%x", "? x", ": x", "x\t", ">",
];

pub(in crate::store::yaml) fn generate_map(g: &mut Gen, indent: usize, depth: usize, out: &mut String) {
    for _ in 0..1 + g.below(4) {
        comments_and_blanks(g, indent, out);
        let pad = " ".repeat(indent);
        let key = if g.below(4) > 0 { g.pick(&KEYS[..10]) } else { g.pick(KEYS) };
        match g.below(if depth < 3 { 8 } else { 4 }) {
            0..=2 => {
                let value = g.value();
                if value.starts_with('|') {
                    out.push_str(&format!("{pad}{key}: {value}\n"));
                    let deeper = indent + 2 + 2 * g.below(2);
                    literal_lines(g, deeper, out);
                } else {
                    out.push_str(&format!("{pad}{key}: {value}\n"));
                }
            }
            3 => out.push_str(&format!("{pad}{key}:\n")),
            4 | 5 => {
                out.push_str(&format!("{pad}{key}:\n"));
                let deeper = indent + 2 + 2 * g.below(2);
                generate_map(g, deeper, depth + 1, out);
            }
            _ => {
                out.push_str(&format!("{pad}{key}:\n"));
                let seq_indent = if g.below(2) == 0 { indent } else { indent + 2 };
                generate_seq(g, seq_indent, depth + 1, out);
            }
        }
    }
}

fn generate_seq(g: &mut Gen, indent: usize, depth: usize, out: &mut String) {
    for _ in 0..1 + g.below(3) {
        comments_and_blanks(g, indent, out);
        let pad = " ".repeat(indent);
        match g.below(3) {
            0 | 1 => {
                let value = g.value();
                out.push_str(&format!("{pad}- {value}\n"));
            }
            _ => {
                let mut inner = String::new();
                generate_map(g, indent + 2, depth + 1, &mut inner);
                // The first entry goes on the dash's line.
                out.push_str(&format!("{pad}- {}", &inner[indent + 2..]));
            }
        }
    }
}

fn literal_lines(g: &mut Gen, indent: usize, out: &mut String) {
    for _ in 0..1 + g.below(3) {
        match g.below(5) {
            0 => out.push('\n'),
            1 => out.push_str(&format!("{}  extra {}\n", " ".repeat(indent), g.below(9))),
            _ => out.push_str(&format!("{}line {}\n", " ".repeat(indent), g.below(9))),
        }
    }
}

fn comments_and_blanks(g: &mut Gen, indent: usize, out: &mut String) {
    match g.below(8) {
        0 => out.push_str(&format!("{}# own line\n", " ".repeat(indent))),
        1 => out.push_str("# at zero \n"),
        2 => out.push('\n'),
        3 => out.push_str(&format!("{}#deeper\n", " ".repeat(indent + 2))),
        _ => {}
    }
}

#[test]
fn agrees_with_granit_on_generated_documents() {
    let mut accepted = 0;
    for seed in 1..=4000u64 {
        let mut g = Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut text = String::new();
        generate_map(&mut g, 0, 0, &mut text);
        if g.below(4) == 0 {
            text.pop();
        }
        if agrees(&text) {
            accepted += 1;
        }
    }
    // Both sides of the line get exercised.
    assert!(accepted > 400, "the fast path took only {accepted} of 4000 generated documents");
    assert!(
        accepted < 3600,
        "the generator hardly reaches the declined constructs ({accepted} of 4000 taken)"
    );
}
