//! age master keys: wrapping a file's data key to an age recipient, and
//! unwrapping it with the identities the environment provides (spec 6.2).
//!
//! Wrapping is the easy half. Each recipient gets its own age file holding
//! only the data key (or Shamir share), ASCII-armored exactly as sops writes
//! it, so that `age -d` and sops read what we write and we read theirs. The
//! `age` crate does the cryptography; this module only chooses the recipient
//! type from the string sops stores (X25519, SSH, plugin).
//!
//! Unwrapping is where users suffer. sops reports "Group 0: FAILED" or a
//! one-line Go error, and the user is left to guess whether the key file was
//! not found, was found but holds another key, or failed to parse. So this
//! module is shaped around the failure report:
//!
//! * [`AgeIdentities`] (in `identities.rs`, with `identity.rs` for parsing
//!   and `key_command.rs` for `SOPS_AGE_KEY_CMD`) reads every source sops reads
//!   and keeps a record of each: where it looked, what it found, what went
//!   wrong. Loading never fails as a whole.
//! * [`AgeKey::unwrap`] (in `unwrap.rs`) tries identities one at a time,
//!   cheapest first (plain keys, then ones that need a passphrase prompt,
//!   then plugins, then passphrase-protected files), and remembers what each
//!   one said. The failure it returns tells apart "no identity anywhere",
//!   "identities, but for other recipients" (with their public keys, so the
//!   mismatch is visible), "the right identity, but a damaged stanza", and
//!   "a source that might hold the key could not be used", and says why.
//!
//! Nothing secret is ever put in a message: identities are named by where
//! they came from and by their public keys; key text lives in buffers that
//! are wiped when dropped; the Debug output of [`AgeIdentities`] lists
//! sources only.

mod identities;
mod identity;
mod key_command;
mod prompt;

#[cfg(test)]
mod tests;
mod unwrap;

use std::io::Write;
use std::str::FromStr;
use std::sync::Arc;

use ::age::armor::{ArmoredWriter, Format};
use ::age::{Encryptor, plugin, ssh, tag, tagpq, x25519};
use base64::Engine;
use sha2::Digest;

pub use identities::AgeIdentities;
pub use prompt::{NoPrompter, Prompter, TerminalPrompter};

use crate::keys::{FailureKind, KeyFailure};
use crate::secret::SecretVec;
use prompt::PluginCallbacks;

/// One age master key as sops records it: the recipient, and the data key
/// (or Shamir share) encrypted to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgeKey {
    /// The recipient exactly as configured, trimmed.
    pub recipient: String,
    /// An armored age file; empty until [`AgeKey::wrap`].
    pub enc: String,
}

/// A recipient string, parsed to the age crate's type for it.
enum ParsedRecipient {
    X25519(x25519::Recipient),
    /// The age crate's tagged recipients (`age1tag1...`, `age1tagpq1...`),
    /// for hardware keys; encryption needs no plugin.
    Tag(tag::Recipient),
    // Boxed: an ML-KEM public key is over a kilobyte.
    TagPq(Box<tagpq::Recipient>),
    Ssh(ssh::Recipient),
    Plugin(plugin::Recipient),
}

impl AgeKey {
    /// A key for `recipient` (trimmed), validated: X25519 `age1...`, SSH
    /// `ssh-ed25519 ...`/`ssh-rsa ...`, plugin recipients `age1<name>1...`.
    pub fn new(recipient: &str) -> Result<AgeKey, KeyFailure> {
        let recipient = recipient.trim();
        parse_recipient(recipient)?;
        Ok(AgeKey { recipient: recipient.to_owned(), enc: String::new() })
    }

