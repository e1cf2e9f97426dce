//! Values that are written back as they were, found without the emitter.
//!
//! Most values of a secrets file are plain words and numbers whose text,
//! written by go-yaml, is exactly the token they were read from. Finding
//! that out by running the emitter (its analysis of every character, its
//! style choice) was a large share of both directions, so these tests
//! answer it from the text alone, each conservative: where one says yes,
//! the emitter agrees (property tests in `yaml::tests` hold them to it);
//! where it says no, the emitter decides.

use crate::tree::Scalar;

/// Whether a plain token would be written back exactly as it is, without
/// running the emitter: a string whose text is the token itself, made of
/// letters, digits, `_ . / -` and single spaces between words, starting with
/// a letter or digit, and not a YAML 1.1 boolean (`yes`, `Off`: read as
/// strings, quoted on output). go-yaml folds a plain scalar only at a space
/// past column 80, so a token with spaces must end before that (`column` is
/// where it starts). Our parser resolved the token to that string, and
/// otherwise the emitter quotes a string only when its plain form would
/// resolve to something else or holds syntax, so there is nothing to
/// remember. Most values of real files take this path, which saves the
/// emitter's analysis of every value when encrypting.
///
/// An integer or a boolean is as written when the token is the text the
/// emitter gives it (`42`, `-7`, `true`; not `007`, `+1`, `True`): half the
/// values of the benchmark's nested file, each of which went through the
/// emitter to find that out (a tenth of encrypting the file).
pub(super) fn is_plain_as_written(scalar: &Scalar, original: &str, column: usize) -> bool {
    let bytes = match scalar {
        Scalar::Str(bytes) => bytes,
        Scalar::Int(value) => return is_decimal_of(original.as_bytes(), *value),
        Scalar::Bool(value) => return original == if *value { "true" } else { "false" },
        _ => return false,
    };
    let text = bytes.as_bytes();
    let has_space = text.contains(&b' ');
    text == original.as_bytes()
        && (!has_space || column + text.len() <= 80)
        && has_simple_plain_shape(text)
        && !super::resolve::is_yaml11_bool(original)
}

/// Whether `text` is `value` in decimal as Go prints it: an optional minus,
/// no leading zero, digits only.
fn is_decimal_of(text: &[u8], value: i64) -> bool {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if negative != (value < 0) || digits.is_empty() || (digits.len() > 1 && digits[0] == b'0') {
        return false;
    }
    let mut rest = value.unsigned_abs();
    for &digit in digits.iter().rev() {
        if !digit.is_ascii_digit() || u64::from(digit - b'0') != rest % 10 {
            return false;
        }
        rest /= 10;
    }
    rest == 0
}

/// Letters, digits, `_ . / -` and single spaces between words, starting
/// with a letter or digit: nothing that is YAML syntax anywhere.
fn has_simple_plain_shape(text: &[u8]) -> bool {
    text.first().is_some_and(u8::is_ascii_alphanumeric)
        && text.last().is_some_and(|b| *b != b' ')
        && !text.windows(2).any(|w| w == b"  ")
        && text.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-' | b' '))
}

/// Whether a decrypted string is written plain as it is, without running
/// the emitter: a simple shape without spaces (so go-yaml never folds it,
/// whatever the column) whose plain form reads back as this string (not
/// `123`, `true`, `2001-12-14`, `yes`). Most values of real files take this
/// path, which saves the emitter's analysis of every value when decrypting.
pub(super) fn is_plain_without_analysis(text: &str) -> bool {
    !text.contains(' ')
        && has_simple_plain_shape(text.as_bytes())
        && super::resolve::writes_as_plain_string(text)
}
