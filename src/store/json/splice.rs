//! Writing a tree back into the bytes it was parsed from.
//!
//! The output is the original text with three kinds of edits: the token of
//! every scalar marked `changed` is replaced by its JSON rendering; members
//! and elements that are gone from the tree are cut out together with one
//! separator; members and elements without a source (added by `set`, the
//! new metadata) are rendered fresh. Everything else, whitespace, key
//! spelling, escapes and number forms of untouched values, is copied.
//!
//! Each container's tree children are aligned with its original children
//! by [`Src`](crate::tree::Src): a child whose source is an original child
//! of this container, later than the last one matched, keeps its text;
//! originals that no child claims are deleted; any other child is fresh.
//! When the alignment is the identity (the usual case: only values
//! changed), the container is copied gap by gap. Otherwise it is rebuilt
//! from its parts: the gap after the opening bracket, the original
//! separator that followed each kept member, a typical separator of the
//! container for the rest, and the gap before the closing bracket.
//!
//! Fresh values take the file's style: multi-line at the indentation of
//! their siblings, one step deeper per level (the step detected at parse
//! time, else the configured one), with the file's line breaks; inside a
//! container written on one line, on one line.

use std::borrow::Cow;

use super::emit::{Style, emit_fresh, indent_unit, size_of, top_level_members, write_scalar, write_string};
use super::parse::{line_indent, unescape};
use super::{Layout, Span};
use crate::error::Result;
use crate::secret::SecretBuf;
use crate::store::StoreOptions;
use crate::tree::{Key, MapItem, Node, SeqItem, Src, Tree, Value};

/// Splice: the original bytes with each `changed` scalar's token replaced by
/// its JSON rendering, the original top-level `sops` member removed (with its
/// separating comma), and `metadata` (if Some) added as the last member
/// `"sops": {...}` formatted to match the file's own indentation style.
/// A tree of other than one document is written fresh.
pub fn emit_spliced(
    tree: &Tree,
    layout: &Layout,
    metadata: Option<&Node>,
    options: &StoreOptions,
) -> Result<Vec<u8>> {
    let [document] = tree.documents.as_slice() else {
        return emit_fresh(tree, metadata, options);
    };
    let unit = match layout.indent {
        Some(unit) => vec![unit.byte; unit.width],
        None => indent_unit(options)?,
    };
    let text: &[u8] = &layout.text;
    let mut splicer = Splicer {
        text,
        spans: &layout.spans,
        unit: &unit,
        newline: if layout.crlf { b"\r\n" } else { b"\n" },
        out: SecretBuf::with_capacity(0),
        layout,
    };
    let per_level = unit.len() + 2;
    let growth = splicer.growth(&document.items, per_level)
        + metadata.map_or(0, |node| size_of(node, per_level, 2) as isize);
    let size = text.len() + growth.max(0) as usize;
    splicer.out = SecretBuf::with_capacity(size + size / 16 + 64);
    let top = layout.spans[0];

    let sops = Key::new("sops");
    let mut members = Vec::new();
    let children = top_level_members(&document.items).map(|(key, node)| (Some(key), node));
    let mut in_order = splicer.align(0, children, &mut members);
    if let Some(node) = metadata {
        members.push(Member { key: Some(&sops), node, orig: None });
        in_order = false;
    }

    splicer.out.extend(&text[..top.start as usize]);
    splicer.container(0, &members, in_order, true, 1)?;
    splicer.out.extend(&text[top.end as usize..]);
    Ok(splicer.out.into_vec())
}

/// A member or element of the output, with the original it keeps, if any.
struct Member<'t> {
    key: Option<&'t Key>,
    node: &'t Node,
    orig: Option<u32>,
}

/// How a rebuilt container spaces its members.
struct Shape<'a> {
    /// After the opening bracket.
    leading: Cow<'a, [u8]>,
    /// The indentation of a member's first line.
    member_indent: Cow<'a, [u8]>,
    /// Between a key and its value.
    colon: &'a [u8],
    /// Between elements of fresh values written on one line.
    inline_comma: &'a [u8],
    /// Between members, where no original separator applies.
    typical: Cow<'a, [u8]>,
    /// Before the closing bracket.
    trailing: Cow<'a, [u8]>,
}

struct Splicer<'a> {
    text: &'a [u8],
    spans: &'a [Span],
    unit: &'a [u8],
    newline: &'a [u8],
    out: SecretBuf,
    layout: &'a Layout,
}

