//! The type go-yaml v3 gives a YAML scalar, and whether a string can be
//! written back without quotes.
//!
//! sops decides a value's envelope `type:` from the Go value go-yaml decodes,
//! so typing must follow go-yaml v3 exactly, including its YAML 1.1 leftovers
//! (`0777` is octal, `1_000` is a thousand) and its gaps (`yes` is a string,
//! `1e400` is a string because Go's float parser reports overflow). Those
//! rules are recorded in spec 8.1.2; every edge case below was checked
//! against sops 3.11 (`sops encrypt` of a YAML file, then reading the
//! `type:` of each envelope and the decrypted output).
//!
//! The same rules decide quoting on the way out: go-yaml quotes a string
//! whose plain form would read back as something else, and also the YAML 1.1
//! booleans and base-60 numbers it no longer resolves itself. Keeping both
//! directions in one module means the emitter can never quote by a rule the
//! parser does not share.
//!
//! Nothing here ever puts a scalar's text into an error message.

use base64::Engine;

use crate::secret::SecretBytes;
use crate::timestamp::Timestamp;
use crate::tree::Scalar;

/// What a scalar decodes to.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    Scalar(Scalar),
    /// 2^63..2^64-1: go-yaml gives uint64, which sops cannot encrypt (exit 23)
    Uint64,
}

/// A plain (unquoted, untagged) scalar.
pub fn resolve_plain(text: &str) -> Resolved {
    resolve_untagged(text, true)
}

/// A scalar with an explicit tag. `tag_suffix` is the part after `!!` (or
/// after `tag:yaml.org,2002:`); anything else is a custom tag. `text` is the
/// scalar after YAML unescaping and `plain` says whether it was unquoted.
///
/// go-yaml ignores quoting once a tag is given (`!!int "12"` is 12), and
/// returns the text unchanged for tags it does not resolve (`!foo 12`,
/// `!!merge x`, `!!map x` are all strings). Errors name the tag only.
pub fn resolve_tagged(tag_suffix: &str, text: &str, plain: bool) -> Result<Resolved, String> {
    // Quoting does not matter once a tag is explicit (checked: `!foo "12"`
    // and `!foo 12` both decode to the string "12").
    let _ = plain;
    let mismatch = || format!("cannot decode the value as a !!{tag_suffix}");
    match tag_suffix {
        "str" => Ok(string(text)),
        "binary" => {
            // Go's base64 decoder skips line breaks, so folded blocks work.
            let compact: Vec<u8> = text.bytes().filter(|b| *b != b'\n' && *b != b'\r').collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map(|bytes| Resolved::Scalar(Scalar::Str(SecretBytes::new(bytes))))
                .map_err(|_| "!!binary value contains invalid base64 data".to_owned())
        }
        "null" => match lookup_map(text) {
            Some(Scalar::Null) => Ok(Resolved::Scalar(Scalar::Null)),
            _ => Err(mismatch()),
        },
        "bool" => match lookup_map(text) {
            Some(b @ Scalar::Bool(_)) => Ok(Resolved::Scalar(b)),
            _ => Err(mismatch()),
        },
        "int" => match resolve_untagged(text, false) {
            r @ (Resolved::Scalar(Scalar::Int(_)) | Resolved::Uint64) => Ok(r),
            _ => Err(mismatch()),
        },
        "float" => match resolve_untagged(text, false) {
            r @ Resolved::Scalar(Scalar::Float(_)) => Ok(r),
            // go-yaml turns an integer under !!float into a float.
            Resolved::Scalar(Scalar::Int(i)) => Ok(Resolved::Scalar(Scalar::Float(i as f64))),
            _ => Err(mismatch()),
        },
        "timestamp" => match resolve_untagged(text, true) {
            r @ Resolved::Scalar(Scalar::Time(_)) => Ok(r),
            _ => Err(mismatch()),
        },
        // Tags go-yaml does not resolve keep the text as a string.
        _ => Ok(string(text)),
    }
}

/// True when `text`, written as a plain scalar, would read back as the same
/// string in go-yaml v3 and go-yaml's encoder would write it plain (in block
/// context, as a mapping value). False for the YAML 1.1 booleans
/// (`yes`, `Off`, ...), base-60 numbers (`1:20`), `<<` (written `!!merge <<`),
/// and anything needing quotes for syntax (`a: b`, ` x`, `#x`, tabs, ...).
pub fn plain_is_string(text: &str) -> bool {
    writes_as_plain_string(text) && {
        let analysis = super::emit_scalar::Analysis::of(text);
        analysis.block_plain_allowed
    }
}

