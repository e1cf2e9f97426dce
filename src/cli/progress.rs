//! A progress bar for commands that go through many files.
//!
//! `check`, `updatekeys` and `rotate` can be given a whole repository, and
//! decrypting with a cloud KMS key takes a network round trip per file, so
//! a person at a terminal deserves to see that something is happening. A
//! script does not: anything drawn on a pipe or in a CI log is noise that
//! has to be filtered out, and the carriage returns a bar redraws with make
//! logs unreadable. So the bar is shown only when all of these hold:
//!
//! - stderr is a terminal (stdout may be piped: `check --json | jq` at a
//!   terminal still shows the bar, on the stream nobody parses);
//! - `TERM` is not `dumb`: such terminals (Emacs shells, some IDE consoles)
//!   cannot move the cursor, so every redraw would become a new line;
//! - there is more than one file: for a single file the bar would flash
//!   for a moment and tell nothing the command's own output does not.
//!
//! `NO_COLOR` asks for no colour, not for no progress, so it keeps the bar
//! and draws it without colour.
//!
//! The decision is a pure function of those inputs ([`decide`]) so it can be
//! tested without a terminal; [`Progress`] is the thin wrapper the commands
//! use, and everything they print to stderr while the bar is up goes
//! through [`Progress::suspend`] so that lines and the bar do not interleave.

use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::env::Environment;

/// How the bar looks, if it is shown at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Look {
    Hidden,
    Plain,
    Colour,
}

/// Whether (and how) to draw a bar over `files` files.
pub fn decide(stderr_is_terminal: bool, env: &Environment, files: usize) -> Look {
    if !stderr_is_terminal || files < 2 || env.var("TERM") == Some("dumb") {
        Look::Hidden
    } else if env.non_empty("NO_COLOR").is_some() {
        // https://no-color.org: any non-empty value.
        Look::Plain
    } else {
        Look::Colour
    }
}

/// A progress bar over a known number of files, hidden when [`decide`] says so.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar for `files` files, labelled with what is done to them (`checking`).
    pub fn new(env: &Environment, files: usize, verb: &str) -> Progress {
        let look = decide(std::io::stderr().is_terminal(), env, files);
        let template = match look {
            Look::Hidden => return Progress { bar: ProgressBar::hidden() },
            Look::Plain => "{prefix} [{bar:30}] {pos}/{len} {wide_msg}",
            Look::Colour => "{prefix:.bold} [{bar:30.cyan/blue}] {pos}/{len} {wide_msg:.dim}",
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(Some(files as u64), ProgressDrawTarget::stderr())
            .with_style(style)
            .with_prefix(verb.to_owned());
        Progress { bar }
    }

    /// A file is about to be worked on: name it on the bar.
    pub fn start(&self, file: &Path) {
        self.bar.set_message(file.display().to_string());
    }

    /// The current file is done.
    pub fn advance(&self) {
        self.bar.inc(1);
    }

    /// Run `f` (which prints to stderr or asks a question) with the bar
    /// cleared, then draw it again.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    /// Remove the bar: the command's own summary follows.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    /// A command that fails half-way must not leave a stale bar behind.
    fn drop(&mut self) {
        if !self.bar.is_finished() {
            self.bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_unless_stderr_is_a_terminal() {
        let env = Environment::empty().with("TERM", "xterm-256color");
        assert_eq!(decide(false, &env, 10), Look::Hidden, "pipes and CI logs get no bar");
        assert_eq!(decide(true, &env, 10), Look::Colour);
    }

    #[test]
    fn hidden_for_a_single_file_or_none() {
        let env = Environment::empty().with("TERM", "xterm");
        assert_eq!(decide(true, &env, 0), Look::Hidden);
        assert_eq!(decide(true, &env, 1), Look::Hidden);
        assert_eq!(decide(true, &env, 2), Look::Colour);
    }

    #[test]
    fn dumb_terminals_get_no_bar() {
        let env = Environment::empty().with("TERM", "dumb");
        assert_eq!(decide(true, &env, 10), Look::Hidden);
    }

    #[test]
    fn no_color_keeps_the_bar_without_colour() {
        let env = Environment::empty().with("TERM", "xterm").with("NO_COLOR", "1");
        assert_eq!(decide(true, &env, 10), Look::Plain);
        // An empty NO_COLOR does not count (no-color.org).
        let env = Environment::empty().with("TERM", "xterm").with("NO_COLOR", "");
        assert_eq!(decide(true, &env, 10), Look::Colour);
    }

    #[test]
    fn a_hidden_bar_runs_suspended_work() {
        let progress = Progress::new(&Environment::empty(), 1, "checking");
        progress.start(Path::new("a.yaml"));
        assert_eq!(progress.suspend(|| 42), 42);
        progress.advance();
        progress.finish();
    }
}