    /// Encrypts `secret` (a 32-byte data key or a 33-byte Shamir share) to
    /// this recipient alone, armored as sops writes it (spec 6.2), into
    /// `self.enc`.
    pub fn wrap(&mut self, secret: &[u8]) -> Result<(), KeyFailure> {
        let parsed = parse_recipient(self.recipient.trim())?;
        let shown = describe_recipient(&self.recipient);
        let mut callbacks: Option<PluginCallbacks> = None;
        let plugin_recipient;
        let recipient: &dyn ::age::Recipient = match &parsed {
            ParsedRecipient::X25519(r) => r,
            ParsedRecipient::Tag(r) => r,
            ParsedRecipient::TagPq(r) => r.as_ref(),
            ParsedRecipient::Ssh(r) => r,
            ParsedRecipient::Plugin(r) => {
                let asker = PluginCallbacks::new(Arc::new(TerminalPrompter), r.plugin());
                callbacks = Some(asker.clone());
                plugin_recipient =
                    plugin::RecipientPluginV1::new(r.plugin(), std::slice::from_ref(r), &[], asker)
                        .map_err(|_| missing_plugin(&shown, r.plugin()))?;
                &plugin_recipient
            }
        };
        let encryptor = Encryptor::with_recipients(std::iter::once(recipient)).map_err(|e| {
            let mut failure = KeyFailure::new(
                FailureKind::Provider,
                format!("cannot encrypt the data key to age recipient {shown}: {e}"),
            );
            if let (ParsedRecipient::Plugin(r), Some(callbacks)) = (&parsed, &callbacks) {
                let asked = callbacks.unanswered();
                if !asked.is_empty() {
                    failure.message.push_str(&format!(" ({})", asked.join("; ")));
                }
                failure = failure.with_hint(format!(
                    "age-plugin-{} must be able to run here; check that its device is connected",
                    r.plugin()
                ));
            }
            failure
        })?;
        let mut armored = Vec::with_capacity(512);
        let written = ArmoredWriter::wrap_output(&mut armored, Format::AsciiArmor)
            .and_then(|armor| encryptor.wrap_output(armor))
            .and_then(|mut writer| {
                writer.write_all(secret)?;
                writer.finish()
            })
            .and_then(|armor| armor.finish());
        if let Err(e) = written {
            return Err(KeyFailure::new(
                FailureKind::Provider,
                format!("cannot encrypt the data key to age recipient {shown}: {e}"),
            ));
        }
        let mut enc = String::from_utf8(armored)
            .map_err(|_| KeyFailure::new(FailureKind::Provider, "age armor produced non-ASCII output"))?;
        // sops writes `\n` line ends everywhere; the age crate writes the
        // platform's.
        if enc.contains('\r') {
            enc = enc.replace("\r\n", "\n");
        }
        self.enc = enc;
        Ok(())
    }

    /// Decrypts `self.enc` with any of the identities. The returned buffer
    /// is wiped when dropped. The failure says which of "no identity",
    /// "wrong identity", "damaged enc" and "unusable source" happened, and
    /// why.
    pub fn unwrap(&self, identities: &AgeIdentities) -> Result<SecretVec, KeyFailure> {
        unwrap::unwrap(self, identities)
    }
}