impl<'a> Splicer<'a> {
    /// About how many bytes longer the output is than the original: the
    /// new renderings of changed values and fresh nodes, less the tokens
    /// they replace. Deletions are not counted: over-allocating is cheap,
    /// growing the buffer copies plaintext.
    fn growth(&self, items: &[MapItem], per_level: usize) -> isize {
        let mut growth: isize = 0;
        let mut stack: Vec<&Node> = items
            .iter()
            .filter_map(|item| match item {
                MapItem::Pair(pair) => Some(&pair.value),
                MapItem::Comment(_) => None,
            })
            .collect();
        while let Some(node) = stack.pop() {
            let Some(span) = node.src.get().and_then(|s| self.spans.get(s)) else {
                growth += size_of(node, per_level, 2) as isize;
                continue;
            };
            match &node.value {
                Value::Scalar(_) if node.changed => {
                    let old = (span.end - span.start) as isize;
                    growth += size_of(node, per_level, 2) as isize - old;
                }
                Value::Scalar(_) => {}
                Value::Map(items) => stack.extend(items.iter().filter_map(|item| match item {
                    MapItem::Pair(pair) => Some(&pair.value),
                    MapItem::Comment(_) => None,
                })),
                Value::Seq(items) => stack.extend(items.iter().filter_map(|item| match item {
                    SeqItem::Value(node) => Some(node),
                    SeqItem::Comment(_) => None,
                })),
            }
        }
        growth
    }

