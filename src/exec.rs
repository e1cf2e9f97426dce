//! Handing decrypted values to a program: `exec-env` and `exec-file`.
//!
//! The point of both is that plaintext never lands in the working tree:
//! `exec-env` passes values only through the child's environment, and
//! `exec-file` passes the file through a FIFO (the data exists only in the
//! pipe) or, for programs that must seek, a 0600 file in a private
//! directory on a memory file system that is removed when the child exits.
//!
//! This module computes the environment from decrypted trees (the library
//! part, tested without processes); `cli::exec` runs the child.
//!
//! The environment follows sops for top-level scalars (`KEY=value`, values
//! in their canonical text) and goes beyond it for nested values, which
//! sops refuses: each is named by its path joined with `__` (a mapping key)
//! and its index (a list position), so `db: {user: x}` gives `db__user=x`
//! and `hosts: [a, b]` gives `hosts__0=a`, `hosts__1=b`; this is the
//! convention .NET and others already use for nested configuration. Null
//! values are left out. Names that a shell or `execve` cannot carry (empty,
//! or containing `=` or NUL) are an error, as in sops.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::tree::{MapItem, Node, Scalar, SeqItem, Tree, Value};

/// Turns a top-level key and value into a variable's name and value.
pub type Interpret<'a> = &'a dyn Fn(&str, Zeroizing<String>) -> (String, Zeroizing<String>);

/// Joins the parts of a nested value's name.
pub const NESTED_SEPARATOR: &str = "__";

/// Environment variables from decrypted files, later files winning.
#[derive(Default)]
pub struct EnvVars {
    vars: BTreeMap<String, Zeroizing<String>>,
    /// Names defined by more than one file (for a warning; no values).
    pub conflicts: Vec<String>,
}

impl std::fmt::Debug for EnvVars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvVars").field("names", &self.vars.keys().collect::<Vec<_>>()).finish()
    }
}

impl EnvVars {
    /// Add the values of one decrypted file. `interpret` turns a top-level
    /// key and value into the variable's name and value (dotenv files strip
    /// `export` and quotes there); other formats use the identity.
    pub fn add_tree(&mut self, tree: &Tree, interpret: Interpret<'_>) -> Result<()> {
        let Some(document) = tree.documents.first() else { return Ok(()) };
        let mut from_this_file = Vec::new();
        for item in &document.items {
            let MapItem::Pair(pair) = item else { continue };
            match &pair.value.value {
                Value::Scalar(scalar) => {
                    let Some(text) = scalar_text(scalar) else { continue };
                    let (name, value) = interpret(&pair.key.name, text);
                    from_this_file.push((name, value));
                }
                _ => flatten(&mut pair.key.name.clone(), &pair.value, &mut from_this_file),
            }
        }
        for (name, value) in from_this_file {
            check_name(&name)?;
            // Checked here, not left to spawn: its "nul byte found in provided
            // data" names neither the variable nor the cause.
            if value.contains('\0') {
                return Err(Error::InvalidArgument(format!(
                    "the value of {name} contains a NUL byte, which an environment variable cannot hold"
                )));
            }
            if self.vars.insert(name.clone(), value).is_some() && !self.conflicts.contains(&name) {
                self.conflicts.push(name);
            }
        }
        Ok(())
    }

    /// The variables, for the child's environment.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.vars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }
}

/// Nested values, named by their paths. `path` is the name so far, grown
/// and cut back as the walk goes down and up, where a new name formatted
/// at each level was most of flattening a large file.
fn flatten(path: &mut String, node: &Node, out: &mut Vec<(String, Zeroizing<String>)>) {
    let at = path.len();
    match &node.value {
        Value::Scalar(scalar) => {
            if let Some(text) = scalar_text(scalar) {
                out.push((path.clone(), text));
            }
        }
        Value::Map(items) => {
            for item in items {
                if let MapItem::Pair(pair) = item {
                    path.push_str(NESTED_SEPARATOR);
                    path.push_str(&pair.key.name);
                    flatten(path, &pair.value, out);
                    path.truncate(at);
                }
            }
        }
        Value::Seq(items) => {
            let values = items.iter().filter_map(|i| match i {
                SeqItem::Value(v) => Some(v),
                SeqItem::Comment(_) => None,
            });
            for (index, value) in values.enumerate() {
                // Writing to a String cannot fail.
                let _ = write!(path, "{NESTED_SEPARATOR}{index}");
                flatten(path, value, out);
                path.truncate(at);
            }
        }
    }
}

/// A value's text in the environment: strings as they are, other scalars
/// in their canonical form except booleans, which are `true`/`false` as a
/// program expects; null is left out.
fn scalar_text(scalar: &Scalar) -> Option<Zeroizing<String>> {
    Some(Zeroizing::new(match scalar {
        Scalar::Null => return None,
        Scalar::Bool(b) => b.to_string(),
        Scalar::Str(bytes) => String::from_utf8_lossy(bytes.as_bytes()).into_owned(),
        other => String::from_utf8_lossy(other.mac_bytes().as_bytes()).into_owned(),
    }))
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains('=') || name.contains('\0') {
        return Err(Error::InvalidArgument(format!(
            "{name:?} cannot be an environment variable name (empty, or contains '=' or NUL)"
        )));
    }
    Ok(())
}

/// The command line with `{}` replaced by the file's path.
pub fn command_with_path(command: &str, path: &str) -> String {
    command.replace("{}", path)
}

