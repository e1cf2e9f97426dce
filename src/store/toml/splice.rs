//! Writing a tree back into the text it was parsed from.
//!
//! The tree is walked once to collect edits: the token of every changed
//! scalar is replaced by its remembered original (style memory) or its
//! default rendering, the text of every changed comment by the new text,
//! and the original metadata's text is cut. The edits are sorted by
//! position (the tree's order is the logical order, which interleaved
//! tables make differ from the text's) and applied in one copy into a
//! buffer sized exactly. Everything else, whitespace, comments, quoting,
//! key spelling, table layout, is the input's own bytes.
//!
//! The same walk checks that the tree still has the text's shape: every
//! node has a position, every position outside the metadata is used once,
//! and each node is the kind of thing its position was. When that fails (an
//! edit added or removed entries), the spliced text and the tree go on to
//! [`super::rebuild`], which reshapes the text through `toml_edit`.
//!
//! The metadata is appended as a `[sops]` table after a line break (a blank
//! line when the text ends with one). A reader cuts it together with that
//! one line break, which gives back the text as it was, final line break or
//! not.

use super::render::{self, Unrenderable};
use super::{Layout, SecretText, SlotKind, fresh};
use crate::error::{Error, Result};
use crate::store::StoreOptions;
use crate::tree::{Comment, MapItem, Node, SeqItem, Tree, Value};

/// Splice: the original text with changed values and comments rewritten,
/// the original `sops` table removed, and `metadata` (if given) appended as
/// a `[sops]` table.
pub fn emit_spliced(
    tree: &Tree,
    layout: &Layout,
    metadata: Option<&Node>,
    options: &StoreOptions,
) -> Result<Vec<u8>> {
    let [document] = tree.documents.as_slice() else {
        return fresh::emit_fresh(tree, metadata, options);
    };
    if layout.sops_uncuttable {
        return Err(Error::Emit(
            "the file's metadata is written as dotted `sops.*` keys; write it as a [sops] table".into(),
        ));
    }
    let mut plan = Plan {
        layout,
        edits: Vec::new(),
        seen: vec![false; layout.slots.len()],
        seen_count: 0,
        reshaped: false,
        path: Vec::new(),
    };
    plan.map(&document.items, true)?;
    let expected = layout.slots.len() - layout.sops_slots.len();
    let reshaped = plan.reshaped || plan.seen_count != expected;

    let mut edits = std::mem::take(&mut plan.edits);
    edits.extend(layout.sops_cut.iter().map(|cut| Edit {
        start: cut.start,
        end: cut.end,
        text: Replacement::Borrowed(""),
    }));
    edits.sort_unstable_by_key(|edit| (edit.start, edit.end));

    let text = layout.text.as_str();
    let block = match metadata {
        Some(node) if !reshaped => Some(fresh::metadata_block(node, layout.newline)?),
        _ => None,
    };
    let size = text.len() as isize
        + edits.iter().map(|e| e.text.as_str().len() as isize - (e.end - e.start) as isize).sum::<isize>()
        + block.as_ref().map_or(0, |b| b.as_str().len() + 2) as isize;
    let mut out = SecretText::with_capacity(size.max(0) as usize);
    let mut cursor = 0;
    for edit in &edits {
        if edit.start < cursor {
            // Inside a cut: the text it would change is gone.
            continue;
        }
        out.push_str(&text[cursor..edit.start]);
        out.push_str(edit.text.as_str());
        cursor = edit.end;
    }
    out.push_str(&text[cursor..]);
    if reshaped {
        return super::rebuild::emit_rebuilt(&document.items, out.as_str(), layout, &plan.seen, metadata);
    }
    if let Some(block) = block {
        if !out.is_empty() {
            out.push_str(layout.newline);
        }
        out.push_str(block.as_str());
    }
    Ok(out.into_bytes())
}

/// New text for a byte range of the original.
struct Edit<'t> {
    start: usize,
    end: usize,
    text: Replacement<'t>,
}

enum Replacement<'t> {
    /// A rendering made for the edit (plaintext: wiped when dropped).
    Owned(zeroize::Zeroizing<String>),
    /// Text that lives elsewhere: a comment in the tree, a remembered token.
    Borrowed(&'t str),
}

impl Replacement<'_> {
    fn as_str(&self) -> &str {
        match self {
            Replacement::Owned(text) => text,
            Replacement::Borrowed(text) => text,
        }
    }
}

