//! Master keys: the providers that wrap a file's data key.
//!
//! A file's metadata lists master keys in key groups (spec 6, 7). Each entry
//! is one of a closed set of types whose on-disk fields sops fixes, so the
//! types are an enum of plain records rather than trait objects: metadata
//! reading and writing can match on them, and every entry we cannot use (a
//! PGP key, say) still survives a rewrite unchanged.
//!
//! Unwrapping never stops at the first failure. Every key is tried and every
//! failure is kept as a [`KeyFailure`] that says which key, what kind of
//! problem, and what to do, so the final error can list them all instead of
//! "Group 0: FAILED".

pub mod age;
#[cfg(feature = "aws")]
pub mod aws_kms;
#[cfg(feature = "azure")]
pub mod azure_kv;
#[cfg(feature = "gcp")]
pub mod gcp_kms;
pub mod group;
#[cfg(any(feature = "gcp", feature = "azure"))]
pub(crate) mod http;
pub mod shamir;

use std::fmt;

use crate::env::Environment;
use crate::secret::SecretVec;

/// Why a master key could not wrap or unwrap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// No identity or credential for this key is available here.
    NoIdentity,
    /// Identities were available, but none of them opens this key.
    WrongKey,
    /// The key's stanza in the file is damaged or not what the key type
    /// expects.
    Corrupt,
    /// The key's description (recipient, ARN, URL) is invalid.
    InvalidKey,
    /// Loading identities or credentials failed (unreadable file, a key
    /// command that exited non-zero, ...).
    IdentitySource,
    /// The provider could not be reached, or refused.
    Provider,
    /// This key type is not supported by this build.
    Unsupported,
}

/// One master key's failure: safe to print (no key material, no values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFailure {
    pub kind: FailureKind,
    pub message: String,
    pub hint: Option<String>,
}

impl KeyFailure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> KeyFailure {
        KeyFailure { kind, message: message.into(), hint: None }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> KeyFailure {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for KeyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// An AWS KMS key entry (spec 6.3). Wrapping needs the `aws` provider.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct KmsKey {
    pub arn: String,
    pub role: String,
    /// Encryption context, sorted by key as sops writes it.
    pub context: Vec<(String, String)>,
    pub created_at: String,
    pub enc: String,
    pub aws_profile: String,
}

/// A GCP KMS key entry (spec 6.4).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct GcpKmsKey {
    pub resource_id: String,
    pub created_at: String,
    pub enc: String,
}

/// An Azure Key Vault key entry (spec 6.5).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AzureKvKey {
    pub vault_url: String,
    pub name: String,
    pub version: String,
    pub created_at: String,
    pub enc: String,
}

/// A HashiCorp Vault transit key entry (spec 6.6).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HcVaultKey {
    pub vault_address: String,
    pub engine_path: String,
    pub key_name: String,
    pub created_at: String,
    pub enc: String,
}

/// A PGP key entry (spec 6.7).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PgpKey {
    pub fingerprint: String,
    pub created_at: String,
    pub enc: String,
}

/// A HuaweiCloud KMS key entry (sops 3.12+).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HckmsKey {
    pub key_id: String,
    pub created_at: String,
    pub enc: String,
}

/// One master key as recorded in a file's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MasterKey {
    Age(age::AgeKey),
    Pgp(PgpKey),
    Kms(KmsKey),
    GcpKms(GcpKmsKey),
    AzureKv(AzureKvKey),
    HcVault(HcVaultKey),
    Hckms(HckmsKey),
}

