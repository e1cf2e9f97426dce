//! The dotenv people write, as opposed to the dotenv sops stores.
//!
//! sops keeps a value exactly as written after the `=`: `export FOO="bar"`
//! is the key `export FOO` with the value `"bar"`, quotes included. That is
//! right for the file (it is what makes sops and us agree byte for byte),
//! but a program handed `"bar"` as the value of `export FOO` is not getting
//! what the author meant. [`interpret`] reads a key and value the way shells,
//! docker compose and the dotenv libraries broadly agree on: `export` and
//! spaces around the name go, single quotes are literal, double quotes take
//! a few escapes, and unquoted values lose surrounding blanks and an inline
//! ` # comment`. It is a pure function of the stored key and value, used
//! where values leave the file (`exec-env`, conversions), never by the store
//! itself.
//!
//! The rules are stated on the value as the file spells it. The store's
//! value has each `\n` already turned into a newline, so the first step
//! writes newlines back as `\n`; for values read from a file that recovers
//! the text as written (inside a multi-line double-quoted value a line
//! break becomes `\n`, which means the same there). The full rules, with
//! examples, are in `docs/formats.md` (dotenv).

use std::fmt;

use zeroize::Zeroizing;

/// A variable as its author meant it.
pub struct Interpreted {
    /// The key without a leading `export ` and without surrounding spaces
    /// and tabs.
    pub name: String,
    /// The value, unquoted and unescaped. A secret: wiped when dropped.
    pub value: Zeroizing<String>,
}

impl fmt::Debug for Interpreted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The value is a secret: show its length only.
        f.debug_struct("Interpreted")
            .field("name", &self.name)
            .field("value", &format_args!("<{} bytes>", self.value.len()))
            .finish()
    }
}

const BLANKS: [char; 2] = [' ', '\t'];
/// What is trimmed around a value: blanks, and the `\r` of a CRLF line.
const VALUE_BLANKS: [char; 3] = [' ', '\t', '\r'];

/// Read a stored key and value (the value as the store holds it: quotes
/// included, `\n` already a newline) as the author meant them:
///
/// * name: `key` without surrounding spaces and tabs, and without a leading
///   `export` followed by spaces or tabs;
/// * value, after writing newlines back as `\n` and trimming spaces, tabs
///   and `\r` at both ends:
///   * `'...'`: everything between the quotes, literally (no escapes);
///   * `"..."`: between the quotes, with `\n` (newline), `\t` (tab), `\"`
///     and `\\`; any other backslash stays as written;
///   * either quoted form may be followed by blanks and a `#` comment,
///     nothing else; a quote that is not closed, or text after the closing
///     quote, makes the value unquoted;
///   * unquoted: cut before the first `#` that follows a space or tab,
///     trimmed again, and each `\n` is a newline (as in sops).
pub fn interpret(key: &str, raw_value: &str) -> Interpreted {
    let name = key.trim_matches(BLANKS);
    let name = match name.strip_prefix("export") {
        Some(rest) if rest.starts_with(BLANKS) => rest.trim_start_matches(BLANKS),
        _ => name,
    };
    Interpreted { name: name.to_owned(), value: interpret_value(raw_value) }
}

fn interpret_value(raw_value: &str) -> Zeroizing<String> {
    let spelled = spelled_as_in_file(raw_value);
    let trimmed = spelled.trim_matches(VALUE_BLANKS);
    let quoted = match trimmed.as_bytes().first() {
        Some(b'\'') => single_quoted(trimmed),
        Some(b'"') => double_quoted(trimmed),
        _ => None,
    };
    quoted.unwrap_or_else(|| unquoted(&spelled))
}

/// The value with each newline written as `\n`, as the sops dialect spells
/// it on one line.
fn spelled_as_in_file(value: &str) -> Zeroizing<String> {
    let newlines = value.bytes().filter(|&b| b == b'\n').count();
    let mut spelled = Zeroizing::new(String::with_capacity(value.len() + newlines));
    for part in value.split_inclusive('\n') {
        match part.strip_suffix('\n') {
            Some(line) => {
                spelled.push_str(line);
                spelled.push_str("\\n");
            }
            None => spelled.push_str(part),
        }
    }
    spelled
}

/// Whether what follows a closing quote may be ignored: blanks, then
/// nothing or a `#` comment.
fn ignorable_tail(tail: &str) -> bool {
    let tail = tail.trim_start_matches(VALUE_BLANKS);
    tail.is_empty() || tail.starts_with('#')
}

fn single_quoted(text: &str) -> Option<Zeroizing<String>> {
    let body = &text[1..];
    let close = body.find('\'')?;
    ignorable_tail(&body[close + 1..]).then(|| Zeroizing::new(body[..close].to_owned()))
}

fn double_quoted(text: &str) -> Option<Zeroizing<String>> {
    let body = &text[1..];
    let mut value = Zeroizing::new(String::with_capacity(body.len()));
    let mut chars = body.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return ignorable_tail(&body[at + 1..]).then_some(value),
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, '"')) => value.push('"'),
                Some((_, '\\')) => value.push('\\'),
                Some((_, other)) => {
                    value.push('\\');
                    value.push(other);
                }
                None => value.push('\\'),
            },
            other => value.push(other),
        }
    }
    // Never closed.
    None
}

fn unquoted(spelled: &str) -> Zeroizing<String> {
    let bytes = spelled.as_bytes();
    let cut = (1..bytes.len())
        .find(|&at| bytes[at] == b'#' && matches!(bytes[at - 1], b' ' | b'\t'))
        .unwrap_or(bytes.len());
    let text = spelled[..cut].trim_matches(VALUE_BLANKS);
    let mut value = Zeroizing::new(String::with_capacity(text.len()));
    let mut parts = text.split("\\n");
    if let Some(first) = parts.next() {
        value.push_str(first);
    }
    for part in parts {
        value.push('\n');
        value.push_str(part);
    }
    value
}