/// The walk that collects edits and checks the tree's shape.
struct Plan<'t> {
    layout: &'t Layout,
    edits: Vec<Edit<'t>>,
    seen: Vec<bool>,
    seen_count: usize,
    /// The tree no longer has the text's shape.
    reshaped: bool,
    /// Keys down to the current node, for error messages.
    path: Vec<&'t str>,
}

impl<'t> Plan<'t> {
    /// Claim the slot of a node or comment; `None` (and the tree marked
    /// reshaped) when it has none, or one of another kind, or one used
    /// before.
    fn claim(&mut self, src: crate::tree::Src, comment: bool) -> Option<std::ops::Range<usize>> {
        let layout = self.layout;
        let found = src.get().and_then(|index| {
            let slot = layout.slots.get(index)?;
            let in_sops = layout.sops_slots.contains(&(index as u32));
            let fits = (slot.kind == SlotKind::Comment) == comment;
            (!in_sops && fits && !self.seen[index]).then_some((index, slot.range()))
        });
        match found {
            Some((index, range)) => {
                self.seen[index] = true;
                self.seen_count += 1;
                Some(range)
            }
            None => {
                self.reshaped = true;
                None
            }
        }
    }

    fn map(&mut self, items: &'t [MapItem], top: bool) -> Result<()> {
        for item in items {
            match item {
                MapItem::Comment(comment) => self.comment(comment)?,
                // The writers own the metadata: the tree's copy is dropped.
                MapItem::Pair(pair) if top && pair.key.name == "sops" => {}
                MapItem::Pair(pair) => {
                    self.path.push(&pair.key.name);
                    self.node(&pair.value)?;
                    self.path.pop();
                }
            }
        }
        Ok(())
    }

    fn node(&mut self, node: &'t Node) -> Result<()> {
        let Some(range) = self.claim(node.src, false) else { return Ok(()) };
        let kind = self.layout.slots[node.src.0 as usize].kind;
        match &node.value {
            Value::Scalar(scalar) => {
                if kind != SlotKind::Value {
                    self.reshaped = true;
                } else if node.changed {
                    let text = match self.layout.override_for(node.src, scalar) {
                        Some(original) => Replacement::Borrowed(original),
                        None => {
                            let token = render::scalar_token(scalar).map_err(|why| self.unrenderable(why))?;
                            Replacement::Owned(zeroize::Zeroizing::new(token))
                        }
                    };
                    self.edits.push(Edit { start: range.start, end: range.end, text });
                }
                Ok(())
            }
            Value::Map(items) => self.map(items, false),
            Value::Seq(items) => {
                for item in items {
                    match item {
                        SeqItem::Comment(comment) => self.comment(comment)?,
                        SeqItem::Value(value) => self.node(value)?,
                    }
                }
                Ok(())
            }
        }
    }

    fn comment(&mut self, comment: &'t Comment) -> Result<()> {
        let Some(range) = self.claim(comment.src, true) else { return Ok(()) };
        if comment.changed {
            let text = comment_text(comment, &self.path)?;
            self.edits.push(Edit { start: range.start, end: range.end, text: Replacement::Borrowed(text) });
        }
        Ok(())
    }

    fn unrenderable(&self, why: Unrenderable) -> Error {
        Error::Emit(format!("the value at {} {}", show_path(&self.path), why.describe()))
    }
}

/// A comment's text, which must stay on its line.
pub(super) fn comment_text<'c>(comment: &'c Comment, path: &[&str]) -> Result<&'c str> {
    let text = comment
        .text
        .as_str()
        .ok_or_else(|| Error::Emit(format!("a comment in {} is not valid UTF-8", show_path(path))))?;
    // TOML comments hold no control characters but TAB.
    if text.chars().any(|c| matches!(c, '\0'..='\u{8}' | '\n'..='\u{1f}' | '\u{7f}')) {
        return Err(Error::Emit(format!(
            "a comment in {} contains a line break or control character",
            show_path(path)
        )));
    }
    Ok(text)
}

/// A path for messages: `servers.alpha.ip` with TOML key quoting, or `the
/// top level`.
pub(super) fn show_path(path: &[&str]) -> String {
    if path.is_empty() {
        return "the top level".into();
    }
    let mut out = String::new();
    for (i, key) in path.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        render::write_key(&mut out, key);
    }
    out
}
