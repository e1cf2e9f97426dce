//! One age identity, and parsing the text identities come in.
//!
//! Identity text (an identity file, `SOPS_AGE_KEY`, a key command's output,
//! an SSH private key) is read into buffers that are wiped when dropped and
//! parsed from slices of them. A parse error names the line, never quotes
//! it: a malformed line is still most likely a key.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use ::age::armor::ArmoredReader;
use ::age::{Decryptor, plugin, scrypt, ssh, x25519};
use zeroize::Zeroizing;

use super::identities::SSH_KEY_FILE_VAR;
use super::prompt::Prompter;

/// Identity files above this size are refused (the age tools' limit).
pub(super) const IDENTITY_FILE_LIMIT: u64 = 16 << 20;
/// SSH private keys above this size are refused (the age tools' limit).
pub(super) const SSH_KEY_LIMIT: u64 = 16 << 10;
/// How often a wrong passphrase may be typed before giving up.
const PASSPHRASE_ATTEMPTS: usize = 3;

/// One identity and where it was found.
pub(super) struct Identity {
    /// The source's label, as [`AgeIdentities::sources`] names it.
    pub(super) origin: Arc<str>,
    pub(super) kind: IdentityKind,
}

pub(super) enum IdentityKind {
    X25519 {
        identity: x25519::Identity,
        /// Computed when first asked for (only reports need it): a scalar
        /// multiplication per identity was a tenth of decrypting a tiny
        /// file.
        recipient: OnceLock<String>,
    },
    /// An SSH key that needs no passphrase.
    Ssh { identity: ssh::Identity, recipient: String },
    /// A passphrase-protected SSH key, unlocked on first use.
    SshLocked {
        identity: ssh::Identity,
        recipient: String,
        unlocked: OnceLock<Result<ssh::Identity, String>>,
    },
    /// A plugin identity; the plugin binary is found when it is used.
    Plugin(plugin::Identity),
}

impl Identity {
    /// The recipient (public key) this identity opens, when that is known
    /// without a passphrase or a plugin.
    pub(super) fn recipient(&self) -> Option<&str> {
        match &self.kind {
            IdentityKind::X25519 { identity, recipient } => {
                Some(recipient.get_or_init(|| identity.to_public().to_string()))
            }
            IdentityKind::Ssh { recipient, .. } | IdentityKind::SshLocked { recipient, .. } => {
                Some(recipient)
            }
            IdentityKind::Plugin(_) => None,
        }
    }

    /// What kind of identity this is, for reports: "X25519",
    /// "ssh-ed25519", "age-plugin-yubikey".
    pub(super) fn kind_name(&self) -> String {
        match &self.kind {
            IdentityKind::X25519 { .. } => "X25519".to_owned(),
            IdentityKind::Ssh { recipient, .. } => ssh_type(recipient).to_owned(),
            IdentityKind::SshLocked { recipient, .. } => {
                format!("{}, passphrase-protected", ssh_type(recipient))
            }
            IdentityKind::Plugin(identity) => format!("age-plugin-{}", identity.plugin()),
        }
    }

    /// The passphrase-protected SSH key, unlocked (asking once).
    pub(super) fn unlock_ssh(&self, prompter: &dyn Prompter) -> Option<Result<&ssh::Identity, &str>> {
        let IdentityKind::SshLocked { identity, unlocked, .. } = &self.kind else {
            return None;
        };
        let result = unlocked.get_or_init(|| {
            let ssh::Identity::Encrypted(key) = identity else {
                return Err("not an encrypted SSH key".to_owned());
            };
            let prompt = format!("Enter passphrase for SSH key {}: ", self.origin);
            for _ in 0..PASSPHRASE_ATTEMPTS {
                let passphrase = prompter
                    .secret(&prompt)
                    .map_err(|why| format!("the SSH key is passphrase-protected and {why}"))?;
                match key.decrypt(passphrase) {
                    Ok(key) => return Ok(ssh::Identity::from(key)),
                    Err(_) => prompter.message("Wrong passphrase."),
                }
            }
            Err(format!("wrong passphrase for the SSH key ({PASSPHRASE_ATTEMPTS} attempts)"))
        });
        Some(result.as_ref().map_err(String::as_str))
    }
}

