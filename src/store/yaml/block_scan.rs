//! A fast reader for the block-style YAML that secrets files are made of,
//! producing the same events as granit-parser, or declining.
//!
//! Nearly every file sops reads or writes is a block mapping of plain keys,
//! plain or simply quoted values, nested mappings, block sequences, `#`
//! comments, and in the metadata one literal block (`enc: |`). granit, a
//! general YAML 1.2 parser, walks such files at 25-45 MB/s (plaintext) and
//! spends a third of a 10,000-key decryption in its scanner. This module
//! reads that subset line by line at memory speed and hands granit's own
//! event types, with granit's spans, to the same tree builder, so the tree,
//! the layout and every error downstream are the ones granit's events give.
//!
//! It never guesses. Anything outside the subset (flow collections, anchors,
//! tags, document markers, folded or indented-indicator block scalars,
//! escapes in double quotes, multi-line plain scalars, tabs, carriage
//! returns, control characters, keys that are not simple words, ...) makes
//! it decline, and the caller parses the whole text again with granit. The
//! subset is small on purpose: every construct it accepts is one whose
//! events were checked against granit's, and `tests::agrees_with_granit`
//! holds it to that on every fixture and on generated documents.
//!
//! Where granit puts things, as observed and pinned by that test:
//! * a block mapping starts (empty span) at its first key; a sequence
//!   indented under its key starts at its first `-`, one at the key's own
//!   column ("zero-indented") at its first item's content;
//! * an empty value is the plain scalar `~` with an empty span at the colon;
//! * an end event sits at the next token (the first character of the next
//!   dedented line), or at the end of the text;
//! * a comment's text is everything after `#` to the end of its line; own-
//!   line comments come out just before the event of the next token, so
//!   after an empty value's `~` but before an end, a start or a key;
//! * a literal block scalar spans from its first content character to the
//!   next token.

use std::borrow::Cow;

use granit_parser::{Event, Marker, Placement, ScalarStyle, Span, StructureStyle};

/// Deeper documents go to granit, which enforces the real limit.
const MAX_DEPTH: usize = 100;

/// Longer keys go to granit (YAML limits implicit keys to 1024 characters).
const MAX_KEY_LEN: usize = 1000;

/// The text was read and every event went to the sink (which may have
/// failed), or the text is outside the subset and nothing it produced may
/// be kept.
pub(super) enum Scan<E> {
    Declined,
    Done(Result<(), E>),
}

/// Read `text`, passing each event to `sink`.
pub(super) fn scan<'a, E>(text: &'a str, sink: impl FnMut(Event<'a>, Span) -> Result<(), E>) -> Scan<E> {
    if !plain_characters(text) {
        return Scan::Declined;
    }
    let mut scanner = Scanner {
        text,
        sink,
        stack: Vec::new(),
        pending: None,
        comments: Vec::new(),
        started: false,
        inline_value: false,
        line_number: 0,
    };
    match scanner.run() {
        Ok(()) => Scan::Done(Ok(())),
        Err(Stop::Declined) => Scan::Declined,
        Err(Stop::Sink(e)) => Scan::Done(Err(e)),
    }
}

/// Only printable characters and `\n`: no tab, no carriage return, no
/// byte-order mark, no line or paragraph separator, none of the characters
/// granit refuses or treats specially.
fn plain_characters(text: &str) -> bool {
    let bytes = text.as_bytes();
    // Chunks without an early exit inside, so the compiler vectorizes.
    let printable_ascii =
        |chunk: &[u8]| chunk.iter().fold(true, |ok, &b| ok & (((0x20..0x7f).contains(&b)) | (b == b'\n')));
    if bytes.chunks(64).all(printable_ascii) {
        return true;
    }
    text.chars().all(|c| {
        (c == '\n' || (' '..='~').contains(&c) || c >= '\u{a0}')
            && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
    })
}

enum Stop<E> {
    Declined,
    Sink(E),
}

#[derive(Clone, Copy)]
struct Block {
    is_map: bool,
    /// Column of the keys, or of the dashes.
    indent: usize,
}

