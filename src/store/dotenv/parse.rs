//! Reading a dotenv file: one pass over its lines.
//!
//! Each line is classified the way sops classifies it: empty (skipped),
//! comment (`#` in column 0), pair (contains `=`), or invalid. The only
//! look-ahead is for a pair whose value opens a double quote without closing
//! it: the lines after it are scanned up to the first one holding an
//! unescaped `"`, and if any of them is invalid (so sops would reject the
//! file there) they all join the value. A file sops accepts is therefore
//! read exactly as sops reads it. Every opener line holds a `"` itself, so
//! each scan stops at or before the next opener: the scans cover disjoint
//! stretches and the whole parse stays linear, whatever the input.
//!
//! Values are decoded as sops decodes them (each `\n` becomes a newline)
//! straight into a zeroizing buffer of the right size, so no copy of a
//! plaintext is left behind. The `sops_*` lines are collected wherever they
//! are and rebuilt into the metadata mapping with [`flat::unflatten`]. Errors
//! name a line and never quote it: the line may hold a secret.

use super::{FORMAT, Layout, METADATA_PREFIX, Record, RecordKind};
use crate::error::{Error, Result};
use crate::metadata::flat;
use crate::secret::{SecretBytes, wipe_string};
use crate::tree::{Comment, Document, Key, MapItem, Node, Pair, Scalar, Src, Tree};

/// What sops makes of one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineKind {
    Empty,
    Comment,
    /// `=` at this offset in the line.
    Pair(usize),
    Invalid,
}

fn classify(line: &[u8]) -> LineKind {
    match line.first() {
        None => LineKind::Empty,
        Some(b'#') => LineKind::Comment,
        Some(_) => match line.iter().position(|&b| b == b'=') {
            Some(eq) => LineKind::Pair(eq),
            None => LineKind::Invalid,
        },
    }
}

/// The offset of the first `"` in `bytes` that is not escaped (preceded by
/// an odd number of backslashes).
fn unescaped_quote(bytes: &[u8]) -> Option<usize> {
    let mut backslashes = 0usize;
    for (at, &byte) in bytes.iter().enumerate() {
        match byte {
            b'"' if backslashes.is_multiple_of(2) => return Some(at),
            b'\\' => {
                backslashes += 1;
                continue;
            }
            _ => {}
        }
        backslashes = 0;
    }
    None
}

/// Whether a value (the text after `=`) opens a double quote that its line
/// does not close: optional spaces or tabs, `"`, and no unescaped `"` after.
fn opens_quote(value: &[u8]) -> bool {
    let body = value.trim_ascii_start();
    // trim_ascii_start also skips \r, \n and form feeds; only spaces and
    // tabs may precede the quote.
    let skipped = &value[..value.len() - body.len()];
    skipped.iter().all(|&b| b == b' ' || b == b'\t')
        && body.first() == Some(&b'"')
        && unescaped_quote(&body[1..]).is_none()
}

/// The line starting at byte `start`: its end (before any `\n`) and where
/// the next line starts. (`str::find` with a `char` searches a word at a
/// time, several times faster than a byte loop.)
#[inline]
fn line_at(input: &str, start: usize) -> (usize, usize) {
    match input[start..].find('\n') {
        Some(n) => (start + n, start + n + 1),
        None => (input.len(), input.len()),
    }
}

/// What follows a line that opens a double quote.
enum Continuation {
    /// The value ends on its own line (sops's reading).
    None,
    /// The value runs to `end` (the end of its last line, before the `\n`);
    /// the next record starts at `next`; `lines` more lines were taken.
    Until { end: usize, next: usize, lines: usize },
}

