//! Writing one YAML scalar the way sops 3.11's go-yaml v3 does.
//!
//! sops does not hand go-yaml a string to print: it first turns every value
//! into a `yaml.Node` with `Node.Encode`, which prints the value as a
//! document of its own and parses that text back. The style of that first
//! printing (plain, quoted, literal) is kept on the node, and the final
//! printing starts from it. So a scalar's text is decided in two passes:
//!
//! 1. [`first_pass`]: what the encoder asks for (plain if the text would read
//!    back as a string and is not a YAML 1.1 boolean or base-60 number,
//!    literal if it has a newline, double-quoted otherwise), narrowed by what
//!    the text allows (a leading space forbids plain, a trailing space on a
//!    line forbids a block, control characters force double quotes). One
//!    quirk survives the round trip: a multi-line text whose first character
//!    is a tab prints as a literal block go-yaml cannot parse back, the node
//!    stays empty, and sops prints `null`.
//! 2. [`final_style`]: the same narrowing again where the scalar finally
//!    lands (a mapping key cannot be a block, an empty key is quoted).
//!
//! The writers then lay the text out with the column bookkeeping of
//! go-yaml's emitter ([`Writer`]), because quoted scalars that contain the
//! Unicode line separators continue on an indented line, and block scalars
//! take their indentation from where they are written. Lines are never
//! folded: sops's encoder has no width limit.

use std::fmt::Write as _;

use base64::Engine;

use super::emit::ScalarContext;
use super::resolve::writes_as_plain_string;
use crate::gofmt;
use crate::secret::SecretBuf;
use crate::tree::Scalar;

/// The text of one scalar exactly as go-yaml v3 would write it in that
/// context, without the separating space before it. A block scalar's text
/// starts with its `|` indicator line and ends with a newline after its last
/// content line; every other text has no newline. Keys are rendered as
/// simple keys (see [`render_key`] for the explicit `? ` form).
pub fn render_scalar(scalar: &Scalar, ctx: &ScalarContext) -> String {
    // Room for the value, a block's indentation and the newline below, so
    // the writer seldom grows (a literal block grew it two or three times).
    let capacity = match scalar {
        Scalar::Str(bytes) => bytes.len() + bytes.len() / 2 + ctx.block_indent + 16,
        _ => 32,
    };
    let mut w = Writer::with_capacity(capacity);
    w.line_start = false;
    let place = Placement { flow: ctx.flow, simple_key: ctx.is_key };
    let indicator = ctx.block_indent.saturating_sub(ctx.parent_column).max(1);
    super::emit::write_any_scalar(&mut w, scalar, place, ctx.block_indent, indicator);
    // Only block scalars hold a raw newline; they end with one.
    let written = w.out.as_slice();
    if written.last() != Some(&b'\n') && memchr::memchr(b'\n', written).is_some() {
        w.out.push(b'\n');
    }
    // The writer's bytes are handed over, not copied: it writes only whole
    // characters, so they are UTF-8.
    match String::from_utf8(w.out.into_vec()) {
        Ok(text) => text,
        Err(error) => {
            let mut bytes = error.into_bytes();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            crate::secret::wipe_bytes(&mut bytes);
            text
        }
    }
}

/// A string written in the given quoting style (`'` or `"`), when that
/// style can hold it; for keeping a user's choice of quotes.
pub fn render_quoted(text: &str, quote: char, ctx: &ScalarContext) -> Option<String> {
    let style = match quote {
        '\'' => Style::Single,
        '"' => Style::Double,
        _ => return None,
    };
    let analysis = Analysis::of(text);
    let place = Placement { flow: ctx.flow, simple_key: ctx.is_key };
    // Single quotes cannot hold what go-yaml would escape.
    if style == Style::Single && narrow(Style::Single, &analysis, text, place) != Style::Single {
        return None;
    }
    let mut w = Writer::new();
    w.line_start = false;
    write_scalar(&mut w, text, None, style, ctx.block_indent, 2);
    std::str::from_utf8(w.out.as_slice()).ok().map(|t| t.trim_start().to_owned())
}

