//! How go-ini writes keys, values and comments, and how sops turns a value
//! into text first. The fresh emitter and the splicer both write through
//! these functions, so a value spliced into a file reads back exactly as it
//! would from a file sops wrote.
//!
//! sops hands go-ini strings made by its `ValToString` (floats in Go's `G`
//! format with `.0` added, times in RFC 3339, null as `<nil>`), and go-ini
//! quotes a value only when it must: `"""..."""` around a newline or a
//! backquote, backquotes around `#` or `;`, double quotes around leading or
//! trailing spaces. Keys get backquotes around `"`, `=` or `:`, and
//! `"""` around a backquote. A comment is written line by line: a line
//! starting with `#` or `;` keeps that marker followed by one space and the
//! trimmed rest, any other line gets `; ` in front (trimmed for key
//! comments, as is for section comments). Those rules have gaps (a value
//! `"x"` comes back as `x`, one holding `"""` does not read back at all);
//! they are reproduced, not fixed, because sops decrypting our output must
//! print what it prints for its own. The one exception: a key starting with
//! `#`, `;` or `[`, which go-ini writes bare and then reads as something
//! else, is backquoted (found by fuzzing; go-ini reads it back either way).

use std::borrow::Cow;

use crate::gofmt;
use crate::secret::SecretBuf;
use crate::tree::Scalar;

/// sops's `ValToString`: the text go-ini is given for a value.
pub(super) fn value_text(scalar: &Scalar) -> Cow<'_, [u8]> {
    match scalar {
        Scalar::Str(bytes) | Scalar::BigInt(bytes) => Cow::Borrowed(bytes.as_bytes()),
        Scalar::Null => Cow::Borrowed(b"<nil>"),
        Scalar::Bool(true) => Cow::Borrowed(b"true"),
        Scalar::Bool(false) => Cow::Borrowed(b"false"),
        Scalar::Int(value) => Cow::Owned(value.to_string().into_bytes()),
        Scalar::Float(value) => Cow::Owned(gofmt::format_float_dotenv(*value).into_bytes()),
        Scalar::Time(time) => Cow::Owned(time.to_rfc3339().into_bytes()),
    }
}

/// A value as go-ini writes it after ` = `.
pub(super) fn value_token(scalar: &Scalar) -> crate::secret::SecretVec {
    let mut out = SecretBuf::with_capacity(16);
    write_value(&mut out, scalar);
    crate::secret::SecretVec::new(out.into_vec())
}

pub(super) fn write_value(out: &mut SecretBuf, scalar: &Scalar) {
    let text = value_text(scalar);
    write_value_text(out, &text);
    if let Cow::Owned(mut owned) = text {
        zeroize::Zeroize::zeroize(&mut owned);
    }
}

/// go-ini's value quoting.
pub(super) fn write_value_text(out: &mut SecretBuf, value: &[u8]) {
    let (open, close): (&[u8], &[u8]) = if value.iter().any(|&b| b == b'\n' || b == b'`') {
        (b"\"\"\"", b"\"\"\"")
    } else if value.iter().any(|&b| b == b'#' || b == b';') {
        (b"`", b"`")
    } else if has_surrounding_space(value) {
        (b"\"", b"\"")
    } else {
        (b"", b"")
    };
    out.extend(open);
    out.extend(value);
    out.extend(close);
}

/// Whether Go's `strings.TrimSpace` would change `bytes`.
fn has_surrounding_space(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim();
    trimmed.len() != text.len()
}

/// go-ini's key quoting.
pub(super) fn key_token(name: &str) -> Cow<'_, str> {
    if name.contains(['"', '=', ':']) {
        Cow::Owned(format!("`{name}`"))
    } else if name.contains('`') {
        Cow::Owned(format!("\"\"\"{name}\"\"\""))
    } else if name.starts_with(['#', ';', '[']) {
        // Stricter than go-ini, which writes such a key bare, so that the
        // line reads back as a comment or a broken section header and the
        // key is lost (a YAML key `#id` converted to INI, say). A quoted
        // key is read the same way by go-ini, so sops reads our file.
        Cow::Owned(format!("`{name}`"))
    } else {
        Cow::Borrowed(name)
    }
}

/// Go's `strings.TrimSpace` on bytes that are usually UTF-8.
pub(super) fn trim_space(bytes: &[u8]) -> &[u8] {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.trim().as_bytes(),
        Err(_) => bytes.trim_ascii(),
    }
}

/// Which of go-ini's two comment writers applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CommentStyle {
    /// A key's comment: lines without a marker are trimmed.
    Key,
    /// A section's comment: lines without a marker are written as they are.
    Section,
}

