//! The audit log: one JSON line per operation on secrets.
//!
//! Opt-in, by `audit: {path: ...}` in the config file or the
//! `SOPS_RS_AUDIT_LOG` variable (which wins). Each line records when, who
//! (user and host), which file, which operation, which master keys opened
//! or wrapped the data key, and the outcome (`ok`, or the exit code and the
//! kind of error). Never a value: lines are built from names only, and the
//! error kind is a fixed word, not the error's message.
//!
//! Lines are appended with one `write` on a file opened in append mode, so
//! concurrent runs never interleave within a line. A log that cannot be
//! written is an error: an audit trail that silently stops is worse than
//! none.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::env::Environment;
use crate::error::{Error, Result};
use crate::timestamp::Timestamp;

/// Where audit lines go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditLog {
    path: PathBuf,
}

/// One operation, for the log.
pub struct AuditEntry<'a> {
    pub operation: &'a str,
    pub files: Vec<PathBuf>,
    pub keys: Vec<String>,
    /// `None` when the operation succeeded.
    pub error: Option<&'a Error>,
}

impl AuditLog {
    /// The log to write, if any: `SOPS_RS_AUDIT_LOG`, else the config's.
    pub fn configured(env: &Environment, from_config: Option<&Path>) -> Option<AuditLog> {
        env.non_empty("SOPS_RS_AUDIT_LOG")
            .map(PathBuf::from)
            .or_else(|| from_config.map(Path::to_path_buf))
            .map(|path| AuditLog { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Open the log for appending without writing, to find out before an
    /// operation whether it could be logged.
    pub fn check_writable(&self) -> Result<()> {
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(crate::fsio::PRIVATE_MODE)
            .open(&self.path)
            .map(drop)
            .map_err(|source| Error::Audit { path: self.path.clone(), source })
    }

    /// Append one line for `entry`.
    pub fn record(&self, env: &Environment, entry: &AuditEntry<'_>) -> Result<()> {
        let line = line(env, entry);
        let failure = |source: std::io::Error| Error::Audit { path: self.path.clone(), source };
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(crate::fsio::PRIVATE_MODE)
            .open(&self.path)
            .map_err(failure)?;
        let written = file.write(line.as_bytes()).map_err(failure)?;
        if written != line.len() {
            return Err(failure(std::io::Error::other("the line was written only in part")));
        }
        Ok(())
    }
}

fn line(env: &Environment, entry: &AuditEntry<'_>) -> String {
    let files: Vec<String> = entry
        .files
        .iter()
        .map(|f| std::path::absolute(f).unwrap_or_else(|_| f.clone()).to_string_lossy().into_owned())
        .collect();
    let outcome = match entry.error {
        None => serde_json::json!("ok"),
        Some(error) => serde_json::json!({"exit_code": error.exit_code(), "error": error_kind(error)}),
    };
    let value = serde_json::json!({
        "time": Timestamp::now_utc_seconds().to_rfc3339(),
        "user": env.non_empty("USER").or_else(|| env.non_empty("LOGNAME")).unwrap_or("unknown"),
        "host": hostname(env),
        "operation": entry.operation,
        "files": files,
        "keys": entry.keys,
        "outcome": outcome,
    });
    format!("{value}\n")
}

fn hostname(env: &Environment) -> String {
    env.non_empty("HOSTNAME")
        .map(str::to_owned)
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_owned()))
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_owned()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A fixed word for the kind of failure (messages are not logged).
fn error_kind(error: &Error) -> &'static str {
    match error {
        Error::Parse { .. } | Error::Shape { .. } | Error::EmptyInput | Error::LimitExceeded { .. } => {
            "invalid_input"
        }
        Error::AlreadyEncrypted => "already_encrypted",
        Error::MetadataNotFound | Error::BadMetadata(_) => "bad_metadata",
        Error::EncryptTree(_) => "encrypt_failed",
        Error::DecryptValue { .. } | Error::NotEncrypted { .. } => "decrypt_failed",
        Error::Mac(_) => "mac_mismatch",
        Error::NoKeyCouldDecrypt { .. } => "no_key",
        Error::WrapFailed(_) | Error::EmptyKeyGroup | Error::NoKeys | Error::NoMatchingRule { .. } => "keys",
        Error::FileNotModified => "not_modified",
        Error::ChildExit(_) => "command_failed",
        Error::ReadInput { .. } | Error::NoSuchFile(_) => "read_failed",
        Error::WriteOutput { .. } => "write_failed",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_json_with_names_only() {
        let dir = tempfile::tempdir().unwrap();
        let env = Environment::empty().with("USER", "alice").with("HOSTNAME", "box");
        let log = AuditLog::configured(
            &env.clone().with("SOPS_RS_AUDIT_LOG", dir.path().join("a.log").to_string_lossy()),
            None,
        )
        .unwrap();
        let mac = Error::Mac(crate::error::MacProblem::Mismatch);
        log.record(
            &env,
            &AuditEntry {
                operation: "decrypt",
                files: vec!["s.yaml".into()],
                keys: vec!["age age1x".into()],
                error: None,
            },
        )
        .unwrap();
        log.record(
            &env,
            &AuditEntry {
                operation: "decrypt",
                files: vec!["s.yaml".into()],
                keys: vec![],
                error: Some(&mac),
            },
        )
        .unwrap();
        let text = std::fs::read_to_string(log.path()).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["outcome"], "ok");
        assert_eq!(lines[0]["user"], "alice");
        assert_eq!(lines[0]["keys"][0], "age age1x");
        assert_eq!(lines[1]["outcome"]["exit_code"], 51);
        assert_eq!(lines[1]["outcome"]["error"], "mac_mismatch");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(log.path()).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn an_unwritable_log_is_an_error() {
        let log = AuditLog { path: PathBuf::from("/nonexistent-dir/audit.log") };
        let entry = AuditEntry { operation: "decrypt", files: vec![], keys: vec![], error: None };
        assert_eq!(log.record(&Environment::empty(), &entry).unwrap_err().exit_code(), 1);
    }
}