/// Output with the position facts go-yaml's layout decisions depend on.
pub(crate) struct Writer {
    /// Everything written may be plaintext: a buffer that wipes what it
    /// held, also when it grows.
    pub out: SecretBuf,
    /// Characters since the start of the line.
    pub column: usize,
    /// Nothing but indentation on this line yet (indicators such as `- `
    /// and an explicit key's `? ` keep this true, so a nested node can start
    /// on the same line).
    pub line_start: bool,
    /// The last thing written separates tokens, so no space is needed.
    pub whitespace: bool,
    /// A foot comment was just written at this indent: the next line at the
    /// same indent gets a blank line before it.
    pub foot_gap: Option<usize>,
}

impl Writer {
    pub fn new() -> Writer {
        Writer::with_capacity(64)
    }

    pub fn with_capacity(capacity: usize) -> Writer {
        Writer {
            out: SecretBuf::with_capacity(capacity),
            column: 0,
            line_start: true,
            whitespace: true,
            foot_gap: None,
        }
    }

    pub fn newline(&mut self) {
        self.out.push(b'\n');
        self.column = 0;
        self.line_start = true;
    }

    /// Move to `indent` on a fresh line unless the line holds only
    /// indentation short of it.
    pub fn indent_to(&mut self, indent: usize) {
        if !self.line_start || self.column > indent || (self.column == indent && !self.whitespace) {
            self.newline();
        }
        if self.foot_gap == Some(indent) {
            self.newline();
        }
        // A run of spaces at a time, not a push (and a capacity check) each.
        const SPACES: &[u8; 32] = b"                                ";
        while self.column < indent {
            let run = (indent - self.column).min(SPACES.len());
            self.out.extend(&SPACES[..run]);
            self.column += run;
        }
        self.whitespace = true;
        self.foot_gap = None;
    }

    /// An indicator or tag: `need_space` asks for a separating space,
    /// `is_space` says the indicator itself separates (`{`), and
    /// `keeps_line_start` says the line still counts as indentation (`-`).
    pub fn indicator(&mut self, text: &str, need_space: bool, is_space: bool, keeps_line_start: bool) {
        if need_space && !self.whitespace {
            self.push_char(' ');
        }
        self.push_str(text);
        self.whitespace = is_space;
        self.line_start = self.line_start && keeps_line_start;
    }

    pub fn push_char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.out.extend(c.encode_utf8(&mut buf).as_bytes());
        self.column += 1;
    }

    pub fn push_str(&mut self, text: &str) {
        self.out.extend(text.as_bytes());
        self.column += text.chars().count();
    }

    /// A line break from scalar or comment text: `\n` is a newline; the
    /// other YAML breaks are copied as they are but still end the line.
    fn text_break(&mut self, c: char) {
        if c == '\n' {
            self.newline();
        } else {
            self.push_char(c);
            self.column = 0;
            self.line_start = true;
        }
    }

    /// A comment block: `text` holds lines each starting with `#`
    /// (go-yaml adds `# ` to a line that does not), written at `indent`.
    pub fn comment(&mut self, text: &[u8], indent: usize) {
        self.indent_to(indent);
        let text = String::from_utf8_lossy(text);
        let mut after_break = false;
        let mut line_open = false;
        for c in text.chars() {
            if is_break(c) {
                self.text_break(c);
                after_break = true;
                line_open = false;
            } else {
                if after_break {
                    self.indent_to(indent);
                }
                if !line_open {
                    if c != '#' {
                        self.push_str("# ");
                    }
                    line_open = true;
                }
                self.push_char(c);
                self.line_start = false;
                after_break = false;
            }
        }
        if !after_break {
            self.newline();
        }
        self.whitespace = true;
    }
}

/// Scalar presentation styles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// What a text allows, from go-yaml's scan of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Analysis {
    pub multiline: bool,
    pub flow_plain_allowed: bool,
    pub block_plain_allowed: bool,
    pub single_allowed: bool,
    pub block_allowed: bool,
}

