//! Spelling scalars and keys as TOML tokens.
//!
//! One rendering per type, chosen to be valid TOML 1.0 everywhere a value
//! may stand, so both writers can use it: strings are basic strings on one
//! line (escapes for line breaks and control characters), floats the
//! shortest text that reads back to the same number, times RFC 3339. The
//! fresh writer additionally writes strings that contain line breaks as
//! multi-line basic strings where a key/value line allows it.

use std::fmt::Write;

use crate::secret::SecretBytes;
use crate::timestamp::Timestamp;
use crate::tree::Scalar;

/// Why a value has no TOML spelling. The message names the problem, never
/// the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Unrenderable {
    Null,
    NotUtf8,
    TimeOutOfRange,
}

impl Unrenderable {
    pub(super) fn describe(self) -> &'static str {
        match self {
            Unrenderable::Null => "is null, and TOML has no null",
            Unrenderable::NotUtf8 => "is not valid UTF-8, and TOML strings must be text",
            Unrenderable::TimeOutOfRange => {
                "is a time TOML cannot write (a year outside 0000-9999 or an offset that is not whole minutes)"
            }
        }
    }
}

/// A scalar as a one-line TOML token.
pub(super) fn scalar_token(scalar: &Scalar) -> Result<String, Unrenderable> {
    let mut out = String::new();
    write_scalar(&mut out, scalar, false)?;
    Ok(out)
}

/// Write a scalar. With `multiline`, strings containing a line feed are
/// written as multi-line basic strings.
pub(super) fn write_scalar(out: &mut String, scalar: &Scalar, multiline: bool) -> Result<(), Unrenderable> {
    match scalar {
        Scalar::Null => return Err(Unrenderable::Null),
        Scalar::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Scalar::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Scalar::Float(f) => write_float(out, *f),
        // An integer too large for i64 is a float in the sops model; TOML
        // floats are doubles, so this is the nearest one it can read.
        Scalar::BigInt(digits) => {
            let text = digits.as_str().ok_or(Unrenderable::NotUtf8)?;
            out.push_str(text);
            out.push_str(".0");
        }
        Scalar::Str(bytes) => write_string(out, text_of(bytes)?, multiline),
        Scalar::Time(ts) => write_time(out, ts)?,
    }
    Ok(())
}

fn text_of(bytes: &SecretBytes) -> Result<&str, Unrenderable> {
    bytes.as_str().ok_or(Unrenderable::NotUtf8)
}

/// The shortest decimal that reads back to `f`, always with a `.` or an
/// exponent so TOML reads a float (`1.0`, `1e21`, `-0.0`), and TOML's
/// `inf`/`nan`.
fn write_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("nan");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "inf" } else { "-inf" });
    } else {
        // Rust's Debug form is the shortest round-trip text and always has a
        // `.` or an exponent; TOML requires digits on both sides of the `.`,
        // which it has.
        let _ = write!(out, "{f:?}");
    }
}

fn write_time(out: &mut String, ts: &Timestamp) -> Result<(), Unrenderable> {
    if !(0..=9999).contains(&ts.year) || ts.offset_seconds % 60 != 0 || ts.offset_seconds.abs() >= 24 * 3600 {
        return Err(Unrenderable::TimeOutOfRange);
    }
    out.push_str(&ts.to_rfc3339_nano());
    Ok(())
}

/// A basic string; multi-line (`"""` and a line break) when allowed and the
/// text has a line feed.
pub(super) fn write_string(out: &mut String, text: &str, multiline: bool) {
    let multiline = multiline && text.contains('\n');
    out.push_str(if multiline { "\"\"\"\n" } else { "\"" });
    let mut plain = 0;
    for (i, c) in text.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' if multiline => continue,
            '\n' => "\\n",
            '\t' => continue,
            '\r' => "\\r",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            c if c.is_control() => {
                out.push_str(&text[plain..i]);
                let _ = write!(out, "\\u{:04X}", c as u32);
                plain = i + c.len_utf8();
                continue;
            }
            _ => continue,
        };
        out.push_str(&text[plain..i]);
        out.push_str(escape);
        plain = i + c.len_utf8();
    }
    out.push_str(&text[plain..]);
    out.push_str(if multiline { "\"\"\"" } else { "\"" });
}

/// A key: bare when TOML allows (`A-Za-z0-9_-`), a basic string otherwise.
pub(super) fn write_key(out: &mut String, key: &str) {
    if !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        out.push_str(key);
    } else {
        write_string(out, key, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(scalar: Scalar) -> String {
        scalar_token(&scalar).unwrap()
    }

    #[test]
    fn floats_always_read_back_as_floats() {
        assert_eq!(token(Scalar::Float(1.0)), "1.0");
        assert_eq!(token(Scalar::Float(-0.0)), "-0.0");
        assert_eq!(token(Scalar::Float(1e21)), "1e21");
        assert_eq!(token(Scalar::Float(1e-7)), "1e-7");
        assert_eq!(token(Scalar::Float(f64::INFINITY)), "inf");
        assert_eq!(token(Scalar::Float(f64::NEG_INFINITY)), "-inf");
        assert_eq!(token(Scalar::Float(f64::NAN)), "nan");
    }

    #[test]
    fn strings_escape_what_toml_requires() {
        assert_eq!(token(Scalar::str("a\"b\\c")), r#""a\"b\\c""#);
        assert_eq!(token(Scalar::str("l1\nl2\r\t")), "\"l1\\nl2\\r\t\"");
        assert_eq!(token(Scalar::str("\u{1}\u{7f}é")), "\"\\u0001\\u007Fé\"");
        let mut out = String::new();
        write_string(&mut out, "l1\nl2\n", true);
        assert_eq!(out, "\"\"\"\nl1\nl2\n\"\"\"");
    }

    #[test]
    fn keys_are_bare_when_allowed() {
        let mut out = String::new();
        write_key(&mut out, "a-b_1");
        out.push(' ');
        write_key(&mut out, "a.b");
        out.push(' ');
        write_key(&mut out, "");
        assert_eq!(out, r#"a-b_1 "a.b" """#);
    }

    #[test]
    fn nothing_unrenderable_names_its_value() {
        assert_eq!(scalar_token(&Scalar::Null), Err(Unrenderable::Null));
        let bad = Scalar::Str(SecretBytes::new(vec![0xff]));
        assert_eq!(scalar_token(&bad), Err(Unrenderable::NotUtf8));
    }
}