/// The words of `command` when running them directly gives what
/// `/bin/sh -c command` gives, or `None` when only a shell can run it.
///
/// sops runs every command through `/bin/sh -c`, and so do we whenever the
/// shell could make a difference. But a shell is not free: it reads the
/// whole environment it is given into its own table, and dash does that in
/// time that grows faster than the number of variables, so `sh -c true`
/// took 30 ms with 10,000 variables and 312 ms with 36,000 where running
/// `true` directly took 11 and 41 ms. So a command that is only words
/// separated by spaces, made of characters no shell treats specially, is
/// run as those words, like make does for its recipes. Everything else goes
/// to the shell: quotes, `$`, globs, redirections, `~`, `#`, tabs, several
/// commands, an assignment, a reserved word, or a name a shell runs as its
/// own built-in (the built-in `echo` and the program differ, for one), except
/// `true` and `false` without arguments, which do the same either way.
pub fn without_shell(command: &str) -> Option<Vec<&str>> {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b" _-./,:@%+=".contains(&b);
    if !command.bytes().all(plain) {
        return None;
    }
    let words: Vec<&str> = command.split(' ').filter(|word| !word.is_empty()).collect();
    let first = *words.first()?;
    if first.contains('=') {
        return None;
    }
    if matches!(first, "true" | "false") {
        return (words.len() == 1).then_some(words);
    }
    if SHELL_WORDS.contains(&first) {
        return None;
    }
    Some(words)
}

/// Reserved words and built-ins of POSIX shells and dash (the `/bin/sh` of
/// Debian and Ubuntu), and a few of bash's.
#[rustfmt::skip]
const SHELL_WORDS: &[&str] = &[
    // Reserved words.
    "case", "coproc", "do", "done", "elif", "else", "esac", "fi", "for", "function", "if", "in",
    "select", "then", "time", "until", "while",
    // Special built-ins.
    ":", ".", "break", "continue", "eval", "exec", "exit", "export", "readonly", "return", "set",
    "shift", "times", "trap", "unset",
    // Other built-ins.
    "alias", "bg", "builtin", "cd", "command", "declare", "disown", "echo", "enable", "fc", "fg",
    "getopts", "hash", "history", "jobs", "kill", "let", "local", "logout", "mapfile", "printf",
    "pwd", "read", "readarray", "shopt", "source", "suspend", "test", "type", "typeset", "ulimit",
    "umask", "unalias", "wait",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Tree {
        crate::store::parse_plain(crate::store::Format::Yaml, text.as_bytes()).unwrap().tree
    }

    fn same(key: &str, value: Zeroizing<String>) -> (String, Zeroizing<String>) {
        (key.to_owned(), value)
    }

    fn vars(env: &EnvVars) -> Vec<(String, String)> {
        env.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
    }

    #[test]
    fn only_plain_word_lists_run_without_a_shell() {
        assert_eq!(without_shell("true"), Some(vec!["true"]));
        assert_eq!(
            without_shell("  ./deploy.sh --env=prod  a,b "),
            Some(vec!["./deploy.sh", "--env=prod", "a,b"])
        );
        assert_eq!(without_shell("/usr/bin/env"), Some(vec!["/usr/bin/env"]));
        for shell_only in [
            "",
            "   ",
            "echo $TOKEN",
            "echo \"quoted\"",
            "echo 'quoted'",
            "ls *.yaml",
            "cat file?",
            "cmd > out",
            "cmd < in",
            "a | b",
            "a; b",
            "a && b",
            "a & ",
            "cd ~",
            "cmd # comment",
            "cmd\targ",
            "cmd\nother",
            "cmd `x`",
            "cmd \\x",
            "( sub )",
            "{ grp; }",
            "! neg",
            "[ -n x ]",
            "FOO=bar cmd",
            "exit 3",
            "echo plain",
            "printf x",
            "cd dir",
            "export A",
            "if",
            "true extra",
            "false --help",
            "caf\u{e9}",
        ] {
            assert_eq!(without_shell(shell_only), None, "{shell_only:?}");
        }
    }

    #[test]
    fn top_level_scalars_and_nested_values() {
        let mut env = EnvVars::default();
        env.add_tree(&yaml("A: x\nN: 5\nB: true\nF: 1.5\nZ: null\ndb:\n  user: u\n  ports: [1, 2]\n"), &same)
            .unwrap();
        assert_eq!(
            vars(&env),
            [
                ("A", "x"),
                ("B", "true"),
                ("F", "1.5"),
                ("N", "5"),
                ("db__ports__0", "1"),
                ("db__ports__1", "2"),
                ("db__user", "u")
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn later_files_win_and_conflicts_are_named() {
        let mut env = EnvVars::default();
        env.add_tree(&yaml("A: first\nB: b\n"), &same).unwrap();
        env.add_tree(&yaml("A: second\n"), &same).unwrap();
        assert_eq!(env.iter().find(|(k, _)| *k == "A").unwrap().1, "second");
        assert_eq!(env.conflicts, ["A"]);
        let debug = format!("{env:?}");
        assert!(!debug.contains("second") && !debug.contains("first"));
    }

    #[test]
    fn names_that_cannot_be_variables_are_errors() {
        let mut env = EnvVars::default();
        assert!(env.add_tree(&yaml("\"a=b\": x\n"), &same).is_err());
        assert_eq!(command_with_path("cat {} > /dev/null; wc -c {}", "/p"), "cat /p > /dev/null; wc -c /p");
    }

    #[test]
    fn a_value_with_a_nul_byte_is_an_error_naming_the_variable_not_the_value() {
        let mut env = EnvVars::default();
        let error = env.add_tree(&yaml("db:\n  token: \"canary\\0xyz\"\n"), &same).unwrap_err().to_string();
        assert!(error.contains("db__token") && error.contains("NUL"), "{error}");
        assert!(!error.contains("canary") && !error.contains("xyz"), "{error}");
    }
}