pub(crate) fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// The characters go-yaml writes as they are in quoted scalars: note that
/// everything outside the Basic Multilingual Plane is escaped (`\U0001F680`).
fn is_printable(c: char) -> bool {
    matches!(c as u32, 0x0A | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD) && c != '\u{FEFF}'
}

impl Analysis {
    pub fn of(text: &str) -> Analysis {
        Analysis::of_quiet_ascii(text.as_bytes()).unwrap_or_else(|| Analysis::scan(text, true))
    }

    /// The scan's answer for text made only of ASCII letters, digits,
    /// spaces and line feeds (a block string of words, most of what files
    /// hold), from a few passes over bytes: none of these is an indicator,
    /// a tab or unprintable, so only where the spaces and breaks are
    /// matters. `None` for any other text. The character-by-character scan
    /// was 2% of decrypting the benchmark's nested file; a property test
    /// holds the two equal.
    fn of_quiet_ascii(bytes: &[u8]) -> Option<Analysis> {
        let (&first, &last) = (bytes.first()?, bytes.last()?);
        // Without an early exit, so the compiler checks many bytes at once.
        let quiet = bytes
            .iter()
            .fold(true, |quiet, &b| quiet & (b.is_ascii_alphanumeric() | (b == b' ') | (b == b'\n')));
        if !quiet {
            return None;
        }
        // Each line feed and its neighbours: a block string has a few.
        let (mut line_breaks, mut break_space, mut space_break) = (false, false, false);
        for at in memchr::memchr_iter(b'\n', bytes) {
            line_breaks = true;
            break_space |= bytes.get(at + 1) == Some(&b' ');
            space_break |= at > 0 && bytes[at - 1] == b' ';
        }
        let (leading_space, leading_break) = (first == b' ', first == b'\n');
        let (trailing_space, trailing_break) = (last == b' ', last == b'\n');
        let edges = leading_space || leading_break || trailing_space || trailing_break;
        let plain = !(edges || break_space || space_break || line_breaks);
        Some(Analysis {
            multiline: line_breaks,
            flow_plain_allowed: plain,
            block_plain_allowed: plain,
            single_allowed: !(break_space || space_break),
            block_allowed: !(trailing_space || space_break),
        })
    }

