//! Where age identities come from (spec 6.2), and what each place gave.
//!
//! Every source sops reads is read, and each one's outcome is kept as a
//! [`SourceRecord`]: "not set", "not found", "2 identities (X25519)", or
//! why it failed. One broken source never hides the others; its reason is
//! reported when no identity opens a key, because the broken source may be
//! the one that held the right identity.
//!
//! Some identities cannot be used the moment they are read:
//!
//! * a passphrase-protected identity file or SSH key needs a prompt, so it
//!   is unlocked only when the identities that need no prompt have failed
//!   (and an SSH key only when its public key is the recipient);
//! * `SOPS_AGE_KEY_CMD` is run once per recipient, with
//!   `SOPS_AGE_RECIPIENT` set, as the sops 3.11 reference binary does
//!   (checked by experiment: a file with three age recipients runs the
//!   command three times), so a command can pick the identity by
//!   recipient. Its outcome is cached per recipient.
//!
//! The types of single identities and the parsing of identity text live in
//! `identity.rs`; the key command in `key_command.rs`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::identity::{
    IDENTITY_FILE_LIMIT, Identity, LockedFile, Parsed, ReadFailure, SSH_KEY_LIMIT, parse_identity_text,
    parse_ssh_identity, read_secret_file, summarize,
};
use super::key_command::KeyCommand;
use super::prompt::{Prompter, TerminalPrompter};
use crate::env::Environment;
use crate::keys::{FailureKind, KeyFailure};

pub(super) const SSH_KEY_FILE_VAR: &str = "SOPS_AGE_SSH_PRIVATE_KEY_FILE";
pub(super) const KEY_VAR: &str = "SOPS_AGE_KEY";
pub(super) const KEY_FILE_VAR: &str = "SOPS_AGE_KEY_FILE";
pub(super) const KEY_CMD_VAR: &str = "SOPS_AGE_KEY_CMD";
/// Set by us for the key command: the recipient being unwrapped.
pub(super) const RECIPIENT_VAR: &str = "SOPS_AGE_RECIPIENT";

/// One place identities were looked for, and what was found there.
struct SourceRecord {
    label: Arc<str>,
    outcome: Outcome,
}

enum Outcome {
    /// The variable that names this source is not set.
    NotSet,
    /// The source is optional and absent ("not found", "HOME is not set").
    Absent(String),
    /// Read; `summary` says what it held. A locked file's status changes
    /// once it is unlocked, so it is looked up by index.
    Loaded {
        summary: String,
        locked: Option<usize>,
    },
    Failed(String),
    /// The key command, whose outcome is per recipient.
    Command,
}

/// Age identities from every source sops 3.11 reads (spec 6.2), with a
/// record of every place that was looked at.
pub struct AgeIdentities {
    records: Vec<SourceRecord>,
    identities: Vec<Identity>,
    locked: Vec<LockedFile>,
    command: Option<KeyCommand>,
    prompter: Arc<dyn Prompter>,
    /// `<user config dir>/sops/age/keys.txt` as shown to users, for hints.
    default_file: Option<String>,
}

impl std::fmt::Debug for AgeIdentities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Where identities came from, never what they are.
        f.debug_struct("AgeIdentities").field("sources", &self.sources()).finish()
    }
}

impl AgeIdentities {
    /// Loads identities from every source sops 3.11 reads, combined
    /// (spec 6.2). Never fails as a whole: a source that cannot be read or
    /// parsed is recorded with its reason, and the others are still used.
    /// Passphrases are asked for on the terminal, and only when needed.
    pub fn load(env: &Environment) -> AgeIdentities {
        AgeIdentities::load_with_prompter(env, Arc::new(TerminalPrompter))
    }

