//! Reading JSON into the tree, recording every value's byte span.
//!
//! One pass over the bytes with an explicit stack of open containers: the
//! input decides how deep the stack gets, so it must not be the call stack.
//! Each value gets the next index of the span table when it starts (so the
//! table is in document order and a subtree is a contiguous index range),
//! and its span is completed when it ends.
//!
//! The grammar is RFC 8259 as Go's `encoding/json` accepts it, and values are
//! typed as sops 3.11 types them (see the module docs of the store). Where
//! sops is lax in ways that lose data we are strict and say so: invalid
//! UTF-8 (Go substitutes U+FFFD) and anything after the top-level object (Go's
//! token reader never looks at it when encrypting) are errors here.
//!
//! Numbers: an integer literal whose value a float holds exactly (|n| <=
//! 2^53, not `-0`) is `Scalar::Int`, since in every output and in the MAC
//! it looks the same as the float sops 3.11 makes of it (and 3.13 writes
//! int); a longer integer literal is `Scalar::BigInt` with its exact digits;
//! everything else is `Scalar::Float`. Like Go, a number beyond the float
//! range is an error.
//!
//! Strings are scanned first, eight bytes at a time, and decoded only when
//! they contain escapes, so the common case is one scan and one copy.

use super::{FORMAT, IndentUnit, Layout, MAX_DEPTH, NONE, Span, word_at, word_needs_attention};
use crate::error::{Error, Position, Result};
use crate::secret::SecretBytes;
use crate::tree::{Document, Key, MapItem, Node, Pair, Scalar, SeqItem, Src, Tree, Value};

/// Parse JSON into a tree (one document, the top-level object's members as
/// `MapItem::Pair`s, the `sops` member included like any other) and its
/// layout.
///
/// Errors (all exit 2, none quoting the input): a top level other than an
/// object is [`Error::Shape`]; nesting deeper than [`MAX_DEPTH`](super::MAX_DEPTH)
/// is [`Error::LimitExceeded`]; empty input, syntax errors, invalid UTF-8
/// and out-of-range numbers are [`Error::Parse`] with a line and column.
pub fn parse(input: &[u8]) -> Result<(Tree, Layout)> {
    parse_owned(crate::secret::SecretVec::new(input.to_vec()))
}

/// [`parse`], keeping `input` as the layout's text instead of a copy of it.
pub fn parse_owned(input: crate::secret::SecretVec) -> Result<(Tree, Layout)> {
    if input.len() >= NONE as usize {
        return Err(Error::LimitExceeded { format: FORMAT, message: "the file is larger than 4 GiB".into() });
    }
    let mut parser =
        Parser { bytes: &input, pos: 0, spans: Vec::new(), sops: None, indent: None, crlf: None };
    let items = parser.document()?;
    let Parser { spans, sops, indent, crlf, .. } = parser;
    let layout = Layout {
        text: input,
        spans,
        sops,
        indent,
        crlf: crlf.unwrap_or(false),
        overrides: Default::default(),
    };
    let tree = Tree { documents: vec![Document { items }] };
    Ok((tree, layout))
}

/// An object or array still being read.
enum Frame {
    Map {
        items: Vec<MapItem>,
        src: u32,
        /// The key of the member whose value is being read.
        key: Option<Key>,
    },
    Seq {
        items: Vec<SeqItem>,
        src: u32,
    },
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    spans: Vec<Span>,
    sops: Option<u32>,
    indent: Option<IndentUnit>,
    crlf: Option<bool>,
}

/// Bytes that may appear in a string without ending it or needing a look:
/// printable ASCII other than `"` and `\`.
const PLAIN_IN_STRING: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0x20;
    while b < 0x80 {
        table[b] = b != b'"' as usize && b != b'\\' as usize;
        b += 1;
    }
    table
};