    /// `skip_alphanumeric` takes the shortcut for letters and digits; a
    /// property test holds it to the full scan.
    fn scan(text: &str, skip_alphanumeric: bool) -> Analysis {
        if text.is_empty() {
            return Analysis {
                multiline: false,
                flow_plain_allowed: false,
                block_plain_allowed: true,
                single_allowed: true,
                block_allowed: false,
            };
        }
        let mut block_indicators = text.starts_with("---") || text.starts_with("...");
        let mut flow_indicators = block_indicators;
        let (mut line_breaks, mut special, mut tabs) = (false, false, false);
        let (mut leading_space, mut leading_break) = (false, false);
        let (mut trailing_space, mut trailing_break) = (false, false);
        let (mut break_space, mut space_break) = (false, false);
        let (mut previous_space, mut previous_break) = (false, false);
        let mut preceded_by_whitespace = true;
        let mut chars = text.chars().peekable();
        let mut first = true;
        while let Some(c) = chars.next() {
            // Letters and digits, most of any value, are no indicator, not
            // blank, not a break and printable: only the running state
            // changes, and nothing about the next character matters.
            if skip_alphanumeric && c.is_ascii_alphanumeric() {
                (previous_space, previous_break, preceded_by_whitespace, first) =
                    (false, false, false, false);
                continue;
            }
            let next = chars.peek().copied();
            let followed_by_whitespace = next.is_none_or(is_blank);
            let last = next.is_none();
            if first {
                match c {
                    '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%'
                    | '@' | '`' => {
                        flow_indicators = true;
                        block_indicators = true;
                    }
                    '?' | ':' => {
                        flow_indicators = true;
                        block_indicators |= followed_by_whitespace;
                    }
                    '-' if followed_by_whitespace => {
                        flow_indicators = true;
                        block_indicators = true;
                    }
                    _ => {}
                }
            } else {
                match c {
                    ',' | '?' | '[' | ']' | '{' | '}' => flow_indicators = true,
                    ':' => {
                        flow_indicators = true;
                        block_indicators |= followed_by_whitespace;
                    }
                    '#' if preceded_by_whitespace => {
                        flow_indicators = true;
                        block_indicators = true;
                    }
                    _ => {}
                }
            }
            if c == '\t' {
                tabs = true;
            } else if !is_printable(c) {
                special = true;
            }
            if c == ' ' {
                leading_space |= first;
                trailing_space |= last;
                break_space |= previous_break;
                previous_space = true;
                previous_break = false;
            } else if is_break(c) {
                line_breaks = true;
                leading_break |= first;
                trailing_break |= last;
                space_break |= previous_space;
                previous_space = false;
                previous_break = true;
            } else {
                previous_space = false;
                previous_break = false;
            }
            preceded_by_whitespace = is_blank(c) || is_break(c) || c == '\0';
            first = false;
        }
        let mut a = Analysis {
            multiline: line_breaks,
            flow_plain_allowed: true,
            block_plain_allowed: true,
            single_allowed: true,
            block_allowed: true,
        };
        if leading_space || leading_break || trailing_space || trailing_break {
            a.flow_plain_allowed = false;
            a.block_plain_allowed = false;
        }
        if trailing_space {
            a.block_allowed = false;
        }
        if break_space {
            a.flow_plain_allowed = false;
            a.block_plain_allowed = false;
            a.single_allowed = false;
        }
        if space_break || tabs || special {
            a.flow_plain_allowed = false;
            a.block_plain_allowed = false;
            a.single_allowed = false;
        }
        if space_break || special {
            a.block_allowed = false;
        }
        if line_breaks {
            a.flow_plain_allowed = false;
            a.block_plain_allowed = false;
        }
        if flow_indicators {
            a.flow_plain_allowed = false;
        }
        if block_indicators {
            a.block_plain_allowed = false;
        }
        a
    }
}

/// Where a scalar is written, as go-yaml's style choice sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Placement {
    pub flow: bool,
    pub simple_key: bool,
}

/// Narrow a requested style to one the text allows in `place`.
pub(crate) fn narrow(mut style: Style, a: &Analysis, text: &str, place: Placement) -> Style {
    if place.simple_key && a.multiline {
        style = Style::Double;
    }
    if style == Style::Plain {
        let allowed = if place.flow { a.flow_plain_allowed } else { a.block_plain_allowed };
        if !allowed || (text.is_empty() && (place.flow || place.simple_key)) {
            style = Style::Single;
        }
    }
    if style == Style::Single && !a.single_allowed {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block_allowed || place.flow || place.simple_key) {
        style = Style::Double;
    }
    style
}

/// A scalar ready to be written: its text, an optional tag written before
/// it (`!!binary`, `!!merge`), and the style `Node.Encode` gave it.
pub(crate) struct Prepared<'a> {
    pub text: std::borrow::Cow<'a, str>,
    pub tag: Option<&'static str>,
    pub style: Style,
    /// `Analysis::of(text)`, which the second printing needs too: it was
    /// computed twice for every string written.
    pub analysis: Analysis,
}

