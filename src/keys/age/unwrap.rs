//! Opening one age master key, and saying precisely why it did not open.
//!
//! Identities are tried one at a time rather than handed to the age crate
//! all at once, because the crate only reports the first error or "no
//! match", and the report we want needs each identity's answer: did it not
//! recognise the stanza, or recognise it and fail? The enc is a few hundred
//! bytes, so parsing its header once per identity costs nothing.
//!
//! Order, cheapest and least intrusive first:
//! 1. identities that need nothing (X25519, unprotected SSH keys), from
//!    every source including the key command's output for this recipient;
//! 2. passphrase-protected SSH keys whose public key is this recipient
//!    (others cannot open it, so their owners are not asked);
//! 3. plugin identities (a plugin may want a touch or a PIN);
//! 4. passphrase-protected identity files (a prompt, and scrypt's second).

use std::collections::BTreeMap;
use std::io::Read;

use ::age::armor::ArmoredReader;
use ::age::{DecryptError, Decryptor, plugin};

use super::identities::KEY_CMD_VAR;
use super::identity::{Identity, IdentityKind, LockedFile, Parsed, read_secret};
use super::prompt::PluginCallbacks;
use super::{AgeIdentities, AgeKey, describe_recipient, is_post_quantum, post_quantum_unsupported};
use crate::keys::{FailureKind, KeyFailure};
use crate::secret::SecretVec;

/// More than any data key or share; the payload is read into a wiped buffer
/// of at most this size.
const PAYLOAD_LIMIT: u64 = 64 << 10;

/// The longest armored `enc` we hand to the age crate. A real one is a few
/// hundred bytes (one stanza for the recipient, one grease stanza, the
/// encrypted data key); the largest stanzas (SSH RSA-4096, post-quantum
/// hybrids) are under 2 KiB. The limit matters because the enc comes from
/// the file, which may be hostile, and age's header parser re-reads the
/// header from the start as it grows: a 15 MB header of 100,000 stanzas took
/// minutes, once per identity. Measured in armored bytes, before decoding.
const ENC_LIMIT: usize = 64 << 10;

pub(super) fn unwrap(key: &AgeKey, identities: &AgeIdentities) -> Result<SecretVec, KeyFailure> {
    let recipient = key.recipient.trim();
    if is_post_quantum(recipient) {
        return Err(post_quantum_unsupported(recipient));
    }
    let command = identities.command_output(recipient);
    let mut attempt = Attempt {
        recipient,
        shown: describe_recipient(recipient),
        identities,
        command: command.as_deref(),
        stanzas: Vec::new(),
        tried: Vec::new(),
        problems: Vec::new(),
    };
    if attempt.nothing_to_try() {
        return Err(attempt.nothing_found());
    }
    let file = attempt.dearmor(&key.enc)?;
    let checked = attempt.check_header(&file)?;
    attempt.run(&mut Header { file: &file, parsed: Some(checked) })
}

/// The binary age file, with its header as parsed to check it, which the
/// first identity tried uses: age's header parser was 14% of decrypting a
/// tiny file, and a second parse for the usual single identity doubled it.
/// The parse is age's buffered one (`Decryptor::new_buffered`), which
/// retries a line at a time where the unbuffered one retried after every
/// few bytes: 405 tries for a sops header, 16% of a tiny file's
/// instructions.
struct Header<'f> {
    file: &'f [u8],
    parsed: Option<Decryptor<&'f [u8]>>,
}

impl<'f> Header<'f> {
    /// The header parsed, for one identity to try (a decryptor is used up
    /// by one try).
    fn decryptor(&mut self) -> Result<Decryptor<&'f [u8]>, DecryptError> {
        match self.parsed.take() {
            Some(parsed) => Ok(parsed),
            None => Decryptor::new_buffered(self.file),
        }
    }
}

/// What one identity said about this key.
struct Tried<'a> {
    origin: &'a str,
    /// The identity's public key, when known.
    recipient: Option<&'a str>,
    /// It recognised the stanza but could not open it.
    error: Option<String>,
}

/// Something that might have opened the key but could not be used.
struct Problem {
    kind: FailureKind,
    text: String,
    /// What to do about it.
    hint: String,
}

const PROMPT_HINT: &str = "passphrases and plugin prompts need a terminal; in a batch job, use an identity \
     that needs no prompt (in SOPS_AGE_KEY_FILE, SOPS_AGE_KEY or the output of SOPS_AGE_KEY_CMD)";

