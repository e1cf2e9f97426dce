//! Subcommand arguments that clap builds only when they are needed.
//!
//! clap's derive builds the whole command tree, every argument of every
//! subcommand, before it parses anything: a fifth of the instructions of
//! decrypting a tiny file, where start-up is most of the time. clap can
//! defer building a subcommand until it is the one parsed (or until help,
//! completions or the man page build the whole tree), but its derive does
//! not; wrapping a variant's arguments in [`Deferred`] does.
//!
//! The one difference deferring makes is order: a subcommand's own texts
//! (its variant's doc comment and examples) were set after its arguments,
//! so they won over the doc comments of the argument structs; deferred
//! arguments come last, so [`keeping_texts`] puts the texts back. The tests
//! hold every command's texts to what the definition gives before building.

use std::ops::Deref;

use clap::{ArgMatches, Args, FromArgMatches, Subcommand};

/// A subcommand's arguments (or its own subcommands), added to clap's
/// definition only when that subcommand is built (see the module docs).
#[derive(Debug)]
pub struct Deferred<T>(pub T);

impl<T> Deref for Deferred<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: FromArgMatches> FromArgMatches for Deferred<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Deferred)
    }

    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(matches).map(Deferred)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }

    fn update_from_arg_matches_mut(&mut self, matches: &mut ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}

impl<T: Args> Args for Deferred<T> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.defer(|cmd| keeping_texts(cmd, T::augment_args))
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        cmd.defer(|cmd| keeping_texts(cmd, T::augment_args_for_update))
    }

    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }
}

impl<T: Subcommand> Subcommand for Deferred<T> {
    fn augment_subcommands(cmd: clap::Command) -> clap::Command {
        cmd.defer(|cmd| keeping_texts(cmd, T::augment_subcommands))
    }

    fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
        cmd.defer(|cmd| keeping_texts(cmd, T::augment_subcommands_for_update))
    }

    fn has_subcommand(name: &str) -> bool {
        T::has_subcommand(name)
    }
}

/// Run `augment` on `cmd`, keeping the help texts `cmd` already has. Without
/// deferring, the subcommand's own texts (its variant's doc comment and
/// examples) are set after its arguments, so they win over the doc comments
/// of the argument structs; a deferred `augment` runs last, so the texts are
/// put back.
fn keeping_texts(cmd: clap::Command, augment: fn(clap::Command) -> clap::Command) -> clap::Command {
    let about = cmd.get_about().cloned();
    let long_about = cmd.get_long_about().cloned();
    let before_help = cmd.get_before_help().cloned();
    let before_long_help = cmd.get_before_long_help().cloned();
    let after_help = cmd.get_after_help().cloned();
    let after_long_help = cmd.get_after_long_help().cloned();
    let mut cmd = augment(cmd);
    // A variant's doc comment sets its long text too (to none when it is
    // one paragraph), so both are put back together.
    if let Some(about) = about {
        cmd = match long_about {
            Some(long_about) => cmd.about(about).long_about(long_about),
            None => cmd.about(about).long_about(None),
        };
    }
    if let Some(text) = before_help {
        cmd = cmd.before_help(text);
    }
    if let Some(text) = before_long_help {
        cmd = cmd.before_long_help(text);
    }
    if let Some(text) = after_help {
        cmd = cmd.after_help(text);
    }
    if let Some(text) = after_long_help {
        cmd = cmd.after_long_help(text);
    }
    cmd
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use crate::cli::args::Cli;

    fn texts(cmd: &clap::Command) -> [Option<String>; 6] {
        [
            cmd.get_about().map(ToString::to_string),
            cmd.get_long_about().map(ToString::to_string),
            cmd.get_before_help().map(ToString::to_string),
            cmd.get_before_long_help().map(ToString::to_string),
            cmd.get_after_help().map(ToString::to_string),
            cmd.get_after_long_help().map(ToString::to_string),
        ]
    }

    /// Each command's texts before building (its variant's) are the ones
    /// it has once its deferred arguments are in, and those arguments are
    /// there.
    fn check(unbuilt: &clap::Command, built: &clap::Command, path: &str) {
        assert_eq!(texts(unbuilt), texts(built), "{path}");
        // Building adds only the `help` subcommand.
        let names: Vec<&str> = unbuilt.get_subcommands().map(|c| c.get_name()).collect();
        let built_names: Vec<&str> =
            built.get_subcommands().map(|c| c.get_name()).filter(|n| *n != "help").collect();
        assert_eq!(names, built_names, "{path}");
        for before in unbuilt.get_subcommands() {
            let after = built.find_subcommand(before.get_name()).unwrap();
            let path = format!("{path} {}", before.get_name());
            if !before.has_subcommands() {
                assert!(after.get_arguments().any(|a| a.get_id() != "help" && !a.is_global_set()), "{path}");
            }
            check(before, after, &path);
        }
    }

    #[test]
    fn deferred_arguments_keep_each_commands_own_texts() {
        let unbuilt = Cli::command();
        let mut built = Cli::command();
        built.build();
        check(&unbuilt, &built, "sops-rs");
        // The one that showed the problem: decrypt's help began with the
        // doc comment of the arguments it shares with other commands.
        let decrypt = built.find_subcommand("decrypt").unwrap();
        assert!(decrypt.get_about().unwrap().to_string().starts_with("Decrypt a file"));
    }
}