fn ssh_type(recipient: &str) -> &str {
    recipient.split_whitespace().next().unwrap_or("ssh")
}

/// What one source's text held.
pub(super) struct Parsed {
    pub(super) identities: Vec<Identity>,
    /// The text was a passphrase-protected identity file.
    pub(super) locked: Option<LockedFile>,
    /// `AGE-SECRET-KEY-PQ-1...` lines, which we cannot use (yet).
    pub(super) skipped_post_quantum: usize,
}

impl Parsed {
    pub(super) fn summary(&self) -> String {
        if let Some(locked) = &self.locked {
            return locked.status();
        }
        summarize(&self.identities, self.skipped_post_quantum)
    }
}

/// "2 identities (X25519)", "3 identities (2 X25519, 1 ssh-ed25519)".
pub(super) fn summarize(identities: &[Identity], skipped_post_quantum: usize) -> String {
    let mut text = match identities.len() {
        0 => "no identities in it".to_owned(),
        1 => format!("1 identity ({})", identities[0].kind_name()),
        n => {
            let mut kinds: Vec<(String, usize)> = Vec::new();
            for identity in identities {
                let name = identity.kind_name();
                match kinds.iter_mut().find(|(k, _)| *k == name) {
                    Some((_, count)) => *count += 1,
                    None => kinds.push((name, 1)),
                }
            }
            let kinds = if kinds.len() == 1 {
                kinds[0].0.clone()
            } else {
                kinds.iter().map(|(name, count)| format!("{count} {name}")).collect::<Vec<_>>().join(", ")
            };
            format!("{n} identities ({kinds})")
        }
    };
    if skipped_post_quantum > 0 {
        text.push_str(&format!(
            "; skipped {skipped_post_quantum} post-quantum identit{} (AGE-SECRET-KEY-PQ-1, not supported by sops-rs)",
            if skipped_post_quantum == 1 { "y" } else { "ies" }
        ));
    }
    text
}

/// A passphrase-protected identity file: an age file, encrypted to a
/// passphrase, whose plaintext is an identity file. Unlocked on first use.
pub(super) struct LockedFile {
    pub(super) origin: Arc<str>,
    /// The file as read, armored or binary. Not secret: it is encrypted.
    file: Vec<u8>,
    unlocked: OnceLock<Result<Vec<Identity>, String>>,
}

impl LockedFile {
    fn new(origin: Arc<str>, file: &[u8]) -> Result<LockedFile, String> {
        let decryptor = Decryptor::new(ArmoredReader::new(file))
            .map_err(|e| format!("looks like an age-encrypted identity file, but it is damaged: {e}"))?;
        if !decryptor.is_scrypt() {
            return Err("is an identity file encrypted to age recipients; only passphrase-protected identity files can be used".to_owned());
        }
        Ok(LockedFile { origin, file: file.to_vec(), unlocked: OnceLock::new() })
    }

    /// The identities inside, asking for the passphrase the first time.
    pub(super) fn unlock(&self, prompter: &dyn Prompter) -> Result<&[Identity], &str> {
        self.unlocked.get_or_init(|| self.decrypt(prompter)).as_deref().map_err(String::as_str)
    }