impl Parser<'_> {
    fn document(&mut self) -> Result<Vec<MapItem>> {
        self.top_level_start()?;
        let mut stack = vec![self.open(b'{', NONE, NONE, NONE)];
        // True right after `{` or `[`: the container may close at once.
        let mut just_opened = true;
        loop {
            self.skip_ws();
            let top = stack.last_mut().expect("the stack holds the top-level object");
            let (is_map, close) = match top {
                Frame::Map { .. } => (true, b'}'),
                Frame::Seq { .. } => (false, b']'),
            };
            let at = self.pos;
            match self.peek() {
                Some(b) if b == close => {
                    self.pos += 1;
                    let frame = stack.pop().expect("the stack is not empty");
                    let (src, value) = match frame {
                        Frame::Map { items, src, .. } => (src, Value::Map(items)),
                        Frame::Seq { items, src } => (src, Value::Seq(items)),
                    };
                    let subtree_end = self.spans.len() as u32;
                    let span = &mut self.spans[src as usize];
                    span.end = self.pos as u32;
                    span.subtree_end = subtree_end;
                    let Some(parent) = stack.last_mut() else {
                        let Value::Map(items) = value else { unreachable!("the top level is an object") };
                        return self.end_of_input().map(|()| items);
                    };
                    self.attach(parent, src, value);
                    just_opened = false;
                    continue;
                }
                Some(b',') if !just_opened => {
                    self.pos += 1;
                    self.skip_ws();
                }
                None => {
                    return Err(self.error(if is_map {
                        "unexpected end of input: the object is not closed"
                    } else {
                        "unexpected end of input: the array is not closed"
                    }));
                }
                _ if just_opened => {
                    if self.indent.is_none() {
                        let open = self.spans[frame_src(top) as usize].start as usize;
                        self.detect_indent(open, at);
                    }
                }
                _ => {
                    return Err(self.error(if is_map {
                        "unexpected character: expected ',' or '}' after an object member"
                    } else {
                        "unexpected character: expected ',' or ']' after an array element"
                    }));
                }
            }
            just_opened = false;

            // A member or element follows.
            let (key_start, key_end) = match stack.last_mut().expect("inside a container") {
                Frame::Map { key, .. } => self.member_key(key)?,
                Frame::Seq { .. } => (NONE, NONE),
            };
            let parent = frame_src(stack.last().expect("inside a container"));
            match self.peek() {
                Some(open @ (b'{' | b'[')) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(Error::LimitExceeded {
                            format: FORMAT,
                            message: format!(
                                "objects and arrays are nested more than {MAX_DEPTH} levels deep at {}",
                                self.position(self.pos)
                            ),
                        });
                    }
                    stack.push(self.open(open, key_start, key_end, parent));
                    just_opened = true;
                }
                _ => {
                    let start = self.pos;
                    let scalar = self.scalar()?;
                    let src = self.spans.len() as u32;
                    self.spans.push(Span {
                        start: start as u32,
                        end: self.pos as u32,
                        key_start,
                        key_end,
                        parent,
                        subtree_end: src + 1,
                    });
                    let top = stack.last_mut().expect("inside a container");
                    self.attach(top, src, Value::Scalar(scalar));
                }
            }
        }
    }

    /// The input must start with an object; anything else that is JSON is
    /// the wrong shape for sops (exit 2, as sops), the rest a syntax error.
    fn top_level_start(&mut self) -> Result<()> {
        self.skip_ws();
        let what = match self.peek() {
            None => return Err(self.error("the input is empty: expected a JSON object")),
            Some(b'{') => return Ok(()),
            Some(b'[') => "an array",
            Some(b'"') => "a string",
            Some(b'-' | b'0'..=b'9') => "a number",
            Some(b't' | b'f') => "a boolean",
            Some(b'n') => "null",
            Some(_) => return Err(self.error("unexpected character: expected a JSON object")),
        };
        Err(Error::Shape {
            format: FORMAT,
            message: format!("Expected JSON object start, got {what} instead"),
        })
    }

    /// Read a member's key and the colon after it into `key`; returns the
    /// key token's span.
    fn member_key(&mut self, key: &mut Option<Key>) -> Result<(u32, u32)> {
        let key_start = self.pos;
        if self.peek() != Some(b'"') {
            return Err(self.error_or_eof("expected a string as the object key"));
        }
        let name = self.string()?;
        let key_end = self.pos;
        let name = String::from_utf8(name).expect("strings are checked to be UTF-8");
        *key = Some(Key::new(name));
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.error_or_eof("expected ':' after an object key"));
        }
        self.pos += 1;
        self.skip_ws();
        Ok((key_start as u32, key_end as u32))
    }

    /// Start a container at the current `{` or `[`.
    fn open(&mut self, open: u8, key_start: u32, key_end: u32, parent: u32) -> Frame {
        let src = self.spans.len() as u32;
        self.spans.push(Span {
            start: self.pos as u32,
            end: NONE,
            key_start,
            key_end,
            parent,
            subtree_end: NONE,
        });
        self.pos += 1;
        if open == b'{' {
            Frame::Map { items: Vec::new(), src, key: None }
        } else {
            Frame::Seq { items: Vec::new(), src }
        }
    }

    /// Add a finished value to its container.
    fn attach(&mut self, frame: &mut Frame, src: u32, value: Value) {
        let node = Node { value, src: Src(src), changed: false };
        match frame {
            Frame::Map { items, src: parent, key } => {
                let key = key.take().expect("a member's key is read before its value");
                if *parent == 0 && key.name == "sops" {
                    self.sops = Some(src);
                }
                items.push(MapItem::Pair(Pair { key, value: node }));
            }
            Frame::Seq { items, .. } => items.push(SeqItem::Value(node)),
        }
    }

    /// Only whitespace may follow the top-level object.
    fn end_of_input(&mut self) -> Result<()> {
        self.skip_ws();
        if self.pos < self.bytes.len() {
            return Err(self.error("unexpected data after the top-level object"));
        }
        Ok(())
    }

    /// Learn the indentation step from the first container whose first
    /// member starts a line: its indentation minus the container's own line
    /// indentation.
    fn detect_indent(&mut self, open: usize, first: usize) {
        let gap = &self.bytes[open + 1..first];
        let Some(newline) = gap.iter().rposition(|&b| b == b'\n') else {
            return;
        };
        if self.crlf.is_none() {
            let first_newline = gap.iter().position(|&b| b == b'\n').unwrap_or(newline);
            self.crlf = Some(first_newline > 0 && gap[first_newline - 1] == b'\r');
        }
        let member_indent = &gap[newline + 1..];
        let outer = line_indent(self.bytes, open);
        let Some(step) = member_indent.strip_prefix(outer) else {
            return;
        };
        if let Some(&byte) = step.first()
            && (byte == b' ' || byte == b'\t')
            && step.iter().all(|&b| b == byte)
        {
            self.indent = Some(IndentUnit { byte, width: step.len() });
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn scalar(&mut self) -> Result<Scalar> {
        match self.peek() {
            Some(b'"') => Ok(Scalar::Str(SecretBytes::new(self.string()?))),
            Some(b't') => self.literal(b"true", Scalar::Bool(true)),
            Some(b'f') => self.literal(b"false", Scalar::Bool(false)),
            Some(b'n') => self.literal(b"null", Scalar::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.error_or_eof("expected a value")),
        }
    }

    fn literal(&mut self, word: &[u8], scalar: Scalar) -> Result<Scalar> {
        for &expected in word {
            if self.peek() != Some(expected) {
                return Err(self.error_or_eof("invalid literal (expected true, false or null)"));
            }
            self.pos += 1;
        }
        Ok(scalar)
    }

    /// A number, typed as described in the store's docs: integers that a
    /// float holds exactly are `Int`, other integer literals `BigInt` with
    /// their exact digits, everything else `Float`.
    fn number(&mut self) -> Result<Scalar> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error_or_eof("invalid number: expected a digit")),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            integer = false;
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error_or_eof("invalid number: expected a digit after '.'"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            integer = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error_or_eof("invalid number: expected a digit in the exponent"));
            }
            self.digits();
        }
        let text = std::str::from_utf8(&self.bytes[start..self.pos]).expect("number is ASCII");
        if integer && text != "-0" {
            // Up to 2^53 an integer and its float are the same number and
            // print the same everywhere, so it stays an integer.
            if let Ok(value) = text.parse::<i64>()
                && value.unsigned_abs() <= 1 << 53
            {
                return Ok(Scalar::Int(value));
            }
        }
        let value: f64 = text.parse().expect("the JSON number grammar is valid Rust");
        if value.is_infinite() {
            return Err(Error::Parse {
                format: FORMAT,
                message: format!("number out of the range of a 64-bit float at {}", self.position(start)),
            });
        }
        if integer && text != "-0" {
            return Ok(Scalar::BigInt(SecretBytes::from_text(text)));
        }
        Ok(Scalar::Float(value))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    /// A string at the current `"`, unescaped. Leaves `pos` after the
    /// closing quote.
    fn string(&mut self) -> Result<Vec<u8>> {
        let bytes = self.bytes;
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        let mut ascii = true;
        loop {
            while let Some(word) = word_at(bytes, i)
                && !word_needs_attention(word, b"\"\\")
            {
                i += 8;
            }
            while i < bytes.len() && PLAIN_IN_STRING[bytes[i] as usize] {
                i += 1;
            }
            let Some(&b) = bytes.get(i) else {
                self.pos = i;
                return Err(self.error("unexpected end of input: the string is not closed"));
            };
            match b {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    let len = match bytes.get(i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => 2,
                        Some(b'u') if bytes.len() >= i + 6 && hex4(&bytes[i + 2..i + 6]).is_some() => 6,
                        _ => {
                            self.pos = i;
                            return Err(self.error("invalid escape sequence in a string"));
                        }
                    };
                    i += len;
                }
                0x80.. => {
                    ascii = false;
                    i += 1;
                }
                _ => {
                    self.pos = i;
                    return Err(self.error("control character in a string (it must be escaped)"));
                }
            }
        }
        let raw = &bytes[start..i];
        if !ascii && let Err(err) = std::str::from_utf8(raw) {
            self.pos = start + err.valid_up_to();
            return Err(self.error("invalid UTF-8 in a string"));
        }
        self.pos = i + 1;
        Ok(if escaped { unescape(raw) } else { raw.to_vec() })
    }

    fn position(&self, offset: usize) -> Position {
        position(self.bytes, offset)
    }

    /// A syntax error at the current position.
    fn error(&self, what: &str) -> Error {
        Error::Parse { format: FORMAT, message: format!("{what} at {}", self.position(self.pos)) }
    }

    /// A syntax error at the current position, or an end-of-input error if
    /// the input ended there.
    fn error_or_eof(&self, what: &str) -> Error {
        if self.pos >= self.bytes.len() {
            self.error(&format!("unexpected end of input: {what}"))
        } else {
            self.error(&format!("unexpected character: {what}"))
        }
    }
}

