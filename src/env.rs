//! The environment the library reads, passed as a value.
//!
//! sops reads its key material from environment variables and from files
//! under the home directory. A library that reads the process environment
//! directly cannot be embedded safely (callers end up serialising threads
//! around `set_var`) and cannot be tested hermetically. So the library never
//! calls `std::env::var`; it reads an [`Environment`], which the command line
//! builds from the process once and tests build from a literal map.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Environment variables and the directories derived from them.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// A snapshot of the current process's environment (variables that are
    /// not valid UTF-8 are skipped).
    pub fn from_process() -> Environment {
        Environment {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// An empty environment: nothing set, no home directory.
    pub fn empty() -> Environment {
        Environment::default()
    }

    /// This environment with one more variable.
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Environment {
        self.vars.insert(name.to_owned(), value.into());
        self
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.vars.insert(name.to_owned(), value.into());
    }

    pub fn remove(&mut self, name: &str) {
        self.vars.remove(name);
    }

    /// The variable's value; `None` when unset. An empty value counts as set.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// The variable's value when set and not empty, which is how sops treats
    /// most of its variables.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.var(name).filter(|v| !v.is_empty())
    }

    /// `$HOME`.
    pub fn home_dir(&self) -> Option<PathBuf> {
        self.non_empty("HOME").map(PathBuf::from)
    }

    /// The user configuration directory as Go's `os.UserConfigDir` gives it
    /// on Unix: `$XDG_CONFIG_HOME`, else `$HOME/.config`.
    pub fn user_config_dir(&self) -> Option<PathBuf> {
        if let Some(xdg) = self.non_empty("XDG_CONFIG_HOME") {
            return Some(PathBuf::from(xdg));
        }
        self.home_dir().map(|home| home.join(".config"))
    }

    /// All variables, for handing to a child process.
    pub fn vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_dir_prefers_xdg() {
        let env = Environment::empty().with("HOME", "/home/u");
        assert_eq!(env.user_config_dir(), Some(PathBuf::from("/home/u/.config")));
        let env = env.with("XDG_CONFIG_HOME", "/xdg");
        assert_eq!(env.user_config_dir(), Some(PathBuf::from("/xdg")));
        assert_eq!(Environment::empty().user_config_dir(), None);
    }
}