/// go-yaml's encoder test before layout rules: the text resolves to a string
/// and is not one of the forms it quotes for YAML 1.1 readers.
pub(crate) fn writes_as_plain_string(text: &str) -> bool {
    // Most texts cannot start a non-string: no resolution (which builds
    // the string it finds, a copy of the text, only to drop it).
    resolves_to_string(text) && !is_yaml11_bool(text) && !is_base60_float(text) && text != "<<"
}

fn string(text: &str) -> Resolved {
    Resolved::Scalar(Scalar::Str(SecretBytes::from_text(text)))
}

/// The fixed spellings go-yaml looks up before trying numbers.
fn lookup_map(text: &str) -> Option<Scalar> {
    Some(match text {
        "" | "~" | "null" | "Null" | "NULL" => Scalar::Null,
        "true" | "True" | "TRUE" => Scalar::Bool(true),
        "false" | "False" | "FALSE" => Scalar::Bool(false),
        ".nan" | ".NaN" | ".NAN" => Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Scalar::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Scalar::Float(f64::NEG_INFINITY),
        _ => return None,
    })
}

/// Whether a plain `text` resolves to a string (go-yaml v3).
pub(crate) fn resolves_to_string(text: &str) -> bool {
    !may_not_be_string(text) || matches!(resolve_plain(text), Resolved::Scalar(Scalar::Str(_)))
}

/// Whether a plain `text` could resolve to something other than a string:
/// only these first characters can start one.
fn may_not_be_string(text: &str) -> bool {
    match text.bytes().next() {
        None => true,
        // A `match`, not a search of a byte list: that compiled to a
        // `memchr` call per value.
        Some(c) => matches!(
            c,
            b'0'..=b'9'
                | b'+'
                | b'-'
                | b'.'
                | b'y'
                | b'Y'
                | b'n'
                | b'N'
                | b't'
                | b'T'
                | b'f'
                | b'F'
                | b'o'
                | b'O'
                | b'~'
        ),
    }
}

/// go-yaml's resolution of an untagged (or int/float-tagged) scalar.
/// `try_time` is false under `!!int`/`!!float`, where go-yaml skips the
/// timestamp attempt.
fn resolve_untagged(text: &str, try_time: bool) -> Resolved {
    if !may_not_be_string(text) {
        return string(text);
    }
    let first = text.bytes().next();
    if let Some(scalar) = lookup_map(text) {
        return Resolved::Scalar(scalar);
    }
    match first {
        Some(b'.') => {
            if let Some(value) = is_dot_float(text).then(|| finite_float(text)).flatten() {
                return Resolved::Scalar(Scalar::Float(value));
            }
            string(text)
        }
        Some(c) if c.is_ascii_digit() || c == b'+' || c == b'-' => resolve_number(text, try_time),
        _ => string(text),
    }
}

/// Digits or a sign: timestamp, then integer, then float, then the odd
/// `0b`/`0o` forms with a sign after the prefix (`0b-101` is -5).
fn resolve_number(text: &str, try_time: bool) -> Resolved {
    if let Some(ts) = (try_time && starts_like_date(text)).then(|| Timestamp::parse_yaml(text)).flatten() {
        return Resolved::Scalar(Scalar::Time(ts));
    }
    let plain: String = text.chars().filter(|c| *c != '_').collect();
    if let Some(value) = go_parse_int(&plain) {
        return Resolved::Scalar(Scalar::Int(value));
    }
    if go_parse_uint(&plain).is_some() {
        return Resolved::Uint64;
    }
    if let Some(value) = is_yaml_float(&plain).then(|| finite_float(&plain)).flatten() {
        return Resolved::Scalar(Scalar::Float(value));
    }
    for (prefix, radix) in [("0b", 2), ("0o", 8)] {
        if let Some(rest) = plain.strip_prefix(prefix) {
            if let Some(value) = signed_radix(rest, radix) {
                return Resolved::Scalar(Scalar::Int(value));
            }
            if unsigned_radix(rest, radix).is_some() {
                return Resolved::Uint64;
            }
        } else if let Some(value) = plain
            .strip_prefix('-')
            .and_then(|r| r.strip_prefix(prefix))
            .and_then(|rest| signed_radix(&format!("-{rest}"), radix))
        {
            return Resolved::Scalar(Scalar::Int(value));
        }
    }
    string(text)
}

/// go-yaml only tries a timestamp when exactly four digits and a `-` lead.
fn starts_like_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() > 4 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-'
}