    /// [`AgeIdentities::load`], with passphrases and plugin questions put to
    /// `prompter` instead of the terminal (e.g. [`super::NoPrompter`] in
    /// batch jobs).
    pub fn load_with_prompter(env: &Environment, prompter: Arc<dyn Prompter>) -> AgeIdentities {
        let mut loaded = AgeIdentities::empty(prompter);
        let home = env.home_dir();
        let shown = |path: &Path| display_path(path, home.as_deref());

        // 1. SSH keys: the named one, and the usual two in ~/.ssh. The
        // reference binary reads ~/.ssh even when the variable is set
        // (checked by experiment), so we do too.
        match env.non_empty(SSH_KEY_FILE_VAR) {
            Some(path) => {
                let label = format!("{SSH_KEY_FILE_VAR}={path}");
                loaded.load_ssh_file(label, Path::new(path), true);
            }
            None => loaded.record(SSH_KEY_FILE_VAR, Outcome::NotSet),
        }
        match &home {
            Some(home) => {
                for name in ["id_ed25519", "id_rsa"] {
                    let path = home.join(".ssh").join(name);
                    loaded.load_ssh_file(shown(&path), &path, false);
                }
            }
            None => loaded.record(
                "~/.ssh/id_ed25519, ~/.ssh/id_rsa",
                Outcome::Absent("not looked at: HOME is not set".to_owned()),
            ),
        }

        // 2. Inline identities.
        match env.non_empty(KEY_VAR) {
            Some(text) => loaded.load_text(KEY_VAR, text.as_bytes()),
            None => loaded.record(KEY_VAR, Outcome::NotSet),
        }

        // 3. An identity file named by a variable.
        match env.non_empty(KEY_FILE_VAR) {
            Some(path) => {
                let label = format!("{KEY_FILE_VAR}={path}");
                loaded.load_identity_file(label, Path::new(path), true);
            }
            None => loaded.record(KEY_FILE_VAR, Outcome::NotSet),
        }

        // 4. A command that prints identities; run when a key needs it.
        match env.non_empty(KEY_CMD_VAR) {
            Some(command) => {
                loaded.command = Some(KeyCommand::new(command, env));
                loaded.record(KEY_CMD_VAR, Outcome::Command);
            }
            None => loaded.record(KEY_CMD_VAR, Outcome::NotSet),
        }

        // 5. The default identity file.
        match env.user_config_dir() {
            Some(dir) => {
                let path: PathBuf = dir.join("sops").join("age").join("keys.txt");
                let label = shown(&path);
                loaded.default_file = Some(label.clone());
                loaded.load_identity_file(label, &path, false);
            }
            None => loaded.record(
                "default identity file (sops/age/keys.txt)",
                Outcome::Absent("not looked for: neither XDG_CONFIG_HOME nor HOME is set".to_owned()),
            ),
        }
        loaded
    }

    /// An explicit set of identities, for library users and tests: an age
    /// identity file's text (X25519 and plugin identities, `#` comments),
    /// a passphrase-protected identity file (armored), or an SSH private
    /// key. The error names what is wrong, never the text.
    pub fn from_identity_text(text: &str) -> Result<AgeIdentities, KeyFailure> {
        const LABEL: &str = "explicit identities";
        let mut loaded = AgeIdentities::empty(Arc::new(TerminalPrompter));
        let first = text.trim_start();
        if first.starts_with("-----BEGIN") && !first.starts_with("-----BEGIN AGE") {
            loaded.load_ssh_bytes(LABEL.to_owned(), text.as_bytes());
        } else {
            loaded.load_text(LABEL, text.as_bytes());
        }
        match &loaded.records[0].outcome {
            Outcome::Failed(why) => {
                Err(KeyFailure::new(FailureKind::IdentitySource, format!("the age identities given {why}")))
            }
            _ => Ok(loaded),
        }
    }

    /// Where identities were looked for and what was found, one line per
    /// place: `SOPS_AGE_KEY_FILE=/x: 2 identities (X25519)`,
    /// `~/.config/sops/age/keys.txt: not found`,
    /// `SOPS_AGE_KEY_CMD (`cmd`) for age1...: exited with status 1`.
    pub fn sources(&self) -> Vec<String> {
        let mut lines = Vec::with_capacity(self.records.len());
        for record in &self.records {
            let label = &record.label;
            match &record.outcome {
                Outcome::NotSet => lines.push(format!("{label}: not set")),
                Outcome::Absent(why) | Outcome::Failed(why) => lines.push(format!("{label}: {why}")),
                Outcome::Loaded { locked: Some(index), .. } => {
                    lines.push(format!("{label}: {}", self.locked[*index].status()))
                }
                Outcome::Loaded { summary, .. } => lines.push(format!("{label}: {summary}")),
                Outcome::Command => {
                    if let Some(command) = &self.command {
                        command.describe(&mut lines);
                    }
                }
            }
        }
        lines
    }