/// Scan the lines from byte `from` (the line after an opener on line
/// `opener_line`) for the one that closes the quote.
fn continuation(input: &str, from: usize, opener_line: usize) -> Result<Continuation> {
    let mut first_invalid = None;
    let mut at = from;
    let mut line_number = opener_line;
    while at < input.len() {
        let (end, next) = line_at(input, at);
        line_number += 1;
        let line = &input.as_bytes()[at..end];
        if first_invalid.is_none() && classify(line) == LineKind::Invalid {
            first_invalid = Some(line_number);
        }
        if unescaped_quote(line).is_some() {
            return Ok(match first_invalid {
                Some(_) => Continuation::Until { end, next, lines: line_number - opener_line },
                None => Continuation::None,
            });
        }
        at = next;
    }
    match first_invalid {
        Some(line) => Err(parse_error(
            line,
            format!(
                "expected KEY=value, a # comment or an empty line; the double-quoted value that \
                 starts on line {opener_line} is never closed"
            ),
        )),
        None => Ok(Continuation::None),
    }
}

fn parse_error(line: usize, reason: impl std::fmt::Display) -> Error {
    Error::Parse { format: FORMAT, message: format!("invalid dotenv input line {line}: {reason}") }
}

/// Why a line that is not empty, not a comment and has no `=` is wrong.
fn invalid_line(line_number: usize, line: &[u8]) -> Error {
    let reason = if line.iter().all(|&b| matches!(b, b' ' | b'\t' | b'\r')) {
        "the line holds only spaces, tabs or a carriage return; an empty line must be truly empty \
         (sops rejects such lines too)"
    } else if line.trim_ascii_start().first() == Some(&b'#') {
        "expected KEY=value; a comment's # must be in the first column"
    } else {
        "expected KEY=value, a # comment or an empty line"
    };
    parse_error(line_number, reason)
}

/// A value as sops reads it: each `\n` (backslash, `n`) becomes a newline.
fn decode_value(raw: &str) -> SecretBytes {
    // The capacity is exact (decoding only shrinks), so the buffer never
    // moves and leaves no copy of the plaintext behind.
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('\\') {
        // The backslash and an `n` are ASCII: the slices stay on characters.
        if rest.as_bytes().get(at + 1) == Some(&b'n') {
            out.extend_from_slice(&rest.as_bytes()[..at]);
            out.push(b'\n');
            rest = &rest[at + 2..];
        } else {
            out.extend_from_slice(&rest.as_bytes()[..=at]);
            rest = &rest[at + 1..];
        }
    }
    out.extend_from_slice(rest.as_bytes());
    SecretBytes::new(out)
}