impl MasterKey {
    /// The type id sops uses in `--decryption-order` and in messages.
    pub fn type_id(&self) -> &'static str {
        match self {
            MasterKey::Age(_) => "age",
            MasterKey::Pgp(_) => "pgp",
            MasterKey::Kms(_) => "kms",
            MasterKey::GcpKms(_) => "gcp_kms",
            MasterKey::AzureKv(_) => "azure_kv",
            MasterKey::HcVault(_) => "hc_vault",
            MasterKey::Hckms(_) => "hckms",
        }
    }

    /// How the key is named to a user: the recipient, ARN, resource or URL.
    pub fn identifier(&self) -> String {
        match self {
            MasterKey::Age(k) => k.recipient.clone(),
            MasterKey::Pgp(k) => k.fingerprint.clone(),
            MasterKey::Kms(k) if k.role.is_empty() => k.arn.clone(),
            MasterKey::Kms(k) => format!("{}+{}", k.arn, k.role),
            MasterKey::GcpKms(k) => k.resource_id.clone(),
            MasterKey::AzureKv(k) => {
                format!("{}/keys/{}/{}", k.vault_url.trim_end_matches('/'), k.name, k.version)
            }
            MasterKey::HcVault(k) => {
                format!("{}/v1/{}/keys/{}", k.vault_address.trim_end_matches('/'), k.engine_path, k.key_name)
            }
            MasterKey::Hckms(k) => k.key_id.clone(),
        }
    }

    /// Wrap `secret` (the data key, or one Shamir share) for this key and
    /// store the result in the key's `enc` field.
    pub fn wrap(&mut self, secret: &[u8], services: &KeyServices) -> Result<(), KeyFailure> {
        let _ = services;
        match self {
            MasterKey::Age(key) => key.wrap(secret),
            #[cfg(feature = "aws")]
            MasterKey::Kms(key) => key.wrap(secret, services),
            #[cfg(feature = "gcp")]
            MasterKey::GcpKms(key) => key.wrap(secret, services),
            #[cfg(feature = "azure")]
            MasterKey::AzureKv(key) => key.wrap(secret, services),
            other => Err(unsupported(other.type_id())),
        }
    }

    /// Unwrap the secret this key holds.
    pub fn unwrap(&self, services: &KeyServices) -> Result<SecretVec, KeyFailure> {
        match self {
            MasterKey::Age(key) => key.unwrap(services.age_identities()),
            #[cfg(feature = "aws")]
            MasterKey::Kms(key) => key.unwrap(services),
            #[cfg(feature = "gcp")]
            MasterKey::GcpKms(key) => key.unwrap(services),
            #[cfg(feature = "azure")]
            MasterKey::AzureKv(key) => key.unwrap(services),
            other => Err(unsupported(other.type_id())),
        }
    }
}

fn unsupported(type_id: &str) -> KeyFailure {
    KeyFailure::new(
        FailureKind::Unsupported,
        format!("{type_id} master keys are not supported by this build of sops-rs"),
    )
    .with_hint("decrypt with another key of the file, or with sops itself")
}

/// Everything providers need at run time: the environment they read
/// credentials from, identities loaded once and shared by all keys, and the
/// cloud providers' state (the AWS SDK's runtime and clients, the REST
/// providers' HTTP client and tokens), each created on first use so that a
/// file with only age keys never starts a runtime or reads a credential.
pub struct KeyServices {
    env: Environment,
    age: std::sync::OnceLock<age::AgeIdentities>,
    /// The master keys that opened or wrapped a data key in this run, for
    /// the audit log (names only).
    used: std::sync::Mutex<Vec<String>>,
    #[cfg(feature = "aws")]
    aws: aws_kms::AwsServices,
    #[cfg(any(feature = "gcp", feature = "azure"))]
    rest: std::sync::OnceLock<http::RestServices>,
}

impl KeyServices {
    pub fn new(env: Environment) -> KeyServices {
        KeyServices {
            env,
            age: std::sync::OnceLock::new(),
            used: std::sync::Mutex::new(Vec::new()),
            #[cfg(feature = "aws")]
            aws: aws_kms::AwsServices::default(),
            #[cfg(any(feature = "gcp", feature = "azure"))]
            rest: std::sync::OnceLock::new(),
        }
    }

    /// Note that a master key opened or wrapped a data key.
    pub fn note_used(&self, key: &MasterKey) {
        if let Ok(mut used) = self.used.lock() {
            let name = format!("{} {}", key.type_id(), key.identifier());
            if !used.contains(&name) {
                used.push(name);
            }
        }
    }

    /// The master keys noted so far.
    pub fn used_keys(&self) -> Vec<String> {
        self.used.lock().map(|u| u.clone()).unwrap_or_default()
    }

    /// The AWS provider's runtime and clients (created on first use).
    #[cfg(feature = "aws")]
    pub(crate) fn aws(&self) -> &aws_kms::AwsServices {
        &self.aws
    }

    /// The REST providers' HTTP client (proxy settings from the
    /// environment) and token cache, created on first use.
    #[cfg(any(feature = "gcp", feature = "azure"))]
    pub(crate) fn rest(&self) -> &http::RestServices {
        self.rest.get_or_init(|| http::RestServices::new(&self.env))
    }

    pub fn env(&self) -> &Environment {
        &self.env
    }

    /// The age identities from every source sops reads (spec 6.2), loaded on
    /// first use.
    pub fn age_identities(&self) -> &age::AgeIdentities {
        self.age.get_or_init(|| age::AgeIdentities::load(&self.env))
    }
}