fn parse_recipient(recipient: &str) -> Result<ParsedRecipient, KeyFailure> {
    if looks_secret(recipient) {
        // Name it without quoting it: it is a private key.
        return Err(KeyFailure::new(
            FailureKind::InvalidKey,
            "invalid age recipient: it is an identity (private key), not a recipient",
        )
        .with_hint(
            "use the public key, which `age-keygen -y <identity file>` prints; \
             a private key does not belong in .sops.yaml or on the command line",
        ));
    }
    let shown = describe_recipient(recipient);
    let invalid =
        |why: &str| KeyFailure::new(FailureKind::InvalidKey, format!("invalid age recipient {shown}: {why}"));
    if recipient.is_empty() {
        return Err(KeyFailure::new(FailureKind::InvalidKey, "invalid age recipient: it is empty"));
    }
    let lower = recipient.to_ascii_lowercase();
    if lower.starts_with("age1") {
        if is_post_quantum(recipient) {
            return Err(post_quantum_unsupported(recipient));
        }
        if let Ok(r) = x25519::Recipient::from_str(recipient) {
            return Ok(ParsedRecipient::X25519(r));
        }
        // sops's rule: an `age1` string with a second `1` names a plugin
        // (`age1<plugin>1<data>`); X25519 data never contains a `1`.
        if lower.matches('1').count() > 1 {
            if let Ok(r) = tag::Recipient::from_str(recipient) {
                return Ok(ParsedRecipient::Tag(r));
            }
            if let Ok(r) = tagpq::Recipient::from_str(recipient) {
                return Ok(ParsedRecipient::TagPq(Box::new(r)));
            }
            return plugin::Recipient::from_str(recipient)
                .map(ParsedRecipient::Plugin)
                .map_err(|why| invalid(&format!("not a valid plugin recipient ({why})")));
        }
        return Err(invalid("not a valid X25519 recipient (wrong length or checksum)").with_hint(
            "an X25519 recipient is `age1` and 58 more characters; `age-keygen -y <identity file>` prints it",
        ));
    }
    if recipient.starts_with("ssh-") {
        return ssh::Recipient::from_str(recipient).map(ParsedRecipient::Ssh).map_err(|e| match e {
            ssh::ParseRecipientKeyError::RsaModulusTooSmall => {
                invalid("ssh-rsa keys shorter than 2048 bits are refused")
            }
            ssh::ParseRecipientKeyError::RsaModulusTooLarge => {
                invalid("the ssh-rsa key is larger than age supports")
            }
            ssh::ParseRecipientKeyError::Unsupported(key_type) => {
                invalid(&format!("{key_type} keys cannot be age recipients; use ssh-ed25519 or ssh-rsa"))
            }
            _ => invalid("not a valid SSH public key (expected `ssh-ed25519 AAAA...` or `ssh-rsa AAAA...`)"),
        });
    }
    if recipient.starts_with("ecdsa-") || recipient.starts_with("sk-") {
        return Err(invalid("this SSH key type cannot be an age recipient; use ssh-ed25519 or ssh-rsa"));
    }
    Err(invalid("unknown recipient type: expected `age1...`, `ssh-ed25519 ...` or `ssh-rsa ...`"))
}

/// A post-quantum hybrid recipient (`age1pq1...`), which the age crate
/// 0.12 cannot encrypt to.
fn is_post_quantum(recipient: &str) -> bool {
    recipient.get(..7).is_some_and(|prefix| prefix.eq_ignore_ascii_case("age1pq1"))
}

fn post_quantum_unsupported(recipient: &str) -> KeyFailure {
    KeyFailure::new(
        FailureKind::Unsupported,
        format!(
            "age recipient {} is a post-quantum hybrid key (age1pq1...), which sops-rs does not support yet: \
             the age crate it uses (0.12) has no ML-KEM-768+X25519 recipient type",
            describe_recipient(recipient)
        ),
    )
    .with_hint("use an X25519 (age1...) or SSH recipient, or decrypt this key with sops 3.12 or later")
}

fn missing_plugin(shown: &str, plugin_name: &str) -> KeyFailure {
    KeyFailure::new(
        FailureKind::Provider,
        format!("age recipient {shown} needs age-plugin-{plugin_name}, which was not found in PATH"),
    )
    .with_hint(format!("install age-plugin-{plugin_name} and make sure it is in PATH"))
}

/// True when `text` looks like private key material, so must not be shown.
fn looks_secret(text: &str) -> bool {
    let upper = text.to_ascii_uppercase();
    upper.contains("AGE-SECRET-KEY") || upper.contains("AGE-PLUGIN-") || upper.contains("PRIVATE KEY")
}

/// A recipient as shown in messages: SSH keys by type, fingerprint and
/// comment (their base64 is long and unreadable), very long recipients
/// shortened, anything that looks like a private key withheld.
pub(crate) fn describe_recipient(recipient: &str) -> String {
    let recipient = recipient.trim();
    if looks_secret(recipient) {
        return "<an identity (private key), not shown>".to_owned();
    }
    if recipient.starts_with("ssh-") {
        let mut fields = recipient.split_whitespace();
        let key_type = fields.next().unwrap_or("ssh");
        if let Some(blob) =
            fields.next().and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        {
            let fingerprint =
                base64::engine::general_purpose::STANDARD_NO_PAD.encode(sha2::Sha256::digest(&blob));
            let comment = fields.collect::<Vec<_>>().join(" ");
            return if comment.is_empty() {
                format!("{key_type} SHA256:{fingerprint}")
            } else {
                format!("{key_type} SHA256:{fingerprint} ({comment})")
            };
        }
    }
    if recipient.chars().count() > 90 {
        let start: String = recipient.chars().take(40).collect();
        return format!("{start}...");
    }
    recipient.to_owned()
}