/// Parse a dotenv file (sops's dialect, plus multi-line double-quoted
/// values) into one document whose items are the comments and pairs in
/// file order. The `sops_*` lines, wherever they are, become one top-level
/// pair `sops` (placed first, so it is the one `ops::take_metadata` takes
/// even if the file also has a data key named `sops`) holding the
/// unflattened metadata. Errors (exit 2): invalid UTF-8, a line that is not
/// empty, a comment or a pair, and a file larger than 4 GiB.
pub fn parse(input: &[u8]) -> Result<(Tree, Layout)> {
    if input.len() >= u32::MAX as usize {
        return Err(Error::Parse { format: FORMAT, message: "the file is larger than 4 GiB".into() });
    }
    let text = match std::str::from_utf8(input) {
        Ok(text) => text,
        Err(e) => {
            let line = 1 + input[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
            return Err(parse_error(line, "not valid UTF-8 text (a dotenv file must be UTF-8)"));
        }
    };

    let mut records = Vec::new();
    let mut items = Vec::new();
    let mut metadata: Vec<(String, String)> = Vec::new();
    let mut blank_run = 0u32;
    let mut line_number = 0usize;
    let mut at = 0usize;
    while at < input.len() {
        let (mut end, mut next) = line_at(text, at);
        line_number += 1;
        let line = &input[at..end];
        let src = Src(records.len() as u32);
        let record = match classify(line) {
            LineKind::Empty => {
                blank_run += 1;
                at = next;
                continue;
            }
            LineKind::Invalid => return Err(invalid_line(line_number, line)),
            LineKind::Comment => {
                let comment = SecretBytes::new(line[1..].to_vec());
                items.push(MapItem::Comment(Comment { text: comment, src, changed: false }));
                Record {
                    kind: RecordKind::Comment,
                    start: at as u32,
                    eq: at as u32,
                    end: end as u32,
                    blank_before: 0,
                }
            }
            LineKind::Pair(eq) => {
                if opens_quote(&line[eq + 1..])
                    && let Continuation::Until { end: last_end, next: after, lines } =
                        continuation(text, next, line_number)?
                {
                    end = last_end;
                    next = after;
                    line_number += lines;
                }
                // `=` is ASCII, so both sides of it are whole characters.
                let key = &text[at..at + eq];
                let raw = &text[at + eq + 1..end];
                let kind = match key.strip_prefix(METADATA_PREFIX) {
                    Some(field) => {
                        // Kept raw: unflatten decodes `\n` itself.
                        metadata.push((field.to_owned(), raw.to_owned()));
                        RecordKind::Metadata
                    }
                    None => {
                        let mut value = Node::scalar(Scalar::Str(decode_value(raw)));
                        value.src = src;
                        items.push(MapItem::Pair(Pair { key: Key::new(key), value }));
                        RecordKind::Pair
                    }
                };
                Record { kind, start: at as u32, eq: (at + eq) as u32, end: end as u32, blank_before: 0 }
            }
        };
        records.push(Record { blank_before: blank_run, ..record });
        blank_run = 0;
        at = next;
    }

    if !metadata.is_empty() {
        let value = flat::unflatten(&metadata);
        // A plaintext may hold a `sops_` line by mistake (encryption then
        // refuses it); its value could be a secret, so wipe the copies.
        for (_, raw) in &mut metadata {
            wipe_string(raw);
        }
        items.insert(0, MapItem::Pair(Pair { key: Key::new("sops"), value: value? }));
    }
    let layout = Layout {
        text: crate::secret::SecretVec::new(input.to_vec()),
        records,
        trailing_blank_lines: blank_run,
        final_newline: input.last().is_none_or(|&b| b == b'\n'),
        overrides: Default::default(),
    };
    Ok((Tree { documents: vec![Document { items }] }, layout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_escapes_are_found_as_the_continuation_rule_needs() {
        assert_eq!(unescaped_quote(br#"abc"#), None);
        assert_eq!(unescaped_quote(br#"a"c"#), Some(1));
        assert_eq!(unescaped_quote(br#"a\"c"#), None);
        assert_eq!(unescaped_quote(br#"a\\"c"#), Some(3));
        assert_eq!(unescaped_quote(br#"\\\"x""#), Some(5));
        assert!(opens_quote(br#""abc"#));
        assert!(opens_quote(b" \t\"abc"));
        assert!(opens_quote(b"\""));
        assert!(opens_quote(br#""ab\"c"#));
        assert!(!opens_quote(br#""abc""#));
        assert!(!opens_quote(br#""abc" # x"#));
        assert!(!opens_quote(br#"abc""#));
        assert!(!opens_quote(b"\r\"abc"));
        assert!(!opens_quote(b"'abc"));
    }

    #[test]
    fn decoding_turns_only_backslash_n_into_newlines() {
        assert_eq!(decode_value(r"a\nb").as_bytes(), b"a\nb");
        assert_eq!(decode_value(r"a\\nb").as_bytes(), b"a\\\nb");
        // Left to right, as Go's `strings.ReplaceAll`: two backslashes stay, then two `\n`.
        assert_eq!(decode_value(r"\\\n\n").as_bytes(), b"\\\\\n\n");
        assert_eq!(decode_value(r"\t\r\").as_bytes(), br"\t\r\");
        assert_eq!(decode_value("\u{e9}\\n\u{e9}").as_bytes(), "\u{e9}\n\u{e9}".as_bytes());
        assert_eq!(decode_value("").as_bytes(), b"");
    }
}