    /// True when there is nothing that could open a key: no identity, no
    /// protected file, and no usable key command (whose output is unknown
    /// until it runs, so it counts as something).
    pub fn is_empty(&self) -> bool {
        self.identities.is_empty()
            && self.locked.is_empty()
            && self.command.as_ref().is_none_or(|c| !c.is_usable())
    }

    fn empty(prompter: Arc<dyn Prompter>) -> AgeIdentities {
        AgeIdentities {
            records: Vec::new(),
            identities: Vec::new(),
            locked: Vec::new(),
            command: None,
            prompter,
            default_file: None,
        }
    }

    fn record(&mut self, label: impl Into<Arc<str>>, outcome: Outcome) {
        self.records.push(SourceRecord { label: label.into(), outcome });
    }

    fn load_ssh_file(&mut self, label: String, path: &Path, required: bool) {
        match read_secret_file(path, SSH_KEY_LIMIT) {
            Ok(bytes) => self.load_ssh_bytes(label, &bytes),
            Err(ReadFailure::NotFound) if !required => {
                self.record(label, Outcome::Absent("not found".to_owned()))
            }
            Err(ReadFailure::NotFound) => self.record(label, Outcome::Failed("not found".to_owned())),
            Err(ReadFailure::Other(why)) => self.record(label, Outcome::Failed(why)),
        }
    }

    fn load_ssh_bytes(&mut self, label: String, bytes: &[u8]) {
        let origin: Arc<str> = Arc::from(label);
        match parse_ssh_identity(bytes, &origin) {
            Ok(identity) => {
                let summary = summarize(std::slice::from_ref(&identity), 0);
                self.identities.push(identity);
                self.record(origin, Outcome::Loaded { summary, locked: None });
            }
            Err(why) => self.record(origin, Outcome::Failed(why)),
        }
    }

    fn load_identity_file(&mut self, label: String, path: &Path, required: bool) {
        match read_secret_file(path, IDENTITY_FILE_LIMIT) {
            Ok(bytes) => self.load_text(&label, &bytes),
            Err(ReadFailure::NotFound) if !required => {
                self.record(label, Outcome::Absent("not found".to_owned()))
            }
            Err(ReadFailure::NotFound) => self.record(label, Outcome::Failed("not found".to_owned())),
            Err(ReadFailure::Other(why)) => self.record(label, Outcome::Failed(why)),
        }
    }

    fn load_text(&mut self, label: &str, bytes: &[u8]) {
        let origin: Arc<str> = Arc::from(label);
        match parse_identity_text(bytes, &origin) {
            Ok(parsed) => {
                let summary = parsed.summary();
                let locked = parsed.locked.map(|file| {
                    self.locked.push(file);
                    self.locked.len() - 1
                });
                self.identities.extend(parsed.identities);
                self.record(origin, Outcome::Loaded { summary, locked });
            }
            Err(why) => self.record(origin, Outcome::Failed(why)),
        }
    }

    // What unwrapping needs.

    pub(super) fn prompter(&self) -> &Arc<dyn Prompter> {
        &self.prompter
    }

    /// Identities read when loading (not the key command's).
    pub(super) fn loaded(&self) -> &[Identity] {
        &self.identities
    }

    pub(super) fn locked_files(&self) -> &[LockedFile] {
        &self.locked
    }

    /// The key command's identities for `recipient`, running it the first
    /// time; `None` when no command is set.
    pub(super) fn command_output(&self, recipient: &str) -> Option<Arc<Result<Parsed, String>>> {
        self.command.as_ref().map(|c| c.identities_for(recipient))
    }

    /// Sources that failed to load, as "label: reason".
    pub(super) fn load_failures(&self) -> Vec<String> {
        self.records
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::Failed(why) => Some(format!("{}: {why}", r.label)),
                _ => None,
            })
            .collect()
    }

    pub(super) fn default_file(&self) -> Option<&str> {
        self.default_file.as_deref()
    }
}

/// A path as shown to users: `~/...` when under the home directory.
fn display_path(path: &Path, home: Option<&Path>) -> String {
    if let Some(rest) = home.and_then(|home| path.strip_prefix(home).ok()) {
        return format!("~/{}", rest.display());
    }
    path.display().to_string()
}
