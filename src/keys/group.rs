//! Wrapping the data key for key groups, and getting it back.
//!
//! One group: every master key in it wraps the data key itself. Two or more
//! groups: the key is split with Shamir, and every master key of group i
//! wraps share i (spec 7). Getting it back tries every key of every group in
//! the decryption order, keeps the first success per group, and combines the
//! shares of all groups that succeeded. Every failure is kept, so when the
//! data key cannot be recovered the error lists each master key in the file,
//! what was tried and why it failed, and what to do next.

use std::fmt::Write;

use super::shamir;
use super::{FailureKind, KeyFailure, KeyServices, MasterKey};
use crate::error::{Error, Result};
use crate::metadata::KeyGroup;
use crate::secret::{DataKey, SecretVec};

/// The order in which key types are tried within a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecryptionOrder(Vec<String>);

impl Default for DecryptionOrder {
    /// sops's default: age first, then PGP, then the rest in file order.
    fn default() -> Self {
        DecryptionOrder(vec!["age".into(), "pgp".into()])
    }
}

impl DecryptionOrder {
    /// Parse `--decryption-order` / `SOPS_DECRYPTION_ORDER`: comma-separated
    /// key type ids; a repeated id is an error (exit 112).
    pub fn parse(text: &str) -> Result<DecryptionOrder> {
        let mut order: Vec<String> = Vec::new();
        for id in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if order.iter().any(|o| o == id) {
                return Err(Error::DuplicateDecryptionKeyType(id.to_owned()));
            }
            order.push(id.to_owned());
        }
        Ok(DecryptionOrder(order))
    }

    fn rank(&self, key: &MasterKey) -> usize {
        self.0.iter().position(|id| id == key.type_id()).unwrap_or(self.0.len())
    }
}

/// Wrap a fresh data key for every master key of every group.
pub fn wrap_groups(
    groups: &mut [KeyGroup],
    data_key: &DataKey,
    threshold: usize,
    services: &KeyServices,
) -> Result<()> {
    if groups.is_empty() || groups.iter().any(|g| g.is_empty()) {
        return Err(Error::EmptyKeyGroup);
    }
    let secrets: Vec<SecretVec> = if groups.len() == 1 {
        vec![SecretVec::new(data_key.expose().to_vec())]
    } else {
        let threshold = if threshold == 0 { groups.len() } else { threshold };
        shamir::split(data_key.expose(), groups.len(), threshold)
            .map_err(|e| Error::WrapFailed(e.to_string()))?
    };
    for (group, secret) in groups.iter_mut().zip(&secrets) {
        for key in group.iter_mut() {
            key.wrap(secret, services).map_err(|failure| {
                Error::WrapFailed(format!("{} {}: {}", key.type_id(), key.identifier(), failure.message))
            })?;
            services.note_used(key);
        }
    }
    Ok(())
}

/// The outcome of trying one master key.
struct Attempt {
    key: String,
    failure: Option<KeyFailure>,
}

/// Recover the data key; on failure the error reports every attempt.
pub fn unwrap_groups(
    groups: &[KeyGroup],
    threshold: usize,
    services: &KeyServices,
    order: &DecryptionOrder,
) -> Result<DataKey> {
    let mut parts: Vec<SecretVec> = Vec::new();
    let mut report: Vec<Vec<Attempt>> = Vec::new();
    for group in groups {
        let mut keys: Vec<&MasterKey> = group.iter().collect();
        keys.sort_by_key(|k| order.rank(k));
        let mut attempts = Vec::new();
        for key in keys {
            let name = format!("{} {}", key.type_id(), key.identifier());
            match key.unwrap(services) {
                Ok(secret) => {
                    services.note_used(key);
                    attempts.push(Attempt { key: name, failure: None });
                    parts.push(secret);
                    break;
                }
                Err(failure) => attempts.push(Attempt { key: name, failure: Some(failure) }),
            }
        }
        report.push(attempts);
    }
    let needed = if groups.len() <= 1 {
        1
    } else if threshold == 0 {
        groups.len()
    } else {
        threshold
    };
    if parts.len() >= needed {
        let key = if groups.len() <= 1 {
            DataKey::from_slice(&parts[0])
        } else {
            let shares: Vec<&[u8]> = parts.iter().map(|p| p.as_slice()).collect();
            shamir::combine(&shares).ok().and_then(|secret| DataKey::from_slice(&secret))
        };
        if let Some(key) = key {
            return Ok(key);
        }
        return Err(Error::NoKeyCouldDecrypt {
            report:
                "the recovered key material is not a 32-byte data key: the file's key entries are damaged"
                    .into(),
        });
    }
    Err(Error::NoKeyCouldDecrypt { report: render_report(&report, needed, parts.len(), services) })
}

/// The per-key account of a failed recovery, with what to do next.
fn render_report(groups: &[Vec<Attempt>], needed: usize, recovered: usize, services: &KeyServices) -> String {
    let mut out = String::new();
    if groups.len() > 1 {
        let _ = writeln!(
            out,
            "The file is split across {} key groups with a Shamir threshold of {needed}, but only {recovered} group(s) could be opened.",
            groups.len()
        );
    }
    let _ = writeln!(out, "Master keys tried:");
    let mut age_failures = Vec::new();
    for (index, attempts) in groups.iter().enumerate() {
        if groups.len() > 1 {
            let opened = attempts.iter().any(|a| a.failure.is_none());
            let _ = writeln!(out, "  group {} ({}):", index + 1, if opened { "opened" } else { "failed" });
        }
        let indent = if groups.len() > 1 { "    " } else { "  " };
        for attempt in attempts {
            match &attempt.failure {
                None => {
                    let _ = writeln!(out, "{indent}- {}: OK", attempt.key);
                }
                Some(failure) => {
                    let _ = writeln!(out, "{indent}- {}: {}", attempt.key, failure.message);
                    if let Some(hint) = &failure.hint {
                        let _ = writeln!(out, "{indent}  hint: {hint}");
                    }
                    if attempt.key.starts_with("age ") {
                        age_failures.push(failure.kind);
                    }
                }
            }
        }
    }
    // Where age identities were looked for matters only when an age key
    // failed for want of one.
    if age_failures.contains(&FailureKind::NoIdentity) || age_failures.contains(&FailureKind::WrongKey) {
        let sources = services.age_identities().sources();
        if !sources.is_empty() {
            let _ = writeln!(out, "age identities were looked for in:");
            for source in sources {
                let _ = writeln!(out, "  - {source}");
            }
        }
        let _ = write!(
            out,
            "To decrypt, provide an identity for one of the keys above (SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, \
             SOPS_AGE_KEY_CMD or the default keys file), or ask someone who can decrypt it to run \
             `sops-rs updatekeys` with your recipient added."
        );
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decryption_order_rejects_duplicates() {
        assert!(DecryptionOrder::parse("age,kms").is_ok());
        assert_eq!(DecryptionOrder::parse("age,kms,age").unwrap_err().exit_code(), 112);
    }
}
