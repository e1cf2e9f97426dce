//! Writing a tree back into the lines it was parsed from.
//!
//! The output is built line by line. The tree's items are aligned with the
//! file's records by [`Src`]: an item whose source is a record of its kind,
//! later than the last one matched, keeps that record's text, rewritten
//! only where the tree says it `changed`; records no item claims (the
//! `sops_*` lines, entries removed by `unset`) are left out, but the empty
//! lines before them stay; items without a source (added by `set`) are
//! written fresh right after the item before them, so a new last item comes
//! after the last line of data. The new metadata lines go at the very end,
//! sorted, as sops writes them.
//!
//! Lines are joined with `\n`, and the output ends with a newline exactly
//! when the input did: a file without a final newline gets its metadata
//! without one too, so decrypting gives back the file byte for byte. (sops
//! ignores the difference.)

use super::emit::{
    check_key, estimated_size, estimated_value_size, is_metadata_pair, metadata_size, single_document,
    write_comment, write_metadata_line, write_node, write_scalar,
};
use super::{Layout, Record, RecordKind};
use crate::error::Result;
use crate::metadata::flat;
use crate::secret::SecretBuf;
use crate::store::StoreOptions;
use crate::tree::{MapItem, Node, Pair, Src, Tree, Value};

/// Splice: the original bytes with each `changed` value and comment
/// rewritten (a value's remembered original text when style memory
/// restored one that still reads back the same, else the sops dialect on
/// one line), the original `sops_*` lines dropped, and `metadata` (if
/// given) appended as sorted `sops_<key>=<value>` lines. Keys are kept as
/// written unless the tree renamed them. Refused (exit 4): whatever
/// [`emit_fresh`](super::emit_fresh) refuses, for the entries written anew.
pub fn emit_spliced(
    tree: &Tree,
    layout: &Layout,
    metadata: Option<&Node>,
    _options: &StoreOptions,
) -> Result<Vec<u8>> {
    let items = single_document(tree)?;
    let meta_lines = metadata.map(flat::flatten).unwrap_or_default();
    let size = layout.text.len() + estimated_growth(items, layout) + metadata_size(&meta_lines);
    let mut lines = Lines { out: SecretBuf::with_capacity(size + 16), any: false };
    let records = &layout.records;

    let mut next = 0usize;
    for item in items {
        let (src, kind) = match item {
            MapItem::Pair(pair) if is_metadata_pair(&pair.key.name, &pair.value) => continue,
            MapItem::Pair(pair) => (pair.value.src, RecordKind::Pair),
            MapItem::Comment(comment) => (comment.src, RecordKind::Comment),
        };
        let kept = src.get().filter(|&s| s >= next && records.get(s).is_some_and(|r| r.kind == kind));
        match kept {
            Some(s) => {
                for dropped in &records[next..s] {
                    lines.blank(dropped.blank_before);
                }
                lines.blank(records[s].blank_before);
                lines.start();
                write_kept(&mut lines.out, layout, &records[s], Src(s as u32), item)?;
                next = s + 1;
            }
            None => {
                lines.start();
                write_fresh(&mut lines.out, item)?;
            }
        }
    }
    for dropped in &records[next..] {
        lines.blank(dropped.blank_before);
    }
    lines.blank(layout.trailing_blank_lines);
    for line in &meta_lines {
        lines.start();
        write_metadata_line(&mut lines.out, line);
    }
    if layout.final_newline && lines.any {
        lines.out.push(b'\n');
    }
    Ok(lines.out.into_vec())
}

/// The output as lines joined by `\n`.
struct Lines {
    out: SecretBuf,
    /// Whether a line has been started.
    any: bool,
}

impl Lines {
    /// Begin a line: end the previous one.
    fn start(&mut self) {
        if self.any {
            self.out.push(b'\n');
        }
        self.any = true;
    }

    fn blank(&mut self, count: u32) {
        for _ in 0..count {
            self.start();
        }
    }
}

/// An item that keeps record `record` (at `src`).
fn write_kept(out: &mut SecretBuf, layout: &Layout, record: &Record, src: Src, item: &MapItem) -> Result<()> {
    let text: &[u8] = &layout.text;
    match item {
        MapItem::Comment(comment) if comment.changed => write_comment(out, &comment.text),
        MapItem::Comment(_) => {
            out.extend(&text[record.start as usize..record.end as usize]);
            Ok(())
        }
        MapItem::Pair(Pair { key, value }) => {
            if text[record.key_range()] == *key.name.as_bytes() {
                out.extend(&text[record.key_range()]);
            } else {
                check_key(&key.name)?;
                out.extend(key.name.as_bytes());
            }
            out.push(b'=');
            match &value.value {
                Value::Scalar(scalar) if value.changed => match layout.override_for(src, scalar) {
                    Some(original) => {
                        out.extend(original.as_bytes());
                        Ok(())
                    }
                    None => write_scalar(out, &key.name, scalar),
                },
                Value::Scalar(_) => {
                    out.extend(&text[record.value_range()]);
                    Ok(())
                }
                Value::Map(_) | Value::Seq(_) => write_node(out, &key.name, value),
            }
        }
    }
}

/// An item without a record of its own.
fn write_fresh(out: &mut SecretBuf, item: &MapItem) -> Result<()> {
    match item {
        MapItem::Comment(comment) => write_comment(out, &comment.text),
        MapItem::Pair(pair) => {
            check_key(&pair.key.name)?;
            out.extend(pair.key.name.as_bytes());
            out.push(b'=');
            write_node(out, &pair.key.name, &pair.value)
        }
    }
}

/// About how many bytes longer the output is than the original: the new
/// renderings of changed values and of fresh items. Deletions are not
/// counted: over-allocating is cheap, growing the buffer copies plaintext.
fn estimated_growth(items: &[MapItem], layout: &Layout) -> usize {
    let mut growth = 0;
    for item in items {
        match item {
            MapItem::Pair(pair) if pair.value.src == Src::NONE => {
                growth += estimated_size(std::slice::from_ref(item)) + pair.key.name.len()
            }
            MapItem::Pair(pair) if pair.value.changed => growth += estimated_value_size(&pair.value),
            MapItem::Comment(comment) if comment.changed || comment.src == Src::NONE => {
                growth += comment.text.len() + 2
            }
            _ => {}
        }
    }
    growth + layout.overrides.values().map(|text| text.len()).sum::<usize>()
}