/// A key whose value is not on its line.
struct Pending {
    /// The column of the mapping that holds the key.
    map_indent: usize,
    /// Where the colon is (an empty value's span).
    colon: usize,
    colon_col: usize,
    line: usize,
}

/// An own-line comment waiting for the next token.
struct HeldComment {
    start: usize,
    end: usize,
    col: usize,
    line: usize,
}

struct Scanner<'a, F> {
    text: &'a str,
    sink: F,
    stack: Vec<Block>,
    pending: Option<Pending>,
    comments: Vec<HeldComment>,
    started: bool,
    /// The last content line ended with a value, so a more indented line
    /// would continue it (or be an error): decline.
    inline_value: bool,
    line_number: usize,
}

/// One line: where it starts, its text without the line break, and its
/// 1-based number.
#[derive(Clone, Copy)]
struct Line<'a> {
    start: usize,
    text: &'a str,
    number: usize,
}

impl<'a> Line<'a> {
    fn indent(&self) -> usize {
        self.text.len() - self.text.trim_start_matches(' ').len()
    }
}

type Step<E> = Result<(), Stop<E>>;

fn decline<T, E>() -> Result<T, Stop<E>> {
    Err(Stop::Declined)
}

impl<'a, E, F: FnMut(Event<'a>, Span) -> Result<(), E>> Scanner<'a, F> {
    fn marker(&self, offset: usize, line: usize, col: usize) -> Marker {
        Marker::new(offset, line, col).with_byte_offset(Some(offset))
    }

    fn emit(&mut self, event: Event<'a>, start: usize, end: usize, line: usize, col: usize) -> Step<E> {
        // The end's column in bytes: nothing reads it (the builder takes
        // byte ranges and start columns), and counting characters per
        // value showed in profiles.
        let end_col = col + (end - start);
        let span = Span::new(self.marker(start, line, col), self.marker(end, line, end_col));
        (self.sink)(event, span).map_err(Stop::Sink)
    }

    fn emit_empty(&mut self, event: Event<'a>, at: usize, line: usize, col: usize) -> Step<E> {
        let span = Span::empty(self.marker(at, line, col));
        (self.sink)(event, span).map_err(Stop::Sink)
    }

    fn flush_comments(&mut self) -> Step<E> {
        for comment in std::mem::take(&mut self.comments) {
            let text = &self.text[comment.start + 1..comment.end];
            let event = Event::Comment(Cow::Borrowed(text), Placement::Above);
            self.emit(event, comment.start, comment.end, comment.line, comment.col)?;
        }
        Ok(())
    }

    /// The next line from `pos`, or None at the end of the text.
    fn line_at(&self, pos: usize, number: usize) -> Option<(Line<'a>, usize)> {
        if pos >= self.text.len() {
            return None;
        }
        let rest = &self.text[pos..];
        // memchr, not `str::find`: the pattern searcher's set-up per line
        // cost more than the search on a file of short lines.
        let (text, next) = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(n) => (&rest[..n], pos + n + 1),
            None => (rest, self.text.len()),
        };
        Some((Line { start: pos, text, number }, next))
    }

    fn run(&mut self) -> Step<E> {
        self.emit_empty(Event::StreamStart, 0, 1, 0)?;
        let mut pos = 0;
        while let Some((line, next)) = self.line_at(pos, self.line_number + 1) {
            self.line_number = line.number;
            pos = self.line(line, next)?;
        }
        let end = self.text.len();
        let (last_line, last_col) = self.end_position();
        if !self.started {
            return decline();
        }
        if self.pending.is_some() {
            self.empty_value()?;
        }
        self.flush_comments()?;
        while let Some(block) = self.stack.pop() {
            let event = if block.is_map { Event::MappingEnd } else { Event::SequenceEnd };
            self.emit_empty(event, end, last_line, last_col)?;
        }
        self.emit_empty(Event::DocumentEnd, end, last_line, last_col)?;
        self.emit_empty(Event::StreamEnd, end, last_line, last_col)
    }

    /// Line and column of the end of the text.
    fn end_position(&self) -> (usize, usize) {
        match self.text.rfind('\n') {
            Some(n) if n + 1 == self.text.len() => (self.line_number + 1, 0),
            Some(n) => (self.line_number, self.text[n + 1..].chars().count()),
            None => (1, self.text.chars().count()),
        }
    }

    /// Handle one line; returns where the next line starts (a literal block
    /// scalar consumes several).
    fn line(&mut self, line: Line<'a>, next: usize) -> Result<usize, Stop<E>> {
        let indent = line.indent();
        let rest = &line.text[indent..];
        if rest.is_empty() {
            // A line of spaces is read by granit as part of whatever it is
            // in; only truly empty lines are simple.
            return if indent == 0 { Ok(next) } else { decline() };
        }
        if rest.starts_with('#') {
            let top = self.stack.last().map_or(0, |b| b.indent);
            if self.inline_value && indent > top {
                return decline();
            }
            let start = line.start + indent;
            let end = line.start + line.text.len();
            self.comments.push(HeldComment { start, end, col: indent, line: line.number });
            return Ok(next);
        }
        if indent == 0 && (rest.starts_with("---") || rest.starts_with("...") || rest.starts_with('%')) {
            return decline();
        }
        let token = line.start + indent;
        if !self.started {
            self.flush_comments()?;
            self.emit_empty(Event::DocumentStart(false, None), token, line.number, indent)?;
            self.started = true;
            if is_item(rest) {
                return decline();
            }
            self.open(true, indent, token, line.number, indent)?;
            return self.entry(line, indent, rest, next);
        }
        if let Some(pending) = &self.pending {
            let map_indent = pending.map_indent;
            if indent > map_indent {
                // The value is a nested block.
                self.pending = None;
                self.flush_comments()?;
                if is_item(rest) {
                    self.open(false, indent, token, line.number, indent)?;
                } else {
                    self.open(true, indent, token, line.number, indent)?;
                }
                return self.entry(line, indent, rest, next);
            }
            if indent == map_indent && is_item(rest) {
                // A sequence at the key's own column: granit starts it at
                // the first item's content.
                self.pending = None;
                self.flush_comments()?;
                let content = item_content_offset(rest).ok_or(Stop::Declined)?;
                self.open(false, indent, token + content, line.number, indent + content)?;
                return self.entry(line, indent, rest, next);
            }
            self.empty_value()?;
        }
        if self.inline_value && indent > self.stack.last().map_or(0, |b| b.indent) {
            return decline();
        }
        // Close the blocks this line leaves.
        let mut flushed = false;
        loop {
            let Some(top) = self.stack.last().copied() else { return decline() };
            let leaves = top.indent > indent || (!top.is_map && top.indent == indent && !is_item(rest));
            if !leaves {
                break;
            }
            if !flushed {
                self.flush_comments()?;
                flushed = true;
            }
            self.stack.pop();
            let event = if top.is_map { Event::MappingEnd } else { Event::SequenceEnd };
            self.emit_empty(event, token, line.number, indent)?;
        }
        match self.stack.last() {
            Some(top) if top.indent == indent && top.is_map != is_item(rest) => {}
            _ => return decline(),
        }
        self.flush_comments()?;
        self.entry(line, indent, rest, next)
    }

    fn open(&mut self, is_map: bool, indent: usize, at: usize, line: usize, col: usize) -> Step<E> {
        if self.stack.len() >= MAX_DEPTH {
            return decline();
        }
        self.stack.push(Block { is_map, indent });
        let event = if is_map {
            Event::MappingStart(StructureStyle::Block, 0, None)
        } else {
            Event::SequenceStart(StructureStyle::Block, 0, None)
        };
        self.emit_empty(event, at, line, col)
    }

    /// The `~` of a key whose value never came.
    fn empty_value(&mut self) -> Step<E> {
        let pending = self.pending.take().expect("checked by the caller");
        let event = Event::Scalar(Cow::Borrowed("~"), ScalarStyle::Plain, 0, None);
        self.emit_empty(event, pending.colon, pending.line, pending.colon_col)
    }

    /// A mapping entry or a sequence item starting at column `col` of
    /// `line` (`rest` is the line from there), in the block on top.
    fn entry(&mut self, line: Line<'a>, col: usize, rest: &'a str, next: usize) -> Result<usize, Stop<E>> {
        self.inline_value = false;
        let in_map = self.stack.last().is_some_and(|b| b.is_map);
        if !in_map {
            let content = item_content_offset(rest).ok_or(Stop::Declined)?;
            let value = &rest[content..];
            let value_col = col + content;
            if key_colon(value).is_some() {
                // `- key: value`: a mapping at the item's content column.
                let at = line.start + value_col;
                self.open(true, value_col, at, line.number, value_col)?;
                return self.entry(line, value_col, value, next);
            }
            if value.starts_with('|') {
                return decline();
            }
            self.value(line, value_col, value, next)
        } else {
            let colon = key_colon(rest).ok_or(Stop::Declined)?;
            let key = &rest[..colon];
            if !is_simple_key(key) {
                return decline();
            }
            let start = line.start + col;
            let event = Event::Scalar(Cow::Borrowed(key), ScalarStyle::Plain, 0, None);
            self.emit(event, start, start + key.len(), line.number, col)?;
            let after = &rest[colon + 1..];
            let spaces = after.len() - after.trim_start_matches(' ').len();
            let value = &after[spaces..];
            if value.is_empty() {
                self.pending = Some(Pending {
                    map_indent: col,
                    colon: start + colon,
                    colon_col: col + colon,
                    line: line.number,
                });
                return Ok(next);
            }
            self.value(line, col + colon + 1 + spaces, value, next)
        }
    }

    /// A value on the line at column `col` (`value` runs to the line's end).
    fn value(&mut self, line: Line<'a>, col: usize, value: &'a str, next: usize) -> Result<usize, Stop<E>> {
        let start = line.start + col;
        let first = value.as_bytes()[0];
        let (event, len) = match first {
            b'"' | b'\'' => {
                let close = 1 + value[1..].find(first as char).ok_or(Stop::Declined)?;
                let inner = &value[1..close];
                if (first == b'"' && inner.contains('\\'))
                    || (first == b'\'' && value[close + 1..].starts_with('\''))
                {
                    return decline();
                }
                let style = if first == b'"' { ScalarStyle::DoubleQuoted } else { ScalarStyle::SingleQuoted };
                (Event::Scalar(Cow::Borrowed(inner), style, 0, None), close + 1)
            }
            b'|' => {
                let strip = match value.trim_end_matches(' ') {
                    "|" => false,
                    "|-" => true,
                    _ => return decline(),
                };
                let parent = self.stack.last().map_or(0, |b| b.indent);
                return self.literal(line, parent, strip, next);
            }
            b'[' | b'{'
                if value.len() >= 2 && value.as_bytes()[1] == if first == b'[' { b']' } else { b'}' } =>
            {
                // An empty flow collection (`hc_vault: []` in every file
                // with key groups): a start on the bracket, an end on its
                // partner.
                let (open, close) = if first == b'[' {
                    (Event::SequenceStart(StructureStyle::Flow, 0, None), Event::SequenceEnd)
                } else {
                    (Event::MappingStart(StructureStyle::Flow, 0, None), Event::MappingEnd)
                };
                self.emit(open, start, start + 1, line.number, col)?;
                (close, 2)
            }
            b'-' if value.len() > 1 && value.as_bytes()[1] != b' ' => self.plain(value)?,
            b'-' | b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'>'
            | b'%' | b'@' | b'`' => return decline(),
            _ => self.plain(value)?,
        };
        let (event_start, event_col) =
            if len == 2 && matches!(first, b'[' | b'{') { (start + 1, col + 1) } else { (start, col) };
        self.emit(event, event_start, start + len, line.number, event_col)?;
        self.inline_value = true;
        let after = &value[len..];
        let trimmed = after.trim_start_matches(' ');
        if trimmed.is_empty() {
            return Ok(next);
        }
        if !trimmed.starts_with('#') || trimmed.len() == after.len() {
            return decline();
        }
        let hash = start + len + (after.len() - trimmed.len());
        let end = line.start + line.text.len();
        let hash_col = self.text[line.start..hash].chars().count();
        let event = Event::Comment(Cow::Borrowed(&self.text[hash + 1..end]), Placement::Right);
        self.emit(event, hash, end, line.number, hash_col)?;
        Ok(next)
    }

    /// A plain scalar that ends its line (or a comment): the event and its
    /// length in `value`.
    fn plain(&self, value: &'a str) -> Result<(Event<'a>, usize), Stop<E>> {
        // One pass: the value ends at ` #`; `: ` inside it would make it a
        // key. (Substring searches per value cost more than the scan.)
        let bytes = value.as_bytes();
        let mut end = bytes.len();
        // Both need a space: a value without one (every envelope, whose four
        // colons each cost a search) is whole.
        if memchr::memchr(b' ', bytes).is_some() {
            for i in memchr::memchr2_iter(b'#', b':', bytes) {
                if bytes[i] == b'#' && i > 0 && bytes[i - 1] == b' ' {
                    end = i - 1;
                    break;
                }
                if bytes[i] == b':' && bytes.get(i + 1) == Some(&b' ') {
                    return decline();
                }
            }
        }
        let text = value[..end].trim_end_matches(' ');
        if text.ends_with(':') {
            return decline();
        }
        Ok((Event::Scalar(Cow::Borrowed(text), ScalarStyle::Plain, 0, None), text.len()))
    }

    /// A literal block scalar (`|` or `|-`) under a block at column
    /// `parent`; its lines follow `line`.
    fn literal(&mut self, line: Line<'a>, parent: usize, strip: bool, next: usize) -> Result<usize, Stop<E>> {
        let Some((first, _)) = self.line_at(next, line.number + 1) else { return decline() };
        let block_indent = first.indent();
        if block_indent <= parent || block_indent == first.text.len() {
            return decline();
        }
        let mut value = String::new();
        let mut pos = next;
        let mut number = line.number;
        let mut end = self.text.len();
        let mut end_line = (line.number, 0);
        while let Some((content, after)) = self.line_at(pos, number + 1) {
            let indent = content.indent();
            if content.text.is_empty() {
                value.push('\n');
            } else if indent == content.text.len() {
                return decline();
            } else if indent >= block_indent {
                value.push_str(&content.text[block_indent..]);
                value.push('\n');
            } else {
                if content.text[indent..].starts_with('#') {
                    return decline();
                }
                end = content.start + indent;
                end_line = (content.number, indent);
                break;
            }
            number = content.number;
            pos = after;
        }
        self.line_number = number;
        if pos >= self.text.len() {
            end_line = self.end_position();
        }
        let kept = value.trim_end_matches('\n').len();
        value.truncate(if strip { kept } else { (kept + 1).min(value.len()) });
        let start = first.start + block_indent;
        let event = Event::Scalar(Cow::Owned(value), ScalarStyle::Literal, 0, None);
        let span = Span::new(
            self.marker(start, first.number, block_indent),
            self.marker(end, end_line.0, end_line.1),
        );
        (self.sink)(event, span).map_err(Stop::Sink)?;
        self.inline_value = true;
        Ok(pos)
    }
}

/// `- ...` or a lone `-`.
fn is_item(rest: &str) -> bool {
    rest == "-" || rest.starts_with("- ")
}

/// Where an item's content starts after its dash, if it has any.
fn item_content_offset(rest: &str) -> Option<usize> {
    let after = rest.strip_prefix('-')?;
    let spaces = after.len() - after.trim_start_matches(' ').len();
    (spaces > 0 && spaces < after.len()).then_some(1 + spaces)
}

/// The colon that ends a key: the first `:` followed by a space or the end
/// of the line.
fn key_colon(rest: &str) -> Option<usize> {
    let bytes = rest.as_bytes();
    (0..bytes.len()).find(|&i| bytes[i] == b':' && bytes.get(i + 1).is_none_or(|&b| b == b' '))
}

/// A key granit reads as the same plain word: letters, digits, `_ . - /`,
/// starting with a letter, digit or `_`.
fn is_simple_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_KEY_LEN
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'/'))
}

#[cfg(test)]
#[path = "block_scan_tests.rs"]
pub(super) mod tests;