    fn decrypt(&self, prompter: &dyn Prompter) -> Result<Vec<Identity>, String> {
        let prompt = format!("Enter passphrase for age identity file {}: ", self.origin);
        for _ in 0..PASSPHRASE_ATTEMPTS {
            let passphrase = prompter
                .secret(&prompt)
                .map_err(|why| format!("the identity file is passphrase-protected and {why}"))?;
            let decryptor = Decryptor::new(ArmoredReader::new(&self.file[..]))
                .map_err(|e| format!("the identity file is damaged: {e}"))?;
            let identity = scrypt::Identity::new(passphrase);
            match decryptor.decrypt(std::iter::once(&identity as &dyn ::age::Identity)) {
                Ok(reader) => {
                    let text = read_secret(reader, IDENTITY_FILE_LIMIT, 4096)
                        .map_err(|e| format!("the identity file is damaged: {e}"))?;
                    let parsed = parse_identity_text(&text, &self.origin)?;
                    if parsed.locked.is_some() {
                        return Err("the identity file holds another encrypted file".to_owned());
                    }
                    return Ok(parsed.identities);
                }
                Err(::age::DecryptError::ExcessiveWork { required, target }) => {
                    return Err(format!(
                        "the identity file's scrypt work factor is {required}, above the limit of {target} for this machine"
                    ));
                }
                Err(
                    ::age::DecryptError::DecryptionFailed
                    | ::age::DecryptError::KeyDecryptionFailed
                    | ::age::DecryptError::NoMatchingKeys,
                ) => prompter.message("Wrong passphrase."),
                Err(e) => return Err(format!("cannot decrypt the identity file: {e}")),
            }
        }
        Err(format!("wrong passphrase for the identity file ({PASSPHRASE_ATTEMPTS} attempts)"))
    }

    /// What [`super::AgeIdentities::sources`] says about this file.
    pub(super) fn status(&self) -> String {
        match self.unlocked.get() {
            None => "passphrase-protected identity file (asks for the passphrase when no other identity opens a key)".to_owned(),
            Some(Ok(identities)) => format!(
                "passphrase-protected identity file, unlocked: {}",
                summarize(identities, 0)
            ),
            Some(Err(why)) => format!("passphrase-protected identity file, not unlocked: {why}"),
        }
    }
}

/// Parses the text of one identity source: an identity file, `SOPS_AGE_KEY`,
/// or a key command's output. Fails as a whole on a line that is not an
/// identity, as sops does, naming the line but never quoting it.
pub(super) fn parse_identity_text(bytes: &[u8], origin: &Arc<str>) -> Result<Parsed, String> {
    if bytes.starts_with(b"age-encryption.org/") || bytes.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----") {
        return Ok(Parsed {
            identities: Vec::new(),
            locked: Some(LockedFile::new(origin.clone(), bytes)?),
            skipped_post_quantum: 0,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!("is not an identity file: not UTF-8 text (invalid byte at offset {})", e.valid_up_to())
    })?;
    let first = text.trim_start();
    if first.starts_with("-----BEGIN") && first.contains("PRIVATE KEY-----") {
        return Err(format!(
            "holds an SSH or PEM private key, not age identities; point {SSH_KEY_FILE_VAR} at an SSH key instead"
        ));
    }
    let mut parsed = Parsed { identities: Vec::new(), locked: None, skipped_post_quantum: 0 };
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if starts_with_ignore_case(line, "AGE-SECRET-KEY-PQ-1") {
            parsed.skipped_post_quantum += 1;
        } else if starts_with_ignore_case(line, "AGE-SECRET-KEY-1") {
            let identity = x25519::Identity::from_str(line).map_err(|_| {
                format!("line {number}: malformed AGE-SECRET-KEY-1 identity (wrong length or checksum)")
            })?;
            parsed.identities.push(Identity {
                origin: origin.clone(),
                kind: IdentityKind::X25519 { identity, recipient: OnceLock::new() },
            });
        } else if starts_with_ignore_case(line, "AGE-PLUGIN-") {
            let identity = plugin::Identity::from_str(line).map_err(|_| {
                format!("line {number}: malformed AGE-PLUGIN- identity (wrong checksum or plugin name)")
            })?;
            parsed.identities.push(Identity { origin: origin.clone(), kind: IdentityKind::Plugin(identity) });
        } else if starts_with_ignore_case(line, "age1") || line.starts_with("ssh-") {
            return Err(format!("line {number} is a recipient (public key), not an identity (private key)"));
        } else {
            return Err(format!("line {number} is not an age identity"));
        }
    }
    Ok(parsed)
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.is_char_boundary(prefix.len())
        && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Parses an SSH private key (OpenSSH or PEM) as an age identity.