/// Go's `ParseFloat` reports overflow as an error, which go-yaml treats as
/// "not a float"; underflow quietly gives zero.
fn finite_float(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// `^\.[0-9]+([eE][-+]?[0-9]+)?$`: what Go's `ParseFloat` accepts from a
/// scalar that starts with a dot.
fn is_dot_float(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('.') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && is_exponent_or_empty(&rest[digits..])
}

/// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(text: &str) -> bool {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let rest = if let Some(frac) = body.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        &frac[digits..]
    } else {
        let digits = body.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        let after = &body[digits..];
        match after.strip_prefix('.') {
            Some(frac) => &frac[frac.bytes().take_while(u8::is_ascii_digit).count()..],
            None => after,
        }
    };
    is_exponent_or_empty(rest)
}

fn is_exponent_or_empty(text: &str) -> bool {
    if text.is_empty() {
        return true;
    }
    let Some(exp) = text.strip_prefix(['e', 'E']) else {
        return false;
    };
    let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
    !exp.is_empty() && exp.bytes().all(|b| b.is_ascii_digit())
}

/// Go's `strconv.ParseInt(s, 0, 64)` (underscores already removed).
fn go_parse_int(text: &str) -> Option<i64> {
    let (negative, body) = match text.as_bytes().first()? {
        b'+' => (false, &text[1..]),
        b'-' => (true, &text[1..]),
        _ => (false, text),
    };
    let magnitude = go_parse_uint(body)?;
    if negative {
        if magnitude <= i64::MAX as u64 + 1 { Some((magnitude as i128).wrapping_neg() as i64) } else { None }
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)`: no sign; `0x`, `0o`, `0b` prefixes
/// (need at least one digit after them) and a leading `0` for octal.
fn go_parse_uint(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let bytes = text.as_bytes();
    let (radix, digits) = if bytes[0] == b'0' && bytes.len() >= 3 {
        match bytes[1].to_ascii_lowercase() {
            b'x' => (16, &text[2..]),
            b'o' => (8, &text[2..]),
            b'b' => (2, &text[2..]),
            _ => (8, &text[1..]),
        }
    } else if bytes[0] == b'0' {
        (8, &text[1..])
    } else {
        (10, text)
    };
    unsigned_digits(digits, radix)
}

/// Digits in `radix` with no sign; the empty string is zero (what Go gives
/// for the `0` of a bare `0` once its octal prefix is taken off).
fn unsigned_digits(digits: &str, radix: u32) -> Option<u64> {
    let mut value: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix)?;
        value = value.checked_mul(u64::from(radix))?.checked_add(u64::from(d))?;
    }
    Some(value)
}

/// `strconv.ParseInt(s, radix, 64)` for an explicit radix: optional sign,
/// at least one digit.
fn signed_radix(text: &str, radix: u32) -> Option<i64> {
    let (negative, body) = match text.as_bytes().first()? {
        b'+' => (false, &text[1..]),
        b'-' => (true, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() {
        return None;
    }
    let magnitude = unsigned_digits(body, radix)?;
    if negative {
        (magnitude <= i64::MAX as u64 + 1).then(|| (magnitude as i128).wrapping_neg() as i64)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// `strconv.ParseUint(s, radix, 64)`: no sign, at least one digit.
fn unsigned_radix(text: &str, radix: u32) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    unsigned_digits(text, radix)
}

/// The YAML 1.1 booleans go-yaml v3 reads as strings but quotes on output.
pub(crate) fn is_yaml11_bool(text: &str) -> bool {
    matches!(
        text,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// YAML 1.1 base-60 numbers, `^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$`,
/// which go-yaml quotes on output (`"1:20"`, `"12:30:00"`) although it
/// reads them as strings.
pub(crate) fn is_base60_float(text: &str) -> bool {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let bytes = body.as_bytes();
    if bytes.first().is_none_or(|b| !b.is_ascii_digit()) {
        return false;
    }
    let mut i = 1;
    while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < bytes.len() && bytes[i] == b':' {
        i += 1;
        // `[0-5]?[0-9]`: one digit, or two with the first at most 5.
        let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        match digits {
            1 => i += 1,
            d if d >= 2 && bytes[i] <= b'5' => i += 2,
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
            i += 1;
        }
    }
    i == bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Resolved {
        resolve_plain(text)
    }
    fn int(v: i64) -> Resolved {
        Resolved::Scalar(Scalar::Int(v))
    }
    fn float(v: f64) -> Resolved {
        Resolved::Scalar(Scalar::Float(v))
    }
    fn is_str(r: &Resolved, text: &str) -> bool {
        matches!(r, Resolved::Scalar(Scalar::Str(b)) if b.as_bytes() == text.as_bytes())
    }

    #[test]
    fn nulls_and_bools() {
        for text in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(plain(text), Resolved::Scalar(Scalar::Null), "{text}");
        }
        for text in ["true", "True", "TRUE"] {
            assert_eq!(plain(text), Resolved::Scalar(Scalar::Bool(true)));
        }
        for text in ["false", "False", "FALSE"] {
            assert_eq!(plain(text), Resolved::Scalar(Scalar::Bool(false)));
        }
        // YAML 1.1 spellings are strings in go-yaml v3.
        for text in ["yes", "no", "on", "off", "y", "n", "On", "tRUE", "nULL"] {
            assert!(is_str(&plain(text), text), "{text}");
        }
    }

    #[test]
    fn special_floats() {
        for text in [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"] {
            assert_eq!(plain(text), float(f64::INFINITY));
        }
        for text in ["-.inf", "-.Inf", "-.INF"] {
            assert_eq!(plain(text), float(f64::NEG_INFINITY));
        }
        for text in [".nan", ".NaN", ".NAN"] {
            assert!(matches!(plain(text), Resolved::Scalar(Scalar::Float(v)) if v.is_nan()));
        }
        assert!(is_str(&plain(".iNf"), ".iNf"));
        assert!(is_str(&plain("+inf"), "+inf"));
    }

    #[test]
    fn integers_with_go_prefixes() {
        // Spec 8.1.2 examples and sops 3.11 encryptions of tests/tg.yaml.
        assert_eq!(plain("0777"), int(511));
        assert_eq!(plain("012"), int(10));
        assert_eq!(plain("0b101"), int(5));
        assert_eq!(plain("0B101"), int(5));
        assert_eq!(plain("0x_1F"), int(31));
        assert_eq!(plain("0X1f"), int(31));
        assert_eq!(plain("+0x1F"), int(31));
        assert_eq!(plain("0O17"), int(15));
        assert_eq!(plain("-0o17"), int(-15));
        assert_eq!(plain("-0b101"), int(-5));
        assert_eq!(plain("0b-101"), int(-5));
        assert_eq!(plain("0o+17"), int(15));
        assert_eq!(plain("1_000"), int(1000));
        assert_eq!(plain("+12"), int(12));
        assert_eq!(plain("-0"), int(0));
        assert_eq!(plain("00"), int(0));
        assert_eq!(plain("0"), int(0));
        assert_eq!(plain("9223372036854775807"), int(i64::MAX));
        assert_eq!(plain("-9223372036854775808"), int(i64::MIN));
        assert!(is_str(&plain("0x"), "0x"));
        assert!(is_str(&plain("_1"), "_1"));
    }

    #[test]
    fn unsigned_range_is_uint64() {
        assert_eq!(plain("9223372036854775808"), Resolved::Uint64);
        assert_eq!(plain("18446744073709551615"), Resolved::Uint64);
        assert_eq!(plain("0xFFFFFFFFFFFFFFFF"), Resolved::Uint64);
        // Past u64, or signed past i64: the float regex takes over.
        assert_eq!(plain("18446744073709551616"), float(18446744073709551616.0));
        assert_eq!(plain("+18446744073709551615"), float(1.8446744073709552e19));
        assert_eq!(plain("-9223372036854775809"), float(-9.223372036854776e18));
    }

    #[test]
    fn floats() {
        assert_eq!(plain("1e3"), float(1000.0));
        assert_eq!(plain("1E5"), float(100000.0));
        assert_eq!(plain("08"), float(8.0));
        assert_eq!(plain("1."), float(1.0));
        assert_eq!(plain("0."), float(0.0));
        assert_eq!(plain("1.0"), float(1.0));
        assert_eq!(plain(".5"), float(0.5));
        assert_eq!(plain("+.5"), float(0.5));
        assert_eq!(plain("-.5e-3"), float(-0.0005));
        assert_eq!(plain("1_2.5"), float(12.5));
        assert_eq!(plain("1.5e3"), float(1500.0));
        assert_eq!(plain("99999999999999999999999"), float(1e23));
        // Go reports overflow, so go-yaml keeps the text; underflow is 0.
        assert!(is_str(&plain("1e400"), "1e400"));
        assert_eq!(plain("1e-400"), float(0.0));
        for text in ["._5", ".", ".e5", "1e", "+", "-", "1.2.3", "3.11.0", "1e+"] {
            assert!(is_str(&plain(text), text), "{text}");
        }
    }

    #[test]
    fn timestamps_first() {
        let Resolved::Scalar(Scalar::Time(ts)) = plain("2024-01-01") else {
            panic!("not a time");
        };
        assert_eq!(ts.to_rfc3339_nano(), "2024-01-01T00:00:00Z");
        let Resolved::Scalar(Scalar::Time(ts)) = plain("2024-1-1 1:2:3.5") else {
            panic!("not a time");
        };
        assert_eq!(ts.to_rfc3339_nano(), "2024-01-01T01:02:03.5Z");
        let Resolved::Scalar(Scalar::Time(ts)) = plain("2024-01-01t10:00:00+01:00") else {
            panic!("not a time");
        };
        assert_eq!(ts.to_rfc3339_nano(), "2024-01-01T10:00:00+01:00");
        let text = "2024-01-01T10:00:00 +01:00";
        assert!(is_str(&plain(text), text));
        // Not a date and not a number.
        assert!(is_str(&plain("2024-13-45"), "2024-13-45"));
    }

    #[test]
    fn other_strings() {
        for text in ["12:30:00", "1:20", "abc", "<<", "é", "-x", "a b", "0x1G"] {
            assert!(is_str(&plain(text), text), "{text}");
        }
    }

    #[test]
    fn explicit_tags() {
        // Recorded from sops 3.11 on tests/tg.yaml-style inputs.
        assert!(is_str(&resolve_tagged("str", "12", true).unwrap(), "12"));
        assert_eq!(resolve_tagged("int", "12", false).unwrap(), int(12));
        assert_eq!(
            resolve_tagged("float", "1", true).unwrap(),
            float(1.0),
            "!!float 1 decodes as the float 1"
        );
        assert_eq!(resolve_tagged("float", "1", false).unwrap(), float(1.0));
        assert_eq!(resolve_tagged("bool", "true", false).unwrap(), Resolved::Scalar(Scalar::Bool(true)));
        assert!(matches!(
            resolve_tagged("timestamp", "2024-01-01", false).unwrap(),
            Resolved::Scalar(Scalar::Time(_))
        ));
        assert_eq!(resolve_tagged("null", "", false).unwrap(), Resolved::Scalar(Scalar::Null));
        assert_eq!(resolve_tagged("null", "~", true).unwrap(), Resolved::Scalar(Scalar::Null));
        assert!(is_str(&resolve_tagged("binary", "aGVsbG8=", true).unwrap(), "hello"));
        assert!(is_str(&resolve_tagged("binary", "aGVs\nbG8=\n", false).unwrap(), "hello"));
        assert_eq!(resolve_tagged("int", "18446744073709551615", true).unwrap(), Resolved::Uint64);
        // Tags go-yaml does not resolve give the text back.
        assert!(is_str(&resolve_tagged("foo", "12", true).unwrap(), "12"));
        assert!(is_str(&resolve_tagged("merge", "x", true).unwrap(), "x"));
        assert!(is_str(&resolve_tagged("map", "x", true).unwrap(), "x"));
    }

    #[test]
    fn tag_mismatches_are_errors_without_the_value() {
        for (tag, text) in [
            ("null", "secretvalue"),
            ("int", "1.5"),
            ("bool", "yes"),
            ("timestamp", "12"),
            ("float", "1e400"),
            ("binary", "aGVs bG8="),
            ("int", "2024-01-01"),
        ] {
            let err = resolve_tagged(tag, text, true).unwrap_err();
            assert!(!err.contains(text), "{err}");
        }
    }

    #[test]
    fn plain_strings_for_the_encoder() {
        for text in ["a", "a:b", ":x", "a#b", "-x", "--", "?x", "+", "a,b", "é", "yEs", "1:60"] {
            assert!(plain_is_string(text), "{text}");
        }
        for text in [
            "",
            "yes",
            "Off",
            "y",
            "N",
            "1:20",
            "+1:2:3.5_",
            "-1:20",
            "1_0:20",
            "<<",
            "123",
            "true",
            "null",
            "~",
            " a",
            "a ",
            "a: b",
            "a #b",
            "#x",
            "- x",
            "-",
            "---",
            "...",
            "'q'",
            "\"q\"",
            "{x}",
            "[x]",
            "*x",
            "&x",
            "!x",
            "%x",
            "@x",
            "`x",
            "|x",
            ">x",
            "tab\there",
            "x:",
            "?",
            "a\nb",
        ] {
            assert!(!plain_is_string(text), "{text:?}");
        }
    }

    #[test]
    fn base60() {
        for text in ["1:20", "12:30:00", "-1:20", "+1:2:3.5_", "1_0:20", "1:59", "1:2."] {
            assert!(is_base60_float(text), "{text}");
        }
        for text in ["1:60", "1:20:", "a1:20", ":20", "1", "1:"] {
            assert!(!is_base60_float(text), "{text}");
        }
    }
}