/// The first printing, by `Node.Encode`, of a string's bytes.
pub(crate) fn first_pass(bytes: &[u8]) -> Prepared<'_> {
    let root = Placement { flow: false, simple_key: false };
    let Ok(text) = std::str::from_utf8(bytes) else {
        // go-yaml cannot print invalid UTF-8: it writes `!!binary` base64
        // in lines of 70 characters, each ending with a newline once there
        // is more than one line.
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        let text = if encoded.len() >= 70 {
            let mut lines = String::with_capacity(encoded.len() + encoded.len() / 70 + 1);
            for chunk in encoded.as_bytes().chunks(70) {
                lines.push_str(std::str::from_utf8(chunk).unwrap_or_default());
                lines.push('\n');
            }
            lines
        } else {
            encoded
        };
        let requested = if text.contains('\n') { Style::Literal } else { Style::Plain };
        let analysis = Analysis::of(&text);
        let style = narrow(requested, &analysis, &text, root);
        return Prepared { text: text.into(), tag: Some("!!binary"), style, analysis };
    };
    if text == "<<" {
        // Printed plain, then read back as the merge key, which keeps its
        // tag: sops writes `!!merge <<`.
        return Prepared {
            text: text.into(),
            tag: Some("!!merge"),
            style: Style::Plain,
            analysis: Analysis::of(text),
        };
    }
    let requested = if text.contains('\n') {
        Style::Literal
    } else if writes_as_plain_string(text) {
        Style::Plain
    } else {
        Style::Double
    };
    let analysis = Analysis::of(text);
    let mut style = narrow(requested, &analysis, text, root);
    if style == Style::Literal && text.starts_with('\t') {
        // go-yaml writes such a string as a literal block it cannot read
        // back, and sops then prints `null`, losing the value. We keep the
        // value: double quotes hold any string.
        style = Style::Double;
    }
    Prepared { text: text.into(), tag: None, style, analysis }
}

