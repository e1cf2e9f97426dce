//! Reading INI text exactly as go-ini 1.67.1 reads it with sops's options,
//! while recording where each piece was.
//!
//! go-ini reads line by line. A line is trimmed on the left; blank lines
//! are skipped; a line starting with `#` or `;` is appended, with its line
//! break, to a comment buffer; `[` starts a section header whose name runs
//! to the *last* `]`; anything else is a key, split at the first `=` or `:`
//! (a key may be quoted with `"`, `"""` or backquotes). Values are trimmed;
//! a value starting with a backquote or `"""` runs to the last such quote,
//! across lines if need be; otherwise a trailing backslash continues it on
//! the next lines, else the first `#` or `;` starts an inline comment and
//! one pair of surrounding `"` or `'` is removed. When a key or header is
//! read, the buffer (plus any inline comment) becomes its comment, trimmed,
//! and the buffer is emptied; sops then strips the leading run of the
//! marker and spaces. Each of those rules is mirrored here, quirks
//! included (`"x;y"` is the value `"x` with the comment `y"`), because the
//! tree must be the one sops builds.
//!
//! The reader works on the text once, front to back, and records the byte
//! ranges the writers need: each section's region and header, each value's
//! token and lines, each comment's lines and inline part. The first
//! `[sops]` section is the metadata: its pairs are unflattened into a `sops`
//! entry of the tree and its region is recorded so writers drop it.
//!
//! Error messages give a line number and describe the problem; they never
//! quote the line, which may hold a secret.

use zeroize::Zeroizing;

use super::{CommentEntry, CommentOwner, Entry, FORMAT, Layout, SectionEntry, Span, ValueEntry};
use crate::error::{Error, Result};
use crate::metadata::flat;
use crate::secret::SecretBytes;
use crate::tree::{Comment, Document, Key, MapItem, Node, Pair, Src, Tree};

/// The name of the section before the first header.
pub(super) const DEFAULT_SECTION: &str = "DEFAULT";

/// Parse INI text into sops's tree and the layout of the text.
pub fn parse(input: &[u8]) -> Result<(Tree, Layout)> {
    if input.len() >= u32::MAX as usize {
        return Err(Error::LimitExceeded { format: FORMAT, message: "the file is larger than 4 GiB".into() });
    }
    let base = bom_len(input);
    let text = std::str::from_utf8(&input[base..]).map_err(|e| {
        let line = 1 + input[base..base + e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
        parse_error(line, "the file is not valid UTF-8")
    })?;
    let mut reader = Reader::new(text, base);
    reader.read()?;
    Ok(reader.finish(input))
}

/// go-ini skips a UTF-8 byte order mark, and the first two bytes of a
/// UTF-16 one.
fn bom_len(input: &[u8]) -> usize {
    match input {
        [0xEF, 0xBB, 0xBF, ..] => 3,
        [0xFE, 0xFF, ..] | [0xFF, 0xFE, ..] => 2,
        _ => 0,
    }
}

fn parse_error(line: usize, message: &str) -> Error {
    Error::Parse { format: FORMAT, message: format!("line {line}: {message}") }
}

/// One line: from its first byte to just past its `\n` (or the end).
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
    number: usize,
}

/// A value as go-ini reads it, with where it was.
struct ReadValue {
    text: Zeroizing<String>,
    token: Span,
    inline: Option<Span>,
    /// Just past the line break of the value's last line.
    end: usize,
}

/// A section being read.
struct Section {
    name: String,
    items: Vec<MapItem>,
    entry: usize,
}

/// What a region of the text belongs to, in file order.
enum Region {
    Data,
    Sops,
}

struct Reader<'t> {
    text: &'t str,
    /// Where `text` starts in the input (after a byte order mark); every
    /// recorded position is an offset into the input.
    base: usize,
    pos: usize,
    line_number: usize,
    /// go-ini's comment buffer: comment lines with their line breaks, then
    /// an inline comment.
    comment: Zeroizing<String>,
    /// The comment lines in the buffer: from the first line's start to the
    /// end of the last one's text.
    block: Option<Span>,
    /// go-ini numbers keys named `-` within each section: `#1`, `#2`, ...
    auto_key: usize,
    entries: Vec<Entry>,
    sections: Vec<Section>,
    regions: Vec<(usize, Region)>,
    /// The pairs of the first `[sops]` section, while and after reading it.
    sops: Option<Vec<(String, String)>>,
    in_sops: bool,
}

