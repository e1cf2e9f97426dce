//! age master keys (placeholder).
use crate::env::Environment;
use crate::keys::{FailureKind, KeyFailure};
use crate::secret::SecretVec;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgeKey {
    pub recipient: String,
    pub enc: String,
}

impl AgeKey {
    pub fn wrap(&mut self, _secret: &[u8]) -> Result<(), KeyFailure> {
        Err(KeyFailure::new(FailureKind::Unsupported, "age not built yet"))
    }
    pub fn unwrap(&self, _ids: &AgeIdentities) -> Result<SecretVec, KeyFailure> {
        Err(KeyFailure::new(FailureKind::Unsupported, "age not built yet"))
    }
}

pub struct AgeIdentities;
impl AgeIdentities {
    pub fn load(_env: &Environment) -> AgeIdentities {
        AgeIdentities
    }
}
impl AgeIdentities {
    pub fn sources(&self) -> Vec<String> {
        Vec::new()
    }
}
impl AgeKey {
    pub fn new(recipient: &str) -> Result<AgeKey, KeyFailure> {
        let r = recipient.trim();
        if r.starts_with("age1") || r.starts_with("ssh-") {
            Ok(AgeKey { recipient: r.to_owned(), enc: String::new() })
        } else {
            Err(KeyFailure::new(FailureKind::InvalidKey, format!("{r:?} is not an age recipient")))
        }
    }
}