/// The text of a non-string scalar; these are always plain.
pub(crate) fn plain_text(scalar: &Scalar) -> Option<String> {
    Some(match scalar {
        Scalar::Null => "null".to_owned(),
        Scalar::Bool(true) => "true".to_owned(),
        Scalar::Bool(false) => "false".to_owned(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => gofmt::format_float_yaml(*f),
        // Exact digits: a plain integer reads back as the same number (sops
        // itself would print the nearest float).
        Scalar::BigInt(digits) => String::from_utf8_lossy(digits.as_bytes()).into_owned(),
        Scalar::Time(ts) => ts.to_rfc3339_nano(),
        Scalar::Str(_) => return None,
    })
}

/// Write a prepared scalar at the writer's position. `indent` is where a
/// block scalar's lines (and a quoted scalar's continuation lines) start;
/// `best_indent` is the emitter's indent width, used for the indentation
/// indicator of a block whose first line starts with a space.
pub(crate) fn write_scalar(
    w: &mut Writer,
    text: &str,
    tag: Option<&str>,
    style: Style,
    indent: usize,
    best_indent: usize,
) {
    if let Some(tag) = tag {
        if !w.whitespace {
            w.push_char(' ');
        }
        w.push_str(tag);
        w.whitespace = false;
        w.line_start = false;
    }
    match style {
        Style::Plain => {
            if !text.is_empty() && !w.whitespace {
                w.push_char(' ');
            }
            w.push_str(text);
            if !text.is_empty() {
                w.whitespace = false;
            }
            w.line_start = false;
        }
        Style::Single => write_single(w, text, indent),
        Style::Double => write_double(w, text),
        Style::Literal => write_literal(w, text, indent, best_indent),
    }
}

fn write_single(w: &mut Writer, text: &str, indent: usize) {
    w.indicator("'", true, false, false);
    let mut after_break = false;
    for c in text.chars() {
        if c == ' ' {
            w.push_char(c);
        } else if is_break(c) {
            if !after_break && c == '\n' {
                w.newline();
            }
            w.text_break(c);
            after_break = true;
        } else {
            if after_break {
                w.indent_to(indent);
            }
            if c == '\'' {
                w.push_char('\'');
            }
            w.push_char(c);
            w.line_start = false;
            after_break = false;
        }
    }
    w.indicator("'", false, false, false);
    w.whitespace = false;
    w.line_start = false;
}

fn write_double(w: &mut Writer, text: &str) {
    w.indicator("\"", true, false, false);
    // go-yaml's byte-order-mark test looks at the start of the text, not at
    // the current character: after a leading BOM every character is escaped
    // (recorded: "\ufeffbom" prints as "\uFEFF\x62\x6F\x6D").
    let escape_all = text.starts_with('\u{FEFF}');
    let mut buf = String::new();
    for c in text.chars() {
        if escape_all || !is_printable(c) || is_break(c) || c == '"' || c == '\\' {
            buf.clear();
            buf.push('\\');
            match c {
                '\0' => buf.push('0'),
                '\u{7}' => buf.push('a'),
                '\u{8}' => buf.push('b'),
                '\t' => buf.push('t'),
                '\n' => buf.push('n'),
                '\u{b}' => buf.push('v'),
                '\u{c}' => buf.push('f'),
                '\r' => buf.push('r'),
                '\u{1b}' => buf.push('e'),
                '"' => buf.push('"'),
                '\\' => buf.push('\\'),
                '\u{85}' => buf.push('N'),
                '\u{a0}' => buf.push('_'),
                '\u{2028}' => buf.push('L'),
                '\u{2029}' => buf.push('P'),
                _ => {
                    let v = c as u32;
                    let _ = if v <= 0xFF {
                        write!(buf, "x{v:02X}")
                    } else if v <= 0xFFFF {
                        write!(buf, "u{v:04X}")
                    } else {
                        write!(buf, "U{v:08X}")
                    };
                }
            }
            w.push_str(&buf);
        } else {
            w.push_char(c);
        }
    }
    w.indicator("\"", false, false, false);
    w.whitespace = false;
    w.line_start = false;
}

fn write_literal(w: &mut Writer, text: &str, indent: usize, best_indent: usize) {
    w.indicator("|", true, false, false);
    let first = text.chars().next();
    if first.is_some_and(|c| c == ' ' || is_break(c)) {
        let digit = char::from_digit(best_indent as u32, 10).unwrap_or('2');
        w.indicator(digit.encode_utf8(&mut [0u8; 4]), false, false, false);
    }
    let mut rev = text.chars().rev();
    let chomp = match (rev.next(), rev.next()) {
        (None, _) => Some("-"),
        (Some(last), _) if !is_break(last) => Some("-"),
        (Some(_), None) => Some("+"),
        (Some(_), Some(before)) if is_break(before) => Some("+"),
        _ => None,
    };
    if let Some(chomp) = chomp {
        w.indicator(chomp, false, false, false);
    }
    w.newline();
    w.whitespace = true;
    write_literal_lines(w, text, indent);
}

/// A literal block's text, each line indented. Line by line rather than
/// character by character: each line's text is copied whole. Block strings
/// are most of the bytes of many files, and a call per character was a
/// tenth of writing one.
fn write_literal_lines(w: &mut Writer, text: &str, indent: usize) {
    let ascii = text.is_ascii();
    let mut rest = text;
    while !rest.is_empty() {
        let line_end = next_break(rest, ascii);
        if line_end > 0 {
            w.indent_to(indent);
            w.push_str(&rest[..line_end]);
            w.line_start = false;
        }
        let Some(c) = rest[line_end..].chars().next() else { break };
        w.text_break(c);
        rest = &rest[line_end + c.len_utf8()..];
    }
}

/// Where the first line break of `text` is (`text.len()` when none): the
/// ASCII breaks by byte, the others (U+0085, U+2028, U+2029) by their lead
/// bytes, confirmed as characters. `ascii`: the text is known to be ASCII.
fn next_break(text: &str, ascii: bool) -> usize {
    let bytes = text.as_bytes();
    // ASCII text breaks only at `\n` and `\r`: one vectorised search.
    if ascii {
        return memchr::memchr2(b'\n', b'\r', bytes).unwrap_or(bytes.len());
    }
    let mut from = 0;
    while let Some(offset) = bytes[from..].iter().position(|&b| matches!(b, b'\n' | b'\r' | 0xc2 | 0xe2)) {
        let at = from + offset;
        if text[at..].chars().next().is_some_and(is_break) {
            return at;
        }
        from = at + 1;
    }
    text.len()
}

#[cfg(test)]
#[path = "emit_scalar_tests.rs"]
mod tests;