struct Attempt<'a> {
    recipient: &'a str,
    shown: String,
    identities: &'a AgeIdentities,
    /// The key command's outcome for this recipient, if there is a command.
    command: Option<&'a Result<Parsed, String>>,
    /// Stanza types in enc's header, for messages.
    stanzas: Vec<String>,
    tried: Vec<Tried<'a>>,
    problems: Vec<Problem>,
}

impl<'a> Attempt<'a> {
    fn command_parsed(&self) -> Option<&'a Parsed> {
        self.command.and_then(|outcome| outcome.as_ref().ok())
    }

    /// Identities known without unlocking anything: loaded ones, then the
    /// key command's.
    fn direct(&self) -> Vec<&'a Identity> {
        let loaded = self.identities.loaded().iter();
        let commanded = self.command_parsed().into_iter().flat_map(|p| p.identities.iter());
        loaded.chain(commanded).collect()
    }

    fn locked_files(&self) -> Vec<&'a LockedFile> {
        let loaded = self.identities.locked_files().iter();
        let commanded = self.command_parsed().and_then(|p| p.locked.as_ref());
        loaded.chain(commanded).collect()
    }

    fn nothing_to_try(&self) -> bool {
        self.direct().is_empty() && self.locked_files().is_empty()
    }

    /// The binary age file inside enc's armor.
    fn dearmor(&mut self, enc: &str) -> Result<Vec<u8>, KeyFailure> {
        // Leading blank space is tolerated, as age's Go armor reader does.
        let text = enc.trim_start();
        if text.is_empty() {
            return Err(self.corrupt("its enc is empty"));
        }
        if text.len() > ENC_LIMIT {
            return Err(self.corrupt(&format!(
                "its enc is {} bytes long; a wrapped data key is a few hundred bytes, and more than {} KiB is not read",
                text.len(),
                ENC_LIMIT >> 10
            )));
        }
        if !text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----") {
            return Err(self.corrupt(
                "its enc is not an armored age file (it should start with -----BEGIN AGE ENCRYPTED FILE-----)",
            ));
        }
        let mut file = Vec::with_capacity(text.len());
        ArmoredReader::new(text.as_bytes())
            .read_to_end(&mut file)
            .map_err(|e| self.corrupt(&format!("the armor of its enc is damaged: {e}")))?;
        self.stanzas = stanza_types(&file);
        Ok(file)
    }

    /// The header of `file`, parsed: refused when it is not an age file or
    /// is encrypted to a passphrase.
    fn check_header<'f>(&self, file: &'f [u8]) -> Result<Decryptor<&'f [u8]>, KeyFailure> {
        match Decryptor::new_buffered(file) {
            Ok(decryptor) if decryptor.is_scrypt() => {
                Err(self.corrupt("its enc is encrypted to a passphrase, which sops never writes"))
            }
            Ok(decryptor) => Ok(decryptor),
            Err(e) => Err(self.corrupt(&format!("its enc is not a valid age file: {e}"))),
        }
    }

    fn run(&mut self, file: &mut Header<'_>) -> Result<SecretVec, KeyFailure> {
        let prompter = self.identities.prompter().clone();
        let direct = self.direct();

        // 1. Identities that need nothing.
        for identity in &direct {
            let usable: &dyn ::age::Identity = match &identity.kind {
                IdentityKind::X25519 { identity, .. } => identity,
                IdentityKind::Ssh { identity, .. } => identity,
                _ => continue,
            };
            if let Some(done) = self.try_one(file, usable, identity.origin.as_ref(), || identity.recipient())
            {
                return done;
            }
        }

        // 2. Protected SSH keys, only the one for this recipient.
        for identity in &direct {
            let IdentityKind::SshLocked { recipient, .. } = &identity.kind else {
                continue;
            };
            if !same_recipient(recipient, self.recipient) {
                // Its public key says it cannot open this; no need to ask.
                self.tried.push(Tried { origin: &identity.origin, recipient: Some(recipient), error: None });
                continue;
            }
            match identity.unlock_ssh(prompter.as_ref()) {
                Some(Ok(unlocked)) => {
                    if let Some(done) = self.try_one(file, unlocked, &identity.origin, || Some(recipient)) {
                        return done;
                    }
                }
                Some(Err(why)) => self.problem(
                    FailureKind::IdentitySource,
                    format!("{}: {why}", identity.origin),
                    PROMPT_HINT.to_owned(),
                ),
                None => {}
            }
        }

        // 3. Plugins.
        if let Some(done) = self.try_plugins(file, &direct) {
            return done;
        }

        // 4. Passphrase-protected identity files.
        for locked in self.locked_files() {
            match locked.unlock(prompter.as_ref()) {
                Ok(inside) => {
                    let inside: Vec<&Identity> = inside.iter().collect();
                    for identity in &inside {
                        let usable: &dyn ::age::Identity = match &identity.kind {
                            IdentityKind::X25519 { identity, .. } => identity,
                            IdentityKind::Ssh { identity, .. } => identity,
                            _ => continue,
                        };
                        if let Some(done) =
                            self.try_one(file, usable, &identity.origin, || identity.recipient())
                        {
                            return done;
                        }
                    }
                    if let Some(done) = self.try_plugins(file, &inside) {
                        return done;
                    }
                }
                Err(why) => self.problem(
                    FailureKind::IdentitySource,
                    format!("{}: {why}", locked.origin),
                    PROMPT_HINT.to_owned(),
                ),
            }
        }

        Err(self.failure())
    }

    /// Tries one identity. `Some` ends the attempt (the key, or a failure
    /// that no other identity can change); `None` goes on to the next.
    fn try_one(
        &mut self,
        file: &mut Header<'_>,
        identity: &dyn ::age::Identity,
        origin: &'a str,
        // Asked only when the identity does not open the key.
        recipient: impl FnOnce() -> Option<&'a str>,
    ) -> Option<Result<SecretVec, KeyFailure>> {
        let decryptor = match file.decryptor() {
            Ok(decryptor) => decryptor,
            Err(e) => {
                return Some(Err(self.corrupt(&format!("its enc is not a valid age file: {e}"))));
            }
        };
        match decryptor.decrypt(std::iter::once(identity)) {
            Ok(reader) => Some(read_secret(reader, PAYLOAD_LIMIT, 64).map_err(|e| {
                self.corrupt(&format!(
                    "the identity from {origin} opens its stanza, but the encrypted data key after it is damaged ({e})"
                ))
            })),
            Err(DecryptError::NoMatchingKeys) => {
                self.tried.push(Tried {
                    origin,
                    recipient: recipient(),
                    error: None,
                });
                None
            }
            // Only reachable after an identity unwrapped the file key: the
            // header was changed after it was written.
            Err(DecryptError::InvalidMac) => Some(Err(self.corrupt(&format!(
                "the identity from {origin} opens its stanza, but the header MAC does not match: enc was modified"
            )))),
            Err(e @ (DecryptError::Plugin(_) | DecryptError::PluginResolve(_))) => {
                self.problem(
                    FailureKind::Provider,
                    format!("{origin}: {e}"),
                    "check that the plugin's device is connected, and that `age -d` works with the same identity"
                        .to_owned(),
                );
                None
            }
            Err(e) => {
                self.tried.push(Tried {
                    origin,
                    recipient: recipient(),
                    error: Some(e.to_string()),
                });
                None
            }
        }
    }

    /// Runs each plugin named by `candidates` once, with all of its
    /// identities.
    fn try_plugins(
        &mut self,
        file: &mut Header<'_>,
        candidates: &[&'a Identity],
    ) -> Option<Result<SecretVec, KeyFailure>> {
        let mut by_plugin: BTreeMap<&str, Vec<&'a Identity>> = BTreeMap::new();
        for identity in candidates {
            if let IdentityKind::Plugin(plugin_identity) = &identity.kind {
                by_plugin.entry(plugin_identity.plugin()).or_default().push(identity);
            }
        }
        for (name, group) in by_plugin {
            let origins = join_unique(group.iter().map(|i| &*i.origin));
            let plugin_identities: Vec<plugin::Identity> = group
                .iter()
                .filter_map(|i| match &i.kind {
                    IdentityKind::Plugin(p) => Some(p.clone()),
                    _ => None,
                })
                .collect();
            let callbacks = PluginCallbacks::new(self.identities.prompter().clone(), name);
            let runner = match plugin::IdentityPluginV1::new(name, &plugin_identities, callbacks.clone()) {
                Ok(runner) => runner,
                Err(_) => {
                    self.problem(
                        FailureKind::IdentitySource,
                        format!(
                            "{origins}: the identity needs age-plugin-{name}, which was not found in PATH"
                        ),
                        format!("install age-plugin-{name} and make sure it is in PATH"),
                    );
                    continue;
                }
            };
            let before = self.tried.len();
            let outcome = self.try_one(file, &runner, group[0].origin.as_ref(), || None);
            // One answer for the whole group: count each identity as tried.
            if self.tried.len() > before {
                let answer = self.tried.pop().map(|t| t.error);
                for identity in &group {
                    self.tried.push(Tried {
                        origin: &identity.origin,
                        recipient: None,
                        error: answer.clone().flatten(),
                    });
                }
            }
            for question in callbacks.unanswered() {
                self.problem(
                    FailureKind::IdentitySource,
                    format!("{origins}: {question}"),
                    PROMPT_HINT.to_owned(),
                );
            }
            if outcome.is_some() {
                return outcome;
            }
        }
        None
    }

    fn problem(&mut self, kind: FailureKind, text: String, hint: String) {
        self.problems.push(Problem { kind, text, hint });
    }

    fn corrupt(&self, why: &str) -> KeyFailure {
        KeyFailure::new(FailureKind::Corrupt, format!("the age key for {} is damaged: {why}", self.shown))
            .with_hint(
                "enc holds the data key encrypted to this recipient; if the file was edited by hand, \
             restore it from version control. Another key of the file may still decrypt it",
            )
    }

    /// Sources that failed to load, including the key command's run for
    /// this recipient.
    fn load_failures(&self) -> Vec<String> {
        let mut failures = self.identities.load_failures();
        if let Some(Err(why)) = self.command {
            failures.push(format!("{KEY_CMD_VAR}: {why}"));
        }
        failures
    }

    /// No identity at all, from any source.
    fn nothing_found(&self) -> KeyFailure {
        let failures = self.load_failures();
        if !failures.is_empty() {
            return KeyFailure::new(
                FailureKind::IdentitySource,
                format!(
                    "no age identity could be loaded to decrypt the key for {}: {}",
                    self.shown,
                    failures.join("; ")
                ),
            )
            .with_hint("fix the failing sources; the other places hold no identity");
        }
        let default = self.identities.default_file().unwrap_or("$XDG_CONFIG_HOME/sops/age/keys.txt");
        KeyFailure::new(
            FailureKind::NoIdentity,
            // The report lists every place looked in once, after all the
            // keys, so the key's own line only says what is missing.
            "no age identity found".to_owned(),
        )
        .with_hint(format!(
            "put its identity (a line starting AGE-SECRET-KEY-1) in {default}, \
             or set SOPS_AGE_KEY_FILE to a file that holds it"
        ))
    }

    /// Every identity was tried and none opened the key: say why.
    fn failure(&self) -> KeyFailure {
        // An identity recognised the stanza and failed on it.
        if let Some(tried) = self.tried.iter().find(|t| t.error.is_some()) {
            return self.corrupt(&format!(
                "the identity from {} recognises its stanza but cannot open it ({})",
                tried.origin,
                tried.error.as_deref().unwrap_or_default()
            ));
        }
        // The identity for this very recipient was tried and did not open it.
        if let Some(tried) =
            self.tried.iter().find(|t| t.recipient.is_some_and(|r| same_recipient(r, self.recipient)))
        {
            let mut why = format!(
                "the identity for this recipient (from {}) does not open its stanza, so the stanza is damaged \
                 or enc was written for another key",
                tried.origin
            );
            if let Some(expected) = expected_stanza(self.recipient)
                && !self.stanzas.iter().any(|s| s == expected)
            {
                why.push_str(&format!(
                    "; enc holds {} where this recipient needs an {expected} stanza",
                    describe_stanzas(&self.stanzas)
                ));
            }
            return self.corrupt(&why);
        }

        let failures = self.load_failures();
        let others = if self.tried.is_empty() {
            String::new()
        } else {
            format!(" The other identities ({}) are for other recipients.", self.tried_summary())
        };
        let also = if failures.is_empty() {
            String::new()
        } else {
            format!(" Could not load: {}.", failures.join("; "))
        };

        // Something that might have opened it could not be used.
        if !self.problems.is_empty() {
            let kind = if self.problems.iter().any(|p| p.kind == FailureKind::Provider) {
                FailureKind::Provider
            } else {
                FailureKind::IdentitySource
            };
            let problems: Vec<&str> = self.problems.iter().map(|p| p.text.as_str()).collect();
            let message = format!(
                "could not use every age identity for {}: {}.{others}{also}",
                self.shown,
                problems.join("; ")
            );
            let mut hints: Vec<&str> = Vec::new();
            for problem in &self.problems {
                if !hints.contains(&problem.hint.as_str()) {
                    hints.push(&problem.hint);
                }
            }
            return KeyFailure::new(kind, message).with_hint(hints.join("; "));
        }

        if self.tried.is_empty() {
            return self.nothing_found();
        }

        let count = self.tried.len();
        let mut message = format!(
            "no age identity loaded can decrypt the key for {}: tried {count} ({})",
            self.shown,
            self.tried_summary()
        );
        if !failures.is_empty() {
            message.push_str(&format!("; could not load: {}", failures.join("; ")));
        }
        let mut hint = String::new();
        if !failures.is_empty() {
            hint.push_str("fix the sources that failed to load: one of them may hold the right identity; ");
        }
        hint.push_str(&format!(
            "the identities loaded are for {}. Use the identity for {}, or ask someone who can \
             decrypt the file to add your recipient (in .sops.yaml, then `sops updatekeys`; or \
             `sops rotate --add-age <recipient>`)",
            self.public_keys(),
            self.shown
        ));
        KeyFailure::new(FailureKind::WrongKey, message).with_hint(hint)
    }

    /// "2 from SOPS_AGE_KEY_FILE=/x, 1 from ~/.ssh/id_ed25519".
    fn tried_summary(&self) -> String {
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for tried in &self.tried {
            match counts.iter_mut().find(|(origin, _)| *origin == tried.origin) {
                Some((_, count)) => *count += 1,
                None => counts.push((tried.origin, 1)),
            }
        }
        counts.iter().map(|(origin, count)| format!("{count} from {origin}")).collect::<Vec<_>>().join(", ")
    }

    /// The recipients the tried identities are for (public, so safe to show,
    /// and usually what makes the mismatch obvious).
    fn public_keys(&self) -> String {
        const SHOWN: usize = 8;
        let mut keys: Vec<String> = Vec::new();
        for tried in &self.tried {
            let key = match tried.recipient {
                Some(recipient) => describe_recipient(recipient),
                None => "a plugin identity".to_owned(),
            };
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        let more = keys.len().saturating_sub(SHOWN);
        keys.truncate(SHOWN);
        let mut text = keys.join(", ");
        if more > 0 {
            text.push_str(&format!(" and {more} more"));
        }
        text
    }
}

/// Whether two recipient strings name the same key: SSH keys by type and
/// key (the comment may differ), age keys case-insensitively.
fn same_recipient(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if a.starts_with("ssh-") || b.starts_with("ssh-") {
        return a.split_whitespace().take(2).eq(b.split_whitespace().take(2));
    }
    a.eq_ignore_ascii_case(b)
}

/// The stanza type a recipient's stanza has, where there is one answer.
fn expected_stanza(recipient: &str) -> Option<&'static str> {
    let recipient = recipient.trim();
    if recipient.starts_with("ssh-ed25519 ") {
        Some("ssh-ed25519")
    } else if recipient.starts_with("ssh-rsa ") {
        Some("ssh-rsa")
    } else if recipient.to_ascii_lowercase().starts_with("age1") && recipient.matches('1').count() == 1 {
        Some("X25519")
    } else {
        None
    }
}

fn describe_stanzas(stanzas: &[String]) -> String {
    match stanzas {
        [] => "no stanza".to_owned(),
        [one] => format!("an {one} stanza"),
        many => format!("stanzas {}", many.join(", ")),
    }
}

/// The type of each stanza (`-> X25519 ...`) in an age file's header.
fn stanza_types(file: &[u8]) -> Vec<String> {
    let header_end = file.windows(4).position(|w| w == b"\n---").unwrap_or(file.len());
    String::from_utf8_lossy(&file[..header_end])
        .lines()
        .filter_map(|line| line.strip_prefix("-> "))
        .filter_map(|rest| rest.split(' ').next())
        // age writes a random "grease" stanza to keep parsers honest; it
        // means nothing to a reader of the report.
        .filter(|tag| !tag.ends_with("-grease"))
        .map(str::to_owned)
        .collect()
}

fn join_unique<'s>(items: impl Iterator<Item = &'s str>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen.join(", ")
}