pub(super) fn parse_ssh_identity(bytes: &[u8], origin: &Arc<str>) -> Result<Identity, String> {
    let identity = ssh::Identity::from_buffer(bytes, None).map_err(|e| {
        if e.kind() == io::ErrorKind::Interrupted {
            "is an incomplete SSH private key".to_owned()
        } else {
            "is not an SSH private key in OpenSSH or PEM format".to_owned()
        }
    })?;
    if let ssh::Identity::Unsupported(key) = &identity {
        return Err(match key {
            ssh::UnsupportedKey::EncryptedPem => {
                "is an encrypted PEM key, which age cannot read; convert it with `ssh-keygen -p -o -f <file>`"
                    .to_owned()
            }
            ssh::UnsupportedKey::EncryptedSsh(cipher) => {
                format!("is encrypted with the cipher {cipher}, which age does not support")
            }
            ssh::UnsupportedKey::Hardware(key_type) => format!(
                "is a {key_type} hardware security key, which only an age plugin can use (e.g. age-plugin-yubikey)"
            ),
            ssh::UnsupportedKey::Type(key_type) => {
                format!("is a {key_type} key; age works only with ssh-ed25519 and ssh-rsa keys")
            }
        });
    }
    let recipient = ssh::Recipient::try_from(identity.clone())
        .map_err(|e| match e {
            ssh::ParseRecipientKeyError::RsaModulusTooLarge => {
                "is an ssh-rsa key larger than age supports".to_owned()
            }
            ssh::ParseRecipientKeyError::RsaModulusTooSmall => {
                "is an ssh-rsa key smaller than 2048 bits, which age refuses".to_owned()
            }
            ssh::ParseRecipientKeyError::Unsupported(key_type) => {
                format!("is a {key_type} key; age works only with ssh-ed25519 and ssh-rsa keys")
            }
            _ => "holds a public key age cannot read".to_owned(),
        })?
        .to_string();
    let kind = match identity {
        ssh::Identity::Encrypted(_) => {
            IdentityKind::SshLocked { identity, recipient, unlocked: OnceLock::new() }
        }
        _ => IdentityKind::Ssh { identity, recipient },
    };
    Ok(Identity { origin: origin.clone(), kind })
}

/// Reads at most `limit` bytes into a buffer that is wiped when dropped,
/// growing by hand so that no freed allocation keeps a copy.
pub(super) fn read_secret(
    mut reader: impl Read,
    limit: u64,
    size_hint: usize,
) -> io::Result<crate::secret::SecretVec> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut buffer = crate::secret::SecretVec::new(Vec::with_capacity(size_hint.clamp(64, limit) + 1));
    let mut chunk = Zeroizing::new([0u8; 4096]);
    loop {
        let read = match reader.read(&mut chunk[..]) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buffer.len() + read > limit {
            return Err(io::Error::other(format!("larger than {limit} bytes")));
        }
        if buffer.len() + read > buffer.capacity() {
            let mut bigger = crate::secret::SecretVec::new(Vec::with_capacity(
                (buffer.capacity() * 2).max(buffer.len() + read),
            ));
            bigger.extend_from_slice(&buffer);
            buffer = bigger;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    Ok(buffer)
}

pub(super) enum ReadFailure {
    NotFound,
    Other(String),
}

pub(super) fn read_secret_file(path: &Path, limit: u64) -> Result<crate::secret::SecretVec, ReadFailure> {
    let file = File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => ReadFailure::NotFound,
        _ => ReadFailure::Other(format!("cannot read: {e}")),
    })?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > limit {
        return Err(ReadFailure::Other(format!(
            "too large to be a key file ({size} bytes; the limit is {limit})"
        )));
    }
    read_secret(file, limit, size as usize).map_err(|e| ReadFailure::Other(format!("cannot read: {e}")))
}