/// A comment as go-ini writes it: each line of `text` with its marker, the
/// lines joined by `newline`, each after `indent`, with no final line
/// break. With `crlf`, a `\r` ending a line of the text is part of its line
/// break and is left out. An empty line (which makes go-ini panic) is
/// written as a bare `;`.
pub(super) fn write_comment(
    out: &mut SecretBuf,
    text: &[u8],
    style: CommentStyle,
    indent: &[u8],
    newline: &[u8],
    crlf: bool,
) {
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        let line = if crlf { line.strip_suffix(b"\r").unwrap_or(line) } else { line };
        if i > 0 {
            out.extend(newline);
        }
        out.extend(indent);
        match line.first() {
            None => out.push(b';'),
            Some(&marker @ (b'#' | b';')) => {
                out.push(marker);
                out.push(b' ');
                out.extend(trim_space(&line[1..]));
            }
            Some(_) => {
                out.extend(b"; ");
                out.extend(if style == CommentStyle::Key { trim_space(line) } else { line });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::Timestamp;

    fn token(scalar: Scalar) -> String {
        String::from_utf8(value_token(&scalar).to_vec()).unwrap()
    }

    #[test]
    fn values_are_quoted_as_go_ini_quotes_them() {
        // Recorded from sops 3.11 converting JSON to INI.
        assert_eq!(token(Scalar::str("a\nb")), "\"\"\"a\nb\"\"\"");
        assert_eq!(token(Scalar::str("a`b")), "\"\"\"a`b\"\"\"");
        assert_eq!(token(Scalar::str("a#b")), "`a#b`");
        assert_eq!(token(Scalar::str("a;b")), "`a;b`");
        assert_eq!(token(Scalar::str(" lead")), "\" lead\"");
        assert_eq!(token(Scalar::str("\ttab")), "\"\ttab\"");
        assert_eq!(token(Scalar::str("\"q\"")), "\"q\"");
        assert_eq!(token(Scalar::str("x\\")), "x\\");
        assert_eq!(token(Scalar::str("")), "");
        let envelope = "ENC[AES256_GCM,data:Ym0=,iv:RERE+/==,tag:mp4=,type:str]";
        assert_eq!(token(Scalar::str(envelope)), envelope);
    }

    #[test]
    fn non_strings_are_written_as_sops_writes_them() {
        assert_eq!(token(Scalar::Float(5.0)), "5.0");
        assert_eq!(token(Scalar::Float(1e21)), "1E+21");
        assert_eq!(token(Scalar::Float(1e-7)), "1E-07");
        assert_eq!(token(Scalar::Float(f64::INFINITY)), "+Inf");
        assert_eq!(token(Scalar::Int(5)), "5");
        assert_eq!(token(Scalar::Bool(true)), "true");
        assert_eq!(token(Scalar::Null), "<nil>");
        let time = Timestamp::parse_rfc3339("2024-05-06T07:08:09.5+02:00").unwrap();
        assert_eq!(token(Scalar::Time(time)), "2024-05-06T07:08:09+02:00");
    }

    #[test]
    fn keys_are_quoted_as_go_ini_quotes_them() {
        assert_eq!(key_token("k=1"), "`k=1`");
        assert_eq!(key_token("k:2"), "`k:2`");
        assert_eq!(key_token("k\"3"), "`k\"3`");
        assert_eq!(key_token("k`4"), "\"\"\"k`4\"\"\"");
        // Where go-ini writes the key bare and loses it, we quote it.
        assert_eq!(key_token("#k5"), "`#k5`");
        assert_eq!(key_token(";k6"), "`;k6`");
        assert_eq!(key_token("[k7"), "`[k7`");
        assert_eq!(key_token("k#8"), "k#8");
    }

    #[test]
    fn comments_are_written_line_by_line() {
        let mut out = SecretBuf::with_capacity(0);
        let text = b"section comment\n#   spaced\n; not a comment?  ";
        write_comment(&mut out, text, CommentStyle::Key, b"", b"\n", false);
        assert_eq!(out.as_slice(), b"; section comment\n# spaced\n; not a comment?");
        let mut out = SecretBuf::with_capacity(0);
        write_comment(&mut out, b"c1\r\n; c2", CommentStyle::Section, b"", b"\n", false);
        assert_eq!(out.as_slice(), b"; c1\r\n; c2");
        let mut out = SecretBuf::with_capacity(0);
        write_comment(&mut out, b"c1\r\n; c2", CommentStyle::Section, b"  ", b"\r\n", true);
        assert_eq!(out.as_slice(), b"  ; c1\r\n  ; c2");
        let mut out = SecretBuf::with_capacity(0);
        write_comment(&mut out, b"\n; b", CommentStyle::Key, b"", b"\n", false);
        assert_eq!(out.as_slice(), b";\n; b");
    }
}