    /// Pair the tree's children of container `c` with its original
    /// children. Returns whether every original is kept, in order, and
    /// nothing is added.
    fn align<'t>(
        &self,
        c: u32,
        children: impl Iterator<Item = (Option<&'t Key>, &'t Node)>,
        members: &mut Vec<Member<'t>>,
    ) -> bool {
        let end = self.spans[c as usize].subtree_end;
        let mut next = c + 1;
        let mut in_order = true;
        for (key, node) in children {
            let orig = node
                .src
                .get()
                .filter(|&s| {
                    s < self.spans.len()
                        && s >= next as usize
                        && self.spans[s].parent == c
                        // A member cannot turn into an element or back.
                        && (self.spans[s].key_start != super::NONE) == key.is_some()
                })
                .map(|s| s as u32);
            match orig {
                Some(s) => {
                    in_order &= s == next;
                    next = self.spans[s as usize].subtree_end;
                }
                None => in_order = false,
            }
            members.push(Member { key, node, orig });
        }
        in_order && next == end
    }

    /// Write container `c` (at nesting `depth`) with `members`.
    fn container(
        &mut self,
        c: u32,
        members: &[Member],
        in_order: bool,
        parent_multiline: bool,
        depth: usize,
    ) -> Result<()> {
        let text = self.text;
        let span = self.spans[c as usize];
        let open = span.start as usize;
        let close = span.end as usize - 1;
        let first = (c + 1 < span.subtree_end).then_some(c + 1);
        let multiline = match first {
            Some(first) => self.gap(open + 1, first).contains(&b'\n'),
            None => parent_multiline,
        };

        if in_order {
            let mut cursor = open;
            for member in members {
                let orig = member.orig.expect("in-order members are all kept");
                let child = self.spans[orig as usize];
                self.out.extend(&text[cursor..child.member_start()]);
                self.kept(member, orig, multiline, depth)?;
                cursor = child.end as usize;
            }
            self.out.extend(&text[cursor..=close]);
            return Ok(());
        }

        self.rebuild(c, members, multiline, depth)
    }

    /// Write container `c` from its parts, when members were added,
    /// removed or moved.
    #[inline(never)]
    fn rebuild(&mut self, c: u32, members: &[Member], multiline: bool, depth: usize) -> Result<()> {
        let text = self.text;
        let span = self.spans[c as usize];
        let (open, close) = (span.start as usize, span.end as usize - 1);
        self.out.push(text[open]);
        if members.is_empty() {
            self.out.push(text[close]);
            return Ok(());
        }
        let shape = self.shape(c, multiline);
        self.out.extend(&shape.leading);
        for (i, member) in members.iter().enumerate() {
            if i > 0 {
                // A kept member keeps the separator that followed it.
                let after = members[i - 1].orig.and_then(|orig| {
                    let prev = self.spans[orig as usize];
                    (prev.subtree_end < span.subtree_end)
                        .then(|| self.gap(prev.end as usize, prev.subtree_end))
                });
                self.out.extend(after.unwrap_or(&shape.typical));
            }
            match member.orig {
                Some(orig) => self.kept(member, orig, multiline, depth)?,
                None => {
                    if let Some(key) = member.key {
                        write_string(&mut self.out, key.name.as_bytes());
                        self.out.extend(shape.colon);
                    }
                    let style = self.style(multiline, shape.colon, shape.inline_comma);
                    let mut indent = shape.member_indent.to_vec();
                    style.write_value(&mut self.out, member.node, &mut indent, depth)?;
                }
            }
        }
        self.out.extend(&shape.trailing);
        self.out.push(text[close]);
        Ok(())
    }

    /// The parts of container `c`'s own spacing that a rebuild reuses, or
    /// invents in the file's style when the container had no members.
    fn shape(&self, c: u32, multiline: bool) -> Shape<'a> {
        let text = self.text;
        let span = self.spans[c as usize];
        let (open, close) = (span.start as usize, span.end as usize - 1);
        let first = (c + 1 < span.subtree_end).then_some(c + 1);
        let (mut last, mut before_last) = (None, None);
        let mut child = c + 1;
        while child < span.subtree_end {
            before_last = last;
            last = Some(child);
            child = self.spans[child as usize].subtree_end;
        }
        let leading: Cow<'a, [u8]> = match first {
            Some(first) => Cow::Borrowed(self.gap(open + 1, first)),
            None if multiline => Cow::Owned([self.newline, &self.member_indent(open)].concat()),
            None => Cow::Borrowed(b""),
        };
        let member_indent: Cow<'a, [u8]> = match (first, &leading) {
            (Some(_), Cow::Borrowed(leading)) if multiline => {
                let after_newline = leading.iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1);
                Cow::Borrowed(&leading[after_newline..])
            }
            _ => Cow::Owned(self.member_indent(open)),
        };
        let colon: &'a [u8] = match first {
            Some(first) if self.spans[first as usize].key_start != super::NONE => {
                let child = self.spans[first as usize];
                let gap = &text[child.key_end as usize..child.start as usize];
                if gap.contains(&b'\n') { b": " } else { gap }
            }
            _ => b": ",
        };
        let inline_comma: &'a [u8] = if colon == b":" { b"," } else { b", " };
        let typical: Cow<'a, [u8]> = match (before_last, last) {
            (Some(a), Some(b)) => Cow::Borrowed(self.gap(self.spans[a as usize].end as usize, b)),
            (None, Some(_)) if multiline => Cow::Owned([&b","[..], &leading].concat()),
            _ if multiline => Cow::Owned([&b","[..], self.newline, &member_indent].concat()),
            _ => Cow::Borrowed(inline_comma),
        };
        let trailing: Cow<'a, [u8]> = match last {
            Some(last) => Cow::Borrowed(&text[self.spans[last as usize].end as usize..close]),
            None if multiline => Cow::Owned([self.newline, line_indent(text, open)].concat()),
            None => Cow::Borrowed(b""),
        };
        Shape { leading, member_indent, colon, inline_comma, typical, trailing }
    }

    /// Write a member that keeps original `orig`.
    fn kept(&mut self, member: &Member, orig: u32, multiline: bool, depth: usize) -> Result<()> {
        let text = self.text;
        let span = self.spans[orig as usize];
        if let Some(key) = member.key {
            let (key_start, key_end) = (span.key_start as usize, span.key_end as usize);
            if key_matches(&text[key_start..key_end], key) {
                self.out.extend(&text[key_start..span.start as usize]);
            } else {
                write_string(&mut self.out, key.name.as_bytes());
                self.out.extend(&text[key_end..span.start as usize]);
            }
        }
        let node = member.node;
        match (&node.value, text[span.start as usize]) {
            (Value::Map(items), b'{') => {
                let children = items.iter().filter_map(|item| match item {
                    MapItem::Pair(pair) => Some((Some(&pair.key), &pair.value)),
                    MapItem::Comment(_) => None,
                });
                self.nested(orig, children, multiline, depth)
            }
            (Value::Seq(items), b'[') => {
                let children = items.iter().filter_map(|item| match item {
                    SeqItem::Value(node) => Some((None, node)),
                    SeqItem::Comment(_) => None,
                });
                self.nested(orig, children, multiline, depth)
            }
            (Value::Scalar(scalar), first) if first != b'{' && first != b'[' => {
                if node.changed {
                    match self.layout.override_for(Src(orig), scalar) {
                        Some(original) => {
                            self.out.extend(original.as_bytes());
                            Ok(())
                        }
                        None => write_scalar(&mut self.out, scalar),
                    }
                } else {
                    self.out.extend(&text[span.start as usize..span.end as usize]);
                    Ok(())
                }
            }
            _ => {
                // A different kind of value than before: write it fresh,
                // indented like the line it starts on.
                let mut indent = line_indent(text, span.member_start()).to_vec();
                let style = self.style(multiline, b": ", b", ");
                style.write_value(&mut self.out, node, &mut indent, depth)
            }
        }
    }

    fn nested<'t>(
        &mut self,
        orig: u32,
        children: impl Iterator<Item = (Option<&'t Key>, &'t Node)>,
        multiline: bool,
        depth: usize,
    ) -> Result<()> {
        let mut members = Vec::new();
        let in_order = self.align(orig, children, &mut members);
        self.container(orig, &members, in_order, multiline, depth + 1)
    }

    /// The bytes between `from` and the start of member `child`.
    fn gap(&self, from: usize, child: u32) -> &'a [u8] {
        &self.text[from..self.spans[child as usize].member_start()]
    }

    /// The indentation for members of a container that has none yet: one
    /// step more than the line the container starts on.
    fn member_indent(&self, open: usize) -> Vec<u8> {
        [line_indent(self.text, open), self.unit].concat()
    }

    fn style(&self, multiline: bool, colon: &'a [u8], inline_comma: &'a [u8]) -> Style<'a> {
        if multiline {
            Style { unit: self.unit, newline: self.newline, comma: b",", colon }
        } else {
            Style { unit: b"", newline: b"", comma: inline_comma, colon }
        }
    }
}

/// Whether a key token (with its quotes) spells `key`.
fn key_matches(token: &[u8], key: &Key) -> bool {
    let inner = &token[1..token.len() - 1];
    if inner.contains(&b'\\') { unescape(inner) == key.name.as_bytes() } else { inner == key.name.as_bytes() }
}