impl<'t> Reader<'t> {
    fn new(text: &'t str, base: usize) -> Reader<'t> {
        let mut reader = Reader {
            text,
            base,
            pos: 0,
            line_number: 0,
            comment: Zeroizing::new(String::new()),
            block: None,
            auto_key: 1,
            entries: Vec::new(),
            sections: Vec::new(),
            regions: Vec::new(),
            sops: None,
            in_sops: false,
        };
        // go-ini always has the DEFAULT section, first, even when empty.
        reader.start_section(DEFAULT_SECTION.to_owned(), base, None);
        reader
    }

    fn abs(&self, relative: usize) -> usize {
        self.base + relative
    }

    fn next_line(&mut self) -> Option<Line> {
        if self.pos >= self.text.len() {
            return None;
        }
        let start = self.pos;
        let end = self.text[start..].find('\n').map_or(self.text.len(), |n| start + n + 1);
        self.pos = end;
        self.line_number += 1;
        Some(Line { start, end, number: self.line_number })
    }

    fn read(&mut self) -> Result<()> {
        while let Some(line) = self.next_line() {
            let raw = &self.text[line.start..line.end];
            let trimmed = raw.trim_start();
            if trimmed.is_empty() {
                continue;
            }
            let lead = line.end - trimmed.len();
            match trimmed.as_bytes()[0] {
                b'#' | b';' => {
                    self.comment.push_str(trimmed);
                    let start = self.block.map_or(self.abs(line.start), |b| b.start as usize);
                    let end = self.abs(line.start + raw.trim_end().len());
                    self.block = Some(Span::new(start, end));
                }
                b'[' => self.header(line, lead)?,
                _ => self.key_line(line, lead)?,
            }
        }
        Ok(())
    }

    fn header(&mut self, line: Line, lead: usize) -> Result<()> {
        let trimmed = &self.text[lead..line.end];
        let close = trimmed
            .rfind(']')
            .ok_or_else(|| parse_error(line.number, "a section header has no closing ']'"))?;
        let name = &trimmed[1..close];
        if name.is_empty() {
            return Err(parse_error(line.number, "a section header has an empty name"));
        }
        let after = &trimmed[close + 1..];
        let header = Span::new(self.abs(line.start), self.abs(line.end));
        if name == "sops" && self.sops.is_none() {
            // Comments before it are the last data section's trailing
            // comments; the metadata section's own are dropped with it.
            self.flush_trailing_comment();
            self.regions.push((self.abs(line.start), Region::Sops));
            self.sops = Some(Vec::new());
            self.in_sops = true;
            self.auto_key = 1;
            return Ok(());
        }
        let inline = after.find(['#', ';']).map(|i| {
            self.comment.push_str(&after[i..]);
            let start = lead + close + 1;
            Span::new(self.abs(start), self.abs(start + after.trim_end().len()))
        });
        let region_start = self.block.map_or(header.start as usize, |b| b.start as usize);
        let name = name.to_owned();
        self.in_sops = false;
        self.auto_key = 1;
        let section = self.start_section(name, region_start, Some(header));
        let anchor = self.abs(lead + close + 1) as u32;
        let owner = CommentOwner::Section(section as u32);
        self.take_comment(inline, anchor, header.start, owner);
        Ok(())
    }

    /// Open a data section whose text starts at `region_start`; returns
    /// its entry index.
    fn start_section(&mut self, name: String, region_start: usize, header: Option<Span>) -> usize {
        let insert_at = header.map_or(region_start as u32, |h| h.end);
        let entry = self
            .push(Entry::Section(SectionEntry { region: Span::new(region_start, region_start), insert_at }));
        self.regions.push((region_start, Region::Data));
        self.sections.push(Section { name, items: Vec::new(), entry });
        entry
    }

    fn push(&mut self, entry: Entry) -> usize {
        self.entries.push(entry);
        self.entries.len() - 1
    }

    /// Turn the comment buffer into a comment entry of the current section
    /// (go-ini: `Comment = TrimSpace(buffer)`, kept when not empty), and
    /// empty the buffer.
    fn take_comment(&mut self, inline: Option<Span>, anchor: u32, owner_line: u32, owner: CommentOwner) {
        let block = self.block.take();
        let trimmed = self.comment.trim();
        let text = (!trimmed.is_empty()).then(|| SecretBytes::from_text(strip_comment_marker(trimmed)));
        if let Some(text) = text.filter(|_| !self.in_sops) {
            let src = self.push(Entry::Comment(CommentEntry { block, inline, anchor, owner_line, owner }));
            let mut comment = Comment::new(text);
            comment.src = Src(src as u32);
            let section = self.sections.last_mut().expect("DEFAULT always exists");
            section.items.push(MapItem::Comment(comment));
        }
        self.comment.clear();
    }

    /// Comment lines that no key or header follows: go-ini drops them, we
    /// keep them as the last comment of the section they are in, so they
    /// are encrypted and come back in place.
    fn flush_trailing_comment(&mut self) {
        if self.block.is_none() {
            return;
        }
        let at = self.block.map_or(0, |b| b.start);
        self.take_comment(None, at, at, CommentOwner::Trailing);
    }

    fn key_line(&mut self, line: Line, lead: usize) -> Result<()> {
        let trimmed = &self.text[lead..line.end];
        let (name, offset) = read_key_name(trimmed).map_err(|problem| parse_error(line.number, problem))?;
        if name.is_empty() {
            return Err(parse_error(line.number, "a key has an empty name"));
        }
        let name = if name == "-" {
            self.auto_key += 1;
            format!("#{}", self.auto_key - 1)
        } else {
            name.to_owned()
        };
        let value = self.read_value(line, lead + offset)?;
        if self.in_sops {
            self.block = None;
            self.comment.clear();
            if let Some(pairs) = &mut self.sops {
                pairs.push((name, value.text.to_string()));
            }
            return Ok(());
        }
        let line_span = Span::new(self.abs(line.start), self.abs(value.end));
        let src = self.push(Entry::Value(ValueEntry { token: value.token, line: line_span }));
        let mut node = Node::scalar(crate::tree::Scalar::Str(SecretBytes::from_text(&value.text)));
        node.src = Src(src as u32);
        let section = self.sections.last_mut().expect("DEFAULT always exists");
        section.items.push(MapItem::Pair(Pair { key: Key::new(name), value: node }));
        if let Entry::Section(entry) = &mut self.entries[section.entry] {
            entry.insert_at = line_span.end;
        }
        let owner = CommentOwner::Key(src as u32);
        self.take_comment(value.inline, value.token.end, line_span.start, owner);
        Ok(())
    }

    /// go-ini's `readValue`: `rest` is where the value part of the line
    /// starts (just after the delimiter).
    fn read_value(&mut self, line: Line, rest: usize) -> Result<ReadValue> {
        let text = self.text;
        let after = &text[rest..line.end];
        let value = after.trim_start();
        let start = line.end - value.len();
        if value.is_empty() {
            let at = self.abs(rest);
            return Ok(ReadValue {
                text: Zeroizing::default(),
                token: Span::new(at, at),
                inline: None,
                end: line.end,
            });
        }
        let quote = if value.len() > 3 && value.starts_with("\"\"\"") {
            "\"\"\""
        } else if value.starts_with('`') {
            "`"
        } else {
            ""
        };
        if !quote.is_empty() {
            return self.read_quoted(line, start, quote);
        }
        let trimmed = value.trim();
        if trimmed.ends_with('\\') {
            return Ok(self.read_continued(line, start, trimmed));
        }
        let (value_part, inline) = match trimmed.find(['#', ';']) {
            Some(i) => {
                self.comment.push_str(&trimmed[i..]);
                let value_part = trimmed[..i].trim();
                let inline = Span::new(self.abs(start + value_part.len()), self.abs(start + trimmed.len()));
                (value_part, Some(inline))
            }
            None => (trimmed, None),
        };
        let token = Span::new(self.abs(start), self.abs(start + value_part.len()));
        let unquoted = if has_surrounding_quote(value_part, b'\'') || has_surrounding_quote(value_part, b'"')
        {
            &value_part[1..value_part.len() - 1]
        } else {
            value_part
        };
        Ok(ReadValue { text: Zeroizing::new(unquoted.to_owned()), token, inline, end: line.end })
    }

    /// A value opened with a backquote or `"""`: up to the last such quote
    /// on its line, or on the first later line that has one. Anything
    /// after the closing quote is ignored, except that on a later line a
    /// `#` or `;` after it starts a comment.
    fn read_quoted(&mut self, line: Line, start: usize, quote: &str) -> Result<ReadValue> {
        let text = self.text;
        let first = &text[start..line.end];
        let q = quote.len();
        if let Some(close) = first[q..].rfind(quote) {
            let token = Span::new(self.abs(start), self.abs(start + first.trim_end().len()));
            let value = Zeroizing::new(first[q..q + close].to_owned());
            return Ok(ReadValue { text: value, token, inline: None, end: line.end });
        }
        let mut value = Zeroizing::new(first[q..].to_owned());
        loop {
            let Some(next) = self.next_line() else {
                return Err(parse_error(line.number, "a quoted value is not closed"));
            };
            let raw = &text[next.start..next.end];
            let Some(close) = raw.rfind(quote) else {
                value.push_str(raw);
                continue;
            };
            value.push_str(&raw[..close]);
            let tail = &raw[close..];
            let (token_end, inline) = match tail.find(['#', ';']) {
                Some(i) => {
                    let piece = tail[i..].trim();
                    self.comment.push_str(piece);
                    let token_end = next.start + close + tail[..i].trim_end().len();
                    let inline =
                        Span::new(self.abs(token_end), self.abs(next.start + close + i + piece.len()));
                    (token_end, Some(inline))
                }
                None => (next.start + close + tail.trim_end().len(), None),
            };
            let token = Span::new(self.abs(start), self.abs(token_end));
            return Ok(ReadValue { text: value, token, inline, end: next.end });
        }
    }

    /// A value ending in a backslash: the following lines, trimmed, are
    /// appended while each ends in a backslash (which is dropped); a blank
    /// line or the end stops it. No comment or quote rules apply.
    fn read_continued(&mut self, line: Line, start: usize, trimmed: &str) -> ReadValue {
        let text = self.text;
        let mut value = Zeroizing::new(trimmed[..trimmed.len() - 1].to_owned());
        let mut token_end = start + trimmed.len();
        let mut end = line.end;
        while let Some(next) = self.next_line() {
            let raw = &text[next.start..next.end];
            let part = raw.trim();
            if part.is_empty() {
                break;
            }
            value.push_str(part);
            token_end = next.start + (raw.len() - raw.trim_start().len()) + part.len();
            end = next.end;
            if !value.ends_with('\\') {
                break;
            }
            value.pop();
        }
        let token = Span::new(self.abs(start), self.abs(token_end));
        ReadValue { text: value, token, inline: None, end }
    }

    fn finish(mut self, input: &[u8]) -> (Tree, Layout) {
        if !self.in_sops {
            self.flush_trailing_comment();
        }
        let file_end = self.abs(self.text.len());
        let mut sops_span = None;
        let mut items = Vec::with_capacity(self.sections.len() + 1);
        let mut sections = std::mem::take(&mut self.sections).into_iter();
        let mut sops_pairs = self.sops.take();
        for (i, (start, region)) in self.regions.iter().enumerate() {
            let end = self.regions.get(i + 1).map_or(file_end, |(next, _)| *next);
            let span = Span::new(*start, end);
            match region {
                Region::Data => {
                    let section = sections.next().expect("one section per data region");
                    if let Entry::Section(entry) = &mut self.entries[section.entry] {
                        entry.region = span;
                    }
                    let mut node = Node::map(section.items);
                    node.src = Src(section.entry as u32);
                    items.push(MapItem::Pair(Pair { key: Key::new(section.name), value: node }));
                }
                Region::Sops => {
                    sops_span = Some(span);
                    let pairs = sops_pairs.take().unwrap_or_default();
                    // Keys that do not unflatten still mark the file as
                    // encrypted; reading the metadata reports what is wrong.
                    let node = flat::unflatten(&pairs).unwrap_or_else(|_| Node::map(Vec::new()));
                    items.push(MapItem::Pair(Pair { key: Key::new("sops"), value: node }));
                }
            }
        }
        let crlf = self.text.find('\n').is_some_and(|n| n > 0 && self.text.as_bytes()[n - 1] == b'\r');
        let layout = Layout {
            text: crate::secret::SecretVec::new(input.to_vec()),
            entries: self.entries,
            sops: sops_span,
            crlf,
            overrides: Default::default(),
        };
        (Tree { documents: vec![Document { items }] }, layout)
    }
}

/// go-ini's `readKeyName`: the trimmed key and where the value starts. A key
/// may be quoted with `"`, `"""` or a backquote, and is then followed (after
/// anything) by the first `=` or `:`.
fn read_key_name(line: &str) -> std::result::Result<(&str, usize), &'static str> {
    let quote = match line.as_bytes()[0] {
        b'"' if line.len() > 6 && line.starts_with("\"\"\"") => "\"\"\"",
        b'"' => "\"",
        b'`' => "`",
        _ => "",
    };
    if quote.is_empty() {
        let end = line.find(['=', ':']).ok_or(DELIMITER_MISSING)?;
        return Ok((line[..end].trim(), end + 1));
    }
    let q = quote.len();
    let close = q + line[q..].find(quote).ok_or("a quoted key is not closed")?;
    let delimiter = line[close + q..].find(['=', ':']).ok_or(DELIMITER_MISSING)?;
    Ok((line[q..close].trim(), close + q + delimiter + 1))
}

