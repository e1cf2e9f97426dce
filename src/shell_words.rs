//! Splitting `SOPS_AGE_KEY_CMD` into a program and its arguments.
//!
//! sops splits the command the way a POSIX shell splits words, without
//! running a shell: whitespace separates words; single quotes keep
//! everything literally; double quotes keep everything but let a backslash
//! escape the next character; a backslash outside quotes escapes the next
//! character; a `#` that starts a word comments out the rest of the line.
//! No variables, globs, pipes or redirections: a command that needs them
//! must be written as `sh -c '...'`.

/// The words of `command`, or why it cannot be split (an unclosed quote, a
/// trailing backslash, no words at all).
pub fn split(command: &str) -> Result<Vec<String>, String> {
    #[derive(PartialEq)]
    enum State {
        /// Between words.
        Space,
        /// Inside an unquoted part of a word.
        Word,
        /// Inside '...'.
        Single,
        /// Inside "...".
        Double,
        /// Skipping a comment to the end of the line.
        Comment,
    }

    let mut words = Vec::new();
    let mut word = String::new();
    let mut state = State::Space;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match state {
            State::Comment => {
                if c == '\n' {
                    state = State::Space;
                }
            }
            State::Space | State::Word => match c {
                ' ' | '\t' | '\n' | '\r' => {
                    if state == State::Word {
                        words.push(std::mem::take(&mut word));
                    }
                    state = State::Space;
                }
                '#' if state == State::Space => state = State::Comment,
                '\'' => state = State::Single,
                '"' => state = State::Double,
                '\\' => {
                    word.push(chars.next().ok_or("it ends with a lone backslash")?);
                    state = State::Word;
                }
                other => {
                    word.push(other);
                    state = State::Word;
                }
            },
            State::Single => match c {
                '\'' => state = State::Word,
                other => word.push(other),
            },
            State::Double => match c {
                '"' => state = State::Word,
                '\\' => word.push(chars.next().ok_or("it has an unclosed double quote")?),
                other => word.push(other),
            },
        }
    }
    match state {
        State::Single => return Err("it has an unclosed single quote".to_owned()),
        State::Double => return Err("it has an unclosed double quote".to_owned()),
        State::Word => words.push(word),
        State::Space | State::Comment => {}
    }
    if words.is_empty() {
        return Err("it is empty".to_owned());
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::split;

    fn ok(command: &str) -> Vec<String> {
        split(command).unwrap_or_else(|e| panic!("{command:?}: {e}"))
    }

    #[test]
    fn splits_like_a_shell_without_running_one() {
        assert_eq!(ok("cat /k/keys.txt"), ["cat", "/k/keys.txt"]);
        assert_eq!(ok("  op   read\t'op://v/age key'  "), ["op", "read", "op://v/age key"]);
        assert_eq!(ok(r#"sh -c "echo \"a b\"; cat x""#), ["sh", "-c", r#"echo "a b"; cat x"#]);
        assert_eq!(ok(r"cat my\ keys.txt"), ["cat", "my keys.txt"]);
        assert_eq!(ok("a'b'\"c\"d"), ["abcd"]);
        assert_eq!(ok("cat keys # a comment"), ["cat", "keys"]);
        assert_eq!(ok("cat a#b"), ["cat", "a#b"]);
        assert_eq!(ok("echo ''"), ["echo", ""]);
        assert_eq!(ok("echo $HOME |"), ["echo", "$HOME", "|"]);
    }

    #[test]
    fn refuses_what_a_shell_would_refuse() {
        assert!(split("cat 'open").unwrap_err().contains("single quote"));
        assert!(split("cat \"open").unwrap_err().contains("double quote"));
        assert!(split("cat \\").unwrap_err().contains("backslash"));
        assert!(split("   ").unwrap_err().contains("empty"));
        assert!(split("# only a comment").unwrap_err().contains("empty"));
    }
}