fn frame_src(frame: &Frame) -> u32 {
    match frame {
        Frame::Map { src, .. } | Frame::Seq { src, .. } => *src,
    }
}

/// The whitespace that starts the line holding `offset`.
pub(super) fn line_indent(bytes: &[u8], offset: usize) -> &[u8] {
    let line_start = bytes[..offset].iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1);
    let width = bytes[line_start..offset].iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    &bytes[line_start..line_start + width]
}

/// The 1-based line and column (in characters) of a byte offset.
fn position(bytes: &[u8], offset: usize) -> Position {
    let offset = offset.min(bytes.len());
    let before = &bytes[..offset];
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1);
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    // Count characters, not bytes: UTF-8 continuation bytes do not start one.
    let column = 1 + before[line_start..].iter().filter(|&&b| b & 0xC0 != 0x80).count();
    Position { line, column }
}

/// The value of four hex digits.
fn hex4(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |acc, &b| {
        let digit = (b as char).to_digit(16)?;
        Some(acc * 16 + digit)
    })
}

/// Decode the escapes of a string's raw contents (already validated). Lone
/// or mismatched UTF-16 surrogates become U+FFFD, as Go decodes them.
pub(super) fn unescape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let run = raw[i..].iter().position(|&b| b == b'\\').map_or(raw.len(), |n| i + n);
        out.extend_from_slice(&raw[i..run]);
        i = run;
        if i >= raw.len() {
            break;
        }
        let simple = match raw[i + 1] {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(0x08),
            b'f' => Some(0x0C),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        };
        if let Some(byte) = simple {
            out.push(byte);
            i += 2;
            continue;
        }
        let unit = hex4(&raw[i + 2..i + 6]).unwrap_or(0xFFFD);
        i += 6;
        let ch = if (0xD800..0xE000).contains(&unit) {
            // A high surrogate pairs with an immediately following escaped
            // low surrogate; anything else is replaced and the following
            // escape, if any, is read on its own.
            let low =
                raw.get(i..i + 6).filter(|next| next.starts_with(b"\\u")).and_then(|next| hex4(&next[2..]));
            match low {
                Some(low) if unit < 0xDC00 && (0xDC00..0xE000).contains(&low) => {
                    i += 6;
                    char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                }
                _ => None,
            }
        } else {
            char::from_u32(unit)
        };
        let ch = ch.unwrap_or(char::REPLACEMENT_CHARACTER);
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
    out
}