const DELIMITER_MISSING: &str =
    "a line is neither a comment, a [section] header nor a key with '=' or ':' (go-ini reads no bare keys)";

/// go-ini's `hasSurroundedQuote`: the first and last bytes are `quote` and
/// it appears nowhere else.
fn has_surrounding_quote(value: &str, quote: u8) -> bool {
    let bytes = value.as_bytes();
    bytes.len() >= 2
        && bytes[0] == quote
        && bytes[bytes.len() - 1] == quote
        && bytes[1..].iter().position(|&b| b == quote) == Some(bytes.len() - 2)
}

/// sops's `stripCommentChar`: a comment starting with `;` loses its leading
/// run of `;` and spaces, one starting with `#` its run of `#` and spaces.
pub(super) fn strip_comment_marker(comment: &str) -> &str {
    if comment.starts_with(';') {
        comment.trim_start_matches([';', ' '])
    } else if comment.starts_with('#') {
        comment.trim_start_matches(['#', ' '])
    } else {
        comment
    }
}

/// Whether `token`, written as a value, reads back as exactly `expected`
/// with nothing else (no comment, no further key or section). Used to trust
/// a remembered token.
pub(super) fn token_reads_as(token: &str, expected: &[u8]) -> bool {
    let mut document = Zeroizing::new(String::with_capacity(token.len() + 6));
    document.push_str("k = ");
    document.push_str(token);
    document.push('\n');
    let Ok((tree, _)) = parse(document.as_bytes()) else { return false };
    let [MapItem::Pair(section)] = tree.documents[0].items.as_slice() else { return false };
    let crate::tree::Value::Map(items) = &section.value.value else { return false };
    match items.as_slice() {
        [MapItem::Pair(pair)] => {
            pair.key.name == "k"
                && matches!(&pair.value.value,
                    crate::tree::Value::Scalar(crate::tree::Scalar::Str(bytes)) if bytes.as_bytes() == expected)
        }
        _ => false,
    }
}

/// The comment go-ini reads from comment lines `block` (only comment lines
/// and blank lines, the last without its line break, which is
/// `line_break`) followed by the inline piece `inline` (spaces, then a
/// marker and the text; after a section header, anything but `]` before
/// the marker), as sops stores it; `None` if the pieces are not of that
/// shape.
pub(super) fn comment_text_of(
    block: &str,
    line_break: &str,
    inline: &str,
    header: bool,
) -> Option<Zeroizing<String>> {
    let mut buffer = Zeroizing::new(String::with_capacity(block.len() + inline.len() + 2));
    for line in block.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            continue;
        }
        if !trimmed.starts_with(['#', ';']) {
            return None;
        }
        buffer.push_str(trimmed);
    }
    if !block.is_empty() {
        buffer.push_str(line_break);
    }
    if !inline.is_empty() {
        let at = inline.find(['#', ';'])?;
        let before = &inline[..at];
        let fits = if header { !before.contains(']') } else { before.trim().is_empty() };
        if !fits || inline.contains('\n') {
            return None;
        }
        buffer.push_str(inline[at..].trim_end());
    }
    let text = buffer.trim();
    if text.is_empty() {
        return None;
    }
    Some(Zeroizing::new(strip_comment_marker(text).to_owned()))
}
